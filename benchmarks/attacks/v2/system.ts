/**
 * Mark v2 (PROFILE_V2) as the harness's MarkSystem: earmark's own streaming embedder with the v2
 * profile and the library's v2 detector (`detect(..., { profile: PROFILE_V2 })`, defaults: alpha
 * 1e-6 family-wise), both through the shim (../earmark.ts). Whatever the library's v2 detector
 * does internally (key-layer proposals, host binding of the leg layer, an exhaustive fallback),
 * the attacks only see its verdict: the named legs, every candidate's score, the key layer's, and
 * the forgery flag where the detector reports one.
 *
 * The registry's knowledge is passed as a scanning service would: every registered token's
 * connected span (`legSpans`, session seconds) covering the scenario's material (session time
 * SCENARIO.offsetSec to SCENARIO.offsetSec + MATERIAL_MAX_SEC, plus a minute): the v2 detector's
 * exhaustive fallback (for clips whose key layer is stripped) searches these spans only.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContentReferenceWriter, DetectorCache, Embedder, PROFILE_V2, decodePayload, detect, parseContentReference, payloadId, serializeContentReference } from '../earmark.js';
import type { ContentReference, DetectOptions, MarkKey } from '../earmark.js';
import { embedStudy } from '../../study.js';
import { CACHE_DIR, RATE, SCENARIO, concat, loopSlice, materialVoices, registry, rng } from '../harness.js';
import type { MarkSystem } from '../harness.js';

/** Longest material any v2 experiment uses (s): the registry's spans cover it. */
export const MATERIAL_MAX_SEC = 7200;

/** A leg's connected span in session seconds (DetectOptions.legSpans, added to the library with the v2 fallback search). */
export interface LegSpan {
  fromSec: number;
  toSec: number;
}

/** The scenario registry's spans: every candidate connected from session 0 to the end of the material plus a minute. */
export function scenarioSpans(candidates: readonly string[], toSec = SCENARIO.offsetSec + MATERIAL_MAX_SEC + 60): Record<string, LegSpan> {
  return Object.fromEntries(candidates.map((t) => [t, { fromSec: 0, toSec }]));
}

/** Registered tokens whose content reference is made from their own marked downlink (the others': the unmarked content, see scenarioReferences). */
const MARKED_REFERENCES = ['leg-A', 'leg-B', 'leg-C'];

/**
 * What the scenario's registry holds of each leg's content (lib/mark/content-ref.ts): the bridge's
 * reference of the leg's downlink over the whole material (session SCENARIO.offsetSec onwards,
 * MATERIAL_MAX_SEC). Legs A, B and C (the framed leg, the same-content source, the third colluder):
 * the reference of their own marked downlink, as the bridge makes it. The 61 others carry the same
 * speech under their own marks; their references are made once from the unmarked speech (a mark at
 * -25 dB moves a few bits with small projections; legs A-C measure the real thing). Cached on disk.
 */
