/**
 * Asynchronous events the chip sends on SDPCM channel 1: a BDC header, an Ethernet header with
 * type 0x886c, a Broadcom header (OUI 00:10:18), then the event message with big-endian fields
 * (cyw43_ll.c: sdpcm_process_rx_packet / cyw43_ll_parse_async_event; cyw43_ll.h event codes), then
 * the event data (little endian, as the chip stores it).
 */
import { encodeBdc } from './bdc.ts';
import type { AccessPoint } from './radio.ts';

// Event types (cyw43_ll.h)
export const EV_SET_SSID = 0;
export const EV_JOIN = 1;
export const EV_AUTH = 3;
/** A station authenticated with our AP (wlioctl.h WLC_E_AUTH_IND). */
export const EV_AUTH_IND = 4;
export const EV_DEAUTH = 5;
export const EV_DEAUTH_IND = 6;
export const EV_ASSOC = 7;
/** A station associated with our AP (WLC_E_ASSOC_IND). */
export const EV_ASSOC_IND = 8;
export const EV_DISASSOC = 11;
export const EV_DISASSOC_IND = 12;
export const EV_LINK = 16;
export const EV_PRUNE = 23;
export const EV_PSK_SUP = 46;
export const EV_ESCAN_RESULT = 69;

// Event status values (cyw43_ll.h)
export const STATUS_SUCCESS = 0;
export const STATUS_FAIL = 1;
export const STATUS_NO_NETWORKS = 3;
export const STATUS_PARTIAL = 8;
// Supplicant states carried as PSK_SUP status
export const SUP_KEYED = 6;
export const SUP_KEYXCHANGE_WAIT_M3 = 8;
// Reasons
export const REASON_SUP_DEAUTH = 14;
export const REASON_DEAUTH = 2;
export const REASON_PRUNE_ENCR_MISMATCH = 1;
/** Link event reason: beacons lost (wlioctl.h WLC_E_LINK_BCN_LOSS). */
export const REASON_LINK_BCN_LOSS = 1;
/** Link event reason: disassociated (WLC_E_LINK_DISASSOC). */
export const REASON_LINK_DISASSOC = 2;
/** Event flag: link up (WLC_EVENT_MSG_LINK). */
export const EVENT_FLAG_LINK = 0x01;

/** Ethernet type of Broadcom event frames. */
export const ETHERTYPE_BRCM = 0x886c;
/** Broadcom OUI in the event header. */
export const BRCM_OUI = [0x00, 0x10, 0x18] as const;
/** Broadcom header subtype and user subtype for events (bcmevent.h). */
const BCMILCP_SUBTYPE_VENDOR_LONG = 0x8001;
const BCMILCP_BCM_SUBTYPE_EVENT = 1;
export const EVENT_MSG_LEN = 48;
const ETH_HEADER_LEN = 14;
const BCM_HEADER_LEN = 10;
/** wl_bss_info_t version reported by 43439 firmware (WL_BSS_INFO_VERSION). */
const WL_BSS_INFO_VERSION = 109;
const BSS_INFO_FIXED_LEN = 128;

export interface ChipEvent {
  type: number;
  status?: number;
  reason?: number;
  flags?: number;
  authType?: number;
  addr?: Uint8Array;
  iface?: number;
  data?: Uint8Array;
}

/** The channel-1 payload (BDC header included) for one event. */
export function encodeEvent(ev: ChipEvent, chipMac: Uint8Array): Uint8Array {
  const data = ev.data ?? new Uint8Array(0);
  const body = new Uint8Array(ETH_HEADER_LEN + BCM_HEADER_LEN + EVENT_MSG_LEN + data.length);
  const dv = new DataView(body.buffer);
  body.set(chipMac.subarray(0, 6), 0); // destination: the host's interface
  body.set(chipMac.subarray(0, 6), 6);
  dv.setUint16(12, ETHERTYPE_BRCM, false);
  dv.setUint16(14, BCMILCP_SUBTYPE_VENDOR_LONG, false);
  dv.setUint16(16, BCM_HEADER_LEN - 4 + EVENT_MSG_LEN + data.length, false);
  body[18] = 0; // version
  body.set(BRCM_OUI, 19);
  dv.setUint16(22, BCMILCP_BCM_SUBTYPE_EVENT, false);
  const m = ETH_HEADER_LEN + BCM_HEADER_LEN;
  dv.setUint16(m + 0, 2, false); // event message version
  dv.setUint16(m + 2, ev.flags ?? 0, false);
  dv.setUint32(m + 4, ev.type >>> 0, false);
  dv.setUint32(m + 8, (ev.status ?? 0) >>> 0, false);
  dv.setUint32(m + 12, (ev.reason ?? 0) >>> 0, false);
  dv.setUint32(m + 16, (ev.authType ?? 0) >>> 0, false);
  dv.setUint32(m + 20, data.length, false);
  if (ev.addr) body.set(ev.addr.subarray(0, 6), m + 24);
  const ifname = ev.iface === 1 ? 'wl0.1' : 'wl0';
  for (let i = 0; i < ifname.length; i++) body[m + 30 + i] = ifname.charCodeAt(i);
  body[m + 46] = ev.iface ?? 0;
  body[m + 47] = ev.iface ?? 0;
  body.set(data, m + EVENT_MSG_LEN);
  return encodeBdc(ev.iface ?? 0, body);
}

/** Decoded event (for tests and tracing). */
export interface DecodedEvent {
  type: number;
  flags: number;
  status: number;
  reason: number;
  authType: number;
  addr: Uint8Array;
  iface: number;
  data: Uint8Array;
}

