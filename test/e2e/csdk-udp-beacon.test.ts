/**
 * pico-examples' `picow_udp_beacon_background` (a C SDK program on the SDK's own lwIP and
 * cyw43_arch background mode): it joins `PicoW-Sim`, then every second broadcasts `N\n` to
 * 255.255.255.255:4444 and prints `Sent packet N` on UART0. Run through `picow-sim` with the
 * broadcast mapped to a loopback UDP listener of the test.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { cSdkProgram, e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();
const beacon = fw ? cSdkProgram('picow_udp_beacon_background.uf2') : null;
const cli = runCli;

describe.skipIf(!beacon)('picow_udp_beacon_background (C SDK) on the simulated Pico W', () => {
  it('prints Sent packet 0..3 on UART0 (--expect) and a host listener receives 0\\n .. 3\\n', async () => {
    const listener = createSocket('udp4');
    const got: { text: string; bytes: Buffer; from: RemoteInfo }[] = [];
    listener.on('message', (bytes, from) => got.push({ text: bytes.toString('latin1'), bytes, from }));
    await new Promise<void>((r) => listener.bind(0, '127.0.0.1', r));
    const port = listener.address().port;
    try {
      const r = await cli(
        [
          '--firmware',
          beacon!,
          '--map',
          `255.255.255.255:4444=127.0.0.1:${port}`,
          '--expect',
          'Sent packet 3',
          '--timeout',
          '150',
          '--no-server',
          '--quiet',
        ],
        180_000,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      // The SDK's UART stdio translates \n to \r\n.
      expect(r.stdout).toMatch(/^(?:.*\r\n)*Sent packet 0\r\nSent packet 1\r\nSent packet 2\r\nSent packet 3/);
      expect(r.stdout).not.toMatch(/Failed/);
      // The datagram of a packet leaves before its line is printed; give the loopback a moment.
      const deadline = Date.now() + 5_000;
      while (got.length < 4 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      expect(got.length).toBeGreaterThanOrEqual(4);
      got.slice(0, 4).forEach((m, i) => {
        // The program sends a zero-filled buffer with "N\n" at its start.
        const nul = m.bytes.indexOf(0);
        const text = nul < 0 ? m.text : m.text.slice(0, nul);
        expect(text).toBe(`${i}\n`);
        expect(m.bytes.subarray(text.length).every((b) => b === 0)).toBe(true);
        expect(m.from.address).toBe('127.0.0.1');
      });
    } finally {
      listener.close();
    }
  }, 200_000);
});
