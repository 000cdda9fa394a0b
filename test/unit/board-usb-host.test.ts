/**
 * The USB host side: descriptor parsing, and a whole enumeration against a device model written
 * here (descriptors laid out by hand from USB 2.0 §9.6 and CDC PSTN 1.2), with EP0 packets of
 * 8 bytes so every descriptor arrives in several packets.
 */
import type { RPUSBController } from 'rp2040js';
import { describe, expect, it, vi } from 'vitest';
import { Logger } from '../../sim/log.ts';
import {
  decodeStringDescriptor,
  describeLineCoding,
  encodeLineCoding,
  findCdcEndpoints,
  parseDeviceDescriptor,
  parseLangIds,
  parseLineCoding,
  UsbCdcHost,
} from '../../sim/board/usb-cdc-host.ts';

const iface = (num: number, endpoints: number, cls: number, sub = 0, proto = 0): number[] => [9, 4, num, 0, endpoints, cls, sub, proto, 0];
const endpoint = (addr: number, type: number, size = 64): number[] => [7, 5, addr, type, size, 0, type === 3 ? 16 : 0];
const cdcFunctional = (comm: number, data: number): number[] => [
  ...[5, 0x24, 0x00, 0x20, 0x01],
  ...[5, 0x24, 0x01, 0x00, data],
  ...[4, 0x24, 0x02, 0x02],
  ...[5, 0x24, 0x06, comm, data],
];
function config(body: number[], interfaces: number): number[] {
  const total = 9 + body.length;
  return [9, 2, total & 0xff, total >> 8, interfaces, 1, 0, 0x80, 50, ...body];
}
const stringDesc = (s: string): number[] => [2 + 2 * s.length, 3, ...[...s].flatMap((c) => [c.charCodeAt(0), 0])];

/** TinyUSB's usual layout (IAD, communication interface 0 with 0x81, data interface 1 with 0x02/0x82). */
const TINYUSB_STYLE = config(
  [
    ...[8, 11, 0, 2, 2, 2, 0, 0],
    ...iface(0, 1, 2, 2, 0),
    ...cdcFunctional(0, 1),
    ...endpoint(0x81, 3, 8),
    ...iface(1, 2, 0x0a),
    ...endpoint(0x02, 2),
    ...endpoint(0x82, 2),
  ],
  2,
);

/** Data interface first, other endpoint numbers, no IAD; a vendor interface with bulk endpoints before it. */
const REVERSED = config(
  [
    ...iface(0, 2, 0xff),
    ...endpoint(0x81, 2),
    ...endpoint(0x01, 2),
    ...iface(1, 2, 0x0a),
    ...endpoint(0x83, 2),
    ...endpoint(0x04, 2),
    ...iface(2, 1, 2, 2, 1),
    ...cdcFunctional(2, 1),
    ...endpoint(0x85, 3, 8),
  ],
  3,
);

