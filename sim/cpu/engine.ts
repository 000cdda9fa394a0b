/**
 * CPU engines for the board's run loop: `interp` (rp2040js's interpreter, one instruction at a
 * time, exactly like `Simulator.execute()`), `jit` (hot Thumb blocks translated to JavaScript;
 * in the board's quantum loop the rest runs on the table interpreter, `table-interp.ts`, which
 * has exactly rp2040js's effect and hands it whatever it does not run itself),
 * `check` (the interpreter is authoritative and every translated block is first run on the side
 * and compared; the first divergence stops the run with a report).
 *
 * ## Contract with the board
 *
 * `run(maxCycles)` executes instructions of `core` and returns the cycles executed. It returns
 * early when the core starts waiting (WFI/WFE: the board's clock policy then fast-forwards the
 * clock), after `stop()`, or when `keepRunning()` says so. It never fast-forwards time itself,
 * and returns 0 at once if the core is already waiting.
 *
 * Two clock contracts (option `tickClock`):
 *  - `tickClock: true` (default) — `run` ticks the clock by `cycles × cycleNanos` as it goes:
 *    after each instruction in `interp` mode, exactly as rp2040js's `Simulator.execute()`;
 *    after each block in `jit` mode (see below why that is the same).
 *  - `tickClock: false` — the board's quantum loop: the caller ticks the clock by the returned
 *    cycles after `run`, and `run` stops at the first instruction boundary where
 *    `core.cycles - start >= maxCycles`, exactly like `while (core.cycles < end) core.executeInstruction()`.
 *    The clock does not move inside `run`, so only that boundary constrains blocks.
 *
 * ## Why translated blocks keep simulated time identical
 *
 * The interpreter path ticks the clock after every instruction; an alarm due at or before the
 * new time fires right there, and its interrupt (if any) is taken at the start of the next
 * instruction. A translated block runs several instructions and ticks once, with their summed
 * cycles, at its end. That is the same thing exactly when nothing can happen between two of its
 * instructions, which the engine guarantees:
 *  - no clock alarm falls due before the block's last instruction starts: a block is entered
 *    only if `cyclesBeforeLast < ceil((nextAlarm.nanos - now) / cycleNanos)` (and a block that
 *    loops to itself re-checks this before each pass);
 *  - the slice boundary (`maxCycles`) is respected the same way, so `run` stops at the very
 *    instruction the interpreter would stop at, and the board interleaves identically;
 *  - peripherals are never touched inside a block: any access that is not plain SRAM/flash/ROM
 *    ends the block before it; the engine ticks the clock up to there and the interpreter does
 *    the access at the same simulated time as in `interp` mode. (With `tickClock: false` the
 *    clock stands still during `run`, so blocks make such accesses themselves, with the core's
 *    registers, PC and cycles as the interpreter would have them, and go on only if the engine
 *    would: no interrupt to check, core not waiting, run not stopped, budget left.);
 *  - instructions that can make an interrupt pending or change the core's mode (CPSIE,
 *    MSR PRIMASK, SVC, exception return, WFI/WFE, BKPT...) end the block or are left to the
 *    interpreter. While `interruptsUpdated` is set, the engine first does what
 *    `executeInstruction()` does first (`checkForInterrupts()`); when an interrupt is taken the
 *    handler's first instruction runs on the interpreter within that same step, otherwise the
 *    next instruction may be a block. So interrupts are taken at exactly the instruction
 *    boundary where the interpreter takes them.
 * This holds when `cycleNanos` is an integer (8 ns at 125 MHz): the sums are then exact.
 *
 * Every engine reports SEV to the core's send-event hook (`events.ts`): rp2040js runs it as a NOP.
 */
