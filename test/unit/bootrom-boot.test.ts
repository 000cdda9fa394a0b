/**
 * The ROM reset path: boot2 copy and CRC check, LR = 0 entry, BOOTSEL strap, watchdog vector, core-1
 * pen entry; and the core-1 launch state machine.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Core1Pen, type PenFifo } from '../../sim/bootrom/core1-pen.ts';
import { RomRig } from './bootrom-harness.ts';

/** A boot2 image: `code` halfwords, padding, and the CRC-32/MPEG-2 computed by python3. */
function boot2(code: number[], corrupt = false): Uint8Array {
  const img = new Uint8Array(256);
  code.forEach((h, i) => {
    img[2 * i] = h & 0xff;
    img[2 * i + 1] = h >> 8;
  });
  const hexBody = Buffer.from(img.subarray(0, 252)).toString('hex');
  const crc = Number(
    execFileSync('python3', [
      '-c',
      `import sys\nd=bytes.fromhex('${hexBody}')\nc=0xffffffff\nfor b in d:\n  c^=b<<24\n  for _ in range(8):\n    c=((c<<1)^0x04c11db7 if c&0x80000000 else c<<1)&0xffffffff\nprint(c)`,
    ])
      .toString()
      .trim(),
  );
  new DataView(img.buffer).setUint32(252, corrupt ? crc ^ 1 : crc, true);
  return img;
}

function runUntil(rig: RomRig, pred: () => boolean, max = 1000): void {
  for (let i = 0; i < max && !pred(); i++) rig.mcu.core.executeInstruction();
}

