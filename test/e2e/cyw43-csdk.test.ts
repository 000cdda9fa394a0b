/**
 * The same CYW43439 model under C SDK programs (their cyw43 driver claims its own PIO state
 * machine and program variant): the LED blink and the UDP beacon that joins PicoW-Sim.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PicoWBoard } from '../../sim/board/picow.ts';
import { Cyw43439 } from '../../sim/cyw43/chip.ts';
import { VirtualNetwork } from '../../sim/net/network.ts';
import { cSdkProgram } from '../helpers/firmware.ts';

const blink = cSdkProgram('picow_blink.uf2');
const beacon = cSdkProgram('picow_udp_beacon_background.uf2');
const T = 120_000;

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe.skipIf(!blink)('CYW43439 under a C SDK program: picow_blink', () => {
  it('toggles the LED through CYW43 GPIO 0 at least 4 times in one simulated second', async () => {
    const chip = new Cyw43439();
    const board = await PicoWBoard.create({ firmware: blink!, devices: [chip] });
    cleanup.push(() => board.dispose());
    // let cyw43_arch_init finish, then count one second
    await board.runFor(1e9);
    const t0 = board.clock.nanos;
    const n0 = chip.ledHistory.length;
    await board.runFor(1e9);
    const inSecond = chip.ledHistory.slice(n0).filter((e) => e.nanos >= t0);
    expect(inSecond.length).toBeGreaterThanOrEqual(4);
    // alternating on/off, in simulated time order
    for (let i = 1; i < inSecond.length; i++) {
      expect(inSecond[i]!.on).toBe(!inSecond[i - 1]!.on);
      expect(inSecond[i]!.nanos).toBeGreaterThan(inSecond[i - 1]!.nanos);
    }
    expect(chip.busStateMachine).not.toBeNull();
  }, T);
});

describe.skipIf(!beacon)('CYW43439 under a C SDK program: picow_udp_beacon_background', () => {
  it('joins PicoW-Sim, gets a lease and broadcasts its packets through the station port', async () => {
    const chip = new Cyw43439({ identity: 'beacon-board' });
    const board = await PicoWBoard.create({ firmware: beacon!, devices: [chip], name: 'beacon-board' });
    cleanup.push(() => board.dispose());
    const net = new VirtualNetwork({ clock: board.simClock, hostIo: board.hostIo });
    cleanup.push(() => net.close());
    await net.start();
    net.attach(chip.port, board.name);
    // watch what leaves the radio: UDP to 255.255.255.255:4444
    const payloads: string[] = [];
    const toNet = chip.port.onTransmit;
    chip.port.onTransmit = (f) => {
      const isUdp4444 = f[12] === 0x08 && f[13] === 0x00 && f[23] === 17 && ((f[36]! << 8) | f[37]!) === 4444;
      if (isUdp4444 && f[30] === 255 && f[31] === 255 && f[32] === 255 && f[33] === 255) {
        const udpLen = (f[38]! << 8) | f[39]!;
        payloads.push(Buffer.from(f.subarray(42, 34 + udpLen)).toString('latin1'));
      }
      toNet?.(f);
    };
    board.start();
    await board.waitForOutput('Sent packet 3', { timeoutMs: T });
    expect(chip.associatedSsid).toBe('PicoW-Sim');
    expect(chip.stationLinkUp).toBe(true);
    // the example sends its text in a fixed-size, NUL-padded buffer
    expect(payloads.slice(0, 4).map((p) => p.replace(/\0+$/, ''))).toEqual(['0\n', '1\n', '2\n', '3\n']);
  }, T);
});
