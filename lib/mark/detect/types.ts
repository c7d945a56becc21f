/** The informed detector's options and results (its stages: see index.ts). */
import type { ContentReference } from '../content-ref.js';
import type { MarkKey } from '../keys.js';
import type { MarkProfile } from '../profile.js';
import type { DetectorCache } from './tables.js';

export interface DetectOptions {
  key: MarkKey;
  /** Candidate tokens (e.g. every leg of the registry). */
  candidates: readonly string[];
  /** Family-wise false-attribution level per scan. Default 1e-6. */
  alpha?: number;
  /** Decoy tokens scored to estimate the null scale. Default 128. */
  decoys?: number;
  /** Replay-speed range searched (time and frequency scale). Default [0.95, 1.05]. */
  speedRange?: readonly [number, number];
  /** Tempo range searched (time scale only). Default [0.97, 1.03]. */
  tempoRange?: readonly [number, number];
  /** Shortest analysis window (s). Default 4. */
  minWindowSec?: number;
  /** Longest analysis window (s). Default 64. */
  maxWindowSec?: number;
  /** Clips longer than 1.25 x this are scanned in pieces of this length (see detect). Default 256 s. */
  pieceSec?: number;
  profile?: MarkProfile;
  /**
   * v2: session seconds each candidate was connected (from the registry). When given, a clip in
   * which the fast path (the key layer's proposals) names no leg is searched exhaustively over each
   * leg's span (exhaustive.ts: what keeps attribution standing when the key layer was stripped).
   * v2 always shares alpha equally between the fast path and a second search (every p-value
   * doubled): the named-place stage when the fast path named a leg, else this exhaustive search.
   * Candidates without a span are not searched exhaustively.
   */
  legSpans?: Readonly<Record<string, { fromSec: number; toSec: number }>>;
  /**
   * Candidate and decoy tables kept across scans with one key (a service scanning many clips
   * passes one; building the 128 decoys' tables costs ~25 ms a scan). Default: a fresh one.
   */
  cache?: DetectorCache;
  /**
   * Content references of candidates (content-ref.ts: what the bridge recorded each leg's
   * downlink to be), by token. A leg named by its mark whose reference disagrees with the clip's
   * content at the named session time is not named (content-check.ts); legs without one are named
   * on the mark alone and say so (`content.verdict` 'no-reference').
   */
  contentReferences?: ReadonlyMap<string, ContentReference>;
}

/** The detector's defaults (see DetectOptions). */
export const DETECT_DEFAULTS = Object.freeze({
  alpha: 1e-6,
  decoys: 128,
  minWindowSec: 4,
  // Longest analysis window. At 32 s a 50-70 s tap (30 s of downlink speech between the tapped
  // person's own turns) never pooled its evidence: AMR-NB 7.95k musts clips scored z 8.1-8.8 in
  // their best 32 s window and 10.3-12.8 with one 64 s window (meetings 1 and 14 of the musts
  // benchmark), at equal scan speed (fewer windows in all). 64 s stays far below the 216 s over
  // which the timecode tiles' signs are pairwise independent.
  maxWindowSec: 64,
  pieceSec: 256,
});

export interface MarkSegment {
  /** Clip seconds. */
  startSec: number;
  endSec: number;
  /** Session time of the leg's mark at startSec. */
  sessionOffsetSec: number;
  /** Statistic and corrected p-value of the window that found this segment. */
  z: number;
  pValue: number;
  /**
   * Approximate posterior probability that the segment's timecode block is right (timecode-decode.ts).
   * Below ~0.99 the offset within the 1.024 s sync period still holds, the block may not.
   */
  timecodeConfidence: number;
}

