/**
 * Attack suite entry point: runs the named experiments against mark v1 and writes their sections
 * into benchmarks/results/attacks-v1.md (other sections are kept).
 *
 *   node --import tsx benchmarks/attacks/run.ts [experiments...] [--quick] [--lengths=120,600] [--clips=60] [--out=path]
 *
 * Experiments: estimate (attack classes 1-2), forge (3), copy (4), strip (5, one section per
 * estimate length), strip-diag (5b), collude (6), collude-strip (6b), tile-snr (per-tile mark SNR). No name: all of them. Run under `nice -n 19`; a full
 * run takes hours on 2 cores, so run experiments one at a time.
 */
import { join } from 'node:path';
import { provenance, writeSection } from './harness.js';
import { defaultCtx, expCollude, expColludeStrip, expCopy, expEstimate, expForge, expStrip, expStripDiag, expTileSnr } from './v1/experiments.js';
import type { Ctx } from './v1/experiments.js';

/** An experiment returns its section, or several named sections. */
const EXPERIMENTS: Record<string, (ctx: Ctx) => Promise<string | Map<string, string>>> = {
  estimate: expEstimate,
  forge: expForge,
  copy: expCopy,
  strip: expStrip,
  'strip-diag': expStripDiag,
  collude: expCollude,
  'collude-strip': expColludeStrip,
  'tile-snr': expTileSnr,
};
const ORDER = ['summary', 'estimate', 'forge', 'copy', 'strip', 'strip-120', 'strip-600', 'strip-3600', 'strip-7200', 'strip-diag', 'collude', 'collude-strip', 'tile-snr'];

const args = process.argv.slice(2);
const flags = new Map(args.filter((a) => a.startsWith('--')).map((a) => {
  const [k, v] = a.slice(2).split('=');
  return [k!, v ?? 'true'] as const;
}));
const names = args.filter((a) => !a.startsWith('--'));
for (const n of names) if (!(n in EXPERIMENTS)) throw new Error(`unknown experiment ${n}; known: ${Object.keys(EXPERIMENTS).join(', ')}`);
const out = flags.get('out') ?? join(process.cwd(), 'benchmarks', 'results', 'attacks-v1.md');
const ctx = defaultCtx((s) => console.log(s), flags.has('quick'));
if (flags.has('lengths')) ctx.lengths = flags.get('lengths')!.split(',').map(Number);
if (flags.has('clips')) ctx.clips = Number(flags.get('clips'));

for (const name of names.length ? names : Object.keys(EXPERIMENTS)) {
  const t0 = Date.now();
  console.log(`== ${name}`);
  const result = await EXPERIMENTS[name]!(ctx);
  const p = provenance();
  const cmd = `node --import tsx benchmarks/attacks/run.ts ${name}${[...flags].filter(([k]) => k !== 'out').map(([k, v]) => ` --${k}${v === 'true' ? '' : `=${v}`}`).join('')}`;
  const header = `Attack suite against mark v1 -- last written ${p.date}, commit ${p.commit}, ${p.machine}, Node ${p.node}. Each section below states its own run and command.\n\n# Attacks on mark v1 (PROFILE_V1), by an adversary without the key\n\nScenario: key = 32 bytes of 7; leg A = token 'leg-A' among 64 registered tokens (leg-A, leg-B, leg-C, leg-04 ... leg-64); the scanner is \`detect(clip, {key, candidates})\` with its defaults (alpha 1e-6 family-wise, 128 decoys); a leg is "named" when it is in result.legs. Code: benchmarks/attacks/ (harness.ts generic; v1/ the attacks and what they know of v1's structure; every library import in earmark.ts).`;
  const sections = typeof result === 'string' ? new Map([[name, result]]) : result;
  for (const [sec, body] of sections) {
    const section = `${body}\n\nRun ${p.date}, commit ${p.commit}, ${p.machine}, Node ${p.node}, ${((Date.now() - t0) / 60000).toFixed(1)} min: \`${cmd}\`\n`;
    writeSection(out, header, ORDER, sec, section);
  }
  console.log(`== ${name} done in ${((Date.now() - t0) / 60000).toFixed(1)} min -> ${out}`);
}
