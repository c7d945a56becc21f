/**
 * Rewrite the golden set's expected outputs (test/golden/expected/): `npm run golden`.
 * `npm run golden -- --inputs` first creates the golden key and registry (committed; only when
 * starting a new golden set). Run it only when a change is meant to alter reports, and explain
 * the diff of expected/ in the commit.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { EXPECTED_DIR, createGoldenInputs, goldenFfmpeg, makeGoldenClips, scanGolden } from './golden.js';

process.env['EARMARK_FFMPEG'] = goldenFfmpeg();
if (process.argv.includes('--inputs')) await createGoldenInputs();
const work = tempDir('earmark-golden-');
try {
  const clips = await makeGoldenClips(work.dir);
  rmSync(EXPECTED_DIR, { recursive: true, force: true });
  mkdirSync(EXPECTED_DIR, { recursive: true });
  const index: { name: string; description: string; registry: boolean }[] = [];
  for (const clip of clips) {
    const t0 = performance.now();
    const out = await scanGolden(work.dir, clip);
    writeFileSync(join(EXPECTED_DIR, `${clip.name}.json`), out.json);
    writeFileSync(join(EXPECTED_DIR, `${clip.name}.html.golden`), out.html);
    index.push({ name: clip.name, description: clip.description, registry: clip.registry });
    const r = JSON.parse(out.json) as { legs: { token: string; pValue: number }[]; edits: unknown[] };
    console.log(`${clip.name}: ${r.legs.length} leg(s) ${r.legs.map((l) => `${l.token.slice(0, 6)} p=${l.pValue.toExponential(1)}`).join(' ')}, ${r.edits.length} edit(s) (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  writeFileSync(join(EXPECTED_DIR, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
} finally {
  work.cleanup();
}
