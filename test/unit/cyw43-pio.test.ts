import { afterEach, describe, expect, it } from 'vitest';
import { PicoHost, PROGRAMS } from './cyw43-harness.ts';

let host: PicoHost | null = null;
afterEach(() => {
  host?.dispose();
  host = null;
});

describe('cyw43 bus transport over a PIO state machine', () => {
  it('answers FEEDBEAD in 16-bit mode; the first TX FIFO word is the half-word-swapped command', () => {
    host = new PicoHost();
    host.power(true);
    host.advance(1e6);
    expect(host.readSwapped(0, 0x14)).toBe(0xfeedbead);
    expect(host.txFifoLog[0]! >>> 0).toBe(0xa0044000);
    expect(host.chip.busStateMachine).toEqual({ pio: 1, sm: 0 });
  });

  it('returns nothing while WL_REG_ON is low', () => {
    host = new PicoHost();
    host.power(false);
    host.advance(1e6);
    expect(host.readSwapped(0, 0x14)).toBe(0);
  });

  for (const program of PROGRAMS) {
    for (const [pio, sm, offset] of [
      [0, 0, 0],
      [1, 3, 7],
      [0, 2, 20],
    ] as const) {
      it(`works with ${program.name} on PIO${pio} SM${sm} at offset ${offset}`, () => {
        host = new PicoHost({ program, pio, sm, offset });
        host.busInit();
        expect(host.chip.busStateMachine).toEqual({ pio, sm });
        // 32-bit big-endian mode from here on
        expect(host.readReg(0, 0x14, 4)).toBe(0xfeedbead);
        host.writeReg(0, 0x18, 4, 0x12345678);
        expect(host.readReg(0, 0x18, 4)).toBe(0x12345678);
        // backplane read with the F1 response delay: chip id
        expect(host.readBackplane(0x18000000, 4) & 0xffff).toBe(43439);
      });
    }
  }

  it('runs the state machine in simulated time: a 64-byte write takes at least its bit time', () => {
    host = new PicoHost({ clkdiv: 4 });
    host.busInit();
    const t0 = host.clock.nanos;
    host.writeBytes(1, 0x8000, new Uint8Array(64));
    const bits = (64 + 4) * 8;
    // two PIO cycles per bit at clk_sys/4 = 31.25 MHz
    expect(host.clock.nanos - t0).toBeGreaterThanOrEqual(bits * 2 * 32);
  });

  it('keeps a DMA-fed state machine running: a 256-byte write takes its bit time, not two clock alarms per word', () => {
    host = new PicoHost({ clkdiv: 4 });
    host.busInit();
    // Alarms the transport sets to run the state machine, and zero-delay DMA transfers that had
    // to wait for the clock to pass them (rather than running when the FIFO asked for data).
    let busAlarms = 0;
    const schedule = host.clock.schedule.bind(host.clock);
    host.clock.schedule = (delay, cb) => {
      busAlarms++;
      return schedule(delay, cb);
    };
    const alarm = (host.mcu.dma.channels[0] as unknown as { transferAlarm: { callback: () => void } }).transferAlarm;
    const transfer = alarm.callback;
    let dmaAlarms = 0;
    alarm.callback = () => {
      dmaAlarms++;
      transfer();
    };
    const data = Uint8Array.from({ length: 256 }, (_, k) => (k * 7 + 3) & 0xff);
    const t0 = host.clock.nanos;
    host.writeBytes(1, 0x8000, data, { dma: true });
    const elapsed = host.clock.nanos - t0;
    host.clock.schedule = schedule;
    alarm.callback = transfer;
    const bits = (256 + 4) * 8;
    expect(elapsed).toBeGreaterThanOrEqual(bits * 2 * 32);
    expect(elapsed).toBeLessThan(bits * 2 * 32 * 1.5);
    expect(dmaAlarms).toBeLessThanOrEqual(8); // the first FIFO fill; 65 words in all
    expect(busAlarms).toBeLessThan(16);
    expect(host.readBytes(1, 0x8000, 256)).toEqual(data);
  });

});