import type { RP2040 } from 'rp2040js';
type CortexM0Core = RP2040['core'];
import { Logger, silentLogger } from '../log.ts';
import { UsageError } from '../errors.ts';
import { CHECK_HOT_THRESHOLD, DEFAULT_CACHE_OPTIONS, SUCC_SIZE, TranslationCache, sharedCodeState, type Block, type CacheOptions } from './cache.ts';
import { anyKept } from './block-library.ts';
import { BlockChecker } from './check.ts';
import { interpretInstruction, sendEventHook, takeInterrupt } from './events.ts';
import { LeaderAction, StretchEnd, TableInterpreter } from './table-interp.ts';

export type CpuEngineKind = 'interp' | 'jit' | 'check';
export const CPU_ENGINE_KINDS: readonly CpuEngineKind[] = ['interp', 'jit', 'check'];

export interface CpuEngineOptions extends Partial<Omit<CacheOptions, 'journal' | 'inlineIO'>> {
  logger?: Logger;
  /** Nanoseconds per CPU cycle (default 8: 125 MHz, as rp2040js's Simulator). A function is read at each run(). */
  cycleNanos?: number | (() => number);
  /** The core to run (default `mcu.core`; core 1 gets its own engine on its own chip view). */
  core?: CortexM0Core;
  /**
   * Who advances the clock. `true` (default): `run` ticks it after every instruction (interp) or
   * block (jit), exactly like rp2040js's `Simulator.execute()`. `false`: the caller ticks it
   * after `run` returns (the board's quantum loop); the budget is then measured on
   * `core.cycles`, like the board's own loop `while (core.cycles < end && ...)`.
   */
  tickClock?: boolean;
  /** Checked after every interpreted instruction: `false` ends `run` (board halted, reset pending). */
  keepRunning?: () => boolean;
  /**
   * `jit` with `tickClock: false`: the first this many cycles are only interpreted — no block is
   * counted or translated (default 0; the board uses DEFAULT_WARMUP_CYCLES).
   */
  warmupCycles?: number;
}

/**
 * Boot code runs once: the reference firmware's boot to `>>>` took 12 M cycles, no loop in it
 * ran more than about 11 000 times, and what the translator did there (counting every block
 * entry, translating five loops that V8 then compiled) made the boot slower than with `interp`.
 * The same holds for what usually follows it — imports, the Wi-Fi driver's bring-up (about 5 M
 * cycles for `WLAN.active(True)`, mostly code that runs a few hundred times): translated, it took
 * a quarter longer than on the table interpreter. The board's `jit` engine therefore starts
 * counting after 32 M cycles (256 ms of a 125 MHz core); a CPU-bound loop then waits at most
 * that long, interpreted, before it is translated.
 */
export const DEFAULT_WARMUP_CYCLES = 32_000_000;

/** The blTaken hook each core had when it was made: rp2040js's no-op (see `noteDefaultHooks`). */
const defaultBlTaken = new WeakMap<CortexM0Core, CortexM0Core['blTaken']>();

/**
 * Note a freshly made core's hooks as rp2040js's defaults, before anything sets its own: while a
 * core keeps its default blTaken, translated code skips calling it. A core never noted has every
 * hook called (correct, slower).
 */
export function noteDefaultHooks(core: CortexM0Core): void {
  if (!defaultBlTaken.has(core)) defaultBlTaken.set(core, core.blTaken);
}

export interface CpuEngineStats {
  kind: CpuEngineKind;
  cycles: number;
  /** Instructions run by translated code / by the interpreter. */
  translatedInstructions: number;
  interpretedInstructions: number;
  blockRuns: number;
  blocks: number;
  /** Estimated memory of the translation cache and its cap, in bytes. */
  cacheBytes: number;
  cacheCapBytes: number;
  translations: number;
  /** Blocks taken from translations this process made for other chips (block-library.ts). */
  recalled: number;
  invalidations: number;
  evictions: number;
  /** Check mode: blocks compared against the interpreter. */
  checkedBlocks: number;
}

