/**
 * Several boards from the command line (`--board NAME[=SCRIPT]`) and from a scenario's `boards:`:
 * an AP board serving a station board over UDP, `--expect NAME:TEXT` on one board, one pty per
 * board, and the bad inputs (duplicate names, a name that is no board, more boards than the LAN
 * has addresses) as one line and exit 2.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, ROOT, runCli, startCli } from '../helpers/cli.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();
const FIX = join(ROOT, 'test/e2e/multi-fixtures');
const hasSocat = spawnSync('socat', ['-V']).status === 0;
const hasPyserial = spawnSync('/usr/bin/python3', ['-c', 'import serial']).status === 0;
if (fw && !(hasSocat && hasPyserial)) console.log('per-board pty test skipped: needs socat and pyserial for /usr/bin/python3');

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'picow-boards-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('several boards: bad input is one line and exit 2', () => {
  const env = { PICOW_FIRMWARE: fw ?? '/nonexistent.uf2' };
  const oneLine = async (args: string[], message: string | RegExp): Promise<void> => {
    const r = await runCli(args, 30_000, { env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stdout).toBe('');
  };

  it('two boards of one name', () => oneLine(['--board', 'hub', '--board', 'hub=x.py'], /^picow-sim: --board "hub=x\.py": two boards named 'hub'/));
  it('a per-board option naming no board', () =>
    oneLine(['--board', 'hub', '--board-firmware', 'node=x.uf2'], /no board named 'node' \(give --board node before it\)/));
  it('more boards than the LAN has addresses', () =>
    oneLine(
      Array.from({ length: 65 }, (_, i) => ['--board', `b${i}`]).flat(),
      /^picow-sim: 65 boards: the virtual LAN has 64 addresses \(10\.0\.2\.15 onwards\); give at most 64 --board$/,
    ));
  it('a scenario with two boards of one name', () =>
    oneLine(['--scenario', file('dup.yaml', 'boards:\n  - name: a\n  - name: a\n')], /dup\.yaml:3: boards\[1\]\.name: two boards named "a"$/));
  it('a scenario expectation naming no board', () =>
    oneLine(
      ['--scenario', file('nob.yaml', 'boards:\n  - name: a\nexpect:\n  - serial: x\n    board: b\n')],
      /nob\.yaml:5: expect\[0\]\.board: no board named "b" \(boards: a\)$/,
    ));
  it('a scenario with more boards than the LAN has addresses', () =>
    oneLine(
      ['--scenario', file('many.yaml', `boards:\n${Array.from({ length: 65 }, (_, i) => `  - name: b${i}\n`).join('')}`)],
      /many\.yaml:2: boards: 65 boards: the virtual LAN has 64 addresses/,
    ));
});

describe.skipIf(!fw)('several boards with the firmware', () => {
  it('an AP board serves a station board over UDP; --expect NAME:TEXT waits on each; lines are prefixed', async () => {
    const r = await runCli(
      ['--board', `hub=${join(FIX, 'hub.py')}`, '--board', `node=${join(FIX, 'node.py')}`, '--no-server', '--timeout', '150',
        '--expect', "node:b'pong ping'", '--expect', 'hub:served 192.168.4.'],
      180_000,
      { env: { PICOW_FIRMWARE: fw! } },
    );
    expect(r.code, r.stderr).toBe(0);
    // Join order gives the LAN addresses; the station's address comes from the hub's own DHCP server.
    expect(r.stderr).toContain('[hub] 10.0.2.15 on the LAN');
    expect(r.stderr).toContain('[node] 10.0.2.16 on the LAN');
    const lines = r.stdout.split(/\r?\n/);
    expect(lines).toContain('[hub] hub ready');
    expect(lines).toContain("[node] b'pong ping'");
    const joined = lines.find((l) => l.startsWith('[node] joined '));
    expect(joined).toMatch(/^\[node\] joined 192\.168\.4\.\d+$/);
    expect(lines).toContain(`[hub] served ${joined!.slice('[node] joined '.length)}`);
    for (const l of lines.filter((x) => x.trim())) expect(l).toMatch(/^\[(hub|node)\] /);
  }, 200_000);

  it('NAME:TEXT is met only by that board: its script ends without it, exit 1 naming it', async () => {
    // a prints later than b (their clocks are kept together), so b's "beta" is there before a ends.
    const a = file('alpha.py', "import time\ntime.sleep(3)\nprint('alpha')\n");
    const b = file('beta.py', "print('beta')\n");
    const r = await runCli(['--board', `a=${a}`, '--board', `b=${b}`, '--no-server', '--timeout', '90', '--expect', 'a:beta', '--expect', 'alpha'], 120_000, {
      env: { PICOW_FIRMWARE: fw! },
    });
    expect(r.code).toBe(1);
    expect(r.stdout.split(/\r?\n/)).toEqual(expect.arrayContaining(['[a] alpha', '[b] beta']));
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^picow-sim: \[a\] .*alpha\.py finished without printing a:"beta"$/);
  }, 150_000);

  it('a scenario with two boards: per-board serial expectations pass', async () => {
    const r = await runCli(['--scenario', join(FIX, 'two-boards.yaml'), '--timeout', '150'], 180_000, { env: { PICOW_FIRMWARE: fw! } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain("PASS  the node got the hub's reply: node's serial output contains \"b'pong ping'\"");
    expect(r.stderr).toContain("PASS  only the hub serves: node's serial output does not contain \"served\"");
    expect(r.stderr).toContain('4 expectations: 4 passed, 0 failed');
    expect(r.stdout).toMatch(/^\[node\] b'pong ping'$/m);
  }, 200_000);

  it.skipIf(!(hasSocat && hasPyserial))('--pty PATH gives each board its own pty at PATH-NAME, with its own MAC', async () => {
    const base = join(dir, 'mt');
    const child = startCli(['--board', 'a', '--board', 'b', '--pty', base, '--no-server'], { env: { PICOW_FIRMWARE: fw! } });
    const done = collect(child, 'picow-sim --board a --board b --pty', 120_000);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setInterval(() => {
          if (err.includes(`[a] console at ${base}-a`) && err.includes(`[b] console at ${base}-b`)) {
            clearInterval(t);
            resolve();
          }
        }, 100);
        child.on('exit', () => reject(new Error(`exited early: ${err}`)));
      });
      const macs = ['a', 'b'].map((name) => {
        expect(existsSync(`${base}-${name}`)).toBe(true);
        const py = spawnSync(
          '/usr/bin/python3',
          [
            '-c',
            `import serial, re
s = serial.Serial(${JSON.stringify(`${base}-${name}`)}, timeout=20)
s.write(b"\\x03\\r\\nimport network; w = network.WLAN(); w.active(True); print('mac=' + w.config('mac').hex())\\r\\n")
buf = b''
while b'mac=' not in buf or not re.search(rb'mac=[0-9a-f]{12}', buf):
    c = s.read(1)
    if not c: break
    buf += c
print(re.search(rb'mac=([0-9a-f]{12})', buf).group(1).decode())`,
          ],
          { encoding: 'utf8', timeout: 60_000 },
        );
        expect(py.status, py.stderr).toBe(0);
        return py.stdout.trim();
      });
      expect(macs[0]).toMatch(/^[0-9a-f]{12}$/);
      expect(macs[1]).toMatch(/^[0-9a-f]{12}$/);
      expect(macs[0]).not.toBe(macs[1]);
    } finally {
      child.kill('SIGINT');
      await done.catch(() => undefined);
    }
  }, 150_000);
});
