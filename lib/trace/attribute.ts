/**
 * Attribution: turn the detector's findings into report legs (registry facts attached), timeline
 * edits, and a verdict a person can read. Pure: the caller supplies the registry records and
 * proofs it looked up.
 */
import { timelineEdits } from '../edits/timeline.js';
import type { LegKind } from '../legs.js';
import type { DetectResult } from '../mark/detect/types.js';
import type { ReportContentReference, ReportEdit, ReportLeg, ReportMark } from '../report/types.js';
import { pValueStatement } from '../mark/stats.js';
import { CONTENT_GENUINE_MIN, CONTENT_MIN_AGREEMENT } from '../mark/detect/content-check.js';

export interface CandidateInfo {
  token: string;
  meeting?: string;
  participant?: string;
  leg?: LegKind;
  device?: string;
  joined?: string;
}

export interface RegistryStatus {
  /** Whether the whole registry verified (log against its signed checkpoints). */
  intact: boolean;
  /** First problem found, when not intact. */
  problem?: string;
}

export interface AttributionInput {
  /** The detection (several profiles searched: their legs combined, see scan.ts). */
  detection: DetectResult;
  /** Each profile searched, with its layers' evidence (named in the verdict; v2's forgery check). */
  marks?: readonly ReportMark[];
  candidates: readonly CandidateInfo[];
  registry?: RegistryStatus | null;
  proofs?: ReadonlyMap<string, unknown>;
  keyId: string;
  /** Stretches of the clip (s) with speech and no mark of a detected leg, per token. */
  unmarkedSpeech?: ReadonlyMap<string, readonly { startSec: number; endSec: number }[]>;
  /** Content references given to the scan and whether each was used (scan.ts). */
  contentReferences?: readonly ReportContentReference[];
}

export interface Attribution {
  legs: ReportLeg[];
  edits: ReportEdit[];
  verdict: string;
  limits: string[];
}

const s2 = (x: number): string => x.toFixed(2);

/** Session seconds two legs' clip times may differ by and still be the same moment (a 5 s window's slack). */
const SAME_MOMENT_SEC = 1;

/**
 * Pairs of legs present in the same clip stretch at the same session time (clip time minus session
 * offset agreeing within SAME_MOMENT_SEC): copies of one moment mixed, or a mark copied onto another
 * leg's recording of it. The first overlapping stretch of each pair.
 */
export function sameMomentPairs(legs: readonly Pick<ReportLeg, 'token' | 'segments'>[]): [string, string, { start: number; end: number }][] {
  const out: [string, string, { start: number; end: number }][] = [];
  for (let i = 0; i < legs.length; i++)
    for (let j = i + 1; j < legs.length; j++) {
      let hit: { start: number; end: number } | undefined;
      for (const a of legs[i]!.segments)
        for (const b of legs[j]!.segments) {
          const start = Math.max(a.start, b.start);
          const end = Math.min(a.end, b.end);
          if (hit || end <= start) continue;
          if (Math.abs(a.sessionOffset - a.start - (b.sessionOffset - b.start)) <= SAME_MOMENT_SEC) hit = { start, end };
        }
      if (hit) out.push([legs[i]!.token, legs[j]!.token, hit]);
    }
  return out;
}

function describeLeg(leg: Pick<ReportLeg, 'token' | 'participant' | 'leg' | 'meeting' | 'device' | 'joined'>): string {
  const who = leg.participant ? `participant ${leg.participant}` : 'a leg not found in the registry';
  const facts = [leg.leg ? `${leg.leg} leg` : null, leg.meeting ? `meeting ${leg.meeting}` : null, leg.device ? `device ${leg.device}` : null, leg.joined ? `joined ${leg.joined}` : null]
    .filter(Boolean)
    .join(', ');
  return `leg ${leg.token} (${who}${facts ? `, ${facts}` : ''})`;
}


