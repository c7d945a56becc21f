/**
 * Error types shared by the library. Findings are data; exceptions are for misuse and I/O.
 *
 * - `InputError`: the caller's input is unreadable or invalid (missing file, not audio, NaN
 *   samples, absurd rate, wrong key, corrupt registry...). The CLI maps it to exit code 2.
 * - `ToolError`: an external tool (ffmpeg) is missing or failed for reasons not attributable to
 *   the input. Also exit code 2, since it is an environment problem the user can fix.
 *
 * Messages name the input and what was expected, in one line.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  /** What was wrong: a file, a location, or the name of the caller's option. */
  readonly input: string;
  /** The message without the input's name. */
  readonly detail: string;
  constructor(input: string, message: string, options?: { cause?: unknown }) {
    super(`${input}: ${message}`, options);
    this.input = input;
    this.detail = message;
  }
}

export class ToolError extends Error {
  override readonly name = 'ToolError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True for errors the CLI reports as a one-line usage / input problem (exit code 2). */
export function isUserFacingError(err: unknown): err is InputError | ToolError {
  return err instanceof InputError || err instanceof ToolError;
}

/** The errno code of a Node.js system error (`ENOENT`, `EACCES`, ...), if it has one. */
export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
