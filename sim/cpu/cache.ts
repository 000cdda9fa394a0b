/**
 * The translation cache of one chip: translated blocks by entry PC, hotness counters, the map
 * from memory to the blocks translated from it (for invalidation), a size cap with eviction.
 *
 * Invalidation sources:
 *  - translated stores into SRAM covered by code (the block calls `codeWrite`, then exits);
 *  - every store the interpreter, DMA or any other rp2040js caller makes through
 *    `mcu.writeUint8/16/32` (those methods are wrapped once per chip);
 *  - code that writes the memory arrays directly (the HLE bootrom's flash erase/program and
 *    memcpy, an XIP cache flush, UF2 loading after start) must call
 *    `invalidateTranslations(mcu, addr, len)` (or `engine.invalidate`).
 */
import type { RP2040 } from 'rp2040js';
import { FLASH_MASK, SIO_BASE } from '../board/memory-map.ts';
import { chipOf } from '../board/core1-view.ts';
import { BranchProfile } from './branch-profile.ts';
import { compile, recall } from './block-library.ts';
import {
  FLASH_BASE,
  ROM_SIZE,
  SRAM_BASE,
  translateBlock,
  type BlockCode,
  type BlockEnv,
  type BlockFn,
  type MemoryViews,
} from './translate.ts';

export interface Block {
  readonly pc: number;
  readonly fn: BlockFn;
  readonly code: BlockCode;
  /** Cycles of all instructions but the last (see engine.ts for why this bounds entry). */
  readonly cbl: number;
  /** Physical byte ranges (flash aliases folded onto 0x10000000). */
  readonly ranges: [number, number][];
  readonly bytes: number;
  valid: boolean;
  /**
   * Successor cache for the dispatcher, direct-mapped on the next PC: blocks ending in an
   * indirect jump (returns, computed gotos of an interpreter loop) have many successors.
   */
  readonly succ: (Block | null)[];
  /** Index in the cache's block list (see TranslationCache.lookup). */
  id: number;
}

/** Size of each block's successor cache (a power of two). */
export const SUCC_SIZE = 16;

export interface CacheOptions {
  /** Times a block entry must be reached (within one counting window) before it is translated. */
  hotThreshold: number;
  /** Counting window in core cycles (see DEFAULT_HOT_WINDOW_CYCLES); 0: counts never expire. */
  hotWindowCycles: number;
  /**
   * Translation budget: at most this many blocks are translated per TRANSLATION_WINDOW_CYCLES of
   * the core (0: no budget). A block that is hot while the budget is spent is translated in a
   * later window.
   */
  maxTranslationsPerWindow: number;
  maxBlockInstructions: number;
  /** Cap on blocks kept; the oldest quarter is evicted when it is exceeded. */
  maxBlocks: number;
  /** Cap on the estimated memory of the cache, in bytes. */
  maxBytes: number;
  journal: boolean;
  /** See TranslateOptions.inlineIO. */
  inlineIO: boolean;
}

/**
 * A translated block runs slower than the interpreter until V8 has optimized it, which takes
 * thousands of calls, and its compilation costs about half a millisecond: code reached only a few
 * thousand times (driver code during WLAN bring-up, most of boot) is better left interpreted.
 */
export const DEFAULT_HOT_THRESHOLD = 1024;
/**
 * Arrivals (within one counting window) after which an entry takes a translation the process
 * keeps from another chip (block-library.ts): it costs no compile, so code need only be seen to
 * run repeatedly.
 */
export const RECALL_ARRIVALS = 8;
/** Check mode translates sooner, so that more of the code run is compared. */
export const CHECK_HOT_THRESHOLD = 64;

/**
 * V8 optimizes each new block function on a background thread, some 10 ms of compiling for a
 * trace; until then it runs slower than the interpreter. Code that turns hot in bulk (the network
 * stack serving a request, the Wi-Fi driver's bring-up, a new script) would queue hundreds of
 * them at once and run unoptimized meanwhile: translations are spread out instead, 16 per 4 M
 * cycles (32 ms at 125 MHz), the hottest first (they reach the threshold first). A busy loop's
 * couple of hundred blocks are all translated within its first few hundred milliseconds.
 */
