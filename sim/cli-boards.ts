/**
 * `--board NAME[=SCRIPT]` (repeatable): several boards on one virtual LAN in one run. One `Lan`
 * from the network flags; each board a world of the session layer on it (10.0.2.15, .16, … in the
 * order given, the MAC seeded by the name) with its firmware, files and a `ConsoleRun` of its own
 * (cli-run.ts): its script as main.py, or its console on `PATH-NAME` (`--pty PATH`) / the serial
 * port, or shown. Console lines are prefixed `[NAME] `. `--expect NAME:TEXT` waits on one board,
 * plain `--expect TEXT` on any. The run ends when every expectation is met, on `--timeout`, when a
 * board halts or its script raises, or when every board's script has finished.
 */
import type { CliIo } from './cli.ts';
import type { BoardOption, CliOptions } from './cli-options.ts';
import { ConsoleRun, runScriptMode, toolPortsMode, type ConsoleExpect, type Ending } from './cli-run.ts';
import { cliLanOptions } from './cli-world.ts';
import { loadUf2File } from './board/uf2.ts';
import { PicowSimError, UsageError } from './errors.ts';
import type { EventStream } from './events.ts';
import type { Logger } from './log.ts';
import { POOL_SIZE } from './net/network.ts';
import { ipToString } from './net/wire/ipv4.ts';
import type { UploadItem } from './repl/board-link.ts';
import { ExpectSet, LinePrefixer } from './session/console.ts';
import { Lan } from './session/lan.ts';
import { buildWorld, type World } from './session/world.ts';

export interface BoardsRunContext {
  /** The resolved shared UF2 (null when every board names its own). */
  firmware: string | null;
  /** Each board's files besides its script (checked already), by name. */
  uploads: Map<string, UploadItem[]>;
  logger: Logger;
  status: (line: string) => void;
  /** `--json`: the stream the run reports to; each board's events carry its name. */
  events: EventStream | null;
}

/** `--expect NAME:TEXT` on board NAME when NAME is one of the boards; anything else waits on any board. */
export function splitExpectations(texts: readonly string[], names: readonly string[]): { board: string | null; text: string }[] {
  return texts.map((t) => {
    const colon = t.indexOf(':');
    const name = colon > 0 ? t.slice(0, colon) : '';
    return names.includes(name) && colon < t.length - 1 ? { board: name, text: t.slice(colon + 1) } : { board: null, text: t };
  });
}

/**
 * The `--expect` texts of several boards, each an `ExpectSet` (a named text on its board; a plain
 * one once per board, met on the first board that shows it). `view(name)` is a board's door to it.
 */
export class BoardsExpect {
  private readonly entries: { board: string | null; text: string; sets: Map<string, ExpectSet> }[];

  /** `onSeen`: told each text as it shows, with the board that showed it (`--json`). */
  constructor(texts: readonly string[], names: readonly string[], onSeen?: (board: string, text: string) => void) {
    this.entries = splitExpectations(texts, names).map((e) => ({
      ...e,
      sets: new Map((e.board ? [e.board] : names).map((n) => [n, new ExpectSet([e.text], onSeen && ((text) => onSeen(n, text)))])),
    }));
  }

  get any(): boolean {
    return this.entries.length > 0;
  }

  private isMet(e: (typeof this.entries)[number]): boolean {
    for (const s of e.sets.values()) if (s.met) return true;
    return false;
  }

  get met(): boolean {
    return this.entries.every((e) => this.isMet(e));
  }

  /** Whether a text named for this board is still missing. */
  pendingFor(board: string): boolean {
    return this.entries.some((e) => e.board === board && !this.isMet(e));
  }

  feed(board: string, text: string): boolean {
    for (const e of this.entries) if (!this.isMet(e)) e.sets.get(board)?.feed(text);
    return this.met;
  }

  missing(): string {
    return this.entries
      .filter((e) => !this.isMet(e))
      .map((e) => (e.board ? `${e.board}:${JSON.stringify(e.text)}` : JSON.stringify(e.text)))
      .join(', ');
  }

  /** The texts not shown yet, as `missing()` names them. */
  get unseen(): string[] {
    return this.unseenTexts.map((e) => (e.board ? `${e.board}:${e.text}` : e.text));
  }

  /** The texts not shown yet, each with the board it was named for (null: any board). */
  get unseenTexts(): { board: string | null; text: string }[] {
    return this.entries.filter((e) => !this.isMet(e)).map(({ board, text }) => ({ board, text }));
  }

  view(board: string): ConsoleExpect {
    const met = (): boolean => this.met;
    const unseen = (): string[] => this.unseen;
    return {
      get met() {
        return met();
      },
      get unseen() {
        return unseen();
      },
      feed: (text) => this.feed(board, text),
      missing: () => this.missing(),
    };
  }
}

/** Check the boards against the LAN before building anything: one clear line for what cannot work. */
export function checkBoards(opts: CliOptions): void {
  if (opts.boards.length > POOL_SIZE) {
    throw new UsageError(`${opts.boards.length} boards: the virtual LAN has ${POOL_SIZE} addresses (10.0.2.15 onwards); give at most ${POOL_SIZE} --board`);
  }
  if (opts.pty && opts.boards.some((b) => b.script)) {
    throw new UsageError('--pty is for interactive tools; it cannot be combined with a board script (--board NAME=SCRIPT)');
  }
  if (opts.serialPort !== null && opts.boards.some((b) => b.script)) {
    throw new UsageError('--serial-port is for interactive tools; it cannot be combined with a board script (--board NAME=SCRIPT)');
  }
}

