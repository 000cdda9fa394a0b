import { RP2040 } from 'rp2040js';
import { describe, expect, it } from 'vitest';
import { BoardClock } from '../../sim/board/board-clock.ts';
import { DR_BE, Pl011Uart, UART_INT_BE, UART_INT_RT, UART_INT_RX, UART_INT_TX, uartBaud, uartFrameBits } from '../../sim/board/uart.ts';

const DR = 0x00;
const FR = 0x18;
const IBRD = 0x24;
const FBRD = 0x28;
const LCRH = 0x2c;
const CR = 0x30;
const IFLS = 0x34;
const IMSC = 0x38;
const RIS = 0x3c;
const MIS = 0x40;
const ICR = 0x44;

function rig() {
  const clock = new BoardClock();
  const mcu = new RP2040(clock as unknown as ConstructorParameters<typeof RP2040>[0]);
  const irqs: boolean[] = [];
  const setInterrupt = mcu.setInterrupt.bind(mcu);
  mcu.setInterrupt = (irq, v) => {
    if (irq === 20) irqs.push(v);
    setInterrupt(irq, v);
  };
  const uart = new Pl011Uart(mcu, 'UART0', 20, { tx: 20, rx: 21 }, clock);
  const out: { byte: number; nanos: number }[] = [];
  uart.onByte = (byte) => out.push({ byte, nanos: clock.nanos });
  // 115200 baud from a 125 MHz clk_peri as the SDK sets it: IBRD 67, FBRD 52; 8N1 with FIFOs.
  uart.writeUint32(IBRD, 67);
  uart.writeUint32(FBRD, 52);
  uart.writeUint32(LCRH, (3 << 5) | (1 << 4));
  uart.writeUint32(CR, 0x301);
  return { clock, mcu, uart, out, irqs };
}

