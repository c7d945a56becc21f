/**
 * Long clips in pieces: the informed detector and the blind payload decoder both scan a long clip
 * as overlapping pieces, so memory and time stay linear in its length (the whole-clip search
 * grows faster). Each piece is tested at the family-wise level divided by the number of pieces and
 * its p-values are multiplied by it (Bonferroni over the pieces): valid whatever the pieces share.
 */

export interface PiecePlan {
  /** Piece length (s). */
  pieceSec: number;
  /** Overlap of consecutive pieces (s). */
  overlapSec: number;
}

/** Starts (s) of pieces of `len` s overlapping by `overlap` s that cover a clip of D > len seconds, the last flush with its end. */
export function pieceStarts(D: number, len: number, overlap: number): number[] {
  const starts: number[] = [];
  for (let a = 0; a + len < D; a += len - overlap) starts.push(a);
  starts.push(Math.max(0, D - len));
  return starts;
}

/**
 * Run `scan` on each piece of `samples` (views, no copies), in order; `count` is the number of
 * pieces (the Bonferroni factor). Returns each piece's start (s, at the piece's first sample) and result.
 */
export function scanPieces<R>(samples: Float32Array, sampleRate: number, plan: PiecePlan, scan: (piece: Float32Array, count: number) => R): { startSec: number; result: R }[] {
  const starts = pieceStarts(samples.length / sampleRate, plan.pieceSec, plan.overlapSec);
  return starts.map((a) => {
    const from = Math.round(a * sampleRate);
    const result = scan(samples.subarray(from, Math.min(samples.length, from + Math.round(plan.pieceSec * sampleRate))), starts.length);
    return { startSec: from / sampleRate, result };
  });
}

/** A p-value corrected for `pieces` pieces: min(1, p x pieces). */
export function acrossPieces(p: number, pieces: number): number {
  return Math.min(1, p * pieces);
}
