import type { Argv } from 'yargs';
import { generateKey } from '../../lib/mark/keys.js';
import type { CommandContext } from '../context.js';
import { writeNewKeyFile } from '../keyfile.js';

export function keygenCommand(cli: Argv, ctx: CommandContext): Argv {
  return cli.command(
    'keygen <keyfile>',
    "Create the organisation's 256-bit watermark key (file mode 0600); prints its key id, never the key",
    (y) => y.positional('keyfile', { type: 'string', demandOption: true, describe: 'path of the new key file (must not exist)' }),
    async (args) => {
      const key = generateKey();
      await writeNewKeyFile(args.keyfile, key);
      ctx.io.out(`key id ${key.id} written to ${args.keyfile}`);
    },
  );
}
