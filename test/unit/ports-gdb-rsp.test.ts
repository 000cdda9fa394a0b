/**
 * GDB remote protocol framing (GDB manual, "Overview", "Binary Data", "Run-length encoding")
 * and the stop replies, byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { encodePacket, PACKET_SIZE, RspDecoder } from '../../sim/ports/gdb-rsp.ts';
import { stopReply, TARGET_XML } from '../../sim/ports/gdb-server.ts';

function decode(chunks: (string | number[])[]): string[] {
  const events: string[] = [];
  const d = new RspDecoder({
    packet: (p) => events.push(`p:${Buffer.from(p).toString('latin1')}`),
    bad: (why) => events.push(`bad:${why}`),
    interrupt: () => events.push('int'),
    ack: (ok) => events.push(ok ? '+' : '-'),
  });
  for (const c of chunks) d.push(typeof c === 'string' ? new Uint8Array(Buffer.from(c, 'latin1')) : Uint8Array.from(c));
  return events;
}

describe('GDB remote protocol framing', () => {
  it('checks checksums, in any chunking; acks, Ctrl-C and noise between packets', () => {
    const raw = '+$g#67junk\x03$m0,4#fd-';
    for (let cut = 0; cut <= raw.length; cut++) {
      expect(decode([raw.slice(0, cut), raw.slice(cut)])).toEqual(['+', 'p:g', 'int', 'p:m0,4', '-']);
    }
    expect(decode(['$g#00'])).toEqual(['bad:checksum mismatch']);
    expect(decode(['$g#zz'])).toEqual(['bad:bad checksum digit']);
    expect(decode(['$m0,4$g#67'])).toEqual(['bad:packet cut off by another', 'p:g']);
  });

  it('undoes } escapes and * run lengths; refuses packets over PacketSize', () => {
    // X with binary data: 0x23 '#' escaped as }\x03, 0x7d as }] ; "0* " is '0' repeated 3 more times.
    const body = 'X0,2:}\x03}]';
    const sum = [...Buffer.from(body, 'latin1')].reduce((a, b) => (a + b) & 0xff, 0);
    expect(decode([`$${body}#${sum.toString(16).padStart(2, '0')}`])).toEqual(['p:X0,2:#}']);
    expect(decode(['$0* #7a'])).toEqual(['p:0000']);
    const long = 'm'.repeat(PACKET_SIZE + 1);
    const s2 = [...Buffer.from(long)].reduce((a, b) => (a + b) & 0xff, 0);
    expect(decode([`$${long}#${s2.toString(16).padStart(2, '0')}`])).toEqual([`bad:packet longer than ${PACKET_SIZE} bytes`]);
  });

  it('encodes with the checksum and escapes $ # } *', () => {
    expect(Buffer.from(encodePacket('OK')).toString('latin1')).toBe('$OK#9a');
    expect(Buffer.from(encodePacket('a$b')).toString('latin1')).toBe('$a}\x04b#' + ((0x61 + 0x7d + 0x04 + 0x62) & 0xff).toString(16));
    const round = decode([[...encodePacket('l<x>#*}$</x>')]]);
    expect(round).toEqual(['p:l<x>#*}$</x>']);
  });

  it('stop replies: signal with the thread, exit code, termination', () => {
    expect(stopReply({ kind: 'signal', signal: 5, thread: 2 })).toBe('T05thread:2;');
    expect(stopReply({ kind: 'exited', code: 184 })).toBe('Wb8');
    expect(stopReply({ kind: 'terminated', signal: 6 })).toBe('X06');
    expect(TARGET_XML).toContain('org.gnu.gdb.arm.m-profile');
  });
});