export interface DetectedLeg {
  token: string;
  pValue: number;
  /** Best window statistic (z units, before dividing by the null scale). */
  score: number;
  segments: MarkSegment[];
  /** Session seconds per clip second of the best window (1.02 = the clip plays 2% fast). */
  speed: number;
  /** 'speed': replay speed (pitch moved); 'tempo': time-scale change with pitch kept. */
  speedKind: 'speed' | 'tempo';
  /** The profile whose mark was found. */
  profile: 'v1' | 'v2';
  /** v2: pValue = min(1, pValueMultiplier x signSumTail(score)) (hypotheses x pieces x the alpha split). */
  pValueMultiplier?: number;
  /**
   * v2: which search named the leg: 'fast-path' (the key layer's proposals), 'named-place' (at the
   * place where another leg was named: colluders' averaged or switched copies, mixed legs) or
   * 'exhaustive' (the registry span's search, when the fast path named no leg).
   */
  search?: LegSearch;
  /** The content check against the leg's reference, when references were given (content-check.ts). */
  content?: LegContentCheck;
}

export interface LegContentCheck {
  /** 'consistent' / 'inconsistent' at CONTENT_MIN_AGREEMENT; 'inconclusive' below CONTENT_MIN_BITS; 'no-reference': none recorded for this leg. */
  verdict: 'consistent' | 'inconsistent' | 'inconclusive' | 'no-reference';
  /** Reference bits compared (8 per 32 ms frame of downlink speech inside the segments). */
  bits: number;
  /** Fraction that agreed (0.5: content unrelated to the reference). */
  agreement: number;
  /** Session seconds inside the segments that the reference describes. */
  describedSec: number;
  /** Per segment, in the leg's segment order. */
  segments: { verdict: LegContentCheck['verdict']; bits: number; agreement: number }[];
  /** Consistent legs only: stretches (clip seconds, to the 5 s window) whose content disagrees with the reference (content-check.ts contentMismatches). */
  mismatches?: { startSec: number; endSec: number; agreement: number }[];
}

export type LegSearch = 'fast-path' | 'named-place' | 'exhaustive';

export interface CandidateScore {
  token: string;
  score: number;
  pValue: number;
}

export interface ForgeryCheck {
  suspected: boolean;
  /** One sentence: which layer scored what. */
  reason: string;
}

/** How a result's p-values were computed. */
export type PValueBasis =
  /** v1: normal tail on the decoy-estimated null scale x the hypothesis count (an approximation: the v1 statistic includes products of sign streams). */
  | 'normal-approximation'
  /** v2: the rigorous tail bound of a self-normalized sum of fair signs (stats.ts signSumTail) x the hypothesis count (Bonferroni). */
  | 'sign-sum-bound';

export interface DetectResult {
  /** The mark profile searched ('v1' or 'v2'). */
  profile: 'v1' | 'v2';
  /** How the legs' p-values were computed. */
  pValueBasis: PValueBasis;
  /** v2: the key-level layer's evidence (names no leg: the organisation's mark is present); absent for v1. */
  keyLayer?: { score: number; pValue: number; hypotheses: number };
  /** v2: decoy legs scored at the same places, the empirical check of the bound. */
  decoyLegs?: { samples: number; rms: number; max: number };
  /**
   * v2: whether the layers disagree the way a copied or forged mark (or a leg's layer removed)
   * makes them: the key-level layer significant at alpha while no leg's own layer is. A leg is
   * named only on its own layer's evidence, so a suspected result names none.
   */
  forgery?: ForgeryCheck;
  /** v2: the exhaustive search over the legs' spans, when it ran (hypotheses summed over pieces, seconds of compute). */
  exhaustive?: { hypotheses: number; seconds: number };
  /**
   * v2: the named-place stage, when the fast path named a leg: every other candidate tested at the
   * places where a leg was named (what names each colluder of an averaged or switched copy);
   * hypotheses = candidates x places x 2 (pieces x the largest piece's), places and legs named summed over pieces.
   */
  namedPlaces?: { hypotheses: number; places: number; legs: number };
  legs: DetectedLeg[];
  /** Legs whose mark was found but whose content check failed: not named (see `forgery`). */
  contentRejected?: DetectedLeg[];
  /** Every candidate's best statistic and p-value (for calibration and diagnostics). */
  scores: CandidateScore[];
  durationSec: number;
  /** Null scale estimated from decoys (>= 1). */
  nullScale: number;
  /** Number of hypotheses the p-values are corrected for (clips scanned in pieces: pieces x the largest piece's count). */
  hypotheses: number;
  alpha: number;
}
