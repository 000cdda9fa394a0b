/**
 * The terminal view of the UARTs that are not the console: their text beside the console, each
 * line marked with the UART's name (`[uart0] …`), so a script that writes to a UART is visible
 * without ever mixing into the console stream a tool speaks a protocol over.
 */
import type { ConsoleSource } from '../board/picow.ts';

/** Longest partial line held back waiting for its end. */
const MAX_PARTIAL = 256;

export interface UartView {
  /** Bytes a UART transmitted. */
  push(bytes: Uint8Array, source: ConsoleSource): void;
  /** Show what is left of unfinished lines. */
  flush(): void;
}

export function uartView(write: (text: string) => void, eol = '\n'): UartView {
  const partial = new Map<ConsoleSource, string>();
  const decoders = new Map<ConsoleSource, TextDecoder>();
  const emit = (source: ConsoleSource, line: string): void => write(`[${source}] ${line}${eol}`);
  return {
    push(bytes, source) {
      let d = decoders.get(source);
      if (!d) decoders.set(source, (d = new TextDecoder()));
      let text = (partial.get(source) ?? '') + d.decode(bytes, { stream: true });
      let nl: number;
      while ((nl = text.indexOf('\n')) >= 0) {
        emit(source, text.slice(0, nl).replace(/\r$/, ''));
        text = text.slice(nl + 1);
      }
      if (text.length > MAX_PARTIAL) {
        emit(source, text);
        text = '';
      }
      partial.set(source, text);
    },
    flush() {
      for (const [source, text] of partial) if (text) emit(source, text);
      partial.clear();
    },
  };
}
