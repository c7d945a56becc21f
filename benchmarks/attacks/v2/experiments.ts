/**
 * The attack experiments against mark v2 (PROFILE_V2): each builds the adversary's material with
 * the harness, runs keyless attacks (./estimate.ts, ./attacks.ts, v1's estimators on the key
 * layer), scores the result with the scanner (./system.ts: the library's v2 detector with the
 * registry's leg spans) and, for estimates, against the truth (./score.ts, scoring only), and
 * returns a markdown section for benchmarks/results/attacks-v2.md.
 *
 *   estimate  key layer by v1's fold / rank-one estimators; leg layer single shot, per boost bin
 *   forge     framing: >= 100 forged clips of every class onto voices leg A never carried, three
 *             publication chains; same-content framing reported separately (a stated limit)
 *   strip     removal by the leaker: key layer, key + single-shot leg layer divided out within the
 *             25 dB budget, 300 clips of 30 s (AAC 64k)
 *   collude   averages of 2 and 3 legs, the minimum attack, switching every 1-4 s
 */
import { PROFILE_V2, WEIGHT_BINS, LegPattern, analyzeClip } from '../earmark.js';
import {
  RATE,
  average,
  SCENARIO,
  codec,
  concat,
  fmtNum,
  material,
  materialSlice,
  median,
  outcome,
  pct,
  quantile,
  registry,
  rng,
  scenarioKey,
  snrDb,
  table,
  targetVoices,
} from '../harness.js';
import type { ClipOutcome, MaterialSpec, ScanResult } from '../harness.js';
import { copy as copyDenoised } from '../v1/attacks.js';
import { FeatureStore, chipStartSec, estimatePayload, estimateSync, estimateTimecode, refinePhase } from '../v1/estimate.js';
import { scorePayload, scoreSync, scoreTimecode } from '../v1/score.js';
import { DetectorCache, legStatisticAt, weightTable } from '../earmark.js';
import { EMBEDDER_BUDGET } from '../modulator.js';
import type { BandAnalysis } from '../earmark.js';
import { addAligned, applyValues, chip0Of, contour, forge, imposeLog, logRatio, minimum, scramble, strip } from './attacks.js';
import type { TileValue } from './attacks.js';
import { calibrateLeg, chipFeatures, keyValue, legValue, payloadValue, singleShot } from './estimate.js';
import type { ChipFeatures, KeyEstimate, LegCalibration } from './estimate.js';
import { V2 } from './model.js';
import { keyTruth, scoreShot, sessionChipOf, truthOf } from './score.js';
import { MATERIAL_MAX_SEC, markV2 } from './system.js';
import type { Ctx as CtxV1 } from '../v1/experiments.js';

/** The v1 suite's context (../v1/experiments.ts); here the first material length is the material of forge / strip / collude (default 2 h), clips default 300 (strip, collude) or 15 forge targets. */
export interface Ctx extends CtxV1 {
  /** forge: SNR levels (dB) of the forged change. Default 25, 20. */
  levels?: number[];
  /** collude: only the combinations whose name starts with one of these (e.g. 'average'). Default all. */
  modes?: string[];
  /**
   * forge: scan with the first N registered tokens (>= 2: leg A and leg B come first). Default all
   * 64. Fewer candidates make the forger's task easier (leg A's statistics do not depend on the other
   * candidates; its count, hence its threshold, shrinks) and the exhaustive fallback cheaper.
   */
  candidates?: number;
  /**
   * strip: 'host' = the removal diagnostic instead of scans: leg A's statistic at its true place
   * (scoring with the key) on each attacked clip, with the host bits read from the attacked clip
   * (what the detector does) and from the clip before the attack (AAC 64k both). 'evidence' = where
   * the leaker's clip keeps its evidence and how well the single shot reads it there (per boost bin,
   * per band quarter, per decile of the estimate's confidence; scoring with the key), no attacks.
   */
  diag?: string;
  /** strip: the first clip index run (clips from..clips-1 of the same draw; splits a run between processes). Default 0. */
  clipFrom?: number;
  /** forge: only these class ids (keyless: key, leg, key+leg, copy-denoised, copy-ab+key; limits: contour, contour8, vocoder, same). Default all. */
  classes?: string[];
}

export function defaultCtx(log: (s: string) => void, quick = false): Ctx {
  return { mark: markV2(scenarioKey()), log, quick };
}

/** The layers' public amplitudes (PROFILE_V2): the adversary mixes its estimates as the embedder mixes the layers. */
const KA = V2.keyAmp;
const LA = V2.legAmp;
const fmtLen = (s: number): string => (s >= 3600 ? `${fmtNum(s / 3600)} h` : s >= 60 ? `${fmtNum(s / 60)} min` : `${s} s`);
const CHAIN_NAME: Record<string, string> = { 'aac:64': 'AAC 64k', 'opus:24': 'Opus 24k', 'amrnb:12.2,aac:96': 'AMR-NB 12.2k -> AAC 96k' };
const chainName = (c: string): string => CHAIN_NAME[c] ?? c;

function legSpec(ctx: Ctx, chain: string, seconds: number, token = SCENARIO.legA): MaterialSpec {
  if (seconds > MATERIAL_MAX_SEC) throw new RangeError(`material beyond ${MATERIAL_MAX_SEC} s: the registry spans (system.ts) would not cover it`);
  return { mark: ctx.mark, token, chain, seconds, offsetSec: SCENARIO.offsetSec };
}

async function storeOf(spec: MaterialSpec): Promise<FeatureStore> {
  return FeatureStore.build(material(spec), Math.round(spec.seconds * RATE), true);
}

/** The key layer's keyless estimate from the first `seconds` of a store: v1's fold (chip phase refined on the first <= 5 min), rank-one timecode, payload fold. */
async function keyEstimateFrom(store: FeatureStore, spec: MaterialSpec, seconds: number): Promise<KeyEstimate> {
  const chips = Math.floor(seconds / V2.chipSec);
  const sync = estimateSync(store, { chips });
  refinePhase(await materialSlice(spec, 0, Math.round(Math.min(seconds, 300) * RATE)), sync);
  return { sync, timecode: estimateTimecode(store, sync, { chips }), payload: estimatePayload(store, sync.phase, { chips }) };
}

/** The single shot's calibration (mu, sigma^2 per band and boost bin) on the first <= 10 min of the recording, keyless. */
/** What the adversary derives from T s of a leg's material: the key-layer estimate (hard and soft values) and the leg layer's single-shot calibration. */
async function adversaryOf(spec: MaterialSpec, T: number): Promise<{ est: KeyEstimate; cal: LegCalibration; kvH: TileValue; kvS: TileValue }> {
  const est = await keyEstimateFrom(await storeOf(spec), spec, T);
  return { est, cal: await calibrationOf(spec, est), kvH: keyValue(est, 'hard'), kvS: keyValue(est, 'soft') };
}

async function calibrationOf(spec: MaterialSpec, est: KeyEstimate): Promise<LegCalibration> {
  const n = Math.round(Math.min(600, spec.seconds) * RATE);
  const f = chipFeatures(await materialSlice(spec, 0, n), 0, est);
  return calibrateLeg([f], keyValue(est, 'hard'));
}

/** Sum of two tile-value functions with weights. */
const mix = (a: TileValue, wa: number, b: TileValue, wb: number): TileValue => (m, k) => wa * a(m, k) + wb * b(m, k);

