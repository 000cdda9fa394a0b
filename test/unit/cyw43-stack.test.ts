import { afterEach, describe, expect, it } from 'vitest';
import { VirtualRadio } from '../../sim/cyw43/radio.ts';
import { Logger } from '../../sim/log.ts';
import { PicoHost, u32le } from './cyw43-harness.ts';

const te = new TextEncoder();
let host: PicoHost | null = null;
afterEach(() => {
  host?.dispose();
  host = null;
});

function up(opts: ConstructorParameters<typeof PicoHost>[0] = {}): PicoHost {
  const h = new PicoHost(opts);
  h.busInit();
  h.firmwareBoot();
  return h;
}

// WLC ioctl numbers and event codes as the cyw43 driver uses them
const WLC_UP = 2, WLC_SET_INFRA = 20, WLC_SET_AUTH = 22, WLC_GET_BSSID = 23, WLC_SET_SSID = 26, WLC_DISASSOC = 52;
const WLC_GET_RSSI = 127, WLC_SET_WSEC = 134, WLC_SET_WPA_AUTH = 165, WLC_SET_WSEC_PMK = 268;
const EV_SET_SSID = 0, EV_AUTH = 3, EV_DEAUTH_IND = 6, EV_DISASSOC = 11, EV_LINK = 16, EV_PSK_SUP = 46, EV_ESCAN_RESULT = 69;

function ssidBuf(ssid: string): Uint8Array {
  const b = new Uint8Array(36);
  const s = te.encode(ssid);
  b.set(u32le(s.length));
  b.set(s, 4);
  return b;
}

/** The join sequence of cyw43_ll_wifi_join (SET_SSID form). */
function join(h: PicoHost, ssid: string, key: string | null, sae = false): void {
  const wpa2 = key !== null && !sae;
  h.ioctl(WLC_SET_WSEC, true, u32le(key === null ? 0 : 4));
  h.iovar('bsscfg:sup_wpa', true, u32le(0, key === null ? 0 : 1));
  if (wpa2) {
    const pmk = new Uint8Array(68);
    pmk.set([key!.length, 0, 1, 0]);
    pmk.set(te.encode(key!), 4);
    h.ioctl(WLC_SET_WSEC_PMK, true, pmk);
  }
  if (sae) {
    const pw = new Uint8Array(130);
    pw.set([key!.length, 0]);
    pw.set(te.encode(key!), 2);
    h.iovar('sae_password', true, pw);
  }
  h.ioctl(WLC_SET_INFRA, true, u32le(1));
  h.ioctl(WLC_SET_AUTH, true, u32le(sae ? 3 : 0));
  h.ioctl(WLC_SET_WPA_AUTH, true, u32le(key === null ? 0 : sae ? 0x40000 : 0x80));
  h.ioctl(WLC_SET_SSID, true, ssidBuf(ssid));
}

