import {
  createSetupPacket,
  DataDirection,
  setDeviceAddressPacket,
  setDeviceConfigurationPacket,
  SetupRecipient,
  SetupType,
  type RPUSBController,
} from 'rp2040js';
import type { Logger } from '../log.ts';

/** USB 2.0 §9.4 standard requests and §9.6 descriptor types. */
const GET_DESCRIPTOR = 6;
const DESC_DEVICE = 1;
const DESC_CONFIGURATION = 2;
const DESC_STRING = 3;
const DESC_INTERFACE = 4;
const DESC_ENDPOINT = 5;
const DEVICE_DESCRIPTOR_LENGTH = 18;
const CONFIG_DESCRIPTOR_HEADER = 9;
/** The longest string descriptor (bLength is one byte). */
const STRING_REQUEST_LENGTH = 255;
const LANGID_EN_US = 0x0409;
/** The smallest EP0 packet a full-speed device may use, assumed until the device descriptor says. */
const MIN_MAX_PACKET0 = 8;
/** CDC 1.2 class codes. */
const CLASS_CDC_COMM = 0x02;
const SUBCLASS_ACM = 0x02;
const CLASS_CDC_DATA = 0x0a;
const EP_TYPE_BULK = 2;
/** CDC PSTN 1.2 §6.3: SET/GET_LINE_CODING, SET_CONTROL_LINE_STATE with its DTR and RTS bits. */
const CDC_SET_LINE_CODING = 0x20;
const CDC_GET_LINE_CODING = 0x21;
const CDC_SET_CONTROL_LINE_STATE = 0x22;
/** CDC PSTN 1.2 §6.3.13 SEND_BREAK: wValue is the break's length in ms; 0xFFFF holds it until a SEND_BREAK of 0. */
const CDC_SEND_BREAK = 0x23;
const BREAK_UNTIL_STOPPED = 0xffff;
/** Wall time after which a class request the device never completed (a STALL) is given up. */
const REQUEST_GIVE_UP_MS = 1000;
const CDC_DTR = 1 << 0;
const CDC_RTS = 1 << 1;
/** What a terminal program opening the port asks for. */
const HOST_LINE_CODING: LineCoding = { baudRate: 115200, stopBits: 0, parity: 0, dataBits: 8 };

export interface CdcEndpoints {
  /** The communication (control) interface: class requests go to it. */
  commInterface: number;
  /** Numbers (without the direction bit) of the data interface's bulk IN and OUT endpoints. */
  dataIn: number;
  dataOut: number;
}

/** The device descriptor's fields the host uses (USB 2.0 §9.6.1). */
export interface DeviceDescriptor {
  usbVersion: number;
  deviceClass: number;
  maxPacketSize0: number;
  vendorId: number;
  productId: number;
  deviceVersion: number;
  iManufacturer: number;
  iProduct: number;
  iSerialNumber: number;
  numConfigurations: number;
}

/** The device as enumerated: its descriptor and the strings it names. */
export interface UsbDeviceInfo extends DeviceDescriptor {
  manufacturer: string | null;
  product: string | null;
  serialNumber: string | null;
}

/** CDC PSTN 1.2 §6.3.11 line coding: stop bits 0 = 1, 1 = 1.5, 2 = 2; parity 0 none, 1 odd, 2 even, 3 mark, 4 space. */
export interface LineCoding {
  baudRate: number;
  stopBits: number;
  parity: number;
  dataBits: number;
}

/**
 * Find the CDC ACM function in a configuration descriptor set: the communication interface
 * (class 2, subclass 2) and the bulk IN/OUT endpoints of the data interface (class 10), in
 * whichever order the device lists them and whatever endpoint numbers it uses. Works for any
 * device stack's descriptors (MicroPython's, the SDK's TinyUSB stdio, a stack of one's own).
 */
