import { RP2040 } from 'rp2040js';
import { describe, expect, it } from 'vitest';
import { MultiCore } from '../../sim/board/multicore.ts';
import { silentLogger } from '../../sim/log.ts';
import { QUIET } from './cpu-harness.ts';

const SIO = 0xd0000000;
const FIFO_ST = SIO + 0x50;
const FIFO_WR = SIO + 0x54;
const FIFO_RD = SIO + 0x58;
const PARK = 0x100;

function rig() {
  const mcu = new RP2040();
  const breaks: string[] = [];
  const mc = new MultiCore(mcu, PARK, silentLogger(), (core, _view, code) =>
    breaks.push(`${core === mcu.core ? 0 : 1}:${code}`),
  );
  const [v0, v1] = mc.views;
  return { mcu, mc, v0, v1, breaks };
}

describe('second core and inter-core SIO', () => {
  it('gives each core its own CPUID', () => {
    const { v0, v1 } = rig();
    expect(v0.readUint32(SIO)).toBe(0);
    expect(v1.readUint32(SIO)).toBe(1);
  });

  it('starts with the pen\'s 0 in core 0\'s FIFO and raises SIO_IRQ_PROC0 only on core 0', () => {
    const { v0, mc } = rig();
    expect(mc.fifoTo(0)).toEqual([0]);
    expect(v0.readUint32(FIFO_ST) & 1).toBe(1); // VLD
    expect(mc.cores[0].pendingInterrupts & (1 << 15)).toBeTruthy();
    expect(mc.cores[1].pendingInterrupts & (1 << 15)).toBe(0);
    expect(v0.readUint32(FIFO_RD)).toBe(0);
    expect(v0.readUint32(FIFO_ST) & 1).toBe(0);
    expect(mc.cores[0].pendingInterrupts & (1 << 15)).toBe(0);
  });

  it('sets and clears the sticky ROE and WOF flags', () => {
    const { v0, v1, mc } = rig();
    v0.readUint32(FIFO_RD); // the pen's 0
    v0.readUint32(FIFO_RD); // empty: ROE
    expect(v0.readUint32(FIFO_ST) & 8).toBe(8);
    expect(mc.cores[0].pendingInterrupts & (1 << 15)).toBeTruthy();
    v0.writeUint32(FIFO_ST, 0);
    expect(v0.readUint32(FIFO_ST) & 0xc).toBe(0);
    // Core 1 (launched state not needed for raw FIFO use from its side) fills core 0's FIFO.
    for (let i = 0; i < 8; i++) v1.writeUint32(FIFO_WR, 100 + i);
    expect(v1.readUint32(FIFO_ST) & 2).toBe(0); // RDY clear: full
    v1.writeUint32(FIFO_WR, 999);
    expect(v1.readUint32(FIFO_ST) & 4).toBe(4); // WOF
    expect(mc.cores[1].pendingInterrupts & (1 << 16)).toBeTruthy();
    expect(mc.fifoTo(0)).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
  });

  it('runs the ROM launch handshake and starts core 1 at the entry with SP, VTOR and the park LR', () => {
    const { v0, mc } = rig();
    let started = 0;
    mc.onCore1Start = () => started++;
    const seq = [0, 0, 1, 0x20000000, 0x20030000, 0x10001235];
    const echoes: number[] = [];
    for (const w of seq) {
      if (w === 0) while (v0.readUint32(FIFO_ST) & 1) v0.readUint32(FIFO_RD); // drain
      v0.writeUint32(FIFO_WR, w);
      echoes.push(v0.readUint32(FIFO_RD));
    }
    expect(echoes).toEqual(seq);
    expect(mc.core1Active).toBe(true);
    expect(started).toBe(1);
    const c1 = mc.cores[1];
    expect(c1.PC).toBe(0x10001234);
    expect(c1.SP).toBe(0x20030000);
    expect(c1.VTOR).toBe(0x20000000);
    expect(c1.LR).toBe(PARK | 1);
  });

  it('sends core 1 back to the pen after a PSM force-off, which pushes a fresh 0', () => {
    const { v0, mc } = rig();
    v0.readUint32(FIFO_RD);
    for (const w of [0, 0, 1, 0x20000000, 0x20030000, 0x10001235]) {
      if (w === 0) while (v0.readUint32(FIFO_ST) & 1) v0.readUint32(FIFO_RD);
      v0.writeUint32(FIFO_WR, w);
      v0.readUint32(FIFO_RD);
    }
    expect(mc.core1Active).toBe(true);
    v0.writeUint32(0x40012004, 1 << 16); // PSM FRCE_OFF set alias
    expect(mc.core1Active).toBe(false);
    expect(v0.readUint32(0x40010004) & (1 << 16)).toBeTruthy();
    v0.writeUint32(0x40013004, 1 << 16); // clear alias: core 1 leaves reset
    expect(mc.fifoTo(0)).toEqual([0]);
    expect(mc.core1Active).toBe(false);
  });

  it('keeps spinlocks shared and the hardware divider per core', () => {
    const { v0, v1 } = rig();
    expect(v0.readUint32(SIO + 0x100 + 4 * 5)).toBe(1 << 5); // core 0 takes lock 5
    expect(v1.readUint32(SIO + 0x100 + 4 * 5)).toBe(0); // core 1 sees it taken
    v1.writeUint32(SIO + 0x100 + 4 * 5, 1); // release from core 1
    expect(v1.readUint32(SIO + 0x100 + 4 * 5)).toBe(1 << 5);
    v0.writeUint32(SIO + 0x060, 100); // core 0: 100 / 7
    v0.writeUint32(SIO + 0x064, 7);
    v1.writeUint32(SIO + 0x060, 50); // core 1: 50 / 6
    v1.writeUint32(SIO + 0x064, 6);
    expect([v0.readUint32(SIO + 0x070) >>> 0, v0.readUint32(SIO + 0x074) >>> 0]).toEqual([14, 2]);
    expect([v1.readUint32(SIO + 0x070) >>> 0, v1.readUint32(SIO + 0x074) >>> 0]).toEqual([8, 2]);
  });

  it('routes peripheral IRQs to both NVICs and GPIO IRQs by each core\'s own bank', () => {
    const { mcu, mc, v0, v1 } = rig();
    mcu.setInterrupt(0, true); // TIMER_0
    expect(mc.cores[0].pendingInterrupts & 1).toBe(1);
    expect(mc.cores[1].pendingInterrupts & 1).toBe(1);
    const pin = mcu.gpio[2]!;
    pin.padValue = 0x56; // pad reset value: input enabled
    pin.setInputValue(true); // edge high latched in INTR
    v1.writeUint32(0x40014130, 0x8 << 8); // PROC1_INTE0: GPIO2 edge high
    expect(mc.cores[1].pendingInterrupts & (1 << 13)).toBeTruthy();
    expect(mc.cores[0].pendingInterrupts & (1 << 13)).toBe(0);
    expect(v1.readUint32(0x40014150) & (0xf << 8)).toBe(0x8 << 8); // PROC1_INTS0
    v0.writeUint32(0x40014100, 0x8 << 8); // PROC0_INTE0 too
    expect(mc.cores[0].pendingInterrupts & (1 << 13)).toBeTruthy();
  });

  it('wakes the other core from WFE on SEV', () => {
    const { mc } = rig();
    const [c0, c1] = mc.cores;
    c1.waiting = true;
    mc.sev(0);
    expect(c1.waiting).toBe(false);
    c0.waiting = false;
    mc.sev(1);
    expect(c0.eventRegistered).toBe(true);
  });

  it('leaves a core asleep in WFI on SEV (machine.lightsleep on one core while the other runs); an interrupt wakes it', () => {
    const { mcu, mc } = rig();
    const [, c1] = mc.cores;
    mcu.writeUint16(0x20000100, 0xbf30); // WFI
    c1.PC = 0x20000102; // past it, as rp2040js leaves a sleeping core
    c1.waiting = true;
    mc.sev(0);
    expect(c1.waiting).toBe(true);
    expect(mc.wakeOnOwnEvent()).toBe(false);
    c1.enabledInterrupts |= 1 << 3; // TIMER_IRQ_3, the lightsleep alarm
    c1.setInterrupt(3, true);
    expect(c1.waiting).toBe(false);
  });
});

