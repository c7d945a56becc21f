/** Facts about the codecs earmark writes and simulates, in one place (lib/audio/encode.ts, lib/channel/codecs.ts, lib/channel/steps.ts). */

/** The bit rates (kbit/s) of the eight AMR-NB codec modes (3GPP TS 26.071). */
export const AMR_NB_KBPS = Object.freeze([4.75, 5.15, 5.9, 6.7, 7.4, 7.95, 10.2, 12.2] as const);

/** Sample rates the AAC-LC encoder takes; other rates are resampled (to 48 kHz) first. */
export const AAC_SAMPLE_RATES: readonly number[] = Object.freeze([8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000]);

/** Sample rates the MP3 (LAME) encoder takes; other rates are resampled (to 48 kHz) first. */
export const MP3_SAMPLE_RATES: readonly number[] = Object.freeze([8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000]);