export const TRANSLATION_WINDOW_CYCLES = 4_000_000;
/**
 * Entries are counted per 32 M cycles (256 ms at 125 MHz) and start again from zero after that,
 * so a block is translated when it runs often *now* (a busy loop: thousands of entries per
 * window), not when code reached a few times per network request or per timer tick has added up
 * to the threshold over minutes (that code would not run often enough to repay its compiling;
 * over a simulated hour of the book's client it was most of the translations).
 */
export const DEFAULT_HOT_WINDOW_CYCLES = 32_000_000;
export const DEFAULT_TRANSLATIONS_PER_WINDOW = 16;

export const DEFAULT_CACHE_OPTIONS: CacheOptions = {
  hotThreshold: DEFAULT_HOT_THRESHOLD,
  hotWindowCycles: DEFAULT_HOT_WINDOW_CYCLES,
  maxTranslationsPerWindow: DEFAULT_TRANSLATIONS_PER_WINDOW,
  maxBlockInstructions: 64,
  maxBlocks: 32768,
  maxBytes: 64 * 1024 * 1024,
  journal: false,
  inlineIO: false,
};

/**
 * Rough per-block memory: V8 keeps the source (1 byte/char), its bytecode (about the same) and,
 * for hot blocks, optimized machine code; plus the block objects.
 */
function estimateBytes(code: BlockCode): number {
  return code.source.length * 3 + 1024;
}

const PAGE_SHIFT = 8;

function overlaps(b: Block, start: number, end: number): boolean {
  for (const [a, e] of b.ranges) if (a < end && e > start) return true;
  return false;
}

function physAddr(addr: number): number {
  addr = addr >>> 0;
  if (addr >>> 26 === 4) return (FLASH_BASE | (addr & FLASH_MASK)) >>> 0;
  return addr;
}

/**
 * Direct tables indexed by the entry PC's halfword, for code in the 2 MB flash window at
 * 0x10000000, in SRAM and in the ROM: a block lookup or a hotness count is an array access instead
 * of a hash lookup. Entry PCs elsewhere (flash aliases, XIP SRAM) use maps.
 */
const FLASH_SPAN = 2 * 1024 * 1024;
const FLASH_SLOTS = FLASH_SPAN >>> 1;
/** Slot values: 0 never seen, 1.. arrivals counted, DECLINED, or ≤ BLOCK_ID0 a block's id. */
const DECLINED = -1;
const BLOCK_ID0 = -2;

export interface CacheCounters {
  translations: number;
  invalidations: number;
  evictions: number;
  flushes: number;
  /** Blocks taken from the process's kept translations instead of translated (block-library.ts). */
  recalled: number;
}

export class TranslationCache {
  readonly blocks = new Map<number, Block>();
  private readonly hot = new Map<number, number>();
  private readonly sramSlots: number;
  private readonly slots: Int32Array;
  /** Set by enter(): the translator leaves the instruction at the PC entered to the interpreter. */
  lastDeclined = false;
  /** The counting window's start (core cycles) and the slots counted in it. */
  private countStart = 0;
  private readonly counted: number[] = [];
  /** The translation budget's current window (core cycles) and translations in it. */
  private windowStart = 0;
  private windowTranslations = 0;
  private readonly list: (Block | null)[] = [];
  private readonly freeIds: number[] = [];
  private readonly pages = new Map<number, Set<Block>>();
  bytes = 0;
  readonly counters: CacheCounters = { translations: 0, invalidations: 0, evictions: 0, flushes: 0, recalled: 0 };
  /** Only take kept translations (block-library.ts), translate nothing (the engine's warm-up). */
  recallOnly = false;
  /** The translator options, as block-library.ts tells translations made with other ones apart. */
  private readonly key: string;
  readonly env: BlockEnv;
  private sramRef: Uint8Array;
  private flashRef: Uint8Array;
  private romRef: Uint32Array;

  constructor(
    readonly mcu: RP2040,
    readonly opts: CacheOptions,
    private readonly shared: SharedCodeState,
  ) {
    this.key = `${opts.maxBlockInstructions}/${opts.journal}/${opts.inlineIO && !opts.journal}/${mcu.sram.length}`;
    this.sramRef = mcu.sram;
    this.flashRef = mcu.flash;
    this.romRef = mcu.bootrom;
    this.sramSlots = mcu.sram.length >>> 1;
    this.slots = new Int32Array(FLASH_SLOTS + this.sramSlots + (ROM_SIZE >>> 1));
    const views = shared.views;
    this.env = {
      ...views,
      ...IO_HELPERS,
      xc: 0,
      n: 0,
      io: 0,
      removals: 0,
      bl0: null,
      codeWrite: (addr: number, len: number) => shared.invalidate(addr, len),
      jw: () => undefined,
      halt: () => false,
    };
  }

