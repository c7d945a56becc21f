/**
 * The content check (lib/mark/content-ref.ts, lib/mark/detect/content-check.ts) on genuine taps and
 * on inserts: `npm run bench:content` -> benchmarks/results/content-check.md.
 *
 * Genuine: simulated 4-party meetings (benchmarks/meeting.ts, v2 marks, each leg's content reference
 * made from its marked downlink as the bridge would), tap = leg 0's downlink + its own voice through
 * the chain, 30 s clips holding L s of downlink speech; `detect` with the 64 tokens and the legs'
 * references. Per chain: the right leg's verdicts, its pooled agreement, and how many clips had a
 * window flagged as a content mismatch (a false alarm: nothing was inserted).
 *
 * Insert: the same clips with 8 s from the clip's 11th second replaced by another voice carrying
 * leg 0's own mark for those session times (embedded with the key: the best copy a forger could
 * make) through the same chain. Counted: the leg still named with a consistent pooled check and a
 * mismatch window overlapping the insert (located), the leg rejected as a whole, or nothing flagged.
 *
 * Environment: TRIALS (meetings per chain, default 3), CLIPS (clips per meeting, default 4).
 */
import { applyChain } from '../lib/channel/index.js';
import { DetectorCache, PROFILE_V2, detect, embedAudio, keyFromBytes } from '../lib/mark/index.js';
import type { DetectResult } from '../lib/mark/index.js';
import { markdownTable, provenance, writeResult } from './lib.js';
import { RATE, benchMeeting, loadTrainingVoices, loadVoices } from './meeting.js';

const TRIALS = Number(process.env['TRIALS'] ?? 3);
const CLIPS = Number(process.env['CLIPS'] ?? 4);
const CLIP_SPEECH_SEC = 30;
const INSERT_AT_SEC = 11;
const INSERT_SEC = 8;
const CHAINS: { name: string; chain: string; timeFactor: number }[] = [
  { name: 'clean', chain: '', timeFactor: 1 },
  { name: 'Opus 24k', chain: 'opus:24', timeFactor: 1 },
  { name: 'AAC 64k', chain: 'aac:64', timeFactor: 1 },
  { name: 'AMR-NB 7.95k -> AAC 64k', chain: 'amrnb:7.95,aac:64', timeFactor: 1 },
  { name: 'room RT60 0.4 s, 18 dB -> AAC 64k', chain: 'room:0.4:18,aac:64', timeFactor: 1 },
  { name: 'speed 0.97', chain: 'speed:0.97', timeFactor: 0.97 },
  { name: 'tempo 1.02', chain: 'tempo:1.02', timeFactor: 1.02 },
];

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

interface Row {
  clips: number;
  named: number;
  verdicts: Record<string, number>;
  agreement: number[];
  windowFlags: number;
  ins: { clips: number; located: number; rejected: number; missed: number; notNamed: number; offsetsSec: number[] };
}

