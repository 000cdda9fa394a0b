/**
 * `--gdb`: the GDB remote protocol, checked with gdb-multiarch itself against a two-core C
 * program of our own (compiled here with arm-none-eabi-gcc, no SDK: core 0 launches core 1
 * through the SIO FIFO), and byte by byte with a raw client: bad input gets the protocol's
 * answers and the board runs on; on the real MicroPython firmware (with the default jit engine)
 * Ctrl-C halts both cores, simulated time stands still while halted, and the REPL works again
 * after the debugger detaches. Skips with a note without gcc, gdb-multiarch or a firmware.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startCli, type Run } from '../helpers/cli.ts';
import { e2eFirmware } from '../helpers/firmware.ts';
import { buildBareC, HAVE_ARM_GCC, type BareProgram } from '../helpers/bare-c.ts';

const have = (tool: string): boolean => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
const haveGcc = HAVE_ARM_GCC;
const haveGdb = have('gdb-multiarch');
if (!haveGcc) console.log('ports-gdb: C program tests skipped, arm-none-eabi-gcc not found (Debian: apt-get install gcc-arm-none-eabi)');
if (!haveGdb) console.log('ports-gdb: gdb session skipped, gdb-multiarch not found (Debian: apt-get install gdb-multiarch)');
const firmware = e2eFirmware();

/** RP2040 datasheet §2.3.1.7 (SIO FIFOs), §2.8.2 (launching core 1), §2.8.1 (boot2). */
const SOURCE = String.raw`/*
 * A two-core program for the debugger test: core 0 launches core 1 through the SIO FIFO (the
 * boot ROM's handshake, RP2040 datasheet §2.8.2), both count, and core 0 returns an exit code
 * made of what they computed.
 */
typedef unsigned int u32;
#define REG(addr) (*(volatile u32 *)(addr))
/* SIO (§2.3.1.7): FIFO status, write, read. */
#define SIO_FIFO_ST REG(0xd0000050)
#define SIO_FIFO_WR REG(0xd0000054)
#define SIO_FIFO_RD REG(0xd0000058)
#define FIFO_VLD 1u
#define FIFO_RDY 2u
#define VTOR REG(0xe000ed08)

volatile u32 counter;
volatile u32 scratch;
volatile u32 core1_count;
static u32 core1_stack[128];

__attribute__((noinline)) u32 add_step(u32 x, u32 y) {
  u32 r = x * 3;
  r += y + 1;
  return r;
}

/* In SRAM: copied there with .data by the start-up code. */
__attribute__((noinline, long_call, section(".ramfunc"))) u32 ram_add(u32 x, u32 y) { return x + y; }

__attribute__((noinline)) void core1_tick(void) { core1_count = core1_count + 1; }

static void fifo_push(u32 v) {
  while (!(SIO_FIFO_ST & FIFO_RDY)) {}
  SIO_FIFO_WR = v;
  __asm__ volatile("sev");
}

static u32 fifo_pop(void) {
  while (!(SIO_FIFO_ST & FIFO_VLD)) __asm__ volatile("wfe");
  return SIO_FIFO_RD;
}

void core1_main(void) {
  for (u32 i = 0; i < 50; i++) core1_tick();
  fifo_push(core1_count);
  for (;;) __asm__ volatile("wfi");
}

/* The launch sequence of §2.8.2: 0, 0, 1, vector table, stack pointer, entry, each echoed back. */
static void launch_core1(void) {
  extern void (*const vectors[])(void);
  const u32 cmds[] = {0, 0, 1, (u32)vectors, (u32)&core1_stack[128], (u32)core1_main};
  u32 seq = 0;
  do {
    u32 cmd = cmds[seq];
    if (!cmd) {
      while (SIO_FIFO_ST & FIFO_VLD) (void)SIO_FIFO_RD;
      __asm__ volatile("sev");
    }
    fifo_push(cmd);
    u32 response = fifo_pop();
    seq = cmd == response ? seq + 1 : 0;
  } while (seq < 6);
}

int main(void) {
  launch_core1();
  for (u32 i = 0; i < 5; i++) counter = add_step(counter, i);
  counter = ram_add(counter, scratch);
  u32 from_core1 = fifo_pop();
  return (int)((counter + from_core1 - 50) & 0xff);
}

extern u32 __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[], __stack_top[];

void reset_handler(void) {
  u32 *src = __data_load;
  for (u32 *dst = __data_start; dst < __data_end;) *dst++ = *src++;
  for (u32 *dst = __bss_start; dst < __bss_end;) *dst++ = 0;
  register u32 code __asm__("r0") = (u32)main();
  /* exit(): the simulator ends the run with r0 as the exit code */
  for (;;) __asm__ volatile("bkpt #0" : : "r"(code));
}

void fault_handler(void) {
  for (;;) __asm__ volatile("bkpt #1");
}

__attribute__((section(".vectors"), used)) void (*const vectors[16])(void) = {
    [0] = (void (*)(void))__stack_top,
    [1] = reset_handler,
    [2] = fault_handler,
    [3] = fault_handler,
    [11] = fault_handler,
    [14] = fault_handler,
    [15] = fault_handler,
};
`;