/** The change y - x scaled to a target SNR against x (the attack's composite change, measured as published). */
function atSnr(x: Float32Array, d: Float32Array, target: number): { y: Float32Array; snrDb: number } {
  let s = 0;
  let e = 0;
  for (let i = 0; i < x.length; i++) (s += x[i]! * x[i]!), (e += d[i]! * d[i]!);
  const c = e > 0 ? Math.sqrt(s / e / 10 ** (target / 10)) : 0;
  const y = Float32Array.from(x, (v, i) => v + c * d[i]!);
  return { y, snrDb: snrDb(x, y) };
}

const diff = (y: Float32Array, x: Float32Array): Float32Array => Float32Array.from(y, (v, i) => v - x[i]!);

function energy(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s;
}

/** The v2 detector's exhaustive fallback (run when the key layer's proposals name no leg): how often it ran, its compute. */
class Fallback {
  scans = 0;
  secs: number[] = [];
  add(sc: ScanResult): ScanResult {
    this.scans++;
    if (sc.fallbackSec !== undefined) this.secs.push(sc.fallbackSec);
    return sc;
  }
  text(): string {
    return this.secs.length ? `The exhaustive fallback search ran in ${this.secs.length} of ${this.scans} scans (compute median ${fmtNum(median(this.secs))} s, max ${fmtNum(Math.max(...this.secs))} s per scan, on a machine shared with other jobs).` : `The exhaustive fallback search ran in none of the ${this.scans} scans.`;
  }
}

function keyZ(s: ScanResult): number {
  return s.keyLayer?.score ?? 0;
}

// ---------------------------------------------------------------------------------------------
// 1. Estimation

