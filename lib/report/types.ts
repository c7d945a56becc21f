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
  /** Blind payload read without a registry search (lib/mark/payload-decode.ts); absent when not attempted. */
  payload?: ReportPayload;
  verdict: string;
  /** What the findings do not show (stated every time). */
  limits?: string[];
  /** Evidence hash re-checked after analysis: the file was not modified during the scan. */
  integrity?: { sha256AtEnd: string; unchanged: boolean };
}
