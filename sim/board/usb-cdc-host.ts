import {
  createSetupPacket,
  DataDirection,
  getDescriptorPacket,
  setDeviceAddressPacket,
  setDeviceConfigurationPacket,
  SetupRecipient,
  SetupType,
  DescriptorType,
  type RPUSBController,
} from 'rp2040js';
import type { Logger } from '../log.ts';

/** USB 2.0 §9.6 descriptor types and CDC 1.2 class codes. */
const DESC_INTERFACE = 4;
const DESC_ENDPOINT = 5;
const CLASS_CDC_COMM = 0x02;
const SUBCLASS_ACM = 0x02;
const CLASS_CDC_DATA = 0x0a;
const EP_TYPE_BULK = 2;
/** CDC PSTN 1.2 §6.3.12 SET_CONTROL_LINE_STATE, DTR and RTS bits. */
const CDC_SET_CONTROL_LINE_STATE = 0x22;
const CDC_DTR = 1 << 0;
const CDC_RTS = 1 << 1;
const CONFIG_DESCRIPTOR_HEADER = 9;

export interface CdcEndpoints {
  commInterface: number;
  dataIn: number;
  dataOut: number;
}

/**
 * Find the CDC ACM function in a configuration descriptor set: the communication interface
 * (class 2, subclass 2) and the bulk IN/OUT endpoints of the data interface (class 10) that
 * follows it. Works for any device stack's descriptors (MicroPython's, the SDK's TinyUSB stdio).
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
      inData = cls === CLASS_CDC_DATA && dataIn < 0;
    } else if (type === DESC_ENDPOINT && len >= 7 && inData) {
      const addr = desc[i + 2]!;
      if ((desc[i + 3]! & 3) === EP_TYPE_BULK) {
        if (addr & 0x80) dataIn = addr & 0xf;
        else dataOut = addr & 0xf;
      }
    }
    i += len;
  }
  if (dataIn < 0 || dataOut < 0) return null;
  return { commInterface: Math.max(comm, 0), dataIn, dataOut };
}

/**
 * The host side of the board's USB port: enumerates the device the firmware presents, opens
 * its CDC ACM serial function (DTR/RTS up, as a terminal program does) and moves bytes. Bytes
 * for the device wait in a queue until the device arms its OUT endpoint, as on a real bus
 * (the host never answers an armed endpoint with empty packets).
 */
export class UsbCdcHost {
  private phase: 'detached' | 'addressing' | 'config-header' | 'config' | 'configuring' | 'line-state' | 'ready' =
    'detached';
  private total = 0;
  private descriptors: number[] = [];
  private ep: CdcEndpoints | null = null;
  private readonly queue: number[] = [];
  private outRequest = 0;
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
    usb.onResetReceived = () => {
      this.phase = 'addressing';
      this.descriptors = [];
      this.ep = null;
      this.outRequest = 0;
      usb.sendSetupPacket(setDeviceAddressPacket(1));
    };
    usb.onEndpointWrite = (endpoint, buffer) => this.onIn(endpoint, buffer);
    usb.onEndpointRead = (endpoint, size) => {
      if (this.ep && endpoint === this.ep.dataOut) {
        this.outRequest = size;
        this.pump();
      }
    };
  }

  get ready(): boolean {
    return this.phase === 'ready';
  }

  get endpoints(): CdcEndpoints | null {
    return this.ep;
  }

  /** Queue bytes for the device. */
  write(bytes: Uint8Array): void {
    for (const b of bytes) this.queue.push(b);
    this.pump();
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Hand queued bytes to an armed OUT endpoint. */
  pump(): void {
    if (!this.ep || this.phase !== 'ready' || this.outRequest <= 0 || this.queue.length === 0) return;
    const n = Math.min(this.outRequest, this.queue.length);
    const chunk = Uint8Array.from(this.queue.splice(0, n));
    this.outRequest = 0;
    this.usb.endpointReadDone(this.ep.dataOut, chunk);
  }

  private onIn(endpoint: number, buffer: Uint8Array): void {
    if (endpoint !== 0) {
      if (this.ep && endpoint === this.ep.dataIn && buffer.length) this.onData?.(buffer);
      return;
    }
    switch (this.phase) {
      case 'addressing':
        if (buffer.length === 0) {
          this.phase = 'config-header';
          this.usb.sendSetupPacket(getDescriptorPacket(DescriptorType.Configration, CONFIG_DESCRIPTOR_HEADER));
        }
        return;
      case 'config-header':
        if (buffer.length >= 4) {
          this.total = buffer[2]! | (buffer[3]! << 8);
          this.descriptors = [];
          this.phase = 'config';
          this.usb.sendSetupPacket(getDescriptorPacket(DescriptorType.Configration, this.total));
        }
        return;
      case 'config':
        for (const b of buffer) this.descriptors.push(b);
        if (this.descriptors.length >= this.total) {
          this.ep = findCdcEndpoints(this.descriptors);
          if (!this.ep) {
            this.logger.warn('usb', 'the USB device has no CDC ACM serial function; USB console unavailable');
            this.phase = 'detached';
            return;
          }
          this.logger.debug(
            'usb',
            `CDC ACM found: interface ${this.ep.commInterface}, IN ep ${this.ep.dataIn}, OUT ep ${this.ep.dataOut}`,
          );
          this.phase = 'configuring';
          this.usb.sendSetupPacket(setDeviceConfigurationPacket(1));
        }
        return;
      case 'configuring':
        if (buffer.length === 0) {
          this.phase = 'line-state';
          this.usb.sendSetupPacket(
            createSetupPacket({
              dataDirection: DataDirection.HostToDevice,
              type: SetupType.Class,
              recipient: SetupRecipient.Interface,
              bRequest: CDC_SET_CONTROL_LINE_STATE,
              wValue: CDC_DTR | CDC_RTS,
              wIndex: this.ep!.commInterface,
              wLength: 0,
            }),
          );
        }
        return;
      case 'line-state':
        if (buffer.length === 0) {
          this.phase = 'ready';
          this.onReady?.();
          this.pump();
        }
        return;
      default:
        return;
    }
  }
}
