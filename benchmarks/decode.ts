/**
 * Decode throughput and memory on a 38-minute leaked-call-like file (AAC in MP4, 48 kHz stereo,
 * 128 kbit/s, speech from the committed fixtures looped), beside ffmpeg alone decoding the same
 * file. Writes benchmarks/results/decode.md.
 *
 *   npm run bench:decode
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFile } from '../lib/audio/decode.js';
import { resolveFfmpeg, runFfmpeg } from '../lib/audio/ffmpeg.js';
import { encodeWav } from '../lib/audio/wav.js';
import { markdownTable, measureProcess, provenance, root, workDir, writeResult } from './lib.js';

const DURATION_SEC = 38 * 60;
const speechDir = join(root, 'fixtures', 'speech');

async function makeSource(): Promise<string> {
  const out = join(workDir, 'leak-38min.m4a');
  if (existsSync(out)) return out;
  const files = readdirSync(speechDir).filter((f) => /\.(flac|opus|ogg|wav)$/.test(f)).sort();
  if (files.length === 0) throw new Error(`no speech sources in ${speechDir}`);
  const parts: Float32Array[] = [];
  for (const f of files) parts.push((await decodeFile(join(speechDir, f), { sampleRate: 16000, mono: true })).channels[0]!);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const speech = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    speech.set(p, at);
    at += p.length;
  }
  const wav = join(workDir, 'speech-all.wav');
  writeFileSync(wav, encodeWav({ channels: [speech], sampleRate: 16000 }, { sampleFormat: 'pcm16' }));
  await runFfmpeg(['-y', '-stream_loop', '-1', '-i', wav, '-t', String(DURATION_SEC), '-ar', '48000', '-ac', '2', '-c:a', 'aac', '-b:a', '128k', out]);
  return out;
}

const source = await makeSource();
// A 1-minute cut of the same file: peak RSS must not grow with duration.
const shortSource = join(workDir, 'leak-1min.m4a');
if (!existsSync(shortSource)) await runFfmpeg(['-y', '-i', source, '-t', '60', '-c', 'copy', shortSource]);
if (!existsSync(join(root, 'dist', 'lib', 'index.js'))) throw new Error('run `npm run build` first (the benchmark measures the compiled library)');
const ffmpeg = resolveFfmpeg().path;
const child = join(root, 'benchmarks', 'decode-child.mjs');

interface Row {
  what: string;
  wallSec: number;
  peakRssMB: number;
  durationSec: number;
}
const rows: Row[] = [];
const ff = await measureProcess(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', source, '-f', 'f32le', '-y', '/dev/null']);
rows.push({ what: 'ffmpeg alone, 38 minutes (AAC → f32le, native rate, to /dev/null)', wallSec: ff.wallSec, peakRssMB: ff.peakRssMB, durationSec: DURATION_SEC });
for (const [file, seconds, label] of [
  [shortSource, 60, '1-minute cut'],
  [source, DURATION_SEC, '38 minutes'],
] as const) {
  for (const rate of [undefined, 16000]) {
    const r = await measureProcess(process.execPath, [child, file, ...(rate ? [String(rate)] : [])]);
    if (r.code !== 0) throw new Error(`decode child failed: ${r.stderr}`);
    const info = JSON.parse(r.stdout) as { frames: number; sampleRate: number; maxRssMB: number };
    const decodedSec = info.frames / info.sampleRate;
    if (Math.abs(decodedSec - seconds) > 1) throw new Error(`decoded ${decodedSec} s, expected ${seconds}`);
    rows.push({
      what: `earmark decodeStream, ${label}, mono${rate ? `, resampled to ${rate} Hz` : ', 48 kHz'}`,
      wallSec: r.wallSec,
      peakRssMB: info.maxRssMB,
      durationSec: seconds,
    });
  }
}

const table = markdownTable(
  ['decoder', 'wall time (s)', 'x realtime', 'peak RSS (MB)'],
  rows.map((r) => [r.what, r.wallSec.toFixed(2), (r.durationSec / r.wallSec).toFixed(0), r.peakRssMB.toFixed(1)]),
);
const md = `# Decode benchmark

38-minute AAC-LC file (MP4, 48 kHz stereo, 128 kbit/s; committed speech fixtures looped), decoded
start to end, and a 1-minute cut of it. Peak RSS of the earmark rows is the Node process
(process.resourceUsage().maxRSS, which includes Node's own ≈45 MB baseline); the ffmpeg child it
spawns has its own, shown in the ffmpeg-alone row. Wall time includes process start-up.
${provenance()}

${table}

Command: \`npm run build && npm run bench:decode\`
`;
console.log(md);
console.log(`wrote ${writeResult('decode.md', md)}`);