export interface CpuEngine {
  readonly kind: CpuEngineKind;
  /** Run up to `maxCycles` cycles (see the module comment); returns the cycles executed. */
  run(maxCycles: number): number;
  /** Make the current `run` return after the instruction in progress. */
  stop(): void;
  /** Memory [addr, addr+len) changed behind rp2040js's write methods. */
  invalidate(addr: number, len: number): void;
  stats(): CpuEngineStats;
}

interface AlarmClock {
  readonly nanos: number;
  tick(deltaNanos: number): void;
  nextAlarm: { nanos: number } | null;
}

function simulationClock(mcu: RP2040): AlarmClock | null {
  const c = mcu.clock as unknown as Partial<AlarmClock>;
  if (typeof c.tick === 'function' && 'nextAlarm' in c) return c as AlarmClock;
  return null;
}

export function createCpuEngine(kind: CpuEngineKind, mcu: RP2040, opts: CpuEngineOptions = {}): CpuEngine {
  if (!CPU_ENGINE_KINDS.includes(kind)) {
    throw new UsageError(`unknown CPU engine '${String(kind)}' (expected ${CPU_ENGINE_KINDS.join(', ')})`);
  }
  const logger = opts.logger ?? silentLogger();
  const clock = simulationClock(mcu);
  if (!clock) throw new UsageError('the CPU engines need rp2040js SimulationClock (tick + alarms) as the chip clock');
  if (kind === 'interp') return new InterpEngine(mcu, clock, opts);
  return new TranslatingEngine(kind, mcu, clock, opts, logger);
}

abstract class EngineBase {
  protected readonly core: CortexM0Core;
  protected stopped = false;
  protected cycles = 0;
  protected interpreted = 0;
  private readonly cn: number | (() => number);

  constructor(
    protected readonly mcu: RP2040,
    protected readonly clock: AlarmClock,
    opts: CpuEngineOptions,
  ) {
    this.core = (opts.core ?? mcu.core) as CortexM0Core;
    this.cn = opts.cycleNanos ?? 1e9 / 125e6;
  }
  protected cycleNanos(): number {
    return typeof this.cn === 'function' ? this.cn() : this.cn;
  }
  stop(): void {
    this.stopped = true;
  }

  /** rp2040js's interpreter for up to `maxCycles` cycles, the clock ticked by the caller. */
  protected interpretUntimed(maxCycles: number, keep: (() => boolean) | null): number {
    const core = this.core;
    this.stopped = false;
    const start = core.cycles;
    const end = start + maxCycles;
    let n = 0;
    const sev = sendEventHook(core);
    while (core.cycles < end && !core.waiting && !this.stopped && (!keep || keep())) {
      interpretInstruction(core, sev);
      n++;
    }
    this.interpreted += n;
    this.cycles += core.cycles - start;
    return core.cycles - start;
  }
}

class InterpEngine extends EngineBase implements CpuEngine {
  readonly kind = 'interp' as const;
  private readonly tickClock: boolean;
  private readonly keepRunning: (() => boolean) | null;

  constructor(mcu: RP2040, clock: AlarmClock, opts: CpuEngineOptions) {
    super(mcu, clock, opts);
    this.tickClock = opts.tickClock ?? true;
    this.keepRunning = opts.keepRunning ?? null;
  }

  run(maxCycles: number): number {
    // The board's own loop, verbatim in behaviour.
    if (!this.tickClock) return this.interpretUntimed(maxCycles, this.keepRunning);
    const { core, clock } = this;
    const keep = this.keepRunning;
    const cn = this.cycleNanos();
    this.stopped = false;
    let executed = 0;
    let n = 0;
    const sev = sendEventHook(core);
    while (executed < maxCycles && !core.waiting && !this.stopped && (!keep || keep())) {
      const c = interpretInstruction(core, sev);
      executed += c;
      n++;
      clock.tick(c * cn);
    }
    this.cycles += executed;
    this.interpreted += n;
    return executed;
  }

  invalidate(): void {}

