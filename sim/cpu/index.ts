/**
 * The CPU engines: rp2040js's interpreter, the Thumb→JavaScript translator, and the check mode
 * that runs both in lockstep. See engine.ts for the contract with the board's run loop.
 */
export {
  CPU_ENGINE_KINDS,
  DEFAULT_WARMUP_CYCLES,
  createCpuEngine,
  formatCpuStats,
  noteDefaultHooks,
  parseCpuEngineKind,
  type CpuEngine,
  type CpuEngineKind,
  type CpuEngineOptions,
  type CpuEngineStats,
} from './engine.ts';
export { invalidateTranslations } from './cache.ts';
export { SEV_OPCODE, interpretInstruction, onSendEvent, sendEventHook, type SendEvent } from './events.ts';
export { CpuDivergenceError } from './check.ts';
