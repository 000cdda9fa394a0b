/**
 * Readings as CSV (RFC 4180: CRLF line ends, a header line). Every field is a number, an ISO
 * time, an IP address or a validated sensor id, so no field needs quoting.
 */
import type { StoredReading } from './temperature-reading.ts';

export const CSV_HEADER = 'id,time,celsius,sensor,client';

export function encodeReadingsCsv(readings: readonly StoredReading[]): string {
  const lines = [CSV_HEADER];
  for (const r of readings) {
    lines.push(
      [r.id, new Date(r.receivedAt).toISOString(), r.celsius, r.sensor ?? '', r.client].join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}