interface BoardRun {
  spec: BoardOption;
  world: World;
  run: ConsoleRun;
  out: LinePrefixer;
  /** Its status lines (`[NAME] …`, or a status event of its own with `--json`). */
  status: (line: string) => void;
}

/** Build the LAN and the boards, run each one's mode, and return the exit code. */
export async function runBoards(opts: CliOptions, io: CliIo, c: BoardsRunContext): Promise<number> {
  const { logger, status, events } = c;
  const names = opts.boards.map((b) => b.name);
  // Every board's UF2 is read before anything starts: a bad one ends the run here.
  const images = opts.boards.map((b) => loadUf2File(b.firmware ?? c.firmware!));
  const views = new Map(events ? names.map((n) => [n, events.forBoard(n)]) : []);
  const expect = new BoardsExpect(opts.expect, names, (board, text) =>
    views.get(board)?.emit({ type: 'expect', name: '--expect', status: 'pass', summary: `printed ${JSON.stringify(text)}` }),
  );
  const wallStart = performance.now();
  const lan = new Lan({ ...cliLanOptions(opts), logger });
  const boards: BoardRun[] = [];
  let finishAll!: (e: Ending) => void;
  const ended = new Promise<Ending>((r) => (finishAll = r));
  let timer: NodeJS.Timeout | null = null;
  try {
    for (const [i, spec] of opts.boards.entries()) {
      const view = views.get(spec.name);
      const bstatus = (line: string): void => (view ? view.emit({ type: 'status', message: line }) : status(`[${spec.name}] ${line}`));
      const world = await buildWorld({
        logger,
        board: { name: spec.name, firmware: images[i]!, cpu: opts.cpu ?? undefined, wires: opts.wire },
        lan,
        // One embedded server for the LAN (the board reaches it at 10.0.2.2:port), with the first board.
        server: i === 0 && !opts.noServer ? { port: opts.serverPort ?? 8080, accessLog: opts.verbose } : null,
        status,
      });
      const out = new LinePrefixer(`[${spec.name}] `, io.stdout);
      const bopts: CliOptions = {
        ...opts,
        script: spec.script,
        expect: [],
        timeout: null,
        pty: opts.pty ? `${opts.pty}-${spec.name}` : null,
        serialPort: opts.serialPort === null || opts.serialPort === 0 ? opts.serialPort : opts.serialPort + i,
      };
      const bio: CliIo = { ...io, stdout: out as unknown as NodeJS.WriteStream };
      view?.attachNamedBoard(world);
      const run = new ConsoleRun(bopts, bio, world.board, logger, expect.view(spec.name), view);
      boards.push({ spec, world, run, out, status: bstatus });
      bstatus(`${ipToString(world.boards[0]!.member.ip)} on the LAN${spec.script ? `, running ${spec.script}` : ''}`);
    }
    if (events && boards.length) events.attachNamedLan(boards.map((b) => ({ view: views.get(b.spec.name)!, world: b.world })));
    const done = new Set<string>();
    for (const { spec, run, status: bstatus } of boards) {
      void run.ended.then((end) => {
        const tagged = end.message ? `[${spec.name}] ${end.message}` : null;
        if (expect.any && expect.met) finishAll({ code: 0, message: null });
        else if (end.scriptDone && (end.code === 0 || !expect.pendingFor(spec.name))) {
          done.add(spec.name);
          if (end.message && end.code === 0) bstatus(end.message);
          if (boards.every((b) => b.spec.script && done.has(b.spec.name))) {
            finishAll(expect.met ? { code: 0, message: null } : { code: 1, message: `the scripts finished without printing ${expect.missing()}` });
          }
        } else finishAll({ ...end, message: tagged });
      });
    }
    if (opts.timeout !== null) {
      const secs = opts.timeout;
      timer = setTimeout(
        () => finishAll({ code: 1, message: `timed out after ${secs} s${expect.met ? '' : ` without seeing ${expect.missing()}`}` }),
        secs * 1000,
      );
    }
    for (const b of boards) startBoard(b.run, b.spec, c.uploads.get(b.spec.name) ?? [], b.status);
    const end = await ended;
    for (const b of boards) b.out.flush();
    if (events) {
      for (const u of expect.unseenTexts) {
        (u.board ? views.get(u.board)! : events).emit({ type: 'expect', name: '--expect', status: 'fail', summary: `printed ${JSON.stringify(u.text)}` });
      }
      events.emit({ type: 'result', exitCode: end.code, message: end.message, simSeconds: events.time(), wallSeconds: (performance.now() - wallStart) / 1000 });
      events.close();
    }
    if (end.message) {
      if (end.code === 0) status(end.message);
      else io.stderr.write(`\npicow-sim: ${end.message}\n`);
    }
    return end.code;
  } finally {
    if (timer) clearTimeout(timer);
    for (const b of boards) {
      b.run.finish(0);
      await b.run.cleanup();
      b.out.flush();
    }
    // The LAN's services run on the first board's clock: close the boards in reverse order.
    for (const b of boards.reverse()) await b.world.close();
    await lan.close();
  }
}

/** A board's mode: its script as main.py, its console on the tool ports, or shown as it runs. */
function startBoard(run: ConsoleRun, spec: BoardOption, uploads: UploadItem[], status: (l: string) => void): void {
  if (spec.script) {
    status('booting');
    runScriptMode(run, spec.script, uploads, status);
  } else if (run.opts.pty || run.opts.serialPort !== null) {
    toolPortsMode(run, status).catch((e: unknown) => {
      run.finish(e instanceof PicowSimError ? e.exitCode : 1, e instanceof Error ? e.message : String(e));
    });
  } else run.board.start();
}
