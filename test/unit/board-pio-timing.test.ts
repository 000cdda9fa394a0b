import { RP2040 } from 'rp2040js';
import { describe, expect, it } from 'vitest';
import { BoardClock } from '../../sim/board/board-clock.ts';
import { TimedPio } from '../../sim/board/pio-timing.ts';

// RP2040 datasheet §3.7 (PIO registers), §2.19 (IO_BANK0 FUNCSEL).
const PIO0 = 0x50200000;
const CTRL = 0x000;
const FSTAT = 0x004;
const TXF0 = 0x010;
const RXF0 = 0x020;
const INSTR_MEM0 = 0x048;
const SM0_CLKDIV = 0x0c8;
const SM0_EXECCTRL = 0x0cc;
const SM0_SHIFTCTRL = 0x0d0;
const SM0_PINCTRL = 0x0dc;
const IO_BANK0 = 0x40014000;
const FUNCSEL_PIO0 = 6;
const PIN = 2;

// PIO instructions (§3.4): SET pins/pindirs, NOP (MOV Y, Y), JMP, PULL block, OUT X, IN X, PUSH.
const setPins = (v: number, delay = 0): number => (0b111 << 13) | (delay << 8) | (0 << 5) | v;
const setPindirs = (v: number): number => (0b111 << 13) | (4 << 5) | v;
const nop = (delay = 0): number => (0b101 << 13) | (delay << 8) | (2 << 5) | 2;
const jmp = (addr: number): number => addr & 31;
const pull = (): number => (0b100 << 13) | (1 << 7) | (1 << 5);
const push = (): number => (0b100 << 13) | (1 << 5);
const outX = (n: number): number => (0b011 << 13) | (1 << 5) | (n & 31);
const inX = (n: number): number => (0b010 << 13) | (1 << 5) | (n & 31);
const jmpXdec = (addr: number): number => (0b000 << 13) | (2 << 5) | (addr & 31);

function rig(program: number[], clkdiv: number, wrap: [number, number] = [0, program.length - 1]) {
  const clock = new BoardClock();
  const mcu = new RP2040(clock as unknown as ConstructorParameters<typeof RP2040>[0]);
  const pio = TimedPio.of(mcu);
  const w = (a: number, v: number): void => mcu.writeUint32(a, v >>> 0);
  mcu.writeUint32(IO_BANK0 + 8 * PIN + 4, FUNCSEL_PIO0);
  program.forEach((ins, i) => w(PIO0 + INSTR_MEM0 + 4 * i, ins));
  w(PIO0 + SM0_CLKDIV, Math.floor(clkdiv) * 65536 + Math.round((clkdiv % 1) * 256) * 256);
  w(PIO0 + SM0_EXECCTRL, (wrap[1] << 12) | (wrap[0] << 7));
  w(PIO0 + SM0_PINCTRL, (1 << 26) | (PIN << 5)); // SET count 1 at PIN
  let toggles = 0;
  // edges of the level the pin drives (its direction change from input is not one)
  mcu.gpio[PIN]!.addListener((v, old) => void (v <= 1 && old <= 1 && toggles++));
  return { clock, mcu, pio, w, r: (a: number) => mcu.readUint32(a) >>> 0, toggles: () => toggles };
}

describe('PIO state machines in simulated time (RP2040 datasheet §3.5.5)', () => {
  it('runs one instruction per clk_sys / CLKDIV: CLKDIV 125 gives 1 M instructions per simulated second', () => {
    const { clock, pio, w } = rig([nop(), jmp(0)], 125);
    w(PIO0 + CTRL, 1);
    const s0 = pio.steps;
    clock.tick(10e6); // 10 ms
    expect(pio.steps - s0).toBeGreaterThanOrEqual(9_990);
    expect(pio.steps - s0).toBeLessThanOrEqual(10_001);
  });

  it("an rp2.StateMachine at freq=2000 running set(pins,1)[31]; nop()[31]; set(pins,0)[31]; nop()[31] toggles ~31 times a second", () => {
    // 125 MHz / 2000 = CLKDIV 62500; 4 instructions of 32 cycles = 64 ms per period: 15.6 periods, 31 edges a second
    const { clock, w, toggles } = rig([setPindirs(1), setPins(1, 31), nop(31), setPins(0, 31), nop(31)], 62500, [1, 4]);
    w(PIO0 + CTRL, 1);
    clock.tick(1e9);
    expect(toggles()).toBeGreaterThanOrEqual(30);
    expect(toggles()).toBeLessThanOrEqual(32);
  });

  it('does not run a state machine ahead of the clock, nor on a wall-clock timer', async () => {
    const { clock, pio, w, r } = rig([nop(), jmp(0)], 1);
    w(PIO0 + CTRL, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pio.steps).toBeLessThanOrEqual(1);
    clock.tick(800); // 100 cycles at 125 MHz
    r(PIO0 + CTRL); // a read brings the state machines up to date
    expect(pio.steps).toBeGreaterThanOrEqual(99);
    expect(pio.steps).toBeLessThanOrEqual(101);
  });

  it('a stalled PULL costs nothing and resumes when the CPU writes the FIFO; RX sees the result at its cycle', () => {
    // pull; out x, 32; loop: jmp x-- loop; in x, 32 (x is 0xffffffff after the loop); push
    const { clock, pio, w, r } = rig([pull(), outX(0), jmpXdec(2), inX(0), push()], 1, [0, 4]);
    w(PIO0 + SM0_SHIFTCTRL, 0); // no autopull/autopush
    w(PIO0 + CTRL, 1);
    clock.tick(1e6);
    const stalledSteps = pio.steps;
    expect(stalledSteps).toBeLessThan(10);
    expect(r(PIO0 + FSTAT) & (1 << 8)).toBeTruthy(); // RX0 empty
    w(PIO0 + TXF0, 999); // the loop then takes 1000 cycles = 8 µs
    clock.tick(7900);
    expect(r(PIO0 + FSTAT) & (1 << 8)).toBeTruthy();
    clock.tick(200);
    expect(r(PIO0 + FSTAT) & (1 << 8)).toBeFalsy();
    expect(r(PIO0 + RXF0)).toBe(0xffffffff);
  });
});
