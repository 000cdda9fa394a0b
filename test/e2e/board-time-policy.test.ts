/**
 * The clock policy with the reference firmware: pace waits, never computation. With a tool on
 * --pty, a CPU-bound loop runs at full speed (simulated time runs ahead of the wall clock), while
 * waits for the host — a poll of the console with a timeout, a socket read with a timeout —
 * last their own duration in wall time. A C program of our own busy-waits on the timer: with
 * host I/O pending that wait, too, lasts its own duration with the simulator asleep.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import tty from 'node:tty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PicoWBoard } from '../../sim/board/picow.ts';
import { PicoW } from '../../sim/index.ts';
import { buildBareC, HAVE_ARM_GCC, type BareProgram } from '../helpers/bare-c.ts';
import { startCli } from '../helpers/cli.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();
if (!HAVE_ARM_GCC) console.log('busy-wait timing test skipped: arm-none-eabi-gcc not found (apt-get install gcc-arm-none-eabi)');
const hasSocat = spawnSync('socat', ['-V']).status === 0;
if (fw && !hasSocat) console.log('pty timing test skipped: socat is not installed (apt-get install socat)');

/**
 * The simulator's main thread as the Linux scheduler saw it: nanoseconds on a CPU and waiting
 * for one (/proc/PID/schedstat; null elsewhere). Whatever else of the wall time passed, the
 * thread slept: that is time the clock policy held it back.
 */
function schedstat(pid: number): { runNs: number; queuedNs: number } | null {
  const f = `/proc/${pid}/schedstat`;
  if (!existsSync(f)) return null;
  const [run, queued] = readFileSync(f, 'utf8').trim().split(/\s+/).map(Number);
  return { runNs: run!, queuedNs: queued! };
}

/** The raw REPL over a pty, as pyboard.py drives it: returns the code's output and the wall ms it took. */
class RawPty {
  private got = '';
  private wake: (() => void) | null = null;
  private readonly rs: tty.ReadStream;
  private readonly ws: tty.WriteStream;
  constructor(path: string) {
    const fd = openSync(path, 'r+');
    this.rs = new tty.ReadStream(fd);
    this.rs.setRawMode(true);
    this.ws = new tty.WriteStream(fd);
    this.rs.on('data', (b: Buffer) => {
      this.got += b.toString('latin1');
      this.wake?.();
    });
  }
  until(s: string, ms = 60_000): Promise<string> {
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`no ${JSON.stringify(s)} on the pty; got ${JSON.stringify(this.got)}`)), ms);
      this.wake = () => {
        const i = this.got.indexOf(s);
        if (i >= 0) {
          clearTimeout(t);
          this.wake = null;
          const out = this.got.slice(0, i + s.length);
          this.got = this.got.slice(i + s.length);
          res(out);
        }
      };
      this.wake();
    });
  }
  async enter(): Promise<void> {
    this.ws.write('\r\x03\x03\r\x01');
    await this.until('raw REPL; CTRL-B to exit\r\n>');
  }
  async exec(code: string): Promise<{ out: string; wallMs: number }> {
    this.ws.write(code);
    const t0 = performance.now();
    this.ws.write('\x04');
    const out = await this.until('\x04>');
    return { out, wallMs: performance.now() - t0 };
  }
  close(): void {
    this.rs.destroy();
    this.ws.destroy();
  }
}

