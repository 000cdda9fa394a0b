/**
 * `--uart0 SPEC` / `--uart1 SPEC`: a UART's pins as their own host port, like a USB-serial adapter
 * wired to GP0/GP1 (UART0) or GP4/GP5 (UART1). SPEC is `pty:PATH` (a pseudo-terminal through
 * socat, for pyserial, screen, minicom) or `tcp:PORT` (the RFC 2217 server of `--serial-port` on
 * 127.0.0.1, one client at a time: pyserial's `rfc2217://`, or a plain TCP client such as
 * `socat - TCP:127.0.0.1:PORT` or pyserial's `socket://`). What the UART
 * transmits goes to the port; what the host sends arrives on the UART's RX at its line rate. The
 * console never passes through here (see PicoWBoard.consoleSource).
 */
import type { PicoWBoard } from '../board/picow.ts';
import { PicowSimError, UsageError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { openPty, type PtyBridge } from '../pty.ts';
import type { HostIoToken } from '../time.ts';

export type UartName = 'uart0' | 'uart1';

export type UartPortSpec = { kind: 'pty'; path: string } | { kind: 'tcp'; port: number };

/** Parse `pty:PATH` or `tcp:PORT` for option `opt` (`--uart0`, `--uart1`). */
export function parseUartPortSpec(opt: string, spec: string): UartPortSpec {
  const example = `${opt} pty:/tmp/picow-${opt.slice(2)} or ${opt} tcp:5555`;
  const m = /^(pty|tcp):(.*)$/.exec(spec);
  if (!m) throw new UsageError(`${opt} ${JSON.stringify(spec)}: expected pty:PATH or tcp:PORT (example: ${example})`);
  if (m[1] === 'pty') {
    if (!m[2]) throw new UsageError(`${opt} ${JSON.stringify(spec)}: empty path (example: ${example})`);
    return { kind: 'pty', path: m[2] };
  }
  const port = Number(m[2]);
  if (!/^\d+$/.test(m[2]!) || port < 1 || port > 65535) {
    throw new UsageError(`${opt} ${JSON.stringify(spec)}: port must be 1…65535 (example: ${example})`);
  }
  return { kind: 'tcp', port };
}

export interface UartPort {
  /** Where a tool connects (a path, or 127.0.0.1:PORT). */
  readonly where: string;
  close(): Promise<void>;
}

export class UartPortError extends PicowSimError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Open the host port of one UART of `board`. */
export async function openUartPort(board: PicoWBoard, uart: UartName, spec: UartPortSpec, logger: Logger = silentLogger()): Promise<UartPort> {
  const toBoard = (bytes: Uint8Array): void => board.writeConsole(bytes, uart);
  let send: ((bytes: Uint8Array) => void) | null = null;
  const onUart = (bytes: Uint8Array, source: string): void => {
    if (source === uart) send?.(bytes);
  };
  board.on('uart', onUart);
  if (spec.kind === 'pty') {
    // A pty may have a tool on it at any time: waits stay paced while it exists.
    const hold = board.hostIo.begin(`${uart} pty`);
    let pty: PtyBridge;
    try {
      pty = await openPty(spec.path, { logger, onData: toBoard });
    } catch (e) {
      hold.release();
      board.off('uart', onUart);
      throw e;
    }
    send = (b) => pty.write(b);
    return {
      where: pty.path,
      async close() {
        board.off('uart', onUart);
        hold.release();
        await pty.close();
      },
    };
  }
  // tcp: the same one-client server as --serial-port (RFC 2217; a plain TCP client works too).
  board.off('uart', onUart);
  const { startSerialPortServer } = await import('./rfc2217.ts');
  const { uartLink } = await import('./serial-link.ts');
  let hold: HostIoToken | null = null;
  const server = await startSerialPortServer(uartLink(board, uart === 'uart0' ? 0 : 1), {
    port: spec.port,
    logger,
    flag: `--${uart}`,
    onClient: (connected) => {
      hold?.release();
      hold = connected ? board.hostIo.begin(`${uart} tcp client`) : null;
    },
  });
  return {
    where: `127.0.0.1:${server.port}`,
    async close() {
      hold?.release();
      await server.close();
    },
  };
}