  stats(): CpuEngineStats {
    return {
      kind: 'interp',
      cycles: this.cycles,
      translatedInstructions: 0,
      interpretedInstructions: this.interpreted,
      blockRuns: 0,
      blocks: 0,
      cacheBytes: 0,
      cacheCapBytes: 0,
      translations: 0,
      recalled: 0,
      invalidations: 0,
      evictions: 0,
      checkedBlocks: 0,
    };
  }
}

class TranslatingEngine extends EngineBase implements CpuEngine {
  private readonly tickClock: boolean;
  private readonly keepRunning: (() => boolean) | null;
  private readonly cache: TranslationCache;
  private readonly checker: BlockChecker | null;
  private translated = 0;
  private blockRuns = 0;
  /** Set by interpretStretch: the run must end (the core waits, stop(), keepRunning). */
  private stretchHalted = false;
  private readonly warmupCycles: number;
  /** `jit`: the interpreter for untranslated code (check mode keeps rp2040js's, its oracle). */
  private readonly table: TableInterpreter | null;
  private readonly halted: () => boolean;
  /**
   * Asked by the table interpreter at each block leader it reaches: what the dispatcher would do
   * there (count the entry, translate a block that turned hot), without leaving the
   * interpreter unless a block is there to run or an interrupt is to be checked.
   */
  private readonly atLeader: (pc: number, cycles: number) => LeaderAction;

  constructor(
    readonly kind: 'jit' | 'check',
    mcu: RP2040,
    clock: AlarmClock,
    opts: CpuEngineOptions,
    private readonly logger: Logger,
  ) {
    super(mcu, clock, opts);
    this.tickClock = opts.tickClock ?? true;
    this.keepRunning = opts.keepRunning ?? null;
    this.warmupCycles = kind === 'check' ? 0 : (opts.warmupCycles ?? 0);
    const shared = sharedCodeState(mcu);
    const cacheOpts: CacheOptions = {
      hotThreshold: opts.hotThreshold ?? (kind === 'check' ? CHECK_HOT_THRESHOLD : DEFAULT_CACHE_OPTIONS.hotThreshold),
      hotWindowCycles: opts.hotWindowCycles ?? DEFAULT_CACHE_OPTIONS.hotWindowCycles,
      maxTranslationsPerWindow: kind === 'check' ? 0 : (opts.maxTranslationsPerWindow ?? DEFAULT_CACHE_OPTIONS.maxTranslationsPerWindow),
      maxBlockInstructions: opts.maxBlockInstructions ?? DEFAULT_CACHE_OPTIONS.maxBlockInstructions,
      maxBlocks: opts.maxBlocks ?? DEFAULT_CACHE_OPTIONS.maxBlocks,
      maxBytes: opts.maxBytes ?? DEFAULT_CACHE_OPTIONS.maxBytes,
      journal: kind === 'check',
      // With the clock standing still during run(), peripheral accesses can stay in translated code.
      inlineIO: kind === 'jit' && !(opts.tickClock ?? true),
    };
    this.cache = new TranslationCache(mcu, cacheOpts, shared);
    // While the core's blTaken hook is rp2040js's own no-op (noted when the core was made),
    // translated BL/BLX skip the call (and the register write-back before it); any other hook is
    // called exactly as the interpreter does.
    this.cache.env.bl0 = this.core.blTaken === defaultBlTaken.get(this.core) ? this.core.blTaken : null;
    shared.caches.add(this.cache);
    const keep = this.keepRunning;
    this.cache.env.halt = () => this.stopped || (keep !== null && !keep());
    this.checker = kind === 'check' ? new BlockChecker(mcu, this.core, clock, shared, this.cache, logger) : null;
    this.table = kind === 'jit' ? new TableInterpreter(this.cache.env, shared.branches) : null;
    this.halted = () => this.core.waiting || this.stopped || (keep !== null && !keep());
    this.atLeader = (pc: number, cycles: number): LeaderAction => {
      if (this.core.interruptsUpdated) return LeaderAction.Stop;
      const cache = this.cache;
      if (cache.enter(pc, cycles) !== undefined) return LeaderAction.Stop;
      return cache.lastDeclined ? LeaderAction.Declined : LeaderAction.GoOn;
    };
    logger.debug('cpu', `engine ${kind}: hot threshold ${cacheOpts.hotThreshold}, blocks ≤ ${cacheOpts.maxBlockInstructions} instructions, cache cap ${cacheOpts.maxBlocks} blocks / ${cacheOpts.maxBytes >> 20} MiB`);
  }

