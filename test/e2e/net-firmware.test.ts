/**
 * The virtual network under the reference MicroPython firmware: DHCP lease, DNS hit and miss,
 * ntptime, urequests GET of 1 MB and POST of 256 KB under 2 % loss with reordering, ECONNREFUSED,
 * a board-side server reached through --forward, and two boards exchanging UDP and TCP.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PicoWBoard } from '../../sim/board/picow.ts';
import { Cyw43439 } from '../../sim/cyw43/chip.ts';
import { VirtualNetwork } from '../../sim/net/network.ts';
import { bootToPrompt, runPy } from '../helpers/board.ts';
import { e2eFirmware } from '../helpers/firmware.ts';
import { parseForwardSpec, parseHostSpec, parseMapSpec } from '../../sim/session/specs.ts';

const fw = e2eFirmware();

const JOIN = `import network, time
w = network.WLAN(network.STA_IF)
w.active(True)
w.connect('PicoW-Sim', 'picowsim')
for i in range(200):
    if w.status() < 0 or w.status() >= 3: break
    time.sleep(0.1)
print(w.status(), w.isconnected(), w.ifconfig())`;

/** The deterministic body both sides generate: byte i = (i * 7 + (i >> 8)) & 255. */
function body(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 255;
  return b;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A host client through a `--forward` listener: send `request`, collect the reply until the board closes. */
function requestThroughForward(hostPort: number, request: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const s = connect(hostPort, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('end', () => resolve(got));
    s.on('error', reject);
    s.write(request);
  });
}