describe('USB descriptor parsing', () => {
  it('finds the CDC ACM function in either interface order, whatever the endpoint numbers', () => {
    expect(findCdcEndpoints(TINYUSB_STYLE)).toEqual({ commInterface: 0, dataIn: 2, dataOut: 2 });
    expect(findCdcEndpoints(REVERSED)).toEqual({ commInterface: 2, dataIn: 3, dataOut: 4 });
  });

  it('finds nothing without a CDC data interface with bulk IN and OUT', () => {
    expect(findCdcEndpoints(config([...iface(0, 2, 0xff), ...endpoint(0x81, 2), ...endpoint(0x01, 2)], 1))).toBeNull();
    expect(findCdcEndpoints(config([...iface(0, 1, 0x0a), ...endpoint(0x81, 2)], 1))).toBeNull();
    expect(findCdcEndpoints([9, 2, 200, 0])).toBeNull();
  });

  it('reads the device descriptor, string descriptors and line coding', () => {
    const dev = [18, 1, 0x00, 0x02, 0x02, 0, 0, 64, 0x09, 0x12, 0x01, 0x00, 0x01, 0x01, 1, 2, 3, 1];
    expect(parseDeviceDescriptor(dev)).toEqual({
      usbVersion: 0x200,
      deviceClass: 2,
      maxPacketSize0: 64,
      vendorId: 0x1209,
      productId: 0x0001,
      deviceVersion: 0x101,
      iManufacturer: 1,
      iProduct: 2,
      iSerialNumber: 3,
      numConfigurations: 1,
    });
    expect(parseDeviceDescriptor(dev.slice(0, 17))).toBeNull();
    expect(parseDeviceDescriptor([18, 2, ...dev.slice(2)])).toBeNull();
    expect(decodeStringDescriptor(stringDesc('Pico µ'))).toBe('Pico µ');
    expect(decodeStringDescriptor([2, 3])).toBe('');
    expect(decodeStringDescriptor([4, 2, 0x41, 0])).toBeNull();
    expect(parseLangIds([6, 3, 0x09, 0x04, 0x07, 0x04])).toEqual([0x0409, 0x0407]);
    const coding = { baudRate: 115200, stopBits: 0, parity: 0, dataBits: 8 };
    expect([...encodeLineCoding(coding)]).toEqual([0x00, 0xc2, 0x01, 0x00, 0, 0, 8]);
    expect(parseLineCoding(encodeLineCoding(coding))).toEqual(coding);
    expect(describeLineCoding(coding)).toBe('115200 8N1');
    expect(describeLineCoding({ baudRate: 9600, stopBits: 2, parity: 2, dataBits: 7 })).toBe('9600 7E2');
  });
});

interface Setup {
  bmRequestType: number;
  bRequest: number;
  wValue: number;
  wIndex: number;
  wLength: number;
}

/**
 * rp2040js's device-side surface of the USB controller as the host uses it, with a device model
 * behind it: answers on EP0 in `maxPacket0`-byte packets, takes OUT data stages when it arms EP0,
 * and records every request. Events run from a queue, as the controller's alarms would.
 */
class FakeBus {
  onUSBEnabled?: () => void;
  onResetReceived?: () => void;
  onEndpointWrite?: (endpoint: number, buffer: Uint8Array) => void;
  onEndpointRead?: (endpoint: number, byteCount: number) => void;
  readonly requests: Setup[] = [];
  readonly received: { endpoint: number; data: number[] }[] = [];
  lineCoding = [0x80, 0x25, 0, 0, 0, 0, 8];
  private readonly events: (() => void)[] = [];
  private outStage: Setup | null = null;

  constructor(
    private readonly descriptors: { device: number[]; config: number[]; strings: Map<number, number[]> },
    private readonly commInterface: number,
    private readonly maxPacket0 = 8,
  ) {}

  resetDevice(): void {
    this.events.push(() => this.onResetReceived?.());
  }

  sendSetupPacket(p: Uint8Array): void {
    const s: Setup = {
      bmRequestType: p[0]!,
      bRequest: p[1]!,
      wValue: p[2]! | (p[3]! << 8),
      wIndex: p[4]! | (p[5]! << 8),
      wLength: p[6]! | (p[7]! << 8),
    };
    this.requests.push(s);
    this.events.push(() => this.setup(s));
  }

  endpointReadDone(endpoint: number, data: Uint8Array): void {
    const bytes = [...data];
    this.events.push(() => {
      if (endpoint === 0 && this.outStage) {
        this.lineCoding = bytes;
        this.outStage = null;
        this.in(0, []);
      } else {
        this.received.push({ endpoint, data: bytes });
      }
    });
  }

  /** The device arms an OUT endpoint. */
  armOut(endpoint: number, size: number): void {
    this.events.push(() => this.onEndpointRead?.(endpoint, size));
  }

  in(endpoint: number, data: number[]): void {
    this.events.push(() => this.onEndpointWrite?.(endpoint, Uint8Array.from(data)));
  }

  run(): void {
    for (let i = 0; this.events.length && i < 10_000; i++) this.events.shift()!();
  }

