/**
 * `npm run bench`: every benchmark in turn, each writing its table to benchmarks/results/.
 * Heavy sweeps live here, never in `npm test`. Name benchmarks to run a subset:
 *   npm run bench -- decode robustness
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib.js';

const ALL = ['decode', 'robustness', 'payload', 'edits', 'speed'] as const;
const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : ALL;
let failed = 0;
for (const name of names) {
  const file = join(root, 'benchmarks', `${name}.ts`);
  if (!existsSync(file)) {
    console.error(`benchmark ${name}: ${file} does not exist`);
    failed++;
    continue;
  }
  console.log(`\n=== benchmark ${name}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error(`benchmark ${name} failed (exit ${r.status})`);
    failed++;
  }
}
process.exitCode = failed ? 1 : 0;
