/**
 * The golden set: `earmark scan --json --html` of clips made from the committed fixtures, with a
 * fixed key (test/golden/golden.key) and a committed registry (test/golden/registry). It guards
 * restructures that must keep every output identical (issue 12): `npm run golden` rewrites
 * test/golden/expected/ and golden.test.ts compares every report byte for byte.
 *
 * Clips: one simulated 4-party meeting (360 s, seed 1207; participant 0 on a recorder leg, tapped
 * with their own voice; every leg marked with its registry token at its own session offset), cut
 * into the robustness benchmark's codec conditions (benchmarks/robustness.ts), a two-leg splice,
 * a cut, a reorder, a 350 s tap with a cut (scanned in pieces), a blind-payload read without the
 * registry, unmarked speech and audio marked under another key. Everything is deterministic given
 * the ffmpeg build (the meeting's uplink codecs and the conditions' chains run ffmpeg), so the
 * golden test pins the binary of @ffmpeg-installer/ffmpeg, which package-lock.json fixes.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFfmpeg } from '../../lib/audio/ffmpeg.js';
import { writeAudioFile } from '../../lib/audio/encode.js';
import type { AudioBuffer } from '../../lib/audio/types.js';
import { decodeWav } from '../../lib/audio/wav.js';
import { applyChain, simulateMeeting } from '../../lib/channel/index.js';
import { PROFILE_V2, embedAudio, keyFromBytes, parseKey } from '../../lib/mark/index.js';
import type { MarkKey } from '../../lib/mark/index.js';
import { openRegistry } from '../../lib/registry/registry.js';
import { cli } from '../helpers/cli.js';

export const GOLDEN_DIR = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(GOLDEN_DIR, '..', '..');
export const EXPECTED_DIR = join(GOLDEN_DIR, 'expected');
const KEY_FILE = join(GOLDEN_DIR, 'golden.key');
const REGISTRY_DIR = join(GOLDEN_DIR, 'registry');
const RATE = 16000;
const MEETING_SEC = 360;
const SEED = 1207;
/** Session offsets (s) of the meeting's four legs at the first sample. */
const OFFSETS = [600, 1200, 30000, 45000];

/** The ffmpeg the golden clips were made with (package-lock.json pins @ffmpeg-installer/ffmpeg). */
export function goldenFfmpeg(): string {
  const require = createRequire(import.meta.url);
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

export function goldenKey(): MarkKey {
  return parseKey(readFileSync(KEY_FILE), KEY_FILE);
}

/** A key that is not the golden key (for the other-key negative). */
function otherKey(): MarkKey {
  return keyFromBytes(createHash('sha256').update('earmark golden: another organisation').digest());
}

async function decodeSpeech(name: string): Promise<Float32Array> {
  const path = join(ROOT, 'fixtures', 'speech', `${name}.opus`);
  const r = await runFfmpeg(['-i', 'pipe:0', '-ar', String(RATE), '-ac', '1', '-c:a', 'pcm_f32le', '-f', 'wav', 'pipe:1'], { stdin: readFileSync(path), inputName: path });
  return decodeWav(r.stdout, path).channels[0]!;
}

function mono(samples: Float32Array): AudioBuffer {
  return { channels: [samples], sampleRate: RATE };
}

function span(x: Float32Array, a: number, b: number): Float32Array {
  return x.slice(Math.round(a * RATE), Math.round(b * RATE));
}

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}

export interface GoldenClip {
  name: string;
  /** What the clip is and what the scan should find. */
  description: string;
  /** Clip file name in the work directory. */
  file: string;
  /** Scan with the registry (true) or without (blind payload). */
  registry: boolean;
}

