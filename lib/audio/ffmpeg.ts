/**
 * The only module that runs ffmpeg. Every invocation is an explicit argv (recorded verbatim in
 * reports for reproducibility), spawned without a shell.
 *
 * Binary resolution order: EARMARK_FFMPEG, ffmpeg-static (if its binary was downloaded),
 * @ffmpeg-installer/ffmpeg (binary ships inside the npm package), then `ffmpeg` on PATH.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { ToolError } from '../errors.js';

export interface FfmpegBinary {
  path: string;
  source: 'EARMARK_FFMPEG' | 'ffmpeg-static' | '@ffmpeg-installer/ffmpeg' | 'PATH';
}

const require = createRequire(import.meta.url);

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function tryRequire(id: string): unknown {
  try {
    return require(id) as unknown;
  } catch {
    return undefined;
  }
}

/** Find ffmpeg; throws a one-line ToolError saying how to fix it when none is found. */
export function resolveFfmpeg(env: NodeJS.ProcessEnv = process.env): FfmpegBinary {
  const explicit = env['EARMARK_FFMPEG'];
  if (explicit) {
    if (!isExecutable(explicit)) throw new ToolError(`EARMARK_FFMPEG=${explicit} is not an executable file`);
    return { path: explicit, source: 'EARMARK_FFMPEG' };
  }
  const fromStatic = tryRequire('ffmpeg-static');
  if (typeof fromStatic === 'string' && existsSync(fromStatic) && isExecutable(fromStatic)) {
    return { path: fromStatic, source: 'ffmpeg-static' };
  }
  const installer = tryRequire('@ffmpeg-installer/ffmpeg') as { path?: unknown } | undefined;
  if (installer && typeof installer.path === 'string' && isExecutable(installer.path)) {
    return { path: installer.path, source: '@ffmpeg-installer/ffmpeg' };
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'ffmpeg');
    if (isExecutable(candidate)) return { path: candidate, source: 'PATH' };
  }
  throw new ToolError(
    'ffmpeg not found: run `npm install` (it brings @ffmpeg-installer/ffmpeg), install ffmpeg on PATH, or set EARMARK_FFMPEG=/path/to/ffmpeg',
  );
}

export interface FfmpegRunOptions {
  /** Bytes written to ffmpeg's stdin (use `pipe:0` as input in args). */
  stdin?: Uint8Array;
  /** Name of the user's input for error messages. */
  inputName?: string;
  env?: NodeJS.ProcessEnv;
}

export interface FfmpegRunResult {
  stdout: Buffer;
  stderr: string;
  argv: string[];
}

/** Base arguments for every run: quiet banner, no stdin interaction, fail on errors. */
export const FFMPEG_BASE_ARGS = ['-hide_banner', '-nostdin', '-loglevel', 'error'] as const;

/** Run ffmpeg to completion, collecting stdout. Rejects with a one-line error on failure. */
export function runFfmpeg(args: readonly string[], opts: FfmpegRunOptions = {}): Promise<FfmpegRunResult> {
  const bin = resolveFfmpeg(opts.env);
  const argv = [...FFMPEG_BASE_ARGS, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(bin.path, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 64_000) err += d.toString('utf8');
    });
    child.on('error', (e) => reject(new ToolError(`could not start ffmpeg at ${bin.path}: ${e.message}`)));
    child.stdin.on('error', () => {
      /* ffmpeg may close stdin early on bad input; the exit code reports it */
    });
    child.on('close', (code) => {
      if (code === 0) resolve({ stdout: Buffer.concat(out), stderr: err, argv });
      else reject(ffmpegFailure(opts.inputName ?? 'input', err, code));
    });
    if (opts.stdin) child.stdin.end(opts.stdin);
    else child.stdin.end();
  });
}

/**
 * Whether an ffmpeg failure says the input holds no decodable audio (not audio, an unknown codec,
 * no audio stream, nothing left to read) rather than a problem of the tool itself.
 */
export function isNotAudioFailure(message: string): boolean {
  return /Invalid data found|could not find codec|does not contain any stream|Output file #0 does not contain|matches no streams|End of file/i.test(message);
}

/** Turn ffmpeg's stderr into one informative line. */
export function ffmpegFailure(inputName: string, stderr: string, code: number | null): ToolError {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines[lines.length - 1] ?? `ffmpeg exited with code ${code}`;
  return new ToolError(`${inputName}: ffmpeg failed: ${last.slice(0, 300)}`);
}

export interface FfmpegStream {
  /** Stdout chunks as they arrive. */
  chunks: AsyncIterable<Buffer>;
  /** Resolves when ffmpeg exits successfully; rejects with its error line otherwise. */
  done: Promise<{ stderr: string }>;
  argv: string[];
  /** Stop ffmpeg early (e.g. the consumer failed). */
  kill(): void;
}

/** Spawn ffmpeg and stream its stdout; memory stays bounded by the consumer's pace. */
export function streamFfmpeg(args: readonly string[], opts: FfmpegRunOptions = {}): FfmpegStream {
  const bin = resolveFfmpeg(opts.env);
  const argv = [...FFMPEG_BASE_ARGS, ...args];
  const child = spawn(bin.path, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    if (err.length < 64_000) err += d.toString('utf8');
  });
  child.stdin.on('error', () => {});
  if (opts.stdin) child.stdin.end(opts.stdin);
  else child.stdin.end();
  const done = new Promise<{ stderr: string }>((resolve, reject) => {
    child.on('error', (e) => reject(new ToolError(`could not start ffmpeg at ${bin.path}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stderr: err });
      else if (signal === 'SIGKILL' || signal === 'SIGTERM') resolve({ stderr: err });
      else reject(ffmpegFailure(opts.inputName ?? 'input', err, code));
    });
  });
  // Avoid an unhandled rejection if the consumer never awaits `done` after a failure.
  done.catch(() => {});
  return {
    chunks: child.stdout as AsyncIterable<Buffer>,
    done,
    argv,
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
