/**
 * Two virtual CYW43439s on one radio, each driven through its gSPI bus by the test host: one runs
 * an AP (the ioctls/iovars of cyw43_ll_wifi_ap_init), the other joins it. What the AP's host sees
 * (AUTH_IND/ASSOC_IND, DISASSOC_IND, DEAUTH on interface 1, WLC_GET_ASSOCLIST) and where data
 * frames go (BDC interface 1 on the AP, 0 on the station).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualRadio } from '../../sim/cyw43/radio.ts';
import { PicoHost, u32le } from './cyw43-harness.ts';

const te = new TextEncoder();
const WLC_UP = 2, WLC_SET_INFRA = 20, WLC_SET_AUTH = 22, WLC_SET_SSID = 26, WLC_DISASSOC = 52;
const WLC_SET_WSEC = 134, WLC_GET_ASSOCLIST = 159, WLC_SET_WPA_AUTH = 165, WLC_SET_WSEC_PMK = 268;
const EV_AUTH_IND = 4, EV_DEAUTH = 5, EV_ASSOC_IND = 8, EV_DISASSOC_IND = 12, EV_LINK = 16, EV_PSK_SUP = 46;

const hosts: PicoHost[] = [];
afterEach(() => {
  for (const h of hosts.splice(0)) h.dispose();
});

function up(radio: VirtualRadio, identity: string): PicoHost {
  const h = new PicoHost({ radio, identity });
  hosts.push(h);
  h.busInit();
  h.firmwareBoot();
  h.ioctl(WLC_UP, true, new Uint8Array(0));
  return h;
}

function pmk(key: string): Uint8Array {
  const b = new Uint8Array(68);
  b.set([key.length, 0, 1, 0]);
  b.set(te.encode(key), 4);
  return b;
}

/** cyw43_ll_wifi_ap_init + cyw43_ll_wifi_ap_set_up for WPA2-PSK. */
function startAp(h: PicoHost, ssid: string, key: string): void {
  const s = new Uint8Array(40);
  s.set(u32le(1, ssid.length));
  s.set(te.encode(ssid), 8);
  h.iovar('bsscfg:ssid', true, s);
  h.iovar('bsscfg:wsec', true, u32le(1, 0x00400004));
  h.iovar('bsscfg:wpa_auth', true, u32le(1, 0x84));
  h.ioctl(WLC_SET_WSEC_PMK, true, pmk(key), 1);
  h.iovar('bss', true, u32le(1, 1));
  h.pump(50e6);
}

/** The join sequence of cyw43_ll_wifi_join (WPA2, SET_SSID form). */
function join(h: PicoHost, ssid: string, key: string): void {
  h.ioctl(WLC_SET_WSEC, true, u32le(4));
  h.iovar('bsscfg:sup_wpa', true, u32le(0, 1));
  h.ioctl(WLC_SET_WSEC_PMK, true, pmk(key));
  h.ioctl(WLC_SET_INFRA, true, u32le(1));
  h.ioctl(WLC_SET_AUTH, true, u32le(0));
  h.ioctl(WLC_SET_WPA_AUTH, true, u32le(0x80));
  const s = new Uint8Array(36);
  s.set(u32le(ssid.length));
  s.set(te.encode(ssid), 4);
  h.ioctl(WLC_SET_SSID, true, s);
}

function assocList(h: PicoHost): string[] {
  const r = h.ioctl(WLC_GET_ASSOCLIST, false, u32le(10), 1, 4 + 10 * 6);
  const n = new DataView(r.data.buffer, r.data.byteOffset).getUint32(0, true);
  return Array.from({ length: n }, (_, i) => Buffer.from(r.data.subarray(4 + i * 6, 10 + i * 6)).toString('hex'));
}

/** A data frame (SDPCM channel 2): BDC header with the interface, then Ethernet. */
function sendEthernet(h: PicoHost, iface: number, dst: Uint8Array, src: Uint8Array, tag: number): void {
  const f = new Uint8Array(4 + 60);
  f.set([0x20, 0, iface, 0]);
  f.set(dst, 4);
  f.set(src, 10);
  f.set([0x08, 0x00, tag], 16);
  h.sendFrame(2, f);
}

function dataFrames(h: PicoHost): { iface: number; tag: number }[] {
  return h.received.filter((f) => f.channel === 2).map((f) => ({ iface: f.payload[2]!, tag: f.payload[4 + f.payload[3]! * 4 + 14]! }));
}

