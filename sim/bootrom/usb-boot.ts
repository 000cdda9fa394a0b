/**
 * reset_to_usb_boot ('UB', RP2040-BOOTROM §11) never returns: the HLE reports a BOOTSEL board event
 * with both masks and leaves the core asleep in the ROM's WFI loop. The handler lives in
 * hle-bootrom.ts; this module describes the event for the board and the CLI.
 */
export interface BootselEvent {
  /** 0, or one bit: the GPIO the ROM would drive during mass-storage activity. */
  gpioActivityMask: number;
  /** Bit 0: mass-storage interface disabled; bit 1: PICOBOOT interface disabled. */
  disableInterfaceMask: number;
}

/** One line for the CLI. */
export function describeBootsel(e: BootselEvent): string {
  const parts: string[] = [];
  if (e.gpioActivityMask) parts.push(`activity LED on GPIO${31 - Math.clz32(e.gpioActivityMask)}`);
  if (e.disableInterfaceMask & 1) parts.push('mass storage disabled');
  if (e.disableInterfaceMask & 2) parts.push('PICOBOOT disabled');
  return `the board asked for BOOTSEL (USB boot) mode${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
