// The published package as a user gets it: `npm pack`, installed from the tarball into a fresh
// project next to node --test, vitest, Jest and Mocha (from the npm registry), then the README's
// test API example under each runner, `npx picow-sim --version`, a one-line script, and
// `require('picow-sim')` from CommonJS. Skips with a note when the registry cannot be reached.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

/** The runners' versions, pinned like the project's own dependencies. */
const RUNNERS = { vitest: '4.1.12', jest: '30.5.2', mocha: '12.0.3' };

/** A TypeScript consumer's compiler and Node types: the versions this project pins. */
const OWN_DEV = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies as Record<string, string>;
const TYPESCRIPT = { typescript: OWN_DEV['typescript']!, '@types/node': OWN_DEV['@types/node']! };

/** A consumer's typed use of both entry points: the test API and `picow-sim/server`. */
const TYPED_USE = `import { MicroPythonError, PicoW, type BootOptions } from 'picow-sim';
import { HostServer, type HostServerOptions } from 'picow-sim/server';

const serverOptions: HostServerOptions = { port: 0, db: ':memory:', corsOrigins: ['*'] };
const server = new HostServer(serverOptions);
const { port }: { port: number } = await server.start();
const options: BootOptions = { server: 0, files: { '/lib/cfg.py': \`PORT = \${port}\` } };
const pico: PicoW = await PicoW.boot(options);
const printed: string = await pico.exec('print(1)');
const failure: unknown = await pico.exec('1/0').catch((e: unknown) => e);
if (failure instanceof MicroPythonError) console.log(failure.type.toUpperCase(), printed.trim());
await pico.dispose();
await server.stop();
`;

/** The same uses, wrong: each line must fail to typecheck (so the check above cannot pass vacuously). */
const TYPED_MISUSE = `import { PicoW } from 'picow-sim';
import { HostServer } from 'picow-sim/server';
const pico = await PicoW.boot();
const printed: number = await pico.exec('print(1)');
const server = new HostServer({ port: '8080' });
await pico.waitForOutput(42);
export { printed, server };
`;

function run(cmd: string, args: string[], cwd: string, timeoutMs: number, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, PICOW_OFFLINE: '1', NO_COLOR: '1', ...env },
  });
}

function registryReachable(): boolean {
  const r = run('npm', ['ping'], ROOT, 30_000);
  return r.status === 0;
}

const reachable = registryReachable();
if (!reachable) console.log('package install test skipped: the npm registry cannot be reached (npm ping failed)');

/** The README's test API example (the first ts block of "Testing your board code"). */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Testing your board code'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README: no ts example under "Testing your board code"');
  return m[1]!;
}

/**
 * The same example for a runner without TypeScript: its hooks' names and imports, types removed.
 * `hooks` maps beforeAll/afterAll to the runner's names; `imports` replaces the vitest import line.
 */
