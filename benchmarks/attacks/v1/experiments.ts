/**
 * The attack experiments against mark v1: each builds the adversary's material with the harness,
 * runs an attack (benchmarks/attacks/v1/attacks.ts, estimate.ts: keyless), scores the result with
 * the scanner (and, for estimates, against the true pattern: v1/score.ts) and returns a markdown
 * section.
 */
import { analyzeClip, tileFeatures, WEIGHT_BINS } from '../earmark.js';
import type { MarkSystem } from '../harness.js';
import {
  average,
  RATE,
  SCENARIO,
  codec,
  concat,
  fmtNum,
  markV1,
  material,
  materialSlice,
  mean,
  median,
  outcome,
  pct,
  quantile,
  registry,
  rng,
  scenarioKey,
  summarize,
  table,
  targetVoices,
} from '../harness.js';
import type { Chunk, ClipOutcome, MaterialSpec } from '../harness.js';
import { copy, forge, strip } from './attacks.js';
import { CONSTANT_BUDGET, FLAT } from '../modulator.js';
import { FeatureStore, estimatePayload, estimateSync, estimateTimecode, periodScan, refinePhase } from './estimate.js';
import type { PatternOptions, V1Estimate } from './estimate.js';
import { V1, isPayloadBand } from './model.js';
import { scorePayload, scoreSync, scoreTimecode, sessionChipAt, truthOf } from './score.js';

export interface Ctx {
  mark: MarkSystem;
  /** Print progress. */
  log: (s: string) => void;
  /** Smaller settings (smoke test). */
  quick: boolean;
  /** Material lengths (s) to use where an experiment takes several. */
  lengths?: number[];
  /** Clips per setting where an experiment samples clips. */
  clips?: number;
}

export function defaultCtx(log: (s: string) => void, quick = false): Ctx {
  return { mark: markV1(scenarioKey()), log, quick };
}

const fmtLen = (s: number): string => (s >= 3600 ? `${fmtNum(s / 3600)} h` : s >= 60 ? `${fmtNum(s / 60)} min` : `${s} s`);
const fmtP = (p: number): string => (p === 0 ? '<1e-300' : p.toExponential(1));

function legA(ctx: Ctx, chain: string, seconds: number, token = SCENARIO.legA): MaterialSpec {
  return { mark: ctx.mark, token, chain, seconds, offsetSec: SCENARIO.offsetSec };
}

/** Features of the whole material (one pass, chunked). */
async function storeOf(spec: MaterialSpec): Promise<FeatureStore> {
  return FeatureStore.build(material(spec), Math.round(spec.seconds * RATE));
}

/** The full keyless estimate from the first `seconds` of a store (chip phase refined on the first <= 5 min of audio). */
async function estimateFrom(store: FeatureStore, spec: MaterialSpec, seconds: number, layers: { timecode?: boolean; payload?: boolean } = {}): Promise<V1Estimate> {
  const chips = Math.floor(seconds / V1.chipSec);
  const sync = estimateSync(store, { chips });
  refinePhase(await materialSlice(spec, 0, Math.round(Math.min(seconds, 300) * RATE)), sync);
  const est: V1Estimate = { sync };
  if (layers.timecode ?? true) est.timecode = estimateTimecode(store, sync, { chips });
  if (layers.payload ?? true) est.payload = estimatePayload(store, sync.phase, { chips });
  return est;
}

// ---------------------------------------------------------------------------------------------
// 1 + 2: estimation (fold, rank-one)

