/** Speech for mark tests: the committed Allison fixture, decoded once per process to 16 kHz mono. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runFfmpeg } from '../../lib/audio/ffmpeg.js';
import { decodeWav } from '../../lib/audio/wav.js';

const cache = new Map<string, Float32Array>();

export async function speech(name = 'allison-1', sampleRate = 16000): Promise<Float32Array> {
  const key = `${name}@${sampleRate}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const path = fileURLToPath(new URL(`../../fixtures/speech/${name}.opus`, import.meta.url));
  const r = await runFfmpeg(['-i', 'pipe:0', '-ar', String(sampleRate), '-ac', '1', '-c:a', 'pcm_f32le', '-f', 'wav', 'pipe:1'], {
    stdin: readFileSync(path),
    inputName: path,
  });
  const x = decodeWav(r.stdout, path).channels[0]!;
  cache.set(key, x);
  return x;
}

export function snrDb(ref: Float32Array, test: Float32Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i]! ** 2;
    n += (test[i]! - ref[i]!) ** 2;
  }
  return 10 * Math.log10(s / n);
}