async function scenarioReferences(sys: MarkSystem, key: MarkKey, log: (s: string) => void): Promise<Map<string, ContentReference>> {
  const voices = await materialVoices();
  const total = MATERIAL_MAX_SEC * RATE;
  mkdirSync(CACHE_DIR, { recursive: true });
  const build = (token: string, marked: boolean): ContentReference => {
    const p = join(CACHE_DIR, `ref-${sys.cacheTag!()}-${marked ? token : 'unmarked'}-${SCENARIO.offsetSec}-${MATERIAL_MAX_SEC}.ecr`);
    if (existsSync(p)) return parseContentReference(readFileSync(p));
    const t0 = Date.now();
    const w = new ContentReferenceWriter({ key, token: marked ? token : 'unmarked', sampleRate: RATE, offsetSec: SCENARIO.offsetSec });
    const emb = marked ? sys.embedder(token, SCENARIO.offsetSec) : null;
    const block = 16 * RATE;
    for (let i = 0; i < total; i += block) {
      const x = loopSlice(voices, i, Math.min(block, total - i));
      w.push(emb ? emb.process(x) : x);
    }
    if (emb) w.push(emb.flush());
    const ref = w.finish();
    writeFileSync(p, serializeContentReference(ref));
    log(`  content reference of ${marked ? token : 'the unmarked material'} (${MATERIAL_MAX_SEC} s) built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    return ref;
  };
  const unmarked = build('unmarked', false);
  const out = new Map<string, ContentReference>();
  for (const t of registry()) out.set(t, MARKED_REFERENCES.includes(t) ? build(t, true) : { ...unmarked, token: t });
  return out;
}

export function markV2(key: MarkKey, opts: { spans?: (candidates: readonly string[]) => Record<string, LegSpan>; content?: boolean; log?: (s: string) => void } = {}): MarkSystem {
  // Tables of the 64 candidates and the decoys, kept across scans (as a scanning service would).
  const cache = new DetectorCache();
  const spansOf = opts.spans ?? ((c: readonly string[]) => scenarioSpans(c));
  let tag: string | undefined;
  let refs: Map<string, ContentReference> | undefined;
  const content = opts.content ?? true;
  const study = embedStudy();
  return {
    name: 'v2',
    async prepare() {
      if (content) refs ??= await scenarioReferences(this, key, opts.log ?? ((s) => console.log(s)));
    },
    embedder(token, offsetSec) {
      const e = new Embedder({ key, token, offsetSec, sampleRate: RATE, channels: 1, profile: PROFILE_V2, ...study });
      return { process: (x) => e.process([x])[0]!, flush: () => e.flush()[0]! };
    },
    embed(x, token, offsetSec) {
      const e = this.embedder(token, offsetSec);
      return concat([e.process(x), e.flush()]);
    },
    scan(clip, candidates) {
      if (content && !refs) throw new Error('markV2: prepare() builds the content references before the first scan');
      const o: DetectOptions = { key, candidates, profile: PROFILE_V2, cache, legSpans: spansOf(candidates), ...(refs ? { contentReferences: new Map(candidates.filter((t) => refs!.has(t)).map((t) => [t, refs!.get(t)!])) } : {}) };
      const r = detect({ samples: clip, sampleRate: RATE }, o);
      const offsets = new Map<string, number>();
      for (const l of r.legs) {
        const sg = [...l.segments].sort((a, b) => a.pValue - b.pValue)[0];
        if (sg) offsets.set(l.token, sg.sessionOffsetSec - sg.startSec * l.speed);
      }
      return {
        named: r.legs.map((l) => l.token),
        scores: r.scores.map((s) => ({ token: s.token, z: s.score, pValue: s.pValue })),
        offsets,
        ...(r.keyLayer ? { keyLayer: { score: r.keyLayer.score, pValue: r.keyLayer.pValue } } : {}),
        ...(r.forgery ? { forgery: { suspected: r.forgery.suspected, reason: r.forgery.reason } } : {}),
        ...(r.exhaustive ? { fallbackSec: r.exhaustive.seconds } : {}),
        namedContent: new Map(r.legs.flatMap((l) => (l.content && l.content.bits > 0 ? [[l.token, l.content.agreement] as const] : []))),
        ...(r.contentRejected ? { contentRejected: r.contentRejected.map((l) => ({ token: l.token, z: l.score, agreement: l.content!.agreement })) } : {}),
      };
    },
    payload(clip) {
      const r = decodePayload(clip, RATE, key, { cache });
      return { id: r.payloadId, crcOk: r.crcOk, pilotZ: r.pilotZ };
    },
    payloadIdOf: (token) => payloadId(key, token),
    // The embedder's output on 4 s of a fixed probe (noise bursts with a loudness contour), hashed:
    // material generated before the library's embedder changed is not reused.
    cacheTag() {
      if (tag) return tag;
      const r = rng(12345);
      const x = Float32Array.from({ length: 4 * RATE }, (_, i) => (r() - 0.5) * 0.2 * (1 + Math.sin(i / 900)));
      const y = this.embed(x, 'leg-A', 1234.5678);
      tag = createHash('sha256').update(Buffer.from(y.buffer, y.byteOffset, y.byteLength)).digest('hex').slice(0, 10);
      return tag;
    },
  };
}
