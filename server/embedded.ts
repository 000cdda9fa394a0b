/**
 * The servers inside another process (the simulator's CLI): start on the default port unless
 * told otherwise, and when the port is taken say so in one line and carry on without them. The
 * readings database opens at the first reading (a REPL session that posts none never loads SQLite).
 */
import { PortInUseError } from './errors.ts';
import { HostServer, type HostServerOptions } from './host-server.ts';

export type EmbeddedStart =
  | { started: true; server: HostServer; message: string }
  | { started: false; message: string };

/**
 * Starts a `HostServer` (default 127.0.0.1:8080). A taken port is not an error: the result says
 * `started: false` with the one line to print (another echo server may already be running there).
 */
export async function startEmbeddedServer(opts: HostServerOptions = {}): Promise<EmbeddedStart> {
  const server = new HostServer({ openDbOnFirstUse: true, ...opts });
  try {
    await server.start();
  } catch (err) {
    await server.stop();
    if (err instanceof PortInUseError) {
      return {
        started: false,
        message: `echo server not started: ${err.host}:${err.port} is already in use (--server-port N to pick another, --no-server to skip)`,
      };
    }
    throw err;
  }
  const collector = server.collector ? `, temperature collector at ${server.url}${server.collector.prefix}/` : '';
  return { started: true, server, message: `echo server at ${server.url}/${collector}` };
}
