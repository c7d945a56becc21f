import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFile } from '../../lib/audio/decode.js';
import type { AudioBuffer } from '../../lib/audio/types.js';
import { DEFAULT_LEG_CHAINS, simulateMeeting } from '../../lib/channel/index.js';
import type { MeetingParticipant } from '../../lib/channel/index.js';
import { InputError } from '../../lib/errors.js';
import { rms } from './measure.js';

const t = suite('channel/meeting');
const speechDir = new URL('../../fixtures/speech/', import.meta.url).pathname;
const voices: Record<string, AudioBuffer> = {};

t.before(async () => {
  // Committed fixtures only (no apt packages): three of the espeak-ng voices.
  for (const name of ['espeak-us-m3', 'espeak-gb-f3', 'espeak-scot-m5'])
    voices[name] = await decodeFile(`${speechDir}${name}.opus`, { sampleRate: 16000, mono: true });
});

function people(): MeetingParticipant[] {
  return [
    { name: 'Ann', leg: 'app', speech: [voices['espeak-gb-f3']!] },
    { name: 'Bob', leg: 'pstn', speech: [voices['espeak-us-m3']!] },
    { name: 'Cat', leg: 'sip', speech: [voices['espeak-scot-m5']!] },
    { name: 'Rec', leg: 'recorder' },
  ];
}

t('mix-minus is exact: d_k = sum of the others, and never contains u_k', async () => {
  const sim = await simulateMeeting({ participants: people(), durationSec: 30, seed: 1, uplinkCodecs: false });
  const n = 30 * 16000;
  assert.is(sim.uplinks.length, 4);
  for (let k = 0; k < 4; k++) {
    assert.is(sim.mixMinus[k]!.length, n);
    let maxErr = 0;
    for (let i = 0; i < n; i++) {
      let others = 0;
      for (let j = 0; j < 4; j++) if (j !== k) others += sim.uplinks[j]![i]!;
      maxErr = Math.max(maxErr, Math.abs(sim.mixMinus[k]![i]! - others));
    }
    assert.ok(maxErr < 1e-6, `leg ${k}: ${maxErr}`);
    assert.is(sim.downlinks[k]!.channels[0], sim.mixMinus[k], 'no hook: downlink is the mix-minus');
  }
  // Where only participant k talks, their own downlink is exactly silent.
  const talk = sim.truth.participants.map((p) => p.talk);
  const busy = (j: number, i: number) => talk[j]!.some((s) => i >= s.startSec * 16000 && i < s.endSec * 16000);
  for (let k = 0; k < 3; k++) {
    let soloSamples = 0;
    let leak = 0;
    let own = 0;
    for (let i = 0; i < n; i += 7) {
      if (!busy(k, i) || [0, 1, 2].some((j) => j !== k && busy(j, i))) continue;
      soloSamples++;
      leak = Math.max(leak, Math.abs(sim.mixMinus[k]![i]!));
      own += sim.uplinks[k]![i]! ** 2;
    }
    assert.ok(soloSamples > 1000, `participant ${k} talks alone somewhere`);
    assert.is(leak, 0, `d_${k} is silent while only ${k} talks`);
    assert.ok(own > 0);
  }
  // The recorder never talks and hears everyone.
  assert.is(rms(sim.uplinks[3]!), 0);
  assert.equal(sim.truth.participants[3]!.talk, []);
});

t('turn-taking: every talker talks, spurts stay in the meeting, some overlap, no self-overlap', async () => {
  const sim = await simulateMeeting({ participants: people(), durationSec: 60, seed: 2, uplinkCodecs: false });
  const all = sim.truth.participants.flatMap((p) => p.talk.map((s) => ({ ...s, who: p.index })));
  for (const p of sim.truth.participants.slice(0, 3)) {
    assert.ok(p.talk.length >= 2, `${p.name} talks`);
    for (let i = 0; i < p.talk.length; i++) {
      const s = p.talk[i]!;
      assert.ok(s.startSec >= 0 && s.endSec <= 60 && s.endSec > s.startSec);
      if (i > 0) assert.ok(s.startSec >= p.talk[i - 1]!.endSec, 'a participant never overlaps themself');
    }
  }
  const overlaps = all.filter((a) => all.some((b) => b.who !== a.who && b.startSec < a.endSec && a.startSec < b.endSec));
  assert.ok(overlaps.length > 0, 'occasional overlap');
  const talked = all.reduce((s, a) => s + a.endSec - a.startSec, 0);
  assert.ok(talked > 30 && talked < 75, `total talk ${talked.toFixed(1)} s in 60 s`);
});