export function findCdcEndpoints(desc: ArrayLike<number>): CdcEndpoints | null {
  let comm = -1;
  let inData = false;
  let dataIn = -1;
  let dataOut = -1;
  for (let i = 0; i + 1 < desc.length; ) {
    const len = desc[i]!;
    const type = desc[i + 1]!;
    if (len < 2 || i + len > desc.length) break;
    if (type === DESC_INTERFACE && len >= 9) {
      const num = desc[i + 2]!;
      const cls = desc[i + 5]!;
      const sub = desc[i + 6]!;
      if (cls === CLASS_CDC_COMM && sub === SUBCLASS_ACM && comm < 0) comm = num;
      inData = cls === CLASS_CDC_DATA && (dataIn < 0 || dataOut < 0);
    } else if (type === DESC_ENDPOINT && len >= 7 && inData) {
      const addr = desc[i + 2]!;
      if ((desc[i + 3]! & 3) === EP_TYPE_BULK) {
        if (addr & 0x80) {
          if (dataIn < 0) dataIn = addr & 0xf;
        } else if (dataOut < 0) dataOut = addr & 0xf;
      }
    }
    i += len;
  }
  if (dataIn < 0 || dataOut < 0) return null;
  return { commInterface: Math.max(comm, 0), dataIn, dataOut };
}

/** Parse a device descriptor; null if it is not one. */
export function parseDeviceDescriptor(d: ArrayLike<number>): DeviceDescriptor | null {
  if (d.length < DEVICE_DESCRIPTOR_LENGTH || d[0]! < DEVICE_DESCRIPTOR_LENGTH || d[1] !== DESC_DEVICE) return null;
  const u16 = (i: number): number => d[i]! | (d[i + 1]! << 8);
  return {
    usbVersion: u16(2),
    deviceClass: d[4]!,
    maxPacketSize0: d[7]!,
    vendorId: u16(8),
    productId: u16(10),
    deviceVersion: u16(12),
    iManufacturer: d[14]!,
    iProduct: d[15]!,
    iSerialNumber: d[16]!,
    numConfigurations: d[17]!,
  };
}

/** The text of a string descriptor (UTF-16LE, USB 2.0 §9.6.7); null if it is not one. */
export function decodeStringDescriptor(d: ArrayLike<number>): string | null {
  if (d.length < 2 || d[1] !== DESC_STRING) return null;
  const end = Math.min(d[0]!, d.length) & ~1;
  let s = '';
  for (let i = 2; i + 1 < end; i += 2) s += String.fromCharCode(d[i]! | (d[i + 1]! << 8));
  return s;
}

/** The LANGIDs of string descriptor 0. */
export function parseLangIds(d: ArrayLike<number>): number[] {
  if (d.length < 2 || d[1] !== DESC_STRING) return [];
  const ids: number[] = [];
  for (let i = 2; i + 1 < Math.min(d[0]!, d.length); i += 2) ids.push(d[i]! | (d[i + 1]! << 8));
  return ids;
}

export function encodeLineCoding(c: LineCoding): Uint8Array {
  const b = new Uint8Array(7);
  new DataView(b.buffer).setUint32(0, c.baudRate, true);
  b[4] = c.stopBits;
  b[5] = c.parity;
  b[6] = c.dataBits;
  return b;
}

export function parseLineCoding(d: ArrayLike<number>): LineCoding | null {
  if (d.length < 7) return null;
  const baudRate = (d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24)) >>> 0;
  return { baudRate, stopBits: d[4]!, parity: d[5]!, dataBits: d[6]! };
}

