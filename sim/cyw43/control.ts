/**
 * The control plane of the WLAN firmware model: CDC ioctls and iovars (cyw43_ll.c, cyw43_ctrl.c,
 * MicroPython extmod/network_cyw43.c), the station join state machine, scans, AP mode, the chip
 * GPIO that drives the Pico W LED, and the event mask. Everything the host sees goes out through
 * `WlanHost` (control replies, events, link changes).
 */
import { readU16LE, readU32LE, u32LE } from '../byte-order.ts';
import type { Logger } from '../log.ts';
import type { CdcMessage } from './cdc.ts';
import { BoardBss, type BssStation } from './bss.ts';
import {
  EV_ASSOC,
  EV_ASSOC_IND,
  EV_AUTH,
  EV_AUTH_IND,
  EV_DEAUTH,
  EV_DEAUTH_IND,
  EV_DISASSOC,
  EV_DISASSOC_IND,
  EV_ESCAN_RESULT,
  EV_LINK,
  EV_PRUNE,
  EV_PSK_SUP,
  EV_SET_SSID,
  EVENT_FLAG_LINK,
  REASON_DEAUTH,
  REASON_LINK_BCN_LOSS,
  REASON_LINK_DISASSOC,
  REASON_PRUNE_ENCR_MISMATCH,
  REASON_SUP_DEAUTH,
  STATUS_FAIL,
  STATUS_NO_NETWORKS,
  STATUS_PARTIAL,
  STATUS_SUCCESS,
  SUP_KEYED,
  SUP_KEYXCHANGE_WAIT_M3,
  encodeEscanResult,
  type ChipEvent,
} from './events.ts';
import { makeAccessPoint, type AccessPoint, type ApSecurity, type RadioEvent, type VirtualRadio } from './radio.ts';

// ioctl commands (wlioctl.h numbering, as used by cyw43_ll.c / cyw43_ll.h)
export const WLC_GET_MAGIC = 0;
export const WLC_GET_VERSION = 1;
export const WLC_UP = 2;
export const WLC_DOWN = 3;
export const WLC_SET_INFRA = 20;
export const WLC_GET_AUTH = 21;
export const WLC_SET_AUTH = 22;
export const WLC_GET_BSSID = 23;
export const WLC_GET_SSID = 25;
export const WLC_SET_SSID = 26;
export const WLC_GET_CHANNEL = 29;
export const WLC_SET_CHANNEL = 30;
export const WLC_DISASSOC = 52;
export const WLC_GET_ANTDIV = 63;
export const WLC_SET_ANTDIV = 64;
export const WLC_SET_DTIMPRD = 78;
export const WLC_GET_PM = 85;
export const WLC_SET_PM = 86;
export const WLC_SET_MONITOR = 108;
export const WLC_GET_GMODE = 109;
export const WLC_SET_GMODE = 110;
export const WLC_GET_RSSI = 127;
export const WLC_GET_WSEC = 133;
export const WLC_SET_WSEC = 134;
export const WLC_GET_BAND = 141;
export const WLC_SET_BAND = 142;
export const WLC_GET_ASSOCLIST = 159;
export const WLC_GET_WPA_AUTH = 164;
export const WLC_SET_WPA_AUTH = 165;
export const WLC_GET_VAR = 262;
export const WLC_SET_VAR = 263;
export const WLC_SET_WSEC_PMK = 268;

// Broadcom error codes (bcmutils.h BCME_*)
export const BCME_OK = 0;
export const BCME_BADARG = -2;
export const BCME_NOTUP = -4;
export const BCME_BUFTOOSHORT = -14;
export const BCME_NOTASSOCIATED = -17;
export const BCME_UNSUPPORTED = -23;

// wpa_auth values (cyw43_ll.c)
const WPA_AUTH_PSK = 0x0004;
const WPA2_AUTH_PSK = 0x0080;
const WPA3_AUTH_SAE_PSK = 0x40000;
/** wsec cipher bits (wlioctl.h WEP_ENABLED, TKIP_ENABLED, AES_ENABLED). */
const WSEC_CIPHERS = 0x1 | 0x2 | 0x4;
/** WLC_SET_AUTH value for SAE (cyw43_ll.c AUTH_TYPE_SAE). */
const AUTH_TYPE_SAE = 3;
/** wlioctl.h WLC_BROADCOM magic. */
const WLC_IOCTL_MAGIC = 0x14e46c77;
/** Number of event bits in the event mask (WL_EVENTING_MASK_LEN * 8). */
const EVENT_MASK_BITS = 19 * 8;
/** "clmload" flags (cyw43_ll.c cyw43_clm_load). */
const DL_BEGIN = 0x0002;
const DL_END = 0x0004;
/** On-board LED is chip GPIO 0 (Pico W). */
export const LED_GPIO_MASK = 0x1;
/** MAC the 43439 NVRAM carries when no MAC is programmed (cyw43_ll.c default_mac). */
export const NVRAM_DEFAULT_MAC = new Uint8Array([0x00, 0xa0, 0x50, 0xb5, 0x59, 0x5e]);

