/**
 * What the adversary knows about mark v2's STRUCTURE, read from earmark's public source
 * (lib/mark/profile.ts PROFILE_V2, pattern.ts MarkPatternV2 / LegLayer, embed.ts) -- no key:
 *  - the same tiles, embedder and detector front end as v1 (../v1/model.ts);
 *  - in every per-leg tile two layers superposed with amplitudes a_k (key) and a_l (leg), public
 *    in PROFILE_V2 (1/sqrt 2 each):
 *      key layer: v1's sync (periodic in 32 chips) and timecode (rank-one per band, periodic in
 *                 32 R_g chips) structure, built from the key alone -- the same for every leg;
 *      leg layer: each leg's own signs, a keyed stream indexed by (session chip, band): nothing
 *                 repeats, so folding averages it away; an adversary sees each tile's sign once.
 *    A tile's gain factor is therefore a_k key + a_l leg: (a_k + a_l) x the key sign where the two
 *    agree, (a_k - a_l) x it where they differ (1/sqrt 2 each: sqrt 2 and 0);
 *  - payload bands 25, 28, 31: v1's payload layer (key-level pilot, leg-specific symbols,
 *    periodic in 256 chips).
 * The attacks below are generic over how the detector derives a leg's *effective* per-tile signs
 * (e.g. a keyed host-dependent bit multiplying them): they estimate signs from the audio they hold,
 * so whatever the detector reads from that audio is what they estimate.
 */
import { PROFILE_V2 } from '../earmark.js';
import { V1 } from '../v1/model.js';

export const V2 = {
  ...V1,
  /** Amplitudes of the key layer and the leg layer in a per-leg tile (public: profile.ts). */
  keyAmp: PROFILE_V2.layerAmplitudes.key,
  legAmp: PROFILE_V2.layerAmplitudes.leg,
};