  run(maxCycles: number): number {
    if (this.tickClock) return this.runTicking(maxCycles);
    if (this.cycles < this.warmupCycles) {
      // Translations this process keeps from other chips cost no compile: taken during the
      // warm-up too (nothing new is translated until it ends).
      if (!anyKept()) return this.warmUp(Math.min(maxCycles, this.warmupCycles - this.cycles));
      this.cache.recallOnly = true;
      const n = this.runUntimed(Math.min(maxCycles, this.warmupCycles - this.cycles));
      this.cache.recallOnly = false;
      return n;
    }
    return this.runUntimed(maxCycles);
  }

  /** The warm-up: interpretation only, nothing counted or translated. */
  private warmUp(maxCycles: number): number {
    const table = this.table;
    if (table === null) return this.interpretUntimed(maxCycles, this.keepRunning);
    const core = this.core;
    this.stopped = false;
    if (core.waiting || (this.keepRunning !== null && !this.keepRunning())) return 0;
    this.cache.checkArrays();
    const start = core.cycles;
    table.run(core, start + maxCycles, false, false, this.halted);
    this.interpreted += table.count;
    this.cycles += core.cycles - start;
    return core.cycles - start;
  }

  /** Clock ticked by the caller: the budget is on core.cycles, the clock stands still. */
  private runUntimed(maxCycles: number): number {
    const { core, cache } = this;
    const r = core.registers;
    const env = cache.env;
    const checker = this.checker;
    const keep = this.keepRunning;
    cache.checkArrays();
    this.stopped = false;
    const start = core.cycles;
    const end = start + maxCycles;
    let interpreted = 0;
    let translated = 0;
    let runs = 0;
    let prev: Block | null = null;
    // Cycles are kept in a local while translated code runs (it never reads core.cycles) and
    // written back before the interpreter or the checker runs.
    let cyc = start;
    if (keep && !keep()) return 0;
    if (core.waiting) return 0;
    // `waiting` and `stopped` only change inside interpreted instructions (WFI/WFE, BKPT
    // handlers, peripheral side effects) or in a block that then leaves with `env.io` set, so
    // they are checked after those.
    outer: while (cyc < end) {
      let forceLeader = false;
      if (core.interruptsUpdated) {
        // What executeInstruction() does first, done here so that a block can run the
        // instruction when no interrupt is taken (the usual case after CPSIE/MSR PRIMASK).
        core.cycles = cyc;
        if (takeInterrupt(core, sendEventHook(core)) >= 0) {
          cyc = core.cycles;
          interpreted++;
          if (core.waiting || this.stopped || (keep && !keep())) break;
          continue;
        }
      }
      {
        const pc = r[15];
        let blk: Block | undefined;
        if (prev !== null) {
          // Remember where each block goes on the block itself (no hash lookup next time).
          const slot = (pc >>> 1) & (SUCC_SIZE - 1);
          const s: Block | null = prev.succ[slot] ?? null;
          if (s !== null && s.pc === pc && s.valid) blk = s;
          else {
            blk = cache.enter(pc, cyc); // (after a block, pc is a leader)
            if (blk !== undefined) prev.succ[slot] = blk;
          }
          prev = null;
        } else blk = cache.enter(pc, cyc);
        // An instruction the translator leaves to the interpreter (SVC, MSR, WFE...): the
        // code after it starts a block of its own.
        if (blk === undefined && cache.lastDeclined) forceLeader = true;
        if (blk !== undefined) {
          const budget = end - cyc;
          if (blk.cbl < budget) {
            if (checker) {
              core.cycles = cyc;
              const c = checker.runBlock(blk, budget, 0, budget, 0, false);
              cyc = core.cycles;
              if (c > 0) {
                translated += checker.lastInstructions;
                runs++;
                continue;
              }
            } else {
              core.cycles = cyc;
              const c = blk.fn(core, budget, env);
              if (c !== 0) {
                translated += env.n;
                runs++;
                prev = blk;
                if (env.io !== 0) {
                  // The block ended with a peripheral access (inlineIO): it may have added
                  // cycles itself (SIO divider), stopped the core or the board.
                  env.io = 0;
                  cyc = core.cycles + c;
                  if (core.waiting || this.stopped || (keep && !keep())) break;
                  continue;
                }
                cyc += c;
                // Chain: while the successor is known from this block's successor cache and
                // may run (budget, no interrupt to check), call it straight away.
                let b: Block = blk;
                while (cyc < end && !core.interruptsUpdated) {
                  const npc = r[15];
                  const s = b.succ[(npc >>> 1) & (SUCC_SIZE - 1)];
                  if (s === null || s.pc !== npc || !s.valid) break;
                  const left = end - cyc;
                  if (s.cbl >= left) break;
                  core.cycles = cyc;
                  const c2 = s.fn(core, left, env);
                  if (c2 === 0) break;
                  translated += env.n;
                  runs++;
                  prev = b = s;
                  if (env.io !== 0) {
                    env.io = 0;
                    cyc = core.cycles + c2;
                    if (core.waiting || this.stopped || (keep && !keep())) break outer;
                    continue;
                  }
                  cyc += c2;
                }
                continue;
              }
            }
            forceLeader = true;
          }
        }
      }
      // Interpret up to the next block leader that has a block to run (a branch, an exception
      // entry, or the instruction after one the translator declined): blocks are only looked up
      // and counted at leaders.
      core.cycles = cyc;
      interpreted += this.interpretStretch(core, r, end, forceLeader, keep);
      cyc = core.cycles;
      if (this.stretchHalted) break;
    }
    core.cycles = cyc;
    this.interpreted += interpreted;
    this.translated += translated;
    this.blockRuns += runs;
    const used = cyc - start;
    this.cycles += used;
    return used;
  }