const hex = (m: Uint8Array) => Buffer.from(m).toString('hex');

/** An AP chip and a station chip that joined it with the right key. */
function associated(): { ap: PicoHost; sta: PicoHost } {
  const radio = new VirtualRadio();
  const ap = up(radio, 'ap');
  const sta = up(radio, 'sta');
  startAp(ap, 'BoardAP', 'apsecret1');
  join(sta, 'BoardAP', 'apsecret1');
  sta.pump(100e6);
  ap.pump(5e6);
  return { ap, sta };
}

describe("a board's AP chip with another board's chip as its station", () => {
  it('the AP security is what the host configured: WPA2, then open after a reconfiguration without a key', () => {
    const radio = new VirtualRadio();
    const ap = up(radio, 'ap');
    startAp(ap, 'BoardAP', 'apsecret1');
    expect(radio.getAp('BoardAP')?.security).toBe('wpa2-psk');
    ap.iovar('bss', true, u32le(1, 0));
    expect(radio.getAp('BoardAP')).toBeUndefined();
    // cyw43_ll_wifi_ap_init for CYW43_AUTH_OPEN: wsec 0, wpa_auth left as it was
    ap.iovar('bsscfg:wsec', true, u32le(1, 0));
    ap.iovar('bss', true, u32le(1, 1));
    expect(radio.getAp('BoardAP')?.security).toBe('open');
  });

  it('a station joining raises AUTH_IND and ASSOC_IND on the AP interface and shows in WLC_GET_ASSOCLIST', () => {
    const radio = new VirtualRadio();
    const ap = up(radio, 'ap');
    const sta = up(radio, 'sta');
    startAp(ap, 'BoardAP', 'apsecret1');
    expect(assocList(ap)).toEqual([]);
    join(sta, 'BoardAP', 'apsecret1');
    sta.pump(100e6);
    ap.pump(5e6);
    expect(sta.eventList().some((e) => e.type === EV_PSK_SUP && e.status === 6)).toBe(true);
    const apEvents = ap.eventList().filter((e) => e.iface === 1 && e.type !== EV_LINK);
    expect(apEvents.map((e) => e.type)).toEqual([EV_AUTH_IND, EV_ASSOC_IND]);
    expect(assocList(ap)).toEqual([hex(sta.chip.macAddress)]);
    // The station's LAN port stays down: its frames go over the air to the AP chip.
    expect(sta.chip.port.linkUp).toBe(false);
    expect(sta.chip.stationLinkUp).toBe(true);
  });

  it('data frames: station → AP host on interface 1, AP host → station on interface 0, unknown stations nowhere', () => {
    const { ap, sta } = associated();
    sendEthernet(sta, 0, ap.chip.macAddress, sta.chip.macAddress, 0x11);
    ap.pump(5e6);
    sendEthernet(ap, 1, sta.chip.macAddress, ap.chip.macAddress, 0x22);
    sendEthernet(ap, 1, Uint8Array.of(2, 9, 9, 9, 9, 9), ap.chip.macAddress, 0x33);
    sendEthernet(ap, 1, new Uint8Array(6).fill(0xff), ap.chip.macAddress, 0x44);
    sta.pump(5e6);
    expect(dataFrames(ap).filter((f) => f.tag === 0x11)).toEqual([{ iface: 1, tag: 0x11 }]);
    expect(dataFrames(sta).filter((f) => f.tag >= 0x22)).toEqual([
      { iface: 0, tag: 0x22 },
      { iface: 0, tag: 0x44 },
    ]);
  });

  it('the station leaving raises DISASSOC_IND; a wrong key gets the station removed (DEAUTH) and listed nowhere', () => {
    const { ap, sta } = associated();
    sta.ioctl(WLC_DISASSOC, true, new Uint8Array(0));
    ap.pump(5e6);
    expect(assocList(ap)).toEqual([]);
    const left = ap.eventList().filter((e) => e.iface === 1 && e.type === EV_DISASSOC_IND);
    expect(left).toHaveLength(1);
    ap.received.length = 0;
    join(sta, 'BoardAP', 'wrong-key-1');
    sta.pump(100e6);
    ap.pump(5e6);
    expect(ap.eventList().filter((e) => e.iface === 1 && e.type !== EV_LINK).map((e) => e.type)).toEqual([EV_AUTH_IND, EV_ASSOC_IND, EV_DEAUTH]);
    expect(assocList(ap)).toEqual([]);
    expect(sta.chip.stationLinkUp).toBe(false);
  });
});
