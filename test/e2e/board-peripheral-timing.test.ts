import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PicoWBoard } from '../../sim/board/picow.ts';
import { bootToPrompt, runPy } from '../helpers/board.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();

/** Run the lines inside a function: no REPL echo of expression values, no globals shared with threads. */
function wrap(lines: string[]): string {
  return ['def __t():', ...lines.map((l) => '    ' + l), '__t()'].join('\n');
}

/** The numbers a script printed on its last line. */
function numbers(out: string): number[] {
  return out.trim().split('\n').at(-1)!.split(/\s+/).map(Number);
}

describe.skipIf(!fw)('peripheral timing as MicroPython sees it (simulated time)', () => {
  let board: PicoWBoard;
  beforeAll(async () => {
    board = await bootToPrompt(fw!);
  }, 120_000);
  afterAll(() => board?.dispose());

  it('an rp2.StateMachine at freq=2000 with [31] delays toggles its pin about 31 times a second', async () => {
    const out = await runPy(
      board,
      wrap([
        'import rp2, time',
        'from machine import Pin',
        '@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)',
        'def blink():',
        '    set(pins, 1) [31]',
        '    nop() [31]',
        '    set(pins, 0) [31]',
        '    nop() [31]',
        'sm = rp2.StateMachine(0, blink, freq=2000, set_base=Pin(15))',
        'p = Pin(15)',
        'sm.active(1)',
        't0 = time.ticks_ms(); n = 0; last = p.value()',
        'while time.ticks_diff(time.ticks_ms(), t0) < 1000:',
        '    v = p.value()',
        '    if v != last:',
        '        n += 1; last = v',
        'sm.active(0)',
        'print(n)',
      ]),
    );
    const [n] = numbers(out);
    expect(n).toBeGreaterThanOrEqual(30);
    expect(n).toBeLessThanOrEqual(32);
  });

  it('SPI(0) writes 4 KiB at 1 MHz in 32.8 ms', async () => {
    const out = await runPy(
      board,
      wrap([
        'import time',
        'from machine import SPI',
        's = SPI(0, baudrate=1_000_000)',
        'buf = bytearray(4096)',
        't0 = time.ticks_us(); s.write(buf); t1 = time.ticks_us()',
        'print(time.ticks_diff(t1, t0))',
      ]),
    );
    const [us] = numbers(out);
    expect(us).toBeGreaterThanOrEqual(32_768);
    expect(us).toBeLessThan(33_500);
  });

  it('a 16 KiB rp2.DMA memory copy in words takes the 30-80 µs MicroPython expects of a Pico', async () => {
    const out = await runPy(
      board,
      wrap([
        'import time, machine, rp2',
        'src = bytearray(16 * 1024); dst = bytearray(16 * 1024)',
        'src[-1] = 7',
        'd = rp2.DMA()',
        'ts = []',
        'for i in range(4):',
        '    d.read = src; d.write = dst; d.count = len(dst) // 4',
        '    d.ctrl = d.pack_ctrl()',
        '    st = machine.disable_irq()',
        '    t0 = time.ticks_us(); d.active(True)',
        '    while d.active(): pass',
        '    ts.append(time.ticks_diff(time.ticks_us(), t0)); machine.enable_irq(st)',
        'd.close()',
        'print(dst[-1], *ts)',
      ]),
    );
    const [last, ...ts] = numbers(out);
    expect(last).toBe(7);
    for (const t of ts.slice(1)) {
      expect(t).toBeGreaterThanOrEqual(33);
      expect(t).toBeLessThan(80);
    }
  });

  it('I2C(0, freq=400000) with nobody on the bus: scan() is [] in a few ms, writeto raises EIO', async () => {
    const out = await runPy(
      board,
      wrap([
        'import time',
        'from machine import I2C',
        'i = I2C(0, freq=400000)',
        't0 = time.ticks_us(); r = i.scan(); t = time.ticks_diff(time.ticks_us(), t0)',
        'try:',
        '    i.writeto(0x3c, b"x"); e = 0',
        'except OSError as ex:',
        '    e = ex.errno',
        'print(len(r), t, e)',
      ]),
    );
    const [found, us, errno] = numbers(out);
    expect(found).toBe(0);
    expect(us).toBeLessThan(20_000);
    expect(errno).toBe(5);
  });

  it('lightsleep sleeps for the time asked, on one core and when both cores call it', async () => {
    const out = await runPy(
      board,
      wrap([
        'import _thread, time',
        'from machine import lightsleep',
        'done = [False]',
        'def entry(th=True):',
        '    for _ in range(5):',
        '        lightsleep(250)',
        '    if th: done[0] = True',
        't0 = time.ticks_ms(); lightsleep(300); single = time.ticks_diff(time.ticks_ms(), t0)',
        't0 = time.ticks_ms()',
        '_thread.start_new_thread(entry, ())',
        'time.sleep_ms(50)',
        'entry(False)',
        'while not done[0]:',
        '    time.sleep_ms(10)',
        'print(single, time.ticks_diff(time.ticks_ms(), t0))',
      ]),
    );
    const [single, both] = numbers(out);
    expect(single).toBeGreaterThanOrEqual(299);
    expect(single).toBeLessThanOrEqual(320);
    // rp2_lightsleep_thread.py test_cpu0_also_lightsleep: at least 2 sleeps of 250 ms, at most twice all five
    expect(both).toBeGreaterThanOrEqual(480);
    expect(both).toBeLessThanOrEqual(2520);
  });
});
