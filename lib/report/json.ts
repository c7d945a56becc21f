/**
 * Deterministic JSON rendering of a report: numbers rounded at fixed precision per field family,
 * so the same input and options give byte-identical output across runs and machines.
 */
import type { Report } from './types.js';

/** Round to `digits` decimals, normalizing -0 to 0. */
export function roundTo(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? 0 : r;
}

/** Three significant digits, for p-values that span many orders of magnitude. */
export function roundSignificant(x: number, digits = 3): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  return Number(x.toPrecision(digits));
}

/** Normalize the numbers of a report (times to ms, scores to 0.01, p-values to 3 s.f.). */
export function normalizeReport(report: Report): Report {
  return {
    ...report,
    input: { ...report.input, durationSec: roundTo(report.input.durationSec, 6) },
    legs: report.legs.map((leg) => ({
      ...leg,
      pValue: roundSignificant(leg.pValue),
      score: roundTo(leg.score, 2),
      ...(leg.speed !== undefined ? { speed: roundTo(leg.speed, 4) } : {}),
      segments: leg.segments.map((s) => ({
        ...s,
        start: roundTo(s.start, 3),
        end: roundTo(s.end, 3),
        sessionOffset: roundTo(s.sessionOffset, 3),
        ...(s.score !== undefined ? { score: roundTo(s.score, 2) } : {}),
        ...(s.sessionOffsetConfidence !== undefined ? { sessionOffsetConfidence: roundTo(s.sessionOffsetConfidence, 4) } : {}),
      })),
    })),
    edits: report.edits.map((e) => ({ ...e, time: roundTo(e.time, 3), confidence: roundTo(e.confidence, 3) })),
    ...(report.marks
      ? {
          marks: report.marks.map((m) => ({
            ...m,
            ...(m.keyLayer ? { keyLayer: { score: roundTo(m.keyLayer.score, 2), pValue: roundSignificant(m.keyLayer.pValue) } } : {}),
            ...(m.decoyLegs ? { decoyLegs: { samples: m.decoyLegs.samples, rms: roundTo(m.decoyLegs.rms, 3), max: roundTo(m.decoyLegs.max, 2) } } : {}),
          })),
        }
      : {}),
    ...(report.payload
      ? { payload: { ...report.payload, pilotScore: roundTo(report.payload.pilotScore, 2), pilotPValue: roundSignificant(report.payload.pilotPValue), symbolMargins: report.payload.symbolMargins.map((m) => roundTo(m, 2)) } }
      : {}),
  };
}

export function renderReportJson(report: Report): string {
  return `${JSON.stringify(normalizeReport(report), null, 2)}\n`;
}
