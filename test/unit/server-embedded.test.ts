import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedServer, type EmbeddedStart } from '../../server/embedded.ts';
import { HostServer } from '../../server/host-server.ts';
import { rawRequest } from './server-raw-client.ts';

const started: HostServer[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});

function keep(r: EmbeddedStart): EmbeddedStart {
  if (r.started) started.push(r.server);
  return r;
}

describe('servers embedded in the simulator CLI', () => {
  it('starts and says where in one line', async () => {
    const r = keep(await startEmbeddedServer({ port: 0, db: ':memory:' }));
    if (!r.started) throw new Error(r.message);
    expect(r.message).toBe(`echo server at ${r.server.url}/, temperature collector at ${r.server.url}/temperature/`);
    expect((await rawRequest(r.server.port, 'GET / HTTP/1.0\r\n\r\n')).body.toString()).toBe('Hello, world!');
  });

  it('carries on with one line when the port is taken', async () => {
    const holder = new HostServer({ port: 0, collectorPrefix: false });
    started.push(holder);
    await holder.start();
    const r = keep(await startEmbeddedServer({ port: holder.port, db: ':memory:' }));
    expect(r).toEqual({
      started: false,
      message: `echo server not started: 127.0.0.1:${holder.port} is already in use (--server-port N to pick another, --no-server to skip)`,
    });
  });

  it('still fails on errors that are not a taken port', async () => {
    await expect(startEmbeddedServer({ port: 0, host: '192.0.2.1', db: ':memory:' })).rejects.toThrow(/--host "192\.0\.2\.1"/);
  });
});
