export * from './types.js';
export * from './wav.js';
export * from './ffmpeg.js';
export * from './decode.js';
export * from './probe.js';
