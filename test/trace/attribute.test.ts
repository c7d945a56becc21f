import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DetectResult } from '../../lib/mark/detect/types.js';
import { attribute, sameMomentPairs } from '../../lib/trace/attribute.js';

const t = suite('trace/attribute');

function detection(legs: DetectResult['legs']): DetectResult {
  return { profile: 'v1', pValueBasis: 'normal-approximation', legs, scores: [], durationSec: 30, nullScale: 1, hypotheses: 1e6, alpha: 1e-6 };
}
const leg = (token: string, segments: [number, number, number][], speed = 1): DetectResult['legs'][number] => ({
  token,
  pValue: 1e-12,
  score: 12,
  speed,
  speedKind: 'tempo',
  profile: 'v1',
  segments: segments.map(([startSec, endSec, sessionOffsetSec]) => ({ startSec, endSec, sessionOffsetSec, z: 10, pValue: 1e-10, timecodeConfidence: 1 })),
});

t('no legs: says so, with the level and candidates, and that absence proves nothing', () => {
  const a = attribute({ detection: detection([]), candidates: [{ token: 'a' }, { token: 'b' }], keyId: 'k1' });
  assert.equal(a.legs, []);
  assert.match(a.verdict, /No leg's mark was found .* among 2 candidate/);
  assert.match(a.verdict, /Absence of a mark proves nothing/);
});

t('a leg gets its registry facts; a cut and a speed change become edits', () => {
  const a = attribute({
    detection: detection([leg('tokA', [[0, 10, 100], [10.5, 20, 140.5]], 1.02)]),
    candidates: [{ token: 'tokA', meeting: 'm1', participant: 'P', leg: 'pstn', device: 'hotel', joined: '2024-02-19T11:00:00Z' }],
    keyId: 'k1',
  });
  assert.is(a.legs[0]!.participant, 'P');
  assert.is(a.legs[0]!.leg, 'pstn');
  assert.equal(
    a.edits.map((e) => e.kind),
    ['speed', 'cut'],
  );
  assert.match(a.verdict, /participant P, pstn leg, meeting m1, device hotel/);
});

t('a registry that failed verification is flagged first in the verdict', () => {
  const a = attribute({ detection: detection([leg('t', [[0, 10, 0]])]), candidates: [{ token: 't', participant: 'P' }], keyId: 'k', registry: { intact: false, problem: 'entry #3: altered' } });
  assert.match(a.verdict, /^WARNING: the registry failed verification \(entry #3: altered\)/);
});

t('two legs at the same session time in the same stretch: not attributable to one alone; a splice of two legs is not that', () => {
  // Copies of one moment mixed (or a mark copied onto another leg's recording of it): clip 0-30 s, session 500 s at clip 0.
  const mixed = attribute({ detection: detection([leg('A', [[0, 30, 500]]), leg('B', [[0.4, 30, 500.4]])]), candidates: [{ token: 'A' }, { token: 'B' }], keyId: 'k' });
  assert.match(mixed.verdict, /Legs A and B are both present at clip 0\.40–30\.00 s, at the same session time: .*not attributable to one of them alone/);
  // A splice: the legs in different stretches of the clip.
  const spliced = attribute({ detection: detection([leg('A', [[0, 15, 500]]), leg('B', [[15, 30, 900]])]), candidates: [{ token: 'A' }, { token: 'B' }], keyId: 'k' });
  assert.match(spliced.verdict, /2 legs are present: the clip joins or mixes captures/);
  assert.not.match(spliced.verdict, /same session time/);
  // Overlapping in the clip but at session times 2 s apart: not the same moment.
  assert.equal(sameMomentPairs([{ token: 'A', segments: [{ start: 0, end: 10, sessionOffset: 100 }] }, { token: 'B', segments: [{ start: 5, end: 10, sessionOffset: 107 }] }]), []);
  assert.equal(sameMomentPairs([{ token: 'A', segments: [{ start: 0, end: 10, sessionOffset: 100 }] }, { token: 'B', segments: [{ start: 5, end: 10, sessionOffset: 105.5 }] }]), [['A', 'B', { start: 5, end: 10 }]]);
});

t.run();
