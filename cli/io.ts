/**
 * The CLI's only window on the process: output sinks and the exit-code mapping.
 * Handlers write through `CliIo` so tests can capture stdout/stderr without spawning.
 */
import { InputError, isUserFacingError } from '../lib/errors.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Exit codes of the CLI contract (shared/docs/architecture.md). */
export const ExitCode = {
  ok: 0,
  verificationFailed: 1,
  usage: 2,
  internal: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One pure function decides the exit code of a thrown error. */
export function exitCodeForError(err: unknown): ExitCode {
  return isUserFacingError(err) ? ExitCode.usage : ExitCode.internal;
}

/** One line, no stack trace: what the user sees for an error. */
export function errorLine(err: unknown): string {
  if (isUserFacingError(err)) return `earmark: ${err.message}`;
  const message = err instanceof Error ? err.message : String(err);
  return `earmark: internal error: ${message.split('\n')[0]} (set EARMARK_DEBUG=1 for a stack trace)`;
}

/** Run a library call, naming its options as the CLI's flags in any InputError it throws (the library names options, the CLI its flags). */
export function asFlag<T>(fn: () => T, flags: Readonly<Record<string, string>>): T {
  try {
    return fn();
  } catch (err) {
    const flag = err instanceof InputError ? flags[err.input] : undefined;
    if (flag !== undefined && err instanceof InputError) throw new InputError(flag, err.detail, { cause: err });
    throw err;
  }
}