  private reply(data: number[], wLength: number): void {
    const n = Math.min(data.length, wLength);
    for (let at = 0; at < n; at += this.maxPacket0) this.in(0, data.slice(at, Math.min(n, at + this.maxPacket0)));
    if (n < wLength && n % this.maxPacket0 === 0) this.in(0, []);
    this.armOut(0, 0); // waiting for the status stage
  }

  private setup(s: Setup): void {
    const { device, config, strings } = this.descriptors;
    if (s.bmRequestType === 0x80 && s.bRequest === 6) {
      const type = s.wValue >> 8;
      const d = type === 1 ? device : type === 2 ? config : type === 3 ? strings.get(s.wValue & 0xff) : undefined;
      if (d) this.reply(d, s.wLength);
    } else if (s.bmRequestType === 0x00 && (s.bRequest === 5 || s.bRequest === 9)) {
      this.in(0, []);
    } else if (s.bmRequestType === 0x21 && s.bRequest === 0x20 && s.wIndex === this.commInterface) {
      this.outStage = s;
      this.armOut(0, 0); // a stale arm first: the host must wait for a real one
      this.armOut(0, this.maxPacket0);
    } else if (s.bmRequestType === 0xa1 && s.bRequest === 0x21 && s.wIndex === this.commInterface) {
      this.reply(this.lineCoding, s.wLength);
    } else if (s.bmRequestType === 0x21 && s.bRequest === 0x22 && s.wIndex === this.commInterface) {
      this.in(0, []);
    }
    // Anything else: no answer (a stall).
  }
}

function host(bus: FakeBus): { host: UsbCdcHost; log: string[] } {
  const log: string[] = [];
  const h = new UsbCdcHost(bus as unknown as RPUSBController, new Logger({ level: 'debug', sink: (l) => log.push(l) }));
  bus.onUSBEnabled!();
  bus.run();
  return { host: h, log };
}

const DEVICE = [18, 1, 0x00, 0x02, 0x02, 0, 0, 8, 0x09, 0x12, 0x01, 0x00, 0x01, 0x01, 1, 2, 3, 1];
const STRINGS = new Map([
  [0, [4, 3, 0x09, 0x04]],
  [1, stringDesc('Maker')],
  [2, stringDesc('A product name of thirty chars')], // 62 bytes: several packets, the last short
  [3, stringDesc('SN0')], // 8 bytes: one full packet, then a zero-length one
]);

