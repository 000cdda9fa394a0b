/**
 * What a port for tools attaches to: one serial byte stream of the board (the console, or a
 * UART) with the control a serial line has — line coding, DTR/RTS, break. The RFC 2217 server
 * takes any `SerialLink`; `consoleLink` is the console the REPL is on.
 */
import type { ConsoleSource, PicoWBoard as Board } from '../board/picow.ts';
import type { ByteStream } from '../repl/stream.ts';

export interface SerialLink extends ByteStream {
  /** A name for messages ("console", "UART1"). */
  readonly name: string;
  /** Bytes written but not yet taken by the board (the server stops reading its client above a limit). */
  backlog?(): number;
  /** Ask for a baud rate; returns the rate in effect (a USB CDC device takes any). */
  setBaudRate?(baud: number): number;
  /** Data terminal ready / request to send, as a host's serial driver sets them. */
  setControlLines?(dtr: boolean, rts: boolean): void;
  /** Start (true) or end (false) a break condition on the line to the board. */
  setBreak?(on: boolean): void;
}

/**
 * The console the REPL is on, as a serial port: USB CDC when the firmware presents it (line
 * coding, DTR/RTS and break go to the device as the host's CDC ACM driver sends them), else
 * UART0 (control requests are answered but change nothing).
 */
export function consoleLink(board: Board): SerialLink {
  const onUsb = (): boolean => board.consoleSource === 'usb';
  return {
    name: 'console',
    write: (bytes) => board.writeConsole(bytes, 'auto'),
    onData: (cb) => {
      // The board's 'console' event carries only the console stream (`consoleSource`).
      const h = (bytes: Uint8Array): void => cb(bytes);
      board.on('console', h);
      return () => void board.off('console', h);
    },
    backlog: () => board.usbControl.pendingInput(),
    setBaudRate: (baud) => {
      if (onUsb()) board.usbControl.setLineCoding(baud);
      return baud;
    },
    setControlLines: (dtr, rts) => {
      if (onUsb()) board.usbControl.setControlLineState(dtr, rts);
    },
    setBreak: (on) => {
      if (onUsb()) board.usbControl.sendBreak(on);
    },
  };
}

/**
 * UART0 or UART1 as a serial port (what a USB-serial adapter on its pins would be): the bytes the
 * UART transmits, and bytes fed to its receiver. The line rate is the firmware's (its divisors):
 * a client's baud request is answered with the UART's rate when it has one. A break needs the
 * receiver's break detection, not modelled here, so it is answered but not sent.
 */
export function uartLink(board: Board, index: 0 | 1): SerialLink {
  const source: ConsoleSource = index === 0 ? 'uart0' : 'uart1';
  return {
    name: `UART${index}`,
    write: (bytes) => board.writeConsole(bytes, source),
    onData: (cb) => {
      const h = (bytes: Uint8Array, s: ConsoleSource): void => {
        if (s === source) cb(bytes);
      };
      board.on('uart', h);
      return () => void board.off('uart', h);
    },
    setBaudRate: (baud) => Math.round(board.uarts[index]?.baudRate ?? 0) || baud,
  };
}
