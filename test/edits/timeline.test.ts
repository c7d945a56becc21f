import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { timelineEdits } from '../../lib/edits/timeline.js';
import type { TimelineSegment } from '../../lib/edits/timeline.js';

const t = suite('edits/timeline');
const seg = (token: string, startSec: number, endSec: number, sessionOffsetSec: number, speed = 1): TimelineSegment => ({ token, startSec, endSec, sessionOffsetSec, speed });

t('a continuous timeline has no edits', () => {
  assert.equal(timelineEdits([seg('a', 0, 10, 100), seg('a', 10, 20, 110)]), []);
  // With a speed change the expectation follows the slope.
  assert.equal(timelineEdits([seg('a', 0, 10, 100, 1.03), seg('a', 10, 20, 110.3, 1.03)]), []);
});

t('forward jump is a cut of that much session time, located at the boundary', () => {
  const [e, ...rest] = timelineEdits([seg('a', 0, 10, 100), seg('a', 10.2, 20, 125.2)]);
  assert.is(rest.length, 0);
  assert.is(e!.kind, 'cut');
  assert.ok(Math.abs(e!.time - 10.1) < 1e-9);
  assert.ok(Math.abs(e!.sessionJumpSec! - 15) < 1e-9);
  assert.match(e!.evidence, /15\.00 s of the call are missing/);
});

t('a jump read from an uncertain timecode block is flagged and its confidence scaled down', () => {
  const [sure] = timelineEdits([seg('a', 0, 10, 100), seg('a', 10.2, 20, 3700.2)]);
  const [unsure] = timelineEdits([seg('a', 0, 10, 100), { ...seg('a', 10.2, 20, 3700.2), timecodeConfidence: 0.6 }]);
  assert.is(unsure!.kind, 'cut');
  assert.ok(Math.abs(unsure!.confidence - 0.6 * sure!.confidence) < 1e-9);
  assert.match(unsure!.evidence, /timecode of one side is uncertain \(confidence 0\.60\)/);
  assert.not.match(sure!.evidence, /uncertain/);
});

t('backward jump without a gap is a reorder; with an unmarked gap of that length, an insert', () => {
  const [r] = timelineEdits([seg('a', 0, 10, 100), seg('a', 10, 20, 60)]);
  assert.is(r!.kind, 'reorder');
  const [i] = timelineEdits([seg('a', 0, 10, 100), seg('a', 15, 25, 110)]);
  assert.is(i!.kind, 'insert');
  assert.ok(Math.abs(i!.sessionJumpSec! + 5) < 1e-9);
});

t('another leg is a splice; a substantial overlap of two legs is a mix, not an edit', () => {
  const [s] = timelineEdits([seg('a', 0, 20.1, 610), seg('b', 19.7, 35, 1204.7)]);
  assert.is(s!.kind, 'splice');
  assert.equal(timelineEdits([seg('a', 0, 30, 10), seg('b', 2, 28, 500)]), []);
});

t('an unmarked gap on a continuous timeline is reported as unknown, not as a cut', () => {
  const [u] = timelineEdits([seg('a', 0, 10, 100), seg('a', 14, 20, 114)]);
  assert.is(u!.kind, 'unknown');
  assert.ok(u!.confidence < 0.5);
});

t.run();