describe.skipIf(!fw || !hasSocat)('clock policy over --pty', () => {
  let dir = '';
  let child: ChildProcess;
  let pty: RawPty;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'picow-time-'));
    const link = join(dir, 'pty');
    child = startCli(['--pty', link, '--no-server', '--timeout', '200']);
    let stderr = '';
    await new Promise<void>((res, rej) => {
      child.stderr!.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes(`console at ${link}`)) res();
      });
      child.on('exit', () => rej(new Error(`picow-sim exited early: ${stderr}`)));
    });
    child.stdout!.resume();
    pty = new RawPty(link);
    await pty.enter();
  }, 120_000);
  afterAll(() => {
    pty?.close();
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a CPU-bound loop at least 3x real time with the tool attached', async () => {
    const loop = [
      'import time',
      't = time.ticks_us()',
      'x = 0',
      'for i in range(300000):',
      '    x += i * i',
      "print('sim_us', time.ticks_diff(time.ticks_us(), t))",
    ].join('\n');
    let best = 0;
    let leastAsleep = 1;
    // The first run includes translating the loop; the policy is judged on the best of three.
    for (let i = 0; i < 3; i++) {
      const before = schedstat(child.pid!);
      const { out, wallMs } = await pty.exec(loop);
      const after = schedstat(child.pid!);
      const simUs = Number(/sim_us (\d+)/.exec(out)?.[1]);
      expect(simUs).toBeGreaterThan(1e6);
      best = Math.max(best, simUs / 1000 / wallMs);
      if (before && after) {
        const busyMs = (after.runNs - before.runNs + after.queuedNs - before.queuedNs) / 1e6;
        leastAsleep = Math.min(leastAsleep, Math.max(0, wallMs - busyMs) / wallMs);
      }
    }
    const context = `best ratio ${best.toFixed(2)}x, asleep ${(leastAsleep * 100).toFixed(0)} % of the run; host load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs`;
    if (schedstat(child.pid!)) {
      // Computation is never paced: while the loop runs the simulator is on a CPU or waiting for
      // one, never asleep waiting for the wall clock (pacing a loop that runs at 3.7x real time
      // would leave it asleep ~70 % of the time). This holds however busy the host is.
      expect(leastAsleep, context).toBeLessThan(0.25);
    }
    // The speed itself depends on the CPU share the host gives: judged only on an idle host.
    if (loadavg()[0]! < cpus().length / 2) expect(best, context).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('paces a wait for host data: a 1 s poll of the console with nothing sent lasts 1 s of wall time', async () => {
    const { out, wallMs } = await pty.exec(
      [
        'import select, sys, time',
        'p = select.poll()',
        'p.register(sys.stdin, select.POLLIN)',
        't = time.ticks_ms()',
        'r = p.poll(1000)',
        "print('waited', time.ticks_diff(time.ticks_ms(), t), len(r))",
      ].join('\n'),
    );
    const m = /waited (\d+) (\d+)/.exec(out)!;
    expect(Number(m[1])).toBeGreaterThanOrEqual(1000);
    expect(Number(m[1])).toBeLessThan(1100);
    expect(m[2]).toBe('0');
    expect(wallMs).toBeGreaterThanOrEqual(950);
  }, 60_000);
});

describe.skipIf(!fw)('clock policy with a host socket', () => {
  let pico: PicoW;
  let server: Server;
  let port = 0;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // A host server that accepts and never answers.
    server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
    pico = await PicoW.boot({ firmware: fw! });
    const joined = await pico.exec(
      [
        'import network, time',
        'w = network.WLAN(network.STA_IF)',
        'w.active(True)',
        "w.connect('PicoW-Sim', 'picowsim')",
        'for i in range(200):',
        '    if w.status() < 0 or w.status() >= 3: break',
        '    time.sleep(0.1)',
        'print(w.isconnected())',
      ].join('\n'),
      { timeout: 90_000 },
    );
    expect(joined).toBe('True\n');
  }, 180_000);
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server?.close(r));
    await pico?.dispose();
  });

  it('a socket read with a 1.5 s timeout lasts 1.5 s of simulated and of wall time', async () => {
    const t0 = performance.now();
    const out = await pico.exec(
      [
        'import socket, time',
        's = socket.socket()',
        `s.connect(('10.0.2.2', ${port}))`,
        's.settimeout(1.5)',
        't = time.ticks_ms()',
        'try:',
        '    s.recv(10)',
        "    print('data?')",
        'except OSError as e:',
        "    print('timeout', e.errno, time.ticks_diff(time.ticks_ms(), t))",
        's.close()',
      ].join('\n'),
      { timeout: 30_000 },
    );
    const wallMs = performance.now() - t0;
    const m = /timeout (\d+) (\d+)/.exec(out)!;
    expect(m, out).not.toBeNull();
    expect(Number(m[1])).toBe(110); // ETIMEDOUT
    expect(Number(m[2])).toBeGreaterThanOrEqual(1500);
    expect(Number(m[2])).toBeLessThan(1600);
    expect(wallMs).toBeGreaterThanOrEqual(1400);
  }, 60_000);
});

