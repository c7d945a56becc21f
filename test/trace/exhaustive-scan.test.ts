/**
 * The scan's use of the registry for v2's exhaustive search: a leg's session span runs from its
 * join to its leave; a clip whose key-level layer was stripped is attributed through that span,
 * and without a leave time the report says the search could not run.
 */
import { writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeWav } from '../../lib/audio/wav.js';
import { embedAudio } from '../../lib/mark/embed.js';
import { keyFromBytes } from '../../lib/mark/keys.js';
import { PROFILE_V2 } from '../../lib/mark/profile.js';
import { openRegistry } from '../../lib/registry/registry.js';
import { scanFile } from '../../lib/trace/scan.js';
import { speech } from '../mark/speech.js';
import { tempDir } from '../helpers/tmp.js';

const t = suite('trace/exhaustive scan');
const tmp = tempDir();
t.after(() => tmp.cleanup());
const key = keyFromBytes(new Uint8Array(32).map((_, i) => (i * 41 + 5) & 0xff));

t('a v2 clip without its key layer is named through the leg\'s join-to-leave span; without leave times the report says why not', async () => {
  const withLeave = tmp.path('reg-left');
  const without = tmp.path('reg-open');
  const tokens: string[][] = [[], []];
  for (const [i, loc] of [withLeave, without].entries()) {
    const reg = await openRegistry(loc);
    for (const p of ['A', 'B', 'C']) {
      const r = await reg.addLeg({ meeting: 'm', participant: p, leg: 'app', joined: '2026-12-03T10:00:00Z' });
      tokens[i]!.push(r.token);
      if (loc === withLeave) await reg.leaveLeg({ token: r.token, left: '2026-12-03T10:20:00Z' });
    }
    await reg.close();
  }
  const legOnly = { ...PROFILE_V2, layerAmplitudes: { key: 0, leg: PROFILE_V2.layerAmplitudes.leg } };
  const x = (await speech('allison-3')).subarray(2 * 16000, 22 * 16000);
  for (const [i, loc] of [withLeave, without].entries()) {
    const y = embedAudio({ channels: [x], sampleRate: 16000 }, { key, token: tokens[i]![1]!, offsetSec: 400, profile: legOnly });
    const file = tmp.path(`clip-${i}.wav`);
    writeFileSync(file, encodeWav(y, { sampleFormat: 'float32' }));
    const report = await scanFile(file, { key, registry: loc });
    const v2 = report.marks?.find((m) => m.profile === 'v2');
    if (loc === withLeave) {
      assert.equal(report.legs.map((l) => l.participant), ['B'], report.verdict);
      assert.is(report.legs[0]!.profile, 'v2');
      assert.ok(Math.abs(report.legs[0]!.segments[0]!.sessionOffset - (400 + report.legs[0]!.segments[0]!.start)) <= 0.02);
      assert.equal(v2?.exhaustiveSearch?.ran, true);
      assert.is(v2?.exhaustiveSearch?.legSpans, 3);
    } else {
      assert.is(report.legs.length, 0);
      assert.equal(v2?.exhaustiveSearch, { ran: false, legSpans: 0 });
      assert.ok(report.limits?.some((l) => /no exhaustive search/.test(l)), 'limit stated');
    }
  }
});

t.run();