  /**
   * Interpret from the current PC up to the next block leader (a taken branch, an exception
   * entry, or — with `forceLeader` — the very next instruction) or until `end` cycles; returns
   * the instructions executed. The table interpreter goes on past leaders where `atLeader` finds
   * nothing to run (it counts the entry there, as the dispatcher would). A small function of its
   * own, so that V8 optimizes it early and keeps it optimized whatever happens to the
   * dispatcher around it.
   */
  private interpretStretch(core: CortexM0Core, r: Uint32Array, end: number, forceLeader: boolean, keep: (() => boolean) | null): number {
    const table = this.table;
    if (table !== null) {
      this.stretchHalted = table.run(core, end, true, forceLeader, this.halted, this.atLeader) === StretchEnd.Halted;
      return table.count;
    }
    let n = 0;
    const sev = sendEventHook(core);
    for (;;) {
      const pc0 = r[15];
      interpretInstruction(core, sev);
      n++;
      if (core.waiting || this.stopped || (keep !== null && !keep())) {
        this.stretchHalted = true;
        return n;
      }
      const d = r[15] - pc0;
      if (forceLeader || (d !== 2 && d !== 4) || core.cycles >= end) {
        this.stretchHalted = false;
        return n;
      }
    }
  }

  private runTicking(maxCycles: number): number {
    const { core, clock, cache } = this;
    const cn = this.cycleNanos();
    const keep = this.keepRunning;
    const r = core.registers;
    const env = cache.env;
    const checker = this.checker;
    cache.checkArrays();
    this.stopped = false;
    let executed = 0;
    let leader = true;
    let interpreted = 0;
    const sev = sendEventHook(core);
    while (executed < maxCycles && !core.waiting && !this.stopped) {
      let forceLeader = false;
      if (core.interruptsUpdated) {
        const c0 = core.cycles;
        if (takeInterrupt(core, sev) >= 0) {
          const c = core.cycles - c0;
          executed += c;
          interpreted++;
          clock.tick(c * cn);
          leader = true;
          if (keep && !keep()) break;
          continue;
        }
      }
      {
        const pc = r[15];
        const blk: Block | undefined = leader ? cache.enter(pc, core.cycles) : cache.lookup(pc);
        // An instruction the translator leaves to the interpreter (SVC, MSR, WFE...): the
        // code after it starts a block of its own.
        if (blk === undefined && leader && cache.lastDeclined) forceLeader = true;
        if (blk !== undefined) {
          let budget = maxCycles - executed;
          const na = clock.nextAlarm;
          if (na !== null) {
            const ab = Math.ceil((na.nanos - clock.nanos) / cn);
            if (ab < budget) budget = ab;
          }
          if (blk.cbl < budget) {
            if (checker) {
              const c = checker.runBlock(blk, budget, executed, maxCycles, cn, true);
              if (c > 0) {
                executed += c;
                this.translated += checker.lastInstructions;
                this.blockRuns++;
                leader = true;
                continue;
              }
            } else {
              const c = blk.fn(core, budget, env);
              if (c !== 0) {
                core.cycles += c;
                executed += c;
                clock.tick(c * cn);
                this.translated += env.n;
                this.blockRuns++;
                leader = true;
                continue;
              }
            }
            forceLeader = true;
          }
        }
      }
      const pc0 = r[15];
      const c = interpretInstruction(core, sev);
      executed += c;
      interpreted++;
      clock.tick(c * cn);
      const d = r[15] - pc0;
      leader = forceLeader || (d !== 2 && d !== 4);
      if (keep && !keep()) break;
    }
    this.interpreted += interpreted;
    this.cycles += executed;
    return executed;
  }

