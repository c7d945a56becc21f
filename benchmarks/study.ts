/**
 * Embedder study settings (issue 13's removal trade-off): the masking boost's cap and the base
 * strength, from the environment, for the benchmarks that embed (robustness.ts through
 * benchMeeting, the v2 attack suite's system.ts). Unset: the library's defaults (strength 0.014,
 * boostCap 128). Removal by the leaker (attacks-v2 strip) works where the single shot reads a
 * tile's sign best, the tiles of the highest boost; a lower cap with a higher strength spreads the
 * mark's per-tile strength at the same SNR. Measure both sides: `V2_BOOST_CAP=32 V2_STRENGTH=0.02
 * PROFILE=v2 MUSTS=1 ... robustness.ts` and `V2_BOOST_CAP=32 V2_STRENGTH=0.02 ... run.ts --mark=v2
 * strip --out=...` (the suite's material is keyed by the embedder's output, so a study's material
 * is generated apart).
 */
export interface EmbedStudy {
  boostCap?: number;
  strength?: number;
}

function positive(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const x = Number(v);
  if (!(Number.isFinite(x) && x > 0)) throw new Error(`${name} must be a positive number, got ${JSON.stringify(v)}`);
  return x;
}

/** The study's embedder options (empty: the defaults). */
export function embedStudy(): EmbedStudy {
  const boostCap = positive('V2_BOOST_CAP');
  const strength = positive('V2_STRENGTH');
  return { ...(boostCap !== undefined ? { boostCap } : {}), ...(strength !== undefined ? { strength } : {}) };
}

/** A file-name tag for results made with the study's settings ('' for the defaults). */
export function embedStudyTag(s: EmbedStudy = embedStudy()): string {
  return `${s.boostCap !== undefined ? `-cap${s.boostCap}` : ''}${s.strength !== undefined ? `-s${s.strength}` : ''}`;
}

/** A sentence for a results file's header ('' for the defaults). */
export function embedStudyText(s: EmbedStudy = embedStudy()): string {
  const parts = [s.boostCap !== undefined ? `boostCap ${s.boostCap}` : '', s.strength !== undefined ? `strength ${s.strength}` : ''].filter(Boolean);
  return parts.length ? ` Study embedder settings (benchmarks/study.ts): ${parts.join(', ')} (defaults: boostCap 128, strength 0.014).` : '';
}