/** The robustness benchmark's conditions, each on its own stretch of the tap (clip seconds). */
const CONDITIONS: { name: string; chain: string; from: number; len: number }[] = [
  { name: 'clean-5s', chain: '', from: 40, len: 5 },
  { name: 'opus16-5s', chain: 'opus:16', from: 50, len: 5 },
  { name: 'opus24-5s', chain: 'opus:24', from: 60, len: 5 },
  { name: 'aac64-5s', chain: 'aac:64', from: 70, len: 5 },
  { name: 'aac96-5s', chain: 'aac:96', from: 80, len: 5 },
  { name: 'mp3-64-5s', chain: 'mp3:64', from: 90, len: 5 },
  { name: 'mp3-128-5s', chain: 'mp3:128', from: 100, len: 5 },
  { name: 'g711mu-mp3-128-10s', chain: 'g711:mu,mp3:128', from: 110, len: 10 },
  { name: 'amrnb12.2-aac96-30s', chain: 'amrnb:12.2,aac:96', from: 120, len: 30 },
  { name: 'amrnb7.95-aac64-30s', chain: 'amrnb:7.95,aac:64', from: 150, len: 30 },
  { name: 'speed0.97-30s', chain: 'speed:0.97', from: 180, len: 30 },
  { name: 'speed1.03-30s', chain: 'speed:1.03', from: 200, len: 30 },
  { name: 'tempo0.98-30s', chain: 'tempo:0.98', from: 220, len: 30 },
  { name: 'tempo1.02-30s', chain: 'tempo:1.02', from: 240, len: 30 },
  { name: 'room0.4-18dB-aac64-30s', chain: 'room:0.4:18,aac:64', from: 260, len: 30 },
];

/**
 * Make every golden clip in `dir` (registry copied there too, so a scan never touches the
 * committed one). Returns the clips in a fixed order.
 */
export async function makeGoldenClips(dir: string): Promise<GoldenClip[]> {
  const key = goldenKey();
  const registry = await openRegistry(REGISTRY_DIR);
  const legs = await registry.legs();
  await registry.close();
  const meetingLegs = legs.filter((l) => l.meeting === 'golden-m1');
  if (meetingLegs.length !== 4) throw new Error(`golden registry: expected 4 legs of golden-m1, found ${meetingLegs.length}`);
  const tokens = meetingLegs.map((l) => l.token);
  const voices = new Map<string, Float32Array>();
  for (const v of ['allison-1', 'allison-2', 'allison-3', 'espeak-gb-f3', 'espeak-us-m3', 'espeak-rp-m7', 'espeak-us-f4']) voices.set(v, await decodeSpeech(v));
  const speech = (...names: string[]): AudioBuffer[] => names.map((n) => mono(voices.get(n)!));
  const sim = await simulateMeeting({
    participants: [
      { name: 'p0', leg: 'recorder', speech: speech('allison-1'), levelDb: 0 },
      { name: 'p1', leg: 'app', speech: speech('espeak-gb-f3', 'espeak-us-m3'), levelDb: 1 },
      { name: 'p2', leg: 'app', speech: speech('allison-2'), levelDb: -1 },
      { name: 'p3', leg: 'app', speech: speech('espeak-rp-m7', 'allison-3'), levelDb: 2 },
    ],
    durationSec: MEETING_SEC,
    seed: SEED,
    tap: { leg: 0 },
    hook: (leg, d) => embedAudio(d, { key, token: tokens[leg]!, offsetSec: OFFSETS[leg]! }),
  });
  const tap = sim.tap!.channels[0]!;
  const clips: GoldenClip[] = [];
  const add = async (name: string, description: string, audio: AudioBuffer, ext: 'wav' | 'm4a', registry = true): Promise<void> => {
    const file = `${name}.${ext}`;
    await writeAudioFile(join(dir, file), audio, ext === 'm4a' ? { bitrateKbps: 64 } : { wavFormat: 'float32' });
    clips.push({ name, description, file, registry });
  };
  for (const c of CONDITIONS) {
    const clip = mono(span(tap, c.from, c.from + c.len));
    const out = c.chain ? await applyChain(clip, c.chain, { seed: SEED }) : clip;
    await add(c.name, `tap of leg p0 (session ${OFFSETS[0]! + c.from} s), ${c.chain || 'no codec'}`, out, 'wav');
  }
  const d1 = sim.downlinks[1]!.channels[0]!;
  await add('splice-two-legs', 'leg p0 tap 10-30 s, then leg p1 downlink 100-115 s; AAC 64k', mono(concat(span(tap, 10, 30), span(d1, 100, 115))), 'm4a');
  await add('cut-8s', 'leg p0 tap 30-70 s with 45-53 s cut out; AAC 64k', mono(concat(span(tap, 30, 45), span(tap, 53, 70))), 'm4a');
  await add('reorder', 'leg p0 tap 200-215 s, then 180-195 s; AAC 64k', mono(concat(span(tap, 200, 215), span(tap, 180, 195))), 'm4a');
  await add('long-350s-cut', 'leg p0 tap 0-170 s and 180-360 s (350 s, scanned in pieces); AAC 64k', mono(concat(span(tap, 0, 170), span(tap, 180, 360))), 'm4a');
  await add('payload-no-registry', 'leg p0 downlink 100-135 s, AAC 64k, scanned without a registry (blind payload)', mono(span(sim.downlinks[0]!.channels[0]!, 100, 135)), 'm4a', false);
  await add('negative-unmarked', "participant p0's own uplink 20-40 s (never on a marked downlink); AAC 64k", mono(span(sim.uplinks[0]!, 20, 40)), 'm4a');
  const foreign = embedAudio(mono(span(voices.get('espeak-us-f4')!, 5, 35)), { key: otherKey(), token: tokens[0]!, offsetSec: 300 });
  await add('negative-other-key', "leg p0's token marked under another key; AAC 64k", foreign, 'm4a');
  // Mark v2 (issue 13): a leg's v2 downlink, and a v2 mark of a token the registry does not hold
  // (the key-level layer without any candidate's own layer: the report's forgery check).
  const v2 = (token: string, from: number): AudioBuffer => embedAudio(mono(span(voices.get('espeak-us-m3')!, from, from + 20)), { key, token, offsetSec: 1500 + from, profile: PROFILE_V2 });
  await add('v2-leg-aac64-20s', "leg p1's token marked with mark v2 (espeak-us-m3 0-20 s, session 1500 s); AAC 64k", v2(tokens[1]!, 0), 'm4a');
  await add('v2-not-in-registry', 'a token the registry does not hold, marked with mark v2 under the golden key (key-level layer only for every candidate); AAC 64k', v2('not-a-registered-leg', 20), 'm4a');
  cpSync(REGISTRY_DIR, join(dir, 'registry'), { recursive: true });
  copyFileSync(`${REGISTRY_DIR}.signing-key`, join(dir, 'registry.signing-key'));
  chmodSync(join(dir, 'registry.signing-key'), 0o600);
  copyFileSync(KEY_FILE, join(dir, 'golden.key'));
  chmodSync(join(dir, 'golden.key'), 0o600);
  return clips;
}

