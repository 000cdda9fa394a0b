/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of
 * the data taken as big-endian 16-bit words, an odd trailing byte padded with zero.
 */

/** One's complement sum of `data[start, end)` added to `initial` (not folded, not inverted). */
export function onesSum(data: Uint8Array, start = 0, end = data.length, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (i < end) sum += data[i]! << 8;
  return sum;
}

/** Fold a running sum to 16 bits (end-around carry). */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value for `data[start, end)` plus an optional pseudo-header sum. */
export function internetChecksum(data: Uint8Array, start = 0, end = data.length, initial = 0): number {
  return ~foldSum(onesSum(data, start, end, initial)) & 0xffff;
}

/** Sum of the IPv4 pseudo-header used by UDP and TCP (RFC 768; RFC 9293 §3.1). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/** True when the region (with its checksum field in place) sums to 0xffff, i.e. verifies. */
export function checksumOk(data: Uint8Array, start = 0, end = data.length, initial = 0): boolean {
  return foldSum(onesSum(data, start, end, initial)) === 0xffff;
}