/** Simulated delays of the radio procedures. */
export const TIMING = {
  scanPerAp: 25_000_000,
  scanDone: 30_000_000,
  auth: 20_000_000,
  assoc: 5_000_000,
  link: 5_000_000,
  keyed: 15_000_000,
  noNetwork: 200_000_000,
  apUp: 10_000_000,
};

export interface WlanHost {
  now(): number;
  schedule(nanos: number, cb: () => void): () => void;
  /** Queue a channel-1 event (already mask-filtered). */
  sendEvent(ev: ChipEvent): void;
  /** Station or AP link changed: the data plane may pass frames (iface 0 STA, 1 AP). */
  linkChanged(iface: number, up: boolean): void;
  /** Chip GPIO outputs changed. */
  gpioChanged(value: number, previous: number): void;
  /** The MAC changed (host set cur_etheraddr). */
  macChanged(mac: Uint8Array): void;
  /** A frame received over the air from a board's BSS, for the host on `iface` (0 STA, 1 AP). */
  deliverFromAir(iface: number, frame: Uint8Array): void;
}

export interface ControlReply {
  status: number;
  payload: Uint8Array;
}

interface Association {
  ap: AccessPoint;
  /** Key exchange done (or open network): data may flow. */
  up: boolean;
}

const te = new TextEncoder();
const td = new TextDecoder();


