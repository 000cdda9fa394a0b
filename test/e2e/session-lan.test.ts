/**
 * Two boards on one radio and LAN through the session layer (`PicoW.boot({ lan })`): addresses in
 * the order they joined, MACs from their names, and a UDP datagram from one to the other.
 */
import { describe, expect, it } from 'vitest';
import { Lan, PicoW } from '../../sim/index.ts';
import { JOIN_PICOW_SIM } from '../helpers/board.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();

const JOIN = `${JOIN_PICOW_SIM}print(w.ifconfig()[0], ':'.join('%02x' % b for b in w.config('mac')))`;

describe.skipIf(!fw)('boards on one LAN', () => {
  it('get addresses in the order they joined and reach each other', async () => {
    const lan = new Lan();
    const a = await PicoW.boot({ firmware: fw!, lan, name: 'alpha' });
    const b = await PicoW.boot({ firmware: fw!, lan, name: 'beta' }).catch(async (e: unknown) => {
      await a.dispose();
      throw e;
    });
    try {
      await expect(PicoW.boot({ firmware: fw!, lan, name: 'alpha' })).rejects.toThrow(/two boards named 'alpha'/);
      const [ipA, macA] = (await a.exec(JOIN, { timeout: 90_000 })).trim().split(' ');
      const [ipB, macB] = (await b.exec(JOIN, { timeout: 90_000 })).trim().split(' ');
      expect([ipA, ipB]).toEqual(['10.0.2.15', '10.0.2.16']);
      expect(macA).not.toBe(macB);
      await a.exec('import socket\nrx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nrx.bind(("0.0.0.0", 5005))');
      await b.exec('import socket\ntx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ntx.sendto(b"hello alpha", ("10.0.2.15", 5005))');
      const got = await a.exec('rx.settimeout(10)\ndata, addr = rx.recvfrom(64)\nprint(data.decode(), addr[0])', { timeout: 60_000 });
      expect(got.trim()).toBe('hello alpha 10.0.2.16');
    } finally {
      await b.dispose();
      await a.dispose();
    }
  }, 300_000);
});
