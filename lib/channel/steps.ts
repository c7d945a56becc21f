/**
 * Channel steps as typed data, and the compact string syntax users type on the command line:
 *
 *   "amrnb:12.2,aac:96,speed:1.03,room:0.4:18"
 *
 * Steps are separated by commas; a step is its kind followed by its parameters, each after a
 * colon, in the order listed in STEP_SPECS. `describeChain(parseChain(s))` gives back a
 * canonical form of `s`; `parseChain(describeChain(steps))` gives back `steps`.
 */
import { AMR_NB_KBPS } from '../audio/codec-facts.js';
import { InputError } from '../errors.js';

export { AMR_NB_KBPS };
export type AmrNbKbps = (typeof AMR_NB_KBPS)[number];

export type G711Law = 'mu' | 'a';

/** One step of a channel chain. Units are in the field names. */
export type ChannelStep =
  | { kind: 'amrnb'; kbps: AmrNbKbps }
  | { kind: 'g711'; law: G711Law }
  | { kind: 'g722' }
  | { kind: 'opus'; kbps: number }
  | { kind: 'aac'; kbps: number }
  | { kind: 'mp3'; kbps: number }
  | { kind: 'resample'; rateHz: number }
  | { kind: 'speed'; factor: number }
  | { kind: 'tempo'; factor: number }
  | { kind: 'gain'; db: number }
  | { kind: 'noise'; snrDb: number }
  | { kind: 'room'; rt60Sec: number; snrDb: number }
  | { kind: 'bandpass'; loHz: number; hiHz: number }
  | { kind: 'crop'; startSec: number; durSec: number };

export type ChannelStepKind = ChannelStep['kind'];
export type StepOf<K extends ChannelStepKind> = Extract<ChannelStep, { kind: K }>;

/** One positional parameter of a step. */
export type ParamSpec<Key extends string = string> =
  | { key: Key; type: 'number'; unit: string; min: number; max: number; minExclusive?: boolean; integer?: boolean }
  | { key: Key; type: 'choice'; unit: string; values: readonly (string | number)[] };

export interface StepSpec<K extends ChannelStepKind> {
  summary: string;
  params: readonly ParamSpec<Exclude<keyof StepOf<K>, 'kind'> & string>[];
}

/** Every step kind with its parameters, in string-syntax order. The compiler keeps it complete. */
export const STEP_SPECS: { readonly [K in ChannelStepKind]: StepSpec<K> } = {
  amrnb: {
    summary: 'AMR-NB (mobile voice) at 8 kHz mono, one of the eight codec modes',
    params: [{ key: 'kbps', type: 'choice', unit: 'kbit/s', values: AMR_NB_KBPS }],
  },
  g711: { summary: 'G.711 mu-law or A-law at 8 kHz mono (PSTN, SIP)', params: [{ key: 'law', type: 'choice', unit: '', values: ['mu', 'a'] }] },
  g722: { summary: 'G.722 wideband ADPCM at 16 kHz mono (HD voice, SIP)', params: [] },
  opus: { summary: 'Opus (libopus, VoIP mode) at 48 kHz', params: [{ key: 'kbps', type: 'number', unit: 'kbit/s', min: 6, max: 510 }] },
  aac: { summary: 'AAC-LC (ffmpeg encoder), ADTS stream', params: [{ key: 'kbps', type: 'number', unit: 'kbit/s', min: 8, max: 512 }] },
  mp3: { summary: 'MP3 (LAME), constant bit rate', params: [{ key: 'kbps', type: 'number', unit: 'kbit/s', min: 8, max: 320 }] },
  resample: {
    summary: 'resample (soxr, as decode does)',
    params: [{ key: 'rateHz', type: 'number', unit: 'Hz', min: 4000, max: 192000, integer: true }],
  },
  speed: {
    summary: 'replay speed: duration / factor, pitch x factor',
    params: [{ key: 'factor', type: 'number', unit: 'x', min: 0.5, max: 2 }],
  },
  tempo: {
    summary: 'time stretch (ffmpeg atempo): duration / factor, pitch kept',
    params: [{ key: 'factor', type: 'number', unit: 'x', min: 0.5, max: 2 }],
  },
  gain: { summary: 'gain in dB (float: no clipping until a codec or a file)', params: [{ key: 'db', type: 'number', unit: 'dB', min: -80, max: 40 }] },
  noise: {
    summary: 'seeded white Gaussian noise at an exact SNR over the whole signal',
    params: [{ key: 'snrDb', type: 'number', unit: 'dB', min: -20, max: 120 }],
  },
  room: {
    summary: 'synthetic room: exponentially decaying noise impulse response + ambient noise (seeded)',
    params: [
      { key: 'rt60Sec', type: 'number', unit: 's', min: 0.05, max: 5 },
      { key: 'snrDb', type: 'number', unit: 'dB', min: -20, max: 120 },
    ],
  },
  bandpass: {
    summary: '4th-order Butterworth high-pass at lo and low-pass at hi (lo 0: no high-pass)',
    params: [
      { key: 'loHz', type: 'number', unit: 'Hz', min: 0, max: 96000 },
      { key: 'hiHz', type: 'number', unit: 'Hz', min: 0, max: 96000, minExclusive: true },
    ],
  },
  crop: {
    summary: 'keep durSec seconds from startSec',
    params: [
      { key: 'startSec', type: 'number', unit: 's', min: 0, max: 1e7 },
      { key: 'durSec', type: 'number', unit: 's', min: 0, max: 1e7, minExclusive: true },
    ],
  },
};

