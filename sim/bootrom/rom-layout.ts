/**
 * The 16 KB ROM image: header, function and data tables, soft-float/soft-double tables and the
 * Thumb stubs they point at. A stub is `BKPT #k` followed by `BX LR` (or a non-returning tail);
 * the work behind each BKPT is done in TypeScript (see hle-bootrom.ts). Nothing here comes from a
 * ROM binary: the layout after 0x1C is our own.
 */
import {
  HDR_DATA_TABLE,
  HDR_FUNC_TABLE,
  HDR_HARDFAULT,
  HDR_INITIAL_SP,
  HDR_LOOKUP,
  HDR_MAGIC,
  HDR_NMI,
  HDR_RESET,
  ROM_COMPAT_VERSION,
  ROM_INITIAL_SP,
  ROM_MAGIC_M,
  ROM_MAGIC_U,
  ROM_SIZE,
  ROM_VERSION,
  ROM_WORDS,
  romCode,
} from './constants.ts';

/** Thumb encodings used by the stubs (ARMv6-M ARM A6.7). */
export const THUMB_BX_LR = 0x4770;
export const THUMB_WFI = 0xbf30;
export const THUMB_WFE = 0xbf20;
export const THUMB_BLX_R7 = 0x47b8;
export const THUMB_BKPT = 0xbe00;
/** `B .-2`: branch back to the previous halfword. */
export const THUMB_B_BACK_1 = 0xe7fd;
/** `B .-4`: branch back two halfwords. */
export const THUMB_B_BACK_2 = 0xe7fc;

/** Soft-float / soft-double table entry names, by slot (offset / 4), shared layout (sf_table.h). */
export const SF_NAMES = [
  'fadd', 'fsub', 'fmul', 'fdiv', 'fcmp_fast', 'fcmp_fast_flags', 'fsqrt', 'float2int',
  'float2fix', 'float2uint', 'float2ufix', 'int2float', 'fix2float', 'uint2float', 'ufix2float', 'fcos',
  'fsin', 'ftan', 'fsincos', 'fexp', 'fln', 'fcmp', 'fatan2', 'int642float',
  'fix642float', 'uint642float', 'ufix642float', 'float2int64', 'float2fix64', 'float2uint64', 'float2ufix64', 'float2double',
] as const;
export const SD_NAMES = [
  'dadd', 'dsub', 'dmul', 'ddiv', 'dcmp_fast', 'dcmp_fast_flags', 'dsqrt', 'double2int',
  'double2fix', 'double2uint', 'double2ufix', 'int2double', 'fix2double', 'uint2double', 'ufix2double', 'dcos',
  'dsin', 'dtan', 'dsincos', 'dexp', 'dln', 'dcmp', 'datan2', 'int642double',
  'fix642double', 'uint642double', 'ufix642double', 'double2int64', 'double2fix64', 'double2uint64', 'double2ufix64', 'double2float',
] as const;
export const SOFT_TABLE_ENTRIES = 32;

/** Function-table codes (datasheet 2.8.3.1) in table order; each gets a BKPT stub except DT/DE/WV. */
export const FUNC_CODES = [
  'P3', 'R3', 'L3', 'T3', 'MS', 'S4', 'MC', 'C4', 'UB', 'DT', 'DE', 'WV', 'IF', 'EX', 'RE', 'RP', 'FC', 'CX', 'EC',
] as const;
export type FuncCode = (typeof FUNC_CODES)[number];

/** Kinds of BKPT stubs; the index into HLE_STUBS is the BKPT immediate. */
export type StubKind =
  | { kind: 'reserved' }
  | { kind: 'reset' }
  | { kind: 'boot-resume' }
  | { kind: 'nmi' }
  | { kind: 'hardfault' }
  | { kind: 'lookup' }
  | { kind: 'func'; code: FuncCode }
  | { kind: 'sf'; slot: number }
  | { kind: 'sd'; slot: number };

/** Fixed layout (our own; only 0x00..0x1B is defined by the datasheet). */
export const LAYOUT = {
  funcTable: 0x0020,
  dataTable: 0x0100,
  /** Count byte of SF entries, at SF − 2 (what 'FZ' points to). */
  sfCount: 0x01fe,
  sfTable: 0x0200,
  sdTable: 0x0280,
  gitRevision: 0x0300,
  copyright: 0x0304,
  stubs: 0x0400,
  stubsEnd: 0x0c00,
} as const;