describe.skipIf(!fw)('virtual network under the reference firmware', () => {
  let board: PicoWBoard;
  let chip: Cyw43439;
  let net: VirtualNetwork;
  let http: HttpServer;
  let httpPort = 0;
  let closedPort = 0;
  const posted: { len: number; sha: string }[] = [];
  const BIG = body(1 << 20);

  beforeAll(async () => {
    http = createHttpServer((req, res) => {
      if (req.method === 'GET' && req.url === '/big') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': BIG.length });
        res.end(BIG);
        return;
      }
      if (req.method === 'POST') {
        const h = createHash('sha256');
        let len = 0;
        req.on('data', (d: Buffer) => {
          h.update(d);
          len += d.length;
        });
        req.on('end', () => {
          const r = { len, sha: h.digest('hex') };
          posted.push(r);
          res.end(`${r.len} ${r.sha}`);
        });
        return;
      }
      res.end('Hello, world!');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    httpPort = (http.address() as { port: number }).port;
    const probe: Server = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    closedPort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));

    chip = new Cyw43439({ identity: 'net-e2e-1' });
    board = await bootToPrompt(fw!, { devices: [chip], name: 'net-e2e-1' });
    net = new VirtualNetwork({
      clock: board.clock,
      hostIo: board.hostIo,
      hosts: [parseHostSpec('collector.lan=10.0.2.2'), parseHostSpec('collector.local=10.0.2.2')],
      maps: [parseMapSpec(`192.168.253.45:8080=127.0.0.1:${httpPort}`)],
      forwards: [parseForwardSpec('0:80')],
    });
    await net.start();
    net.attach(chip.port);
    const joined = await runPy(board, JOIN, 120_000);
    expect(joined.trim()).toBe("3 True ('10.0.2.15', '255.255.255.0', '10.0.2.2', '10.0.2.3')");
  }, 240_000);

  afterAll(async () => {
    board?.dispose();
    await net?.close();
    await new Promise((r) => http?.close(r));
  });

  it('DHCP leased 10.0.2.15 to the chip MAC', () => {
    const lease = net.leases().find((l) => l.bound);
    expect(lease).toBeDefined();
    expect(lease!.ip).toBe(0x0a00020f);
    expect(lease!.mac).toBe([...chip.port.mac].map((b) => b.toString(16).padStart(2, '0')).join(':'));
  });

  it('DNS: --host names resolve (unicast DNS and mDNS), unknown names fail as with no answer', async () => {
    const out = await runPy(
      board,
      `import socket
for n in ('collector.lan', 'collector.local', 'example.com'):
    try:
        print(n, socket.getaddrinfo(n, 8080)[0][-1])
    except OSError as e:
        print(n, 'OSError', e.args[0])`,
      120_000,
    );
    expect(out.trim().split('\n')).toEqual(["collector.lan ('10.0.2.2', 8080)", "collector.local ('10.0.2.2', 8080)", 'example.com OSError -2']);
  }, 180_000);

  it('ntptime.settime() sets the clock from host time, offline', async () => {
    const out = await runPy(board, `import ntptime, time\nntptime.settime()\nprint(time.time())`, 120_000);
    const boardSecs = Number(out.trim());
    // MicroPython on rp2 counts from 1970; allow for the run's wall time.
    expect(Math.abs(boardSecs - Date.now() / 1000)).toBeLessThan(60);
  }, 180_000);

  it('urequests.get of the seed server through a --map address', async () => {
    const out = await runPy(board, `import urequests\nr = urequests.get('http://192.168.253.45:8080/')\nprint(r.status_code, r.content)\nr.close()`, 120_000);
    expect(out.trim()).toBe("200 b'Hello, world!'");
  }, 180_000);

  // A refused connection reaches the board as RST+ACK to its SYN, exactly what a closed port on
  // a real host sends; this firmware's lwIP binding reports that as ECONNRESET (104), at once.
  it('a refused or unmapped connection fails at once with the reset the board would get from a closed port', async () => {
    const out = await runPy(
      board,
      `import socket, errno, time
s = socket.socket()
try:
    s.connect(('10.0.2.2', ${closedPort}))
    print('connected?')
except OSError as e:
    print(errno.errorcode[e.errno])
s.close()
s = socket.socket()
t = time.ticks_ms()
try:
    s.connect(('203.0.113.9', 80))
except OSError as e:
    print(errno.errorcode[e.errno], time.ticks_diff(time.ticks_ms(), t) < 2000)
s.close()`,
      120_000,
    );
    expect(out.trim().split('\n')).toEqual(['ECONNRESET', 'ECONNRESET True']);
  }, 180_000);

  it('GET 1 MB and POST 256 KB byte-exact under 2 % loss with reordering', async () => {
    net.setFaults({ lossPercent: 2, jitterMs: 4, seed: 2026 });
    try {
      const out = await runPy(
        board,
        `import urequests, hashlib, binascii
r = urequests.get('http://10.0.2.2:${httpPort}/big', stream=True)
h = hashlib.sha256()
n = 0
while True:
    b = r.raw.read(2048)
    if not b: break
    h.update(b)
    n += len(b)
r.close()
print(n, binascii.hexlify(h.digest()).decode())
def gen(total):
    i = 0
    while i < total:
        k = min(2048, total - i)
        yield bytes(((j * 7 + (j >> 8)) & 255) for j in range(i, i + k))
        i += k
r = urequests.post('http://10.0.2.2:${httpPort}/up', data=gen(262144))
print(r.text)
r.close()`,
        600_000,
      );
      const [get, post] = out.trim().split('\n');
      expect(get).toBe(`${1 << 20} ${sha(BIG)}`);
      expect(post).toBe(`262144 ${sha(body(262144))}`);
      const s = net.attachments[0]!.stats;
      expect(s.up.lost + s.down.lost).toBeGreaterThan(0);
    } finally {
      net.setFaults({});
    }
  }, 900_000);

  it('--forward reaches a socket server on the board', async () => {
    const [fwd] = net.forwards;
    const mark = board.output.length;
    const run = runPy(
      board,
      `import socket
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('0.0.0.0', 80))
srv.listen(1)
print('listening')
c, a = srv.accept()
req = c.recv(200)
_ = c.send(b'HTTP/1.0 200 OK\\r\\n\\r\\nboard saw ' + req.split(b'\\r\\n')[0])
c.close()
srv.close()
print('served', a[0])`,
      180_000,
    );
    await board.waitForOutput(/\r\nlistening\r\n/, { from: mark, timeoutMs: 120_000 });
    const reply = await requestThroughForward(fwd!.hostPort, 'GET /hello HTTP/1.0\r\n\r\n');
    expect(reply).toBe('HTTP/1.0 200 OK\r\n\r\nboard saw GET /hello HTTP/1.0');
    expect((await run).trim()).toBe('listening\nserved 10.0.2.2');
  }, 240_000);

  it('--forward reaches an asyncio.start_server on the board', async () => {
    const [fwd] = net.forwards;
    const mark = board.output.length;
    const run = runPy(
      board,
      `import asyncio
done = asyncio.Event()
async def handle(r, w):
    line = await r.readline()
    w.write(b'HTTP/1.0 200 OK\\r\\n\\r\\nasyncio saw ' + line.strip())
    await w.drain()
    w.close()
    await w.wait_closed()
    done.set()
async def main():
    srv = await asyncio.start_server(handle, '0.0.0.0', 80)
    print('listening')
    await done.wait()
    srv.close()
    await srv.wait_closed()
asyncio.run(main())
print('done')`,
      180_000,
    );
    await board.waitForOutput(/\r\nlistening\r\n/, { from: mark, timeoutMs: 120_000 });
    const reply = await requestThroughForward(fwd!.hostPort, 'GET /async HTTP/1.0\r\n\r\n');
    expect(reply).toBe('HTTP/1.0 200 OK\r\n\r\nasyncio saw GET /async HTTP/1.0');
    expect((await run).trim()).toBe('listening\ndone');
  }, 240_000);

  describe('a second board on the same LAN', () => {
    let board2: PicoWBoard;
    beforeAll(async () => {
      const chip2 = new Cyw43439({ identity: 'net-e2e-2' });
      board2 = await bootToPrompt(fw!, { devices: [chip2], name: 'net-e2e-2' });
      net.attach(chip2.port, 'board2');
      const joined = await runPy(board2, JOIN, 120_000);
      expect(joined.trim()).toBe("3 True ('10.0.2.16', '255.255.255.0', '10.0.2.2', '10.0.2.3')");
    }, 240_000);
    afterAll(() => board2?.dispose());

    it('exchanges UDP and TCP with the first board', async () => {
      const mark = board2.output.length;
      const server = runPy(
        board2,
        `import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('0.0.0.0', 9000))
t = socket.socket()
t.bind(('0.0.0.0', 9001))
t.listen(1)
print('ready')
d, a = u.recvfrom(100)
_ = u.sendto(b'udp pong ' + d, a)
c, a2 = t.accept()
m = c.recv(100)
_ = c.send(b'tcp pong ' + m)
c.close()
print('peer', a[0], a2[0])`,
        180_000,
      );
      await board2.waitForOutput(/\r\nready\r\n/, { from: mark, timeoutMs: 120_000 });
      const client = await runPy(
        board,
        `import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(10)
_ = u.sendto(b'ping', ('10.0.2.16', 9000))
print(u.recv(100))
s = socket.socket()
s.connect(('10.0.2.16', 9001))
_ = s.send(b'ping')
print(s.recv(100))
s.close()`,
        180_000,
      );
      expect(client.trim().split('\n')).toEqual(["b'udp pong ping'", "b'tcp pong ping'"]);
      expect((await server).trim()).toBe('ready\npeer 10.0.2.15 10.0.2.15');
    }, 300_000);
  });
});
