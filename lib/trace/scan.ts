/**
 * The scan pipeline behind `earmark scan`: intake (hash, probe) → decode to the analysis rate →
 * candidates (registry, meeting filter, explicit tokens) → informed detection → attribution
 * (registry facts, inclusion proofs, timeline edits, verdict) → report. The evidence file is only
 * read; its SHA-256 is taken at intake and again at the end.
 */
import { decodeFile } from '../audio/decode.js';
import { probeFile, sha256File } from '../audio/probe.js';
import { InputError } from '../errors.js';
import { DETECT_DEFAULTS, DetectorCache, detect } from '../mark/detect/index.js';
import type { DetectOptions, DetectResult } from '../mark/detect/index.js';
import { ANALYSIS_RATE } from '../mark/features/analysis.js';
import { ContentRefError, contentReferenceDigest, mergeContentReferences } from '../mark/content-ref.js';
import type { ContentReference } from '../mark/content-ref.js';
import type { MarkKey } from '../mark/keys.js';
import { PROFILES } from '../mark/profile.js';
import type { MarkProfile } from '../mark/profile.js';
import { decodePayload } from '../mark/payload-decode.js';
import { payloadId } from '../mark/payload-layer.js';
import { openRegistry } from '../registry/registry.js';
import type { LegRecord } from '../registry/registry.js';
import { REPORT_SCHEMA } from '../report/types.js';
import type { Report, ReportContentReference, ReportMark, ReportPayload } from '../report/types.js';
import { TOOL_NAME, VERSION } from '../version.js';
import { attribute } from './attribute.js';
import type { CandidateInfo, RegistryStatus } from './attribute.js';
import { unmarkedSpeech } from './mixminus.js';

export interface ScanOptions {
  key: MarkKey;
  /** Registry location (directory or postgres:// URL). */
  registry?: string;
  /** Restrict registry candidates to one meeting. */
  meeting?: string;
  /** Extra candidate tokens (not necessarily in a registry). */
  tokens?: readonly string[];
  /** Family-wise false-attribution level per scan (default 1e-6). */
  alpha?: number;
  /** Decoy tokens scored to estimate the null (default: the detector's). */
  decoys?: number;
  /** Path shown in the report (default: the path scanned). */
  displayPath?: string;
  /** Registries with more legs than this (and no `meeting`) are narrowed by the blind payload first. Default 512. */
  payloadPrefilterAbove?: number;
  /** Candidate tables kept across scans with one key (see DetectOptions.cache). */
  cache?: DetectorCache;
  /**
   * Mark profiles searched, each at alpha / (number of profiles) so the scan's family-wise level
   * stays alpha (every p-value is multiplied by the number of profiles). Default: v2 then v1
   * (material marked before v2 stays detectable).
   */
  profiles?: readonly MarkProfile[];
  /**
   * Content references of legs (lib/mark/content-ref.ts, earmark scan --content). With a registry,
   * a reference is used only when the registry commits its digest for its token (leg.content);
   * without one, references are used and the report says they were not checked against a registry.
   */
  contentReferences?: readonly ContentReference[];
}

