// Own-voice probe (issue 3): replays one musts cell of benchmarks/robustness.ts (same seeds and clip
// draws) and writes per clip: span, z / null scale, z needed, detected. CI_ is the condition's index
// in CONDITIONS (Opus 24k = 2, AMR-NB 7.95k = 9).
//   CI_=9 CHAIN=amrnb:7.95,aac:64 L=30 OUT=/tmp/miss-amr.json node --import tsx benchmarks/probes/miss-probe.ts
//   CI_=2 CHAIN=opus:24 L=5 OUT=/tmp/miss-opus.json node --import tsx benchmarks/probes/miss-probe.ts
import { writeFileSync } from 'node:fs';
import { detect, keyFromBytes } from '../../lib/mark/index.js';
import { zForCorrectedP } from '../../lib/mark/stats.js';
import { benchMeeting, loadVoices } from '../meeting.js';
const key = keyFromBytes(new Uint8Array(32).fill(7));
const voices = await loadVoices();
const condIdx = Number(process.env.CI_ ?? 2); // index in CONDITIONS
const chain = process.env.CHAIN ?? 'opus:24';
const L = Number(process.env.L ?? 5);
const tf = Number(process.env.TF ?? 1);
const out: unknown[] = [];
const trials = (process.env.TRIALS ?? '0-24').split('-').map(Number);
const only = process.env.ONLY?.split(',').map(Number);
for (let trial = trials[0]!; trial <= trials[1]!; trial++) {
  if (only && !only.includes(trial)) continue;
  const seed = 100000 + 1000 * (condIdx + 1) + trial;
  const { sim, tokens, speechSpan } = await benchMeeting({ seed, stream: 'bench/robustness-musts', chain, key, voices, meetingSec: 80 });
  const tap = sim.tap!.channels[0]!;
  const rate = sim.tap!.sampleRate;
  for (let c = 0; c < 12; c++) {
    const span = speechSpan(L);
    if (!span) continue;
    const s0 = span[0] / tf, s1 = Math.min(tap.length / rate, span[1] / tf);
    const clip = tap.subarray(Math.round(s0 * rate), Math.round(s1 * rate));
    const t0 = performance.now();
    const r = detect({ samples: clip, sampleRate: rate }, { key, candidates: tokens, alpha: 1e-6, ...(process.env.MAXW ? { maxWindowSec: Number(process.env.MAXW) } : {}) });
    const sc = r.scores.find((s) => s.token === tokens[0])!;
    const hit = r.legs.some((l) => l.token === tokens[0]);
    const rec = { trial, c, s0, s1, z: sc.score / r.nullScale, score: sc.score, ns: r.nullScale, hyp: r.hypotheses, zNeed: zForCorrectedP(1e-6, r.hypotheses), hit, ms: Math.round(performance.now() - t0) };
    out.push(rec);
    if (!hit || process.env.ALL) console.log(JSON.stringify(rec));
  }
}
writeFileSync(process.env.OUT ?? '/tmp/miss.json', JSON.stringify(out));
console.log('done', out.length, out.filter((r: any) => r.hit).length);