export interface GoldenOutput {
  json: string;
  html: string;
  code: number;
}

/** `earmark scan <clip> --key golden.key [--registry registry] --json --html <clip>.html`, with the work directory's path replaced by `$WORK`. */
export async function scanGolden(dir: string, clip: GoldenClip): Promise<GoldenOutput> {
  const htmlPath = join(dir, `${clip.name}.html`);
  const argv = ['scan', join(dir, clip.file), '--key', join(dir, 'golden.key'), ...(clip.registry ? ['--registry', join(dir, 'registry')] : []), '--json', '--html', htmlPath];
  const r = await cli(argv);
  if (r.code !== 0) throw new Error(`golden scan of ${clip.name} exited ${r.code}: ${r.stderr}`);
  const norm = (s: string): string => s.split(dir).join('$WORK');
  return { json: norm(r.stdout), html: norm(readFileSync(htmlPath, 'utf8')), code: r.code };
}

/** Create the golden key and registry (once; they are committed). */
export async function createGoldenInputs(): Promise<void> {
  const { serializeKey } = await import('../../lib/mark/index.js');
  writeFileSync(KEY_FILE, serializeKey(keyFromBytes(createHash('sha256').update('earmark golden key (test only)').digest())), { mode: 0o600 });
  let t = Date.parse('2026-12-02T09:00:00Z');
  const registry = await openRegistry(REGISTRY_DIR, { now: () => new Date((t += 1000)) });
  try {
    await registry.init();
    const add = (meeting: string, participant: string, leg: string, device?: string): Promise<unknown> =>
      registry.addLeg({ meeting, participant, leg, ...(device ? { device } : {}) });
    await add('golden-m1', 'Gen. A', 'pstn', 'hotel line');
    await add('golden-m1', 'Col. B', 'app');
    await add('golden-m1', 'Lt. Col. C', 'browser');
    await add('golden-m1', 'Maj. D', 'sip');
    await add('golden-m2', 'Capt. E', 'app');
    await add('golden-m2', 'Sgt. F', 'recorder');
  } finally {
    await registry.close();
  }
}
