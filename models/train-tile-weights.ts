/**
 * Trains the detector's tile weights (lib/mark/tile-weights.ts) on simulated taps of the training
 * voices (models/speech; the benchmarks never use them), at the TRUE alignment of the tapped leg.
 *
 * Why: the detector's statistic is a weighted sum of tile features x_i times the leg's signs s_i.
 * With per-tile mark mean mu_i = E[x_i s_i] and host-noise variance sigma_i^2 = E[x_i^2], the
 * weights that maximize the statistic's mean over its standard deviation are w_i = mu_i / sigma_i^2
 * (the matched filter for independent noise). Measured on the musts' clips at the true alignment,
 * mu / sigma per tile ranges 0.01-0.03 in the lowest bands (300-900 Hz, where speech is loudest and
 * the masking-shaped mark weakest) to 0.15-0.35 at the top, so equal band weights waste evidence.
 * Tiles are grouped by band and by the masking-boost bin the detector already estimates from the
 * received audio (features/weights.ts boostBin); mu and sigma^2 of each cell are averaged over the
 * conditions (equal weight each) and shrunk toward the band's pooled value where a cell holds few
 * tiles. The weights depend on energies only, never on a leg's signs, so the statistic stays
 * exactly self-normalized under the null (decoys calibrate it as before).
 *
 *   npm run train:weights   (node --import tsx models/train-tile-weights.ts; writes models/tile-weights.json and
 *   lib/mark/tile-weights.ts; deterministic given the ffmpeg build)
 *   npm run train:weights -- --evaluate <clips.json>   (the shipped table against the closed form at the
 *   true alignment of the musts run's clips: CLIPS_OUT=clips.json npm run bench:musts writes them)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILE_V1, WEIGHT_BINS, chipCount, keyFromBytes, tileFeatures } from '../lib/mark/index.js';
import { LEG_TILE_WEIGHTS } from '../lib/mark/tile-weights.js';
import { markdownTable, provenance, root, writeResult } from '../benchmarks/lib.js';
import { TRAINING_VOICES, benchMeeting, loadTrainingVoices, loadVoices, recordMeetings, truthAlignment } from '../benchmarks/meeting.js';
import type { ClipRecord } from '../benchmarks/meeting.js';

const CONDITIONS = [
  { name: 'clean', chain: '' },
  { name: 'Opus 16k', chain: 'opus:16' },
  { name: 'Opus 24k', chain: 'opus:24' },
  { name: 'AAC 64k', chain: 'aac:64' },
  { name: 'MP3 64k', chain: 'mp3:64' },
  { name: 'G.711 mu -> MP3 128k', chain: 'g711:mu,mp3:128' },
  { name: 'AMR-NB 12.2k -> AAC 96k', chain: 'amrnb:12.2,aac:96' },
  { name: 'AMR-NB 7.95k -> AAC 64k', chain: 'amrnb:7.95,aac:64' },
];
const MEETINGS = Number(process.env['MEETINGS'] ?? 10);
const CLIPS = Number(process.env['CLIPS'] ?? 4);
const L = 10;
/** Pseudo-count of the shrinkage toward the band's pooled mean and variance (tiles). */
const SHRINK = 2000;

const profile = PROFILE_V1;
const K = profile.bands;
const NB = WEIGHT_BINS;

if (process.argv[2] === '--evaluate') await evaluate(process.argv[3]);
else await train();

