import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as channel from '../../lib/channel/index.js';
import { STEP_KINDS, STEP_SPECS, chain, describeChain, parseChain, validateStep } from '../../lib/channel/index.js';
import type { ChannelStep } from '../../lib/channel/index.js';
import { InputError } from '../../lib/errors.js';

const t = suite('channel/steps');

t('parseChain gives typed steps in order', () => {
  assert.equal(parseChain('amrnb:12.2,aac:96,speed:1.03,room:0.4:18'), [
    { kind: 'amrnb', kbps: 12.2 },
    { kind: 'aac', kbps: 96 },
    { kind: 'speed', factor: 1.03 },
    { kind: 'room', rt60Sec: 0.4, snrDb: 18 },
  ]);
  assert.equal(parseChain(' g711:A , g722 ,crop:1.5:2, bandpass:300:3400 '), [
    { kind: 'g711', law: 'a' },
    { kind: 'g722' },
    { kind: 'crop', startSec: 1.5, durSec: 2 },
    { kind: 'bandpass', loHz: 300, hiHz: 3400 },
  ]);
  assert.equal(parseChain(''), []);
  assert.equal(parseChain('   '), []);
});

t('describeChain round-trips every kind', () => {
  const all: ChannelStep[] = [
    { kind: 'amrnb', kbps: 4.75 },
    { kind: 'g711', law: 'mu' },
    { kind: 'g722' },
    { kind: 'opus', kbps: 24 },
    { kind: 'aac', kbps: 96 },
    { kind: 'mp3', kbps: 128 },
    { kind: 'resample', rateHz: 44100 },
    { kind: 'speed', factor: 0.97 },
    { kind: 'tempo', factor: 1.1 },
    { kind: 'gain', db: -6.5 },
    { kind: 'noise', snrDb: 20 },
    { kind: 'room', rt60Sec: 0.4, snrDb: 18 },
    { kind: 'bandpass', loHz: 0, hiHz: 3400 },
    { kind: 'crop', startSec: 0, durSec: 12.25 },
  ];
  // Every kind appears once: a new kind without a round-trip case fails here.
  assert.equal(all.map((s) => s.kind).sort(), [...STEP_KINDS].sort());
  const text = describeChain(all);
  assert.is(text, 'amrnb:4.75,g711:mu,g722,opus:24,aac:96,mp3:128,resample:44100,speed:0.97,tempo:1.1,gain:-6.5,noise:20,room:0.4:18,bandpass:0:3400,crop:0:12.25');
  assert.equal(parseChain(text), all);
  assert.is(describeChain(parseChain('amrnb:12.20, aac:96.0')), 'amrnb:12.2,aac:96');
});

t('every kind has a factory whose transform carries its step', () => {
  const factories = channel as unknown as Record<string, (...a: unknown[]) => { steps: readonly ChannelStep[] }>;
  for (const kind of STEP_KINDS) {
    assert.type(factories[kind], 'function', `factory ${kind}`);
    const step = parseChain(
      `${kind}${STEP_SPECS[kind].params.map((p) => `:${p.type === 'choice' ? p.values[0] : p.key === 'hiHz' ? 3000 : p.min === 0 ? 1 : p.min}`).join('')}`,
    )[0]!;
    const args = STEP_SPECS[kind].params.map((p) => (step as unknown as Record<string, unknown>)[p.key]);
    assert.equal(factories[kind]!(...args).steps, [step]);
  }
  assert.is(describeChain(chain(channel.g711('a'), chain(channel.amrnb(12.2), channel.gain(3))).steps), 'g711:a,amrnb:12.2,gain:3');
});

function rejects(spec: string, re: RegExp): void {
  try {
    parseChain(spec);
    assert.unreachable(`"${spec}" should be rejected`);
  } catch (err) {
    assert.instance(err, InputError, String(err));
    const msg = (err as Error).message;
    assert.not.match(msg, /\n/, 'one line');
    assert.match(msg, re, msg);
  }
}

t('bad specs are InputErrors that name the step and what was expected', () => {
  rejects('amrnb:11', /chain step 1 "amrnb:11": kbps must be one of 4\.75, 5\.15, 5\.9, 6\.7, 7\.4, 7\.95, 10\.2, 12\.2/);
  rejects('aac:96,wobble:3', /chain step 2 "wobble:3": unknown step "wobble" \(known: amrnb, g711/);
  rejects('aac', /expected 1 parameter\(s\): aac:<kbps>/);
  rejects('room:0.4', /expected 2 parameter\(s\): room:<rt60Sec>:<snrDb>/);
  rejects('g722:64', /expected 0 parameter/);
  rejects('aac:fast', /kbps must be a number, got "fast"/);
  rejects('aac:0x60', /must be a number/);
  rejects('aac:', /must be a number, got ""/);
  rejects('speed:3', /factor must be at least 0\.5 and at most 2 x, got 3/);
  rejects('tempo:0', /factor must be at least 0\.5/);
  rejects('g711:x', /law must be one of mu, a/);
  rejects('resample:44100.5', /whole number/);
  rejects('bandpass:3400:300', /loHz \(3400\) must be below hiHz \(300\)/);
  rejects('crop:1:0', /durSec must be above 0/);
  rejects('aac:96,,mp3:64', /step 2 is empty/);
  rejects('noise:Infinity', /must be a number/);
});

t('factories and validateStep check ranges too', () => {
  assert.throws(() => channel.amrnb(11 as 12.2), (e: unknown) => e instanceof InputError && /amrnb:11/.test((e as Error).message));
  assert.throws(() => channel.opus(1), (e: unknown) => e instanceof InputError);
  assert.throws(() => channel.bandpass(500, 400), (e: unknown) => e instanceof InputError);
  assert.throws(() => validateStep({ kind: 'nope' } as unknown as ChannelStep), (e: unknown) => e instanceof InputError && /unknown step kind/.test((e as Error).message));
  assert.equal(validateStep({ kind: 'gain', db: 3 }), { kind: 'gain', db: 3 });
});

t.run();
