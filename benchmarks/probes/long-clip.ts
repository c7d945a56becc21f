// Long-clip probe: a marked MIN-minute clip of fixture speech (60 s cut out of the middle), scanned
// for 64 candidates (MODE=detect), read blindly (MODE=payload) or both; prints time, x realtime, the
// leg's segments and the RSS. Peak memory: run under `/usr/bin/time -v`.
//   MIN=38 MODE=detect /usr/bin/time -v node --import tsx benchmarks/probes/long-clip.ts
import { decodePayload, detect, embedAudio, keyFromBytes } from '../../lib/mark/index.js';
import { RATE, loadVoices, voiceLoop } from '../meeting.js';
const key = keyFromBytes(new Uint8Array(32).fill(7));
const voices = await loadVoices();
const min = Number(process.env.MIN ?? 38);
const long = voiceLoop(voices, 60 * min);
const marked = embedAudio({ channels: [long], sampleRate: RATE }, { key, token: 'long-leg', offsetSec: 3600 }).channels[0]!;
// Cut 60 s out at the middle.
const mid = Math.floor(marked.length / 2);
const clip = new Float32Array(marked.length - 60 * RATE);
clip.set(marked.subarray(0, mid));
clip.set(marked.subarray(mid + 60 * RATE), mid);
const cands = Array.from({ length: 63 }, (_, i) => `other-${i}`).concat([process.env.TOK ?? 'long-leg']);
if (process.env.MODE !== 'payload') {
  const t0 = performance.now();
  const r = detect({ samples: clip, sampleRate: RATE }, { key, candidates: cands });
  console.log('detect s', ((performance.now() - t0) / 1000).toFixed(1), 'x', (clip.length / RATE / ((performance.now() - t0) / 1000)).toFixed(0), 'hyp', r.hypotheses.toExponential(2), 'ns', r.nullScale.toFixed(3));
  for (const l of r.legs) console.log(l.token, l.pValue.toExponential(2), l.score.toFixed(1), l.segments.map((s) => `${s.startSec.toFixed(2)}-${s.endSec.toFixed(2)}@${s.sessionOffsetSec.toFixed(3)} c${s.timecodeConfidence.toFixed(2)}`).join(' '));
}
if (process.env.MODE !== 'detect') {
  const t1 = performance.now();
  const p = decodePayload(clip, RATE, key);
  console.log('payload s', ((performance.now() - t1) / 1000).toFixed(1), p.payloadId, p.pilotPValue.toExponential(2), p.crcOk);
}
console.log('rss MB', (process.memoryUsage().rss / 1e6).toFixed(0));
