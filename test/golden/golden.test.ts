/**
 * Golden set (issue 12): every report of the committed set must come out byte-identical. A
 * change that is meant to alter reports rewrites them with `npm run golden` and explains the diff.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../helpers/tmp.js';
import { EXPECTED_DIR, goldenFfmpeg, makeGoldenClips, scanGolden } from './golden.js';
import type { GoldenClip } from './golden.js';

const test = suite('golden reports');
const work = tempDir('earmark-golden-');
let clips: GoldenClip[] = [];
const savedFfmpeg = process.env['EARMARK_FFMPEG'];

test.before(async () => {
  process.env['EARMARK_FFMPEG'] = goldenFfmpeg();
  clips = await makeGoldenClips(work.dir);
});

test.after(() => {
  if (savedFfmpeg === undefined) delete process.env['EARMARK_FFMPEG'];
  else process.env['EARMARK_FFMPEG'] = savedFfmpeg;
  work.cleanup();
});

test('the golden set covers what issue 12 asks for', () => {
  const index = JSON.parse(readFileSync(join(EXPECTED_DIR, 'index.json'), 'utf8')) as { name: string }[];
  assert.equal(clips.map((c) => c.name), index.map((c) => c.name));
  assert.ok(clips.length >= 20);
});

test('every golden report is byte-identical', async () => {
  const differ: string[] = [];
  for (const clip of clips) {
    const out = await scanGolden(work.dir, clip);
    const json = readFileSync(join(EXPECTED_DIR, `${clip.name}.json`), 'utf8');
    const html = readFileSync(join(EXPECTED_DIR, `${clip.name}.html.golden`), 'utf8');
    if (out.json !== json) {
      const a = JSON.parse(json) as { input: { sha256: string } };
      const b = JSON.parse(out.json) as { input: { sha256: string } };
      differ.push(`${clip.name}.json${a.input.sha256 !== b.input.sha256 ? ' (the clip itself differs: ffmpeg build or clip generation changed)' : ''}`);
    }
    if (out.html !== html) differ.push(`${clip.name}.html.golden`);
  }
  assert.equal(differ, [], `reports differ from test/golden/expected: ${differ.join(', ')}`);
});

test.run();
