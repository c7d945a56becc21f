/**
 * Edits read off the watermark's timeline (shared/docs/forensics.md): every marked segment of the
 * clip carries the session offset of its leg, so between two consecutive segments
 *   - the same leg, offset jumps forward by more than the clip time between them → cut
 *     (session time removed); jumps back across an unmarked gap about as long as the jump →
 *     insert (clip time the session clock never saw); otherwise jumps back → reorder;
 *   - different legs → splice (material from another leg's capture joined in);
 *   - a gap in the clip with no mark while marks surround it → unknown (an insert of unmarked
 *     audio, the tapped person's own voice, or simply a passage too quiet to carry the mark).
 * Pure function of the segments; locating an edit is limited by the segment boundaries
 * (the detector's boundary refinement), stated in each edit's evidence.
 */
import type { EditKind } from '../report/types.js';

export interface TimelineSegment {
  token: string;
  startSec: number;
  endSec: number;
  sessionOffsetSec: number;
  /** Session seconds per clip second (1 = no speed change). */
  speed: number;
  /** Posterior probability of the segment's timecode block (default 1). */
  timecodeConfidence?: number;
}

export interface TimelineEdit {
  time: number;
  kind: EditKind;
  confidence: number;
  evidence: string;
  /** Session time removed (cut, > 0) or repeated/moved back (reorder, < 0), seconds. */
  sessionJumpSec?: number;
}

export interface TimelineOptions {
  /** Offset discrepancies below this are timing noise, not edits. Default 0.1 s. */
  toleranceSec?: number;
  /** Unmarked gaps shorter than this are ignored. Default 2 s. */
  minGapSec?: number;
}

const fmt = (x: number): string => x.toFixed(2);

export function timelineEdits(segments: readonly TimelineSegment[], opts: TimelineOptions = {}): TimelineEdit[] {
  const tol = opts.toleranceSec ?? 0.1;
  const minGap = opts.minGapSec ?? 2;
  const sorted = [...segments].sort((a, b) => a.startSec - b.startSec || a.endSec - b.endSec);
  const edits: TimelineEdit[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const next = sorted[i]!;
    // Two legs overlapping substantially in the clip are a mix (both legs audible), not an edit;
    // a small overlap is the boundary uncertainty of a splice.
    const overlap = prev.endSec - next.startSec;
    const shorter = Math.min(prev.endSec - prev.startSec, next.endSec - next.startSec);
    if (next.token !== prev.token && overlap > Math.max(1, 0.25 * shorter)) continue;
    const boundary = (prev.endSec + next.startSec) / 2;
    const located = `located between clip ${fmt(Math.min(prev.endSec, next.startSec))} s and ${fmt(Math.max(prev.endSec, next.startSec))} s (segment boundaries)`;
    if (next.token !== prev.token) {
      edits.push({
        time: boundary,
        kind: 'splice',
        confidence: 0.9,
        evidence: `mark changes from leg ${prev.token} (session ${fmt(prev.sessionOffsetSec)} s at clip ${fmt(prev.startSec)} s) to leg ${next.token} (session ${fmt(next.sessionOffsetSec)} s at clip ${fmt(next.startSec)} s); ${located}`,
      });
      continue;
    }
    const expected = prev.sessionOffsetSec + prev.speed * (next.startSec - prev.startSec);
    const jump = next.sessionOffsetSec - expected;
    if (Math.abs(jump) <= tol) {
      if (next.startSec - prev.endSec >= minGap) edits.push(gapEdit(prev, next, 'the session timeline runs on continuously across the gap, so nothing was cut there'));
      continue;
    }
    const gap = next.startSec - prev.endSec;
    // A jump read from an uncertain timecode block may be a decoding error, not an edit.
    const tcConf = Math.min(prev.timecodeConfidence ?? 1, next.timecodeConfidence ?? 1);
    const tcNote = tcConf < 0.99 ? `; the timecode of one side is uncertain (confidence ${tcConf.toFixed(2)}), so the jump may be a misread block` : '';
    if (jump < 0 && gap >= 0.5 * -jump) {
      // Unmarked clip time that the session clock did not see: inserted audio of about -jump s.
      edits.push({
        time: prev.endSec,
        kind: 'insert',
        confidence: tcConf * Math.min(0.95, 0.5 + -jump / (-jump + 4 * tol)),
        evidence: `leg ${next.token}: ${fmt(gap)} s of clip without the mark, and the session timeline resumes ${fmt(-jump)} s later in the clip than it should (expected ${fmt(expected)} s at clip ${fmt(next.startSec)} s, found ${fmt(next.sessionOffsetSec)} s): about ${fmt(-jump)} s of audio that never passed through this leg were inserted; ${located}${tcNote}`,
        sessionJumpSec: jump,
      });
      continue;
    }
    const kind: EditKind = jump > 0 ? 'cut' : 'reorder';
    edits.push({
      time: boundary,
      kind,
      // The further the jump exceeds the timing tolerance, the surer the call.
      confidence: tcConf * Math.min(0.99, 0.5 + Math.abs(jump) / (Math.abs(jump) + 4 * tol)),
      evidence:
        kind === 'cut'
          ? `leg ${next.token}: session time jumps forward by ${fmt(jump)} s (expected ${fmt(expected)} s at clip ${fmt(next.startSec)} s, found ${fmt(next.sessionOffsetSec)} s): ${fmt(jump)} s of the call are missing; ${located}${tcNote}`
          : `leg ${next.token}: session time jumps back by ${fmt(-jump)} s (expected ${fmt(expected)} s at clip ${fmt(next.startSec)} s, found ${fmt(next.sessionOffsetSec)} s): material is out of order or repeated; ${located}${tcNote}`,
      sessionJumpSec: jump,
    });
  }
  return edits;
}

function gapEdit(prev: TimelineSegment, next: TimelineSegment, why: string): TimelineEdit {
  return {
    time: (prev.endSec + next.startSec) / 2,
    kind: 'unknown',
    confidence: 0.3,
    evidence: `no mark of leg ${prev.token} from clip ${fmt(prev.endSec)} s to ${fmt(next.startSec)} s; ${why}. The passage may be unmarked audio (an insert, or the tapped participant's own voice) or too quiet to carry the mark`,
  };
}