describe('second core with the translator installed', () => {
  it("keeps core 1's SIO writes on core 1 when the translator wraps the chip's write methods", async () => {
    const { createCpuEngine } = await import('../../sim/cpu/index.ts');
    const { mc, v0, v1 } = rig();
    createCpuEngine('jit', v0, { core: mc.cores[0], tickClock: false });
    createCpuEngine('jit', v1, { core: mc.cores[1], tickClock: false });
    v1.writeUint32(SIO + 0x060, 50); // core 1: 50 / 6
    v1.writeUint32(SIO + 0x064, 6);
    v0.writeUint32(SIO + 0x060, 100); // core 0: 100 / 7
    v0.writeUint32(SIO + 0x064, 7);
    expect(v1.readUint32(SIO + 0x070) >>> 0).toBe(8);
    expect(v0.readUint32(SIO + 0x070) >>> 0).toBe(14);
  });
});

describe('interpolators per core', () => {
  it('gives each core its own INTERP0 accumulators and results', () => {
    const { v0, v1 } = rig();
    // INTERP0_ACCUM0 (0x080), BASE0 (0x088), CTRL_LANE0 (0x0ac) with mask 0..31; PEEK_LANE0 (0x0a0).
    for (const [v, acc, base] of [
      [v0, 100, 5],
      [v1, 7, 1000],
    ] as const) {
      v.writeUint32(SIO + 0x0ac, 31 << 10); // MASK_MSB = 31: pass the whole accumulator
      v.writeUint32(SIO + 0x080, acc);
      v.writeUint32(SIO + 0x088, base);
    }
    expect(v0.readUint32(SIO + 0x0a0) >>> 0).toBe(105);
    expect(v1.readUint32(SIO + 0x0a0) >>> 0).toBe(1007);
  });
});