/** Decode an event from its Ethernet frame (what follows the BDC header). */
export function decodeEvent(frame: Uint8Array): DecodedEvent | null {
  if (frame.length < ETH_HEADER_LEN + BCM_HEADER_LEN + EVENT_MSG_LEN) return null;
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (dv.getUint16(12, false) !== ETHERTYPE_BRCM) return null;
  if (frame[19] !== BRCM_OUI[0] || frame[20] !== BRCM_OUI[1] || frame[21] !== BRCM_OUI[2]) return null;
  const m = ETH_HEADER_LEN + BCM_HEADER_LEN;
  const datalen = dv.getUint32(m + 20, false);
  return {
    flags: dv.getUint16(m + 2, false),
    type: dv.getUint32(m + 4, false),
    status: dv.getUint32(m + 8, false),
    reason: dv.getUint32(m + 12, false),
    authType: dv.getUint32(m + 16, false),
    addr: frame.slice(m + 24, m + 30),
    iface: frame[m + 46]!,
    data: frame.slice(m + EVENT_MSG_LEN, m + EVENT_MSG_LEN + datalen),
  };
}

// 802.11 capability bits and IEs
const DOT11_CAP_ESS = 0x0001;
const DOT11_CAP_PRIVACY = 0x0010;
const DOT11_CAP_SHORT_SLOT = 0x0400;
const IE_SSID = 0;
const IE_RATES = 1;
const IE_DS_PARAMS = 3;
const IE_RSN = 48;
/** RSN suites, OUI 00-0F-AC: cipher 4 = CCMP, AKM 2 = PSK, AKM 8 = SAE. */
const RSN_OUI = [0x00, 0x0f, 0xac];
const WL_CHANSPEC_BW_20 = 0x1000;
const WL_CHANSPEC_BAND_2G = 0x0000;

function rsnIe(security: AccessPoint['security']): number[] {
  const akm = security === 'wpa3-sae' ? 8 : 2;
  const caps = security === 'wpa3-sae' ? 0x00c0 : 0x000c; // MFP required+capable for SAE
  return [
    IE_RSN, 20,
    1, 0, // version
    ...RSN_OUI, 4, // group cipher CCMP
    1, 0, ...RSN_OUI, 4, // pairwise CCMP
    1, 0, ...RSN_OUI, akm, // AKM
    caps & 0xff, caps >> 8,
  ];
}

/** The information elements a beacon of this AP would carry. */
export function apInformationElements(ap: AccessPoint): Uint8Array {
  const ssid = new TextEncoder().encode(ap.ssid);
  const ies: number[] = [IE_SSID, ssid.length, ...ssid];
  ies.push(IE_RATES, 8, 0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24);
  ies.push(IE_DS_PARAMS, 1, ap.channel);
  if (ap.security !== 'open') ies.push(...rsnIe(ap.security));
  return new Uint8Array(ies);
}

/** wl_bss_info_t (little endian, natural alignment) plus IEs, as the chip reports a BSS. */
export function encodeBssInfo(ap: AccessPoint): Uint8Array {
  const ies = apInformationElements(ap);
  const out = new Uint8Array(BSS_INFO_FIXED_LEN + ies.length);
  const dv = new DataView(out.buffer);
  const ssid = new TextEncoder().encode(ap.ssid).subarray(0, 32);
  dv.setUint32(0, WL_BSS_INFO_VERSION, true);
  dv.setUint32(4, out.length, true);
  out.set(ap.bssid.subarray(0, 6), 8);
  dv.setUint16(14, 100, true); // beacon period (TU)
  let cap = DOT11_CAP_ESS | DOT11_CAP_SHORT_SLOT;
  if (ap.security !== 'open') cap |= DOT11_CAP_PRIVACY;
  dv.setUint16(16, cap, true);
  out[18] = ssid.length;
  out.set(ssid, 19);
  const rates = [0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24];
  dv.setUint32(52, rates.length, true);
  out.set(rates, 56);
  dv.setUint16(72, ap.channel | WL_CHANSPEC_BW_20 | WL_CHANSPEC_BAND_2G, true);
  out[76] = 1; // DTIM period
  dv.setInt16(78, ap.rssi, true);
  dv.setInt8(80, -92); // phy noise
  out[81] = 1; // 802.11n capable
  out[88] = ap.channel; // control channel
  dv.setUint16(116, BSS_INFO_FIXED_LEN, true); // ie_offset
  dv.setUint32(120, ies.length, true);
  dv.setInt16(124, ap.rssi + 92, true); // SNR
  out.set(ies, BSS_INFO_FIXED_LEN);
  return out;
}

/** wl_escan_result_t with one BSS: buflen, version, sync_id, bss_count, then the bss info. */
export function encodeEscanResult(syncId: number, ap: AccessPoint | null): Uint8Array {
  const bss = ap ? encodeBssInfo(ap) : new Uint8Array(0);
  const out = new Uint8Array(12 + bss.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, out.length, true);
  dv.setUint32(4, WL_BSS_INFO_VERSION, true);
  dv.setUint16(8, syncId, true);
  dv.setUint16(10, ap ? 1 : 0, true);
  out.set(bss, 12);
  return out;
}

/** Security as the cyw43 driver derives it from a scan result (bit 0 privacy, bit 1 WPA IE, bit 2 RSN IE). */
export function driverAuthMode(security: AccessPoint['security']): number {
  return security === 'open' ? 0 : 1 | 4;
}
