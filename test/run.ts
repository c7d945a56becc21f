/**
 * Test entry point: runs every test/**\/*.test.ts file with uvu in one process and prints the
 * plain closing line `N passed, N failed` that CI reads. Exit code 1 when anything failed.
 *
 * Usage: npm test [-- <substring filter on file paths>]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const testDir = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2];

function collect(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...collect(path));
    else if (name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

const files = collect(testDir).filter((f) => !filter || relative(testDir, f).includes(filter));
if (files.length === 0) {
  console.error(`no test files matched${filter ? ` "${filter}"` : ''}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// The type check of lib, cli, tests, benchmarks and fixtures scripts counts as one test, so a
// type error fails CI with the same summary line. Skipped when a filter is given (quick runs).
let typecheck: 'passed' | 'failed' | 'skipped' = 'skipped';
if (!filter) {
  const tsc = spawnSync(process.execPath, [join(testDir, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(testDir, '..', 'tsconfig.test.json')], { encoding: 'utf8' });
  typecheck = tsc.status === 0 ? 'passed' : 'failed';
  console.log(`typecheck (tsc -p tsconfig.test.json): ${typecheck}`);
  if (typecheck === 'failed') console.log(tsc.stdout, tsc.stderr);
}

// uvu's runner keeps its state on globalThis.UVU_DEFER / UVU_QUEUE; setting them before the
// test files load makes every suite.run() queue up, then uvu's `exec` runs them all and
// reports totals. We read the totals from uvu's own output hooks by wrapping process.stdout.
(globalThis as Record<string, unknown>)['UVU_DEFER'] = 1;
const { exec } = await import('uvu');
const importFailures: string[] = [];
for (const file of files) {
  (globalThis as Record<string, unknown>)['UVU_INDEX'] = files.indexOf(file);
  ((globalThis as Record<string, unknown>)['UVU_QUEUE'] as unknown[][]).push([relative(testDir, file)]);
  try {
    await import(pathToFileURL(file).href);
  } catch (err) {
    importFailures.push(`${relative(testDir, file)}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}
for (const failure of importFailures) console.error(`could not load test file ${failure}`);

let captured = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

await exec(false);
process.stdout.write = write;

// uvu's summary: "Total:  N", "Passed: N", "Skipped: N" (with ANSI colour codes).
// eslint-disable-next-line no-control-regex
const plain = captured.replace(/\x1b\[[0-9;]*m/g, '');
const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
if (!Number.isFinite(total) || !Number.isFinite(passed)) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
// uvu's Total excludes skipped tests; a test file that failed to load counts as one failure.
const failed = total - passed + importFailures.length + (typecheck === 'failed' ? 1 : 0);
const passedAll = passed + (typecheck === 'passed' ? 1 : 0);
console.log(`${passedAll} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || process.exitCode ? 1 : 0;
