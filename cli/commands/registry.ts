import { readFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { InputError } from '../../lib/errors.js';
import { NoteError, parseCheckpoint, parseSignedNote } from '../../lib/registry/checkpoint.js';
import { verifyProofBundle } from '../../lib/registry/bundle.js';
import { LEG_KINDS } from '../../lib/legs.js';
import { openRegistry } from '../../lib/registry/registry.js';
import type { OpenRegistryOptions, Registry } from '../../lib/registry/registry.js';
import { FINDING_INFO } from '../../lib/registry/verify.js';
import { renderEventsText, renderVerifyText } from '../render/registry.js';
import { ExitCode } from '../io.js';
import { readContentReferences } from '../content-ref.js';
import { contentReferenceDigest } from '../../lib/mark/content-ref.js';
import type { CommandContext } from '../context.js';

async function readTextFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(path, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? `is a directory, not ${what}` : `cannot read ${what} (${(err as Error).message})`);
  }
}

async function withRegistry<T>(location: string, options: OpenRegistryOptions, fn: (r: Registry) => Promise<T>): Promise<T> {
  const registry = await openRegistry(location, options);
  try {
    return await fn(registry);
  } finally {
    await registry.close();
  }
}

function keyOptions(args: { 'signing-key'?: string | undefined }): OpenRegistryOptions {
  const path = args['signing-key'] ?? process.env['EARMARK_SIGNING_KEY'];
  return path === undefined || path === '' ? {} : { signingKeyPath: path };
}

const registryPositional = { type: 'string', demandOption: true, describe: 'registry directory, or postgres://user:pass@host/db[?schema=name]' } as const;
const signingKeyOption = {
  type: 'string',
  describe: 'signing key file (default: <registry>.signing-key for a directory; $EARMARK_SIGNING_KEY)',
} as const;

