/**
 * Test rig for the HLE boot ROM: a stock rp2040js RP2040 with the ROM image loaded; ROM routines
 * are called the way firmware calls them (registers set, BLX-style entry with LR pointing at a
 * `B .` in SRAM) and the core really executes the stub's BKPT and BX LR.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RP2040 } from 'rp2040js';
import { HleBootrom, type HleBootromOptions } from '../../sim/bootrom/hle-bootrom.ts';
import { Logger } from '../../sim/log.ts';

export const RET_ADDR = 0x2004_0000;
export const STACK_TOP = 0x2004_0800;
const SENTINEL_BASE = 0x5a5a_0000;

export interface RigEvents {
  bootsel: Array<[number, number]>;
  flashWrites: Array<[number, number]>;
  noBoot2: string[];
  foreignBreaks: number[];
  logs: string[];
}

export class RomRig {
  readonly mcu: RP2040;
  readonly hle: HleBootrom;
  readonly ev: RigEvents = { bootsel: [], flashWrites: [], noBoot2: [], foreignBreaks: [], logs: [] };

  constructor(extra: Partial<HleBootromOptions> = {}, trace = false) {
    const mcu = new RP2040();
    mcu.logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as RP2040['logger'];
    const logger = new Logger({ level: 'debug', trace: trace ? ['bootrom'] : [], sink: (l) => this.ev.logs.push(l) });
    this.hle = new HleBootrom({
      logger,
      onBootsel: (g, i) => this.ev.bootsel.push([g, i]),
      onFlashWrite: (o, l) => this.ev.flashWrites.push([o, l]),
      onNoBoot2: (r) => this.ev.noBoot2.push(r),
      ...extra,
    });
    mcu.loadBootrom(this.hle.image);
    mcu.onBreak = (code) => {
      if (!this.hle.handleBreak(mcu.core, mcu, code)) this.ev.foreignBreaks.push(code);
    };
    this.mcu = mcu;
    mcu.writeUint16(RET_ADDR, 0xe7fe); // B .
  }

  /** Reads a ROM halfword from the image (little-endian). */
  rom16(addr: number): number {
    const w = this.hle.image[addr >>> 2]!;
    return addr & 2 ? w >>> 16 : w & 0xffff;
  }
  rom8(addr: number): number {
    return (this.hle.image[addr >>> 2]! >>> ((addr & 3) * 8)) & 0xff;
  }
  rom32(addr: number): number {
    return this.hle.image[addr >>> 2]! >>> 0;
  }

  /** Walks a ROM table {u16 code, u16 value}... 0 for `code` (written independently of lookup.ts). */
  tableValue(table: number, code: string): number {
    const c = code.charCodeAt(0) | (code.charCodeAt(1) << 8);
    for (let p = table; ; p += 4) {
      const k = this.rom16(p);
      if (k === 0) return 0;
      if (k === c) return this.rom16(p + 2);
    }
  }
  func(code: string): number {
    return this.tableValue(this.rom16(0x14), code);
  }
  data(code: string): number {
    return this.tableValue(this.rom16(0x16), code);
  }
  sfEntry(slot: number): number {
    return this.rom32(this.data('SF') + 4 * slot);
  }
  sdEntry(slot: number): number {
    return this.rom32(this.data('SD') + 4 * slot);
  }

  /**
   * Calls the Thumb routine at `addr` with r0..r3 = args and returns the registers after it
   * returned to RET_ADDR. r4..r12 are filled with sentinels first.
   */
  call(addr: number, args: number[], opts: { maxSteps?: number; flags?: number } = {}): Uint32Array {
    const core = this.mcu.core;
    const r = core.registers;
    for (let i = 0; i < 13; i++) r[i] = SENTINEL_BASE + i;
    args.forEach((v, i) => (r[i] = v >>> 0));
    core.SP = STACK_TOP;
    core.LR = RET_ADDR | 1;
    core.PC = addr & ~1;
    if (opts.flags !== undefined) core.APSR = opts.flags;
    const max = opts.maxSteps ?? 100;
    for (let i = 0; i < max; i++) {
      core.executeInstruction();
      if (core.PC === RET_ADDR) return new Uint32Array(r);
    }
    throw new Error(`ROM routine at 0x${addr.toString(16)} did not return (PC = 0x${core.PC.toString(16)})`);
  }

  /** Sentinel expected in register i after a call that must not touch it. */
  static sentinel(i: number): number {
    return SENTINEL_BASE + i;
  }
}

const REF = join(dirname(fileURLToPath(import.meta.url)), 'bootrom-ref.py');

export interface RefCase {
  fmt: 'f' | 'd';
  op: string;
  args: Array<number | bigint>;
}

/** Expected results from the independent exact-arithmetic reference (python3, fractions). */
export function reference(cases: RefCase[]): bigint[] {
  const json = '[' + cases.map((c) => `{"fmt":"${c.fmt}","op":"${c.op}","args":[${c.args.map(String).join(',')}]}`).join(',') + ']';
  if (process.env.BOOTROM_REF_DUMP) writeFileSync(process.env.BOOTROM_REF_DUMP, json);
  const out = execFileSync('python3', [REF], { input: json, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }).toString();
  // parse big integers without losing precision
  return out
    .trim()
    .replace(/^\[|\]$/g, '')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => BigInt(s.trim()));
}

/** Deterministic PRNG (xorshift32) for test vectors. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export const hex = (v: number | bigint): string => '0x' + v.toString(16);
