/**
 * The seam between a board's Wi-Fi chip and the virtual network: raw Ethernet II frames
 * (destination MAC first, no FCS). The CYW43 data plane owns one port per interface; the
 * network's switch attaches to it.
 */
export interface EthernetPort {
  /** The station MAC the port sends from. */
  readonly mac: Uint8Array;
  /** Frames leaving the board, as the chip would put them on the air. */
  onTransmit: ((frame: Uint8Array) => void) | null;
  /** Deliver a frame to the board (the chip queues it for the host driver). */
  deliver(frame: Uint8Array): void;
  /** Whether the radio link is up (associated); frames are dropped while it is down. */
  readonly linkUp: boolean;
  /** Called when the link goes up or down. */
  onLinkChange: ((up: boolean) => void) | null;
}