function hexMac(m: Uint8Array): string {
  return [...m.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** 802.11 reason code 8: the station is leaving the BSS (IEEE 802.11-2020 Table 9-49). */
const REASON_STA_LEAVING = 8;

function macEq(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class WlanControl {
  mac: Uint8Array;
  private up = false;
  private country = new Uint8Array(12);
  private readonly u32Vars = new Map<string, number>();
  private eventMask = new Uint8Array(EVENT_MASK_BITS / 8).fill(0xff);
  private pm = 2;
  private antdiv = 0;
  private gmode = 1;
  private band = 0;
  private infra = 1;
  private authMode = 0;
  private wsec = 0;
  private wpaAuth = 0;
  private passphrase = '';
  private saePassword = '';
  private qtxpower = 31 * 4;
  private gpio = 0;
  private clmState: 'none' | 'loading' | 'ok' | 'error' = 'none';
  private assoc: Association | null = null;
  /** SSID the station joined (or tries to keep), for automatic rejoin after a link fault. */
  private wanted: { ssid: string; bssid: Uint8Array | null } | null = null;
  private joinTimers: (() => void)[] = [];
  private scanTimers: (() => void)[] = [];
  private readonly ap = {
    ssid: '',
    channel: 6,
    wsec: 0,
    wpaAuth: 0,
    passphrase: '',
    saePassword: '',
    up: false,
    published: null as AccessPoint | null,
  };
  /** This chip's side of an association with a board's AP. */
  private readonly bssStation: BssStation;
  private readonly unsubscribeRadio: () => void;
  readonly stats = { ioctls: 0, unknown: 0, joins: 0, scans: 0 };

  constructor(
    private readonly host: WlanHost,
    readonly radio: VirtualRadio,
    private readonly logger: Logger,
    readonly otpMac: Uint8Array,
  ) {
    this.mac = new Uint8Array(otpMac);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const ctl = this;
    this.bssStation = {
      get mac(): Uint8Array {
        return ctl.mac;
      },
      deliver: (frame) => {
        if (this.assoc?.up && this.assoc.ap.bss) this.host.deliverFromAir(0, frame);
      },
      dropped: () => this.onBssDropped(),
    };
    this.unsubscribeRadio = radio.onEvent((e) => this.onRadio(e));
  }

  dispose(): void {
    this.unsubscribeRadio();
    this.powerOff();
  }

  /** Power loss: forget everything the host configured. */
  powerOff(): void {
    this.cancel(this.joinTimers);
    this.cancel(this.scanTimers);
    if (this.assoc) this.host.linkChanged(0, false);
    this.assoc = null;
    this.wanted = null;
    this.ap.published?.bss?.close();
    if (this.ap.published) this.radio.removeAp(this.ap.published.ssid);
    if (this.ap.up) this.host.linkChanged(1, false);
    Object.assign(this.ap, { ssid: '', channel: 6, wsec: 0, wpaAuth: 0, passphrase: '', saePassword: '', up: false, published: null });
    this.mac = new Uint8Array(this.otpMac);
    this.up = false;
    this.u32Vars.clear();
    this.eventMask.fill(0xff);
    this.pm = 2;
    this.wsec = 0;
    this.wpaAuth = 0;
    this.passphrase = '';
    this.saePassword = '';
    this.qtxpower = 31 * 4;
    this.clmState = 'none';
    const prev = this.gpio;
    this.gpio = 0;
    if (prev !== 0) this.host.gpioChanged(0, prev);
  }

  get gpioOut(): number {
    return this.gpio;
  }

  get associated(): AccessPoint | null {
    return this.assoc?.ap ?? null;
  }

  get stationLinkUp(): boolean {
    return !!this.assoc?.up;
  }

  get apUp(): boolean {
    return this.ap.up;
  }

  /** The board AP this station is associated with and keyed to (its frames go there, not to the LAN). */
  get stationBss(): BoardBss | null {
    return this.assoc?.up ? (this.assoc.ap.bss ?? null) : null;
  }

  /** The BSS of this chip's own AP while it is up. */
  get apBss(): BoardBss | null {
    return this.ap.up ? (this.ap.published?.bss ?? null) : null;
  }

  private cancel(list: (() => void)[]): void {
    for (const c of list.splice(0)) c();
  }

  private later(list: (() => void)[], nanos: number, cb: () => void): void {
    const cancel = this.host.schedule(nanos, () => {
      const i = list.indexOf(cancel);
      if (i >= 0) list.splice(i, 1);
      cb();
    });
    list.push(cancel);
  }

  private event(ev: ChipEvent): void {
    const bit = ev.type;
    if (bit < EVENT_MASK_BITS && !(this.eventMask[bit >> 3]! & (1 << (bit & 7)))) {
      this.logger.trace('cyw43', `event ${bit} masked by the host`);
      return;
    }
    this.host.sendEvent(ev);
  }

  /** Handle one ioctl; the reply payload has the host's requested length. */
  handle(msg: CdcMessage): ControlReply {
    this.stats.ioctls++;
    const outLen = msg.len & 0xffff;
    const req = msg.payload.subarray(0, Math.min(msg.payload.length, outLen || msg.payload.length));
    const res = this.dispatch(msg.cmd, msg.set, msg.iface, req, outLen);
    // The firmware works in place on the host's ioctl buffer: a reply carries that buffer back
    // with the result (if any) written over its start. (The driver does not check the status: a
    // GET it repeats with its buffer already overwritten by the first answer — cyw43_ll.c asks
    // for `maxassoc` twice — still reads the first answer's value.)
    const payload = new Uint8Array(outLen);
    payload.set(req.subarray(0, outLen));
    if (!msg.set && res.payload.length) payload.set(res.payload.subarray(0, outLen));
    return { status: res.status, payload };
  }

  private dispatch(cmd: number, set: boolean, iface: number, req: Uint8Array, outLen: number): ControlReply {
    const ok = (payload: Uint8Array = new Uint8Array(0)): ControlReply => ({ status: BCME_OK, payload });
    switch (cmd) {
      case WLC_GET_MAGIC:
        return ok(u32LE(WLC_IOCTL_MAGIC));
      case WLC_GET_VERSION:
        return ok(u32LE(1));
      case WLC_UP:
        this.up = true;
        return ok();
      case WLC_DOWN:
        this.up = false;
        this.leave(false);
        return ok();
      case WLC_SET_INFRA:
        this.infra = readU32LE(req, 0);
        return ok();
      case WLC_GET_AUTH:
        return ok(u32LE(this.authMode));
      case WLC_SET_AUTH:
        this.authMode = readU32LE(req, 0);
        return ok();
      case WLC_GET_BSSID:
        if (!this.assoc) return { status: BCME_NOTASSOCIATED, payload: new Uint8Array(6) };
        return ok(this.assoc.ap.bssid);
      case WLC_GET_SSID: {
        const out = new Uint8Array(36);
        const ssid = te.encode(iface === 1 ? this.ap.ssid : (this.assoc?.ap.ssid ?? '')).subarray(0, 32);
        out.set(u32LE(ssid.length), 0);
        out.set(ssid, 4);
        return ok(out);
      }
      case WLC_SET_SSID: {
        const len = Math.min(readU32LE(req, 0), 32);
        const ssid = td.decode(req.subarray(4, 4 + len));
        if (iface === 1) {
          this.ap.ssid = ssid;
          return ok();
        }
        this.startJoin(ssid, null);
        return ok();
      }
      case WLC_GET_CHANNEL: {
        const ch = this.assoc?.ap.channel ?? this.ap.channel;
        const out = new Uint8Array(12);
        out.set(u32LE(ch), 0);
        out.set(u32LE(ch), 4);
        out.set(u32LE(0), 8);
        return ok(out);
      }
      case WLC_SET_CHANNEL:
        this.ap.channel = readU32LE(req, 0) || this.ap.channel;
        return ok();
      case WLC_DISASSOC:
        if (iface === 1) return ok();
        this.leave(true);
        return ok();
      case WLC_GET_ANTDIV:
        return ok(u32LE(this.antdiv));
      case WLC_SET_ANTDIV:
        this.antdiv = readU32LE(req, 0);
        return ok();
      case WLC_SET_DTIMPRD:
      case WLC_SET_MONITOR:
        return ok();
      case WLC_GET_PM:
        return ok(u32LE(this.pm));
      case WLC_SET_PM:
        this.pm = readU32LE(req, 0);
        return ok();
      case WLC_GET_GMODE:
        return ok(u32LE(this.gmode));
      case WLC_SET_GMODE:
        this.gmode = readU32LE(req, 0);
        return ok();
      case WLC_GET_RSSI:
        if (!this.assoc) return { status: BCME_NOTASSOCIATED, payload: u32LE(0) };
        return ok(u32LE(this.assoc.ap.rssi));
      case WLC_GET_WSEC:
        return ok(u32LE(iface === 1 ? this.ap.wsec : this.wsec));
      case WLC_SET_WSEC:
        if (iface === 1) this.ap.wsec = readU32LE(req, 0);
        else this.wsec = readU32LE(req, 0);
        return ok();
      case WLC_GET_BAND:
        return ok(u32LE(this.band));
      case WLC_SET_BAND:
        this.band = readU32LE(req, 0);
        return ok();
      case WLC_GET_ASSOCLIST: {
        // In: the most MACs the host has room for; out: the count, then the MACs (wlioctl.h maclist).
        const room = Math.max(0, Math.min(readU32LE(req, 0), Math.floor((outLen - 4) / 6)));
        const macs = (this.apBss?.stationMacs ?? []).slice(0, room);
        const out = new Uint8Array(4 + macs.length * 6);
        out.set(u32LE(macs.length));
        macs.forEach((m, i) => out.set(m, 4 + i * 6));
        return ok(out);
      }
      case WLC_GET_WPA_AUTH:
        return ok(u32LE(iface === 1 ? this.ap.wpaAuth : this.wpaAuth));
      case WLC_SET_WPA_AUTH:
        if (iface === 1) this.ap.wpaAuth = readU32LE(req, 0);
        else this.wpaAuth = readU32LE(req, 0);
        return ok();
      case WLC_SET_WSEC_PMK: {
        const len = Math.min(readU16LE(req, 0), 64);
        const key = td.decode(req.subarray(4, 4 + len));
        if (iface === 1) this.ap.passphrase = key;
        else this.passphrase = key;
        return ok();
      }
      case WLC_GET_VAR:
      case WLC_SET_VAR:
        return this.iovar(cmd === WLC_SET_VAR, iface, req, outLen);
      default:
        this.stats.unknown++;
        this.logger.warnOnce('cyw43', `ioctl-${cmd}`, `unsupported ioctl ${cmd} (${set ? 'set' : 'get'}): answered BCME_UNSUPPORTED`);
        return { status: BCME_UNSUPPORTED, payload: new Uint8Array(0) };
    }
  }

  private iovar(set: boolean, iface: number, req: Uint8Array, _outLen: number): ControlReply {
    const nul = req.indexOf(0);
    if (nul < 0) {
      this.stats.unknown++;
      this.logger.warnOnce('cyw43', 'iovar-noname', 'iovar request without a NUL-terminated name: answered BCME_BADARG');
      return { status: BCME_BADARG, payload: new Uint8Array(0) };
    }
    let name = td.decode(req.subarray(0, nul));
    let data = req.subarray(nul + 1);
    let bsscfg = iface;
    if (name.startsWith('bsscfg:')) {
      name = name.slice('bsscfg:'.length);
      bsscfg = readU32LE(data, 0);
      data = data.subarray(4);
    }
    const ok = (payload: Uint8Array = new Uint8Array(0)): ControlReply => ({ status: BCME_OK, payload });
    const u32Var = (def: number): ControlReply => {
      if (set) {
        this.u32Vars.set(name, readU32LE(data, 0));
        return ok();
      }
      return ok(u32LE(this.u32Vars.get(name) ?? def));
    };
    switch (name) {
      case 'bus:txglom':
      case 'apsta':
      case 'ampdu_ba_wsize':
      case 'ampdu_mpdu':
      case 'ampdu_rx_factor':
      case 'pm2_sleep_ret':
      case 'bcn_li_bcn':
      case 'bcn_li_dtim':
      case 'assoc_listen':
      case 'allmulti':
      case 'mfp':
      case '2g_mrate':
      case 'sae_max_pwe_loop':
      case 'roam_off':
      case 'arp_ol':
      case 'arpoe':
      case 'mpc':
      case 'txglomalign':
        return u32Var(0);
      case 'sup_wpa':
      case 'sup_wpa2_eapver':
      case 'sup_wpa_tmo':
        return u32Var(0);
      case 'maxassoc':
        return ok(u32LE(10));
      case 'wsec':
        if (set) {
          if (bsscfg === 1) this.ap.wsec = readU32LE(data, 0);
          else this.wsec = readU32LE(data, 0);
          return ok();
        }
        return ok(u32LE(bsscfg === 1 ? this.ap.wsec : this.wsec));
      case 'wpa_auth':
        if (set) {
          if (bsscfg === 1) this.ap.wpaAuth = readU32LE(data, 0);
          else this.wpaAuth = readU32LE(data, 0);
          return ok();
        }
        return ok(u32LE(bsscfg === 1 ? this.ap.wpaAuth : this.wpaAuth));
      case 'ssid': {
        if (!set) {
          const s = te.encode(bsscfg === 1 ? this.ap.ssid : (this.assoc?.ap.ssid ?? ''));
          const out = new Uint8Array(36);
          out.set(u32LE(s.length));
          out.set(s.subarray(0, 32), 4);
          return ok(out);
        }
        const len = Math.min(readU32LE(data, 0), 32);
        const ssid = td.decode(data.subarray(4, 4 + len));
        if (bsscfg === 1) this.ap.ssid = ssid;
        else this.startJoin(ssid, null);
        return ok();
      }
      case 'sae_password': {
        if (!set) return ok();
        const len = Math.min(readU16LE(data, 0), 128);
        const pw = td.decode(data.subarray(2, 2 + len));
        if (iface === 1) this.ap.saePassword = pw;
        else this.saePassword = pw;
        return ok();
      }
      case 'cur_etheraddr':
        if (set) {
          if (data.length < 6) return { status: BCME_BUFTOOSHORT, payload: new Uint8Array(0) };
          this.mac = new Uint8Array(data.subarray(0, 6));
          this.host.macChanged(this.mac);
          return ok();
        }
        return ok(this.mac);
      case 'country':
        if (set) {
          this.country = new Uint8Array(12);
          this.country.set(data.subarray(0, 12));
          return ok();
        }
        return ok(this.country);
      case 'event_msgs':
        if (set) {
          this.eventMask = new Uint8Array(EVENT_MASK_BITS / 8);
          this.eventMask.set(data.subarray(0, this.eventMask.length));
          return ok();
        }
        return ok(this.eventMask);
      case 'qtxpower':
        if (set) {
          this.qtxpower = readU32LE(data, 0) & 0xff;
          return ok();
        }
        return ok(u32LE(this.qtxpower));
      case 'gpioout': {
        if (!set) return ok(u32LE(this.gpio));
        const mask = readU32LE(data, 0);
        const value = readU32LE(data, 4);
        const prev = this.gpio;
        this.gpio = ((this.gpio & ~mask) | (value & mask)) >>> 0;
        if (this.gpio !== prev) this.host.gpioChanged(this.gpio, prev);
        return ok();
      }
      case 'ccgpioin':
        return ok(u32LE(this.gpio));
      case 'clmload': {
        if (!set) return ok();
        const flag = readU16LE(data, 0);
        if (flag & DL_BEGIN) this.clmState = 'loading';
        else if (this.clmState !== 'loading') this.clmState = 'error';
        if (flag & DL_END && this.clmState === 'loading') this.clmState = 'ok';
        return ok();
      }
      case 'clmload_status':
        return ok(u32LE(this.clmState === 'error' || this.clmState === 'loading' ? 1 : 0));
      case 'clmver':
        return ok(te.encode('API: 12.2 Data: picow-sim virtual CLM\0'));
      case 'ver':
        return ok(te.encode('wl0: picow-sim virtual CYW43439 firmware\0'));
      case 'mcast_list':
        if (set) return ok();
        return ok(u32LE(0));
      case 'escan':
        if (!set) return ok();
        this.startScan(data);
        return ok();
      case 'join': {
        if (!set) return ok();
        const len = Math.min(readU32LE(data, 0), 32);
        const ssid = td.decode(data.subarray(4, 4 + len));
        let bssid: Uint8Array | null = data.length >= 62 ? data.slice(56, 62) : null;
        if (bssid && (bssid.every((b) => b === 0) || bssid.every((b) => b === 0xff))) bssid = null;
        this.startJoin(ssid, bssid);
        return ok();
      }
      case 'bss': {
        const idx = readU32LE(data, 0);
        if (!set) return ok(u32LE(idx === 1 && this.ap.up ? 1 : 0));
        const upReq = readU32LE(data, 4) !== 0;
        if (idx !== 1) return ok();
        return this.setApUp(upReq);
      }
      default:
        this.stats.unknown++;
        // A name that is no name is the driver repeating a GET on its overwritten buffer: no warning.
        if (/^[\x21-\x7e]+$/.test(name)) {
          this.logger.warnOnce('cyw43', `iovar-${name}`, `unsupported iovar '${name}' (${set ? 'set' : 'get'}): answered BCME_UNSUPPORTED`);
        } else this.logger.trace('cyw43', `iovar with a garbled name (${set ? 'set' : 'get'}): answered BCME_UNSUPPORTED`);
        return { status: BCME_UNSUPPORTED, payload: new Uint8Array(0) };
    }
  }

  // ---- station -------------------------------------------------------------------------------

  private hostSecurity(): ApSecurity {
    if (this.wpaAuth & WPA3_AUTH_SAE_PSK || this.authMode === AUTH_TYPE_SAE) return 'wpa3-sae';
    if (this.wpaAuth & (WPA2_AUTH_PSK | WPA_AUTH_PSK)) return 'wpa2-psk';
    return 'open';
  }

  private candidates(ssid: string, bssid: Uint8Array | null): AccessPoint[] {
    if (!this.radio.link) return [];
    return this.radio
      .list()
      .filter((ap) => ap.ssid === ssid && (!bssid || macEq(ap.bssid, bssid)) && !(ap.ownerMac && macEq(ap.ownerMac, this.mac)));
  }

  private startJoin(ssid: string, bssid: Uint8Array | null): void {
    this.stats.joins++;
    this.cancel(this.joinTimers);
    if (this.assoc) this.dropAssociation(REASON_LINK_DISASSOC, false);
    this.wanted = { ssid, bssid };
    const sec = this.hostSecurity();
    this.logger.trace('cyw43', `join '${ssid}' (${sec})`);
    const found = this.candidates(ssid, bssid);
    if (found.length === 0) {
      this.later(this.joinTimers, TIMING.noNetwork, () => {
        this.wanted = null;
        this.event({ type: EV_SET_SSID, status: STATUS_NO_NETWORKS });
      });
      return;
    }
    const ap = found.reduce((a, b) => (b.rssi > a.rssi ? b : a));
    if (ap.security !== sec) {
      this.later(this.joinTimers, TIMING.auth, () => {
        this.wanted = null;
        this.event({ type: EV_PRUNE, status: 0, reason: REASON_PRUNE_ENCR_MISMATCH, addr: ap.bssid });
        this.event({ type: EV_SET_SSID, status: STATUS_NO_NETWORKS });
      });
      return;
    }
    this.associate(ap);
  }

  /** Authenticate, associate, then (for WPA) the 4-way handshake: right or wrong password. */
  private associate(ap: AccessPoint): void {
    const authType = ap.security === 'wpa3-sae' ? AUTH_TYPE_SAE : 0;
    const keyOk =
      ap.security === 'open' ||
      (ap.security === 'wpa2-psk' && this.passphrase === ap.password) ||
      (ap.security === 'wpa3-sae' && this.saePassword === ap.password);
    let t = TIMING.auth;
    if (ap.security === 'wpa3-sae' && !keyOk) {
      // SAE proves the password during authentication: a wrong one fails there.
      this.later(this.joinTimers, t, () => {
        this.wanted = null;
        // (no SET_SSID failure after it: the driver would turn the bad-auth state into a plain failure)
        this.event({ type: EV_AUTH, status: STATUS_FAIL, addr: ap.bssid, authType });
      });
      return;
    }
    this.later(this.joinTimers, t, () => this.event({ type: EV_AUTH, status: STATUS_SUCCESS, addr: ap.bssid, authType }));
    t += TIMING.assoc;
    this.later(this.joinTimers, t, () => {
      if (ap.bss && !ap.bss.join(this.bssStation)) {
        // The board's AP went down meanwhile: nothing answers the association request.
        this.cancel(this.joinTimers);
        this.event({ type: EV_SET_SSID, status: STATUS_NO_NETWORKS });
        return;
      }
      this.assoc = { ap, up: false };
      this.event({ type: EV_ASSOC, status: STATUS_SUCCESS, addr: ap.bssid });
    });
    t += TIMING.link;
    this.later(this.joinTimers, t, () => {
      this.event({ type: EV_LINK, status: STATUS_SUCCESS, flags: EVENT_FLAG_LINK, addr: ap.bssid });
      this.event({ type: EV_SET_SSID, status: STATUS_SUCCESS, addr: ap.bssid });
      if (ap.security === 'open') this.setStationUp(ap);
    });
    if (ap.security === 'open') return;
    t += TIMING.keyed;
    this.later(this.joinTimers, t, () => {
      if (keyOk) {
        this.event({ type: EV_PSK_SUP, status: SUP_KEYED, reason: 0, addr: ap.bssid });
        this.setStationUp(ap);
        return;
      }
      // Wrong passphrase: the AP never sends message 3 and deauthenticates the station.
      this.wanted = null;
      this.event({ type: EV_PSK_SUP, status: SUP_KEYXCHANGE_WAIT_M3, reason: REASON_SUP_DEAUTH, addr: ap.bssid });
      this.event({ type: EV_DEAUTH_IND, status: STATUS_SUCCESS, reason: REASON_DEAUTH, addr: ap.bssid });
      this.dropAssociation(REASON_DEAUTH, false, 'by-ap');
    });
  }

  private setStationUp(ap: AccessPoint): void {
    if (!this.assoc || this.assoc.ap !== ap) this.assoc = { ap, up: false };
    this.assoc.up = true;
    // With a board's AP the frames go through its BSS: the station's LAN port stays down.
    if (!ap.bss) this.host.linkChanged(0, true);
  }

  /**
   * End the association, telling the host the link went down. With a board's AP, that AP sees
   * the station leave (`by-station`: a disassociation indication) or removes it (`by-ap`).
   */
  private dropAssociation(reason: number, hostInitiated: boolean, apSide: 'by-station' | 'by-ap' = 'by-station'): void {
    const a = this.assoc;
    if (!a) return;
    this.assoc = null;
    a.ap.bss?.leave(this.mac, apSide === 'by-station');
    if (a.up && !a.ap.bss) this.host.linkChanged(0, false);
    this.event({ type: EV_LINK, status: STATUS_SUCCESS, flags: 0, reason, addr: a.ap.bssid });
    if (hostInitiated) this.event({ type: EV_DISASSOC, status: STATUS_SUCCESS, reason: 0, addr: a.ap.bssid });
  }

  /** Host asked to disassociate (or interface down). */
  private leave(hostInitiated: boolean): void {
    this.cancel(this.joinTimers);
    this.wanted = null;
    this.dropAssociation(REASON_LINK_DISASSOC, hostInitiated);
  }

  private onRadio(e: RadioEvent): void {
    if (e.type === 'ap-removed' || (e.type === 'link' && !e.up)) {
      const a = this.assoc;
      const lost = a && (e.type === 'link' || (e.type === 'ap-removed' && e.ap === a.ap));
      if (lost) {
        this.logger.trace('cyw43', `link to '${a.ap.ssid}' lost (${e.type === 'link' ? 'link fault' : 'AP removed'})`);
        this.cancel(this.joinTimers);
        this.dropAssociation(REASON_LINK_BCN_LOSS, false);
      }
      return;
    }
    // An AP appeared or the link came back: the firmware rejoins the network it was asked to keep.
    if (!this.assoc && this.wanted && this.joinTimers.length === 0 && this.up) {
      const found = this.candidates(this.wanted.ssid, this.wanted.bssid);
      const ap = found[0];
      if (ap && ap.security === this.hostSecurity()) {
        this.logger.trace('cyw43', `rejoining '${ap.ssid}'`);
        this.associate(ap);
      }
    }
  }

  /** The board AP ended our association (it went down, or a new association replaced this one). */
  private onBssDropped(): void {
    if (!this.assoc?.ap.bss) return;
    this.logger.trace('cyw43', `association with board AP '${this.assoc.ap.ssid}' ended by the AP`);
    this.cancel(this.joinTimers);
    this.dropAssociation(REASON_LINK_BCN_LOSS, false, 'by-ap');
  }

  // ---- scan ----------------------------------------------------------------------------------

  private startScan(params: Uint8Array): void {
    this.stats.scans++;
    this.cancel(this.scanTimers);
    const syncId = readU16LE(params, 6);
    const ssidLen = Math.min(readU32LE(params, 8), 32);
    const ssid = ssidLen ? td.decode(params.subarray(12, 12 + ssidLen)) : null;
    const aps = this.radio.link
      ? this.radio.list().filter((ap) => (!ssid || ap.ssid === ssid) && !(ap.ownerMac && macEq(ap.ownerMac, this.mac)))
      : [];
    let t = 0;
    for (const ap of aps) {
      t += TIMING.scanPerAp;
      this.later(this.scanTimers, t, () =>
        this.event({ type: EV_ESCAN_RESULT, status: STATUS_PARTIAL, data: encodeEscanResult(syncId, ap), addr: ap.bssid }),
      );
    }
    this.later(this.scanTimers, t + TIMING.scanDone, () =>
      this.event({ type: EV_ESCAN_RESULT, status: STATUS_SUCCESS, data: encodeEscanResult(syncId, null) }),
    );
  }

  // ---- AP mode -------------------------------------------------------------------------------

  private setApUp(upReq: boolean): ControlReply {
    if (!upReq) {
      this.ap.published?.bss?.close();
      if (this.ap.published) this.radio.removeAp(this.ap.published.ssid);
      this.ap.published = null;
      if (this.ap.up) {
        this.ap.up = false;
        this.host.linkChanged(1, false);
        this.event({ type: EV_LINK, status: STATUS_SUCCESS, flags: 0, iface: 1 });
      }
      return { status: BCME_OK, payload: new Uint8Array(0) };
    }
    if (this.ap.up) return { status: BCME_OK, payload: new Uint8Array(0) };
    // cyw43_ll_wifi_ap_init always sets bsscfg:wsec (no cipher: open) and sets wpa_auth only for
    // a secured AP, so a wpa_auth left from an earlier secured configuration does not count.
    const ciphers = this.ap.wsec & WSEC_CIPHERS;
    const security: ApSecurity = !ciphers
      ? 'open'
      : this.ap.wpaAuth & WPA3_AUTH_SAE_PSK
        ? 'wpa3-sae'
        : this.ap.wpaAuth & (WPA_AUTH_PSK | WPA2_AUTH_PSK)
          ? 'wpa2-psk'
          : 'open';
    let ap: AccessPoint;
    try {
      ap = makeAccessPoint({
        ssid: this.ap.ssid || 'PICO',
        security,
        password: security === 'wpa3-sae' ? this.ap.saePassword || this.ap.passphrase : security === 'open' ? '' : this.ap.passphrase,
        channel: this.ap.channel >= 1 && this.ap.channel <= 14 ? this.ap.channel : 6,
        rssi: -30,
        bssid: this.mac,
      });
    } catch (e) {
      this.logger.warn('cyw43', `AP mode refused: ${(e as Error).message}`);
      return { status: BCME_BADARG, payload: new Uint8Array(0) };
    }
    ap.ownerMac = new Uint8Array(this.mac);
    ap.bss = this.makeBss(ap);
    this.ap.up = true;
    this.ap.published = ap;
    this.radio.addAp(ap);
    this.host.schedule(TIMING.apUp, () => {
      if (!this.ap.up) return;
      this.event({ type: EV_LINK, status: STATUS_SUCCESS, flags: EVENT_FLAG_LINK, iface: 1, addr: this.mac });
      this.host.linkChanged(1, true);
    });
    this.logger.trace('cyw43', `AP '${ap.ssid}' (${security}) up on channel ${ap.channel}`);
    return { status: BCME_OK, payload: new Uint8Array(0) };
  }

  /** The BSS of our AP: station frames to the host's AP interface, joins and leaves as AP events. */
  private makeBss(ap: AccessPoint): BoardBss {
    const stationEvent = (type: number, mac: Uint8Array, reason = 0): void => {
      if (this.ap.published === ap) this.event({ type, status: STATUS_SUCCESS, reason, addr: mac, iface: 1 });
    };
    return new BoardBss({
      deliver: (frame) => {
        if (this.ap.up && this.ap.published === ap) this.host.deliverFromAir(1, frame);
      },
      stationJoined: (mac) => {
        this.logger.trace('cyw43', `AP '${ap.ssid}': station ${hexMac(mac)} associated`);
        stationEvent(EV_AUTH_IND, mac);
        stationEvent(EV_ASSOC_IND, mac);
      },
      stationLeft: (mac, byStation) => {
        this.logger.trace('cyw43', `AP '${ap.ssid}': station ${hexMac(mac)} ${byStation ? 'disassociated' : 'removed'}`);
        if (byStation) stationEvent(EV_DISASSOC_IND, mac, REASON_STA_LEAVING);
        else stationEvent(EV_DEAUTH, mac, REASON_DEAUTH);
      },
    });
  }
}