/** What the program returns: core 0's chain of add_step, plus scratch (set by the debugger), plus core 1's count minus 50. */
function expectedExit(scratch: number): number {
  let c = 0;
  for (let i = 0; i < 5; i++) c = c * 3 + i + 1;
  return (c + scratch) & 0xff;
}

let program: BareProgram | null = null;
let elf = '';
let uf2 = '';
beforeAll(() => {
  if (!haveGcc) return;
  program = buildBareC(SOURCE, { name: 'gdb', flags: ['-Og', '-g'] });
  elf = program.elf;
  uf2 = program.uf2;
});
afterAll(() => program?.dispose());

interface Sim {
  child: ChildProcess;
  port: number;
  done: Promise<Run>;
}

/** Start picow-sim with --gdb 0 and read the port it prints. */
async function startSim(args: string[], opts: { stdin?: 'pipe' } = {}): Promise<Sim> {
  const child = startCli(['--no-server', '--gdb', '0', ...args], opts);
  const done = collect(child, 'picow-sim --gdb', 120_000);
  const port = await new Promise<number>((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`no GDB port announced: ${err}`)), 60_000);
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /GDB server on localhost:(\d+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', () => reject(new Error(`picow-sim ended: ${err}`)));
  });
  return { child, port, done };
}

describe.skipIf(!haveGcc || !haveGdb)('gdb-multiarch against a two-core C program', () => {
  it('breaks, reads and writes variables, steps, lists both cores as threads, breaks on core 1 and in SRAM, runs to the end', async () => {
    const sim = await startSim(['--firmware', uf2, '--gdb-wait', '--timeout', '100']);
    const commands = [
      `target remote localhost:${sim.port}`,
      'info threads',
      'break add_step',
      'continue',
      'print counter',
      'set var scratch = 5',
      'print scratch',
      'info threads',
      'p/x $pc',
      'stepi',
      'p/x $pc',
      'finish',
      'delete',
      'break ram_add',
      'continue',
      'hbreak core1_tick',
      'continue',
      'info threads',
      'print core1_count',
      'thread 1',
      'x/2x 0x30000000',
      'delete',
      'continue',
    ];
    const gdb = spawnSync('gdb-multiarch', ['-batch', '-nx', elf, ...commands.flatMap((c) => ['-ex', c])], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    const out = gdb.stdout + gdb.stderr;
    const run = await sim.done;
    const msg = `gdb said:\n${out}\npicow-sim said:\n${run.stderr}`;
    expect(out, msg).toMatch(/Thread 1 hit Breakpoint 1, add_step \(x=0, y=y@entry=0\) at prog\.c:\d+/);
    expect(out, msg).toMatch(/\$1 = 0\n\$2 = 5\n/);
    expect(out, msg).toMatch(/\* 1 +Thread 1 \(core 0\) +add_step .*\n +2 +Thread 2 \(core 1\) +(core1_main|core1_tick) /);
    const pcs = [...out.matchAll(/\$[34] = (0x[0-9a-f]+)/g)].map((m) => parseInt(m[1]!, 16));
    expect(pcs.length, msg).toBe(2);
    expect(pcs[1]! - pcs[0]!, msg).toBeGreaterThan(0);
    expect(pcs[1]! - pcs[0]!, msg).toBeLessThanOrEqual(4);
    expect(out, msg).toMatch(/Value returned is \$5 = 1\n/);
    // A breakpoint in SRAM (ram_add runs from RAM), then a hardware one that core 1 hits.
    expect(out, msg).toMatch(/Thread 1 hit Breakpoint 2, ram_add \(x=179, y=5\) at prog\.c:\d+/);
    expect(out, msg).toMatch(/Thread 2 hit (Hardware assisted )?[Bb]reakpoint 3, core1_tick \(\) at prog\.c:\d+/);
    expect(out, msg).toMatch(/ +1 +Thread 1 \(core 0[^\n]*\n\* 2 +Thread 2 \(core 1\) +core1_tick /);
    const ticks = /\$6 = (\d+)\n/.exec(out);
    expect(Number(ticks?.[1]), msg).toBeLessThan(50);
    expect(out, msg).toMatch(/\[Switching to thread 1 \(Thread 1\)\]/);
    expect(out, msg).toMatch(/Cannot access memory at address 0x30000000/);
    const code = expectedExit(5);
    expect(code).toBe(184);
    expect(out, msg).toMatch(new RegExp(`\\[Inferior 1 \\(Remote target\\) exited with code 0${code.toString(8)}\\]`));
    expect(run.code, msg).toBe(code);
  }, 120_000);
});

/** A raw GDB remote protocol client: sends packets, reads replies (acks skipped). */
class RawGdb {
  private buf = '';
  private waiters: (() => void)[] = [];
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (b: Buffer) => {
      this.buf += b.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static open(port: number): Promise<RawGdb> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawGdb(s)));
      s.on('error', reject);
    });
  }
  static packet(payload: string): string {
    let sum = 0;
    for (const ch of Buffer.from(payload, 'latin1')) sum = (sum + ch) & 0xff;
    return `$${payload}#${sum.toString(16).padStart(2, '0')}`;
  }
  send(raw: string): void {
    this.socket.write(Buffer.from(raw, 'latin1'));
  }
  /** The next packet's payload (acks and noise before it are dropped). */
  async reply(timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /\$([^#]*)#[0-9a-f]{2}/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m.index + m[0].length);
        return m[1]!;
      }
      if (this.closed) throw new Error(`connection closed; had ${JSON.stringify(this.buf)}`);
      if (Date.now() > deadline) throw new Error(`no reply; had ${JSON.stringify(this.buf)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
  /** Everything received so far that is not a packet (acks). */
  takeRaw(): string {
    const s = this.buf;
    this.buf = '';
    return s;
  }
  async ask(payload: string): Promise<string> {
    this.send(RawGdb.packet(payload));
    return this.reply();
  }
}

describe.skipIf(!haveGcc)('the GDB port with bad input', () => {
  it("garbage, bad checksums, out-of-range memory and a second client get the protocol's answers; a client vanishing mid-packet leaves the board running", async () => {
    const sim = await startSim(['--firmware', uf2, '--gdb-wait', '--timeout', '100']);
    try {
      const g = await RawGdb.open(sim.port);
      // Noise between packets is ignored; a bad checksum is answered with '-'.
      g.send('hello\x00\xff');
      g.send('$g#00');
      await new Promise((r) => setTimeout(r, 300));
      expect(g.takeRaw()).toBe('-');
      expect(await g.ask('?')).toBe('T05thread:1;');
      expect(await g.ask('m30000000,4')).toBe('E01');
      expect(await g.ask('mfffffffe,4')).toBe('E01');
      expect(await g.ask('mzz,4')).toBe('E01');
      expect(await g.ask('M20000000,4:123')).toBe('E01');
      expect(await g.ask('p99')).toBe('E01');
      expect(await g.ask('Hg7')).toBe('E01');
      expect(await g.ask('vCont;x')).toBe('E01');
      expect(await g.ask('qNoSuchThing')).toBe('');
      expect(await g.ask('Z2,20000000,4')).toBe(''); // watchpoints: not supported
      expect(await g.ask('qfThreadInfo')).toBe('m1,2');
      // Boot ROM and SRAM are readable; the ROM's magic 'Mu' and version are at 0x10.
      expect(await g.ask('m10,4')).toBe('4d750103');
      expect(await g.ask('M20040000,4:78563412')).toBe('OK');
      expect(await g.ask('m20040000,4')).toBe('78563412');
      // A second client is refused while this one is attached.
      const second = await RawGdb.open(sim.port);
      await new Promise<void>((r) => second.socket.on('close', () => r()));
      expect(second.takeRaw()).toMatch(/^picow-sim: the GDB port already has a client/);
      // monitor reset: the chip starts again from the boot ROM, halted; an unknown command says so.
      expect(await g.ask(`qRcmd,${Buffer.from('reset halt').toString('hex')}`)).toBe('OK');
      expect(Buffer.from(await g.ask('pf'), 'hex').readUInt32LE(0)).toBeLessThan(0x4000);
      expect(await g.ask('m20040000,4')).not.toBe('78563412'); // SRAM does not survive a power-on
      g.send(RawGdb.packet(`qRcmd,${Buffer.from('frobnicate').toString('hex')}`));
      expect(Buffer.from((await g.reply()).slice(1), 'hex').toString()).toMatch(/unknown monitor command 'frobnicate'/);
      expect(await g.reply()).toBe('OK');
      // The debugger vanishes in the middle of a packet: the board runs on, to the program's end.
      g.send('$m100001');
      g.socket.destroy();
      const run = await sim.done;
      expect(run.code).toBe(expectedExit(0));
    } finally {
      if (sim.child.exitCode === null) sim.child.kill('SIGKILL');
    }
  }, 120_000);
});

describe.skipIf(!firmware)('--gdb on the real MicroPython firmware (jit)', () => {
  it('attaching halts both cores and simulated time; Ctrl-C interrupts a continue; after detaching the REPL works', async () => {
    const sim = await startSim(['--firmware', firmware!, '--cpu', 'jit', '--timeout', '100'], { stdin: 'pipe' });
    let stdout = '';
    sim.child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    try {
      const g = await RawGdb.open(sim.port);
      expect(await g.ask('?')).toMatch(/^T05thread:1;$/);
      expect(await g.ask('qfThreadInfo')).toBe('m1,2');
      // The RP2040 TIMER's raw low word (§4.6.5 TIMERAWL at 0x40054028) does not move while halted.
      const t1 = await g.ask('m40054028,4');
      await new Promise((r) => setTimeout(r, 300));
      expect(await g.ask('m40054028,4')).toBe(t1);
      const regs = await g.ask('g');
      expect(regs).toMatch(/^[0-9a-f]{168}$/);
      const pc = Buffer.from(regs.slice(15 * 8, 16 * 8), 'hex').readUInt32LE(0);
      expect(pc >= 0x10000000 && pc < 0x10200000 || pc >= 0x20000000 && pc < 0x20042000 || pc < 0x4000).toBe(true);
      // Continue, then Ctrl-C: the stop reply says SIGINT.
      g.send(RawGdb.packet('vCont;c'));
      await new Promise((r) => setTimeout(r, 500));
      g.send('\x03');
      expect(await g.reply()).toMatch(/^T02thread:[12];$/);
      const t2 = await g.ask('m40054028,4');
      expect(t2).not.toBe(t1);
      // A breakpoint where core 0 stopped (the REPL's idle loop, waiting for input in WFE): typing
      // wakes it, and it stops there before going on.
      const here = await g.ask('g');
      const at = Buffer.from(here.slice(15 * 8, 16 * 8), 'hex').readUInt32LE(0);
      expect(await g.ask(`Z0,${at.toString(16)},2`)).toBe('OK');
      g.send(RawGdb.packet('vCont;c'));
      sim.child.stdin!.write('\r');
      expect(await g.reply()).toBe('T05thread:1;');
      expect(Buffer.from((await g.ask('pf')), 'hex').readUInt32LE(0)).toBe(at);
      expect(await g.ask(`z0,${at.toString(16)},2`)).toBe('OK');
      // A busy Python loop, hot enough to be translated: a breakpoint inside it still stops it.
      g.send(RawGdb.packet('vCont;c'));
      sim.child.stdin!.write('x = 0\rwhile True: x += 1\r\r');
      await new Promise((r) => setTimeout(r, 1500));
      g.send('\x03');
      expect(await g.reply()).toMatch(/^T02thread:1;$/);
      const busy = Buffer.from(await g.ask('pf'), 'hex').readUInt32LE(0);
      expect(await g.ask(`Z0,${busy.toString(16)},2`)).toBe('OK');
      expect(await g.ask('vCont;c')).toBe('T05thread:1;');
      expect(Buffer.from(await g.ask('pf'), 'hex').readUInt32LE(0)).toBe(busy);
      // A step moves core 0 by one instruction (2 or 4 bytes on, or a branch elsewhere).
      expect(await g.ask('vCont;s:1')).toBe('T05thread:1;');
      expect(Buffer.from(await g.ask('pf'), 'hex').readUInt32LE(0)).not.toBe(busy);
      expect(await g.ask('D')).toBe('OK');
      g.socket.destroy();
      sim.child.stdin!.write('\x03');
      sim.child.stdin!.write('print(6 * 7)\r');
      const deadline = Date.now() + 30_000;
      while (!/\n42\r\n/.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(stdout).toMatch(/\n42\r\n/);
    } finally {
      sim.child.kill('SIGTERM');
      await sim.done.catch(() => undefined);
    }
  }, 120_000);
});