async function registryCandidates(location: string, meeting: string | undefined): Promise<{ legs: LegRecord[]; status: RegistryStatus; proofs: (tokens: string[]) => Promise<Map<string, unknown>>; close: () => Promise<void> }> {
  const registry = await openRegistry(location);
  try {
    const all = await registry.legs();
    const legs = meeting === undefined ? all : all.filter((l) => l.meeting === meeting);
    if (meeting !== undefined && legs.length === 0) throw new InputError(location, `no legs of meeting ${meeting} in the registry`);
    const verification = await registry.verify();
    const first = verification.first;
    const status: RegistryStatus = verification.intact
      ? { intact: true }
      : { intact: false, problem: first ? `${first.index === null ? '' : `entry #${first.index}: `}${first.kind}: ${first.detail}` : 'verification failed' };
    return {
      legs,
      status,
      proofs: async (tokens) => {
        const out = new Map<string, unknown>();
        for (const t of tokens) {
          try {
            out.set(t, await registry.prove(t));
          } catch (err) {
            out.set(t, { error: (err as Error).message });
          }
        }
        return out;
      },
      close: () => registry.close(),
    };
  } catch (err) {
    await registry.close();
    throw err;
  }
}

/** The signed checkpoint the cited entries' inclusion proofs were made against. */
function checkpointOf(proofs: Map<string, unknown> | undefined): string | undefined {
  for (const p of proofs?.values() ?? []) {
    const cp = (p as { checkpoint?: unknown }).checkpoint;
    if (typeof cp === 'string') return cp;
  }
  return undefined;
}

export async function scanFile(path: string, opts: ScanOptions): Promise<Report> {
  const probe = await probeFile(path);
  const candidates: CandidateInfo[] = [];
  let reg: Awaited<ReturnType<typeof registryCandidates>> | undefined;
  try {
    if (opts.registry !== undefined) {
      reg = await registryCandidates(opts.registry, opts.meeting);
      for (const l of reg.legs) candidates.push({ token: l.token, meeting: l.meeting, participant: l.participant, leg: l.leg, ...(l.device !== undefined ? { device: l.device } : {}), joined: l.joined });
    } else if (opts.meeting !== undefined) {
      throw new InputError('meeting', 'needs a registry (the meeting option filters its legs)');
    }
    for (const t of opts.tokens ?? []) if (!candidates.some((c) => c.token === t)) candidates.push({ token: t });

    // Content references: with a registry only those whose digest it commits; several of one leg
    // (chunks, a rejoin) are merged into one.
    const contentRows: ReportContentReference[] = [];
    const byToken = new Map<string, ContentReference[]>();
    for (const ref of opts.contentReferences ?? []) {
      if (ref.keyId !== opts.key.id) throw new InputError('content references', `the reference of ${ref.token} was made with key ${ref.keyId}, the scan uses key ${opts.key.id}`);
      const sha256 = contentReferenceDigest(ref);
      if (contentRows.some((r) => r.sha256 === sha256)) continue;
      const committed = reg ? (reg.legs.find((l) => l.token === ref.token)?.contentReferences ?? []).includes(sha256) : null;
      const used = committed !== false && candidates.some((c) => c.token === ref.token);
      if (used) byToken.set(ref.token, [...(byToken.get(ref.token) ?? []), ref]);
      contentRows.push({ token: ref.token, sha256, committed, used });
    }
    const contentRefs = new Map<string, ContentReference>();
    for (const [token, refs] of byToken) {
      try {
        contentRefs.set(token, mergeContentReferences(refs));
      } catch (err) {
        if (err instanceof ContentRefError) throw new InputError('content references', err.message);
        throw err;
      }
    }
    const audio = await decodeFile(path, { sampleRate: ANALYSIS_RATE, mono: true });
    const cache = opts.cache ?? new DetectorCache();
    // Blind payload: read it when there is nothing to test, or to narrow a very large registry.
    let payload: ReportPayload | undefined;
    const readPayload = (reason: ReportPayload['reason']): ReportPayload => {
      const r = decodePayload(audio, { key: opts.key, cache });
      const matches = r.payloadId === null ? [] : (reg?.legs ?? []).filter((l) => payloadId(opts.key, l.token) === r.payloadId).map((l) => l.token);
      return { id: r.payloadId, pilotScore: r.pilotZ, pilotPValue: r.pilotPValue, crcOk: r.crcOk, symbolMargins: r.symbolMargins, ...(r.mixture ? { mixture: true } : {}), registryMatches: matches, reason };
    };
    if (candidates.length === 0) {
      if (opts.registry !== undefined) throw new InputError(opts.registry, 'the registry has no legs to test');
      payload = readPayload('no registry');
    } else if (reg && opts.meeting === undefined && reg.legs.length > (opts.payloadPrefilterAbove ?? 512)) {
      payload = readPayload('large registry');
      if (payload.registryMatches.length > 0) {
        const keep = new Set([...payload.registryMatches, ...(opts.tokens ?? [])]);
        candidates.splice(0, candidates.length, ...candidates.filter((c) => keep.has(c.token)));
      }
    }
    const detectOpts: DetectOptions = {
      key: opts.key,
      candidates: candidates.map((c) => c.token),
      ...(opts.alpha !== undefined ? { alpha: opts.alpha } : {}),
      ...(opts.decoys !== undefined ? { decoys: opts.decoys } : {}),
      ...(contentRefs.size > 0 ? { contentReferences: contentRefs } : {}),
      cache,
    };
    const alpha = opts.alpha ?? DETECT_DEFAULTS.alpha;
    const profiles = opts.profiles ?? PROFILES;
    if (profiles.length === 0) throw new InputError('profiles', 'needs at least one mark profile');
    // Session spans for v2's exhaustive search: a leg's session time runs from its join (offset 0)
    // to its leave, as the registry records them (60 s of slack for clock skew between the bridge's
    // registry writes and its media); legs without a leave time are not searched exhaustively.
    const legSpans: Record<string, { fromSec: number; toSec: number }> = {};
    for (const l of reg?.legs ?? []) {
      if (l.left === undefined || !candidates.some((c) => c.token === l.token)) continue;
      const sec = (Date.parse(l.left) - Date.parse(l.joined)) / 1000;
      if (Number.isFinite(sec) && sec >= 0) legSpans[l.token] = { fromSec: 0, toSec: sec + 60 };
    }
    const spanCount = Object.keys(legSpans).length;
    const runs =
      detectOpts.candidates.length > 0
        ? profiles.map((profile) => detect(audio, { ...detectOpts, profile, alpha: alpha / profiles.length, ...(profile.version === 2 && spanCount > 0 ? { legSpans } : {}) }))
        : [];
    const detection = runs.length > 0 ? combineDetections(runs, alpha) : emptyDetection(probe.durationSec, alpha);
    const marks: ReportMark[] = runs.map((r) => ({
      profile: r.profile,
      pValueBasis: r.pValueBasis,
      alpha: r.alpha,
      hypotheses: r.hypotheses,
      ...(r.keyLayer ? { keyLayer: { score: r.keyLayer.score, pValue: Math.min(1, r.keyLayer.pValue * runs.length) } } : {}),
      ...(r.decoyLegs ? { decoyLegs: r.decoyLegs } : {}),
      legsNamed: r.legs.map((l) => l.token),
      ...(r.forgery ? { forgery: r.forgery } : {}),
      ...(r.profile === 'v2' ? { exhaustiveSearch: r.exhaustive ? { ran: true, legSpans: spanCount, hypotheses: r.exhaustive.hypotheses } : { ran: false, legSpans: spanCount } } : {}),
      ...(r.profile === 'v2'
        ? { namedPlaceStage: r.namedPlaces ? { ran: true, places: r.namedPlaces.places, hypotheses: r.namedPlaces.hypotheses, legsNamed: r.namedPlaces.legs } : { ran: false } }
        : {}),
    }));
    if (!payload && detection.legs.length === 0) payload = readPayload('no leg detected');
    const proofs = reg ? await reg.proofs(detection.legs.map((l) => l.token)) : undefined;
    const unmarked = detection.legs.length ? unmarkedSpeech(audio, detection.legs, { key: opts.key }) : new Map();
    const att = attribute({
      detection,
      marks,
      candidates,
      registry: reg?.status ?? null,
      ...(proofs ? { proofs } : {}),
      keyId: opts.key.id,
      unmarkedSpeech: unmarked,
      contentReferences: contentRows,
    });
    const sha256AtEnd = await sha256File(path);
    return {
      schema: REPORT_SCHEMA,
      tool: { name: TOOL_NAME, version: VERSION },
      input: {
        path: opts.displayPath ?? path,
        sha256: probe.sha256,
        durationSec: probe.durationSec,
        sampleRate: probe.sampleRate,
        channels: probe.channels,
        container: probe.container,
        codec: probe.codec,
        sizeBytes: probe.sizeBytes,
      },
      key: { id: opts.key.id },
      parameters: {
        analysisSampleRate: ANALYSIS_RATE,
        alpha: detection.alpha,
        candidates: candidates.length,
        meeting: opts.meeting ?? null,
        hypothesesCorrectedFor: detection.hypotheses,
        profiles: profiles.map((p) => p.name),
        nullScale: Number(detection.nullScale.toFixed(4)),
        decoys: opts.decoys ?? null,
      },
      registry:
        opts.registry !== undefined
          ? {
              path: opts.registry,
              candidates: candidates.length,
              intact: reg?.status.intact ?? false,
              ...(reg?.status.problem ? { problem: reg.status.problem } : {}),
              ...(checkpointOf(proofs) ? { checkpoint: checkpointOf(proofs)! } : {}),
            }
          : null,
      legs: att.legs,
      edits: att.edits,
      ...(marks.length > 0 ? { marks } : {}),
      ...(payload ? { payload } : {}),
      ...(contentRows.length > 0 ? { contentReferences: contentRows } : {}),
      verdict: payload ? (candidates.length === 0 ? `No registry was given, so no leg can be named or tested. ${payloadVerdict(payload)}` : `${att.verdict} ${payloadVerdict(payload)}`) : att.verdict,
      limits: att.limits,
      integrity: { sha256AtEnd, unchanged: sha256AtEnd === probe.sha256 },
    };
  } finally {
    await reg?.close();
  }
}

/**
 * The detections of several profiles as one: each profile was tested at alpha / n, so every
 * p-value is multiplied by n (Bonferroni over the profiles) and compared with alpha. A token found
 * under two profiles keeps its stronger finding.
 */
function combineDetections(runs: readonly DetectResult[], alpha: number): DetectResult {
  const n = runs.length;
  const times = (p: number): number => Math.min(1, p * n);
  const legs = new Map<string, DetectResult['legs'][number]>();
  for (const r of runs)
    for (const l of r.legs) {
      const cur = legs.get(l.token);
      if (cur && cur.pValue <= times(l.pValue)) continue;
      legs.set(l.token, { ...l, pValue: times(l.pValue), ...(l.pValueMultiplier !== undefined ? { pValueMultiplier: l.pValueMultiplier * n } : {}), segments: l.segments.map((s) => ({ ...s, pValue: times(s.pValue) })) });
    }
  const scores = new Map<string, DetectResult['scores'][number]>();
  for (const r of runs)
    for (const sc of r.scores) {
      const cur = scores.get(sc.token);
      if (!cur || times(sc.pValue) < cur.pValue) scores.set(sc.token, { ...sc, pValue: times(sc.pValue) });
    }
  const first = runs[0]!;
  const rejected = runs.flatMap((r) => r.contentRejected ?? []).filter((l) => !legs.has(l.token));
  return {
    ...(rejected.length > 0 ? { contentRejected: rejected } : {}),
    profile: first.profile,
    pValueBasis: first.pValueBasis,
    legs: [...legs.values()].sort((a, b) => a.pValue - b.pValue || b.score - a.score),
    scores: [...scores.values()],
    durationSec: first.durationSec,
    nullScale: Math.max(...runs.map((r) => r.nullScale)),
    hypotheses: runs.reduce((a, r) => a + r.hypotheses, 0),
    alpha,
  };
}

function emptyDetection(durationSec: number, alpha: number): DetectResult {
  return { profile: 'v1', pValueBasis: 'normal-approximation', legs: [], scores: [], durationSec, nullScale: 1, hypotheses: 0, alpha };
}

/** One or two sentences on the blind payload, for the verdict. */
function payloadVerdict(p: ReportPayload): string {
  if (p.id === null) {
    if (p.mixture) return `A payload pilot is present (p = ${p.pilotPValue.toExponential(2)}) and its symbols read as a mixture of several legs' payloads: no payload id is given (the clip mixes or averages legs; informed detection tests each).`;
    return p.pilotPValue <= 1e-4
      ? `A payload pilot is present (p = ${p.pilotPValue.toExponential(2)}) but its symbols failed the check code: no payload id can be given.`
      : `No blind payload was found (pilot p = ${Math.min(1, p.pilotPValue).toPrecision(2)}; it needs about 30 s of wideband audio).`;
  }
  const where = p.registryMatches.length > 0 ? `it matches registry leg(s) ${p.registryMatches.join(', ')}` : p.reason === 'no registry' ? 'look it up with the registry (earmark scan --registry)' : 'no leg of the registry has it';
  return `Blind payload id ${p.id} read (pilot p = ${p.pilotPValue.toExponential(2)}, check code valid): ${where}. A payload id only points at a leg; attribution needs informed detection of that leg's own mark.`;
}
