/**
 * Running the `picow-sim` command as a child process in e2e tests: the tsx loader in this very
 * node binary, so the child's PID is the CLI itself and killing it ends the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to this process's environment (PICOW_OFFLINE=1 is always set). */
  env?: Record<string, string | undefined>;
  stdin?: 'ignore' | 'pipe';
}

export function startCli(args: string[], opts: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'sim/cli.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, PICOW_OFFLINE: '1', ...opts.env },
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
}

/**
 * Collect a child's output until it exits; after `limitMs` it is killed (by `kill`, default
 * SIGKILL to its PID) and the promise rejects with what it printed so far.
 */
export function collect(child: ChildProcess, label: string, limitMs: number, kill?: () => void): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((res, rej) => {
    const t = setTimeout(() => {
      if (kill) kill();
      else if (child.pid) process.kill(child.pid, 'SIGKILL');
      rej(new Error(`${label} still running after ${limitMs} ms; stdout ${JSON.stringify(stdout)} stderr ${JSON.stringify(stderr)}`));
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      res({ code, stdout, stderr });
    });
  });
}

/** `picow-sim ARGS` to completion. */
export function runCli(args: string[], limitMs: number, opts: CliOptions & { input?: string } = {}): Promise<Run> {
  const child = startCli(args, { ...opts, stdin: opts.input === undefined ? 'ignore' : 'pipe' });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  return collect(child, `picow-sim ${args.join(' ')}`, limitMs);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