describe('USB CDC host enumeration', () => {
  it('reads the descriptors and strings, configures, sets the line coding and DTR/RTS on the right interface', () => {
    const bus = new FakeBus({ device: DEVICE, config: REVERSED, strings: STRINGS }, 2);
    const { host: h, log } = host(bus);
    expect(h.ready).toBe(true);
    expect(h.device).toMatchObject({
      vendorId: 0x1209,
      productId: 0x0001,
      maxPacketSize0: 8,
      manufacturer: 'Maker',
      product: 'A product name of thirty chars',
      serialNumber: 'SN0',
    });
    expect(h.endpoints).toEqual({ commInterface: 2, dataIn: 3, dataOut: 4 });
    expect(h.lineCoding).toEqual({ baudRate: 115200, stopBits: 0, parity: 0, dataBits: 8 });
    const total = REVERSED.length;
    expect(bus.requests.map((r) => [r.bmRequestType, r.bRequest, r.wValue, r.wIndex, r.wLength])).toEqual([
      [0x00, 5, 1, 0, 0],
      [0x80, 6, 0x100, 0, 18],
      [0x80, 6, 0x200, 0, 9],
      [0x80, 6, 0x200, 0, total],
      [0x80, 6, 0x300, 0, 255],
      [0x80, 6, 0x301, 0x409, 255],
      [0x80, 6, 0x302, 0x409, 255],
      [0x80, 6, 0x303, 0x409, 255],
      [0x00, 9, 1, 0, 0],
      [0x21, 0x20, 0, 2, 7],
      [0xa1, 0x21, 0, 2, 7],
      [0x21, 0x22, 3, 2, 0],
    ]);
    expect(log).toContain('[usb] USB device 1209:0001 "Maker" "A product name of thirty chars" serial "SN0"');
    expect(log).toContain('[usb] CDC ACM: communication interface 2, bulk IN endpoint 0x83, bulk OUT endpoint 0x04');
    expect(log).toContain('[usb] line coding 115200 8N1');
  });

  it('moves serial data on the bulk endpoints it found, input waiting until the device arms OUT', () => {
    const bus = new FakeBus({ device: DEVICE, config: REVERSED, strings: STRINGS }, 2);
    const { host: h } = host(bus);
    const got: number[] = [];
    h.onData = (b) => got.push(...b);
    h.write(new TextEncoder().encode('abc'));
    bus.run();
    expect(bus.received).toEqual([]);
    expect(h.pending).toBe(3);
    bus.armOut(4, 2);
    bus.run();
    expect(bus.received).toEqual([{ endpoint: 4, data: [0x61, 0x62] }]);
    bus.armOut(4, 64);
    bus.in(3, [0x41, 0x42]);
    bus.in(1, [0x5a]); // not the CDC data endpoint
    bus.run();
    expect(bus.received[1]).toEqual({ endpoint: 4, data: [0x63] });
    expect(got).toEqual([0x41, 0x42]);
  });

  it('reads MicroPython-style descriptors as well', () => {
    const dev = [18, 1, 0x00, 0x02, 0xef, 2, 1, 64, 0x8a, 0x2e, 0x05, 0x00, 0x00, 0x01, 1, 2, 3, 1];
    const bus = new FakeBus({ device: dev, config: TINYUSB_STYLE, strings: STRINGS }, 0, 64);
    const { host: h } = host(bus);
    expect(h.ready).toBe(true);
    expect(h.endpoints).toEqual({ commInterface: 0, dataIn: 2, dataOut: 2 });
    expect(h.device?.vendorId).toBe(0x2e8a);
  });

  it('leaves the port closed, with a warning, when the device has no CDC ACM function', () => {
    const vendorOnly = config([...iface(0, 2, 0xff), ...endpoint(0x81, 2), ...endpoint(0x01, 2)], 1);
    const bus = new FakeBus({ device: DEVICE, config: vendorOnly, strings: STRINGS }, 0);
    const { host: h, log } = host(bus);
    expect(h.ready).toBe(false);
    expect(h.endpoints).toBeNull();
    expect(h.device?.product).toBe('A product name of thirty chars');
    expect(log).toContain('[usb] warning: the USB device has no CDC ACM serial function; USB console unavailable');
    expect(bus.requests.some((r) => r.bRequest === 9)).toBe(false);
  });

  it("sends a program's line coding, DTR/RTS and break requests to the CDC interface, one at a time, past a stall", () => {
    vi.useFakeTimers();
    try {
      const bus = new FakeBus({ device: DEVICE, config: REVERSED, strings: STRINGS }, 2);
      const { host: h } = host(bus);
      const before = bus.requests.length;
      h.setControlLineState(false, true);
      h.sendBreak(true); // the fake device stalls SEND_BREAK (no status stage)
      h.sendBreak(false);
      h.setLineCoding(1200);
      bus.run();
      const sent = () => bus.requests.slice(before).map((r) => [r.bmRequestType, r.bRequest, r.wValue, r.wIndex, r.wLength]);
      expect(sent()).toEqual([
        [0x21, 0x22, 2, 2, 0],
        [0x21, 0x23, 0xffff, 2, 0],
      ]);
      vi.advanceTimersByTime(1000); // given up: the next request goes out
      bus.run();
      vi.advanceTimersByTime(1000);
      bus.run();
      expect(sent()).toEqual([
        [0x21, 0x22, 2, 2, 0],
        [0x21, 0x23, 0xffff, 2, 0],
        [0x21, 0x23, 0, 2, 0],
        [0x21, 0x20, 0, 2, 7],
      ]);
      expect(bus.lineCoding).toEqual([0xb0, 0x04, 0, 0, 0, 0, 8]);
    } finally {
      vi.useRealTimers();
    }
  });
});
