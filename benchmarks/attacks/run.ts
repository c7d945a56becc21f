/**
 * Attack suite entry point: runs the named experiments against a mark and writes their sections
 * into its results file (other sections are kept).
 *
 *   node --import tsx benchmarks/attacks/run.ts [--mark=v1|v2] [experiments...] [--quick] [--lengths=120,600] [--clips=60] [--from=0] [--levels=25,20] [--modes=average,switch] [--candidates=8] [--classes=contour,same] [--content=off] [--out=path]
 *
 * --mark=v1 (default) -> benchmarks/results/attacks-v1.md. Experiments: estimate (attack classes
 * 1-2), forge (3), copy (4), strip (5, one section per estimate length), strip-diag (5b), collude
 * (6), collude-strip (6b), tile-snr (per-tile mark SNR).
 * --mark=v2 -> benchmarks/results/attacks-v2.md. Experiments (benchmarks/attacks/v2/experiments.ts):
 * estimate (key layer by fold / rank-one, leg layer single shot), forge (framing, >= 100 clips),
 * strip (removal within 25 dB, 300 clips), collude (averages, minimum, switching).
 * No experiment named: all of the mark's. Run under `nice -n 19`; a full run takes hours on 2
 * cores, so run experiments one at a time.
 */
import { join } from 'node:path';
import { embedStudyText } from '../study.js';
import { provenance, scenarioKey, writeSection } from './harness.js';
import * as v1 from './v1/experiments.js';
import * as v2 from './v2/experiments.js';
import { markV2 } from './v2/system.js';

interface MarkSuite<C> {
  experiments: Record<string, (ctx: C) => Promise<string | Map<string, string>>>;
  order: string[];
  out: string;
  defaultCtx: (log: (s: string) => void, quick: boolean) => C;
  header: string;
}

const SCENARIO_TEXT = (scanner: string): string =>
  `Scenario: key = 32 bytes of 7; leg A = token 'leg-A' among 64 registered tokens (leg-A, leg-B, leg-C, leg-04 ... leg-64); the scanner is ${scanner}; a leg is "named" when it is in result.legs.`;

const SUITES: Record<'v1' | 'v2', MarkSuite<v1.Ctx> | MarkSuite<v2.Ctx>> = {
  v1: {
    experiments: {
      estimate: v1.expEstimate,
      forge: v1.expForge,
      copy: v1.expCopy,
      strip: v1.expStrip,
      'strip-diag': v1.expStripDiag,
      collude: v1.expCollude,
      'collude-strip': v1.expColludeStrip,
      'tile-snr': v1.expTileSnr,
    },
    order: ['summary', 'estimate', 'forge', 'copy', 'strip', 'strip-120', 'strip-600', 'strip-3600', 'strip-7200', 'strip-diag', 'collude', 'collude-strip', 'tile-snr'],
    out: 'attacks-v1.md',
    defaultCtx: v1.defaultCtx,
    header: `# Attacks on mark v1 (PROFILE_V1), by an adversary without the key\n\n${SCENARIO_TEXT('`detect(clip, {key, candidates})` with its defaults (alpha 1e-6 family-wise, 128 decoys)')} Code: benchmarks/attacks/ (harness.ts generic; v1/ the attacks and what they know of v1's structure; every library import in earmark.ts).`,
  },
  v2: {
    experiments: { estimate: v2.expEstimate, forge: v2.expForge, strip: v2.expStrip, collude: v2.expCollude },
    order: ['summary', 'estimate', 'forge', 'strip', 'collude'],
    out: 'attacks-v2.md',
    defaultCtx: v2.defaultCtx,
    header: `# Attacks on mark v2 (PROFILE_V2), by an adversary without the key\n\n${SCENARIO_TEXT("`detect(clip, {key, candidates, profile: PROFILE_V2, legSpans, contentReferences})` with its other defaults (alpha 1e-6 family-wise); legSpans = every token connected from session 0 s to the end of the scenario's material plus a minute (benchmarks/attacks/v2/system.ts), which bounds the v2 detector's exhaustive fallback search; contentReferences = the registry's content reference of every token over the material (system.ts; sections run before content references existed, and runs with --content=off, say so)")} Code: benchmarks/attacks/ (harness.ts generic; v2/ the attacks and what they know of v2's structure, reusing v1/'s estimators for the key layer; every library import in earmark.ts). Mark v1's results: attacks-v1.md.${embedStudyText()}`,
  },
};

const args = process.argv.slice(2);
const flags = new Map(
  args
    .filter((a) => a.startsWith('--'))
    .map((a) => {
      const [k, v] = a.slice(2).split('=');
      return [k!, v ?? 'true'] as const;
    }),
);
const markName = flags.get('mark') ?? 'v1';
if (markName !== 'v1' && markName !== 'v2') throw new Error(`unknown mark ${markName}; known: v1, v2`);
const suite = SUITES[markName] as MarkSuite<v1.Ctx & v2.Ctx>;
const names = args.filter((a) => !a.startsWith('--'));
for (const n of names) if (!(n in suite.experiments)) throw new Error(`unknown ${markName} experiment ${n}; known: ${Object.keys(suite.experiments).join(', ')}`);
const out = flags.get('out') ?? join(process.cwd(), 'benchmarks', 'results', suite.out);
const ctx = suite.defaultCtx((s) => console.log(s), flags.has('quick'));
if (flags.has('lengths')) ctx.lengths = flags.get('lengths')!.split(',').map(Number);
if (flags.has('clips')) ctx.clips = Number(flags.get('clips'));
if (flags.has('from') && markName === 'v2') (ctx as v2.Ctx).clipFrom = Number(flags.get('from'));
if (flags.has('diag') && markName === 'v2') (ctx as v2.Ctx).diag = flags.get('diag')!;
if (flags.has('levels') && markName === 'v2') (ctx as v2.Ctx).levels = flags.get('levels')!.split(',').map(Number);
if (flags.has('modes') && markName === 'v2') (ctx as v2.Ctx).modes = flags.get('modes')!.split(',');
if (flags.get('content') === 'off' && markName === 'v2') ctx.mark = markV2(scenarioKey(), { content: false });
if (flags.has('classes') && markName === 'v2') (ctx as v2.Ctx).classes = flags.get('classes')!.split(',');
if (flags.has('candidates') && markName === 'v2') (ctx as v2.Ctx).candidates = Number(flags.get('candidates'));

for (const name of names.length ? names : Object.keys(suite.experiments)) {
  const t0 = Date.now();
  console.log(`== ${markName} ${name}`);
  await ctx.mark.prepare?.();
  const result = await suite.experiments[name]!(ctx);
  const p = provenance();
  const cmd = `node --import tsx benchmarks/attacks/run.ts ${name}${[...flags].filter(([k]) => k !== 'out').map(([k, v]) => ` --${k}${v === 'true' ? '' : `=${v}`}`).join('')}`;
  const header = `Attack suite against mark ${markName} -- last written ${p.date}, commit ${p.commit}, ${p.machine}, Node ${p.node}. Each section below states its own run and command.\n\n${suite.header}`;
  const sections = typeof result === 'string' ? new Map([[name, result]]) : result;
  for (const [sec, body] of sections) {
    const section = `${body}\n\nRun ${p.date}, commit ${p.commit}, ${p.machine}, Node ${p.node}, ${((Date.now() - t0) / 60000).toFixed(1)} min: \`${cmd}\`\n`;
    writeSection(out, header, suite.order, sec, section);
  }
  console.log(`== ${markName} ${name} done in ${((Date.now() - t0) / 60000).toFixed(1)} min -> ${out}`);
}