  invalidate(addr: number, len: number): void {
    sharedCodeState(this.mcu).invalidate(addr, len);
  }

  stats(): CpuEngineStats {
    const c = this.cache;
    return {
      kind: this.kind,
      cycles: this.cycles,
      translatedInstructions: this.translated,
      interpretedInstructions: this.interpreted,
      blockRuns: this.blockRuns,
      blocks: c.blocks.size,
      cacheBytes: c.bytes,
      cacheCapBytes: c.opts.maxBytes,
      translations: c.counters.translations,
      recalled: c.counters.recalled,
      invalidations: c.counters.invalidations,
      evictions: c.counters.evictions,
      checkedBlocks: this.checker?.checked ?? 0,
    };
  }
}

/** One line summarising engine statistics (for `--trace cpu` and the benchmark). */
export function formatCpuStats(s: CpuEngineStats): string {
  const total = s.translatedInstructions + s.interpretedInstructions;
  const pct = total ? ((100 * s.translatedInstructions) / total).toFixed(1) : '0.0';
  return (
    `cpu ${s.kind}: ${s.cycles} cycles, ${total} instructions (${pct}% translated), ` +
    `${s.blocks} blocks in cache ≈ ${(s.cacheBytes / 1024).toFixed(0)} KiB (cap ${(s.cacheCapBytes / 1048576).toFixed(0)} MiB), ` +
    `${s.translations} translations, ${s.recalled} recalled, ${s.invalidations} invalidations, ${s.evictions} evictions` +
    (s.kind === 'check' ? `, ${s.checkedBlocks} blocks checked` : '')
  );
}

/** Parse a `--cpu` value (CLI and test API). */
export function parseCpuEngineKind(value: string): CpuEngineKind {
  if ((CPU_ENGINE_KINDS as readonly string[]).includes(value)) return value as CpuEngineKind;
  throw new UsageError(`--cpu must be one of ${CPU_ENGINE_KINDS.join(', ')} (got '${value}')`);
}
