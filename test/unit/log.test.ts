import { describe, expect, it } from 'vitest';
import { Logger, parseTraceAreas } from '../../sim/log.ts';

describe('Logger', () => {
  it('filters by level and traces only enabled areas', () => {
    const lines: string[] = [];
    const log = new Logger({ level: 'info', trace: ['cyw43'], sink: (l) => lines.push(l) });
    log.debug('board', 'hidden');
    log.info('board', 'shown');
    log.trace('net', 'hidden');
    log.trace('cyw43', () => 'traced');
    log.warnOnce('cyw43', 'k', 'once');
    log.warnOnce('cyw43', 'k', 'once');
    expect(lines).toEqual(['[board] shown', '[cyw43] traced', '[cyw43] warning: once']);
  });

  it('rejects unknown trace areas', () => {
    expect(() => parseTraceAreas('cyw43,bogus')).toThrow(/unknown trace area 'bogus'/);
    expect(parseTraceAreas('cyw43, net')).toEqual(['cyw43', 'net']);
  });
});
