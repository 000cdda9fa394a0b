/**
 * Network benchmarks, in wall time on this machine:
 *  - the NAT alone (a scripted board side, no firmware): TCP throughput each way;
 *  - with a firmware: the median wall time of a `urequests.get` round trip to a loopback HTTP
 *    server (target ≤ 30 ms) and TCP throughput board→host and host→board (target ≥ 500 KB/s).
 * Run alone: `npx tsx bench/net.ts [firmware.uf2]`.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import type { PicoWBoard } from '../sim/board/picow.ts';
import { Cyw43439 } from '../sim/cyw43/chip.ts';
import { VirtualNetwork } from '../sim/net/network.ts';
import { ManualClock } from '../sim/time.ts';
import { pasteRun as runPy } from '../sim/repl/board-link.ts';
import { bootBoard } from '../sim/session/program.ts';
import { ScriptedBoard, pumpUntil } from '../sim/net/scripted/board.ts';
import { median } from './median.ts';

const kbps = (bytes: number, ms: number) => (bytes / 1024 / (ms / 1000)).toFixed(0);

/** Wait (wall time) until `cond` holds; false on timeout. */
async function settle(cond: () => boolean, timeoutMs = 30_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

async function listen(s: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as { port: number }).port;
}

/** Throughput of the NAT with a scripted board side (frames built and parsed in TypeScript). */
async function natOnly(): Promise<string[]> {
  const N = 4 << 20;
  const data = Buffer.alloc(N, 0x5a);
  let got = 0;
  let tFirst = 0;
  let tLast = 0;
  const server = createServer((s) => {
    s.on('data', (d) => {
      if (!tFirst) tFirst = performance.now();
      got += d.length;
      if (got === N) tLast = performance.now();
    });
    s.on('error', () => undefined);
  });
  const port = await listen(server);
  const clock = new ManualClock();
  const net = new VirtualNetwork({ clock });
  const board = new ScriptedBoard(clock, '28:cd:c1:00:00:01');
  net.attach(board.port);
  const c = board.connect('10.0.2.2', port);
  await pumpUntil([board], () => c.state === 'ESTABLISHED', clock, 'handshake');
  const t0 = performance.now();
  c.write(data);
  await pumpUntil([board], () => got === N, clock, 'board→host', 120_000);
  const up = performance.now() - t0;
  // host → board on a second connection
  let down = 0;
  const server2 = createServer((s) => s.end(data));
  const port2 = await listen(server2);
  const c2 = board.connect('10.0.2.2', port2);
  const t1 = performance.now();
  await pumpUntil([board], () => c2.received.length === N, clock, 'host→board', 120_000);
  down = performance.now() - t1;
  await net.close();
  server.close();
  server2.close();
  void tFirst;
  void tLast;
  return [
    `NAT only (scripted board side, ${N >> 20} MB): board→host ${kbps(N, up)} KB/s, host→board ${kbps(N, down)} KB/s`,
  ];
}

const JOIN = `import network, time
w = network.WLAN(network.STA_IF)
w.active(True)
w.connect('PicoW-Sim', 'picowsim')
while w.status() >= 0 and w.status() < 3: time.sleep(0.1)`;

async function withFirmware(firmware: string): Promise<string[]> {
  const lines: string[] = [];
  const arrivals: number[] = [];
  const http = createHttpServer((req, res) => {
    arrivals.push(performance.now());
    res.end('Hello, world!');
  });
  const httpPort = await listen(http);
  const UP = 256 * 1024;
  const DOWN = 1 << 20;
  let upBytes = 0;
  let upStart = 0;
  let upEnd = 0;
  const sink = createServer((s) => {
    s.on('data', (d) => {
      if (!upStart) upStart = performance.now();
      upBytes += d.length;
      if (upBytes >= UP) upEnd = performance.now();
    });
    s.on('error', () => undefined);
  });
  const sinkPort = await listen(sink);
  let downStart = 0;
  let downEnd = 0;
  const source = createServer((s) => {
    downStart = performance.now();
    s.on('close', () => (downEnd = performance.now()));
    s.on('error', () => undefined);
    s.end(Buffer.alloc(DOWN, 0x33));
  });
  const sourcePort = await listen(source);

  const chip = new Cyw43439({ identity: 'bench-net' });
  let board: PicoWBoard | null = null;
  let net: VirtualNetwork | null = null;
  try {
    board = await bootBoard({ firmware, devices: [chip], name: 'bench-net' });
    net = new VirtualNetwork({ clock: board.clock, hostIo: board.hostIo });
    net.attach(chip.port);
    await runPy(board, JOIN, 120_000);
    const GETS = 31;
    await runPy(board, `import urequests\nfor i in range(${GETS}):\n    r = urequests.get('http://10.0.2.2:${httpPort}/')\n    r.close()`, 300_000);
    const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
    lines.push(`urequests.get round trip (loopback HTTP, median of ${gaps.length}): ${median(gaps).toFixed(1)} ms wall (target ≤ 30 ms)`);
    const wrote = await runPy(
      board,
      `import socket
s = socket.socket()
s.connect(('10.0.2.2', ${sinkPort}))
b = bytes(4096)
n = 0
for i in range(${UP / 4096}):
    n += s.write(b)
s.close()
print(n)`,
      300_000,
    );
    void wrote;
    if (await settle(() => upEnd > 0)) lines.push(`TCP board→host (${UP >> 10} KB): ${kbps(UP, upEnd - upStart)} KB/s wall (target ≥ 500 KB/s)`);
    else lines.push(`TCP board→host: only ${upBytes} of ${UP} bytes arrived`);
    await runPy(
      board,
      `import socket
s = socket.socket()
s.connect(('10.0.2.2', ${sourcePort}))
n = 0
while True:
    d = s.recv(4096)
    if not d: break
    n += len(d)
s.close()
print(n)`,
      300_000,
    );
    if (await settle(() => downEnd > 0)) lines.push(`TCP host→board (${DOWN >> 10} KB): ${kbps(DOWN, downEnd - downStart)} KB/s wall (target ≥ 500 KB/s)`);
    else lines.push('TCP host→board: the board did not close the connection');
  } finally {
    board?.dispose();
    await net?.close();
    http.close();
    sink.close();
    source.close();
  }
  return lines;
}

export async function benchNet(firmware: string): Promise<string[]> {
  const lines = await natOnly();
  if (firmware) lines.push(...(await withFirmware(firmware)));
  else lines.push('firmware sections skipped: no firmware given');
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const fw = process.argv[2] ?? process.env.PICOW_FIRMWARE ?? '';
  for (const l of await benchNet(fw)) console.log(l);
  process.exit(0);
}
