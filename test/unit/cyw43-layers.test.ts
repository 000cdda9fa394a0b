import { describe, expect, it } from 'vitest';
import { Backplane } from '../../sim/cyw43/backplane.ts';
import { encodeBdc, parseBdc } from '../../sim/cyw43/bdc.ts';
import { encodeCdc, parseCdc } from '../../sim/cyw43/cdc.ts';
import { decodeEvent, driverAuthMode, encodeBssInfo, encodeEvent } from '../../sim/cyw43/events.ts';
import {
  decodeCommand,
  encodeCommand,
  GspiBus,
  valueToWire,
  wireToValue,
  type GspiFunctions,
} from '../../sim/cyw43/gspi.ts';
import { DEFAULT_APS, makeAccessPoint, VirtualRadio } from '../../sim/cyw43/radio.ts';
import { parseApSpec } from '../../sim/session/specs.ts';
import { encodeSdpcmFrame, parseSdpcmHeader, SdpcmLink } from '../../sim/cyw43/sdpcm.ts';
import { silentLogger } from '../../sim/log.ts';
import { UsageError } from '../../sim/errors.ts';

const log = silentLogger();

describe('gSPI command words', () => {
  it('decodes the power-up FEEDBEAD read and round-trips fields', () => {
    expect(decodeCommand(0x4000a004)).toEqual({ write: false, increment: true, func: 0, address: 0x14, length: 4 });
    const c = { write: true, increment: true, func: 2, address: 0x1ffff, length: 0x7ff };
    expect(decodeCommand(encodeCommand(c))).toEqual(c);
    expect(decodeCommand(encodeCommand({ write: false, func: 1, address: 0, length: 0 })).length).toBe(2048);
  });

  it('maps wire bits to values per bus mode (16-bit half-word swap, 32-bit LE, 32-bit BE)', () => {
    expect(wireToValue(0xa0044000, '16')).toBe(0x4000a004);
    expect(wireToValue(0x4000a004, '32le')).toBe(0x4000a004);
    expect(wireToValue(0x04a00040, '32be')).toBe(0x4000a004);
    for (const m of ['16', '32le', '32be'] as const) expect(wireToValue(valueToWire(0x12345678, m), m)).toBe(0x12345678);
  });
});

function fakeFunctions(): GspiFunctions & { f1: Map<number, number>; frames: Uint8Array[]; written: Uint8Array[] } {
  const f1 = new Map<number, number>();
  const frames: Uint8Array[] = [];
  const written: Uint8Array[] = [];
  return {
    f1,
    frames,
    written,
    readBackplane: (a, n) => new Uint8Array(n).map((_, i) => f1.get(a + i) ?? 0),
    writeBackplane: (a, d) => d.forEach((v, i) => f1.set(a + i, v)),
    readWlan: (n) => {
      const out = new Uint8Array(n);
      const f = frames.shift();
      if (f) out.set(f.subarray(0, n));
      return out;
    },
    writeWlan: (d) => void written.push(new Uint8Array(d)),
    pendingFrameLength: () => frames[0]?.length ?? 0,
    wlanReady: () => true,
  };
}

/** One transaction at the bus layer: values in the current mode. */
function xfer(bus: GspiBus, words: number[], reads: number): number[] {
  const mode = bus.wordMode;
  bus.select();
  for (const w of words) bus.mosiWord(valueToWire(w, mode));
  const out: number[] = [];
  for (let i = 0; i < reads; i++) out.push(wireToValue(bus.misoWord(), mode));
  bus.deselect();
  return out;
}

