/**
 * The virtual radio: the access points a simulated board can see, link faults, and the APs that
 * boards themselves start (AP mode). One radio can be shared by several boards.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { UsageError } from '../errors.ts';
import type { BoardBss } from './bss.ts';

export type ApSecurity = 'open' | 'wpa2-psk' | 'wpa3-sae';

export interface AccessPoint {
  ssid: string;
  bssid: Uint8Array;
  security: ApSecurity;
  /** Empty for open networks. */
  password: string;
  channel: number;
  /** dBm, e.g. -45. */
  rssi: number;
  /** Set for an AP started by a board in AP mode. */
  ownerMac?: Uint8Array;
  /** For an AP a board runs: its stations and their frames go through that board's chip. */
  bss?: BoardBss;
}

export interface ApConfig {
  ssid: string;
  password?: string;
  security?: ApSecurity;
  channel?: number;
  rssi?: number;
  bssid?: Uint8Array | string;
}

/** WPA2 passphrases are 8..63 characters (IEEE 802.11i). */
const WPA_MIN_PASSPHRASE = 8;
const WPA_MAX_PASSPHRASE = 63;
const SSID_MAX = 32;

export const DEFAULT_APS: readonly ApConfig[] = [
  { ssid: 'PicoW-Sim', password: 'picowsim', security: 'wpa2-psk', channel: 6, rssi: -42 },
  { ssid: 'Wokwi-GUEST', security: 'open', channel: 6, rssi: -58 },
];

/** A stable, locally administered BSSID derived from the SSID. */
export function deriveBssid(ssid: string): Uint8Array {
  const h = createHash('sha256').update(`picow-sim bssid ${ssid}`).digest();
  const b = new Uint8Array(h.subarray(0, 6));
  b[0] = (b[0]! & 0xfc) | 0x02; // unicast, locally administered
  return b;
}

function parseBssid(v: Uint8Array | string): Uint8Array {
  if (typeof v !== 'string') {
    if (v.length !== 6) throw new UsageError(`BSSID must be 6 bytes, got ${v.length}`);
    return new Uint8Array(v);
  }
  const m = /^([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})$/i.exec(v);
  if (!m) throw new UsageError(`BSSID '${v}' is not six hex bytes`);
  return new Uint8Array(m.slice(1, 7).map((x) => parseInt(x, 16)));
}

export function makeAccessPoint(c: ApConfig): AccessPoint {
  const ssidBytes = new TextEncoder().encode(c.ssid);
  if (ssidBytes.length === 0 || ssidBytes.length > SSID_MAX) {
    throw new UsageError(`SSID '${c.ssid}' must be 1..${SSID_MAX} bytes`);
  }
  const password = c.password ?? '';
  const security: ApSecurity = c.security ?? (password ? 'wpa2-psk' : 'open');
  if (security === 'open' && password) throw new UsageError(`AP '${c.ssid}': an open network takes no password`);
  if (security === 'wpa2-psk' && (password.length < WPA_MIN_PASSPHRASE || password.length > WPA_MAX_PASSPHRASE)) {
    throw new UsageError(`AP '${c.ssid}': a WPA2 password must be ${WPA_MIN_PASSPHRASE}..${WPA_MAX_PASSPHRASE} characters`);
  }
  if (security === 'wpa3-sae' && !password) throw new UsageError(`AP '${c.ssid}': WPA3 needs a password`);
  const channel = c.channel ?? 6;
  if (!Number.isInteger(channel) || channel < 1 || channel > 14) throw new UsageError(`AP '${c.ssid}': channel must be 1..14`);
  const rssi = c.rssi ?? -50;
  if (!Number.isFinite(rssi) || rssi > 0 || rssi < -100) throw new UsageError(`AP '${c.ssid}': RSSI must be -100..0 dBm`);
  return {
    ssid: c.ssid,
    bssid: c.bssid ? parseBssid(c.bssid) : deriveBssid(c.ssid),
    security,
    password,
    channel,
    rssi: Math.round(rssi),
  };
}

function isAccessPoint(c: ApConfig | AccessPoint): c is AccessPoint {
  return c.bssid instanceof Uint8Array && typeof c.password === 'string' && typeof c.rssi === 'number' && typeof c.channel === 'number' && c.security !== undefined;
}

export type RadioEvent =
  | { type: 'ap-added'; ap: AccessPoint }
  | { type: 'ap-removed'; ap: AccessPoint }
  | { type: 'link'; up: boolean };

export interface VirtualRadioOptions {
  /** Start with the default APs (`PicoW-Sim`, `Wokwi-GUEST`); default true. */
  defaults?: boolean;
  /** APs to add or replace (same SSID replaces). */
  aps?: ApConfig[];
}

export class VirtualRadio extends EventEmitter {
  private readonly aps = new Map<string, AccessPoint>();
  private linkUp = true;

  constructor(opts: VirtualRadioOptions = {}) {
    super();
    if (opts.defaults ?? true) for (const c of DEFAULT_APS) this.addAp(c);
    for (const c of opts.aps ?? []) this.addAp(c);
  }

  /** Add an AP, or replace the one with the same SSID. */
  addAp(c: ApConfig | AccessPoint): AccessPoint {
    const ap = isAccessPoint(c) ? c : makeAccessPoint(c);
    const old = this.aps.get(ap.ssid);
    if (old) {
      this.aps.delete(ap.ssid);
      this.emit('radio', { type: 'ap-removed', ap: old } satisfies RadioEvent);
    }
    this.aps.set(ap.ssid, ap);
    this.emit('radio', { type: 'ap-added', ap } satisfies RadioEvent);
    return ap;
  }

  removeAp(ssid: string): boolean {
    const ap = this.aps.get(ssid);
    if (!ap) return false;
    this.aps.delete(ssid);
    this.emit('radio', { type: 'ap-removed', ap } satisfies RadioEvent);
    return true;
  }

  getAp(ssid: string): AccessPoint | undefined {
    return this.aps.get(ssid);
  }

  /** Every AP on the air (configured ones and those boards started). */
  list(): AccessPoint[] {
    return [...this.aps.values()];
  }

  /** Link fault: while down, no station keeps or gets an association. */
  setLink(up: boolean): void {
    if (this.linkUp === up) return;
    this.linkUp = up;
    this.emit('radio', { type: 'link', up } satisfies RadioEvent);
  }

  get link(): boolean {
    return this.linkUp;
  }

  onEvent(cb: (e: RadioEvent) => void): () => void {
    this.on('radio', cb);
    return () => this.off('radio', cb);
  }
}
