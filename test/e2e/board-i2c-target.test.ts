/**
 * machine.I2CTarget with the reference firmware: I2C1 as a target on GP6/GP7, wired to a SoftI2C
 * controller bit-banged on GP4/GP5 (`--wire GP4:GP6 --wire GP5:GP7`, the wiring of MicroPython's
 * tests/extmod_hardware/machine_i2c_target.py). The target answers only through the pins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PicoW } from '../../sim/index.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();

describe.skipIf(!fw)('machine.I2CTarget through jumper wires', () => {
  let pico: PicoW;
  beforeAll(async () => {
    pico = await PicoW.boot({ firmware: fw!, wires: ['GP4:GP6', 'GP5:GP7'] });
  }, 120_000);
  afterAll(async () => {
    await pico?.dispose();
  });

  it('a memory target: scanned, written and read back by a SoftI2C controller', async () => {
    const out = await pico.exec(
      [
        'from machine import Pin, SoftI2C, I2CTarget',
        'mem = bytearray(b"01234567")',
        'c = SoftI2C(scl=5, sda=4)',
        't = I2CTarget(1, addr=67, mem=mem)',
        'Pin(5, Pin.OPEN_DRAIN, Pin.PULL_UP); Pin(4, Pin.OPEN_DRAIN, Pin.PULL_UP)',
        'print(c.scan())',
        'c.writeto_mem(67, 6, b"test")',
        'print(mem)',
        'print(c.readfrom_mem(67, 0, 12))',
        't.deinit()',
        'print(c.scan())',
      ].join('\n'),
    );
    expect(out).toBe("[67]\nbytearray(b'st2345te')\nb'st2345test23'\n[]\n");
  });

  it('a target whose IRQ handler answers each read request (RD_REQ, SCL stretched meanwhile)', async () => {
    const out = await pico.exec(
      [
        'from machine import Pin, SoftI2C, I2CTarget',
        'ev = [0] * 8',
        'n = 0',
        'def h(t):',
        '    global n',
        '    f = t.irq().flags()',
        '    ev[n] = f',
        '    n += 1',
        '    if f & I2CTarget.IRQ_READ_REQ: t.write(b"Q")',
        'c = SoftI2C(scl=5, sda=4)',
        't = I2CTarget(1, addr=67)',
        't.irq(h, I2CTarget.IRQ_ADDR_MATCH_READ | I2CTarget.IRQ_READ_REQ | I2CTarget.IRQ_END_READ, hard=True)',
        'Pin(5, Pin.OPEN_DRAIN, Pin.PULL_UP); Pin(4, Pin.OPEN_DRAIN, Pin.PULL_UP)',
        'print(c.readfrom(67, 3))',
        '# the NACK of the last byte (RX_DONE) asks once more, as on the chip',
        'print(ev[:n] == [I2CTarget.IRQ_ADDR_MATCH_READ] + [I2CTarget.IRQ_READ_REQ] * 4 + [I2CTarget.IRQ_END_READ])',
        't.deinit()',
      ].join('\n'),
    );
    expect(out).toBe("b'QQQ'\nTrue\n");
  });
});