  /** The chip's memory arrays were replaced (a new flash image...): drop everything. */
  checkArrays(): void {
    const m = this.mcu;
    if (m.sram !== this.sramRef || m.flash !== this.flashRef || m.bootrom !== this.romRef) {
      this.sramRef = m.sram;
      this.flashRef = m.flash;
      this.romRef = m.bootrom;
      this.shared.rebuildViews();
    }
  }

  /** The slot of an entry PC in the direct tables, or -1 (the maps hold it). */
  private slotOf(pc: number): number {
    if (pc & 1) return -1; // not an instruction address: the maps keep such PCs apart
    let o = (pc - FLASH_BASE) >>> 0;
    if (o < FLASH_SPAN) return o >>> 1;
    o = (pc - SRAM_BASE) >>> 0;
    if (o >>> 1 < this.sramSlots) return FLASH_SLOTS + (o >>> 1);
    if (pc >>> 0 < ROM_SIZE) return FLASH_SLOTS + this.sramSlots + ((pc >>> 0) >>> 1);
    return -1;
  }

  /** The valid block translated at entry `pc`, if any. */
  lookup(pc: number): Block | undefined {
    const i = this.slotOf(pc);
    if (i < 0) return this.blocks.get(pc);
    const v = this.slots[i]!;
    return v <= BLOCK_ID0 ? (this.list[BLOCK_ID0 - v] ?? undefined) : undefined;
  }

  /**
   * An arrival at a block entry (a leader) at core cycle `cycles`: the block there if there is
   * one, else count the arrival and translate when hot. `lastDeclined` then tells whether the
   * translator leaves the instruction at `pc` to the interpreter.
   */
  enter(pc: number, cycles: number): Block | undefined {
    this.lastDeclined = false;
    const i = this.slotOf(pc);
    if (i < 0) return this.enterMapped(pc, cycles);
    const v = this.slots[i]!;
    if (v < 0) {
      if (v <= BLOCK_ID0) return this.list[BLOCK_ID0 - v] ?? undefined;
      this.lastDeclined = true;
      return undefined;
    }
    const w = this.opts.hotWindowCycles;
    if (v > 0 && w > 0 && (cycles - this.countStart >= w || cycles < this.countStart)) {
      this.newCountWindow(cycles);
      return this.enter(pc, cycles);
    }
    if (v + 1 < this.opts.hotThreshold) {
      if (v === 0) this.counted.push(i);
      this.slots[i] = v + 1;
      if (v + 1 === RECALL_ARRIVALS) return this.recall(pc);
      return undefined;
    }
    // Hot: translated when the budget allows (the count stays at the threshold meanwhile).
    if (this.recallOnly || !this.mayTranslate(cycles)) return undefined;
    const b = this.translate(pc);
    if (b === undefined) this.lastDeclined = this.slots[i] === DECLINED;
    return b;
  }

  /** A new counting window: every entry count starts again from zero. */
  private newCountWindow(cycles: number): void {
    this.countStart = cycles;
    const slots = this.slots;
    for (const i of this.counted) if (slots[i]! > 0) slots[i] = 0;
    this.counted.length = 0;
    for (const [k, h] of this.hot) if (h > 0) this.hot.delete(k);
  }

  /** Whether the translation budget of the current window has room (and take one). */
  private mayTranslate(cycles: number): boolean {
    const max = this.opts.maxTranslationsPerWindow;
    if (max <= 0) return true;
    if (cycles - this.windowStart >= TRANSLATION_WINDOW_CYCLES || cycles < this.windowStart) {
      this.windowStart = cycles;
      this.windowTranslations = 0;
    }
    if (this.windowTranslations >= max) return false;
    this.windowTranslations++;
    return true;
  }