async function main(): Promise<void> {
  const started = performance.now();
  const key = keyFromBytes(new Uint8Array(32).fill(11));
  const voices = await loadVoices();
  const others = [...(await loadTrainingVoices()).values()];
  const cache = new DetectorCache();
  const rows: (string | number)[][] = [];
  const insRows: (string | number)[][] = [];
  for (const [ci, cond] of CHAINS.entries()) {
    const row: Row = { clips: 0, named: 0, verdicts: {}, agreement: [], windowFlags: 0, ins: { clips: 0, located: 0, rejected: 0, missed: 0, notNamed: 0, offsetsSec: [] } };
    for (let trial = 0; trial < TRIALS; trial++) {
      const m = await benchMeeting({ seed: 300000 + 1000 * ci + trial, stream: 'bench/content-check', chain: cond.chain, key, voices, meetingSec: 80, profile: PROFILE_V2 });
      const tap = m.sim.tap!.channels[0]!;
      const rate = m.sim.tap!.sampleRate;
      const token = m.tokens[0]!;
      const scan = (x: Float32Array): DetectResult => detect({ channels: [x], sampleRate: rate }, { key, candidates: m.tokens, profile: PROFILE_V2, cache, contentReferences: m.references });
      for (let c = 0; c < CLIPS; c++) {
        const span = m.speechSpan(CLIP_SPEECH_SEC);
        if (!span) continue;
        const s0 = span[0] / cond.timeFactor;
        const s1 = Math.min(tap.length / rate, span[1] / cond.timeFactor);
        const clip = tap.slice(Math.round(s0 * rate), Math.round(s1 * rate));
        row.clips++;
        const r = scan(clip);
        const leg = r.legs.find((l) => l.token === token);
        const rej = r.contentRejected?.find((l) => l.token === token);
        const content = (leg ?? rej)?.content;
        if (leg) row.named++;
        if (content) {
          row.verdicts[content.verdict] = (row.verdicts[content.verdict] ?? 0) + 1;
          if (content.bits > 0) row.agreement.push(content.agreement);
          if (content.mismatches?.length) row.windowFlags++;
        }
        // The insert: another voice with leg 0's mark at the session times it replaces, through the chain.
        if (!leg || clip.length < (INSERT_AT_SEC + INSERT_SEC + 5) * rate) continue;
        const seg = leg.segments[0]!;
        const sessionAt = seg.sessionOffsetSec + (INSERT_AT_SEC - seg.startSec) * leg.speed;
        const voice = others[(trial * CLIPS + c) % others.length]!;
        const srcLen = Math.round(INSERT_SEC * leg.speed * RATE);
        const start = Math.round(((trial * 7 + c * 3) % 20) * RATE) % Math.max(1, voice.length - srcLen);
        const marked = embedAudio({ channels: [voice.slice(start, start + srcLen)], sampleRate: RATE }, { key, token, offsetSec: sessionAt, profile: PROFILE_V2 });
        const through = cond.chain ? await applyChain(marked, cond.chain, { seed: 17 + c }) : marked;
        const piece = through.channels[0]!;
        const forged = Float32Array.from(clip);
        const at = Math.round(INSERT_AT_SEC * rate);
        forged.set(piece.subarray(0, Math.min(piece.length, forged.length - at)), at);
        row.ins.clips++;
        const fr = scan(forged);
        const fleg = fr.legs.find((l) => l.token === token);
        const insEnd = INSERT_AT_SEC + piece.length / rate;
        if (fr.contentRejected?.some((l) => l.token === token)) row.ins.rejected++;
        else if (!fleg) row.ins.notNamed++;
        else {
          const hit = (fleg.content?.mismatches ?? []).find((w) => w.endSec > INSERT_AT_SEC && w.startSec < insEnd);
          if (hit) {
            row.ins.located++;
            row.ins.offsetsSec.push(hit.startSec - INSERT_AT_SEC, hit.endSec - insEnd);
          } else row.ins.missed++;
        }
      }
    }
    const v = (k: string): number => row.verdicts[k] ?? 0;
    rows.push([
      cond.name,
      row.clips,
      `${row.named}/${row.clips}`,
      `${v('consistent')} / ${v('inconclusive')} / ${v('inconsistent')}`,
      row.agreement.length ? `${quantile(row.agreement, 0.5).toFixed(3)} / ${quantile(row.agreement, 0).toFixed(3)}` : '-',
      `${row.windowFlags}/${row.clips}`,
    ]);
    const off = row.ins.offsetsSec.map(Math.abs);
    insRows.push([cond.name, row.ins.clips, `**${row.ins.located}**`, row.ins.rejected, row.ins.missed, row.ins.notNamed, off.length ? `${quantile(off, 0.5).toFixed(1)} / ${Math.max(...off).toFixed(1)}` : '-']);
    console.log(`${cond.name}: named ${row.named}/${row.clips}, window flags ${row.windowFlags}; insert located ${row.ins.located}/${row.ins.clips}, rejected ${row.ins.rejected}, missed ${row.ins.missed}, not named ${row.ins.notNamed}`);
  }
  const md = [
    '# The content check on genuine taps and on inserts',
    '',
    provenance(),
    '',
    `Per chain ${TRIALS} simulated 4-party meetings (80 s, v2 marks, the legs' content references made from their marked downlinks), ${CLIPS} clips per meeting holding ${CLIP_SPEECH_SEC} s of leg 0's downlink speech (tap: downlink + own voice at 0 dB, then the chain). \`detect\` with the 64 tokens, PROFILE_V2, contentReferences. Command: \`npm run bench:content\` (TRIALS, CLIPS).`,
    '',
    '## Genuine clips',
    '',
    'Verdicts of the right leg: consistent / inconclusive (fewer than 800 bits compared) / inconsistent (the leg not named). Windows flagged: clips where a 5 s window inside the consistent leg fell below 62% (a false alarm: nothing was inserted).',
    '',
    markdownTable(['chain', 'clips', 'right leg named', 'content verdicts', 'agreement median / min', 'clips with a window flagged'], rows),
    '',
    `## Inserts: ${INSERT_SEC} s of another voice carrying the leg's own mark (embedded with the key at the session times it replaces) from the clip's ${INSERT_AT_SEC}th second, through the chain`,
    '',
    'located: the leg named, its content consistent overall, a mismatch window overlapping the insert; rejected: the whole leg\'s content check failed (no leg named); missed: the leg named with no window overlapping the insert; not named: the leg lost. Edge error: |window start - insert start| and |window end - insert end| (the window is 5 s, so a few seconds are expected).',
    '',
    markdownTable(['chain', 'clips', 'located', 'rejected', 'missed', 'not named', 'edge error median / max (s)'], insRows),
    '',
    `Benchmark wall time ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ].join('\n');
  console.log(`wrote ${writeResult('content-check.md', md)}`);
}

await main();
