/**
 * The scan report, schema `earmark.report/1` (shared/docs/architecture.md). Field names are a
 * contract other tools depend on: add fields, never rename or remove them.
 *
 * Findings (legs, segments, edits) are kept apart from interpretation (`verdict`, `limits`).
 * Same input and options → byte-identical JSON: no wall-clock time, no absolute temp paths,
 * numbers rounded at fixed precision by the renderer.
 */
export const REPORT_SCHEMA = 'earmark.report/1';

import type { LegKind } from '../legs.js';

export type EditKind = 'cut' | 'insert' | 'reorder' | 'speed' | 'splice' | 'unknown';

export interface ReportSegment {
  /** Seconds in the clip. */
  start: number;
  end: number;
  /** The leg's session offset (seconds since the leg's mark started) at `start`. */
  sessionOffset: number;
  /** Detection score of this segment (standard-normal units under no mark). */
  score?: number;
  /**
   * Approximate posterior probability that `sessionOffset`'s 1.024 s timecode block is right; below
   * ~0.99 only the offset modulo 1.024 s is firm.
   */
  sessionOffsetConfidence?: number;
}

export interface ReportLeg {
  token: string;
  meeting: string | null;
  participant: string | null;
  leg: LegKind | null;
  device?: string | null;
  joined?: string | null;
  /** Family-wise corrected p-value (all candidates, offsets and speeds searched). */
  pValue: number;
  /** Detection statistic (standard-normal units under no mark, before correction). */
  score: number;
  /** Time-scale factor of the clip relative to the embedded audio (1 = none). */
  speed?: number;
  segments: ReportSegment[];
  /** Registry inclusion proof for the cited entry, verifiable offline. */
  inclusionProof?: unknown;
  /** The mark profile the leg was found by ('v2': host-bound per-leg layer; 'v1': forgeable without the key, see the README's Security section). */
  profile?: 'v1' | 'v2';
  /** The p-value as the evidence supports stating it (bound named; below the validated range as "< ..."). */
  pValueStatement?: string;
  /** v2: which search named the leg ('fast-path', 'named-place': at the place where another leg was named, 'exhaustive': the registry span's search). */
  search?: 'fast-path' | 'named-place' | 'exhaustive';
  /**
   * The content check against the bridge's content reference of this leg (lib/mark/content-ref.ts):
   * 'consistent' (the clip's content agrees with the leg's recorded downlink at the session time
   * its mark names), 'inconclusive' (too little of the downlink's speech to compare), or
   * 'no-reference' (none was given or committed for this leg). Legs whose check fails are not
   * named (see the verdict). agreement: fraction of the compared bits that agreed (0.5: unrelated).
   */
  content?: {
    verdict: 'consistent' | 'inconclusive' | 'no-reference';
    agreement: number | null;
    bits: number;
    /** Stretches (clip seconds, to the 5 s window) whose content disagrees with the reference although the leg as a whole agrees: audio replaced or inserted with the leg's mark carried on. */
    mismatches?: { start: number; end: number; agreement: number }[];
  };
}

/** A content reference given to the scan, and whether it was used. */
export interface ReportContentReference {
  token: string;
  /** SHA-256 of the reference file. */
  sha256: string;
  /** Whether the registry commits this digest for this token (null: no registry given). */
  committed: boolean | null;
  /** Used by the check: committed, or no registry given (then the report's limits say so). */
  used: boolean;
}

/** One mark profile searched, with each layer's evidence (issue 13: every layer's score reported separately). */
export interface ReportMark {
  profile: 'v1' | 'v2';
  /** 'sign-sum-bound' (v2: rigorous tail bound x hypotheses) or 'normal-approximation' (v1). */
  pValueBasis: string;
  /** Family-wise level this profile was tested at (the scan's alpha divided among the profiles searched). */
  alpha: number;
  hypotheses: number;
  /** v2: the key-level layer (names no leg: the organisation's mark is present). */
  keyLayer?: { score: number; pValue: number };
  /** v2: decoy legs scored at the same places (RMS about 1 when the bound's model holds). */
  decoyLegs?: { samples: number; rms: number; max: number };
  /** Tokens this profile named. */
  legsNamed: string[];
  /** v2: the layers' consistency check ("possible copied or forged mark"). */
  forgery?: { suspected: boolean; reason: string };
  /**
   * v2: the exhaustive search over the legs' registry spans (join to leave), which finds a leg whose
   * key-level layer was stripped; it runs when the fast path names no leg and the registry gave at
   * least one span (legSpans: how many legs had a leave time).
   */
  exhaustiveSearch?: { ran: boolean; legSpans: number; hypotheses?: number };
  /**
   * v2: the named-place stage, which runs when the fast path named a leg: every other candidate
   * tested at the places where a leg was named (names each colluder of averaged or switched copies).
   */
  namedPlaceStage?: { ran: boolean; places?: number; hypotheses?: number; legsNamed?: number };
}

export interface ReportEdit {
  /** Seconds in the clip. */
  time: number;
  kind: EditKind;
  confidence: number;
  evidence: string;
}

export interface ReportInput {
  path: string;
  sha256: string;
  durationSec: number;
  sampleRate: number;
  channels: number;
  container?: string;
  codec?: string;
  sizeBytes?: number;
}

export interface ReportPayload {
  /** 32-bit payload id (8 hex digits) when the pilot was significant and the CRC matched, else null. */
  id: string | null;
  pilotScore: number;
  /** Pilot p-value, corrected for the time scales and frame shifts searched. */
  pilotPValue: number;
  crcOk: boolean;
  /** Per symbol reliability margins (larger is surer). */
  symbolMargins: number[];
  /** The symbols read as a mixture of several legs' payloads (then no id is given). */
  mixture?: boolean;
  /** Registry legs whose payload id equals `id` (tokens). */
  registryMatches: string[];
  /** Why it was read: no registry, a large registry narrowed by it, or no candidate detected. */
  reason: 'no registry' | 'large registry' | 'no leg detected';
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  tool: { name: string; version: string };
  input: ReportInput;
  /** Key id (a short hash), never the key. */
  key?: { id: string };
  /** Every analysis parameter, defaults included. */
  parameters?: Record<string, unknown>;
  registry?: { path: string; candidates: number; intact: boolean; problem?: string; checkpoint?: string } | null;
  legs: ReportLeg[];
  edits: ReportEdit[];
  /** The mark profiles searched, newest first, with each layer's evidence. */
  marks?: ReportMark[];
  /** Blind payload read without a registry search (lib/mark/payload-decode.ts); absent when not attempted. */
  payload?: ReportPayload;
  /** Content references given to the scan (earmark scan --content), with their registry commitment. */
  contentReferences?: ReportContentReference[];
  verdict: string;
  /** What the findings do not show (stated every time). */
  limits?: string[];
  /** Evidence hash re-checked after analysis: the file was not modified during the scan. */
  integrity?: { sha256AtEnd: string; unchanged: boolean };
}