export async function expEstimate(ctx: Ctx): Promise<string> {
  const key = scenarioKey();
  const kTruth = keyTruth(key, SCENARIO.offsetSec);
  // The payload bands carry leg A's own (v1) payload layer.
  const payTruth = { pattern: new LegPattern(key, SCENARIO.legA, { profile: PROFILE_V2 }), offsetSec: SCENARIO.offsetSec };
  const lengths = ctx.lengths ?? (ctx.quick ? [120, 600] : [120, 600, 3600, 7200]);
  const short = lengths.filter((l) => l <= (ctx.quick ? 600 : 3600));
  const chains = [
    { chain: 'aac:64', lengths },
    { chain: 'opus:24', lengths: short },
    { chain: 'amrnb:12.2,aac:96', lengths: short },
  ];
  const syncRows: (string | number)[][] = [];
  const tcRows: (string | number)[][] = [];
  const shotRows: (string | number)[][] = [];
  const binAcc = new Map<string, [number, number][]>();
  const stretches = ctx.quick ? 2 : 5;
  for (const { chain, lengths: ls } of chains) {
    if (ls.length === 0) continue;
    const spec = legSpec(ctx, chain, Math.max(...ls));
    ctx.log(`estimate: material ${chain} ${fmtLen(spec.seconds)}`);
    const store = await storeOf(spec);
    let est: KeyEstimate | undefined;
    for (const T of ls) {
      const chips = Math.floor(T / V2.chipSec);
      const sync = estimateSync(store, { chips });
      const sc = scoreSync(sync, kTruth);
      const best = [...sync.scores].sort((a, b) => b.ratio - a.ratio);
      const pay = scorePayload(estimatePayload(store, sync.phase, { chips }), sync.phase, payTruth);
      syncRows.push([chainName(chain), fmtLen(T), pct(sc.recovered), sc.parityRight ? 'yes' : 'NO', `${fmtNum(best[0]!.ratio)} / ${fmtNum(best[1]!.ratio)}`, pct(pay)]);
      const tc = estimateTimecode(store, sync, { chips });
      const ts = scoreTimecode(tc, sync, kTruth);
      tcRows.push([chainName(chain), fmtLen(T), ts.shiftRight ? 'yes' : 'NO', pct(ts.coverage), pct(ts.eigRecovered), pct(ts.alsRecovered), pct(ts.blockAls), pct(ts.chipAls)]);
      ctx.log(`  ${chain} ${fmtLen(T)}: key sync ${pct(sc.recovered)}, timecode ALS ${pct(ts.alsRecovered)}, payload ${pct(pay)}`);
    }
    // The longest estimate (phase refined) for the single shot.
    est = await keyEstimateFrom(store, spec, Math.max(...ls));
    const kv = keyValue(est, 'hard');
    const cal = await calibrationOf(spec, est);
    const n0 = sessionChipOf(est.sync, SCENARIO.offsetSec);
    const acc = { feature: [] as number[][], hard: [] as number[][], soft: [] as number[][] };
    const bins: [number, number][] = Array.from({ length: WEIGHT_BINS }, () => [0, 0]);
    let ctl = 0;
    let ctlN = 0;
    for (let s = 0; s < stretches; s++) {
      // 60 s stretches spread over the material (outside the calibration's first 10 min where it is long enough).
      const L = 60 * RATE;
      const span = spec.seconds - 60;
      const from = 128 * Math.floor((Math.round(((s + 0.5) / stretches) * span * RATE)) / 128);
      const audio = await materialSlice(spec, from, L);
      const f = chipFeatures(audio, from, est);
      const truth = truthOf(key, SCENARIO.legA, f, audio, n0);
      for (const kind of ['feature', 'hard', 'soft'] as const) {
        const e = singleShot(f, kv, cal, kind);
        const r = scoreShot(f, e, truth);
        acc[kind].push([r.tiles, r.accuracy, r.corr]);
        if (kind === 'soft') for (let b = 0; b < WEIGHT_BINS; b++) (bins[b]![0] += r.byBin[b]![0]), (bins[b]![1] += r.byBin[b]![0] * (r.byBin[b]![1] || 0));
      }
      // Control: the same estimate against another leg's effective signs (chance level).
      const rc = scoreShot(f, singleShot(f, kv, cal, 'hard'), truthOf(key, 'leg-B', f, audio, n0));
      ctl += rc.accuracy * rc.tiles;
      ctlN += rc.tiles;
    }
    const agg = (xs: number[][]): [number, number, number] => {
      const n = xs.reduce((a, x) => a + x[0]!, 0);
      return [n, xs.reduce((a, x) => a + x[0]! * x[1]!, 0) / n, xs.reduce((a, x) => a + x[0]! * x[2]!, 0) / n];
    };
    const [nT, fa, fc] = agg(acc.feature);
    const [, ha, hc] = agg(acc.hard);
    const [, sa, scc] = agg(acc.soft);
    shotRows.push([chainName(chain), `${stretches} x 60 s`, nT, `${pct(fa)} / ${fmtNum(fc)}`, `${pct(ha)} / ${fmtNum(hc)}`, `${pct(sa)} / ${fmtNum(scc)}`, pct(ctl / ctlN)]);
    binAcc.set(chain, bins.map(([n, a]) => [n, n ? a / n : NaN]));
    ctx.log(`  ${chain} single shot: feature ${pct(fa)} hard ${pct(ha)} soft ${pct(sa)} (corr ${fmtNum(scc)}), control ${pct(ctl / ctlN)}`);
  }
  const binRows = Array.from({ length: WEIGHT_BINS }, (_, b) => [
    b === WEIGHT_BINS - 1 ? `>= ${fmtNum(Math.sqrt(2 ** b))}` : `${fmtNum(Math.sqrt(2 ** b))}-${fmtNum(Math.sqrt(2 ** (b + 1)))}`,
    ...[...binAcc.values()].map((v) => (v[b]![0] >= 50 ? pct(v[b]![1]) : '-')),
    ...[...binAcc.values()].map((v) => {
      const n = v.reduce((a, x) => a + x[0], 0);
      return pct(v[b]![0] / n);
    }),
  ]);
  return [
    "## 1. Keyless estimation: the key layer (fold, rank-one) and the leg layer (single shot)",
    '',
    `Material: leg A's downlink as received (fixture speech, benchmarks/meeting.ts voiceLoop, marked by earmark's streaming embedder with PROFILE_V2 from session time ${SCENARIO.offsetSec} s, then the codec chain in 5-minute chunks; the loop is 770 s long, so longer recordings repeat the speech with a different mark).`,
    '',
    "**Key layer** (v2's synchronisation layer: v1's sync and timecode structure, built from the key, the same for every leg, at amplitude 1/sqrt 2, PROFILE_V2). v1's estimators unchanged (benchmarks/attacks/v1/estimate.ts): fold modulo 32 chips at every chip phase and checkerboard parity, sign per folded tile; the timecode tiles folded modulo 32 R_g chips and factored rank-one per band (leading singular vectors, then binary ALS). Truth: the key layer's pattern (LegPattern { keyLayer: true }, scoring only). Payload: the 768 positions of the payload bands (v1's payload layer, leg A's id, periodic in 8.192 s) folded the same way.",
    '',
    table(['codec', 'material', 'key sync signs recovered', 'parity right', 'fold ratio best / 2nd', 'payload positions recovered'], syncRows),
    '',
    table(['codec', 'material', 'block boundary right', 'block residues observed', 'key timecode product (eigenvector)', 'product (ALS)', 'tcBlock (ALS)', 'tcChip (ALS)'], tcRows),
    '',
    `**Leg layer, single shot.** Nothing of it repeats, so the adversary sees each tile once. At the key estimate's alignment (the longest material of each chain), the detector's own tile features r; the key layer's predicted contribution removed (u = r - mu (s_key - mean of its 4 neighbours' s_key), mu per band and boost bin calibrated keylessly on the first 10 min); feature = sign(r), hard = sign(u), soft = tanh(mu u / sigma^2). Scored against the effective signs the detector reads from the same audio (the leg's PRF sign x the sign of its soft host bit, tiles with a nonzero host bit; benchmarks/attacks/earmark.ts legEffective, scoring only). Accuracy = fraction of signs right; correlation = sum v s / sqrt(N sum v^2). Control = the hard estimate against leg B's effective signs at the same places.`,
    '',
    table(['codec', 'stretches', 'tiles', 'feature: accuracy / corr', 'hard', 'soft', 'control (leg B)'], shotRows),
    '',
    'Soft estimate accuracy by the tile\'s masking-boost bin (features.ts boost = sqrt(peak / density)), and the share of tiles per bin:',
    '',
    table(['boost', ...[...binAcc.keys()].map((c) => `accuracy ${chainName(c)}`), ...[...binAcc.keys()].map((c) => `share ${chainName(c)}`)], binRows),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 2. Framing

interface TargetClip {
  name: string;
  x: Float32Array;
}

/** 30 s clips of the voices leg A never carried (models/speech), non-overlapping, every voice. */
async function targetClips(ctx: Ctx): Promise<TargetClip[]> {
  const per: TargetClip[][] = [];
  const n = 30 * RATE;
  for (const [name, x] of await targetVoices()) {
    const cs: TargetClip[] = [];
    for (let i = 0; (i + 1) * n <= x.length; i++) cs.push({ name: `${name}#${i}`, x: x.slice(i * n, (i + 1) * n) });
    per.push(cs);
  }
  // Round robin over the voices (the first clip of every voice, then the second, ...), up to the limit.
  const out: TargetClip[] = [];
  for (let r = 0; out.length < per.reduce((a, c) => a + c.length, 0); r++) for (const cs of per) if (r < cs.length) out.push(cs[r]!);
  return out.slice(0, ctx.clips ?? (ctx.quick ? 3 : out.length));
}

interface ForgeTally {
  clips: number;
  named: number;
  zA: number[];
  keyZ: number[];
  snr: number[];
  flagged: number;
  others: number;
  pay: number;
  payRead: boolean;
  namedB?: number;
  /** Leg A's mark found but its content check failed (the leg not named). */
  rejected: number;
  /** The content agreement of those rejections. */
  rejectedAgreement: number[];
  /** Leg A's content agreement where it was named (when the detector checked content). */
  namedAgreement: number[];
}

const newTally = (payRead = false): ForgeTally => ({ clips: 0, named: 0, zA: [], keyZ: [], snr: [], flagged: 0, others: 0, pay: 0, payRead, rejected: 0, rejectedAgreement: [], namedAgreement: [] });

export async function expForge(ctx: Ctx): Promise<string> {
  const cands = registry().slice(0, Math.max(2, ctx.candidates ?? 64));
  const T = ctx.lengths?.[0] ?? (ctx.quick ? 600 : 7200);
  const specA = legSpec(ctx, 'aac:64', T, SCENARIO.legA);
  const specB = legSpec(ctx, 'aac:64', T, 'leg-B');
  const clips = await targetClips(ctx);
  const chains = ['aac:64', 'opus:24', 'amrnb:12.2,aac:96'];
  const levels = ctx.levels ?? (ctx.quick ? [20] : [25, 20]);
  ctx.log(`forge: key estimate from ${fmtLen(T)} of leg A (AAC 64k)`);
  const { est, cal, kvH, kvS } = await adversaryOf(specA, T);
  const pay = payloadValue(est);
  const payA = ctx.mark.payloadIdOf!(SCENARIO.legA);
  const picked = (c: { id: string }): boolean => !ctx.classes || ctx.classes.includes(c.id);
  const classes = [
    { id: 'key', name: 'key-layer estimate + payload fold', pay: true },
    { id: 'leg', name: "single-shot leg estimate (leg A's 30 s of the claimed session time)", pay: false },
    { id: 'key+leg', name: 'key + single-shot leg estimate + payload fold', pay: true },
    { id: 'copy-denoised', name: "copy: leg A's log-energy residual against its time/band neighbours (v1's copy attack)", pay: false },
    { id: 'copy-ab+key', name: "copy: leg A's log energy minus leg B's (same content: the leg layers' residual) + key estimate", pay: false },
  ].filter(picked);
  // Classes whose forged clip carries leg A's own speech or its loudness envelope (stated limits, counted apart).
  const limits = [
    { id: 'contour', name: "host-binding attack: leg A's band-group loudness contour imposed on the target (3 passes), then key + leg estimate" },
    { id: 'contour8', name: 'the same with 8 band groups of 4 bands (the content check adapted to: a finer envelope of leg A)' },
    { id: 'contour16', name: 'the same with 16 band groups of 2 bands (between the 8-group variant and the vocoder)' },
    { id: 'vocoder', name: "the same with every band its own group: leg A's 32-band envelope at 16 ms on the target's carrier (a channel vocoder of leg A's speech)" },
    { id: 'same', name: "same content: leg B's recording of the claimed session time + leg A's key + leg estimate" },
    // Controls for the two vocoder-like classes: the same processing of leg A's recording with no mark
    // estimate added (a voice changer on leg A's leak). Made once, at the first level.
    { id: 'contour16-bare', name: "control: the 16-group contour of leg A's recording alone, no mark estimate added" },
    { id: 'vocoder-bare', name: "control: the 32-band vocoder of leg A's recording alone, no mark estimate added" },
  ].filter(picked);
  const tallies = new Map<string, ForgeTally>();
  const fb = new Fallback();
  const ctlRows: (string | number)[][] = [];
  const ctl = new Map(chains.map((c) => [c, newTally(true)]));
  const span = T - 40;
  for (const [i, c] of clips.entries()) {
    // Leg A's stretch this forgery claims (session time of the material from S).
    const S = 128 * Math.floor((Math.round((97 + 461 * i) % span) * RATE) / 128);
    const audioA = await materialSlice(specA, S, 32 * RATE);
    const f: ChipFeatures = chipFeatures(audioA, S, est);
    // The soft single shot scaled to unit RMS over its tiles: the leg part gets the key part's energy, as in the mark.
    const shot = singleShot(f, kvH, cal, 'soft');
    let e2 = 0;
    let nz = 0;
    for (const v of shot) if (v !== 0) (e2 += v * v), nz++;
    const legV = legValue(f, shot.map((v) => v / Math.sqrt(e2 / Math.max(1, nz))));
    const keyLeg = mix(kvS, KA, legV, LA);
    const m0 = f.m0;
    // The recordings sample-aligned with the target's chip grid (target time 0 = window start of attacker chip m0).
    const alignedStart = Math.round(chipStartSec(est.sync, m0) * RATE);
    const srcA = await materialSlice(specA, alignedStart, c.x.length);
    const srcB = await materialSlice(specB, alignedStart, c.x.length);
    const frames = Math.ceil(c.x.length / 256) + 2;
    const ab = logRatio(srcA, srcB, frames);
    const contoured = contour(contour(contour(c.x, srcA), srcA), srcA);
    const contoured8 = contour(contour(contour(c.x, srcA, 40, 4), srcA, 40, 4), srcA, 40, 4);
    const contoured16 = picked({ id: 'contour16' }) || picked({ id: 'contour16-bare' }) ? contour(contour(contour(c.x, srcA, 40, 2), srcA, 40, 2), srcA, 40, 2) : c.x;
    const vocoded = contour(contour(contour(c.x, srcA, 40, 1), srcA, 40, 1), srcA, 40, 1);
    const clipB = await materialSlice(specB, S, c.x.length);
    const withPay = (v: TileValue): TileValue => (m, k) => v(m, k) + pay(m, k);
    for (const L of levels) {
      // Forged clips (before the channel), per class; `host` is what the SNR is measured against.
      const made = new Map<string, { y: Float32Array; host: Float32Array }>();
      made.set('key', { y: forge(c.x, withPay(kvS), m0, { snrDb: L }).y, host: c.x });
      made.set('leg', { y: forge(c.x, legV, m0, { snrDb: L }).y, host: c.x });
      made.set('key+leg', { y: forge(c.x, withPay(keyLeg), m0, { snrDb: L }).y, host: c.x });
      made.set('copy-denoised', { y: copyDenoised(srcA, c.x, { level: { snrDb: L }, clip: 1, chipAverage: true }).y, host: c.x });
      {
        const dKey = diff(forge(c.x, kvS, m0, { snrDb: L + 3 }).y, c.x);
        const dc = atSnr(c.x, imposeLog(c.x, ab, 1), L + 3);
        made.set('copy-ab+key', { y: Float32Array.from(dc.y, (v, j) => v + dKey[j]!), host: c.x });
      }
      made.set('contour', { y: forge(contoured, keyLeg, m0, { snrDb: L }).y, host: c.x });
      made.set('contour8', { y: forge(contoured8, keyLeg, m0, { snrDb: L }).y, host: c.x });
      made.set('contour16', { y: forge(contoured16, keyLeg, m0, { snrDb: L }).y, host: c.x });
      made.set('vocoder', { y: forge(vocoded, keyLeg, m0, { snrDb: L }).y, host: c.x });
      made.set('same', { y: addAligned(clipB, S, est, keyLeg, { snrDb: L }).y, host: clipB });
      if (L === levels[0]) {
        made.set('contour16-bare', { y: contoured16, host: c.x });
        made.set('vocoder-bare', { y: vocoded, host: c.x });
      }
      for (const cl of [...classes, ...limits]) {
        if (!made.has(cl.id)) continue;
        const { y, host } = made.get(cl.id)!;
        const snr = snrDb(host, y);
        const payRead = 'pay' in cl && cl.pay === true;
        for (const chain of chains) {
          const rx = await codec(y, chain, 2000 + i);
          const sc = fb.add(ctx.mark.scan(rx, cands));
          const tk = `${cl.id}|${L}|${chain}`;
          const t = tallies.get(tk) ?? { ...newTally(payRead), namedB: 0 };
          tallies.set(tk, t);
          tally(t, sc, snr);
          if (sc.named.includes('leg-B')) t.namedB!++;
          if (payRead && ctx.mark.payload!(rx).id === payA) t.pay++;
          if (sc.named.includes(SCENARIO.legA) && cl.id !== 'same') ctx.log(`  !! forge ${cl.id} ${L} dB ${chain} clip ${c.name}: leg A named, z ${fmtNum(outcome(sc, SCENARIO.legA).z)}`);
        }
      }
    }
    // Controls: the target clip through each chain, no forgery (with the keyless classes only).
    for (const chain of classes.length > 0 ? chains : []) {
      const rx = await codec(c.x, chain, 1000 + i);
      const sc = fb.add(ctx.mark.scan(rx, cands));
      const t = ctl.get(chain)!;
      tally(t, sc, Infinity);
      if (ctx.mark.payload!(rx).id === payA) t.pay++;
    }
    ctx.log(`  forge clip ${i + 1}/${clips.length} (${c.name}) done; fallback ran ${fb.secs.length}/${fb.scans}, median ${fmtNum(median(fb.secs))} s`);
  }
  for (const [chain, t] of ctl) if (t.clips > 0) ctlRows.push([chainName(chain), `${t.named}/${t.clips}`, `${fmtNum(Math.max(...t.zA))}`, `${fmtNum(median(t.keyZ))} / ${fmtNum(Math.max(...t.keyZ))}`, t.others, `${t.pay}/${t.clips}`]);
  const rows: (string | number)[][] = [];
  let total = 0;
  let totalNamed = 0;
  let zMaxAll = 0;
  for (const cl of classes)
    for (const L of levels)
      for (const chain of chains) {
        const t = tallies.get(`${cl.id}|${L}|${chain}`)!;
        total += t.clips;
        totalNamed += t.named;
        zMaxAll = Math.max(zMaxAll, ...t.zA);
        rows.push([cl.name, `${fmtNum(quantile(t.snr, 0))} / ${fmtNum(median(t.snr))}`, chainName(chain), t.clips, `**${t.named}**`, fmtNum(Math.max(...t.zA)), rejectText(t), `${fmtNum(median(t.keyZ))} / ${fmtNum(Math.max(...t.keyZ))}`, flagText(t), t.others, t.payRead ? `${t.pay}/${t.clips}` : '-']);
      }
  const limitRows: (string | number)[][] = [];
  for (const cl of limits)
    for (const L of levels)
      for (const chain of chains) {
        const t = tallies.get(`${cl.id}|${L}|${chain}`);
        if (!t) continue;
        limitRows.push([cl.name, `${fmtNum(quantile(t.snr, 0))} / ${fmtNum(median(t.snr))}`, chainName(chain), t.clips, `**${t.named}**`, `${fmtNum(median(t.zA))} / ${fmtNum(Math.max(...t.zA))}`, rejectText(t), t.namedAgreement.length ? `${fmtNum(median(t.namedAgreement))} / ${fmtNum(Math.min(...t.namedAgreement))}` : '-', cl.id === 'same' ? `${t.namedB}/${t.clips}` : '-', `${fmtNum(median(t.keyZ))}`, flagText(t)]);
      }
  const limitNamed = (id: string): string => {
    if (!limits.some((l) => l.id === id)) return 'no clips (not run)';
    const ts = levels.flatMap((L) => chains.flatMap((chain) => tallies.get(`${id}|${L}|${chain}`) ?? []));
    return `${ts.reduce((a, t) => a + t.named, 0)} of ${ts.reduce((a, t) => a + t.clips, 0)} clips`;
  };
  return [
    '## 2. Framing: leg A\'s mark forged onto audio leg A never carried',
    '',
    `${classes.length > 0 ? `**${totalNamed} of ${total} forged clips of the keyless classes named leg A** (largest leg-A statistic over all of them: z ${fmtNum(zMaxAll)}).` : `Classes run: ${limits.map((l) => l.id).join(', ')} (--classes; the keyless classes were not run here).`} Stated limits, counted apart (their forgeries carry leg A's own loudness envelope or speech): the host-binding attack named leg A in ${limitNamed('contour')}, its 8-group variant in ${limitNamed('contour8')}, the 16-group variant in ${limitNamed('contour16')}, the 32-band vocoder of leg A's speech in ${limitNamed('vocoder')}, same-content framing in ${limitNamed('same')}; with no mark estimate added (controls: leg A's recording through the 16-group contour / the vocoder alone) leg A was named in ${limitNamed('contour16-bare')} / ${limitNamed('vocoder-bare')}. ${ctx.mark.prepare ? "Scans check a named leg's content against the registry's content reference of that leg (lib/mark/content-ref.ts; system.ts builds the references): a leg whose mark is found on content that disagrees with its recorded downlink is not named." : 'Scans without content references (--content=off).'}`,
    '',
    `The forger holds ${fmtLen(T)} of leg A's downlink (AAC 64k) and, for the copy by ratio and same-content framing, leg B's downlink of the same session (same speech, its own mark). Key estimate: section 1's fold and rank-one estimators on all ${fmtLen(T)} (soft sync signs, hard timecode signs), payload bands folded modulo 8.192 s. Leg estimate: the single shot (soft, scaled to unit RMS) from the 30 s of leg A's recording whose session time the forged clip claims (a different stretch per target clip). The forger's modulator is benchmarks/attacks/modulator.ts (earmark's masking model and a constant-ratio budget), the target's chip j playing the attacker's chip m0 + j (frames centred in the chips, as the embedder); key + leg values are (s_key + v_leg) / sqrt 2, the mark's own composition. The copy by ratio imposes log(E_A / E_B) per 16 ms frame and band (clipped at +-1) as a gain exp(v / 2), the key estimate added with half the change's energy. SNR = the whole change against the target (against leg B's recording for same-content framing). Targets: ${clips.length} clips of 30 s (${new Set(clips.map((c) => c.name.split('#')[0])).size} voices from models/speech, never in leg A's material). Chain, then \`detect\` with ${cands.length === 64 ? 'the 64 registered tokens' : `the first ${cands.length} of the 64 registered tokens (leg A and leg B among them; fewer candidates only lower leg A's threshold)`}, PROFILE_V2, legSpans covering the material (system.ts). "key z" = the key layer's statistic (names no leg). "flagged" = result.forgery.suspected. ${fb.text()}`,
    '',
    'Controls (the target clips, no forgery):',
    '',
    table(['chain', 'leg A named', 'leg A max z', 'key z median / max', 'other legs named', 'payload = leg A'], ctlRows),
    '',
    table(['class', 'SNR of change, min / median (dB)', 'chain', 'clips', 'named as leg A', 'max z of leg A', "leg A's mark found, content rejected", 'key z median / max', 'flagged as forgery', 'other legs named', 'payload = leg A'], rows),
    '',
    "**Stated limits (counted apart).** The host-binding attack (host-hash.ts names it as the binding's limit): the target's loudness per band group (bands 0-15 and 16-31, the host hash's groups) replaced by leg A's, frame by frame on the 16 ms grid (gains capped at +-40 dB, overall level kept, three passes so the overlap-add's smoothing converges), so the detector's keyed host bits of the target follow leg A's; then the key + leg estimate. The result keeps the target's spectral fine structure but carries leg A's two-band loudness envelope at 16 ms (a two-band vocoder of leg A's speech on the target's carrier): SNR against the target about 1 dB. The 8-group variant imposes leg A's loudness in 8 groups of 4 bands (the adversary's answer to a content check: a finer envelope of leg A's speech); the vocoder imposes every band's (32 bands, 16 ms): the target keeps only its spectral fine structure and carries leg A's spectral envelope, which is what makes speech intelligible (a channel vocoder), so its content is leg A's words. Same content: leg B's own recording of the claimed session time (the same speech, leg B's mark) with leg A's key + leg estimate added at leg A's alignment: the host is the same speech, so the detector's host bits of the forgery agree with leg A's wherever the codecs keep them.",
    '',
    table(['class', 'SNR of change, min / median (dB)', 'chain', 'clips', 'named as leg A', 'leg A z median / max', "leg A's mark found, content rejected", "leg A's content agreement where named, median / min", 'leg B (the true source) named', 'key z median', 'flagged'], limitRows),
  ].join('\n');
}

function tally(t: ForgeTally, sc: ScanResult, snr: number): void {
  const o = outcome(sc, SCENARIO.legA);
  t.clips++;
  if (o.named) t.named++;
  t.zA.push(o.z);
  t.keyZ.push(keyZ(sc));
  t.snr.push(snr);
  if (sc.forgery?.suspected) t.flagged++;
  t.others += o.others.length;
  const rej = sc.contentRejected?.find((r) => r.token === SCENARIO.legA);
  if (rej) t.rejected++, t.rejectedAgreement.push(rej.agreement);
  const ag = sc.namedContent?.get(SCENARIO.legA);
  if (ag !== undefined) t.namedAgreement.push(ag);
}

/** "rejected / clips (max agreement)": leg A's mark found and its content check failed. */
function rejectText(t: ForgeTally): string {
  return t.rejected > 0 ? `${t.rejected}/${t.clips} (agreement <= ${fmtNum(Math.max(...t.rejectedAgreement))})` : `0/${t.clips}`;
}

function flagText(t: ForgeTally): string {
  return `${t.flagged}/${t.clips}`;
}

// ---------------------------------------------------------------------------------------------
// 3. Removal

/** The evidence diagnostic's lines for one clip (see Ctx.diag 'evidence'): totals, by boost bin, by band quarter, by confidence decile. */
function evidenceLines(f: ChipFeatures, soft: Float32Array, truth: { sign: Int8Array; weight: Float32Array }): string[] {
  const K = V2.bands;
  const tiles: { conf: number; right: number; e: number; band: number; bin: number }[] = [];
  let q = 0;
  for (let j = 0; j < f.chips; j++)
    for (let k = 0; k < K; k++) {
      const x = f.r[j * K + k]!;
      const s = truth.sign[j * K + k]!;
      if (x === 0 || s === 0) continue;
      const h = truth.weight[j * K + k]!;
      const v = soft[j * K + k]!;
      tiles.push({ conf: Math.abs(v), right: (v > 0 ? 1 : -1) === s ? 1 : 0, e: x * s * h, band: k, bin: f.bins[j * K + k]! });
      q += (x * h) ** 2;
    }
  const E = tiles.reduce((a, t) => a + t.e, 0);
  const group = (part: typeof tiles): string => `n ${part.length}, acc ${pct(part.reduce((a, t) => a + t.right, 0) / Math.max(1, part.length))}, evidence ${Math.round((100 * part.reduce((a, t) => a + t.e, 0)) / E)}%`;
  const bins: string[] = [];
  for (let b = 0; b < WEIGHT_BINS; b += 2) {
    const part = tiles.filter((t) => t.bin >> 1 === b >> 1);
    if (part.length) bins.push(`${b}-${b + 1}: ${group(part)}`);
  }
  const quarters = [0, 1, 2, 3].map((g) => `${g * 8}-${g * 8 + 7}: ${group(tiles.filter((t) => t.band >> 3 === g))}`);
  const byConf = [...tiles].sort((a, b) => b.conf - a.conf);
  const deciles = Array.from({ length: 10 }, (_, d) => {
    const part = byConf.slice(Math.floor((d * byConf.length) / 10), Math.floor(((d + 1) * byConf.length) / 10));
    return `${Math.round((100 * part.reduce((a, t) => a + t.right, 0)) / Math.max(1, part.length))}%/${Math.round((100 * part.reduce((a, t) => a + t.e, 0)) / E)}`;
  });
  return [
    `tiles ${tiles.length}, z ${fmtNum(E / Math.sqrt(q))}, accuracy ${pct(tiles.reduce((a, t) => a + t.right, 0) / Math.max(1, tiles.length))}`,
    `boost bin ${bins.join('; ')}`,
    `bands ${quarters.join('; ')}`,
    `confidence deciles (accuracy / evidence %): ${deciles.join(' ')}`,
  ];
}

interface StripSetting {
  name: string;
  /** Weight of the single-shot leg estimate next to the key estimate (0: key layer only). */
  leg: number;
  level: { alpha: number } | { snrDb: number };
  /** After the division, fill the rest of the 25 dB budget with the leg estimate's division or the host-bit scramble; 'scramble-only': the scramble alone at `level`. */
  fill?: 'leg' | 'scramble' | 'scramble-only';
  /**
   * The leg estimate alone, allocated against the detector (modulator.ts 'perEnergy'): value = the
   * detector's public tile weight (band, boost bin) x the soft estimate, change per tile in
   * proportion to value / (energy share + `alloc`).
   */
  alloc?: number;
  /** With alloc: no tile changed by more than the embedder's own largest gain there (the mark's masking allowance). */
  maskLimited?: boolean;
}

export async function expStrip(ctx: Ctx): Promise<string> {
  const cands = registry();
  const T = ctx.lengths?.[0] ?? (ctx.quick ? 600 : 7200);
  const nClips = ctx.clips ?? (ctx.quick ? 6 : 300);
  const spec = legSpec(ctx, 'aac:64', T);
  ctx.log(`strip: key estimate from ${fmtLen(T)} of leg A (AAC 64k)`);
  const { est, cal, kvH, kvS } = await adversaryOf(spec, T);
  const settings: StripSetting[] = [
    { name: "key layer divided out, alpha 1 (the key layer's own level)", leg: 0, level: { alpha: 1 } },
    { name: 'key + leg divided out, scaled to 25 dB', leg: 1, level: { snrDb: 25 } },
    { name: 'key + 4 x leg, scaled to 25 dB', leg: 4, level: { snrDb: 25 } },
    { name: 'key + 8 x leg, scaled to 25 dB', leg: 8, level: { snrDb: 25 } },
    { name: 'key divided out (alpha 1), then the leg estimate divided out with the rest of the 25 dB', leg: 0, level: { alpha: 1 }, fill: 'leg' },
    { name: 'leg estimate alone divided out (key layer kept), scaled to 25 dB', leg: Infinity, level: { snrDb: 25 } },
    { name: 'host-bit scramble (random gain per 128 ms cell and band group, gamma 0.5), 25 dB', leg: 0, level: { snrDb: 25 }, fill: 'scramble-only' },
    { name: 'key divided out (alpha 1), then host-bit scramble with the rest of the 25 dB', leg: 0, level: { alpha: 1 }, fill: 'scramble' },
    { name: "leg estimate alone, allocated against the detector's weights per unit of energy (floor 0.01), 25 dB", leg: Infinity, level: { snrDb: 25 }, alloc: 0.01 },
    { name: "leg estimate alone, allocated against the detector's weights per unit of energy (floor 0.1), 25 dB", leg: Infinity, level: { snrDb: 25 }, alloc: 0.1 },
    { name: "the same (floor 0.01) within the mark's masking allowance (no tile changed by more than the embedder's own largest gain there), <= 25 dB", leg: Infinity, level: { snrDb: 25 }, alloc: 0.01, maskLimited: true },
  ];
  const W = weightTable(PROFILE_V2, 'leg');
  const r = rng(90210);
  const starts = Array.from({ length: nClips }, () => Math.round(r() * (T - 31) * 10) / 10);
  const base: ClipOutcome[] = [];
  const baseKey: number[] = [];
  const res = settings.map(() => ({ os: [] as ClipOutcome[], snr: [] as number[], key: [] as number[], flagged: 0 }));
  const fb = new Fallback();
  const t0 = Date.now();
  const from = Math.min(nClips, Math.max(0, ctx.clipFrom ?? 0));
  const diagLines: string[] = [];
  const diagKey = scenarioKey();
  const diagCache = new DetectorCache();
  for (const [i, s0] of starts.entries()) {
    if (i < from) continue;
    const start = Math.round(s0 * RATE);
    const clip = await materialSlice(spec, start, 30 * RATE);
    const rx0 = await codec(clip, 'aac:64', 4000 + i);
    const tau0 = SCENARIO.offsetSec + start / RATE;
    // The leaker's single shot of their own clip (the audio it will publish).
    const f = chipFeatures(clip, start, est);
    const legV = legValue(f, singleShot(f, kvH, cal, 'soft'));
    const cellPhase = (((est.timecode!.shift % 4) + 4) % 4);
    // The clip after setting st (before the codec), and its SNR against the clip.
    const attacked = (st: StripSetting): { y: Float32Array; snrDb: number } => {
      const value = st.leg === 0 ? (m: number, k: number): number => KA * kvS(m, k) : st.leg === Infinity ? (m: number, k: number): number => LA * legV(m, k) : mix(kvS, KA, legV, LA * st.leg);
      if (st.alloc !== undefined) {
        const weighted = (m: number, k: number): number => {
          const j = m - f.m0;
          if (m < 0 || j < 0 || j >= f.chips) return 0;
          const b = f.bins[j * V2.bands + k]!;
          return b >= WEIGHT_BINS ? 0 : (W ? W[k * WEIGHT_BINS + b]! : 1) * legV(m, k);
        };
        return applyValues(clip, { chip0Sec: chip0Of(est, start), value: weighted, mode: 'exp', level: st.level, budget: { kind: 'perEnergy', floor: st.alloc, sec: 3, ...(st.maskLimited && EMBEDDER_BUDGET.kind === 'embedder' ? { maskLimit: { strength: EMBEDDER_BUDGET.strength } } : {}) } });
      }
      if (st.fill === 'scramble-only') return atSnr(clip, scramble(clip, chip0Of(est, start), cellPhase, rng(8000 + i), 0.5), (st.level as { snrDb: number }).snrDb);
      const y = strip(clip, start, est, value, st.level);
      if (!st.fill) return y;
      // The rest of the budget: the whole change d0 + c ds at exactly 25 dB,
      // |d0|^2 + 2 c <d0, ds> + c^2 |ds|^2 = budget (the filler's change scaled linearly).
      const d0 = diff(y.y, clip);
      const budget = energy(clip) * 10 ** (-25 / 10);
      const e0 = energy(d0);
      if (!(e0 < budget)) return y;
      const ds = st.fill === 'leg' ? diff(strip(y.y, start, est, (m, k) => LA * legV(m, k), { alpha: 1 }).y, y.y) : scramble(y.y, chip0Of(est, start), cellPhase, rng(8000 + i), 0.5);
      let cross = 0;
      for (let t = 0; t < ds.length; t++) cross += d0[t]! * ds[t]!;
      const ee = Math.max(1e-30, energy(ds));
      const c = (-cross + Math.sqrt(cross * cross + ee * (budget - e0))) / ee;
      const out = Float32Array.from(y.y, (v, t) => v + c * ds[t]!);
      return { y: out, snrDb: snrDb(clip, out) };
    };
    if (ctx.diag === 'evidence') {
      const lines = evidenceLines(f, singleShot(f, kvH, cal, 'soft'), truthOf(diagKey, SCENARIO.legA, f, clip, sessionChipOf(est.sync, SCENARIO.offsetSec)));
      diagLines.push(`clip ${i}: ${lines[0]}`, ...lines.slice(1).map((l) => `  ${l}`));
      ctx.log(`  evidence clip ${i}: ${lines[0]}`);
      continue;
    }
    if (ctx.diag === 'host') {
      const analysed = (x: Float32Array): BandAnalysis => analyzeClip(x, RATE, PROFILE_V2);
      const at = (rx: BandAnalysis, host: BandAnalysis): number => legStatisticAt(rx, host, diagKey, SCENARIO.legA, tau0, diagCache);
      const a0 = analysed(rx0);
      const line: string[] = [`base ${fmtNum(at(a0, a0))}`];
      for (const st of settings) {
        const y = attacked(st);
        const a = analysed(await codec(y.y, 'aac:64', 4000 + i));
        line.push(`${fmtNum(at(a, a))} (${fmtNum(at(a, a0))}) ${fmtNum(y.snrDb)} dB`);
      }
      diagLines.push(`clip ${i}: ${line.join(' / ')}`);
      ctx.log(`  strip diag clip ${i}: ${line.join(' / ')}`);
      continue;
    }
    const sc0 = fb.add(ctx.mark.scan(rx0, cands));
    base.push(outcome(sc0, SCENARIO.legA));
    baseKey.push(keyZ(sc0));
    for (const [j, st] of settings.entries()) {
      const y = attacked(st);
      const sc = fb.add(ctx.mark.scan(await codec(y.y, 'aac:64', 4000 + i), cands));
      res[j]!.os.push(outcome(sc, SCENARIO.legA));
      res[j]!.snr.push(y.snrDb);
      res[j]!.key.push(keyZ(sc));
      if (sc.forgery?.suspected) res[j]!.flagged++;
    }
    ctx.log(`  strip clip ${i} (session ${fmtNum(s0)} s): base z ${fmtNum(base[base.length - 1]!.z)}${base[base.length - 1]!.named ? '' : ' (not named)'}; ${res.map((x) => { const o = x.os[x.os.length - 1]!; return `${fmtNum(o.z)}${o.named ? '' : '-'}`; }).join(' / ')} (z; - = not named), SNR ${res.map((x) => fmtNum(x.snr[x.snr.length - 1]!)).join(' / ')}`);
    if (i % 10 === 9 || i === nClips - 1) {
      const el = (Date.now() - t0) / 1000;
      ctx.log(`  strip ${i + 1}/${nClips} clips (${fmtNum(el / 60)} min): base ${base.filter((o) => o.named).length}; ${res.map((x) => x.os.filter((o) => o.named).length).join(' / ')} named; fallback ran ${fb.secs.length}/${fb.scans}, median ${fmtNum(median(fb.secs))} s`);
    }
  }
  if (ctx.diag === 'evidence')
    return [
      '## 3c. Where the leaker\'s clip keeps its evidence',
      '',
      "Each clip of section 3 as the leaker holds it (before any attack), at the key estimate's alignment: per tile the detector's feature r (weighted, as the detector computes it), the effective sign s the detector reads (leg A's PRF sign x the host bit, weight |host bit|; scoring with the key) and the leaker's soft single shot v. Evidence = sum of r s |h| (its share per group, in %; the clip's z = evidence / sqrt(sum (r h)^2)); accuracy = fraction of tiles where sign(v) = s. Groups: the tile's masking-boost bin (boost^2 = peak / density, bins of two octaves of boost^2: bin 10-11 = boost >= 32), the band quarter (bands 0-7 = 300-1000 Hz ... 24-31 = 4-7 kHz), the decile of |v| (most confident first).",
      '',
      '```',
      ...diagLines,
      '```',
    ].join('\n');
  if (ctx.diag === 'host')
    return [
      '## 3b. Removal diagnostic: mark taken out, or host bits moved?',
      '',
      `Leg A's plain leg-layer statistic at its true place (scoring with the key: benchmarks/attacks/earmark.ts legStatisticAt), AAC 64k, for the settings of section 3 in its order (${settings.map((st) => st.name).join('; ')}); each entry: host bits read from the attacked clip, as the detector does (in brackets: host bits read from the clip before the attack, features from the attacked clip), then the attack's SNR against the clip. A large bracketed value beside a small plain one means the attack moved the host bits rather than removing the mark. The attacked clips are section 3's, made by the same code.`,
      '',
      '```',
      ...diagLines,
      '```',
    ].join('\n');
  const rows: (string | number)[][] = [];
  const run = nClips - from;
  const named = (os: ClipOutcome[]): number => os.filter((o) => o.named).length;
  const zq = (os: ClipOutcome[]): string => {
    const zs = os.map((o) => o.z);
    return `${fmtNum(quantile(zs, 0))} / ${fmtNum(quantile(zs, 0.01))} / ${fmtNum(median(zs))}`;
  };
  rows.push(['none (re-encoded only)', '-', `${named(base)}/${run}`, pct(named(base) / run), zq(base), fmtNum(median(baseKey)), '-', base.reduce((a, o) => a + o.others.length, 0)]);
  for (const [j, st] of settings.entries()) {
    const x = res[j]!;
    const inBudget = quantile(x.snr, 0) >= 25 - 0.05;
    rows.push([st.name + (inBudget ? '' : ' (over the 25 dB budget)'), `${fmtNum(quantile(x.snr, 0))} / ${fmtNum(median(x.snr))}`, `${named(x.os)}/${run}`, `**${pct(named(x.os) / run)}**`, zq(x.os), fmtNum(median(x.key)), `${x.flagged}/${run}`, x.os.reduce((a, o) => a + o.others.length, 0)]);
  }
  return [
    '## 3. Removal by the leaker: estimate from their own leg, divide it out, publish',
    '',
    `The leaker holds ${fmtLen(T)} of their own downlink (leg A, AAC 64k). Key estimate: section 1's estimators on all of it (soft sync signs, hard timecode signs). Leg estimate: the single shot (soft) of the very clip being published. ${from > 0 ? `Clips ${from}-${nClips - 1} (${run}) of a draw of ${nClips}` : `${nClips} clips`} of 30 s at random places in the ${fmtLen(T)}; each divided by |1 + g v|^alpha per tile (benchmarks/attacks/v2/attacks.ts strip: g = the embedder's gain magnitude recomputed from the received audio -- masking boost, 24 dB running budget, strength 0.014 -- and v = the estimated gain factor, s_key / sqrt 2 for the key layer, (s_key + w v_leg) / sqrt 2 with the leg weight w), at alpha 1 (undoes the mark exactly where the estimate is right) or alpha set so the change is exactly 25 dB below the received clip (the removal budget: no larger than the mark's own distortion). Host-bit scramble (attacks.ts scramble: the leaker's attack on the host binding): a random gain per 128 ms session cell (cell grid from the key estimate's block boundary) and band group (bands 0-15, 16-31), ln-energy +-delta with delta ~ (mean cell energy / cell energy)^0.5 (equal change energy per cell, quiet cells get more), so the keyed host bits the detector computes from the published audio drift from the embedder's. Published AAC 64k, scanned (64 tokens, PROFILE_V2, legSpans). The must: leg A still named in >= 99% of clips after every attack within the budget. ${fb.text()}`,
    '',
    table(['removal', 'SNR of change, min / median (dB)', 'leg A named', 'fraction', 'leg A z min / 1% / median', 'key z median', 'flagged', 'other legs named'], rows),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 4. Collusion

export async function expCollude(ctx: Ctx): Promise<string> {
  const cands = registry();
  const tokens = ['leg-A', 'leg-B', 'leg-C'];
  const T = ctx.lengths?.[0] ?? (ctx.quick ? 600 : 7200);
  const nClips = ctx.clips ?? (ctx.quick ? 6 : 300);
  const specs = tokens.map((t) => legSpec(ctx, 'aac:64', T, t));
  // The minimum attack's key estimate (2 h of features) only when a minimum mode runs.
  let adversary: { est: KeyEstimate; kvH: TileValue } | undefined;
  const keyEstimate = async (): Promise<{ est: KeyEstimate; kvH: TileValue }> => {
    if (adversary) return adversary;
    ctx.log(`collude: key estimate from ${fmtLen(T)} of leg A (AAC 64k) for the minimum attack`);
    const est = await keyEstimateFrom(await storeOf(specs[0]!), specs[0]!, T);
    adversary = { est, kvH: keyValue(est, 'hard') };
    return adversary;
  };
  const ids = new Map(tokens.map((t) => [ctx.mark.payloadIdOf!(t), t]));
  const r = rng(31337);
  const starts = Array.from({ length: nClips }, () => Math.round(r() * (T - 31) * 10) / 10);
  const modes: { name: string; legs: number; make: (c: Float32Array[], start: number, i: number) => Float32Array }[] = [
    { name: 'average of 2 (A, B)', legs: 2, make: (c) => average(c) },
    { name: 'average of 3 (A, B, C)', legs: 3, make: (c) => average(c) },
    { name: 'minimum of 2 (A, B)', legs: 2, make: (c, s) => minimum(c, s, adversary!.est, adversary!.kvH) },
    { name: 'minimum of 3 (A, B, C)', legs: 3, make: (c, s) => minimum(c, s, adversary!.est, adversary!.kvH) },
    { name: 'switch A/B every 1-4 s', legs: 2, make: (c, _s, i) => switching(c, rng(555 + i)) },
    { name: 'switch A/B/C every 1-4 s', legs: 3, make: (c, _s, i) => switching(c, rng(777 + i)) },
  ];
  if (ctx.modes) modes.splice(0, modes.length, ...modes.filter((m) => ctx.modes!.some((p) => m.name.startsWith(p))));
  if (modes.length === 0) throw new Error(`no collusion mode starts with ${ctx.modes!.join(' or ')}`);
  if (modes.some((m) => m.name.startsWith('minimum'))) await keyEstimate();
  const fb = new Fallback();
  const acc = modes.map(() => ({ all: 0, none: 0, others: 0, named: new Map<string, number>(), z: new Map<string, number[]>(), key: [] as number[], payValid: 0, payLeg: new Map<string, number>(), snr: [] as number[] }));
  const t0 = Date.now();
  for (const [i, s0] of starts.entries()) {
    const start = Math.round(s0 * RATE);
    const copies = await Promise.all(specs.map((sp) => materialSlice(sp, start, 30 * RATE)));
    for (const [j, m] of modes.entries()) {
      const legs = tokens.slice(0, m.legs);
      const y = m.make(copies.slice(0, m.legs), start, i);
      const rx = await codec(y, 'aac:64', 6000 + i);
      const sc = fb.add(ctx.mark.scan(rx, cands));
      const a = acc[j]!;
      a.snr.push(snrDb(copies[0]!, y));
      if (legs.every((t) => sc.named.includes(t))) a.all++;
      if (sc.named.length === 0) a.none++;
      a.others += sc.named.filter((t) => !legs.includes(t)).length;
      for (const t of legs) {
        if (sc.named.includes(t)) a.named.set(t, (a.named.get(t) ?? 0) + 1);
        a.z.set(t, [...(a.z.get(t) ?? []), outcome(sc, t).z]);
      }
      a.key.push(keyZ(sc));
      const pr = ctx.mark.payload!(rx);
      if (pr.crcOk && pr.id) {
        a.payValid++;
        const who = ids.get(pr.id) ?? 'an unregistered id';
        a.payLeg.set(who, (a.payLeg.get(who) ?? 0) + 1);
      }
    }
    if (i % 10 === 9 || i === nClips - 1) ctx.log(`  collude ${i + 1}/${nClips} clips (${fmtNum((Date.now() - t0) / 60000)} min): every colluder named ${acc.map((a) => a.all).join(' / ')}`);
  }
  const rows = modes.map((m, j) => {
    const a = acc[j]!;
    const legs = tokens.slice(0, m.legs);
    return [
      m.name,
      `${a.all}/${nClips}`,
      `**${pct(a.all / nClips)}**`,
      legs.map((t) => `${t}: ${a.named.get(t) ?? 0} (z min ${fmtNum(Math.min(...a.z.get(t)!))}, median ${fmtNum(median(a.z.get(t)!))})`).join('; '),
      `${a.none}/${nClips}`,
      a.others,
      fmtNum(median(a.key)),
      fmtNum(median(a.snr)),
      `${a.payValid}/${nClips}` + (a.payValid ? ` (${[...a.payLeg.entries()].map(([t, n]) => `${t} ${n}`).join(', ')})` : ''),
    ];
  });
  return [
    '## 4. Collusion: copies of 2-3 legs combined',
    '',
    `Each leg's downlink carries the same speech from the same session time, marked with its own token (v2), through its own AAC 64k encode. ${nClips} aligned 30 s clips at random places in the first ${fmtLen(T)} are combined, re-encoded AAC 64k and scanned (64 tokens, PROFILE_V2, legSpans); decodePayload reads the blind payload. Minimum attack (benchmarks/attacks/v2/attacks.ts minimum): per chip and band the copy with the lowest band energy in the direction of the key layer's estimated sign (from ${fmtLen(T)} of leg A, keyless) -- v2's tile gain is (a_k + a_l) s_key where a leg's effective sign agrees with the key layer and (a_k - a_l) s_key where it does not (a_k, a_l the layers' amplitudes), so a copy that is low there carries least of its leg's mark in that tile. Switching: the legs in turn, each segment 1-4 s long (uniform, per clip). The must: every colluder named in >= 99% of clips (averages of 2 and 3). SNR = the combined clip against leg A's copy. ${fb.text()}`,
    '',
    table(['combination', 'every colluder named', 'fraction', 'each leg named (z min, median)', 'no leg named', 'non-colluders named', 'key z median', 'SNR vs leg A copy (dB)', 'payload: valid check code (whose id)'], rows),
  ].join('\n');
}

/** The copies in turn, each segment 1-4 s (uniform), cut sample-aligned. */
function switching(cs: readonly Float32Array[], r: () => number): Float32Array {
  const parts: Float32Array[] = [];
  const L = cs[0]!.length;
  for (let i = 0, s = Math.floor(r() * cs.length); i < L; s++) {
    const seg = Math.round((1 + 3 * r()) * RATE);
    parts.push(cs[s % cs.length]!.subarray(i, Math.min(L, i + seg)));
    i += seg;
  }
  return concat(parts);
}
