// Child process of benchmarks/decode.ts: stream-decodes one file with the compiled library
// (dist/, as shipped; plain node, no TypeScript loader) and prints frames, seconds and this
// process's peak RSS as JSON.
const { decodeStream } = await import(new URL('../dist/lib/index.js', import.meta.url).href);

const [path, rate] = process.argv.slice(2);
if (!path) throw new Error('usage: decode-child.mjs <file> [sampleRate]');
const start = process.hrtime.bigint();
const stream = decodeStream(path, { mono: true, ...(rate ? { sampleRate: Number(rate) } : {}) });
let frames = 0;
let energy = 0;
for await (const block of stream.blocks) {
  const x = block[0];
  frames += x.length;
  for (let i = 0; i < x.length; i++) energy += x[i] * x[i];
}
const fmt = await stream.format;
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ frames, sampleRate: fmt.sampleRate, seconds, energy, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
