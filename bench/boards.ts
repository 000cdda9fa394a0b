/**
 * Two boards: an AP board (WLAN(AP_IF)) serving HTTP to a station board that joined it, both on
 * one Lan through the test API. Reports the median wall time of one HTTP round trip (a GET over
 * a fresh TCP connection, timed from the host around the station's exec call; about 250 ms of it
 * is simulated time the two firmwares' lwIP stacks take, the same between two boards on the
 * LAN), and each
 * board's speed × real time on the CPU-bound integer loop while the other board sleeps, against
 * the speed of a board alone (target: each ≥ 0.9× its single-board speed).
 * Run alone: `npx tsx bench/boards.ts [firmware.uf2]`.
 */
import { Lan, PicoW } from '../sim/index.ts';
import { INT_LOOP } from './board.ts';
import { median } from './median.ts';

const ROUND_TRIPS = 15;

const SERVER = `import network, socket, time
ap = network.WLAN(network.AP_IF)
ap.config(ssid='BenchNet', key='benchnet1')
ap.active(True)
while ap.status() != 3: time.sleep_ms(50)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('0.0.0.0', 80))
srv.listen(2)`;

const SERVE = `for _ in range(${ROUND_TRIPS}):
    c, a = srv.accept()
    c.recv(200)
    c.send(b'HTTP/1.0 200 OK\\r\\nContent-Length: 13\\r\\n\\r\\nHello, world!')
    c.close()`;

const JOIN = `import network, socket, time
w = network.WLAN(network.STA_IF)
w.active(True)
w.connect('BenchNet', 'benchnet1')
while w.status() not in (3, -3, -2): time.sleep(0.1)
def get():
    s = socket.socket()
    s.connect(('192.168.4.1', 80))
    s.send(b'GET / HTTP/1.0\\r\\n\\r\\n')
    r = b''
    while True:
        d = s.recv(200)
        if not d: break
        r += d
    s.close()
    return r
print(w.status())`;

/** Speed × real time of `board` running the integer loop, while `sleeper` (if any) sleeps. */
async function speed(board: PicoW, sleeper: PicoW | null): Promise<number> {
  const nap = sleeper?.exec('import time\ntime.sleep(3600)', { timeout: 600_000 }).catch(() => undefined);
  const sim0 = board.board.clock.nanos;
  const wall0 = performance.now();
  await board.exec(INT_LOOP, { timeout: 600_000 });
  const ratio = (board.board.clock.nanos - sim0) / 1e6 / (performance.now() - wall0);
  if (sleeper) {
    sleeper.write('\x03'); // end the nap
    await nap;
  }
  return ratio;
}

export async function benchBoards(firmware: string): Promise<string[]> {
  const alone = await PicoW.boot({ firmware, name: 'alone' });
  await alone.exec(INT_LOOP, { timeout: 600_000 }); // warm-up (translation)
  const single = await speed(alone, null);
  await alone.dispose();

  const lan = new Lan();
  const hub = await PicoW.boot({ firmware, lan, name: 'hub' });
  const node = await PicoW.boot({ firmware, lan, name: 'node' });
  try {
    await hub.exec(SERVER, { timeout: 120_000 });
    const joined = (await node.exec(JOIN, { timeout: 120_000 })).trim();
    if (joined !== '3') throw new Error(`the station board did not join the AP board (status ${joined})`);
    const served = hub.exec(SERVE, { timeout: 600_000 });
    const times: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const t0 = performance.now();
      const r = await node.exec('print(get()[-13:])', { timeout: 60_000 });
      times.push(performance.now() - t0);
      if (r.trim() !== "b'Hello, world!'") throw new Error(`unexpected HTTP reply ${r.trim()}`);
    }
    await served;
    const empty: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await node.exec('pass');
      empty.push(performance.now() - t0);
    }
    await hub.exec(INT_LOOP, { timeout: 600_000 }); // warm-up
    await node.exec(INT_LOOP, { timeout: 600_000 });
    const hubSpeed = await speed(hub, node);
    const nodeSpeed = await speed(node, hub);
    return [
      `two boards: HTTP GET from a station board to an AP board's server, median round trip ${median(times).toFixed(1)} ms wall (of which ${median(empty).toFixed(1)} ms is the host's exec call; ${ROUND_TRIPS} requests)`,
      `two boards: integer loop ${hubSpeed.toFixed(2)}x real time on the AP board while the station sleeps, ${nodeSpeed.toFixed(2)}x on the station while the AP board sleeps; one board alone ${single.toFixed(2)}x (ratios ${(hubSpeed / single).toFixed(2)}, ${(nodeSpeed / single).toFixed(2)}; target >= 0.9)`,
    ];
  } finally {
    await node.dispose();
    await hub.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const fw = process.argv[2] ?? process.env.PICOW_FIRMWARE ?? '';
  for (const l of await benchBoards(fw)) console.log(l);
  process.exit(0);
}
