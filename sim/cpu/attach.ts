/**
 * Bridge for boards whose run loop executes a core with a private
 * `runCore(core, budget): number` quantum (`while (core.cycles < end && !core.waiting && …)
 * core.executeInstruction()`): replace it with a CPU engine per core and chip. Once the board
 * calls `createCpuEngine(kind, view, { core, tickClock: false, keepRunning })` itself, this is
 * no longer needed.
 */
import type { RP2040 } from 'rp2040js';
import { createCpuEngine, type CpuEngine, type CpuEngineKind, type CpuEngineOptions } from './engine.ts';

type Core = RP2040['core'];

interface QuantumBoard {
  runCore(core: Core, budget: number): number;
  running: boolean;
  pendingReset: unknown;
}

export interface AttachedEngines {
  /** Engines created so far (one per core per chip; a chip reset makes new ones). */
  readonly engines: CpuEngine[];
}

export function attachCpuEngine(
  board: object,
  kind: CpuEngineKind,
  opts: Omit<CpuEngineOptions, 'core' | 'tickClock' | 'keepRunning'> = {},
): AttachedEngines {
  const b = board as QuantumBoard;
  if (typeof b.runCore !== 'function') throw new Error('attachCpuEngine: this board has no runCore quantum to replace');
  const byCore = new WeakMap<Core, CpuEngine>();
  const engines: CpuEngine[] = [];
  const keepRunning = (): boolean => b.running && !b.pendingReset;
  b.runCore = (core: Core, budget: number): number => {
    let e = byCore.get(core);
    if (!e) {
      e = createCpuEngine(kind, core.rp2040, { ...opts, core, tickClock: false, keepRunning });
      byCore.set(core, e);
      engines.push(e);
    }
    return e.run(budget);
  };
  return { engines };
}