t('deterministic from the seed, codecs and tap included; another seed differs', async () => {
  const run = (seed: number) =>
    simulateMeeting({
      participants: people(),
      durationSec: 12,
      seed,
      tap: { leg: 1, captureChain: 'aac:64' },
    });
  const a = await run(7);
  const b = await run(7);
  const c = await run(8);
  assert.equal(a.truth, b.truth);
  assert.equal(a.uplinks, b.uplinks);
  assert.equal(a.tap!.channels, b.tap!.channels);
  assert.not.equal(a.truth.participants.map((p) => p.talk), c.truth.participants.map((p) => p.talk));
  assert.not.equal(a.tap!.channels, c.tap!.channels);
  // PSTN tap: G.711 then AMR-NB leaves 8 kHz; the truth records the chains.
  assert.is(a.tap!.sampleRate, 8000);
  assert.is(a.tap!.channels[0]!.length, 12 * 8000);
  assert.equal(a.truth.tap, {
    leg: 1,
    name: 'Bob',
    legKind: 'pstn',
    downlinkChain: DEFAULT_LEG_CHAINS.pstn.downlink,
    ownVoice: true,
    ownVoiceGainDb: 0,
    captureChain: 'aac:64',
    sampleRate: 8000,
    durationSec: 12,
  });
  assert.is(a.truth.participants[1]!.uplinkChain, 'amrnb:12.2,g711:a');
  assert.is(a.truth.schema, 'earmark.meeting-truth/1');
  assert.ok(JSON.parse(JSON.stringify(a.truth)), 'truth is plain JSON');
});

t('the hook sees every leg\'s mix-minus, and the tap carries the hooked downlink plus own voice', async () => {
  const seen: number[] = [];
  const marker = 0.05;
  const sim = await simulateMeeting({
    participants: people().slice(0, 3).map((p) => ({ ...p, uplinkChain: '', downlinkChain: '' })),
    durationSec: 8,
    seed: 3,
    hook: (leg, d) => {
      seen.push(leg);
      // A stand-in "embedder": add a constant offset we can find again.
      return { channels: [d.channels[0]!.map((v) => v + marker * (leg + 1))], sampleRate: d.sampleRate };
    },
    tap: { leg: 2, ownVoiceGainDb: -6 },
  });
  assert.equal(seen, [0, 1, 2]);
  assert.is(sim.truth.hook, true);
  const d2 = sim.downlinks[2]!.channels[0]!;
  const u2 = sim.uplinks[2]!;
  const tap = sim.tap!.channels[0]!;
  assert.is(sim.tap!.sampleRate, 16000);
  let maxErr = 0;
  for (let i = 0; i < tap.length; i++) maxErr = Math.max(maxErr, Math.abs(tap[i]! - (d2[i]! + 10 ** (-6 / 20) * u2[i]!)));
  assert.ok(maxErr < 1e-5, `tap = hooked d_2 + own voice at -6 dB (max error ${maxErr})`);
  assert.ok(Math.abs(d2[0]! - sim.mixMinus[2]![0]! - 3 * marker) < 1e-6);
});

t('bad options are InputErrors', async () => {
  const bad = [
    { participants: [], durationSec: 5, seed: 1 },
    { participants: people(), durationSec: 0, seed: 1 },
    { participants: people(), durationSec: 5, seed: 1.5 },
    { participants: people(), durationSec: 5, seed: 1, tap: { leg: 9 } },
    { participants: [{ name: 'X', leg: 'carrier-pigeon' as 'app' }], durationSec: 5, seed: 1 },
    { participants: [{ name: 'X', leg: 'app' as const, uplinkChain: 'opus:1' }], durationSec: 5, seed: 1 },
  ];
  for (const opts of bad) {
    try {
      await simulateMeeting(opts);
      assert.unreachable(JSON.stringify(opts).slice(0, 80));
    } catch (err) {
      assert.instance(err, InputError, String(err));
    }
  }
});

t.run();
