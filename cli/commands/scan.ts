import { writeFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { InputError } from '../../lib/errors.js';
import { renderReportJson } from '../../lib/report/json.js';
import { renderReportHtml } from '../../lib/report/html.js';
import { renderReportText } from '../../lib/report/text.js';
import { scanFile } from '../../lib/trace/scan.js';
import { DETECT_DEFAULTS } from '../../lib/mark/detect/types.js';
import type { CommandContext } from '../context.js';
import { readKeyFile } from '../keyfile.js';
import { readContentReferences } from '../content-ref.js';
import { checkToken } from '../../lib/mark/keys.js';
import { PROFILES } from '../../lib/mark/profile.js';

export function scanCommand(cli: Argv, ctx: CommandContext): Argv {
  return cli.command(
    'scan <clip>',
    'Find which legs a leaked clip passed through, where each piece sits in the session, and edits; report as text, JSON or HTML',
    (y) =>
      y
        .positional('clip', { type: 'string', demandOption: true, describe: 'any file ffmpeg reads (wav mp3 m4a mp4 ogg webm amr ...)' })
        .option('key', { type: 'string', demandOption: true, describe: 'key file (earmark keygen)' })
        .option('registry', { type: 'string', describe: 'registry directory or postgres:// URL: its legs are the candidates (without it, the blind payload id is read)' })
        .option('meeting', { type: 'string', describe: "only this meeting's legs are candidates" })
        .option('token', { type: 'string', array: true, describe: 'extra candidate token(s)' })
        .option('content', { type: 'string', array: true, describe: "content reference file(s) or directories of *.ecr (the bridge's record of each leg's downlink): a leg whose mark sits on other content is not named" })
        .option('alpha', { type: 'number', default: DETECT_DEFAULTS.alpha, describe: 'family-wise false-attribution level per scan' })
        .option('profile', { type: 'string', array: true, choices: PROFILES.map((p) => p.name), describe: 'mark profile(s) to search (default: v2 and v1; alpha is divided among them)' })
        .option('json', { type: 'boolean', default: false, describe: 'print the earmark.report/1 JSON on stdout' })
        .option('html', { type: 'string', describe: 'also write an HTML report to this file' }),
    async (args) => {
      if (!(args.alpha > 0 && args.alpha < 1)) throw new InputError('--alpha', `must be between 0 and 1, got ${String(args.alpha)}`);
      if (args.meeting !== undefined && args.registry === undefined) throw new InputError('--meeting', 'needs --registry');
      const tokens = (args.token ?? []).map((t) => checkToken(String(t), '--token'));
      const key = await readKeyFile(args.key);
      const contentReferences = args.content?.length ? await readContentReferences(args.content.map(String)) : [];
      const report = await scanFile(args.clip, {
        ...(contentReferences.length ? { contentReferences } : {}),
        key,
        ...(args.registry !== undefined ? { registry: args.registry } : {}),
        ...(args.meeting !== undefined ? { meeting: args.meeting } : {}),
        tokens,
        alpha: args.alpha,
        ...(args.profile?.length ? { profiles: PROFILES.filter((p) => args.profile!.includes(p.name)) } : {}),
      });
      if (args.html !== undefined) {
        try {
          await writeFile(args.html, renderReportHtml(report));
        } catch (err) {
          throw new InputError(args.html, `cannot write HTML report (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
        }
      }
      ctx.io.out(args.json ? renderReportJson(report) : renderReportText(report));
    },
  );
}
