import type { CliIo } from './io.js';

/**
 * What every command handler receives besides its parsed arguments. Handlers set `exitCode`
 * when the analysis itself decides it (e.g. `registry verify` → 1); thrown errors are mapped
 * by `exitCodeForError`.
 */
export interface CommandContext {
  io: CliIo;
  exitCode: number;
}