  private enterMapped(pc: number, cycles: number): Block | undefined {
    const blk = this.blocks.get(pc);
    if (blk !== undefined) return blk;
    const h = this.hot.get(pc);
    if (h === undefined) {
      this.hot.set(pc, 1);
      if (this.opts.hotThreshold > 1) return undefined;
    } else if (h < 0) {
      this.lastDeclined = h === DECLINED;
      return undefined;
    } else if (h + 1 < this.opts.hotThreshold) {
      this.hot.set(pc, h + 1);
      if (h + 1 === RECALL_ARRIVALS) return this.recall(pc);
      return undefined;
    }
    if (this.recallOnly || !this.mayTranslate(cycles)) return undefined;
    const b = this.translate(pc);
    if (b === undefined) this.lastDeclined = this.hot.get(pc) === DECLINED;
    return b;
  }

  /** Code at `pc` is a block or was entered at least half as often as a block's threshold. */
  private likely(pc: number): boolean {
    const i = this.slotOf(pc);
    const v = i < 0 ? (this.blocks.has(pc) ? BLOCK_ID0 : (this.hot.get(pc) ?? 0)) : this.slots[i]!;
    return v <= BLOCK_ID0 || 2 * v >= this.opts.hotThreshold;
  }

  /** Translate the block at `pc` now (null when its first instruction is left to the interpreter). */
  translate(pc: number): Block | undefined {
    const code = translateBlock(this.shared.views, pc, {
      maxInstructions: this.opts.maxBlockInstructions,
      journal: this.opts.journal,
      inlineIO: this.opts.inlineIO && !this.opts.journal,
      likely: (t) => this.likely(t),
      bias: (b) => this.shared.branches.bias(b),
    });
    const slot = this.slotOf(pc);
    if (!code) {
      if (slot < 0) this.hot.set(pc, DECLINED);
      else this.slots[slot] = DECLINED;
      return undefined;
    }
    this.counters.translations++;
    return this.install(code, compile(code, this.shared.views, this.key));
  }

  /**
   * The translation of `pc` this process keeps from another chip (or from this one before an
   * invalidation), if this chip's memory holds the bytes it was made from: installed without
   * translating or compiling (see block-library.ts).
   */
  private recall(pc: number): Block | undefined {
    const kept = recall(pc, this.shared.views, this.key);
    if (kept === undefined) return undefined;
    this.counters.recalled++;
    return this.install(kept.code, kept.fn);
  }

  private install(code: BlockCode, fn: BlockFn): Block {
    const pc = code.pc;
    const slot = this.slotOf(pc);
    if (slot < 0) this.hot.delete(pc);
    const block: Block = {
      pc: pc >>> 0,
      fn,
      code,
      cbl: code.cyclesBeforeLast,
      ranges: code.ranges.map(([a, b]): [number, number] => [physAddr(a), physAddr(a) + (b - a)]),
      bytes: estimateBytes(code),
      valid: true,
      succ: new Array<Block | null>(SUCC_SIZE).fill(null),
      id: -1,
    };
    if (this.blocks.size >= this.opts.maxBlocks || this.bytes + block.bytes > this.opts.maxBytes) this.evict();
    this.blocks.set(block.pc, block);
    block.id = this.freeIds.pop() ?? this.list.length;
    this.list[block.id] = block;
    if (slot >= 0) this.slots[slot] = BLOCK_ID0 - block.id;
    this.bytes += block.bytes;
    for (const [a, b] of block.ranges) {
      for (let p = a >>> PAGE_SHIFT; p <= (b - 1) >>> PAGE_SHIFT; p++) {
        let set = this.pages.get(p);
        if (!set) this.pages.set(p, (set = new Set()));
        set.add(block);
      }
      this.shared.cover(a, b, +1);
    }
    return block;
  }

  private remove(block: Block): void {
    if (!block.valid) return;
    block.valid = false;
    this.env.removals++;
    if (this.blocks.get(block.pc) === block) this.blocks.delete(block.pc);
    const slot = this.slotOf(block.pc);
    if (slot >= 0 && this.slots[slot] === BLOCK_ID0 - block.id) this.slots[slot] = 0;
    this.list[block.id] = null;
    this.freeIds.push(block.id);
    this.bytes -= block.bytes;
    for (const [a, b] of block.ranges) {
      for (let p = a >>> PAGE_SHIFT; p <= (b - 1) >>> PAGE_SHIFT; p++) {
        const set = this.pages.get(p);
        if (set) {
          set.delete(block);
          if (set.size === 0) this.pages.delete(p);
        }
      }
      this.shared.cover(a, b, -1);
    }
  }