describe('ROM reset path (core 0)', () => {
  it('copies boot2 to 0x20041F00 and enters it with LR = 0 and SP = 0x20041F00', () => {
    const rig = new RomRig();
    const code = [0x2005, 0xe7fe]; // movs r0, #5; b .
    rig.mcu.flash.set(boot2(code));
    const core = rig.mcu.core;
    core.reset();
    expect(core.PC).toBe(rig.hle.image[1]! & ~1);
    runUntil(rig, () => core.registers[0] === 5);
    expect(core.registers[0]).toBe(5);
    expect(core.LR).toBe(0);
    expect(core.SP).toBe(0x20041f00);
    expect(core.PC).toBe(0x20041f02);
    expect(rig.mcu.readUint32(0x20041f00)).toBe(0xe7fe2005);
    expect(rig.ev.noBoot2).toEqual([]);
  });
  it('reports a flash without a valid boot2 and does not run it', () => {
    const rig = new RomRig();
    rig.mcu.flash.set(boot2([0x2005, 0xe7fe], true));
    rig.mcu.core.reset();
    runUntil(rig, () => rig.ev.noBoot2.length > 0, 50);
    expect(rig.ev.noBoot2.length).toBe(1);
    expect(rig.ev.noBoot2[0]).toMatch(/boot2/);
    runUntil(rig, () => false, 50);
    expect(rig.mcu.core.registers[0]).not.toBe(5);
    expect(rig.mcu.core.PC).toBeLessThan(0x4000);
  });
  it('an erased flash has no valid boot2', () => {
    const rig = new RomRig();
    rig.mcu.core.reset();
    runUntil(rig, () => rig.ev.noBoot2.length > 0, 50);
    expect(rig.ev.noBoot2.length).toBe(1);
  });
  it('BOOTSEL held low at reset enters USB boot', () => {
    const rig = new RomRig({ readBootselPin: () => false });
    rig.mcu.flash.set(boot2([0x2005, 0xe7fe]));
    rig.mcu.core.reset();
    runUntil(rig, () => rig.ev.bootsel.length > 0, 50);
    expect(rig.ev.bootsel).toEqual([[0, 0]]);
    runUntil(rig, () => false, 20);
    expect(rig.mcu.core.registers[0]).not.toBe(5);
  });
  it('calls the watchdog vector from SCRATCH4..7 first, then boots flash when it returns', () => {
    const rig = new RomRig();
    rig.mcu.flash.set(boot2([0x2005, 0xe7fe]));
    const fn = 0x20001000;
    rig.mcu.writeUint16(fn, 0x2107); // movs r1, #7
    rig.mcu.writeUint16(fn + 2, 0x4770); // bx lr
    const magic = 0xb007c0d3;
    rig.mcu.writeUint32(0x4005801c, magic);
    rig.mcu.writeUint32(0x40058020, (fn | 1) ^ ((-magic) >>> 0));
    rig.mcu.writeUint32(0x40058024, 0x20002000);
    rig.mcu.writeUint32(0x40058028, fn | 1);
    const core = rig.mcu.core;
    core.reset();
    core.executeInstruction(); // ROM reset stub
    expect(core.PC).toBe(fn);
    expect(core.SP).toBe(0x20002000);
    expect(rig.mcu.readUint32(0x4005801c)).toBe(0); // SCRATCH4 cleared
    runUntil(rig, () => core.registers[0] === 5);
    expect(core.registers[1]).toBe(7);
    expect(core.LR).toBe(0);
    expect(core.PC).toBe(0x20041f02);
  });
  it('a core whose CPUID is not 0 goes to the holding pen', () => {
    const pens: unknown[] = [];
    const rig = new RomRig({ coreIndex: () => 1, onEnterPen: (c) => pens.push(c) });
    rig.mcu.flash.set(boot2([0x2005, 0xe7fe]));
    const core = rig.mcu.core;
    core.reset();
    runUntil(rig, () => false, 20);
    expect(pens).toEqual([core]);
    expect(core.registers[0]).not.toBe(5);
    expect(core.PC).toBeLessThan(0x4000);
    expect(core.VTOR).toBe(0);
    // launch as the pen would: VTOR, SP, entry; LR is the park loop (WFI, interrupts taken)
    const entry = 0x20001100;
    rig.mcu.writeUint16(entry, 0x2009); // movs r0, #9
    rig.mcu.writeUint16(entry + 2, 0x4770); // bx lr -> park
    rig.hle.launchFromPen(core, 0x20000000, 0x20003000, entry | 1);
    runUntil(rig, () => core.waiting, 20);
    expect(core.registers[0]).toBe(9);
    expect(core.VTOR).toBe(0x20000000);
    expect(core.waiting).toBe(true);
    expect(core.PC).toBeLessThan(0x4000);
  });
  it('halts when the rescue flag (CHIP_RESET bit 24) is set, and clears it', () => {
    let rescued = 0;
    const rig = new RomRig({ onRescue: () => rescued++ });
    rig.mcu.flash.set(boot2([0x2005, 0xe7fe]));
    let chipReset = 1 << 24;
    const writes: number[] = [];
    // a CHIP_RESET model (stock rp2040js does not have VREG_AND_CHIP_RESET)
    (rig.mcu.peripherals as Record<number, unknown>)[0x40064] = {
      readUint32: (o: number) => (o === 8 ? chipReset : 0),
      writeUint32Atomic: (o: number, v: number) => {
        if (o === 8) {
          writes.push(v);
          chipReset &= ~v; // write-1-to-clear
        }
      },
    };
    rig.mcu.core.reset();
    runUntil(rig, () => false, 30);
    expect(rescued).toBe(1);
    expect(writes).toEqual([1 << 24]);
    expect(chipReset).toBe(0);
    expect(rig.mcu.core.registers[0]).not.toBe(5);
  });
  it('NMI handler returns; HardFault through the ROM table halts the core', () => {
    const faults: unknown[] = [];
    const rig = new RomRig({ onRomHardFault: (c) => faults.push(c) });
    const hf = rig.hle.image[3]!;
    const r = rig.call(rig.hle.image[2]!, [1, 2, 3]);
    expect([r[0], r[1], r[2]]).toEqual([1, 2, 3]);
    expect(() => rig.call(hf, [], { maxSteps: 30 })).toThrow(/did not return/);
    expect(faults.length).toBe(1);
    expect(rig.mcu.core.waiting).toBe(true);
  });
});

