import { RP2040 } from 'rp2040js';
import { describe, expect, it } from 'vitest';
import { PollSkipper } from '../../sim/board/poll-skip.ts';

function rig(enabled = true) {
  const mcu = new RP2040();
  const skipper = new PollSkipper(() => enabled);
  skipper.install(mcu);
  skipper.core = mcu.core;
  return { mcu, core: mcu.core, skipper };
}

describe('PollSkipper', () => {
  it('asks to skip to the next alarm when a loop re-reads a register with nothing changed', () => {
    const { mcu, core, skipper } = rig();
    core.PC = 0x20000100;
    core.registers[0] = 0x50000000;
    for (let i = 0; i < 3; i++) {
      core.cycles += 6;
      mcu.readUint32(0x50000010); // DMA CH0_CTRL_TRIG
      expect(skipper.request).toBe(0);
    }
    core.cycles += 6;
    mcu.readUint32(0x50000010);
    expect(skipper.request).toBe(Infinity);
  });

  it('does not skip when the loop makes progress in a register', () => {
    const { mcu, core, skipper } = rig();
    core.PC = 0x20000100;
    for (let i = 0; i < 20; i++) {
      core.registers[3] = i; // a counter: the loop does work
      core.cycles += 6;
      mcu.readUint32(0x50000010);
    }
    expect(skipper.request).toBe(0);
  });

  it('skips in growing steps when a short loop polls the microsecond timer', () => {
    const { mcu, core, skipper } = rig();
    core.PC = 0x10000200;
    const steps: number[] = [];
    for (let i = 0; i < 40; i++) {
      core.registers[1] = i; // the time read changes every pass
      core.cycles += 10;
      mcu.readUint32(0x40054024); // TIMERAWH: the high word (how long it waited is unknown)
      if (skipper.request) {
        steps.push(skipper.request);
        skipper.request = 0;
      }
    }
    expect(steps.length).toBe(40 - 32); // the first read starts the run; skips from the 32nd repeat on
    expect(steps[1]! / steps[0]!).toBe(2);
  });

  it('reading the low word, each skip is at most an eighth of what the poll has waited', () => {
    const { mcu, core, skipper } = rig();
    const clock = mcu.clock as unknown as { tick(deltaNanos: number): void }; // rp2040js's SimulationClock
    core.PC = 0x10000200;
    const t0 = mcu.readUint32(0x40054028);
    const seen: { waitedUs: number; step: number }[] = [];
    for (let i = 0; i < 400; i++) {
      core.cycles += 10;
      const now = mcu.readUint32(0x40054028); // TIMERAWL
      if (skipper.request) {
        seen.push({ waitedUs: now - t0, step: skipper.request });
        clock.tick(skipper.request); // the board skips that far
        skipper.request = 0;
      }
    }
    expect(seen[0]!.step).toBe(2_000);
    for (const { waitedUs, step } of seen) expect(step).toBeLessThanOrEqual(Math.max(2_000, (waitedUs * 1000) / 8));
    expect(seen.at(-1)!.step).toBe(500_000); // growing to the cap on a long wait
  });

  it('asks nothing while the board holds a timer poll, then again', () => {
    const { mcu, core, skipper } = rig();
    core.PC = 0x10000200;
    const pollOnce = (): void => {
      core.cycles += 10;
      mcu.readUint32(0x40054028);
    };
    for (let i = 0; i < 33; i++) pollOnce();
    expect(skipper.request).toBeGreaterThan(0);
    expect(skipper.timerPollCycles).toBe(320);
    skipper.request = 0;
    skipper.holdTimer(100);
    for (let i = 0; i < 9; i++) pollOnce();
    expect(skipper.request).toBe(0);
    pollOnce(); // 100 cycles on
    expect(skipper.request).toBeGreaterThan(0);
  });

  it('ignores timer reads from scattered code and never asks while disabled', () => {
    const { mcu, core, skipper } = rig();
    for (let i = 0; i < 100; i++) {
      core.PC = 0x10000200 + (i % 2) * 0x40;
      core.cycles += 10;
      mcu.readUint32(0x40054028);
    }
    expect(skipper.request).toBe(0);
    const off = rig(false);
    off.core.PC = 0x10000200;
    for (let i = 0; i < 100; i++) {
      off.core.cycles += 10;
      off.mcu.readUint32(0x40054028);
      off.mcu.readUint32(0x50000010);
    }
    expect(off.skipper.request).toBe(0);
  });

  it('offers a polled register for re-reading only when reading it has no side effect', () => {
    const poll = (addr: number, before?: (mcu: RP2040) => void) => {
      const { mcu, core, skipper } = rig();
      before?.(mcu);
      core.PC = 0x20000100;
      for (let i = 0; i < 4; i++) {
        core.cycles += 6;
        mcu.readUint32(addr);
      }
      expect(skipper.request).toBe(Infinity);
      return { mcu, skipper };
    };
    // DMA CH0_CTRL_TRIG: the watch reads the live register
    const dma = poll(0x50000010);
    expect(dma.skipper.watch?.addr).toBe(0x50000010);
    expect(dma.skipper.watch?.read()).toBe(dma.skipper.watch?.value);
    const addr = poll(0x50000000, (mcu) => mcu.writeUint32(0x50000000, 0x20001000)); // CH0_READ_ADDR
    expect(addr.skipper.watch?.value).toBe(0x20001000);
    addr.mcu.writeUint32(0x50000000, 0x20002000);
    expect(addr.skipper.watch?.read()).toBe(0x20002000);
    // PIO0 FSTAT can be read again; PIO0 RXF0 pops the FIFO, UART0 DR pops the RX FIFO
    expect(poll(0x50200004).skipper.watch).not.toBeNull();
    expect(poll(0x50200020).skipper.watch).toBeNull();
    expect(poll(0x40034000).skipper.watch).toBeNull();
  });
});
