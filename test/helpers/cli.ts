import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in-process with captured output. */
export async function cli(argv: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    out: (s) => void (stdout += s.endsWith('\n') ? s : `${s}\n`),
    err: (s) => void (stderr += s.endsWith('\n') ? s : `${s}\n`),
  });
  return { code, stdout, stderr };
}

const entry = fileURLToPath(new URL('../../cli/earmark.ts', import.meta.url));

/** Run the CLI as a child process (for --help/--version, which yargs prints itself). */
export function cliProcess(argv: string[], env: NodeJS.ProcessEnv = process.env): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...argv], { encoding: 'utf8', env });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