export const STEP_KINDS = Object.keys(STEP_SPECS) as ChannelStepKind[];

function isKind(s: string): s is ChannelStepKind {
  return Object.prototype.hasOwnProperty.call(STEP_SPECS, s);
}

function formatValue(v: string | number): string {
  return typeof v === 'number' ? String(v) : v;
}

/** Why a parameter value is out of range, or undefined when it is fine. */
function checkParam(p: ParamSpec, value: unknown): string | undefined {
  if (p.type === 'choice') {
    if (!p.values.includes(value as string | number))
      return `${p.key} must be one of ${p.values.map(formatValue).join(', ')}${p.unit ? ` (${p.unit})` : ''}, got ${String(value)}`;
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${p.key} must be a finite number, got ${String(value)}`;
  const unit = p.unit ? ` ${p.unit}` : '';
  if (p.integer && !Number.isInteger(value)) return `${p.key} must be a whole number, got ${value}`;
  if (value > p.max || value < p.min || (p.minExclusive && value === p.min))
    return `${p.key} must be ${p.minExclusive ? 'above' : 'at least'} ${p.min} and at most ${p.max}${unit}, got ${value}`;
  return undefined;
}

/** Cross-parameter rules that a single range cannot express. */
function checkStep(step: ChannelStep): string | undefined {
  if (step.kind === 'bandpass' && step.loHz >= step.hiHz) return `loHz (${step.loHz}) must be below hiHz (${step.hiHz})`;
  return undefined;
}

/** The canonical string of one step, e.g. "room:0.4:18". */
export function describeStep(step: ChannelStep): string {
  const spec = STEP_SPECS[step.kind] as StepSpec<ChannelStepKind>;
  const values = spec.params.map((p) => formatValue((step as unknown as Record<string, string | number>)[p.key]!));
  return [step.kind, ...values].join(':');
}

/** The canonical chain string, e.g. "amrnb:12.2,aac:96". The empty chain is "". */
export function describeChain(steps: readonly ChannelStep[]): string {
  return steps.map(describeStep).join(',');
}

/** Throw an InputError naming the step when it is malformed or out of range; else return it. */
export function validateStep<S extends ChannelStep>(step: S): S {
  const kind = (step as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !isKind(kind))
    throw new InputError(`chain step ${JSON.stringify(kind)}`, `unknown step kind (known: ${STEP_KINDS.join(', ')})`);
  const spec = STEP_SPECS[kind] as StepSpec<ChannelStepKind>;
  for (const p of spec.params) {
    const problem = checkParam(p, (step as unknown as Record<string, unknown>)[p.key]);
    if (problem) throw new InputError(`chain step "${safeDescribe(step)}"`, problem);
  }
  const problem = checkStep(step);
  if (problem) throw new InputError(`chain step "${describeStep(step)}"`, problem);
  return step;
}

function safeDescribe(step: ChannelStep): string {
  try {
    return describeStep(step);
  } catch {
    return step.kind;
  }
}

/** Strict decimal number: no empty strings, hex, Infinity or trailing junk. */
function parseNumber(text: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/**
 * Parse the chain syntax into typed steps. Whitespace around steps and parameters is ignored;
 * an empty or all-whitespace string is the empty chain (identity).
 * Throws InputError naming the offending step for unknown kinds, wrong parameter counts,
 * non-numbers and out-of-range values.
 */
export function parseChain(spec: string): ChannelStep[] {
  if (spec.trim() === '') return [];
  return spec.split(',').map((raw, index) => {
    const text = raw.trim();
    const where = `chain step ${index + 1} "${text}"`;
    if (text === '') throw new InputError(`chain "${spec}"`, `step ${index + 1} is empty (steps are separated by single commas)`);
    const [kindText, ...args] = text.split(':').map((s) => s.trim());
    const kind = kindText!.toLowerCase();
    if (!isKind(kind)) throw new InputError(where, `unknown step "${kindText}" (known: ${STEP_KINDS.join(', ')})`);
    const spec_ = STEP_SPECS[kind] as StepSpec<ChannelStepKind>;
    if (args.length !== spec_.params.length) {
      const usage = [kind, ...spec_.params.map((p) => `<${p.key}>`)].join(':');
      throw new InputError(where, `expected ${spec_.params.length} parameter(s): ${usage}`);
    }
    const step: Record<string, string | number> = { kind };
    spec_.params.forEach((p, i) => {
      const arg = args[i]!;
      if (p.type === 'choice' && p.values.every((v) => typeof v === 'string')) {
        step[p.key] = arg.toLowerCase();
      } else {
        const n = parseNumber(arg);
        if (n === undefined) throw new InputError(where, `${p.key} must be a number, got "${arg}"`);
        step[p.key] = n;
      }
      const problem = checkParam(p, step[p.key]);
      if (problem) throw new InputError(where, problem);
    });
    const typed = step as unknown as ChannelStep;
    const problem = checkStep(typed);
    if (problem) throw new InputError(where, problem);
    return typed;
  });
}

/** Steps from either form: a chain string or an array of steps (validated). */
export function toSteps(chain: string | readonly ChannelStep[]): ChannelStep[] {
  return typeof chain === 'string' ? parseChain(chain) : chain.map((s) => validateStep({ ...s }));
}
