/**
 * `npm run bench`: every benchmark of the project, printed as ratios and wall times for this
 * machine. Needs a firmware (PICOW_FIRMWARE, --firmware or the cache) for the board sections.
 *
 * With several sections, each runs in a fresh Node process, as a user's `npm run sim` or test
 * file would: what one section leaves behind (V8's compiled code and type feedback for the boards
 * it made, a grown heap) would otherwise change the next one's numbers.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolveFirmware } from '../sim/firmware.ts';
import { benchBoard } from './board.ts';
import { benchBoards } from './boards.ts';
import { benchCpu } from './cpu.ts';
import { benchCyw43 } from './cyw43.ts';
import { benchNet } from './net.ts';
import { benchPackage } from './package.ts';
import { benchScenario } from './scenario.ts';
import { benchTool } from './tool.ts';

type Section = { name: string; run: (firmware: string) => Promise<string[]> };

async function main(): Promise<void> {
  const all: Section[] = [
    { name: 'board', run: benchBoard },
    { name: 'boards', run: benchBoards },
    { name: 'cpu', run: benchCpu },
    { name: 'cyw43', run: benchCyw43 },
    { name: 'net', run: benchNet },
    { name: 'scenario', run: benchScenario },
    { name: 'tool', run: benchTool },
    { name: 'package', run: benchPackage },
  ];
  // `npm run bench -- cpu net` runs only those sections.
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = only.filter((n) => !all.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`bench: unknown section ${unknown.join(', ')} (sections: ${all.map((s) => s.name).join(', ')})`);
    process.exit(2);
  }
  const sections = only.length ? all.filter((s) => only.includes(s.name)) : all;
  let firmware: string;
  try {
    firmware = (await resolveFirmware({ offline: true })).path;
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    process.exit(2);
  }
  const child = process.env.PICOW_BENCH_SECTION_PROCESS === '1';
  if (!child) console.log(`picow-sim benchmarks — firmware ${firmware}`);
  if (sections.length === 1 || child) {
    for (const s of sections) {
      console.log(`\n## ${s.name}`);
      for (const line of await s.run(firmware)) console.log(`  ${line}`);
    }
    return;
  }
  for (const s of sections) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), s.name], {
      stdio: 'inherit',
      env: { ...process.env, PICOW_BENCH_SECTION_PROCESS: '1', PICOW_FIRMWARE: firmware },
    });
    if (r.status !== 0) {
      console.error(`bench: section ${s.name} failed (exit ${r.status ?? r.signal})`);
      process.exit(1);
    }
  }
}

await main();