describe('SEV from every CPU engine', () => {
  // Core 0: `loop: adds r1, #1; sev; b loop`. Core 1: `loop: wfe; adds r2, #1; b loop`.
  const CORE0 = [0x3101, 0xbf40, 0xe7fc];
  const CORE1 = [0xbf20, 0x3201, 0xe7fc];
  const ROUNDS = 40;
  const cases = (['interp', 'jit', 'check'] as const).flatMap((kind) => [true, false].map((tickClock) => ({ kind, tickClock })));

  it.each(cases)('$kind (tickClock $tickClock): core 0 runs SEV in a loop, core 1 wakes from WFE each round', async ({ kind, tickClock }) => {
    const { createCpuEngine } = await import('../../sim/cpu/index.ts');
    const { mcu, mc, v0, v1 } = rig();
    mcu.logger = QUIET; // (rp2040js logs every SEV; the views inherit the chip's logger)
    const [c0, c1] = mc.cores;
    for (const [addr, code] of [[0x20000000, CORE0], [0x20000100, CORE1]] as const) {
      code.forEach((hw, i) => mcu.writeUint16(addr + 2 * i, hw));
    }
    c0.PC = 0x20000000;
    c1.PC = 0x20000100;
    const opts = { tickClock, warmupCycles: 0, hotThreshold: 2 };
    const e0 = createCpuEngine(kind, v0, { ...opts, core: c0 });
    const e1 = createCpuEngine(kind, v1, { ...opts, core: c1 });
    for (let i = 0; i < ROUNDS; i++) {
      e1.run(1000); // until it sleeps in WFE
      expect(c1.waiting).toBe(true);
      e0.run(30);
    }
    // Round 1 sleeps at once; each later round runs the loop twice: once woken, once on the
    // event registered by core 0's further SEVs.
    expect(c1.registers[2]).toBe(2 * (ROUNDS - 1));
    expect(c0.registers[1]).toBeGreaterThan(ROUNDS);
    if (kind === 'jit') expect(e0.stats().translatedInstructions).toBeGreaterThan(0);
  });
});
