/**
 * lib/channel public surface: codec chains, room and the meeting simulator. Users regression-
 * test their own bridges with it, so everything here is part of the package API.
 */
export {
  aac,
  amrnb,
  applyChain,
  bandpass,
  chain,
  checkAudio,
  crop,
  g711,
  g722,
  gain,
  mp3,
  noise,
  opus,
  resample,
  room,
  speed,
  tempo,
  transformOf,
} from './transform.js';
export type { RunOptions, Transform } from './transform.js';
export { AMR_NB_KBPS, STEP_KINDS, STEP_SPECS, describeChain, describeStep, parseChain, validateStep } from './steps.js';
export type { AmrNbKbps, ChannelStep, ChannelStepKind, G711Law, ParamSpec, StepOf, StepSpec } from './steps.js';
export { CODEC_DELAY_SAMPLES } from './codecs.js';
export type { CodecDelayMode, CodecKind } from './codecs.js';
export { ROOM_DRR_DB, ROOM_PREDELAY_SEC, roomImpulseResponse } from './effects.js';
export { deriveSeed, randomStream } from './random.js';
export type { RandomStream } from './random.js';
export { DEFAULT_LEG_CHAINS, DEFAULT_TURN_TAKING, activeLevelDb, simulateMeeting } from './meeting.js';
export type {
  LegHook,
  MeetingOptions,
  MeetingParticipant,
  MeetingSimulation,
  MeetingTruth,
  TalkSpurt,
  TapOptions,
  TurnTaking,
} from './meeting.js';