function asJs(example: string, imports: string, before: string, after: string): string {
  return example
    .replace(/^import \{[^}]*\} from 'vitest';\n/m, imports)
    .replace(/let pico: PicoW;/, 'let pico;')
    .replace(/\(e: unknown\)/g, '(e)')
    .replace(/\(err as MicroPythonError\)/g, 'err')
    .replace(/\bbeforeAll\(/g, `${before}(`)
    .replace(/\bafterAll\(/g, `${after}(`);
}

/** vitest's `expect` written with node:assert, for the runners that have none. */
const EXPECT_SHIM = `import assert from 'node:assert/strict';
const expect = (actual) => ({
  toBe: (want) => assert.equal(actual, want),
  toContain: (part) => assert.ok(actual.includes(part), \`expected output to contain \${JSON.stringify(part)}\`),
  toBeInstanceOf: (cls) => assert.ok(actual instanceof cls, \`expected an instance of \${cls.name}\`),
});
`;

/** The two ways a TypeScript consumer resolves packages. */
const TSCONFIGS = {
  nodenext: { module: 'nodenext' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
};

describe.skipIf(!reachable)('the packed package in a fresh project', () => {
  let dir = '';
  let project = '';
  const fw = e2eFirmware();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'picow-pack-'));
    const pack = run('npm', ['pack', '--pack-destination', dir, '--silent'], ROOT, 240_000);
    if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error('npm pack wrote no tarball');
    project = join(dir, 'project');
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify(
        {
          name: 'picow-user-project',
          private: true,
          type: 'module',
          devDependencies: { 'picow-sim': `file:../${tarball}`, ...RUNNERS, ...TYPESCRIPT },
        },
        null,
        2,
      ),
    );
    // Install scripts are skipped: a registry mirror with no access to prebuilt binaries (like
    // this project's CI) cannot run better-sqlite3's. Its addon, built for this very Node, is
    // copied from the project's own install instead.
    const install = run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], project, 300_000);
    if (install.status !== 0) throw new Error(`npm install failed: ${install.stderr}`);
    const addon = join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    if (existsSync(addon)) cpSync(addon, join(project, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'));

    const example = readmeExample();
    writeFileSync(join(project, 'src', 'main.py'), 'import time\nfor i in range(3):\n    print("blink", i)\n    time.sleep(0.5)\nprint("done")\n');
    writeFileSync(join(project, 'vitest.test.ts'), example);
    writeFileSync(
      join(project, 'node.test.mjs'),
      asJs(example, `import { after, before, describe, it } from 'node:test';\n${EXPECT_SHIM}`, 'before', 'after').replace(/, 120_000\);/, ', { timeout: 120_000 });'),
    );
    writeFileSync(join(project, 'mocha.test.mjs'), asJs(example, EXPECT_SHIM, 'before', 'after').replace(/\}, 120_000\);/, '});'));
    writeFileSync(join(project, 'jest.test.mjs'), asJs(example, `import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';\n`, 'beforeAll', 'afterAll'));
    writeFileSync(join(project, 'script.py'), 'print("sum", sum(range(10)))\n');
    writeFileSync(join(project, 'typed-use.ts'), TYPED_USE);
    writeFileSync(join(project, 'typed-misuse.ts'), TYPED_MISUSE);
    // Strict, and the package's own declarations checked too (skipLibCheck off).
    const strict = { target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] };
    for (const [name, resolution] of Object.entries(TSCONFIGS)) {
      const compilerOptions = { ...strict, ...resolution };
      writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, files: ['vitest.test.ts', 'typed-use.ts'] }));
      writeFileSync(join(project, `tsconfig.${name}.misuse.json`), JSON.stringify({ compilerOptions, files: ['typed-misuse.ts'] }));
    }
    writeFileSync(join(project, 'cjs.cjs'), "const { PicoW } = require('picow-sim');\nconsole.log(typeof PicoW.boot);\n");
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships compiled code only: no tests, no TypeScript sources, types and source maps beside the JS', () => {
    const pkg = join(project, 'node_modules', 'picow-sim');
    const files = (readdirSync(pkg, { recursive: true }) as string[]).map((f) => f.replace(/\\/g, '/'));
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('bench/') || /\.test\./.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files).toContain('dist/sim/index.js');
    expect(files).toContain('dist/sim/index.d.ts');
    expect(files).toContain('dist/sim/index.js.map');
    expect(files).toContain('dist/server/index.js');
    expect(files).toContain('dist/server/assets/index.html');
    // The command line's bundle carries rp2040js: its licence goes with it.
    expect(readFileSync(join(pkg, 'dist', 'cli', 'THIRD-PARTY-NOTICES.txt'), 'utf8')).toMatch(/^rp2040js \d+\.\d+\.\d+ \(bundled[^]*MIT License[^]*Uri Shaked/);
    // The doc comments reach the declarations (the test API's, re-exported by index.d.ts).
    expect(readFileSync(join(pkg, 'dist', 'sim', 'index.d.ts'), 'utf8')).toMatch(/from '\.\/test-api\.[jt]s'/);
    expect(readFileSync(join(pkg, 'dist', 'sim', 'test-api.d.ts'), 'utf8')).toContain('Wait for MicroPython');
    expect(existsSync(join(pkg, 'node_modules', 'tsx'))).toBe(false);
    expect(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).dependencies.tsx).toBeUndefined();
  });

  it('declarations point at the .js files they describe, never at .ts sources', () => {
    const dist = join(project, 'node_modules', 'picow-sim', 'dist');
    const dts = (readdirSync(dist, { recursive: true }) as string[]).filter((f) => f.endsWith('.d.ts'));
    expect(dts.length).toBeGreaterThan(50);
    const toTs = dts.filter((f) => /(?:from|import)\s*\(?\s*['"]\.\.?\/[^'"]*\.ts['"]/.test(readFileSync(join(dist, f), 'utf8')));
    expect(toTs).toEqual([]);
    expect(readFileSync(join(dist, 'server', 'host-server.d.ts'), 'utf8')).toContain('Accepted reading range');
  });

  for (const name of Object.keys(TSCONFIGS)) {
    it(`types the README example and picow-sim/server for tsc (${name} resolution, strict)`, () => {
      const tsc = join('node_modules', 'typescript', 'bin', 'tsc');
      const good = run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], project, 120_000);
      expect(good.stdout + good.stderr).toBe('');
      expect(good.status).toBe(0);
      // The misuses fail, each at its line: the types are real, not `any`.
      const bad = run(process.execPath, [tsc, '-p', `tsconfig.${name}.misuse.json`], project, 120_000);
      expect(bad.status).not.toBe(0);
      const errors = bad.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
      expect(errors.map((l) => /^([^(]+)\((\d+),/.exec(l)?.slice(1, 3).join(':'))).toEqual([
        'typed-misuse.ts:4',
        'typed-misuse.ts:5',
        'typed-misuse.ts:6',
      ]);
    });
  }

  it('npx picow-sim --version', () => {
    const r = run('npx', ['--no-install', 'picow-sim', '--version'], project, 60_000);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^picow-sim \d+\.\d+\.\d+\n$/);
  });

  it('loads from CommonJS with require()', () => {
    const r = run(process.execPath, ['cjs.cjs'], project, 60_000);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('function\n');
  });

  describe.skipIf(!fw)('with a firmware', () => {
    const env = (): Record<string, string> => ({ PICOW_FIRMWARE: fw! });

    it('runs a one-line script from npx picow-sim', () => {
      const r = run('npx', ['--no-install', 'picow-sim', 'script.py', '--no-server', '--quiet', '--timeout', '120'], project, 150_000, env());
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('sum 45');
    });

    it('runs scenario files with npx picow-sim test (the compiled workers)', () => {
      writeFileSync(join(project, 'sum.yaml'), 'name: sum\nscript: script.py\ntimeout: 10s\nservers:\n  - port: 0\nexpect:\n  - serial: sum 45\n');
      const r = run('npx', ['--no-install', 'picow-sim', 'test', 'sum.yaml', '--json'], project, 150_000, env());
      expect(r.status, r.stderr).toBe(0);
      const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      expect(last).toMatchObject({ type: 'summary', exitCode: 0, files: 1, passed: 1 });
    });

    it('runs the README example under node --test', () => {
      const r = run(process.execPath, ['--test', 'node.test.mjs'], project, 180_000, env());
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/# pass 3/);
    });

    it('runs the README example under vitest', () => {
      const r = run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--testTimeout', '60000', 'vitest.test.ts'], project, 180_000, env());
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Tests\s+3 passed/);
    });

    it('runs the README example under Jest', () => {
      const r = run(process.execPath, ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--testTimeout', '60000', '--testMatch', '**/jest.test.mjs'], project, 180_000, env());
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(/Tests:\s+3 passed/);
    });

    it('runs the README example under Mocha', () => {
      const r = run(process.execPath, ['node_modules/mocha/bin/mocha.js', '--timeout', '120000', 'mocha.test.mjs'], project, 180_000, env());
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/3 passing/);
    });
  });
});
