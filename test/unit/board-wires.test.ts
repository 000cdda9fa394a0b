import { RP2040 } from 'rp2040js';
import { describe, expect, it } from 'vitest';
import { BoardClock } from '../../sim/board/board-clock.ts';
import { DR_BE, Pl011Uart } from '../../sim/board/uart.ts';
import { JumperWires, parseWireSpec } from '../../sim/board/wires.ts';
import { silentLogger } from '../../sim/log.ts';

const DR = 0x00;
const IBRD = 0x24;
const FBRD = 0x28;
const LCRH = 0x2c;
const CR = 0x30;
/** IO_BANK0 GPIOx_CTRL.FUNCSEL values (§2.19.2). */
const F_UART = 2;
const F_SIO = 5;
/** The level the pad sees (GPIO STATUS.INFROMPAD, §2.19.6.1), whatever the input enable. */
const level = (pin: { status: number }): boolean => !!(pin.status & (1 << 17));

function rig(wires: string[]) {
  const clock = new BoardClock();
  const mcu = new RP2040(clock as unknown as ConstructorParameters<typeof RP2040>[0]);
  const uarts = [0, 1].map((i) => {
    const u = new Pl011Uart(mcu, `UART${i}`, 20 + i, { tx: 20 + 2 * i, rx: 21 + 2 * i }, clock);
    (mcu.uart as unknown as Pl011Uart[])[i] = u;
    u.writeUint32(IBRD, 813); // 9600 baud at 125 MHz
    u.writeUint32(FBRD, 51);
    u.writeUint32(LCRH, (3 << 5) | (1 << 4));
    u.writeUint32(CR, 0x301);
    return u;
  });
  const w = new JumperWires(wires.map((w) => parseWireSpec(w)));
  w.attach({ mcu, clock, hostIo: { begin: () => ({ release() {} }), notify() {} }, logger: silentLogger(), emit: () => undefined });
  return { clock, mcu, uarts };
}

describe('jumper wires', () => {
  it('parses PIN:PIN and rejects pins that are not on the header', () => {
    expect(parseWireSpec('GP0:GP1')).toEqual({ a: 0, b: 1 });
    expect(parseWireSpec('gpio4:5')).toEqual({ a: 4, b: 5 });
    expect(() => parseWireSpec('GP0')).toThrow(/two pins/);
    expect(() => parseWireSpec('GP2:GP2')).toThrow(/both ends/);
    expect(() => parseWireSpec('GP0:GP23')).toThrow(/CYW43439/);
    expect(() => parseWireSpec('GP0:GP40')).toThrow(/not a GPIO/);
  });

  it('lets a driven output set the other pin; pulls decide when nothing drives', () => {
    const { mcu } = rig(['GP2:GP3']);
    const [p2, p3] = [mcu.gpio[2]!, mcu.gpio[3]!];
    // At reset the pads pull down: the net is low.
    expect(level(p3)).toBe(false);
    p2.ctrl = F_SIO;
    mcu.sio.gpioOutputEnable |= 1 << 2;
    mcu.sio.gpioValue |= 1 << 2;
    p2.checkForUpdates();
    expect(level(p3)).toBe(true);
    mcu.sio.gpioValue &= ~(1 << 2);
    p2.checkForUpdates();
    expect(level(p3)).toBe(false);
    // Output off, pull-up on GP3 (PADS: PUE bit 3, PDE bit 2 cleared).
    mcu.sio.gpioOutputEnable &= ~(1 << 2);
    p3.padValue = (p3.padValue & ~(1 << 2)) | (1 << 3);
    p2.padValue &= ~(1 << 2);
    p3.checkForUpdates();
    p2.checkForUpdates();
    expect(level(p2)).toBe(true);
  });

  it('carries UART characters from a TX pin to the RX pin at the other end when the stop bit ends', () => {
    const { clock, mcu, uarts } = rig(['GP0:GP5']);
    mcu.gpio[0]!.ctrl = F_UART; // UART0 TX
    mcu.gpio[5]!.ctrl = F_UART; // UART1 RX
    uarts[0]!.writeUint32(DR, 0x41);
    clock.tick(uarts[0]!.frameNanos - 1);
    expect(uarts[1]!.rxLevel).toBe(0);
    clock.tick(2);
    expect(uarts[1]!.rxLevel).toBe(1);
    expect(uarts[1]!.readUint32(DR)).toBe(0x41);
    // Not wired to UART1's own RX: its TX goes nowhere.
    mcu.gpio[4]!.ctrl = F_UART;
    uarts[1]!.writeUint32(DR, 0x42);
    clock.tick(uarts[1]!.frameNanos * 2);
    expect(uarts[0]!.rxLevel + uarts[1]!.rxLevel).toBe(0);
  });

  it('delivers a break held for a frame as a NUL with BE; a shorter one as nothing', () => {
    const { clock, mcu, uarts } = rig(['GP0:GP1']);
    mcu.gpio[0]!.ctrl = F_UART;
    mcu.gpio[1]!.ctrl = F_UART;
    const u = uarts[0]!;
    const lcrh = u.readUint32(LCRH);
    u.writeUint32(LCRH, lcrh | 1);
    expect(level(mcu.gpio[1]!)).toBe(false); // the line is held low
    clock.tick(u.frameNanos + 1);
    u.writeUint32(LCRH, lcrh);
    expect(level(mcu.gpio[1]!)).toBe(true);
    expect(u.readUint32(DR)).toBe(DR_BE);
    u.writeUint32(LCRH, lcrh | 1);
    clock.tick(u.frameNanos / 2);
    u.writeUint32(LCRH, lcrh);
    clock.tick(u.frameNanos);
    expect(u.rxLevel).toBe(0);
  });
});