export function registryCommand(cli: Argv, ctx: CommandContext): Argv {
  return cli.command('registry', 'Tamper-evident session registry: legs, tokens, signed checkpoints, proofs', (y) =>
    y
      .command(
        'init <registry>',
        'Create a registry and its signing key (add also creates one when missing)',
        (c) =>
          c
            .positional('registry', registryPositional)
            .option('origin', { type: 'string', describe: 'log origin / key name (default: earmark.registry/<random>)' })
            .option('signing-key', signingKeyOption),
        async (args) => {
          const d = await withRegistry(args.registry, keyOptions(args), (r) => r.init(args.origin === undefined ? {} : { origin: args.origin }));
          ctx.io.out(`origin: ${d.origin}\nverifier key: ${d.verifierKey}`);
        },
      )
      .command(
        'add <registry>',
        'Register a leg; prints its new token as the last line',
        (c) =>
          c
            .positional('registry', registryPositional)
            .option('meeting', { type: 'string', demandOption: true, describe: 'meeting id' })
            .option('participant', { type: 'string', demandOption: true, describe: 'participant name' })
            .option('leg', { type: 'string', demandOption: true, choices: LEG_KINDS, describe: 'leg kind' })
            .option('device', { type: 'string', describe: 'device description' })
            .option('joined', { type: 'string', describe: 'join time, RFC 3339 with offset (default: now)' })
            .option('signing-key', signingKeyOption),
        async (args) => {
          const res = await withRegistry(args.registry, keyOptions(args), (r) =>
            r.addLeg({
              meeting: args.meeting,
              participant: args.participant,
              leg: args.leg,
              ...(args.device === undefined ? {} : { device: args.device }),
              ...(args.joined === undefined ? {} : { joined: args.joined }),
            }),
          );
          ctx.io.out(`leg.joined #${res.index}: meeting ${res.event.meeting}, ${res.event.participant}, ${res.event.leg}, joined ${res.event.joined}`);
          ctx.io.out(res.token);
        },
      )
      .command(
        'leave <registry> <token>',
        'Record that a leg left',
        (c) =>
          c
            .positional('registry', registryPositional)
            .positional('token', { type: 'string', demandOption: true, describe: 'the leg token' })
            .option('left', { type: 'string', describe: 'leave time, RFC 3339 with offset (default: now)' })
            .option('signing-key', signingKeyOption),
        async (args) => {
          const res = await withRegistry(args.registry, keyOptions(args), (r) =>
            r.leaveLeg({ token: args.token, ...(args.left === undefined ? {} : { left: args.left }) }),
          );
          ctx.io.out(`leg.left #${res.index}: ${res.event.token} left ${res.event.left}`);
        },
      )
      .command(
        'content <registry> <file>',
        "Commit a leg's content reference (earmark embed --content-ref, or the bridge's writer) by its SHA-256",
        (c) =>
          c
            .positional('registry', registryPositional)
            .positional('file', { type: 'string', demandOption: true, describe: 'content reference file (.ecr); its header names the token' })
            .option('recorded', { type: 'string', describe: 'time the reference was recorded, RFC 3339 with offset (default: now)' })
            .option('signing-key', signingKeyOption),
        async (args) => {
          const [ref] = await readContentReferences([args.file]);
          const digest = contentReferenceDigest(ref!);
          const res = await withRegistry(args.registry, keyOptions(args), (r) => r.recordContent({ token: ref!.token, reference: digest, ...(args.recorded === undefined ? {} : { recorded: args.recorded }) }));
          ctx.io.out(`leg.content #${res.index}: ${res.event.token} reference ${res.event.reference} (${ref!.bits.length} frames from session ${((ref!.firstFrame * 512) / 16000).toFixed(3)} s)`);
        },
      )
      .command(
        'list <registry>',
        'List every entry of the log',
        (c) => c.positional('registry', registryPositional).option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
        async (args) => {
          const { location, description, events } = await withRegistry(args.registry, {}, async (r) => ({
            location: r.location,
            description: await r.describe(),
            events: await r.events(),
          }));
          if (args.json) {
            const entries = events.map(({ index, event }) => ({ index, ...event }));
            ctx.io.out(JSON.stringify({ registry: location, origin: description.origin, size: events.length, entries }, null, 2));
          } else {
            ctx.io.out(renderEventsText(events));
          }
        },
      )
      .command(
        'checkpoint <registry>',
        'Print the current signed checkpoint (C2SP tlog-checkpoint signed note)',
        (c) => c.positional('registry', registryPositional).option('signing-key', signingKeyOption),
        async (args) => {
          ctx.io.out(await withRegistry(args.registry, keyOptions(args), (r) => r.checkpoint()));
        },
      )
      .command(
        'prove <registry> <token>',
        "Print an offline-checkable inclusion proof bundle (JSON) of a leg's entry",
        (c) => c.positional('registry', registryPositional).positional('token', { type: 'string', demandOption: true, describe: 'the leg token' }),
        async (args) => {
          const bundle = await withRegistry(args.registry, {}, (r) => r.prove(args.token));
          ctx.io.out(JSON.stringify(bundle, null, 2));
        },
      )
      .command(
        'verify-proof <bundle>',
        'Check an inclusion proof bundle offline: exit 0 valid, 1 invalid',
        (c) =>
          c
            .positional('bundle', { type: 'string', demandOption: true, describe: 'bundle JSON file from registry prove' })
            .option('public-key', { type: 'string', describe: "the registry's verifier key, to require it" }),
        async (args) => {
          const text = await readTextFile(args.bundle, 'a proof bundle');
          let bundle: unknown;
          try {
            bundle = JSON.parse(text);
          } catch {
            throw new InputError(args.bundle, 'not JSON (expected a proof bundle from earmark registry prove)');
          }
          const check = verifyProofBundle(bundle, args['public-key'] === undefined ? {} : { trustedPublicKey: args['public-key'] });
          if (check.ok) {
            ctx.io.out(`valid: ${check.event.type} at #${(bundle as { index: number }).index} of ${check.checkpoint.origin} size ${check.checkpoint.size}`);
          } else {
            ctx.io.out(`INVALID: ${check.reason}`);
            ctx.exitCode = ExitCode.verificationFailed;
          }
        },
      )
      .command(
        'verify <registry>',
        'Verify the whole log: exit 0 intact, 1 tampered (names the first bad entry), 2 unreadable',
        (c) =>
          c
            .positional('registry', registryPositional)
            .option('checkpoint', { type: 'string', describe: 'a signed checkpoint kept outside the registry; the log must be consistent with it' })
            .option('public-key', { type: 'string', describe: 'the verifier key the registry must have' })
            .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }),
        async (args) => {
          let external: { note: string; label: string } | undefined;
          if (args.checkpoint !== undefined) {
            const note = await readTextFile(args.checkpoint, 'a checkpoint');
            try {
              parseCheckpoint(parseSignedNote(note).text);
            } catch (err) {
              throw new InputError(args.checkpoint, `not a signed checkpoint (${err instanceof NoteError ? err.message : String(err)})`);
            }
            external = { note, label: args.checkpoint };
          }
          const report = await withRegistry(args.registry, {}, (r) =>
            r.verify({
              ...(external === undefined ? {} : { externalCheckpoint: external }),
              ...(args['public-key'] === undefined ? {} : { trustedVerifierKey: args['public-key'] }),
            }),
          );
          ctx.io.out(args.json ? JSON.stringify({ ...report, findingTitles: Object.fromEntries(report.findings.map((f) => [f.kind, FINDING_INFO[f.kind].title])) }, null, 2) : renderVerifyText(report));
          if (!report.intact) ctx.exitCode = ExitCode.verificationFailed;
        },
      )
      .demandCommand(1, 'name a registry subcommand (init, add, leave, list, checkpoint, prove, verify-proof, verify)'),
  );
}