/**
 * A busy-wait on the microsecond timer (RP2040 datasheet §4.6: TIMERAWL at 0x40054028), as an SDK
 * `busy_wait_us` or a driver's delay loop does it: 300 ms, then SHORT_WAITS waits of 100 µs (a
 * -D flag), the elapsed microseconds of each part stored at RESULT, then BKPT.
 */
const BUSY_WAIT = String.raw`
typedef unsigned int u32;
#define TIMERAWL (*(volatile u32 *)0x40054028)
#define RESULT ((volatile u32 *)0x20040000)

static void busy_wait(u32 us) {
  u32 t0 = TIMERAWL;
  while (TIMERAWL - t0 < us) {
  }
}

void reset_handler(void) {
  u32 t0 = TIMERAWL;
  busy_wait(300000);
  u32 t1 = TIMERAWL;
  for (u32 i = 0; i < SHORT_WAITS; i++) busy_wait(100);
  u32 t2 = TIMERAWL;
  RESULT[0] = t1 - t0;
  RESULT[1] = t2 - t1;
  for (;;) __asm__ volatile("bkpt #0");
}

__attribute__((section(".vectors"), used)) void (*const vectors[16])(void) = {
    [0] = (void (*)(void))0x20042000,
    [1] = reset_handler,
};
`;

/** Where the program leaves its two results (SRAM bank 4, below its stack). */
const RESULT = 0x20040000;

describe.skipIf(!HAVE_ARM_GCC)('clock policy for a busy-wait on the timer', () => {
  let longOnly: BareProgram | null = null;
  let withShort: BareProgram | null = null;
  beforeAll(() => {
    longOnly = buildBareC(BUSY_WAIT, { name: 'busy-wait', flags: ['-Os', '-DSHORT_WAITS=0'] });
    withShort = buildBareC(BUSY_WAIT, { name: 'busy-wait', flags: ['-Os', '-DSHORT_WAITS=1000'] });
  });
  afterAll(() => {
    longOnly?.dispose();
    withShort?.dispose();
  });

  /** Runs a program to its BKPT: what its parts measured (µs), its wall time and the share of it the process slept. */
  async function run(program: BareProgram, hostIo: boolean): Promise<{ longUs: number; shortUs: number; wallMs: number; asleep: number | null }> {
    const board = await PicoWBoard.create({ firmware: program.uf2 });
    try {
      const token = hostIo ? board.hostIo.begin('a test connection') : null;
      const before = schedstat(process.pid);
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        board.on('event', (e) => void (e.type === 'halt' && resolve()));
        board.start();
      });
      const wallMs = performance.now() - t0;
      const after = schedstat(process.pid);
      token?.release();
      const busyMs = before && after ? (after.runNs - before.runNs + after.queuedNs - before.queuedNs) / 1e6 : null;
      return {
        longUs: board.mcu.readUint32(RESULT),
        shortUs: board.mcu.readUint32(RESULT + 4),
        wallMs,
        asleep: busyMs === null ? null : Math.max(0, wallMs - busyMs) / wallMs,
      };
    } finally {
      board.dispose();
    }
  }

  it('with host I/O pending: a long wait lasts its own duration in wall time, with the simulator asleep', async () => {
    const r = await run(longOnly!, true);
    expect(r.longUs).toBeGreaterThanOrEqual(300_000);
    expect(r.longUs).toBeLessThan(302_000);
    expect(r.wallMs).toBeGreaterThanOrEqual(290);
    // Paced, not executed: the process slept through most of it (a loop executed as code keeps
    // it on a CPU, as the CPU-bound test above shows).
    if (r.asleep !== null) expect(r.asleep, JSON.stringify(r)).toBeGreaterThan(0.5);
  }, 60_000);

  it('without host I/O: the waits are skipped, and end close to on time', async () => {
    const r = await run(withShort!, false);
    expect(r.longUs).toBeGreaterThanOrEqual(300_000);
    expect(r.longUs).toBeLessThan(302_000);
    // Each skip is at most an eighth of what the wait has waited: 1000 waits of 100 µs take
    // ~119 ms (with steps doubling regardless of the wait's length they took ~257 ms).
    expect(r.shortUs).toBeGreaterThanOrEqual(100_000);
    expect(r.shortUs).toBeLessThan(125_000);
  }, 60_000);
});
