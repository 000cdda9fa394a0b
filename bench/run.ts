/**
 * `npm run bench`: every benchmark of the project, printed as ratios and wall times for this
 * machine. Needs a firmware (PICOW_FIRMWARE, --firmware or the cache) for the board sections.
 */
import { resolveFirmware } from '../sim/firmware.ts';
import { benchBoard } from './board.ts';

type Section = { name: string; run: (firmware: string) => Promise<string[]> };

async function main(): Promise<void> {
  const sections: Section[] = [{ name: 'board', run: benchBoard }];
  let firmware: string;
  try {
    firmware = (await resolveFirmware({ offline: true })).path;
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    process.exit(2);
  }
  console.log(`picow-sim benchmarks — firmware ${firmware}`);
  for (const s of sections) {
    console.log(`\n## ${s.name}`);
    for (const line of await s.run(firmware)) console.log(`  ${line}`);
  }
}

await main();