export const ROM_GIT_REVISION = 0x4c45_4821; // "!HLE" read little-endian: a made-up revision word
export const ROM_COPYRIGHT = 'picow-sim HLE boot ROM (no Raspberry Pi ROM code)';

export interface RomLayout {
  image: Uint32Array;
  /** Stub kind for each BKPT immediate. */
  stubs: StubKind[];
  /** Address of the BKPT of each stub, by immediate. */
  stubAddr: number[];
  /** Thumb addresses (odd) of the function-table entries. */
  funcs: Record<FuncCode, number>;
  /** Thumb addresses (odd) of the SF / SD entries. */
  sf: number[];
  sd: number[];
  /** Special non-BKPT code (even addresses). */
  hang: number;
  park: number;
  penLoop: number;
  resetStub: number;
  bootResume: number;
  debugTrampolineEnd: number;
  /** Range holding BKPT stubs. */
  stubStart: number;
  stubEnd: number;
  floatStart: number;
  floatEnd: number;
  doubleStart: number;
  doubleEnd: number;
}

/** Builds the ROM image and returns it with the address map. */
export function buildRom(): RomLayout {
  const bytes = new Uint8Array(ROM_SIZE);
  const view = new DataView(bytes.buffer);
  const stubs: StubKind[] = [];
  const stubAddr: number[] = [];
  let pc: number = LAYOUT.stubs;

  const emit16 = (h: number): void => {
    view.setUint16(pc, h, true);
    pc += 2;
  };
  const align4 = (): void => {
    while (pc & 3) emit16(0xbf00); // NOP padding
  };
  /** `BKPT #k; <tail>`; returns the entry address (even). */
  const bkptStub = (kind: StubKind, tail: number[] = [THUMB_BX_LR]): number => {
    align4();
    const k = stubs.length;
    if (k > 0xff) throw new Error('too many ROM stubs for BKPT immediates');
    const at = pc;
    stubs.push(kind);
    stubAddr.push(at);
    emit16(THUMB_BKPT | k);
    for (const h of tail) emit16(h);
    return at;
  };

  // Non-BKPT code first: a WFI loop (hang/park; takes interrupts), a WFE loop (core-1 pen).
  align4();
  const hang = pc;
  emit16(THUMB_WFI);
  emit16(THUMB_B_BACK_1);
  const park = hang;
  align4();
  const penLoop = pc;
  emit16(THUMB_WFE);
  emit16(THUMB_B_BACK_1);
  // Debug trampoline: DT: BLX r7; DE: BKPT #0; B DT. The BKPT #0 here is not ours (debugger trap).
  align4();
  const dt = pc;
  emit16(THUMB_BLX_R7);
  const debugTrampolineEnd = pc;
  emit16(THUMB_BKPT | 0);
  emit16(THUMB_B_BACK_2);

  const stubStart = pc;
  // Index 0 is never used for a stub (BKPT #0 is the debugger's), so push a placeholder.
  stubs.push({ kind: 'reserved' });
  stubAddr.push(-1);
  const resetStub = bkptStub({ kind: 'reset' }, [THUMB_WFI, THUMB_B_BACK_1]);
  const bootResume = bkptStub({ kind: 'boot-resume' }, [THUMB_WFI, THUMB_B_BACK_1]);
  const nmi = bkptStub({ kind: 'nmi' });
  const hardfault = bkptStub({ kind: 'hardfault' }, [THUMB_WFI, THUMB_B_BACK_1]);
  const lookup = bkptStub({ kind: 'lookup' });

  const funcs = {} as Record<FuncCode, number>;
  for (const code of FUNC_CODES) {
    if (code === 'DT') funcs[code] = dt | 1;
    else if (code === 'DE') funcs[code] = debugTrampolineEnd | 1;
    else {
      const nonReturning = code === 'UB' || code === 'WV';
      funcs[code] = bkptStub({ kind: 'func', code }, nonReturning ? [THUMB_WFI, THUMB_B_BACK_1] : [THUMB_BX_LR]) | 1;
    }
  }
  const floatStart = pc;
  const sf: number[] = [];
  for (let i = 0; i < SOFT_TABLE_ENTRIES; i++) sf.push(bkptStub({ kind: 'sf', slot: i }) | 1);
  const floatEnd = pc;
  const doubleStart = pc;
  const sd: number[] = [];
  for (let i = 0; i < SOFT_TABLE_ENTRIES; i++) sd.push(bkptStub({ kind: 'sd', slot: i }) | 1);
  const doubleEnd = pc;
  const stubEnd = pc;
  if (stubEnd > LAYOUT.stubsEnd) throw new Error('ROM stub area overflow');

  // Header (datasheet 2.8.3).
  view.setUint32(HDR_INITIAL_SP, ROM_INITIAL_SP, true);
  view.setUint32(HDR_RESET, resetStub | 1, true);
  view.setUint32(HDR_NMI, nmi | 1, true);
  view.setUint32(HDR_HARDFAULT, hardfault | 1, true);
  bytes[HDR_MAGIC] = ROM_MAGIC_M;
  bytes[HDR_MAGIC + 1] = ROM_MAGIC_U;
  bytes[HDR_MAGIC + 2] = ROM_COMPAT_VERSION;
  bytes[HDR_MAGIC + 3] = ROM_VERSION;
  view.setUint16(HDR_FUNC_TABLE, LAYOUT.funcTable, true);
  view.setUint16(HDR_DATA_TABLE, LAYOUT.dataTable, true);
  view.setUint16(HDR_LOOKUP, lookup | 1, true);
  view.setUint16(HDR_LOOKUP + 2, 0, true);

  // Function table: {u16 code, u16 value}..., u16 0.
  let t: number = LAYOUT.funcTable;
  for (const code of FUNC_CODES) {
    view.setUint16(t, romCode(code), true);
    view.setUint16(t + 2, funcs[code], true);
    t += 4;
  }
  view.setUint16(t, 0, true);
  if (t + 2 > LAYOUT.dataTable) throw new Error('ROM function table overflow');

  // Data table.
  const data: Array<[string, number]> = [
    ['SF', LAYOUT.sfTable],
    ['SD', LAYOUT.sdTable],
    ['FZ', LAYOUT.sfCount],
    ['GR', LAYOUT.gitRevision],
    ['CR', LAYOUT.copyright],
    ['FS', floatStart],
    ['FE', floatEnd],
    ['DS', doubleStart],
    ['DE', doubleEnd],
  ];
  t = LAYOUT.dataTable;
  for (const [code, value] of data) {
    view.setUint16(t, romCode(code), true);
    view.setUint16(t + 2, value, true);
    t += 4;
  }
  view.setUint16(t, 0, true);
  if (t + 2 > LAYOUT.sfCount) throw new Error('ROM data table overflow');

  bytes[LAYOUT.sfCount] = SOFT_TABLE_ENTRIES;
  for (let i = 0; i < SOFT_TABLE_ENTRIES; i++) {
    view.setUint32(LAYOUT.sfTable + 4 * i, sf[i]!, true);
    view.setUint32(LAYOUT.sdTable + 4 * i, sd[i]!, true);
  }
  view.setUint32(LAYOUT.gitRevision, ROM_GIT_REVISION, true);
  for (let i = 0; i < ROM_COPYRIGHT.length; i++) bytes[LAYOUT.copyright + i] = ROM_COPYRIGHT.charCodeAt(i);
  bytes[LAYOUT.copyright + ROM_COPYRIGHT.length] = 0;
  if (LAYOUT.copyright + ROM_COPYRIGHT.length + 1 > LAYOUT.stubs) throw new Error('ROM copyright overflow');

  const image = new Uint32Array(ROM_WORDS);
  for (let i = 0; i < ROM_WORDS; i++) image[i] = view.getUint32(i * 4, true);
  return {
    image,
    stubs,
    stubAddr,
    funcs,
    sf,
    sd,
    hang,
    park,
    penLoop,
    resetStub,
    bootResume,
    debugTrampolineEnd,
    stubStart,
    stubEnd,
    floatStart,
    floatEnd,
    doubleStart,
    doubleEnd,
  };
}