describe('cyw43 bring-up through the whole stack', () => {
  it('boots the firmware model: HT clock and F2 ready only after the download and core release', () => {
    host = new PicoHost();
    host.busInit();
    expect(host.readReg(1, 0x1000e, 1) & 0x80).toBe(0);
    host.firmwareBoot(8192);
    expect(host.chip.firmwareRunning).toBe(true);
    expect(host.chip.stats.backplane!.bytesDownloaded).toBe(8192);
  });

  it('keeps the firmware down when the core is released with nothing downloaded', () => {
    host = new PicoHost();
    host.busInit();
    host.writeBackplane(0x18103000 + 0x800, 1, 0);
    host.advance(20e6);
    expect(host.readReg(1, 0x1000e, 1) & 0x80).toBe(0);
  });

  it('answers GET cur_etheraddr with the NVRAM default MAC, or the OTP MAC given as an option', () => {
    host = up();
    expect([...host.iovar('cur_etheraddr', false, new Uint8Array(6)).data.subarray(0, 6)]).toEqual([0x00, 0xa0, 0x50, 0xb5, 0x59, 0x5e]);
    host.dispose();
    host = up({ mac: new Uint8Array([0x02, 1, 2, 3, 4, 5]) });
    expect([...host.iovar('cur_etheraddr', false, new Uint8Array(6)).data.subarray(0, 6)]).toEqual([2, 1, 2, 3, 4, 5]);
    host.iovar('cur_etheraddr', true, new Uint8Array([0x06, 9, 9, 9, 9, 9]));
    expect([...host.chip.macAddress]).toEqual([6, 9, 9, 9, 9, 9]);
  });

  it('derives a stable locally administered MAC from a board identity', () => {
    host = up({ identity: 'board-a' });
    const a = [...host.iovar('cur_etheraddr', false, new Uint8Array(6)).data.subarray(0, 6)];
    host.dispose();
    host = up({ identity: 'board-a' });
    const again = [...host.iovar('cur_etheraddr', false, new Uint8Array(6)).data.subarray(0, 6)];
    host.dispose();
    host = up({ identity: 'board-b' });
    const b = [...host.iovar('cur_etheraddr', false, new Uint8Array(6)).data.subarray(0, 6)];
    expect(again).toEqual(a);
    expect(b).not.toEqual(a);
    expect(a[0]! & 3).toBe(2);
  });

  it('keeps sending ioctls past the initial credit (credits advance with every reply)', () => {
    host = up();
    for (let i = 0; i < 40; i++) expect(host.iovar('ampdu_mpdu', true, u32le(4)).status).toBe(0);
    expect(host.chip.stats.sdpcm!.framesIn).toBe(40);
  });

  it('accepts a CLM download in chunks and reports clmload_status 0', () => {
    host = up();
    const chunk = (flag: number) => {
      const p = new Uint8Array(12 + 64);
      new DataView(p.buffer).setUint16(0, flag | 0x1000, true);
      p[2] = 2;
      new DataView(p.buffer).setUint32(4, 64, true);
      return p;
    };
    host.iovar('clmload', true, chunk(2));
    host.iovar('clmload', true, chunk(0));
    host.iovar('clmload', true, chunk(4));
    expect(host.iovar('clmload_status', false).data.subarray(0, 4)).toEqual(u32le(0));
  });

  it('answers an unknown ioctl and an unknown iovar with BCME_UNSUPPORTED, logs each code once, and keeps working', () => {
    const lines: string[] = [];
    host = up({ logger: new Logger({ level: 'warn', sink: (l) => lines.push(l) }) });
    for (let i = 0; i < 3; i++) {
      expect(host.ioctl(999, false, new Uint8Array(4)).status).toBe(-23);
      expect(host.iovar('no_such_var', false).status).toBe(-23);
    }
    expect(host.iovar('apsta', true, u32le(1)).status).toBe(0);
    expect(lines.filter((l) => l.includes('ioctl 999'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes("'no_such_var'"))).toHaveLength(1);
  });

  it('--trace cyw43 decodes every bus transaction and ioctl', () => {
    host = new PicoHost({ trace: true });
    host.busInit();
    host.firmwareBoot(256);
    host.iovar('apsta', true, u32le(1));
    const t = host.logLines.join('\n');
    expect(t).toContain('read F0 0x00014 len 4: ad be ed fe');
    expect(t).toMatch(/write F1 0x1000e len 1: 08/);
    expect(t).toMatch(/write F2 0x00000 len \d+ \[sdpcm size \d+ seq 0 ch 0/);
    expect(t).toMatch(/ioctl SET 263 'apsta' if=0 id=1 len=\d+ -> status 0/);
  });

  it('drives the LED on chip GPIO 0 through gpioout, with led events in simulated time', () => {
    host = up();
    host.iovar('gpioout', true, u32le(1, 1));
    const t1 = host.clock.nanos;
    host.advance(5e6);
    host.iovar('gpioout', true, u32le(1, 0));
    expect(host.chip.led).toBe(false);
    expect(host.chip.ledHistory.map((c) => c.on)).toEqual([true, false]);
    expect(host.chip.ledHistory[1]!.nanos - host.chip.ledHistory[0]!.nanos).toBeGreaterThanOrEqual(5e6);
    expect(host.events.filter((e) => e.type === 'led')).toHaveLength(2);
    expect(host.chip.ledHistory[0]!.nanos).toBeLessThanOrEqual(t1);
    expect(host.iovar('ccgpioin', false).data.subarray(0, 4)).toEqual(u32le(0));
  });

  it('raises host-wake on GP24 while CS is high when an event is queued', () => {
    host = up();
    host.ioctl(WLC_UP, true, new Uint8Array(0));
    host.ackInterrupts();
    expect(host.hostWake).toBe(false);
    host.iovar('escan', true, new Uint8Array(64));
    host.advance(40e6);
    expect(host.hostWake).toBe(true);
    host.pump(1e9);
    expect(host.hostWake).toBe(false);
  });
});

describe('cyw43 join semantics as the driver sees them', () => {
  it('WPA2 with the right password: AUTH, LINK up, SET_SSID success, PSK_SUP keyed; RSSI and BSSID readable', () => {
    host = up();
    host.ioctl(WLC_UP, true, new Uint8Array(0));
    join(host, 'PicoW-Sim', 'picowsim');
    host.pump(500e6);
    const evs = host.eventList().map((e) => [e.type, e.status, e.flags & 1]);
    expect(evs).toContainEqual([EV_AUTH, 0, 0]);
    expect(evs).toContainEqual([EV_LINK, 0, 1]);
    expect(evs).toContainEqual([EV_SET_SSID, 0, 0]);
    expect(evs).toContainEqual([EV_PSK_SUP, 6, 0]);
    expect(host.chip.stationLinkUp).toBe(true);
    expect(host.chip.port.linkUp).toBe(true);
    expect(new DataView(host.ioctl(WLC_GET_RSSI, false, new Uint8Array(4)).data.buffer).getInt32(0, true)).toBe(-42);
    expect([...host.ioctl(WLC_GET_BSSID, false, new Uint8Array(6)).data]).toEqual([...host.chip.radio.getAp('PicoW-Sim')!.bssid]);
  });

  it('WPA2 with a wrong password: PSK_SUP failure (not a timeout) then DEAUTH_IND reason 2; no link', () => {
    host = up();
    host.ioctl(WLC_UP, true, new Uint8Array(0));
    join(host, 'PicoW-Sim', 'wrongpass');
    host.pump(500e6);
    const ev = host.eventList();
    const psk = ev.find((e) => e.type === EV_PSK_SUP)!;
    expect(psk.status).not.toBe(6);
    expect(psk.reason).not.toBe(15);
    expect(ev.find((e) => e.type === EV_DEAUTH_IND)).toMatchObject({ status: 0, reason: 2 });
    expect(host.chip.stationLinkUp).toBe(false);
    expect(host.ioctl(WLC_GET_RSSI, false, new Uint8Array(4)).status).toBe(-17);
  });

  it('unknown SSID: SET_SSID with status 3 (no networks)', () => {
    host = up();
    host.ioctl(WLC_UP, true, new Uint8Array(0));
    join(host, 'Nobody-Here', 'whatever1');
    host.pump(500e6);
    expect(host.eventList().map((e) => [e.type, e.status])).toEqual([[EV_SET_SSID, 3]]);
  });

  it('open network joins with AUTH and LINK up; WPA3-SAE needs SAE and its password', () => {
    const radio = new VirtualRadio({ aps: [{ ssid: 'Home3', password: 'sae-secret', security: 'wpa3-sae', channel: 11, rssi: -60 }] });
    host = up({ radio });
    host.ioctl(WLC_UP, true, new Uint8Array(0));
    join(host, 'Wokwi-GUEST', null);
    host.pump(300e6);
    expect(host.chip.associatedSsid).toBe('Wokwi-GUEST');
    expect(host.eventList().some((e) => e.type === EV_LINK && e.flags & 1)).toBe(true);
    host.received.length = 0;
    join(host, 'Home3', 'bad-secret', true);
    host.pump(300e6);
    expect(host.eventList().find((e) => e.type === EV_AUTH)!.status).not.toBe(0);
    host.received.length = 0;
    join(host, 'Home3', 'sae-secret', true);
    host.pump(300e6);
    expect(host.chip.associatedSsid).toBe('Home3');
    expect(host.chip.stationLinkUp).toBe(true);
  });

  it('disconnect: LINK down then DISASSOC', () => {
    host = up();
    host.ioctl(WLC_UP, true, new Uint8Array(0));
    join(host, 'PicoW-Sim', 'picowsim');
    host.pump(300e6);
    host.received.length = 0;
    host.ioctl(WLC_DISASSOC, true, new Uint8Array(0));
    host.pump(50e6);
    expect(host.eventList().map((e) => [e.type, e.flags & 1])).toEqual([
      [EV_LINK, 0],
      [EV_DISASSOC, 0],
    ]);
    expect(host.chip.port.linkUp).toBe(false);
  });

  it('AP removed while connected: LINK down; AP back: the firmware rejoins (AUTH, LINK, PSK_SUP)', () => {
    host = up();
    host.ioctl(WLC_UP, true, new Uint8Array(0));
    join(host, 'PicoW-Sim', 'picowsim');
    host.pump(300e6);
    host.received.length = 0;
    const ap = host.chip.radio.getAp('PicoW-Sim')!;
    host.chip.radio.removeAp('PicoW-Sim');
    host.pump(50e6);
    expect(host.eventList().map((e) => [e.type, e.flags & 1])).toEqual([[EV_LINK, 0]]);
    expect(host.chip.port.linkUp).toBe(false);
    host.received.length = 0;
    host.chip.radio.addAp(ap);
    host.pump(300e6);
    expect(host.eventList().map((e) => e.type)).toEqual(expect.arrayContaining([EV_AUTH, EV_LINK, EV_PSK_SUP]));
    expect(host.chip.port.linkUp).toBe(true);
  });

  it('a link fault drops the link and clears it', () => {
    host = up();
    host.ioctl(WLC_UP, true, new Uint8Array(0));
    join(host, 'PicoW-Sim', 'picowsim');
    host.pump(300e6);
    host.chip.radio.setLink(false);
    host.pump(20e6);
    expect(host.chip.port.linkUp).toBe(false);
    host.chip.radio.setLink(true);
    host.pump(300e6);
    expect(host.chip.port.linkUp).toBe(true);
  });

  it('scan: one partial ESCAN_RESULT per AP with its BSSID, SSID, channel and RSSI, then completion', () => {
    host = up();
    host.ioctl(WLC_UP, true, new Uint8Array(0));
    const params = new Uint8Array(64);
    new DataView(params.buffer).setUint16(6, 0x1234, true);
    host.iovar('escan', true, params);
    host.pump(500e6);
    const ev = host.eventList().filter((e) => e.type === EV_ESCAN_RESULT);
    expect(ev.map((e) => e.status)).toEqual([8, 8, 0]);
    const seen = ev.slice(0, 2).map((e) => {
      // driver view (cyw43_ev_scan_result_t at event data): bssid @20, ssid_len @30, ssid @31, channel @84, rssi @90
      const d = e.data;
      const dv = new DataView(d.buffer, d.byteOffset);
      return {
        bssid: [...d.subarray(20, 26)],
        ssid: new TextDecoder().decode(d.subarray(31, 31 + d[30]!)),
        channel: dv.getUint16(84, true) & 0xff,
        rssi: dv.getInt16(90, true),
        syncId: dv.getUint16(8, true),
      };
    });
    const radio = host.chip.radio;
    expect(seen).toEqual(
      radio.list().map((ap) => ({ bssid: [...ap.bssid], ssid: ap.ssid, channel: ap.channel, rssi: ap.rssi, syncId: 0x1234 })),
    );
  });

  it('data plane: host frames go out of the port only while the link is up; frames from the network reach the host', () => {
    host = up();
    const sent: Uint8Array[] = [];
    host.chip.port.onTransmit = (f) => sent.push(f);
    const eth = new Uint8Array(60).fill(0xab);
    const bdc = new Uint8Array(4 + eth.length);
    bdc[0] = 0x20;
    bdc.set(eth, 4);
    host.ioctl(WLC_UP, true, new Uint8Array(0));
    host.sendFrame(2, bdc);
    expect(sent).toHaveLength(0);
    join(host, 'PicoW-Sim', 'picowsim');
    host.pump(300e6);
    host.sendFrame(2, bdc);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toEqual(eth);
    host.received.length = 0;
    host.chip.port.deliver(new Uint8Array(64).fill(0xcd));
    host.pump(5e6);
    const data = host.received.filter((f) => f.channel === 2);
    expect(data).toHaveLength(1);
    expect(data[0]!.payload.subarray(4 + data[0]!.payload[3]! * 4)).toEqual(new Uint8Array(64).fill(0xcd));
  });

  it('AP mode: bss up publishes the board AP in the radio and sends LINK up on interface 1', () => {
    host = up();
    host.ioctl(WLC_UP, true, new Uint8Array(0));
    const ssid = new Uint8Array(40);
    ssid.set(u32le(1, 8));
    ssid.set(te.encode('MyPicoAP'), 8);
    host.iovar('bsscfg:ssid', true, ssid, 0);
    host.iovar('bsscfg:wsec', true, u32le(1, 0x00400004));
    host.iovar('bsscfg:wpa_auth', true, u32le(1, 0x84));
    const pmk = new Uint8Array(68);
    pmk.set([8, 0, 1, 0]);
    pmk.set(te.encode('apsecret'), 4);
    host.ioctl(WLC_SET_WSEC_PMK, true, pmk, 1);
    host.iovar('bss', true, u32le(1, 1));
    host.pump(50e6);
    const ap = host.chip.radio.getAp('MyPicoAP')!;
    expect(ap.security).toBe('wpa2-psk');
    expect(ap.password).toBe('apsecret');
    expect(host.eventList().find((e) => e.type === EV_LINK)).toMatchObject({ flags: 1, iface: 1 });
    expect(host.chip.apActive).toBe(true);
  });

  it('power-off (WL_REG_ON low) resets the chip: 16-bit mode and no firmware again', () => {
    host = up();
    host.power(false);
    host.advance(1e6);
    host.power(true);
    host.advance(1e6);
    host.mode32 = false;
    expect(host.readSwapped(0, 0x14)).toBe(0xfeedbead);
    expect(host.chip.firmwareRunning).toBe(false);
  });

  it('boards sharing a radio see each other\'s AP in a scan, but not their own', () => {
    const radio = new VirtualRadio();
    const a = up({ radio, identity: 'a' });
    const b = up({ radio, identity: 'b' });
    try {
      a.ioctl(WLC_UP, true, new Uint8Array(0));
      const ssid = new Uint8Array(40);
      ssid.set(u32le(1, 6));
      ssid.set(te.encode('BoardA'), 8);
      a.iovar('bsscfg:ssid', true, ssid);
      a.iovar('bss', true, u32le(1, 1));
      const scanSsids = (h: PicoHost): string[] => {
        h.received.length = 0;
        h.iovar('escan', true, new Uint8Array(64));
        h.pump(500e6);
        return h
          .eventList()
          .filter((e) => e.type === EV_ESCAN_RESULT && e.status === 8)
          .map((e) => new TextDecoder().decode(e.data.subarray(31, 31 + e.data[30]!)));
      };
      b.ioctl(WLC_UP, true, new Uint8Array(0));
      expect(scanSsids(b)).toContain('BoardA');
      expect(scanSsids(a)).not.toContain('BoardA');
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
