/**
 * What unmarked audio mixed over a marked leg costs each profile (issue 13: the price of v2's host
 * binding). v2's leg layer is bound to the host's loudness contour as the bridge saw it; a clip in
 * which another, unmarked talker is mixed over the call (a room, a second source, a tap during
 * double talk) has a different contour, so the detector's host bits drift from the embedder's.
 * v1 has no host binding (and can be forged, see attacks-v1.md).
 *
 * Per profile, pair of voices and interferer gain: the marked voice (16 kHz, AAC 64k after
 * mixing) plus another fixture voice at that gain (RMS relative to the marked voice), detected
 * among 16 candidates; the right leg's z, whether it was named, v2's key-layer z and whether the
 * layers' consistency check flagged the clip. Writes benchmarks/results/mixing.md.
 * Environment: LEN (clip seconds, default 30).
 */
import { applyChain } from '../lib/channel/index.js';
import { DetectorCache, PROFILE_V1, PROFILE_V2, detect, embedAudio, keyFromBytes } from '../lib/mark/index.js';
import { markdownTable, provenance, rms, writeResult } from './lib.js';
import { RATE, loadVoices } from './meeting.js';

const LEN = Number(process.env['LEN'] ?? 30);
const GAINS_DB = [-Infinity, -12, -6, 0, 6];
const key = keyFromBytes(new Uint8Array(32).fill(11));
const cands = Array.from({ length: 16 }, (_, i) => `mix-leg-${i}`);
const cache = new DetectorCache();

const voices = await loadVoices();
const names = [...voices.keys()];
const pairs: [string, string][] = [];
for (let i = 0; i + 1 < names.length && pairs.length < 4; i += 2) pairs.push([names[i]!, names[i + 1]!]);
const rows: (string | number)[][] = [];
const t0 = performance.now();
for (const profile of [PROFILE_V1, PROFILE_V2]) {
  for (const g of GAINS_DB) {
    const zs: number[] = [];
    const keys: number[] = [];
    let named = 0;
    let flagged = 0;
    for (const [a, b] of pairs) {
      const x = voices.get(a)!.subarray(0, LEN * RATE);
      const o = voices.get(b)!.subarray(0, LEN * RATE);
      if (x.length < LEN * RATE || o.length < LEN * RATE) throw new Error(`voice shorter than ${LEN} s`);
      const y = embedAudio({ channels: [x], sampleRate: RATE }, { key, token: cands[5]!, offsetSec: 700, profile }).channels[0]!;
      const scale = Number.isFinite(g) ? (rms(x) / rms(o)) * 10 ** (g / 20) : 0;
      const mix = Float32Array.from(y, (v, i) => v + scale * o[i]!);
      const coded = (await applyChain({ channels: [mix], sampleRate: RATE }, 'aac:64', { seed: 1 })).channels[0]!;
      const r = detect({ channels: [coded], sampleRate: RATE }, { key, candidates: cands, cache, profile });
      zs.push(r.scores.find((s) => s.token === cands[5])!.score);
      if (r.legs.some((l) => l.token === cands[5])) named++;
      if (r.keyLayer) keys.push(r.keyLayer.score);
      if (r.forgery?.suspected) flagged++;
    }
    rows.push([
      profile.name,
      Number.isFinite(g) ? `${g} dB` : 'none',
      `${named}/${pairs.length}`,
      zs.map((z) => z.toFixed(1)).join(', '),
      keys.length ? keys.map((z) => z.toFixed(1)).join(', ') : '-',
      profile === PROFILE_V2 ? `${flagged}/${pairs.length}` : '-',
    ]);
    console.log(rows[rows.length - 1]!.join(' | '));
  }
}
const md = [
  '# Unmarked audio mixed over a marked leg: v1 against v2',
  '',
  provenance(),
  '',
  `${LEN} s of a fixture voice marked for one of 16 candidates (session 700 s), another fixture voice mixed over it at the`,
  'stated level (RMS relative to the marked voice), then AAC 64k; `detect` with each profile (alpha 1e-6). Pairs: ' + pairs.map(([a, b]) => `${a} + ${b}`).join('; ') + '.',
  "v2's leg layer is bound to the host's loudness contour as the bridge saw it: the interferer changes the contour the",
  "detector reads, so the leg's evidence falls with its level; the key layer (not host-bound) keeps its strength, and",
  "where it is significant while no leg is, v2's consistency check flags the clip (\"possible copied or forged mark\") and names",
  'no leg. This is the price of the binding that stops copy attacks (attacks-v2.md).',
  '',
  markdownTable(['profile', 'interferer', 'named', 'right leg z per pair', 'key layer z', 'flagged'], rows),
  '',
  `Benchmark wall time ${((performance.now() - t0) / 1000).toFixed(0)} s (\`npm run bench:mixing\`).`,
].join('\n');
console.log(`wrote ${writeResult('mixing.md', md)}`);