/** A FIFO pair for the pen: core 0 -> core 1 (rx) and core 1 -> core 0 (tx), 8 deep each. */
function fifos(): { pen: Core1Pen; toCore1: number[]; toCore0: number[]; launches: number[][]; sevs: number } {
  const toCore1: number[] = [];
  const toCore0: number[] = [];
  const launches: number[][] = [];
  const state = { sevs: 0 };
  const io: PenFifo = {
    pop: () => toCore1.shift(),
    push: (w) => {
      if (toCore0.length >= 8) return false;
      toCore0.push(w);
      return true;
    },
    sev: () => {
      state.sevs++;
    },
    launch: (v, s, e) => launches.push([v, s, e]),
  };
  const pen = new Core1Pen(io);
  return {
    pen,
    toCore1,
    toCore0,
    launches,
    get sevs() {
      return state.sevs;
    },
  };
}

describe('core-1 holding pen state machine', () => {
  /** Core 0's side of multicore_launch_core1_raw, word by word. */
  function send(f: ReturnType<typeof fifos>, w: number): number | undefined {
    f.toCore1.push(w);
    f.pen.poll();
    return f.toCore0.shift();
  }
  it('pushes the initial 0 at reset, draining old words first', () => {
    const f = fifos();
    f.toCore1.push(0x55, 0x66);
    f.pen.reset();
    expect(f.toCore1).toEqual([]);
    expect(f.toCore0).toEqual([0]);
    expect(f.sevs).toBe(1);
    expect(f.pen.state).toBe('S1');
  });
  it('runs the SDK launch sequence 0, 0, 1, VTOR, SP, entry with echoes and launches', () => {
    const f = fifos();
    f.pen.reset();
    f.toCore0.length = 0; // core 0 drains its FIFO before sending 0
    const seq = [0, 0, 1, 0x20000000, 0x20040000, 0x1006cfe5];
    const echoes = seq.map((w) => send(f, w));
    expect(echoes).toEqual(seq);
    expect(f.launches).toEqual([[0x20000000, 0x20040000, 0x1006cfe5]]);
    expect(f.pen.state).toBe('launched');
    // after launch the pen ignores FIFO words (they belong to the program)
    f.toCore1.push(1234);
    f.pen.poll();
    expect(f.toCore1).toEqual([1234]);
  });
  it('a 0 in the middle restarts the handshake; an unexpected first word answers 0', () => {
    const f = fifos();
    f.pen.reset();
    f.toCore0.length = 0;
    expect(send(f, 7)).toBe(0); // not 1: back to S0, which sends 0
    expect(send(f, 1)).toBe(1);
    expect(send(f, 0x20000000)).toBe(0x20000000);
    expect(send(f, 0)).toBe(0); // restart
    expect(f.pen.state).toBe('S1');
    for (const w of [1, 0x20000000, 0x20041000, 0x10000101]) expect(send(f, w)).toBe(w);
    expect(f.launches).toEqual([[0x20000000, 0x20041000, 0x10000101]]);
  });
  it('waits while core 0 has not drained its FIFO, then continues', () => {
    const f = fifos();
    for (let i = 0; i < 8; i++) f.toCore0.push(100 + i); // core 0's RX FIFO full
    f.pen.reset();
    expect(f.pen.blocked).toBe(true);
    expect(f.toCore0.length).toBe(8);
    f.toCore0.shift(); // core 0 pops one word
    f.pen.poll();
    expect(f.pen.blocked).toBe(false);
    expect(f.toCore0[7]).toBe(0);
  });
  it('a reset after launch pushes 0 again (multicore_reset_core1 waits for it)', () => {
    const f = fifos();
    f.pen.reset();
    f.toCore0.length = 0;
    for (const w of [0, 0, 1, 1, 2, 3]) send(f, w);
    expect(f.launches.length).toBe(1);
    f.pen.reset();
    expect(f.toCore0).toEqual([0]);
    expect(f.pen.state).toBe('S1');
  });
});