describe('F0 bus registers', () => {
  it('switches to 32-bit big-endian mode with the packed bus-control write and keeps FEEDBEAD readable', () => {
    const bus = new GspiBus(fakeFunctions(), log);
    expect(xfer(bus, [encodeCommand({ write: false, func: 0, address: 0x14, length: 4 })], 1)).toEqual([0xfeedbead]);
    xfer(bus, [encodeCommand({ write: true, func: 0, address: 0, length: 4 }), 0x000204b3], 0);
    expect(bus.wordMode).toBe('32be');
    expect(bus.reg8(1)).toBe(4); // response delay
    expect(bus.reg8(2)).toBe(2); // status enable: interrupt with status
    expect(xfer(bus, [encodeCommand({ write: false, func: 0, address: 0x14, length: 4 })], 1)).toEqual([0xfeedbead]);
  });

  it('pads F1 reads with the F1 response delay, and appends the status word when enabled', () => {
    const fn = fakeFunctions();
    fn.f1.set(0x8000, 0x78).set(0x8001, 0x56).set(0x8002, 0x34).set(0x8003, 0x12);
    const bus = new GspiBus(fn, log);
    xfer(bus, [encodeCommand({ write: true, func: 0, address: 0, length: 4 }), 0x000100b3], 0); // status enable
    xfer(bus, [encodeCommand({ write: true, func: 0, address: 0x1d, length: 1 }), 16], 0);
    const r = xfer(bus, [encodeCommand({ write: false, func: 1, address: 0x8000, length: 4 })], 6);
    expect(r.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(r[4]).toBe(0x12345678);
    expect(r[5]! & 0x20).toBe(0x20); // status: F2 ready
  });

  it('interrupt status is write-1-to-clear and drives the host-wake line only when enabled with polarity high', () => {
    const bus = new GspiBus(fakeFunctions(), log);
    xfer(bus, [encodeCommand({ write: true, func: 0, address: 0, length: 4 }), 0x000204b3], 0);
    bus.raiseInterrupt(0x0020);
    expect(bus.interruptLine).toBe(false);
    xfer(bus, [encodeCommand({ write: true, func: 0, address: 6, length: 2 }), 0x0020], 0);
    expect(bus.interruptLine).toBe(true);
    xfer(bus, [encodeCommand({ write: true, func: 0, address: 4, length: 2 }), 0x0020], 0);
    expect(bus.interruptStatus).toBe(0);
    expect(bus.interruptLine).toBe(false);
  });

  it('reports the next F2 frame length in the status register and hands F2 writes on', () => {
    const fn = fakeFunctions();
    fn.frames.push(new Uint8Array(100).fill(7));
    const bus = new GspiBus(fn, log);
    xfer(bus, [encodeCommand({ write: true, func: 0, address: 0, length: 4 }), 0x000204b3], 0);
    const st = xfer(bus, [encodeCommand({ write: false, func: 0, address: 8, length: 4 })], 1)[0]!;
    expect(st & 0x100).toBe(0x100);
    expect((st >>> 9) & 0x7ff).toBe(100);
    xfer(bus, [encodeCommand({ write: true, func: 2, address: 0, length: 8 }), 0x04030201, 0x08070605], 0);
    expect([...fn.written[0]!]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('counts a truncated write and a function-3 command as malformed without wedging', () => {
    const bus = new GspiBus(fakeFunctions(), log);
    xfer(bus, [encodeCommand({ write: true, func: 0, address: 0, length: 4 }), 0x000204b3], 0);
    xfer(bus, [encodeCommand({ write: true, func: 2, address: 0, length: 64 }), 1], 0);
    xfer(bus, [(3 << 28) >>> 0], 1);
    expect(bus.stats.malformed).toBe(2);
    expect(xfer(bus, [encodeCommand({ write: false, func: 0, address: 0x14, length: 4 })], 1)).toEqual([0xfeedbead]);
  });
});

describe('F1 backplane', () => {
  function bp(): { b: Backplane; later: (() => void)[] } {
    const later: (() => void)[] = [];
    const b = new Backplane({ schedule: (_n, cb) => void later.push(cb), onFirmwareRunning: () => undefined, onTerminateFrame: () => undefined }, log);
    return { b, later };
  }
  const w8 = (b: Backplane, a: number, v: number) => b.write(a, new Uint8Array([v]));
  const r8 = (b: Backplane, a: number) => b.read(a, 1)[0]!;

  it('moves the 32 KB window with the three address registers', () => {
    const { b } = bp();
    w8(b, 0x1000c, 0x18);
    w8(b, 0x1000b, 0x00);
    w8(b, 0x1000a, 0x00);
    expect(b.backplaneWindow).toBe(0x18000000);
    expect(new DataView(b.read(0x8000, 4).buffer).getUint32(0, true) & 0xffff).toBe(43439);
  });

  it('reports ALP on request, HT only once the core runs; core reset bits read back', () => {
    const { b, later } = bp();
    w8(b, 0x1000e, 0x08);
    expect(r8(b, 0x1000e) & 0x40).toBe(0x40);
    expect(r8(b, 0x1000e) & 0x80).toBe(0);
    b.write(0x0000, new Uint8Array(256).fill(1)); // "firmware" at RAM 0 (window 0)
    w8(b, 0x1000c, 0x18);
    w8(b, 0x1000b, 0x10);
    w8(b, 0x1000a, 0x00);
    expect(b.read(0x3800 | 0x8000, 1)[0]! & 1).toBe(1); // ARM wrapper RESETCTRL: in reset at power-on
    b.write(0x3800 | 0x8000, new Uint8Array([0]));
    expect(b.read(0x3800 | 0x8000, 1)[0]).toBe(0);
    expect(later).toHaveLength(1);
    later[0]!();
    expect(b.firmwareRunning).toBe(true);
    expect(r8(b, 0x1000e) & 0x80).toBe(0x80);
  });

  it('KSO: the sleep CSR reads back keep-SDIO-on with device-on', () => {
    const { b } = bp();
    w8(b, 0x1001f, 1);
    expect(r8(b, 0x1001f)).toBe(3);
    w8(b, 0x1001f, 0);
    expect(r8(b, 0x1001f)).toBe(0);
  });
});

describe('SDPCM framing and credits', () => {
  it('round-trips a header', () => {
    const f = encodeSdpcmFrame({ sequence: 5, channel: 1, credit: 13, headerPad: 2 }, new Uint8Array(10));
    expect(parseSdpcmHeader(f)).toMatchObject({ size: 24, sizeComplement: ~24 & 0xffff, sequence: 5, channel: 1, headerLength: 14, credit: 13 });
  });

  it('grants a window of credits past the last host sequence, in every frame it sends', () => {
    const got: Uint8Array[] = [];
    const link = new SdpcmLink({ control: (p) => void got.push(p), data: () => undefined }, log);
    for (let seq = 0; seq < 3; seq++) {
      link.receive(encodeSdpcmFrame({ sequence: seq, channel: 0, credit: 0 }, new Uint8Array(16)));
      link.send(0, new Uint8Array(4));
    }
    const seqs: number[] = [];
    for (let f = link.pop(); f; f = link.pop()) {
      seqs.push(f[4]!);
      expect(f[9]).toBe((3 + 8) & 0xff);
    }
    expect(seqs).toEqual([0, 1, 2]);
    expect(got).toHaveLength(3);
  });

  it('sends a header-only credit frame when the host runs low on credit with nothing queued', () => {
    const link = new SdpcmLink({ control: () => undefined, data: () => undefined }, log);
    link.receive(encodeSdpcmFrame({ sequence: 0, channel: 2, credit: 0, headerPad: 2 }, new Uint8Array(20)));
    const f = link.pop()!;
    expect(f.length).toBe(12);
    expect(f[9]).toBe(9);
  });

  it('drops frames whose size and complement disagree', () => {
    const link = new SdpcmLink({ control: () => undefined, data: () => undefined }, log);
    const f = encodeSdpcmFrame({ sequence: 0, channel: 0, credit: 0 }, new Uint8Array(16));
    f[2] ^= 1;
    link.receive(f);
    expect(link.stats.badFrames).toBe(1);
  });
});

describe('CDC, BDC and event codecs', () => {
  it('CDC: id, interface and SET flag round-trip; errors set the error flag', () => {
    const b = encodeCdc({ cmd: 263, len: 20, set: true, iface: 1, id: 0x1234, status: -23, payload: new Uint8Array(4) });
    expect(new DataView(b.buffer).getUint32(8, true)).toBe((0x1234 << 16) | (1 << 12) | 2 | 1);
    expect(parseCdc(b)).toMatchObject({ cmd: 263, len: 20, set: true, iface: 1, id: 0x1234, status: -23 });
  });

  it('BDC: version 2 flag, interface, data offset honoured', () => {
    const b = encodeBdc(1, new Uint8Array([9, 8, 7]));
    expect([...b.subarray(0, 4)]).toEqual([0x20, 0, 1, 0]);
    const withOffset = new Uint8Array([0x20, 0, 0, 1, 0, 0, 0, 0, 5]);
    expect([...parseBdc(withOffset)!.payload]).toEqual([5]);
  });

  it('events: Ethernet type 0x886c, Broadcom OUI at bytes 19-21, big-endian fields, 2-byte aligned event message', () => {
    const mac = new Uint8Array([2, 0, 0, 0, 0, 1]);
    const payload = encodeEvent({ type: 16, status: 0, reason: 1, flags: 1, iface: 0, data: new Uint8Array([1, 2]) }, mac);
    const eth = payload.subarray(4);
    expect([eth[12], eth[13], eth[19], eth[20], eth[21]]).toEqual([0x88, 0x6c, 0x00, 0x10, 0x18]);
    expect(decodeEvent(eth)).toMatchObject({ type: 16, status: 0, reason: 1, flags: 1, iface: 0 });
    // with a 14-byte SDPCM header the event message starts at 14 + 4 + 24 = 42: 2 mod 4, as the driver expects
    expect((14 + 4 + 24) % 4).toBe(2);
  });

  it('bss info: fields at the offsets the driver reads; security from RSN IE and privacy bit', () => {
    const ap = makeAccessPoint({ ssid: 'Net', password: 'password1', channel: 11, rssi: -61 });
    const b = encodeBssInfo(ap);
    const dv = new DataView(b.buffer);
    expect([...b.subarray(8, 14)]).toEqual([...ap.bssid]);
    expect(b[18]).toBe(3);
    expect(new TextDecoder().decode(b.subarray(19, 22))).toBe('Net');
    expect(dv.getUint16(72, true) & 0xff).toBe(11);
    expect(dv.getInt16(78, true)).toBe(-61);
    const ieOff = dv.getUint16(116, true);
    const ieLen = dv.getUint32(120, true);
    expect(ieOff + ieLen).toBe(dv.getUint32(4, true));
    expect([...b.subarray(ieOff, ieOff + ieLen)]).toContain(48);
    expect(driverAuthMode('wpa2-psk')).toBe(5);
    expect(driverAuthMode('open')).toBe(0);
  });
});

describe('virtual radio', () => {
  it('has the default APs', () => {
    const r = new VirtualRadio();
    expect(r.list().map((a) => [a.ssid, a.security, a.password])).toEqual([
      ['PicoW-Sim', 'wpa2-psk', 'picowsim'],
      ['Wokwi-GUEST', 'open', ''],
    ]);
    expect(DEFAULT_APS).toHaveLength(2);
  });

  it('parses --ap SSID[:PASSWORD] and replaces an AP with the same SSID', () => {
    expect(parseApSpec('Home:secret123')).toEqual({ ssid: 'Home', password: 'secret123', security: 'wpa2-psk' });
    expect(parseApSpec('Cafe')).toEqual({ ssid: 'Cafe', security: 'open' });
    expect(parseApSpec('Lab:pass:with:colons')).toMatchObject({ ssid: 'Lab', password: 'pass:with:colons' });
    expect(() => parseApSpec(':nope1234')).toThrow(UsageError);
    expect(() => parseApSpec('Home:short')).toThrow(/8\.\.63/);
    const r = new VirtualRadio({ aps: [parseApSpec('Wokwi-GUEST:now-secure')] });
    expect(r.getAp('Wokwi-GUEST')!.security).toBe('wpa2-psk');
    expect(r.list()).toHaveLength(2);
  });

  it('derives a stable locally administered BSSID per SSID', () => {
    const a = makeAccessPoint({ ssid: 'X' });
    const b = makeAccessPoint({ ssid: 'X' });
    expect([...a.bssid]).toEqual([...b.bssid]);
    expect(a.bssid[0]! & 3).toBe(2);
  });
});