  /** Evict the oldest quarter of the blocks (insertion order). */
  private evict(): void {
    const n = Math.max(1, this.blocks.size >> 2);
    let i = 0;
    for (const b of [...this.blocks.values()]) {
      if (i++ >= n) break;
      this.remove(b);
      this.counters.evictions++;
    }
  }

  /** Drop every block overlapping [addr, addr+len) (any alias). Returns how many. */
  invalidateRange(addr: number, len: number): number {
    if (len <= 0 || this.blocks.size === 0) return 0;
    const start = physAddr(addr);
    const end = start + len;
    let n = 0;
    if (len > 1 << 20) {
      for (const b of [...this.blocks.values()]) {
        if (overlaps(b, start, end)) {
          this.remove(b);
          n++;
        }
      }
    } else {
      for (let p = start >>> PAGE_SHIFT; p <= (end - 1) >>> PAGE_SHIFT; p++) {
        const set = this.pages.get(p);
        if (!set) continue;
        for (const b of [...set]) {
          if (b.valid && overlaps(b, start, end)) {
            this.remove(b);
            n++;
          }
        }
      }
    }
    if (n) {
      this.counters.invalidations += n;
      // Hotness restarts for code that changed.
      for (const pc of [...this.hot.keys()]) {
        const pa = physAddr(pc & ~1);
        if (pa >= start && pa < end) this.hot.delete(pc);
      }
      this.resetCounts(start, end);
    }
    return n;
  }

  /** Forget arrivals and declines at entries in the physical range [start, end). */
  private resetCounts(start: number, end: number): void {
    const regions: [number, number, number][] = [
      [FLASH_BASE, FLASH_SPAN, 0],
      [SRAM_BASE, this.sramSlots << 1, FLASH_SLOTS],
      [0, ROM_SIZE, FLASH_SLOTS + this.sramSlots],
    ];
    for (const [base, size, first] of regions) {
      const lo = Math.max(start, base);
      const hi = Math.min(end, base + size);
      if (lo >= hi) continue;
      for (let i = first + ((lo - base) >>> 1); i < first + ((hi - base + 1) >>> 1); i++) {
        if (this.slots[i]! > BLOCK_ID0) this.slots[i] = 0;
      }
    }
  }

  clear(): void {
    for (const b of [...this.blocks.values()]) this.remove(b);
    this.hot.clear();
    this.slots.fill(0);
    this.counters.flushes++;
  }

  /** Blocks whose physical range lies in flash. */
  hasFlashBlocks(): boolean {
    return this.shared.flashCover > 0;
  }
}

interface IoCore {
  registers: Uint32Array;
  cycles: number;
  rp2040: SioOwner;
  cyclesIO(addr: number, write?: boolean): number;
  readUint32(addr: number): number;
  readUint16(addr: number): number;
  readUint8(addr: number): number;
  writeUint32(addr: number, value: number): void;
  writeUint16(addr: number, value: number): void;
  writeUint8(addr: number, value: number): void;
}

/**
 * SIO (RP2040 datasheet §2.3.1) is each core's own single-cycle port: spinlocks, CPUID, the
 * divider, GPIO. The chip's word accesses there do nothing but hand the offset to the core's SIO
 * (no code, ROM or polled peripheral lives there), so CPU engines make them directly; MicroPython
 * takes a spinlock around every heap allocation.
 */
export { SIO_BASE };
export interface SioOwner {
  sio: { readUint32(offset: number): number; writeUint32(offset: number, value: number): void };
}
export function isSioWord(addr: number): boolean {
  return addr >>> 28 === 0xd && (addr & 3) === 0;
}

/**
 * The peripheral accesses of translated code (see BlockEnv.rd32), called as methods of the env.
 * The same six functions for every chip of the process: V8 then sees one call target in a
 * translated block whichever board runs it (block-library.ts shares the blocks).
 */