describe('PL011 UART', () => {
  it('derives the baud rate from the divisors and the frame length from LCR_H', () => {
    expect(uartBaud(125e6, 67, 52)).toBeCloseTo(125e6 / (16 * (67 + 52 / 64)), 6);
    expect(Math.abs(uartBaud(125e6, 67, 52) - 115200) / 115200).toBeLessThan(0.001);
    expect(uartFrameBits(3 << 5)).toBe(10); // 8N1
    expect(uartFrameBits((3 << 5) | 2 | 8)).toBe(12); // 8E2: parity and two stop bits
    expect(uartFrameBits(0)).toBe(7); // 5N1
  });

  it('shifts characters out one frame time apart in simulated time', () => {
    const { clock, uart, out } = rig();
    const frame = (10 * 1e9) / uartBaud(125e6, 67, 52);
    expect(uart.frameNanos).toBeCloseTo(frame, 3);
    for (const c of 'abc') uart.writeUint32(DR, c.charCodeAt(0));
    expect(uart.readUint32(FR) & (1 << 3)).toBeTruthy(); // BUSY
    clock.tick(frame - 1);
    expect(out).toEqual([]);
    clock.tick(2 * frame + 2);
    expect(out.map((o) => String.fromCharCode(o.byte)).join('')).toBe('abc');
    expect(out[1]!.nanos - out[0]!.nanos).toBeCloseTo(frame, 3);
    expect(uart.readUint32(FR) & (1 << 7)).toBeTruthy(); // TXFE
  });

  it('reports TX FIFO levels: full at 32 with FIFOs (behind the shift register), at 1 without', () => {
    const { uart } = rig();
    for (let i = 0; i < 33; i++) uart.writeUint32(DR, i);
    expect(uart.readUint32(FR) & (1 << 5)).toBeTruthy(); // TXFF
    expect(uart.txLevel).toBe(32);
    uart.writeUint32(DR, 99); // dropped
    expect(uart.txLevel).toBe(32);
    uart.writeUint32(LCRH, 3 << 5); // FEN off flushes and leaves a 1-deep holding register
    expect(uart.txLevel).toBe(0);
    uart.writeUint32(DR, 1);
    expect(uart.readUint32(FR) & (1 << 5)).toBeTruthy();
  });

  it('receives host bytes at line rate and raises RX at the trigger level, RT on a quiet line', () => {
    const { clock, mcu, uart, irqs } = rig();
    uart.writeUint32(IFLS, 0 << 3); // RX trigger at 1/8 = 4 characters
    uart.writeUint32(IMSC, UART_INT_RX | UART_INT_RT);
    const frame = uart.frameNanos;
    for (const b of [1, 2, 3, 4, 5]) uart.feedByte(b);
    clock.tick(frame * 3 + 1);
    expect(uart.rxLevel).toBe(3);
    expect(uart.readUint32(MIS) & UART_INT_RX).toBe(0);
    clock.tick(frame);
    expect(uart.rxLevel).toBe(4);
    expect(uart.readUint32(MIS) & UART_INT_RX).toBeTruthy();
    expect(irqs.at(-1)).toBe(true);
    expect(mcu.core.pendingInterrupts & (1 << 20)).toBeTruthy();
    for (let i = 0; i < 4; i++) expect(uart.readUint32(DR)).toBe(i + 1);
    expect(uart.readUint32(RIS) & UART_INT_RX).toBe(0);
    clock.tick(frame); // the 5th arrives, below the trigger
    expect(uart.rxLevel).toBe(1);
    expect(uart.readUint32(RIS) & UART_INT_RT).toBe(0);
    clock.tick((32 * 1e9) / uart.baudRate + 1); // 32 quiet bit times
    expect(uart.readUint32(MIS) & UART_INT_RT).toBeTruthy();
    expect(uart.readUint32(DR)).toBe(5);
    expect(uart.readUint32(RIS) & UART_INT_RT).toBe(0);
    expect(uart.readUint32(FR) & (1 << 4)).toBeTruthy(); // RXFE
  });

  it('takes 1.0417 ms for a byte at 9600 baud 8N1 (SDK divisors IBRD 813, FBRD 51 at 125 MHz)', () => {
    const { clock, uart, out } = rig();
    uart.writeUint32(IBRD, 813);
    uart.writeUint32(FBRD, 51);
    uart.writeUint32(LCRH, (3 << 5) | (1 << 4));
    uart.writeUint32(DR, 0x55);
    clock.tick(1.04e6);
    expect(out).toEqual([]);
    expect(uart.readUint32(FR) & (1 << 3)).toBeTruthy(); // BUSY while the stop bit is still on the line
    clock.tick(0.01e6);
    expect(out.length).toBe(1);
    expect(out[0]!.nanos / 1e6).toBeCloseTo(1.0417, 3);
    expect(uart.readUint32(FR) & (1 << 3)).toBe(0);
  });

  it('raises TX only when the FIFO drains through the trigger level; UARTICR clears it for good', () => {
    const { clock, uart, irqs } = rig();
    uart.writeUint32(IFLS, 0); // TX trigger at 1/8 = 4
    uart.writeUint32(IMSC, UART_INT_TX);
    // Enabled with an empty FIFO: no interrupt (PL011: a transition, not the level).
    expect(uart.readUint32(RIS) & UART_INT_TX).toBe(0);
    expect(irqs.includes(true)).toBe(false);
    const frame = uart.frameNanos;
    for (let i = 0; i < 8; i++) uart.writeUint32(DR, 0x41 + i); // 1 in the shift register, 7 queued
    expect(uart.txLevel).toBe(7);
    clock.tick(frame * 2 + 1); // 7 -> 6 -> 5: still above
    expect(uart.readUint32(MIS) & UART_INT_TX).toBe(0);
    clock.tick(frame); // 5 -> 4: crossing
    expect(uart.txLevel).toBe(4);
    expect(uart.readUint32(MIS) & UART_INT_TX).toBeTruthy();
    uart.writeUint32(ICR, UART_INT_TX);
    expect(uart.readUint32(RIS) & UART_INT_TX).toBe(0);
    clock.tick(frame * 10); // drains to empty: no new crossing, stays clear
    expect(uart.readUint32(RIS) & UART_INT_TX).toBe(0);
    expect(irqs.at(-1)).toBe(false);
    // A write that takes the FIFO above the level and lets it drain raises it once more.
    for (let i = 0; i < 6; i++) uart.writeUint32(DR, 0x30 + i);
    clock.tick(frame * 2 + 1);
    expect(uart.readUint32(RIS) & UART_INT_TX).toBeTruthy();
  });

  it('receives a break from the wire as a NUL with BE, and raises BE', () => {
    const { uart } = rig();
    uart.writeUint32(IMSC, UART_INT_BE);
    uart.receiveBreak();
    expect(uart.readUint32(MIS) & UART_INT_BE).toBeTruthy();
    expect(uart.readUint32(DR)).toBe(DR_BE);
    uart.writeUint32(ICR, UART_INT_BE);
    expect(uart.readUint32(MIS)).toBe(0);
  });
});
