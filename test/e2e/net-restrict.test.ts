/**
 * `restrict: true` with the real firmware: the board reaches the embedded server at
 * 10.0.2.2:<its port>, and a service listening on another loopback port is refused as an
 * unmapped address is (a reset to the SYN: OSError 104), though it is there.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PicoW } from '../../sim/index.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();

describe.skipIf(!fw)('--restrict with the firmware', () => {
  let pico: PicoW;
  let other: Server;
  let otherPort = 0;
  let otherConnections = 0;

  beforeAll(async () => {
    other = createServer((s) => {
      otherConnections++;
      s.end('secret');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
    otherPort = (other.address() as { port: number }).port;
    pico = await PicoW.boot({ firmware: fw!, server: 0, restrict: true });
  }, 240_000);

  afterAll(async () => {
    await pico?.dispose();
    await new Promise((r) => other?.close(r));
  });

  it('reaches the embedded server, and nothing else on the host loopback', async () => {
    const port = pico.serverPort;
    const out = await pico.exec(
      [
        'import network, time, socket, urequests',
        'w = network.WLAN(network.STA_IF)',
        'w.active(True)',
        'w.connect("PicoW-Sim", "picowsim")',
        'while w.status() not in (3, -1, -2, -3):',
        '    time.sleep_ms(50)',
        `print(urequests.post("http://10.0.2.2:${port}/", data="allowed").text)`,
        's = socket.socket()',
        'try:',
        `    s.connect(("10.0.2.2", ${otherPort}))`,
        '    print("connected", s.recv(10))',
        'except OSError as e:',
        '    print("OSError", e.errno)',
        's.close()',
      ].join('\n'),
      { timeout: 90_000 },
    );
    expect(out).toBe('This is a POST request. Received: allowed\nOSError 104\n');
    expect(otherConnections).toBe(0);
  }, 120_000);
});
