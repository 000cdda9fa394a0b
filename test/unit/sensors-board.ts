/**
 * A bare rp2040js RP2040 with a board context around it, for sensor tests that exercise the real
 * peripheral models (ADC registers, GPIO pads) without firmware.
 */
import { Simulator, type RP2040 } from 'rp2040js';
import type { BoardContext, BoardEvent } from '../../sim/board/device.ts';
import { silentLogger } from '../../sim/log.ts';
import { NO_HOST_IO, type SimClock } from '../../sim/time.ts';

export interface BareBoard {
  mcu: RP2040;
  clock: Simulator['clock'];
  ctx: BoardContext;
  events: BoardEvent[];
  /** Advance simulated time by `nanos`, firing alarms. */
  advance(nanos: number): void;
}

export function bareBoard(): BareBoard {
  const sim = new Simulator();
  const clock = sim.clock;
  const mcu = sim.rp2040;
  const simClock: SimClock = {
    get nanos() {
      return clock.nanos;
    },
    schedule(delay, cb) {
      const alarm = clock.createAlarm(cb);
      alarm.schedule(delay);
      return { cancel: () => alarm.cancel() };
    },
  };
  const events: BoardEvent[] = [];
  const ctx: BoardContext = {
    mcu,
    clock: simClock,
    hostIo: NO_HOST_IO,
    logger: silentLogger(),
    emit: (e) => void events.push(e),
  };
  return { mcu, clock, ctx, events, advance: (n) => clock.tick(n) };
}
