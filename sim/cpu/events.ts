/**
 * SEV (Thumb encoding 0xBF40) signals an event to every processor of the system (ARMv6-M
 * Architecture Reference Manual, SEV and "Wait For Event and Send Event": it sets the event
 * register of each core; a core asleep in WFE wakes). rp2040js executes it
 * as a NOP (it only logs it), so the engines report it: the chip that has more than one core
 * (`board/multicore.ts`) gives each core a hook with `onSendEvent`, and every path that executes
 * SEV calls it after the instruction —
 *
 *  - the table interpreter (`table-interp.ts`) hands SEV to rp2040js through `interpretInstruction`;
 *  - the translator leaves SEV to the interpreter (`translatable` declines it: the block ends
 *    before it), so translated code never executes it;
 *  - wherever rp2040js's own `executeInstruction()` runs (the `interp` engine, `check` mode,
 *    interrupt entry, the GDB stub's stepping), `interpretInstruction` below runs it instead.
 */
import type { RP2040 } from 'rp2040js';
import { FLASH_BASE, SRAM_BASE } from '../board/memory-map.ts';

type CortexM0Core = RP2040['core'];

/** SEV, Thumb encoding T1. */
export const SEV_OPCODE = 0xbf40;

/** The event a core's SEV sends (to its own event register and the other cores'). */
export type SendEvent = () => void;

const hooks = new WeakMap<CortexM0Core, SendEvent>();

/** Have `core`'s SEV instructions call `send` (one hook per core; a later call replaces it). */
export function onSendEvent(core: CortexM0Core, send: SendEvent): void {
  hooks.set(core, send);
}

/** The hook `core`'s SEV calls, or null (a single core: SEV has no one to wake). */
export function sendEventHook(core: CortexM0Core): SendEvent | null {
  return hooks.get(core) ?? null;
}

interface InterruptCheck {
  interruptsUpdated: boolean;
  waiting: boolean;
  checkForInterrupts(): boolean;
}

/**
 * rp2040js's `core.executeInstruction()` with SEV reported to `sev` (null: exactly rp2040js's).
 * The pending-interrupt check that `executeInstruction()` starts with is done here first, so the
 * instruction looked at is the one that runs (a handler's first one when an interrupt is taken).
 * Returns what `executeInstruction()` returns.
 */
export function interpretInstruction(core: CortexM0Core, sev: SendEvent | null): number {
  if (sev === null) return core.executeInstruction();
  if ((core as unknown as InterruptCheck).interruptsUpdated) return interpretAfterCheck(core, sev);
  const pc = core.registers[15]! & ~1;
  const rp = core.rp2040;
  // The opcode straight from SRAM or flash (the hot case; only its high byte, 0xBF, for most), else through the bus.
  const s = rp.sram;
  let o = pc - SRAM_BASE;
  let isSev: boolean;
  if (o >= 0 && o + 1 < s.length) isSev = s[o + 1] === SEV_HIGH && s[o] === SEV_LOW;
  else {
    const f = rp.flash;
    o = pc - FLASH_BASE;
    if (o >= 0 && o + 1 < f.length) isSev = f[o + 1] === SEV_HIGH && f[o] === SEV_LOW;
    else isSev = core.readUint16(pc) === SEV_OPCODE;
  }
  const cycles = core.executeInstruction();
  if (isSev) sev();
  return cycles;
}

const SEV_HIGH = SEV_OPCODE >>> 8;
const SEV_LOW = SEV_OPCODE & 0xff;

/** `interpretInstruction` when an interrupt may be pending. */
function interpretAfterCheck(core: CortexM0Core, sev: SendEvent): number {
  const taken = takeInterrupt(core, sev);
  return taken >= 0 ? taken : interpretInstruction(core, sev);
}

/**
 * The start of `executeInstruction()` when `interruptsUpdated` is set: check for a pending
 * interrupt. When none is taken (the flag is then clear), return -1: the instruction at PC is
 * still to be executed, by a block or an interpreter. When one is taken, finish that same
 * `executeInstruction()` call exactly: the handler's first instruction runs on rp2040js's
 * interpreter without a second check (the flag stays set for the next instruction, as it
 * would); returns what that returns.
 */
export function takeInterrupt(core: CortexM0Core, sev: SendEvent | null): number {
  const c = core as unknown as InterruptCheck;
  if (!c.checkForInterrupts()) return -1;
  c.waiting = false;
  c.interruptsUpdated = false;
  const cycles = interpretInstruction(core, sev);
  c.interruptsUpdated = true;
  return cycles;
}
