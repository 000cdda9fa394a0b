import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualNetwork, type VirtualNetworkOptions } from '../../sim/net/network.ts';
import { ManualClock } from '../../sim/time.ts';
import { CountingHostIo, ScriptedBoard, pumpUntil, until, type BoardTcp } from '../../sim/net/scripted/board.ts';
import { ip, tcp } from '../../sim/net/scripted/frames.ts';
import { parseForwardSpec, parseMapSpec } from '../../sim/session/specs.ts';

const nets: VirtualNetwork[] = [];
const servers: Server[] = [];
const clients: Socket[] = [];
const accepted: Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const c of accepted.splice(0)) c.destroy();
  for (const n of nets.splice(0)) await n.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

function setup(o: Partial<VirtualNetworkOptions> = {}) {
  const clock = new ManualClock();
  const hostIo = new CountingHostIo();
  const net = new VirtualNetwork({ clock, hostIo, ...o });
  nets.push(net);
  const board = new ScriptedBoard(clock, '28:cd:c1:00:00:01');
  net.attach(board.port);
  return { clock, hostIo, net, board };
}

/** A loopback server; `onConn` gets each accepted socket. Returns the port. */
async function server(onConn: (s: Socket) => void): Promise<number> {
  const s = createServer({ allowHalfOpen: true }, (sock) => {
    accepted.push(sock);
    sock.on('error', () => undefined);
    onConn(sock);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as { port: number }).port;
}

const pattern = (n: number, k = 7) => Uint8Array.from({ length: n }, (_, i) => (i * k + (i >> 8)) & 255);

async function established(c: BoardTcp, clock: ManualClock) {
  await until(() => c.state !== 'SYN_SENT', clock, 'handshake');
}

describe('TCP NAT: outbound connections', () => {
  it('relays both ways through 10.0.2.2:P to 127.0.0.1:P and closes cleanly, releasing HostIo', async () => {
    let serverGot = '';
    let serverEnded = false;
    const port = await server((s) => {
      s.on('data', (d) => (serverGot += d.toString()));
      s.on('end', () => {
        serverEnded = true;
        s.end('bye');
      });
      s.write('hello board');
    });
    const { board, clock, hostIo, net } = setup();
    const c = board.connect('10.0.2.2', port);
    expect(hostIo.open.size).toBe(1); // pending connect holds the clock
    await established(c, clock);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.peerMss).toBe(1460);
    c.write(Buffer.from('hello host'));
    await until(() => serverGot === 'hello host', clock, 'host receives');
    await until(() => Buffer.from(c.received).toString() === 'hello board', clock, 'board receives');
    c.close();
    await until(() => c.finReceived && serverEnded, clock, 'both FINs');
    expect(Buffer.from(c.received).toString()).toBe('hello boardbye');
    await until(() => hostIo.open.size === 0, clock, 'token release');
    await until(() => c.finAcked, clock, 'our FIN acked');
    // We were the passive closer (CLOSE_WAIT → LAST_ACK); the board's ACK ends the connection.
    await until(() => net.tcp.connectionCount === 0, clock, 'connection gone');
  });

  it('follows --map for a hard-coded address', async () => {
    const port = await server((s) => s.end('mapped'));
    const { board, clock } = setup({ maps: [parseMapSpec(`192.168.253.45:8080=127.0.0.1:${port}`)] });
    const c = board.connect('192.168.253.45', 8080);
    await until(() => c.finReceived, clock, 'data + FIN');
    expect(Buffer.from(c.received).toString()).toBe('mapped');
  });

  it('answers a refused host connection with RST (ECONNREFUSED on the board)', async () => {
    const port = await server(() => undefined);
    await new Promise((r) => servers.pop()!.close(r)); // now nothing listens there
    const { board, clock, hostIo } = setup();
    const c = board.connect('10.0.2.2', port);
    await until(() => c.rstReceived, clock, 'RST');
    const rst = board.port.received.length;
    expect(rst).toBeGreaterThan(0);
    expect(hostIo.open.size).toBe(0);
  });

  it('resets an unmapped destination at once without touching the host', () => {
    const { board, hostIo } = setup();
    const c = board.connect('203.0.113.7', 80);
    expect(c.rstReceived).toBe(true);
    expect(hostIo.begun).toBe(0);
  });

  it('turns a host reset into an RST to the board (ECONNRESET)', async () => {
    const port = await server((s) => s.resetAndDestroy());
    const { board, clock, hostIo } = setup();
    const c = board.connect('10.0.2.2', port);
    await until(() => c.rstReceived, clock, 'RST after host reset');
    await until(() => hostIo.open.size === 0, clock, 'token release');
  });

  it('turns a board RST into a reset of the host socket', async () => {
    let hostError = '';
    let accepted = false;
    const port = await server((s) => {
      accepted = true;
      s.on('error', (e: NodeJS.ErrnoException) => (hostError = e.code ?? 'error'));
    });
    const { board, clock } = setup();
    const c = board.connect('10.0.2.2', port);
    await established(c, clock);
    await until(() => accepted, clock, 'accept');
    c.reset();
    await until(() => hostError !== '', clock, 'host sees reset');
    expect(hostError).toBe('ECONNRESET');
  });

  it('half-close from the board: the host still sends after our FIN', async () => {
    const port = await server((s) => {
      s.on('end', () => {
        s.write('after your FIN');
        s.end();
      });
      s.resume();
    });
    const { board, clock } = setup();
    const c = board.connect('10.0.2.2', port);
    await established(c, clock);
    c.close();
    await until(() => c.finReceived, clock, 'host FIN');
    expect(Buffer.from(c.received).toString()).toBe('after your FIN');
  });

  it('half-close from the host: the board still sends after the host FIN', async () => {
    let got = '';
    let done = false;
    const port = await server((s) => {
      s.end();
      s.on('data', (d) => (got += d.toString()));
      s.on('end', () => (done = true));
    });
    const { board, clock } = setup();
    const c = board.connect('10.0.2.2', port);
    await until(() => c.finReceived, clock, 'host FIN');
    c.write(Buffer.from('still talking'));
    c.close();
    await until(() => done, clock, 'host sees board FIN');
    expect(got).toBe('still talking');
  });

  it('moves 1 MB each way byte-exact', async () => {
    const big = pattern(1 << 20);
    let hostGot = Buffer.alloc(0);
    const port = await server((s) => {
      s.on('data', (d) => (hostGot = Buffer.concat([hostGot, d])));
      s.write(big);
    });
    const { board, clock } = setup();
    const c = board.connect('10.0.2.2', port);
    await established(c, clock);
    c.write(big);
    await pumpUntil([board], () => c.received.length === big.length && hostGot.length === big.length, clock, '1 MB both ways', 60_000);
    expect(Buffer.from(c.received).equals(Buffer.from(big))).toBe(true);
    expect(hostGot.equals(Buffer.from(big))).toBe(true);
  }, 90_000);

  it('moves 256 KB each way byte-exact under 2 % loss with jitter (reordering)', async () => {
    const data = pattern(256 * 1024, 13);
    let hostGot = Buffer.alloc(0);
    const port = await server((s) => {
      s.on('data', (d) => (hostGot = Buffer.concat([hostGot, d])));
      s.write(data);
    });
    const { board, clock, net } = setup({ faults: { lossPercent: 2, jitterMs: 5, seed: 7 } });
    const c = board.connect('10.0.2.2', port);
    await pumpUntil([board], () => c.state === 'ESTABLISHED', clock, 'handshake under loss');
    c.write(data);
    await pumpUntil([board], () => c.received.length === data.length && hostGot.length === data.length, clock, '256 KB both ways under loss', 60_000, 20);
    expect(Buffer.from(c.received).equals(Buffer.from(data))).toBe(true);
    expect(hostGot.equals(Buffer.from(data))).toBe(true);
    const lost = net.attachments[0]!.stats.up.lost + net.attachments[0]!.stats.down.lost;
    expect(lost).toBeGreaterThan(0);
  }, 90_000);

  it('a slow host reader closes our advertised window', async () => {
    let hostSock: Socket | null = null;
    const port = await server((s) => {
      hostSock = s;
      s.pause(); // never reads
    });
    const { board, clock } = setup();
    const c = board.connect('10.0.2.2', port);
    await established(c, clock);
    const chunk = pattern(1 << 20);
    let written = 0;
    await pumpUntil(
      [board],
      () => {
        if (c.unacked < 256 * 1024 && written < 64 << 20) {
          c.write(chunk);
          written += chunk.length;
        }
        return c.windowsSeen.at(-1) === 0;
      },
      clock,
      'zero window',
      60_000,
    );
    expect(c.windowsSeen.at(-1)).toBe(0);
    // Reading on the host reopens the window.
    (hostSock as unknown as Socket).resume();
    await pumpUntil([board], () => (c.windowsSeen.at(-1) ?? 0) > 0, clock, 'window reopens', 30_000);
  }, 90_000);

  it('a stalled board caps our buffering and pauses the host socket', async () => {
    let hostSock: Socket | null = null;
    let writes = 0;
    let blocked = false;
    const port = await server((s) => {
      hostSock = s;
      const block = Buffer.alloc(64 * 1024, 1);
      const pumpHost = () => {
        while (writes < 200) {
          writes++;
          if (!s.write(block)) {
            blocked = true;
            s.once('drain', pumpHost);
            return;
          }
        }
      };
      pumpHost();
    });
    const { board, clock, net } = setup({ tcp: { sendBuffer: 128 * 1024 } });
    const c = board.connect('10.0.2.2', port, { window: 0 });
    await established(c, clock);
    await until(() => blocked, clock, 'host writer blocked', 30_000);
    const q = net.tcp.connections()[0]!;
    expect(q.sendQueued).toBeLessThanOrEqual(128 * 1024 + 64 * 1024);
    expect(c.received.length).toBeLessThanOrEqual(1); // only window probes got through
    // Open the board window: everything arrives.
    c.window = 65535;
    c.sendWindowUpdate();
    await pumpUntil([board], () => c.received.length >= 200 * 64 * 1024, clock, 'all data after window opens', 60_000);
    expect((hostSock as unknown as Socket).destroyed).toBe(false);
  }, 90_000);

  it('carries many concurrent connections', async () => {
    const port = await server((s) => s.on('data', (d) => s.write(d)));
    const { board, clock } = setup();
    const conns = Array.from({ length: 40 }, () => board.connect('10.0.2.2', port));
    await pumpUntil([board], () => conns.every((c) => c.state === 'ESTABLISHED'), clock, '40 handshakes');
    conns.forEach((c, i) => c.write(Buffer.from(`conn ${i} `.repeat(200))));
    await pumpUntil([board], () => conns.every((c, i) => c.received.length === `conn ${i} `.repeat(200).length), clock, '40 echoes');
    conns.forEach((c, i) => expect(Buffer.from(c.received).toString()).toBe(`conn ${i} `.repeat(200)));
  });
});