export function attribute(input: AttributionInput): Attribution {
  const info = new Map(input.candidates.map((c) => [c.token, c]));
  const legOf = (token: string): Omit<ReportLeg, 'token' | 'pValue' | 'score' | 'segments'> => {
    const c = info.get(token);
    return { meeting: c?.meeting ?? null, participant: c?.participant ?? null, leg: c?.leg ?? null, device: c?.device ?? null, joined: c?.joined ?? null };
  };
  const legs: ReportLeg[] = input.detection.legs.map((d) => {
    const proof = input.proofs?.get(d.token);
    return {
      token: d.token,
      ...legOf(d.token),
      pValue: d.pValue,
      score: d.score,
      speed: d.speed,
      profile: d.profile,
      pValueStatement: d.profile === 'v2' && d.pValueMultiplier !== undefined ? pValueStatement(d.pValue, d.score, 'sign-sum-bound', d.pValueMultiplier) : pValueStatement(d.pValue, d.score, 'normal-approximation'),
      ...(d.search ? { search: d.search } : {}),
      ...(d.content && d.content.verdict !== 'inconsistent'
        ? {
            content: {
              verdict: d.content.verdict,
              agreement: d.content.bits > 0 ? d.content.agreement : null,
              bits: d.content.bits,
              ...(d.content.mismatches?.length ? { mismatches: d.content.mismatches.map((m) => ({ start: m.startSec, end: m.endSec, agreement: m.agreement })) } : {}),
            },
          }
        : {}),
      segments: d.segments.map((s) => ({ start: s.startSec, end: s.endSec, sessionOffset: s.sessionOffsetSec, score: s.z, sessionOffsetConfidence: s.timecodeConfidence })),
      ...(proof !== undefined ? { inclusionProof: proof } : {}),
    };
  });
  const edits: ReportEdit[] = timelineEdits(
    input.detection.legs.flatMap((d) => d.segments.map((s) => ({ token: d.token, startSec: s.startSec, endSec: s.endSec, sessionOffsetSec: s.sessionOffsetSec, speed: d.speed, timecodeConfidence: s.timecodeConfidence }))),
  ).map(({ time, kind, confidence, evidence }) => ({ time, kind, confidence, evidence }));
  for (const d of input.detection.legs) {
    if (Math.abs(d.speed - 1) >= 0.004) {
      edits.push({
        time: 0,
        kind: 'speed',
        confidence: 0.9,
        evidence: `leg ${d.token}: the clip runs at ${s2(d.speed * 100)}% of session time (${d.speedKind === 'speed' ? 'replay speed: pitch moved with it' : 'tempo change: pitch kept'})`,
      });
    }
  }
  for (const leg of legs)
    for (const m of leg.content?.mismatches ?? [])
      edits.push({
        time: m.start,
        kind: 'insert',
        confidence: 0.9,
        evidence: `leg ${leg.token}: clip ${s2(m.start)}–${s2(m.end)} s carries the leg's mark but not its content (${Math.round(100 * m.agreement)}% of the content reference's bits agree there; ${Math.round(100 * CONTENT_MIN_AGREEMENT)}% needed): audio inserted or replaced with the mark carried on, located to the check's 5 s window`,
      });
  edits.sort((a, b) => a.time - b.time);

  const parts: string[] = [];
  const reg = input.registry;
  if (reg && !reg.intact) parts.push(`WARNING: the registry failed verification (${reg.problem ?? 'see earmark registry verify'}); registry facts below cannot be relied on.`);
  const n = input.candidates.length;
  const alpha = input.detection.alpha;
  const forged = (input.marks ?? []).find((m) => m.forgery?.suspected);
  const rejected = input.detection.contentRejected ?? [];
  if (rejected.length > 0) {
    parts.push(
      `Possible copied mark: ${rejected.map((l) => `the mark of ${describeLeg({ token: l.token, ...legOf(l.token) })} is present (score ${s2(l.score)}) but the clip's content does not match what the bridge recorded that leg's downlink to carry at the session time the mark names (${Math.round(100 * l.content!.agreement)}% of ${l.content!.bits} bits agree; unrelated audio agrees in about 50%, genuine copies through the benchmarked phone, streaming and room channels in ${Math.round(100 * CONTENT_GENUINE_MIN)}% or more; the threshold is ${Math.round(100 * CONTENT_MIN_AGREEMENT)}%)`).join('; ')}. ` +
        'That leg is not named: its mark was lifted from a recording of the leg and put on other audio, or the clip is not what the leg received.',
    );
  } else if (legs.length === 0 && forged) {
    parts.push(`Possible copied or forged mark: ${forged.forgery!.reason}. No leg is named: attribution rests only on a leg's own layer, which never repeats and can be estimated only from a recording of that leg at the same moment.`);
  }
  if (legs.length === 0 && rejected.length > 0) {
    parts.push(`No leg is named among ${n} candidate leg(s) (key id ${input.keyId}).`);
  } else if (legs.length === 0) {
    parts.push(
      `No leg's mark was found in this clip among ${n} candidate leg(s) (key id ${input.keyId}) at a family-wise false-attribution level of ${alpha}. ` +
        'Absence of a mark proves nothing: the audio may not have passed through the bridge, may be too short or too degraded, or may be marked under another key.',
    );
  } else {
    for (const leg of legs) {
      const segs = leg.segments.map((s) => `clip ${s2(s.start)}–${s2(s.end)} s at session ${s2(s.sessionOffset)} s${(s.sessionOffsetConfidence ?? 1) < 0.99 ? ` (timecode uncertain, confidence ${(s.sessionOffsetConfidence ?? 0).toFixed(2)}; firm modulo 1.024 s)` : ''}`).join('; ');
      parts.push(
        `The clip carries the mark of ${describeLeg(leg)}: ${segs}. ` +
          `Corrected p-value ${leg.pValueStatement} (score ${s2(leg.score)}): the chance that audio without this leg's mark scores this high, over all ${n} candidates, offsets and speeds searched, is at most that.`,
      );
      if (leg.search === 'named-place')
        parts.push(
          `This leg was named at the place (clip window, alignment and session time) where another leg's own layer was found, tested there with every candidate: what copies of several legs averaged or switched together, or legs mixed in one recording, look like.`,
        );
      if (leg.search === 'exhaustive')
        parts.push(`This leg was named by the search over its registry span (the key-level layer gave no usable alignment: stripped, or too weak).`);
      if (leg.profile === 'v1')
        parts.push(
          `This leg was found by mark v1, whose pattern an adversary can estimate from a recording of the leg and forge onto other audio without the key (see the README's Security section): a v1 attribution is a lead to corroborate, not proof on its own.`,
        );
      if (leg.content?.verdict === 'consistent')
        parts.push(`Its content agrees with the bridge's content reference of that leg at that session time (${Math.round(100 * (leg.content.agreement ?? 0))}% of ${leg.content.bits} bits; unrelated audio about 50%)${leg.content.mismatches?.length ? `, except at clip ${leg.content.mismatches.map((m) => `${s2(m.start)}–${s2(m.end)} s`).join(', ')}, where the mark runs on but the content is not what the leg received: audio inserted or replaced there carries a copied mark` : ''}.`);
      else if (leg.content?.verdict === 'inconclusive')
        parts.push(`The content check against the bridge's reference of that leg was inconclusive (${leg.content.bits} bits: too little of its downlink's speech in the matched span); the leg is named on its mark alone.`);
      const unmarked = input.unmarkedSpeech?.get(leg.token) ?? [];
      if (unmarked.length > 0) {
        const where = unmarked.map((u) => `${s2(u.startSec)}–${s2(u.endSec)} s`).join(', ');
        parts.push(
          `Inside that leg's span, speech at clip ${where} carries no bridge mark — consistent with ${leg.participant ?? 'the leg owner'}'s own microphone at the capture point (a tap on a leg records the bridge's downlink, which is marked, plus the tapped person's own voice, which is not).`,
        );
      }
    }
    if (legs.length > 1) {
      const together = sameMomentPairs(legs);
      if (together.length > 0)
        parts.push(
          `${together.map(([a, b, w]) => `Legs ${a} and ${b} are both present at clip ${s2(w.start)}–${s2(w.end)} s, at the same session time`).join('; ')}: a mix of their copies (averaged, switched, or played in one room), or one leg's mark copied onto the other's recording of the same moment — whoever holds both recordings can make that. Such a stretch is not attributable to one of them alone.`,
        );
      else parts.push(`${legs.length} legs are present: the clip joins or mixes captures from several legs (see segments and edits).`);
    }
  }
  if (edits.length > 0) parts.push(`Edits found on the timeline: ${edits.map((e) => `${e.kind} at ${s2(e.time)} s`).join(', ')}.`);
  return {
    legs,
    edits,
    verdict: parts.join(' '),
    limits: [
      'Absence of a mark proves nothing about where audio came from.',
      'p-values bound the chance of a false attribution under the stated search; they are not the probability that the attribution is right.',
      'Segment boundaries and edit times are located to the detector window resolution (seconds), not to the sample.',
      'The registry proves the order and integrity of its entries, not the time they were written; join times are the bridge\'s claims.',
      ...(legs.some((l) => l.profile === 'v2' && l.content?.verdict !== 'consistent')
        ? [
            "A v2 attribution without a consistent content check shows that the clip was made from the named leg's downlink at the stated session time: that leg's own layer never repeats, so it can be estimated only from a recording of that leg at that moment. It does not show that the file is that recording unaltered: whoever holds such a recording can re-embed the mark in other audio given that recording's loudness contour (the README's Security section, measured); the bridge's content reference of the leg (earmark scan --content) rules that out.",
          ]
        : []),
      ...(legs.some((l) => l.content?.verdict === 'consistent')
        ? [
            "A consistent content check shows that the clip's content at the matched session time is what the bridge recorded the leg's downlink to carry (to the reference's resolution: 16 bands over 300-3400 Hz every 32 ms). It cannot tell the leg's own capture from another capture of the same moment with the leg's mark copied in from the leg's recording: both legs heard the same speech apart from their own voices.",
          ]
        : []),
      ...(input.contentReferences ?? []).flatMap((c) =>
        c.committed === false
          ? [`The content reference given for ${c.token} (SHA-256 ${c.sha256.slice(0, 16)}…) is not committed in the registry: it was not used.`]
          : c.committed === null
            ? [`The content reference given for ${c.token} was used without a registry to check its commitment: its origin rests on whoever supplied it.`]
            : [],
      ),
      ...(input.marks ?? []).flatMap((m) =>
        legs.length === 0 && m.profile === 'v2' && m.exhaustiveSearch && m.exhaustiveSearch.legSpans === 0
          ? ['No leg had a leave time in the registry, so no exhaustive search over session offsets was possible: a v2 mark whose key-level layer was stripped is found only by that search.']
          : [],
      ),
    ],
  };
}