export async function expEstimate(ctx: Ctx): Promise<string> {
  const key = scenarioKey();
  const truth = truthOf(key, SCENARIO.legA, SCENARIO.offsetSec);
  const lengths = ctx.lengths ?? (ctx.quick ? [120, 600] : [120, 600, 3600, 7200]);
  const maxLen = Math.max(...lengths);
  const rows: (string | number)[][] = [];
  const tcRows: (string | number)[][] = [];
  let scanText = '';
  const chains = [
    { chain: 'aac:64', lengths },
    { chain: 'opus:24', lengths: lengths.filter((l) => l <= (ctx.quick ? 600 : 3600)) },
    { chain: 'amrnb:12.2,aac:96', lengths: lengths.filter((l) => l <= (ctx.quick ? 600 : 3600)) },
  ];
  for (const { chain, lengths: ls } of chains) {
    if (ls.length === 0) continue;
    const spec = legA(ctx, chain, Math.max(...ls));
    ctx.log(`estimate: material ${chain} ${fmtLen(spec.seconds)}`);
    const store = await storeOf(spec);
    if (chain === 'aac:64') {
      // Period scan over the first 10 minutes: periods 0.512-1.6 s in 8 ms steps.
      const periods = Array.from({ length: 137 }, (_, i) => 64 + i);
      const ps = periodScan(store, periods, Math.min(store.nRows, 75000));
      const others = [...ps.all.entries()].filter(([q]) => q % 4 !== 0).map(([, r]) => r);
      const top = ps.ranked.slice(0, 8).map(([q, r]) => `${fmtNum(q * 8)} ms (${fmtNum(r)})`).join(', ');
      const maxR = ps.ranked[0]![1];
      const longest = Math.max(...ps.ranked.filter(([, r]) => r >= 0.85 * maxR).map(([q]) => q));
      scanText = [
        `Period scan (AAC 64k, first ${fmtLen(Math.min(spec.seconds, 600))}; fold energy over tile energy, about 1 for a period the features do not have; 137 periods from 512 ms to 1.6 s in 8 ms steps):`,
        `top ${top}; median over periods that are not a multiple of 32 ms: ${fmtNum(median(others))}.`,
        `A pattern with random signs gives the same fold excess at its period and at its divisors (512 ms here) and half at twice the period; the longest period within 15% of the maximum is the attacker's pick: **${fmtNum(longest * 8)} ms**.`,
      ].join(' ');
    }
    for (const T of ls) {
      const chips = Math.floor(T / V1.chipSec);
      const sync = estimateSync(store, { chips });
      const sc = scoreSync(sync, truth);
      const best = [...sync.scores].sort((a, b) => b.ratio - a.ratio);
      const pay = scorePayload(estimatePayload(store, sync.phase, { chips }), sync.phase, truth);
      rows.push([chain, fmtLen(T), pct(sc.recovered), sc.parityRight ? 'yes' : 'NO', `${fmtNum(best[0]!.ratio)} / ${fmtNum(best[1]!.ratio)}`, pct(pay)]);
      const t0 = Date.now();
      const tc = estimateTimecode(store, sync, { chips });
      const ts = scoreTimecode(tc, sync, truth);
      tcRows.push([chain, fmtLen(T), ts.shiftRight ? 'yes' : 'NO', pct(ts.coverage), pct(ts.eigRecovered), pct(ts.alsRecovered), pct(ts.blockEig), pct(ts.blockAls), pct(ts.chipAls), `${((Date.now() - t0) / 1000).toFixed(1)} s`]);
      ctx.log(`  ${chain} ${fmtLen(T)}: sync ${pct(sc.recovered)}, timecode ALS ${pct(ts.alsRecovered)} (coverage ${pct(ts.coverage)}), payload ${pct(pay)}`);
    }
  }
  void maxLen;
  return [
    '## 1-2. Keyless estimation of leg A\'s pattern (fold; rank-one timecode)',
    '',
    `Material: leg A's downlink as received (fixture speech, benchmarks/meeting.ts voiceLoop, marked by earmark's streaming embedder from session time ${SCENARIO.offsetSec} s, then the codec chain in 5-minute chunks). The fixture loop is 770 s long, so recordings longer than that repeat the speech (with a different mark); no attack uses the repetition.`,
    '',
    scanText,
    '',
    '**Sync layer** (attack class 1). The attacker computes the detector\'s own tile features on an 8 ms grid, folds them modulo 32 chips at each of the 4 chip phases, takes the phase and checkerboard parity with the largest fold energy ratio, and the sign of each folded tile. Recovered = fraction of the 464 sync signs equal to the truth (truth from LegPattern with the key, scoring only; the attacker\'s chip 0 mapped to the session chip whose embedder frames line up with it). Payload = the 768 positions of the key-level payload layer (3 bands x 256 chips), folded modulo 8.192 s.',
    '',
    table(['codec', 'material', 'sync signs recovered', 'parity right', 'fold ratio best / 2nd', 'payload positions recovered'], rows),
    '',
    '**Timecode layer** (attack class 2). At the sync estimate\'s phase and parity the timecode tiles are folded modulo their full period (32 x 211 chips for even bands, 32 x 223 for odd bands); the per-(chip-in-block, band) mean over blocks is removed; the block boundary is the shift (of 32) where the per-band block x chip matrices are closest to rank one (largest sum of sigma1^2 / ||M||^2); then per band the leading singular vectors (= leading eigenvector of the block-to-block correlation matrix) give tcBlock and tcChip up to a common sign, refined by binary alternating least squares. Product = tcChip x tcBlock sign of every timecode tile of the observed block residues (what a forger or remover needs); block / chip factor = per band up to the global sign ambiguity.',
    '',
    table(['codec', 'material', 'block boundary right', 'block residues observed', 'product (eigenvector)', 'product (ALS)', 'tcBlock (eig)', 'tcBlock (ALS)', 'tcChip (ALS)', 'time'], tcRows),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 3: framing

interface TargetClip {
  name: string;
  x: Float32Array;
}

async function targetClips(ctx: Ctx, lengths = [30, 60]): Promise<TargetClip[]> {
  const tv = await targetVoices();
  const out: TargetClip[] = [];
  for (const [name, x] of tv) {
    for (const L of lengths) {
      const n = Math.round(L * RATE);
      // 30 s clips from 20 s into the voice, 60 s clips from its start (different content).
      const from = L === 30 ? Math.min(20 * RATE, x.length - n) : 0;
      if (x.length < n) continue;
      out.push({ name: `${name} ${L}s`, x: x.slice(from, from + n) });
    }
  }
  return ctx.quick ? out.filter((_, i) => i % 3 === 0) : out;
}

export async function expForge(ctx: Ctx): Promise<string> {
  const cands = registry();
  const clips = await targetClips(ctx);
  const estLens = ctx.lengths ?? (ctx.quick ? [120] : [120, 600]);
  const spec = legA(ctx, 'aac:64', Math.max(...estLens));
  const store = await storeOf(spec);
  const rows: (string | number)[][] = [];
  const ctlRows: (string | number)[][] = [];
  const chains = ctx.quick ? ['aac:64'] : ['aac:64', 'opus:24'];
  // Controls: the target clips through the chains, no forgery.
  for (const chain of chains) {
    const os: ClipOutcome[] = [];
    let pay = 0;
    for (const [i, c] of clips.entries()) {
      const rx = await codec(c.x, chain, 1000 + i);
      os.push(outcome(ctx.mark.scan(rx, cands), SCENARIO.legA));
      if (ctx.mark.payload!(rx).id === ctx.mark.payloadIdOf!(SCENARIO.legA)) pay++;
    }
    const s = summarize(os);
    ctlRows.push([chain, `${s.named}/${s.total}`, `${fmtNum(s.zMin)}-${fmtNum(s.zMax)}`, s.falseOthers, `${pay}/${s.total}`]);
  }
  const variants: { name: string; p: PatternOptions }[] = [
    { name: 'sync only', p: { sync: true, timecode: false, payload: false } },
    { name: 'sync + timecode + payload', p: { sync: true, timecode: true, payload: true } },
  ];
  for (const T of estLens) {
    const est = await estimateFrom(store, spec, T);
    // The forged clip plays chips from where the recording's timecode blocks were observed.
    const startChip = est.timecode!.shift + 64;
    for (const v of variants) {
      for (const snr of [25, 20, 15]) {
        for (const chain of chains) {
          const os: ClipOutcome[] = [];
          const snrs: number[] = [];
          let pay = 0;
          for (const [i, c] of clips.entries()) {
            const f = forge(c.x, est, { level: { snrDb: snr }, startChip, pattern: v.p });
            snrs.push(f.snrDb);
            const rx = await codec(f.y, chain, 2000 + i);
            os.push(outcome(ctx.mark.scan(rx, cands), SCENARIO.legA));
            if (v.p.payload) {
              const pr = ctx.mark.payload!(rx);
              if (pr.id === ctx.mark.payloadIdOf!(SCENARIO.legA)) pay++;
            }
          }
          const s = summarize(os);
          const ps = os.map((o) => o.p);
          rows.push([fmtLen(T), v.name, fmtNum(median(snrs)), chain, `${s.named}/${s.total}`, `${fmtNum(s.zMin)} / ${fmtNum(s.zMed)} / ${fmtNum(s.zMax)}`, `${fmtP(Math.max(...ps))} .. ${fmtP(Math.min(...ps))}`, s.falseOthers, v.p.payload ? `${pay}/${s.total}` : '-']);
          ctx.log(`  forge ${fmtLen(T)} ${v.name} ${snr} dB ${chain}: ${s.named}/${s.total} z ${fmtNum(s.zMin)}-${fmtNum(s.zMax)}`);
        }
      }
    }
  }
  return [
    '## 3. Framing: the estimated pattern embedded into voices leg A never carried',
    '',
    `Estimate: from leg A's downlink through AAC 64k (first 2 min / 10 min of the material), keyless (section 1-2). Forgery: the attacker's own multiplicative STFT modulator (benchmarks/attacks/modulator.ts, written from embed.ts's description: sqrt-Hann 512/256, masking boost (peak/density)^0.5 capped at 128 with 0.1 s memory, gain held at a constant ratio to the host over 3 s), frames centred in each 32 ms chip, scaled to the stated SNR of the forged change against the target. Targets: ${clips.length} clips (${[...new Set(clips.map((c) => c.name.split(' ')[0]))].length} voices from models/speech (never in leg A's material), 30 s and 60 s each). Then the codec, then \`detect\` with the 64 registered tokens (alpha 1e-6, 128 decoys). "Named" = leg A in result.legs. Payload = decodePayload read leg A's id with a valid CRC.`,
    '',
    'Controls (the same clips, no forgery):',
    '',
    table(['codec', 'leg A named', 'leg A z range', 'other legs named', 'payload = leg A'], ctlRows),
    '',
    table(['estimate from', 'layers forged', 'SNR of change (dB)', 'codec', 'leg A named', 'z min / median / max', 'p (worst .. best)', 'other legs named', 'payload = leg A'], rows),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 4: copy attack

export async function expCopy(ctx: Ctx): Promise<string> {
  const cands = registry();
  const clips = await targetClips(ctx);
  const spec = legA(ctx, 'aac:64', 600);
  const rows: (string | number)[][] = [];
  const variants = [
    { name: 'raw residual', clip: Infinity, chipAverage: false },
    { name: 'residual clipped at +-1 (log units)', clip: 1, chipAverage: false },
    { name: 'clipped, averaged over each 32 ms', clip: 1, chipAverage: true },
  ];
  const snrs = ctx.quick ? [25, 15] : [25, 20, 15, 10];
  for (const v of variants) {
    for (const snr of snrs) {
      const os: ClipOutcome[] = [];
      const got: number[] = [];
      for (const [i, c] of clips.entries()) {
        // Source: a stretch of leg A's recording as long as the target, from a clip-specific place.
        const from = Math.round((17 + 41 * i) * RATE) % Math.round((600 - 61) * RATE);
        const src = await materialSlice(spec, from - (from % 128), c.x.length);
        const f = copy(src, c.x, { level: { snrDb: snr }, clip: v.clip, chipAverage: v.chipAverage });
        got.push(f.snrDb);
        const rx = await codec(f.y, 'aac:64', 3000 + i);
        os.push(outcome(ctx.mark.scan(rx, cands), SCENARIO.legA));
      }
      const s = summarize(os);
      rows.push([v.name, fmtNum(median(got)), `${s.named}/${s.total}`, `${fmtNum(s.zMin)} / ${fmtNum(s.zMed)} / ${fmtNum(s.zMax)}`, fmtP(s.pMin), s.falseOthers]);
      ctx.log(`  copy ${v.name} ${snr} dB: ${s.named}/${s.total} z ${fmtNum(s.zMin)}-${fmtNum(s.zMax)}`);
    }
  }
  return [
    '## 4. Copy attack: leg A\'s feature residual transplanted onto other voices',
    '',
    `Source: stretches of leg A's downlink (AAC 64k) as long as each target clip. Per 16 ms frame and band, the source's log band energy minus the mean of its neighbours (+-32 ms, +-1 band: the detector's detrending) is imposed on the target as a gain 1 + a x residual, time-aligned sample for sample (the copied mark keeps its chip timing), a set for the stated SNR; no knowledge of the pattern or its period is used. Targets: the ${clips.length} clips of section 3; AAC 64k; detect with 64 candidates.`,
    '',
    table(['residual', 'SNR of change (dB)', 'leg A named', 'z min / median / max', 'best p', 'other legs named'], rows),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 5: estimate-and-subtract removal

interface StripSetting {
  name: string;
  alpha: number;
  kind: 'hard' | 'soft';
}

export async function expStrip(ctx: Ctx): Promise<Map<string, string>> {
  const cands = registry();
  const lengths = ctx.lengths ?? (ctx.quick ? [120] : [120, 600, 3600, 7200]);
  const nClips = ctx.clips ?? (ctx.quick ? 6 : 60);
  // Material: at least 30 min, so that clips from outside a short estimate's span exist.
  const spec = legA(ctx, 'aac:64', Math.max(1800, ...lengths));
  const store = await storeOf(spec);
  const settings: StripSetting[] = [
    { name: 'soft, alpha 0.75', alpha: 0.75, kind: 'soft' },
    { name: "soft, alpha 1 (the mark's own level)", alpha: 1, kind: 'soft' },
    { name: 'soft, alpha 1.15', alpha: 1.15, kind: 'soft' },
    { name: 'hard, alpha 1.25', alpha: 1.25, kind: 'hard' },
    { name: 'hard, alpha 1.5', alpha: 1.5, kind: 'hard' },
  ];
  const sections = new Map<string, string>();
  for (const T of lengths) {
    const rows: (string | number)[][] = [];
    const est = await estimateFrom(store, spec, T);
    const r = rng(7000 + T);
    // Clips of the leaker's own recording inside the first T seconds (what the estimate saw), and,
    // where the material extends past T, clips from after T (same leg, later in the session).
    const groups: { name: string; starts: number[]; settings: StripSetting[] }[] = [
      { name: `inside the first ${fmtLen(T)}`, starts: Array.from({ length: nClips }, () => Math.round(r() * (T - 30) * 10) / 10), settings },
    ];
    if (spec.seconds - T >= 600) groups.push({ name: `after the first ${fmtLen(T)} (${fmtLen(T)}-${fmtLen(spec.seconds)})`, starts: Array.from({ length: Math.ceil(nClips / 2) }, () => T + Math.round(r() * (spec.seconds - T - 30) * 10) / 10), settings: settings.slice(1, 4) });
    for (const g of groups) {
      const base: ClipOutcome[] = [];
      const res = g.settings.map(() => ({ os: [] as ClipOutcome[], snr: [] as number[] }));
      for (const [i, s0] of g.starts.entries()) {
        const start = Math.round(s0 * RATE);
        const clip = await materialSlice(spec, start, 30 * RATE);
        base.push(outcome(ctx.mark.scan(await codec(clip, 'aac:64', 4000 + i), cands), SCENARIO.legA));
        for (const [j, st] of g.settings.entries()) {
          const y = strip(clip, est, { level: { alpha: st.alpha }, clipStart: start, pattern: { kind: st.kind } });
          res[j]!.snr.push(y.snrDb);
          res[j]!.os.push(outcome(ctx.mark.scan(await codec(y.y, 'aac:64', 4000 + i), cands), SCENARIO.legA));
        }
        if (i % 10 === 9) ctx.log(`  strip ${fmtLen(T)} ${g.name}: ${i + 1}/${g.starts.length} clips`);
      }
      const b = summarize(base);
      rows.push([g.name, 'none (re-encoded only)', '-', `${b.named}/${b.total}`, fmtNum(mean(base.map((o) => o.z))), `${fmtNum(b.zMin)} / ${fmtNum(b.zMed)} / ${fmtNum(b.zMax)}`]);
      for (const [j, st] of g.settings.entries()) {
        const s = summarize(res[j]!.os);
        const sn = res[j]!.snr;
        rows.push([g.name, st.name, `${fmtNum(quantile(sn, 0))} / ${fmtNum(median(sn))}`, `${s.named}/${s.total}`, fmtNum(mean(res[j]!.os.map((o) => o.z))), `${fmtNum(s.zMin)} / ${fmtNum(s.zMed)} / ${fmtNum(s.zMax)}`]);
        ctx.log(`  strip ${fmtLen(T)} ${g.name} ${st.name}: ${s.named}/${s.total} named, SNR ${fmtNum(median(sn))}`);
      }
    }
    sections.set(`strip-${T}`, [`### Estimate from T = ${fmtLen(T)} (material ${fmtLen(spec.seconds)} of leg A)`, '', table(['clips', 'removal', 'SNR of change, min / median (dB)', 'leg A named', 'mean z', 'z min / median / max'], rows)].join('\n'));
  }
  sections.set(
    'strip',
    [
      '## 5. Removal by the leaker: estimate from their own leg, divide it out, publish',
      '',
      "The leaker holds T of their own downlink (AAC 64k), estimates the pattern keylessly (sections 1-2: sync, timecode, payload; chip phase refined to 0.5 ms on the first <= 5 min by the fold), and strips random 30 s clips of their leg (starts uniform; clips inside a 2 min span overlap; 'after' clips come from later in the same session, which the estimate never saw). Removal (benchmarks/attacks/v1/attacks.ts strip): the embedder's per-tile gain magnitude g is recomputed keylessly from the received audio (earmark's masking boost and 24 dB running budget, strength 0.014; the band levels corrected for the estimated gain by fixed-point iteration), and each tile's magnitude is divided by |1 + g v|^alpha, v = the estimated sign (hard) or tanh(t / median |t|) of its fold z-value t (soft, sync tiles; timecode and payload tiles hard). alpha = 1 undoes the mark exactly where the sign is right. Published: AAC 64k; scanned with the 64 tokens. SNR = the change against the received clip (the mark itself measured 25.1-25.6 dB on these voices, benchmarks/results/robustness.md). z 0 = the scanner scored nothing for leg A.",
    ].join('\n'),
  );
  return sections;
}

/** Why a removal comes out inverted: the sign convention, and one chip / one band off. */
export async function expStripDiag(ctx: Ctx): Promise<string> {
  const cands = registry();
  const key = scenarioKey();
  const truth = truthOf(key, SCENARIO.legA, SCENARIO.offsetSec);
  const T = 120;
  const spec = legA(ctx, 'aac:64', 600);
  const store = await storeOf(spec);
  const est = await estimateFrom(store, spec, T);
  const nClips = ctx.quick ? 3 : 12;
  const settings: { name: string; o: Partial<Parameters<typeof strip>[2]>; pattern: PatternOptions }[] = [
    { name: 'right: divide by abs(1 + g s_hat)', o: {}, pattern: { kind: 'hard' } },
    { name: 'sign convention flipped: divide by abs(1 - g s_hat)', o: { flip: true }, pattern: { kind: 'hard' } },
    { name: 'one chip late', o: { chipShift: 1 }, pattern: { kind: 'hard' } },
    { name: 'one chip early', o: { chipShift: -1 }, pattern: { kind: 'hard' } },
    { name: 'one band up', o: { bandShift: 1 }, pattern: { kind: 'hard' } },
    { name: 'frames on the 8 ms row grid (no sub-row phase refinement)', o: { frameShiftSec: -est.sync.fineSec }, pattern: { kind: 'hard' } },
    { name: 'flat gain (no masking boost), SNR 25 dB', o: { masking: FLAT, budget: CONSTANT_BUDGET, level: { snrDb: 25 } }, pattern: { kind: 'hard' } },
    { name: 'flat gain (no masking boost), SNR 15 dB', o: { masking: FLAT, budget: CONSTANT_BUDGET, level: { snrDb: 15 } }, pattern: { kind: 'hard' } },
  ];
  const rows: (string | number)[][] = [];
  const res = settings.map(() => [] as ClipOutcome[]);
  const snrs = settings.map(() => [] as number[]);
  const base: ClipOutcome[] = [];
  const r = rng(99);
  for (let i = 0; i < nClips; i++) {
    const s0 = Math.round(r() * (T - 30) * 10) / 10;
    const start = Math.round(s0 * RATE);
    const clip = await materialSlice(spec, start, 30 * RATE);
    base.push(outcome(ctx.mark.scan(await codec(clip, 'aac:64', 5000 + i), cands), SCENARIO.legA));
    for (const [j, st] of settings.entries()) {
      const y = strip(clip, est, { level: { alpha: 1.25 }, clipStart: start, pattern: st.pattern, ...st.o });
      snrs[j]!.push(y.snrDb);
      res[j]!.push(outcome(ctx.mark.scan(await codec(y.y, 'aac:64', 5000 + i), cands), SCENARIO.legA));
    }
  }
  void truth;
  const b = summarize(base);
  rows.push(['none', '-', `${b.named}/${b.total}`, fmtNum(mean(base.map((o) => o.z)))]);
  for (const [j, st] of settings.entries()) {
    const s = summarize(res[j]!);
    rows.push([st.name, fmtNum(median(snrs[j]!)), `${s.named}/${s.total}`, fmtNum(mean(res[j]!.map((o) => o.z)))]);
  }
  return [
    '### 5b. Why a removal comes out inverted',
    '',
    `${nClips} random 30 s clips of the first 2 min, estimate from those 2 min, removal at alpha 1.25 (hard signs) unless stated, AAC 64k, scanned. Each row changes one thing in the remover.`,
    '',
    table(['remover', 'SNR of change (median dB)', 'leg A named', 'mean z'], rows),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 6: collusion

export async function expCollude(ctx: Ctx): Promise<string> {
  const cands = registry();
  const tokens = ['leg-A', 'leg-B', 'leg-C'];
  const seconds = 600;
  const specs = tokens.map((t) => legA(ctx, 'aac:64', seconds, t));
  const nClips = ctx.clips ?? (ctx.quick ? 4 : 20);
  const r = rng(31337);
  const starts = Array.from({ length: nClips }, () => Math.round(r() * (seconds - 30) * 10) / 10);
  const ids = new Map(tokens.map((t) => [ctx.mark.payloadIdOf!(t), t]));
  const modes: { name: string; legs: number; make: (c: Float32Array[]) => Float32Array }[] = [
    { name: 'average of 2 (A, B)', legs: 2, make: (c) => average(c.slice(0, 2)) },
    { name: 'average of 3 (A, B, C)', legs: 3, make: (c) => average(c) },
    { name: 'switch A/B every 3 s', legs: 2, make: (c) => switching(c.slice(0, 2), 3) },
    { name: 'switch A/B/C every 3 s', legs: 3, make: (c) => switching(c, 3) },
    { name: 'switch A/B every 1 s', legs: 2, make: (c) => switching(c.slice(0, 2), 1) },
  ];
  const rows: (string | number)[][] = [];
  for (const m of modes) {
    const namedCount = new Map<string, number>();
    const zs = new Map<string, number[]>();
    let none = 0;
    let others = 0;
    let payValid = 0;
    const payLeg = new Map<string, number>();
    for (const [i, s0] of starts.entries()) {
      const start = Math.round(s0 * RATE);
      const copies = await Promise.all(specs.slice(0, m.legs).map((sp) => materialSlice(sp, start, 30 * RATE)));
      const rx = await codec(m.make(copies), 'aac:64', 6000 + i);
      const sc = ctx.mark.scan(rx, cands);
      if (sc.named.length === 0) none++;
      for (const t of sc.named) namedCount.set(t, (namedCount.get(t) ?? 0) + 1);
      others += sc.named.filter((t) => !tokens.slice(0, m.legs).includes(t)).length;
      for (const t of tokens.slice(0, m.legs)) zs.set(t, [...(zs.get(t) ?? []), outcome(sc, t).z]);
      const pr = ctx.mark.payload!(rx);
      if (pr.crcOk && pr.id) {
        payValid++;
        const who = ids.get(pr.id) ?? 'an unregistered id';
        payLeg.set(who, (payLeg.get(who) ?? 0) + 1);
      }
    }
    rows.push([
      m.name,
      tokens
        .slice(0, m.legs)
        .map((t) => `${t}: ${namedCount.get(t) ?? 0}/${nClips} (median z ${fmtNum(median(zs.get(t)!))})`)
        .join('; '),
      `${none}/${nClips}`,
      others,
      `${payValid}/${nClips}` + (payValid ? ` (${[...payLeg.entries()].map(([t, n]) => `${t} ${n}`).join(', ')})` : ''),
    ]);
    ctx.log(`  collude ${m.name}: ${rows[rows.length - 1]!.slice(1).join(' | ')}`);
  }
  return [
    '## 6. Collusion: copies of 2-3 legs combined',
    '',
    `Each leg's downlink carries the same speech (the fixture loop) from the same session time, marked with its own token, through its own AAC 64k encode (material chunks); ${nClips} aligned 30 s clips (random starts in the first 10 min) are combined, re-encoded AAC 64k and scanned with the 64 tokens; decodePayload reads the blind payload.`,
    '',
    table(['combination', 'legs named (of clips)', 'no leg named', 'non-colluders named', 'payload: valid check code (whose id)'], rows),
  ].join('\n');
}

/**
 * Collusion plus removal: the colluders average their aligned copies (the tiles where their signs
 * differ cancel), estimate what is left -- the pattern common to their legs -- from the averaged
 * recording by the same keyless fold, and strip it.
 */
export async function expColludeStrip(ctx: Ctx): Promise<string> {
  const cands = registry();
  const tokens = ['leg-A', 'leg-B', 'leg-C'];
  const T = ctx.lengths?.[0] ?? (ctx.quick ? 120 : 600);
  const nClips = ctx.clips ?? (ctx.quick ? 4 : 20);
  const rows: (string | number)[][] = [];
  for (const legs of [2, 3]) {
    const specs = tokens.slice(0, legs).map((t) => legA(ctx, 'aac:64', T, t));
    async function* averaged(): AsyncGenerator<Chunk> {
      const its = specs.map((sp) => material(sp)[Symbol.asyncIterator]());
      for (;;) {
        const parts = await Promise.all(its.map((it) => it.next()));
        if (parts.some((p) => p.done)) return;
        const cs = parts.map((p) => p.value as Chunk);
        yield { start: cs[0]!.start, audio: average(cs.map((c) => c.audio)) };
      }
    }
    const store = await FeatureStore.build(averaged(), Math.round(T * RATE));
    const sync = estimateSync(store);
    const first = average(await Promise.all(specs.map((sp) => materialSlice(sp, 0, Math.round(Math.min(T, 300) * RATE)))));
    refinePhase(first, sync);
    const est: V1Estimate = { sync, timecode: estimateTimecode(store, sync), payload: estimatePayload(store, sync.phase) };
    const r = rng(4242 + legs);
    const settings: StripSetting[] = [
      { name: 'none (averaged, re-encoded)', alpha: 0, kind: 'soft' },
      { name: "soft, alpha 1", alpha: 1, kind: 'soft' },
      { name: 'hard, alpha 1.25', alpha: 1.25, kind: 'hard' },
      { name: 'soft, alpha 1.5', alpha: 1.5, kind: 'soft' },
    ];
    const res = settings.map(() => ({ named: new Map<string, number>(), z: new Map<string, number[]>(), none: 0, snr: [] as number[] }));
    for (let i = 0; i < nClips; i++) {
      const start = Math.round(Math.round(r() * (T - 30) * 10) / 10 * RATE);
      const y0 = average(await Promise.all(specs.map((sp) => materialSlice(sp, start, 30 * RATE))));
      for (const [j, st] of settings.entries()) {
        const y = st.alpha === 0 ? { y: y0, snrDb: Infinity } : strip(y0, est, { level: { alpha: st.alpha }, clipStart: start, pattern: { kind: st.kind } });
        const sc = ctx.mark.scan(await codec(y.y, 'aac:64', 7000 + i), cands);
        const o = res[j]!;
        o.snr.push(y.snrDb);
        if (sc.named.length === 0) o.none++;
        for (const t of sc.named) o.named.set(t, (o.named.get(t) ?? 0) + 1);
        for (const t of tokens.slice(0, legs)) o.z.set(t, [...(o.z.get(t) ?? []), outcome(sc, t).z]);
      }
    }
    for (const [j, st] of settings.entries()) {
      const o = res[j]!;
      rows.push([
        `${legs} legs`,
        st.name,
        st.alpha === 0 ? '-' : fmtNum(median(o.snr)),
        tokens
          .slice(0, legs)
          .map((t) => `${t}: ${o.named.get(t) ?? 0}/${nClips} (median z ${fmtNum(median(o.z.get(t)!))})`)
          .join('; '),
        `${o.none}/${nClips}`,
        [...o.named.keys()].filter((t) => !tokens.slice(0, legs).includes(t)).length,
      ]);
      ctx.log(`  collude-strip ${legs} legs ${st.name}: ${rows[rows.length - 1]!.slice(2).join(' | ')}`);
    }
  }
  return [
    '### 6b. Collusion plus removal: average the copies, then estimate and strip what they share',
    '',
    `The colluders average their aligned copies of the first ${fmtLen(T)} (AAC 64k each), estimate the remaining (common) pattern from that average with the keyless fold and rank-one estimators, and strip it (section 5's remover) from ${nClips} random averaged 30 s clips of that span; AAC 64k; scanned with the 64 tokens. SNR = the removal's change against the averaged clip.`,
    '',
    table(['colluders', 'removal', 'SNR of change (median dB)', 'legs named (of clips)', 'no leg named', 'non-colluders named'], rows),
  ].join('\n');
}

function switching(cs: Float32Array[], sec: number): Float32Array {
  const seg = Math.round(sec * RATE);
  const parts: Float32Array[] = [];
  for (let i = 0, s = 0; i < cs[0]!.length; i += seg, s++) parts.push(cs[s % cs.length]!.subarray(i, Math.min(cs[0]!.length, i + seg)));
  return concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Per-tile mark SNR at the true alignment

export async function expTileSnr(ctx: Ctx): Promise<string> {
  const key = scenarioKey();
  const truth = truthOf(key, SCENARIO.legA, SCENARIO.offsetSec);
  const seconds = ctx.quick ? 120 : 600;
  const K = V1.bands;
  const chains = ['clean', 'aac:64', 'opus:24', 'amrnb:12.2,aac:96'];
  const overall: (string | number)[][] = [];
  const byBand: Map<string, { c: Float64Array; q: Float64Array; n: Float64Array }> = new Map();
  const byBin: Map<string, { c: Float64Array; q: Float64Array; n: Float64Array }> = new Map();
  const ones = new Float64Array(K * WEIGHT_BINS).fill(1);
  for (const chain of chains) {
    const spec = legA(ctx, chain, seconds);
    // The true chip phase: the best of 16 phases (2 ms apart) on the first chunk.
    let phaseSec = 0;
    let n0 = 0;
    const acc = {
      w: { c: new Float64Array(K), q: new Float64Array(K), n: new Float64Array(K) },
      u: { c: new Float64Array(K), q: new Float64Array(K), n: new Float64Array(K) },
      wb: { c: new Float64Array(WEIGHT_BINS), q: new Float64Array(WEIGHT_BINS), n: new Float64Array(WEIGHT_BINS) },
      ub: { c: new Float64Array(WEIGHT_BINS), q: new Float64Array(WEIGHT_BINS), n: new Float64Array(WEIGHT_BINS) },
    };
    let first = true;
    for await (const ch of material(spec)) {
      const a = analyzeClip(ch.audio, RATE);
      if (first) {
        let bestZ = -Infinity;
        for (let i = 0; i < 16; i++) {
          const ph = i * 0.002;
          const f = tileFeatures(a, { rate: 1, freqScale: 1, phaseSec: ph });
          // Session chip of relative chip 0: the chip whose mark centroid is nearest the window centre.
          const nn = sessionChipAt(truth.offsetSec, ph);
          let c = 0;
          let q = 0;
          for (let m = 0; m < f.chips; m++)
            for (let k = 0; k < K; k++) {
              const x = f.r[m * K + k]!;
              if (x === 0) continue;
              c += x * truth.pattern.sign(nn + m, k);
              q += x * x;
            }
          if (c / Math.sqrt(q) > bestZ) (bestZ = c / Math.sqrt(q)), (phaseSec = ph), (n0 = nn);
        }
        first = false;
      }
      const chipBase = n0 + Math.round(ch.start / RATE / V1.chipSec);
      for (const [w, accBand, accBin] of [
        [undefined, acc.w, acc.wb],
        [ones, acc.u, acc.ub],
      ] as const) {
        const bins = new Uint8Array(Math.ceil(ch.audio.length / RATE / V1.chipSec + 2) * K);
        const f = tileFeatures(a, { rate: 1, freqScale: 1, phaseSec }, w ? { weights: w, bins } : { bins });
        for (let m = 0; m < f.chips; m++)
          for (let k = 0; k < K; k++) {
            const x = f.r[m * K + k]!;
            if (x === 0 || isPayloadBand(k)) continue;
            const s = truth.pattern.sign(chipBase + m, k);
            accBand.c[k]! += x * s;
            accBand.q[k]! += x * x;
            accBand.n[k]! += 1;
            const b = bins[m * K + k]!;
            if (b < WEIGHT_BINS) (accBin.c[b]! += x * s), (accBin.q[b]! += x * x), (accBin.n[b]! += 1);
          }
      }
    }
    const tot = (o: { c: Float64Array; q: Float64Array; n: Float64Array }): { rho: number; n: number; amp: number } => {
      const c = o.c.reduce((x, y) => x + y, 0);
      const q = o.q.reduce((x, y) => x + y, 0);
      const n = o.n.reduce((x, y) => x + y, 0);
      return { rho: c / Math.sqrt(q * n), n, amp: c / n / Math.sqrt(q / n) };
    };
    const tw = tot(acc.w);
    const tu = tot(acc.u);
    overall.push([chain === 'clean' ? 'none' : chain, tw.n, tw.rho.toFixed(3), (10 * Math.log10(tw.rho ** 2 / (1 - tw.rho ** 2))).toFixed(1), tu.rho.toFixed(3), (10 * Math.log10(tu.rho ** 2 / (1 - tu.rho ** 2))).toFixed(1), fmtNum(tw.rho * Math.sqrt(tw.n / (seconds / 30)))]);
    byBand.set(chain, acc.w);
    byBin.set(chain, acc.ub);
    ctx.log(`  tile SNR ${chain}: rho ${tw.rho.toFixed(3)} (weighted), ${tu.rho.toFixed(3)} (unweighted); phase ${phaseSec}`);
  }
  const rho = (o: { c: Float64Array; q: Float64Array; n: Float64Array }, i: number): string => (o.n[i]! > 50 ? (o.c[i]! / Math.sqrt(o.q[i]! * o.n[i]!)).toFixed(3) : '-');
  const bandRows = Array.from({ length: K }, (_, k) => k)
    .filter((k) => !isPayloadBand(k))
    .map((k) => [k, `${fmtNum(V1.bandEdgesHz[k]!)}-${fmtNum(V1.bandEdgesHz[k + 1]!)}`, ...chains.map((c) => rho(byBand.get(c)!, k))]);
  const binRows = Array.from({ length: WEIGHT_BINS }, (_, b) => [
    b === WEIGHT_BINS - 1 ? `>= ${fmtNum(Math.sqrt(2 ** b))}` : `${fmtNum(Math.sqrt(2 ** b))}-${fmtNum(Math.sqrt(2 ** (b + 1)))}`,
    ...chains.map((c) => rho(byBin.get(c)!, b)),
    ...chains.map((c) => {
      const o = byBin.get(c)!;
      const n = o.n.reduce((x, y) => x + y, 0);
      return pct(o.n[b]! / n);
    }),
  ]);
  return [
    '## Per-tile mark SNR at the true alignment',
    '',
    `Leg A's downlink, ${fmtLen(seconds)} per condition, tile features (the detector's front end) at the true chip phase (the best of 16 phases 2 ms apart on the first 5 min) against the true signs (sync and timecode tiles; payload bands excluded). rho = sum(r s) / sqrt(N sum r^2): the per-tile correlation between feature and sign; a detector over N tiles gets z about rho sqrt(N), and an attacker averaging n repetitions of a tile gets its sign right with probability about Phi(rho sqrt(n)). Per-tile SNR = rho^2 / (1 - rho^2). "Weighted" = the detector's features (learned band x boost weights); "unweighted" = the normalized residual (weights table of ones).`,
    '',
    table(['codec', 'tiles', 'rho (weighted)', 'per-tile SNR dB (weighted)', 'rho (unweighted)', 'per-tile SNR dB (unweighted)', 'implied z per 30 s'], overall),
    '',
    'By band (weighted features):',
    '',
    table(['band', 'Hz', ...chains.map((c) => (c === 'clean' ? 'none' : c))], bandRows),
    '',
    'By the estimated masking boost of the tile (features.ts boost bin: boost = sqrt(peak / density), unweighted features), and the share of tiles in each bin:',
    '',
    table(['boost', ...chains.map((c) => `rho ${c === 'clean' ? 'none' : c}`), ...chains.map((c) => `share ${c === 'clean' ? 'none' : c}`)], binRows),
  ].join('\n');
}