async function train(): Promise<void> {
  const key = keyFromBytes(new Uint8Array(32).fill(11));
  const voices = await loadTrainingVoices();
  const ones = new Float64Array(K * NB).fill(1);
  const perCond: { name: string; chain: string; C: number[]; Q: number[]; N: number[]; clips: number }[] = [];
  for (const [ci, cond] of CONDITIONS.entries()) {
    const C = new Float64Array(K * NB);
    const Q = new Float64Array(K * NB);
    const N = new Float64Array(K * NB);
    let clips = 0;
    for (let t = 0; t < MEETINGS; t++) {
      const m = await benchMeeting({ seed: 900000 + 1000 * ci + t, stream: 'models/tile-weights', chain: cond.chain, key, voices, meetingSec: 80, voiceNames: TRAINING_VOICES });
      for (let c = 0; c < CLIPS; c++) {
        const span = m.speechSpan(L);
        if (!span) continue;
        const { pattern, analysis, phase, n0 } = truthAlignment(m, span[0], span[1], key);
        const hyp = { rate: 1, freqScale: 1, phaseSec: phase };
        const bins = new Uint8Array(chipCount(analysis, hyp) * K);
        const f = tileFeatures(analysis, hyp, { weights: ones, bins });
        for (let j = 0; j < f.chips; j++) {
          for (let k = 0; k < K; k++) {
            const x = f.r[j * K + k]!;
            const b = bins[j * K + k]!;
            if (x === 0 || b === 255) continue;
            const i = k * NB + b;
            C[i]! += x * pattern.sign(n0 + j, k);
            Q[i]! += x * x;
            N[i]! += 1;
          }
        }
        clips++;
      }
    }
    perCond.push({ name: cond.name, chain: cond.chain, C: [...C], Q: [...Q], N: [...N], clips });
    console.error(`${cond.name}: ${clips} clips`);
  }

  // Per condition and cell: mu and sigma^2, shrunk toward the band's pooled values; then averaged
  // over the conditions; weight mu / sigma^2 (0 where mu <= 0), scaled so the largest is 1.
  const w = new Float64Array(K * NB);
  for (let k = 0; k < K; k++) {
    if (profile.payloadBands.includes(k)) continue;
    // The band's sums over all bins, per condition (the shrinkage target).
    const pooled = perCond.map((pc) => {
      let cb = 0, qb = 0, nb = 0;
      for (let bb = 0; bb < NB; bb++) (cb += pc.C[k * NB + bb]!), (qb += pc.Q[k * NB + bb]!), (nb += pc.N[k * NB + bb]!);
      return { cb, qb, nb };
    });
    for (let b = 0; b < NB; b++) {
      let mu = 0;
      let s2 = 0;
      for (const [ci, pc] of perCond.entries()) {
        const { cb, qb, nb } = pooled[ci]!;
        if (nb === 0) continue;
        const i = k * NB + b;
        mu += (pc.C[i]! + (SHRINK * cb) / nb) / (pc.N[i]! + SHRINK) / perCond.length;
        s2 += (pc.Q[i]! + (SHRINK * qb) / nb) / (pc.N[i]! + SHRINK) / perCond.length;
      }
      w[k * NB + b] = s2 > 0 && mu > 0 ? mu / s2 : 0;
    }
  }
  const top = Math.max(...w);
  for (let i = 0; i < w.length; i++) w[i] = w[i]! / top;

  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  const meta = { schema: 'earmark.tile-weights/1', trainedAt: new Date().toISOString(), commit, profile: 'v1', bands: K, bins: NB, meetings: MEETINGS, clipsPerMeeting: CLIPS, clipSpeechSec: L, shrink: SHRINK, seeds: '900000 + 1000 x condition + meeting', voices: TRAINING_VOICES };
  writeFileSync(join(root, 'models', 'tile-weights.json'), JSON.stringify({ ...meta, weights: [...w].map((x) => +x.toPrecision(4)), conditions: perCond }, null, 1) + '\n');
  const rows: string[] = [];
  for (let k = 0; k < K; k++) rows.push(`  ${[...w.subarray(k * NB, (k + 1) * NB)].map((x) => +x.toPrecision(4)).join(', ')},`);
  writeFileSync(
    join(root, 'lib', 'mark', 'tile-weights.ts'),
    `/**
   * Learned tile weights of the detector's leg layer (PROFILE_V1): band (row) x masking-boost bin
   * (column, features/weights.ts boostBin), w = mu / sigma^2 of the tile features at the true alignment.
   * GENERATED by models/train-tile-weights.ts (training data, counts and provenance:
   * models/tile-weights.json); do not edit by hand. Trained at commit ${commit.slice(0, 7)} on ${MEETINGS} meetings x
   * ${CLIPS} clips x ${CONDITIONS.length} conditions of the training voices (models/speech). Payload bands: 0 (not in the leg layer).
   */
  export const LEG_TILE_WEIGHTS: Float64Array = Float64Array.from([
  ${rows.join('\n')}
  ]);
  `,
  );
  console.error('weights written; top', top.toExponential(3));
}

/**
 * Evaluation of the shipped table: z at the TRUE alignment of the musts run's clips (records
 * written by `CLIPS_OUT=<file> npm run bench:musts`), with the closed-form weights (boost^0.5) and
 * with the learned table; z = sum r s / sqrt(sum r^2) over the leg layer's tiles. Writes
 * benchmarks/results/tile-weights-eval.md.
 */
async function evaluate(file: string | undefined): Promise<void> {
  if (!file) throw new Error('usage: npm run train:weights -- --evaluate <clip records from CLIPS_OUT=... npm run bench:musts>');
  const records = JSON.parse(readFileSync(file, 'utf8')) as ClipRecord[];
  // The musts benchmark's key and voices (benchmarks/robustness.ts).
  const key = keyFromBytes(new Uint8Array(32).fill(7));
  const meetingOf = recordMeetings(key, await loadVoices());
  const ratios = new Map<string, number[]>();
  for (const r of records) {
    const { pattern, analysis, phase, n0 } = truthAlignment(await meetingOf(r), r.s0, r.s1, key);
    const z = (weights: Float64Array | null): number => {
      const f = tileFeatures(analysis, { rate: 1, freqScale: 1, phaseSec: phase }, { weights });
      let c = 0;
      let q = 0;
      for (let m = 0; m < f.chips; m++) {
        for (let k = 0; k < K; k++) {
          const v = f.r[m * K + k]!;
          if (v !== 0) (c += v * pattern.sign(n0 + m, k)), (q += v * v);
        }
      }
      return c / Math.sqrt(q);
    };
    const list = ratios.get(r.condition) ?? [];
    list.push(z(LEG_TILE_WEIGHTS) / z(null));
    ratios.set(r.condition, list);
  }
  const q = (xs: number[], p: number): string => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!.toFixed(3);
  const rows = [...ratios].map(([condition, xs]) => {
    xs.sort((a, b) => a - b);
    return [condition, xs.length, q(xs, 0.1), q(xs, 0.5), q(xs, 0.9), q(xs, 0)];
  });
  const md = [
    '# Learned tile weights: true-alignment z, learned table / closed form',
    '',
    provenance(),
    '',
    `Clips: ${file} (the musts run's records). Command: \`npm run train:weights -- --evaluate ${file}\`.`,
    '',
    markdownTable(['condition', 'clips', 'p10', 'median', 'p90', 'min'], rows),
  ].join('\n');
  console.log(`wrote ${writeResult('tile-weights-eval.md', md)}`);
}