describe('TCP NAT: inbound --forward', () => {
  it('carries a host client to a server on the board', async () => {
    const { board, clock, net } = setup({ forwards: [parseForwardSpec('0:80')] });
    const [fwd] = await net.start();
    board.listen(80, (c) => {
      c.write(Buffer.from('HTTP/1.0 200 OK\r\n\r\nfrom the board'));
      c.close();
    });
    const client = connect(fwd!.hostPort, '127.0.0.1');
    clients.push(client);
    let got = '';
    let ended = false;
    client.on('data', (d) => (got += d.toString()));
    client.on('end', () => {
      ended = true;
      client.end();
    });
    client.write('GET / HTTP/1.0\r\n\r\n');
    await pumpUntil([board], () => ended, clock, 'response from board');
    expect(got).toBe('HTTP/1.0 200 OK\r\n\r\nfrom the board');
    await pumpUntil([board], () => board.conns[0]!.finReceived, clock, 'client FIN reaches board');
    expect(Buffer.from(board.conns[0]!.received).toString()).toBe('GET / HTTP/1.0\r\n\r\n');
    const syn = board.conns[0]!;
    expect(syn.rip).toBe(0x0a000202);
  });

  it('resets the host client when the board refuses the connection', async () => {
    const { board, clock, net, hostIo } = setup({ forwards: [parseForwardSpec('0:81')] });
    const [fwd] = await net.start();
    const client = connect(fwd!.hostPort, '127.0.0.1');
    clients.push(client);
    let err = '';
    client.on('error', (e: NodeJS.ErrnoException) => (err = e.code ?? 'error'));
    await until(() => board.inbox.some((d) => d.tcp?.flags === 'S'), clock, 'inbound SYN');
    const [syn] = board.takeWhere((d) => d.tcp?.flags === 'S');
    expect(syn!.ip!.src).toBe('10.0.2.2');
    expect(syn!.tcp!.dp).toBe(81);
    expect(syn!.tcp!.mss).toBe(1460);
    // The board has no listener on 81: it answers RST+ACK, as lwIP does.
    board.sendIp(ip('10.0.2.2'), 6, tcp({ src: ip('10.0.2.15'), dst: ip('10.0.2.2'), sp: 81, dp: syn!.tcp!.sp, seq: 0, ack: syn!.tcp!.seq + 1, flags: 'RA', win: 0 }));
    await until(() => err !== '', clock, 'client reset');
    expect(err).toBe('ECONNRESET');
    await until(() => hostIo.open.size === 0 && net.tcp.connectionCount === 0, clock, 'cleanup');
  });

  it('rejects a forward whose host port is taken with a clear error', async () => {
    const port = await server(() => undefined);
    const { net } = setup({ forwards: [parseForwardSpec(`${port}:80`)] });
    await expect(net.start()).rejects.toThrow(`cannot listen on 127.0.0.1:${port}`);
  });
});
