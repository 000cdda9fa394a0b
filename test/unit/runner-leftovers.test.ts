// sim/runner/leftovers.ts: what an item left running decides whether its worker takes another.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { leftovers } from '../../sim/runner/leftovers.ts';

describe('leftovers', () => {
  it('names a timer or a listening server left behind, and nothing once they are closed', async () => {
    const baseline = process.getActiveResourcesInfo();
    expect(await leftovers(baseline)).toEqual([]);
    const timer = setInterval(() => undefined, 60_000);
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    expect((await leftovers(baseline)).sort()).toEqual(['TCPServerWrap', 'Timeout']);
    clearInterval(timer);
    // A server closing in this turn is given the turns it needs.
    server.close();
    expect(await leftovers(baseline)).toEqual([]);
  });

  it('an unref-ed timer keeps nothing alive: not a leftover', async () => {
    const baseline = process.getActiveResourcesInfo();
    const timer = setTimeout(() => undefined, 60_000).unref();
    expect(await leftovers(baseline)).toEqual([]);
    clearTimeout(timer);
  });
});