const IO_HELPERS = (() => {
  const read = (size: 1 | 2 | 4) =>
    function (this: BlockEnv, c: unknown, addr: number, pc: number, d: number): number {
      const core = c as IoCore;
      core.registers[15] = pc;
      const c0 = core.cycles;
      core.cycles = c0 + d;
      let x: number;
      let v: number;
      if (size === 4 && isSioWord(addr)) {
        x = -1; // 1 + cyclesIO(SIO) = 1 cycle: 1 less than the 2 counted statically
        v = core.rp2040.sio.readUint32((addr >>> 0) - SIO_BASE) | 0;
      } else {
        x = core.cyclesIO(addr) - 1;
        v = (size === 4 ? core.readUint32(addr) : size === 2 ? core.readUint16(addr) : core.readUint8(addr)) | 0;
      }
      x += core.cycles - c0 - d;
      core.cycles = c0;
      this.xc = x;
      return v;
    };
  const write = (size: 1 | 2 | 4) =>
    function (this: BlockEnv, c: unknown, addr: number, value: number, pc: number, d: number): void {
      const core = c as IoCore;
      core.registers[15] = pc;
      const c0 = core.cycles;
      core.cycles = c0 + d;
      let x: number;
      if (size === 4 && isSioWord(addr)) {
        x = -1;
        core.rp2040.sio.writeUint32((addr >>> 0) - SIO_BASE, value);
      } else {
        x = core.cyclesIO(addr, true) - 1;
        if (size === 4) core.writeUint32(addr, value);
        else if (size === 2) core.writeUint16(addr, value);
        else core.writeUint8(addr, value);
      }
      x += core.cycles - c0 - d;
      core.cycles = c0;
      this.xc = x;
    };
  return { rd32: read(4), rd16: read(2), rd8: read(1), wr32: write(4), wr16: write(2), wr8: write(1) };
})();

/**
 * What all caches of one chip share: memory views, the per-word SRAM coverage counts read by
 * translated stores, and the write hooks on the chip.
 */
export class SharedCodeState {
  views: MemoryViews;
  readonly caches = new Set<TranslationCache>();
  flashCover = 0;
  romCover = 0;
  /** Check mode: observer of every store the chip performs through its write methods. */
  writeObserver: ((addr: number, size: number) => void) | null = null;
  /** Which way conditional branches went on the table interpreter (both cores run the same code). */
  readonly branches: BranchProfile;

  constructor(readonly mcu: RP2040) {
    this.views = makeViews(mcu, new Uint8Array(mcu.sram.length >> 2));
    this.branches = new BranchProfile(mcu.sram.length);
    this.installHooks();
  }

  rebuildViews(): void {
    for (const c of this.caches) c.clear();
    const fresh = makeViews(this.mcu, new Uint8Array(this.mcu.sram.length >> 2));
    Object.assign(this.views, fresh);
    for (const c of this.caches) Object.assign(c.env, fresh);
  }

