/**
 * Blind payload benchmark (issue 3): how often `decodePayload` reads the right 32-bit id, a wrong
 * one, or none, from taps of simulated meetings (leg 0's marked downlink + own voice, through
 * wideband chains), by length of downlink speech; false ids on unmarked speech and on audio
 * marked under another key; decode speed. Writes benchmarks/results/payload.md.
 *
 * Environment: TRIALS (meetings per condition, default 6), CLIPS (clips per meeting and length,
 * default 2), NEG_CLIPS (negative clips per kind, default 40), CONDITIONS (comma list of names or chains).
 */
import { applyChain, randomStream } from '../lib/channel/index.js';
import { decodePayload, embedAudio, generateKey, keyFromBytes, payloadId } from '../lib/mark/index.js';
import { markdownTable, provenance, writeResult } from './lib.js';
import { RATE, VOICES, benchMeeting, loadVoices } from './meeting.js';

const TRIALS = Number(process.env['TRIALS'] ?? 6);
const CLIPS = Number(process.env['CLIPS'] ?? 2);
const NEG_CLIPS = Number(process.env['NEG_CLIPS'] ?? 40);
const LENGTHS = [20, 30, 60];
const MEETING_SEC = 110;
const CONDITIONS = [
  { name: 'clean', chain: '', timeFactor: 1 },
  { name: 'Opus 24k', chain: 'opus:24', timeFactor: 1 },
  { name: 'AAC 64k', chain: 'aac:64', timeFactor: 1 },
  { name: 'MP3 64k', chain: 'mp3:64', timeFactor: 1 },
  { name: 'speed 1.03', chain: 'speed:1.03', timeFactor: 1.03 },
  { name: 'tempo 0.98', chain: 'tempo:0.98', timeFactor: 0.98 },
];

async function main(): Promise<void> {
  const started = performance.now();
  const key = keyFromBytes(new Uint8Array(32).fill(7));
  const voices = await loadVoices();
  const rows: (string | number)[][] = [];
  let decodeSec = 0;
  let audioSec = 0;
  const wanted = process.env['CONDITIONS']?.split(',').map((x) => x.trim());
  for (const [ci, cond] of CONDITIONS.entries()) {
    if (wanted && !wanted.includes(cond.name) && !wanted.includes(cond.chain)) continue;
    const cells = LENGTHS.map(() => ({ right: 0, wrong: 0, none: 0 }));
    for (let trial = 0; trial < TRIALS; trial++) {
      const seed = 5000 + 100 * ci + trial;
      const m = await benchMeeting({ seed, stream: 'bench/payload', chain: cond.chain, key, voices, meetingSec: MEETING_SEC });
      const tap = m.sim.tap!;
      const x = tap.channels[0]!;
      const want = payloadId(key, m.tokens[0]!);
      for (const [li, L] of LENGTHS.entries()) {
        for (let c = 0; c < CLIPS; c++) {
          const span = m.speechSpan(L);
          if (!span) continue;
          const a = Math.round((span[0] / cond.timeFactor) * tap.sampleRate);
          const b = Math.min(x.length, Math.round((span[1] / cond.timeFactor) * tap.sampleRate));
          const t0 = performance.now();
          const r = decodePayload({ channels: [x.subarray(a, b)], sampleRate: tap.sampleRate }, { key });
          decodeSec += (performance.now() - t0) / 1000;
          audioSec += (b - a) / tap.sampleRate;
          const cell = cells[li]!;
          if (r.payloadId === null) cell.none++;
          else if (r.payloadId === want) cell.right++;
          else cell.wrong++;
        }
      }
    }
    rows.push([cond.name, ...cells.map((c) => `${c.right}/${c.right + c.wrong + c.none} right, ${c.wrong} wrong`)]);
    console.log(`${cond.name}: ${rows[rows.length - 1]!.slice(1).join(' | ')}`);
  }

  // Negatives: unmarked speech, and speech marked under another key (30 s each).
  const rnd = randomStream(77, 'bench/payload-negatives');
  const otherKey = generateKey();
  const neg = { unmarked: 0, otherKey: 0 };
  for (let i = 0; i < NEG_CLIPS; i++) {
    const v = voices.get(VOICES[i % VOICES.length]!)!;
    const s = Math.floor(rnd.between(0, v.length / RATE - 31) * RATE);
    let clip: Float32Array = v.slice(s, s + 30 * RATE);
    if (i % 2) clip = (await applyChain({ channels: [clip], sampleRate: RATE }, 'aac:64')).channels[0]!;
    if (decodePayload({ channels: [clip], sampleRate: RATE }, { key }).payloadId !== null) neg.unmarked++;
    const marked = embedAudio({ channels: [clip], sampleRate: RATE }, { key: otherKey, token: `neg-${i}` }).channels[0]!;
    if (decodePayload({ channels: [marked], sampleRate: RATE }, { key }).payloadId !== null) neg.otherKey++;
  }

  const md = [
    '# Blind payload (issue 3)',
    '',
    provenance(),
    '',
    `32-bit payload id + CRC-8 read without a registry (\`decodePayload\`). Each condition: ${TRIALS} simulated 4-party`,
    `meetings (${MEETING_SEC} s), tap = leg 0's marked downlink + its own voice, then the chain; ${CLIPS} clips per meeting and`,
    'length, each starting at a random place and holding L s of downlink speech. Cells: right id / clips, and',
    'clips where a wrong id passed the check code (every other clip reported no id).',
    '',
    markdownTable(['condition', ...LENGTHS.map((L) => `${L} s of downlink speech`)], rows),
    '',
    `Negatives, 30 s clips (half through AAC 64k): ids reported on unmarked speech ${neg.unmarked}/${NEG_CLIPS}; on speech marked`,
    `under another key ${neg.otherKey}/${NEG_CLIPS}.`,
    '',
    `Decode speed, one core: ${(audioSec / decodeSec).toFixed(0)}x realtime over ${audioSec.toFixed(0)} s of clips.`,
    '',
    `Benchmark wall time ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ].join('\n');
  console.log(`wrote ${writeResult('payload.md', md)}`);
}

await main();
