/**
 * The basic service set of an access point a board's chip runs (AP mode): the stations
 * associated with it and the frames between them and the AP's host interface. As the WLAN
 * firmware does, the chip itself forwards between its stations (intra-BSS bridging) and hands
 * the host only what is addressed to it (its MAC, broadcast, multicast). Nothing here touches the
 * virtual LAN: a station's frames reach the LAN only if the AP board's firmware routes them.
 */
import { isGroupMac, macKey } from '../net/wire/ethernet.ts';

/** A station's side of an association, as its own chip provides it. */
export interface BssStation {
  readonly mac: Uint8Array;
  /** A frame from the AP for this station's host (its station interface). */
  deliver(frame: Uint8Array): void;
  /** The AP ended the association (AP down, or it deauthenticated the station). */
  dropped(): void;
}

/** The AP side: its host interface and the events the AP chip raises. */
export interface BssHost {
  /** A frame for the AP board's host, on its AP interface. */
  deliver(frame: Uint8Array): void;
  stationJoined(mac: Uint8Array): void;
  /** `byStation`: the station left (disassociation indication); else the AP removed it. */
  stationLeft(mac: Uint8Array, byStation: boolean): void;
}

export class BoardBss {
  private readonly stations = new Map<number, BssStation>();
  private closed = false;
  readonly stats = { fromStations: 0, toStations: 0, toHost: 0, bridged: 0 };

  constructor(private readonly host: BssHost) {}

  /** MACs of the associated stations, in association order (WLC_GET_ASSOCLIST). */
  get stationMacs(): Uint8Array[] {
    return [...this.stations.values()].map((s) => s.mac);
  }

  has(mac: Uint8Array): boolean {
    return this.stations.has(macKey(mac));
  }

  /** A station completed association (a station that was associated re-associates). */
  join(sta: BssStation): boolean {
    if (this.closed) return false;
    const k = macKey(sta.mac);
    const old = this.stations.get(k);
    this.stations.set(k, sta);
    if (old && old !== sta) old.dropped();
    this.host.stationJoined(sta.mac);
    return true;
  }

  /** The station disassociated (or, `byStation` false, the AP removed it: deauthentication). */
  leave(mac: Uint8Array, byStation: boolean): void {
    const k = macKey(mac);
    const sta = this.stations.get(k);
    if (!sta) return;
    this.stations.delete(k);
    this.host.stationLeft(mac, byStation);
    if (!byStation) sta.dropped();
  }

  /** A frame a station sent over the air to this AP. */
  fromStation(src: Uint8Array, frame: Uint8Array): void {
    const from = this.stations.get(macKey(src));
    if (!from || frame.length < 14) return;
    this.stats.fromStations++;
    const dst = frame.subarray(0, 6);
    if (isGroupMac(dst)) {
      this.toStations(frame, from);
      this.stats.toHost++;
      this.host.deliver(frame);
      return;
    }
    const to = this.stations.get(macKey(dst));
    if (to) {
      if (to !== from) {
        this.stats.bridged++;
        this.stats.toStations++;
        to.deliver(frame);
      }
      return;
    }
    this.stats.toHost++;
    this.host.deliver(frame);
  }

  /** A frame the AP board's host sent on its AP interface. */
  fromHost(frame: Uint8Array): void {
    if (frame.length < 14) return;
    const dst = frame.subarray(0, 6);
    if (isGroupMac(dst)) {
      this.toStations(frame, null);
      return;
    }
    const to = this.stations.get(macKey(dst));
    if (!to) return; // no such station: the frame is lost on the air
    this.stats.toStations++;
    to.deliver(frame);
  }

  /** The AP goes down: every station loses its association. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.stations.values()];
    this.stations.clear();
    for (const s of all) s.dropped();
  }

  private toStations(frame: Uint8Array, except: BssStation | null): void {
    for (const s of [...this.stations.values()]) {
      if (s === except) continue;
      this.stats.toStations++;
      s.deliver(frame);
    }
  }
}