  cover(physStart: number, physEnd: number, delta: 1 | -1): void {
    const so = physStart - SRAM_BASE;
    if (so >= 0 && so < this.views.s8.length) {
      const cw = this.views.cw;
      for (let w = so >> 2; w <= (physEnd - SRAM_BASE - 1) >> 2; w++) {
        const v = cw[w] + delta;
        cw[w] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    } else if (physStart >>> 26 === 4) {
      this.flashCover += delta;
    } else if (physStart < ROM_SIZE) {
      this.romCover += delta;
    }
  }

  invalidate(addr: number, len: number): number {
    // A small SRAM range (the ROM's memset/memcpy on heap blocks) that no translated code
    // covers: the coverage counts say so without looking at any block.
    const so = (addr >>> 0) - SRAM_BASE;
    if (len > 0 && len <= SMALL_RANGE && so >= 0 && so + len <= this.views.s8.length) {
      const cw = this.views.cw;
      let covered = false;
      for (let w = so >> 2; w <= (so + len - 1) >> 2; w++) {
        if (cw[w] !== 0) {
          covered = true;
          break;
        }
      }
      if (!covered) return 0;
    }
    let n = 0;
    for (const c of this.caches) n += c.invalidateRange(addr, len);
    return n;
  }

  /** After a store of `size` bytes at `addr` made outside translated code. */
  private afterWrite(addr: number, size: number): void {
    addr = addr >>> 0;
    const so = addr - SRAM_BASE;
    if (so >= 0 && so < this.views.s8.length) {
      const cw = this.views.cw;
      if (cw[so >> 2] || cw[(so + size - 1) >> 2]) this.invalidate(addr, size);
    } else if (addr >>> 26 === 4) {
      if (this.flashCover > 0) this.invalidate(addr, size);
    } else if (addr < ROM_SIZE) {
      if (this.romCover > 0) this.invalidate(addr, size);
    }
  }

  private installHooks(): void {
    const mcu = this.mcu;
    const w32 = mcu.writeUint32;
    const w16 = mcu.writeUint16;
    const w8 = mcu.writeUint8;
    // Plain functions, called with the view that stores: a second core's view (an object that
    // stands for this RP2040, board/core1-view.ts) must reach its own SIO and PPB, not core 0's. A store to SRAM
    // (most of them) is done here as rp2040js does it (no peripheral lives there), without the
    // chain of wrappers below; anything else goes down the chain.
    const state = this;
    type Chip = RP2040 & { sramView: DataView };
    mcu.writeUint32 = function (this: RP2040, address: number, value: number): void {
      const observer = state.writeObserver;
      if (observer !== null) observer(address, 4);
      const so = (address >>> 0) - SRAM_BASE;
      if (so >= 0 && so + 3 < this.sram.length) {
        (this as Chip).sramView.setUint32(so, value, true);
        const cw = state.views.cw;
        if (cw[so >> 2] !== 0 || cw[(so + 3) >> 2] !== 0) state.invalidate(address, 4);
        return;
      }
      w32.call(this, address, value);
      state.afterWrite(address, 4);
    };
    mcu.writeUint16 = function (this: RP2040, address: number, value: number): void {
      const observer = state.writeObserver;
      if (observer !== null) observer(address, 2);
      const so = (address >>> 0) - SRAM_BASE;
      if (so >= 0 && so + 1 < this.sram.length) {
        (this as Chip).sramView.setUint16(so, value, true);
        const cw = state.views.cw;
        if (cw[so >> 2] !== 0 || cw[(so + 1) >> 2] !== 0) state.invalidate(address, 2);
        return;
      }
      w16.call(this, address, value);
      state.afterWrite(address, 2);
    };
    mcu.writeUint8 = function (this: RP2040, address: number, value: number): void {
      const observer = state.writeObserver;
      if (observer !== null) observer(address, 1);
      const so = (address >>> 0) - SRAM_BASE;
      if (so >= 0 && so < this.sram.length) {
        this.sram[so] = value;
        if (state.views.cw[so >> 2] !== 0) state.invalidate(address, 1);
        return;
      }
      w8.call(this, address, value);
      state.afterWrite(address, 1);
    };
    const load = mcu.loadBootrom;
    mcu.loadBootrom = (data: Uint32Array): void => {
      load.call(mcu, data);
      this.invalidate(0, ROM_SIZE);
    };
  }
}

function makeViews(mcu: RP2040, cw: Uint8Array): MemoryViews {
  const s = mcu.sram;
  const f = mcu.flash;
  if (s.byteOffset !== 0 || f.byteOffset !== 0) {
    throw new Error('translator: SRAM and flash arrays must start at offset 0 of their buffers');
  }
  return {
    s32: new Int32Array(s.buffer, 0, s.length >> 2),
    s16: new Uint16Array(s.buffer, 0, s.length >> 1),
    s8: s,
    f32: new Int32Array(f.buffer, 0, f.length >> 2),
    f16: new Uint16Array(f.buffer, 0, f.length >> 1),
    f8: f,
    b32: mcu.bootrom,
    cw,
  };
}

/** Up to this many bytes, an SRAM invalidation first checks the per-word coverage counts. */
const SMALL_RANGE = 4096;

/**
 * Keyed by the SRAM array: a second core's view of the chip (board/multicore.ts: an object
 * standing for the RP2040 with its own `core`) shares the memory, so it shares the translations too.
 */
const sharedByMemory = new WeakMap<Uint8Array, SharedCodeState>();

export function sharedCodeState(mcu: RP2040): SharedCodeState {
  let s = sharedByMemory.get(mcu.sram);
  if (!s) {
    s = new SharedCodeState(chipOf(mcu));
    sharedByMemory.set(mcu.sram, s);
  }
  return s;
}

/**
 * Tell the translators of `mcu` that [addr, addr+len) changed behind rp2040js's write methods
 * (flash erase/program, a ROM memcpy into SRAM, an XIP cache flush: pass the flash range).
 * A no-op when no translating engine exists for this chip.
 */
export function invalidateTranslations(mcu: RP2040, addr: number, len: number): number {
  const s = sharedByMemory.get(mcu.sram);
  return s ? s.invalidate(addr, len) : 0;
}