/** "115200 8N1" */
export function describeLineCoding(c: LineCoding): string {
  const parity = 'NOEMS'[c.parity] ?? '?';
  const stop = ['1', '1.5', '2'][c.stopBits] ?? '?';
  return `${c.baudRate} ${c.dataBits}${parity}${stop}`;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function getDescriptor(type: number, index: number, langId: number, length: number): Uint8Array {
  return createSetupPacket({
    dataDirection: DataDirection.DeviceToHost,
    type: SetupType.Standard,
    recipient: SetupRecipient.Device,
    bRequest: GET_DESCRIPTOR,
    wValue: (type << 8) | index,
    wIndex: langId,
    wLength: length,
  });
}

function cdcRequest(dir: DataDirection, bRequest: number, wValue: number, iface: number, wLength: number): Uint8Array {
  return createSetupPacket({
    dataDirection: dir,
    type: SetupType.Class,
    recipient: SetupRecipient.Interface,
    bRequest,
    wValue,
    wIndex: iface,
    wLength,
  });
}

/** One control transfer (USB 2.0 §8.5.3): SETUP, an optional data stage, the status stage. */
interface ControlTransfer {
  setup: Uint8Array;
  /** Device → host data stage of at most this many bytes. */
  inLength?: number;
  /** Host → device data stage. */
  out?: Uint8Array;
  /** Called with the data stage's bytes (empty without an IN data stage). */
  done: (data: Uint8Array) => void;
}

/**
 * The host side of the board's USB port, as an operating system and a terminal program would
 * drive it: after the bus reset it assigns an address, reads the device descriptor, the
 * configuration and the strings it names, finds the CDC ACM serial function in the
 * configuration (whatever its interface order and endpoint numbers), selects the
 * configuration, sets the line coding (115200 8N1) and reads it back, and raises DTR/RTS;
 * then it moves bytes. Bytes for the device wait in a queue until the device arms its OUT
 * endpoint, as on a real bus (the host never answers an armed endpoint with empty packets).
 */
export class UsbCdcHost {
  private phase: 'detached' | 'enumerating' | 'ready' = 'detached';
  private ep: CdcEndpoints | null = null;
  private info: UsbDeviceInfo | null = null;
  private coding: LineCoding | null = null;
  private maxPacket0 = MIN_MAX_PACKET0;
  private xfer: ControlTransfer | null = null;
  private inData: number[] = [];
  private outSent = 0;
  private readonly queue: number[] = [];
  private outRequest = 0;
  /** Class requests (line coding, DTR/RTS, break) waiting for the port to open or the previous one to end. */
  private readonly requests: ControlTransfer[] = [];
  private requestTimer: NodeJS.Timeout | null = null;
  /** Device → host serial data. */
  onData: ((bytes: Uint8Array) => void) | null = null;
  /** The serial function is open. */
  onReady: (() => void) | null = null;

  constructor(
    private readonly usb: RPUSBController,
    private readonly logger: Logger,
  ) {
    usb.onUSBEnabled = () => {
      this.phase = 'detached';
      usb.resetDevice();
    };
    usb.onResetReceived = () => this.enumerate();
    usb.onEndpointWrite = (endpoint, buffer) => this.onIn(endpoint, buffer);
    usb.onEndpointRead = (endpoint, size) => this.onOutArmed(endpoint, size);
  }

  get ready(): boolean {
    return this.phase === 'ready';
  }

  /** The CDC ACM function found in the configuration descriptor. */
  get endpoints(): CdcEndpoints | null {
    return this.ep;
  }

  /** The device descriptor and strings read during enumeration. */
  get device(): UsbDeviceInfo | null {
    return this.info;
  }

  /** The line coding the device reported back (GET_LINE_CODING) when the port was opened. */
  get lineCoding(): LineCoding | null {
    return this.coding;
  }

  /** Queue bytes for the device. */
  write(bytes: Uint8Array): void {
    for (const b of bytes) this.queue.push(b);
    this.pump();
  }

  get pending(): number {
    return this.queue.length;
  }

  /** SET_LINE_CODING with this baud rate (8N1), as a host's driver sends when a program sets the rate. */
  setLineCoding(baudRate: number): void {
    this.classRequest(CDC_SET_LINE_CODING, 0, encodeLineCoding({ ...HOST_LINE_CODING, baudRate }));
  }

  /** SET_CONTROL_LINE_STATE: DTR (bit 0) and RTS (bit 1). */
  setControlLineState(dtr: boolean, rts: boolean): void {
    this.classRequest(CDC_SET_CONTROL_LINE_STATE, (dtr ? CDC_DTR : 0) | (rts ? CDC_RTS : 0));
  }

  /** SEND_BREAK: start a break that lasts until `sendBreak(false)`, or end it. */
  sendBreak(on: boolean): void {
    this.classRequest(CDC_SEND_BREAK, on ? BREAK_UNTIL_STOPPED : 0);
  }

  private classRequest(bRequest: number, wValue: number, out?: Uint8Array): void {
    this.requests.push({
      setup: cdcRequest(DataDirection.HostToDevice, bRequest, wValue, 0, out?.length ?? 0),
      out,
      done: () => undefined,
    });
    this.nextRequest();
  }

  /** Start the next queued class request when the port is open and no control transfer runs. */
  private nextRequest(): void {
    if (this.phase !== 'ready' || this.xfer || !this.ep) return;
    const r = this.requests.shift();
    if (!r) return;
    // wIndex: the CDC communication interface, known only now.
    r.setup[4] = this.ep.commInterface & 0xff;
    r.setup[5] = 0;
    this.control({
      ...r,
      done: (d) => {
        if (this.requestTimer) clearTimeout(this.requestTimer);
        this.requestTimer = null;
        r.done(d);
        this.nextRequest();
      },
    });
    const started = this.xfer;
    this.requestTimer = setTimeout(() => {
      this.requestTimer = null;
      if (this.xfer !== started) return;
      this.note(`class request 0x${r.setup[1]!.toString(16)} not completed by the device (stalled); going on`);
      this.xfer = null;
      this.nextRequest();
    }, REQUEST_GIVE_UP_MS);
    this.requestTimer.unref();
  }

  /** Hand queued bytes to an armed OUT endpoint. */
  pump(): void {
    if (!this.ep || this.phase !== 'ready' || this.outRequest <= 0 || this.queue.length === 0) return;
    const n = Math.min(this.outRequest, this.queue.length);
    const chunk = Uint8Array.from(this.queue.splice(0, n));
    this.outRequest = 0;
    this.usb.endpointReadDone(this.ep.dataOut, chunk);
  }

  private note(msg: string): void {
    if (this.logger.tracing('usb')) this.logger.trace('usb', msg);
    else this.logger.debug('usb', msg);
  }

  private control(x: ControlTransfer): void {
    this.xfer = x;
    this.inData = [];
    this.outSent = 0;
    this.usb.sendSetupPacket(x.setup);
  }

  /** A bus reset: enumerate the device from scratch. */
  private enumerate(): void {
    this.phase = 'enumerating';
    this.ep = null;
    this.info = null;
    this.coding = null;
    this.maxPacket0 = MIN_MAX_PACKET0;
    this.outRequest = 0;
    this.control({ setup: setDeviceAddressPacket(1), done: () => this.readDeviceDescriptor() });
  }

  private fail(msg: string): void {
    this.logger.warn('usb', msg);
    this.phase = 'detached';
    this.xfer = null;
  }

  private readDeviceDescriptor(): void {
    this.control({
      setup: getDescriptor(DESC_DEVICE, 0, 0, DEVICE_DESCRIPTOR_LENGTH),
      inLength: DEVICE_DESCRIPTOR_LENGTH,
      done: (d) => {
        const dev = parseDeviceDescriptor(d);
        if (!dev) return this.fail('the USB device sent no valid device descriptor; USB console unavailable');
        if (dev.maxPacketSize0 >= MIN_MAX_PACKET0) this.maxPacket0 = dev.maxPacketSize0;
        this.readConfiguration(dev);
      },
    });
  }

  private readConfiguration(dev: DeviceDescriptor): void {
    this.control({
      setup: getDescriptor(DESC_CONFIGURATION, 0, 0, CONFIG_DESCRIPTOR_HEADER),
      inLength: CONFIG_DESCRIPTOR_HEADER,
      done: (head) => {
        if (head.length < 4 || head[1] !== DESC_CONFIGURATION) {
          return this.fail('the USB device sent no valid configuration descriptor; USB console unavailable');
        }
        const total = head[2]! | (head[3]! << 8);
        this.control({
          setup: getDescriptor(DESC_CONFIGURATION, 0, 0, total),
          inLength: total,
          done: (config) => this.readStrings(dev, config),
        });
      },
    });
  }

  private readStrings(dev: DeviceDescriptor, config: Uint8Array): void {
    const wanted = [dev.iManufacturer, dev.iProduct, dev.iSerialNumber];
    const strings = new Map<number, string>();
    const finish = (): void => {
      const text = (i: number): string | null => (i ? (strings.get(i) ?? null) : null);
      this.info = {
        ...dev,
        manufacturer: text(dev.iManufacturer),
        product: text(dev.iProduct),
        serialNumber: text(dev.iSerialNumber),
      };
      this.configure(config);
    };
    if (!wanted.some((i) => i !== 0)) return finish();
    this.control({
      setup: getDescriptor(DESC_STRING, 0, 0, STRING_REQUEST_LENGTH),
      inLength: STRING_REQUEST_LENGTH,
      done: (d) => {
        const ids = parseLangIds(d);
        const lang = ids.includes(LANGID_EN_US) ? LANGID_EN_US : (ids[0] ?? LANGID_EN_US);
        const next = (k: number): void => {
          const index = wanted[k];
          if (index === undefined) return finish();
          if (index === 0 || strings.has(index)) return next(k + 1);
          this.control({
            setup: getDescriptor(DESC_STRING, index, lang, STRING_REQUEST_LENGTH),
            inLength: STRING_REQUEST_LENGTH,
            done: (s) => {
              const t = decodeStringDescriptor(s);
              if (t !== null) strings.set(index, t);
              next(k + 1);
            },
          });
        };
        next(0);
      },
    });
  }

  private configure(config: Uint8Array): void {
    const dev = this.info!;
    const name = [dev.manufacturer, dev.product].filter((s) => s !== null).map((s) => JSON.stringify(s));
    this.note(
      `USB device ${hex4(dev.vendorId)}:${hex4(dev.productId)}${name.length ? ' ' + name.join(' ') : ''}` +
        `${dev.serialNumber !== null ? ` serial ${JSON.stringify(dev.serialNumber)}` : ''}`,
    );
    const ep = findCdcEndpoints(config);
    if (!ep) return this.fail('the USB device has no CDC ACM serial function; USB console unavailable');
    this.ep = ep;
    this.note(
      `CDC ACM: communication interface ${ep.commInterface}, bulk IN endpoint 0x${(0x80 | ep.dataIn).toString(16)}, ` +
        `bulk OUT endpoint 0x${ep.dataOut.toString(16).padStart(2, '0')}`,
    );
    const iface = ep.commInterface;
    this.control({
      setup: setDeviceConfigurationPacket(config[5] ?? 1),
      done: () =>
        this.control({
          setup: cdcRequest(DataDirection.HostToDevice, CDC_SET_LINE_CODING, 0, iface, 7),
          out: encodeLineCoding(HOST_LINE_CODING),
          done: () =>
            this.control({
              setup: cdcRequest(DataDirection.DeviceToHost, CDC_GET_LINE_CODING, 0, iface, 7),
              inLength: 7,
              done: (d) => {
                this.coding = parseLineCoding(d);
                if (this.coding) this.note(`line coding ${describeLineCoding(this.coding)}`);
                this.control({
                  setup: cdcRequest(DataDirection.HostToDevice, CDC_SET_CONTROL_LINE_STATE, CDC_DTR | CDC_RTS, iface, 0),
                  done: () => {
                    this.phase = 'ready';
                    this.onReady?.();
                    this.pump();
                    this.nextRequest();
                  },
                });
              },
            }),
        }),
    });
  }

  /** The device armed an OUT buffer of `size` bytes: the control data stage or the serial data. */
  private onOutArmed(endpoint: number, size: number): void {
    if (endpoint === 0) {
      // A zero-length arm is the device waiting for the status stage of an IN transfer.
      const x = this.xfer;
      if (!x?.out || this.outSent >= x.out.length || size <= 0) return;
      const chunk = x.out.subarray(this.outSent, this.outSent + Math.min(size, this.maxPacket0));
      this.outSent += chunk.length;
      this.usb.endpointReadDone(0, chunk);
      return;
    }
    if (this.ep && endpoint === this.ep.dataOut) {
      this.outRequest = size;
      this.pump();
    }
  }

  private onIn(endpoint: number, buffer: Uint8Array): void {
    if (endpoint !== 0) {
      if (this.ep && endpoint === this.ep.dataIn && buffer.length) this.onData?.(buffer);
      return;
    }
    const x = this.xfer;
    if (!x) return;
    if (x.inLength !== undefined) {
      // The data stage ends with the requested length or a short packet (USB 2.0 §5.5.3).
      for (const b of buffer) this.inData.push(b);
      if (this.inData.length < x.inLength && buffer.length >= this.maxPacket0) return;
    } else if (buffer.length !== 0 || (x.out !== undefined && this.outSent < x.out.length)) {
      return; // the status stage of a transfer without IN data is a zero-length IN packet
    }
    this.xfer = null;
    x.done(Uint8Array.from(this.inData.slice(0, x.inLength ?? 0)));
  }
}
