/**
 * The conformance suite against a real PostgreSQL server. Runs when EARMARK_TEST_PG_URL is set
 * (`.ci/postgres.sh` installs and starts one and prints the URL); otherwise it registers no
 * tests and says so on stderr.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError } from '../../lib/errors.js';
import { openRegistry } from '../../lib/registry/registry.js';
import { PostgresStore, redactUrl } from '../../lib/registry/postgres-store.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { conformanceSuite } from './conformance.js';
import type { FreshRegistry } from './conformance.js';

const url = process.env['EARMARK_TEST_PG_URL'];

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function schemaOf(reg: FreshRegistry): string {
  return new URL(reg.location).searchParams.get('schema')!;
}

/** Rewrite a table as an attacker with the owner's rights would: triggers off, rows replaced. */
async function rewrite(reg: FreshRegistry, table: 'entries' | 'checkpoints', rows: (string | Uint8Array)[]): Promise<void> {
  const s = `"${schemaOf(reg)}"`;
  await admin(async (c) => {
    await c.query('BEGIN');
    await c.query(`ALTER TABLE ${s}.${table} DISABLE TRIGGER USER`);
    await c.query(`DELETE FROM ${s}.${table}`);
    for (const [i, row] of rows.entries()) {
      await c.query(`INSERT INTO ${s}.${table} VALUES ($1, $2)`, [i, typeof row === 'string' ? row : Buffer.from(row)]);
    }
    await c.query(`ALTER TABLE ${s}.${table} ENABLE TRIGGER USER`);
    await c.query('COMMIT');
  });
}

if (!url) {
  process.stderr.write('registry: PostgreSQL store suite skipped (set EARMARK_TEST_PG_URL, e.g. from .ci/postgres.sh)\n');
} else {
  const withSchema = (schema: string) => {
    const u = new URL(url);
    u.searchParams.set('schema', schema);
    return u.toString();
  };

  conformanceSuite({
    name: 'postgres',
    async fresh(): Promise<FreshRegistry> {
      const tmp = tempDir('earmark-pg-');
      const schema = `earmark_t_${randomBytes(6).toString('hex')}`;
      return {
        location: withSchema(schema),
        signingKeyPath: join(tmp.dir, 'registry.signing-key'),
        cleanup: async () => {
          await admin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
          tmp.cleanup();
        },
      };
    },
    async rewriteEntries(reg, edit) {
      const rows = await admin((c) => c.query<{ leaf: Buffer }>(`SELECT leaf FROM "${schemaOf(reg)}".entries ORDER BY idx`));
      await rewrite(reg, 'entries', edit(rows.rows.map((r) => new Uint8Array(r.leaf))));
    },
    async rewriteCheckpoints(reg, edit) {
      const rows = await admin((c) => c.query<{ note: string }>(`SELECT note FROM "${schemaOf(reg)}".checkpoints ORDER BY position`));
      await rewrite(reg, 'checkpoints', edit(rows.rows.map((r) => r.note)));
    },
  });

  const t = suite('registry: postgres store specifics');
  const tmp = tempDir('earmark-pg-');
  const schema = `earmark_t_${randomBytes(6).toString('hex')}`;
  t.after(async () => {
    await admin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    tmp.cleanup();
  });

  t('the tables refuse UPDATE, DELETE and TRUNCATE', async () => {
    const r = await openRegistry(withSchema(schema), { signingKeyPath: tmp.path('k') });
    try {
      await r.addLeg({ meeting: 'm', participant: 'P', leg: 'pstn' });
    } finally {
      await r.close();
    }
    for (const sql of [`UPDATE "${schema}".entries SET leaf = 'x'`, `DELETE FROM "${schema}".checkpoints`, `TRUNCATE "${schema}".entries`, `UPDATE "${schema}".registry SET origin = 'x'`]) {
      await admin((c) => c.query(sql)).then(() => assert.unreachable(sql), (err: unknown) => assert.match((err as Error).message, /append-only/));
    }
  });

  t('CLI with a postgres:// registry: add prints the token last, verify exits 0', async () => {
    const location = withSchema(schema);
    const add = await cli(['registry', 'add', location, '--meeting', 'cli', '--participant', 'Pat', '--leg', 'app', '--signing-key', tmp.path('k')]);
    assert.is(add.code, 0, add.stderr);
    const token = add.stdout.trimEnd().split('\n').pop()!;
    assert.match(token, /^[a-z2-7]{26}$/);
    const list = await cli(['registry', 'list', location, '--json']);
    assert.ok((JSON.parse(list.stdout) as { entries: { token?: string }[] }).entries.some((e) => e.token === token));
    const verify = await cli(['registry', 'verify', location]);
    assert.is(verify.code, 0, verify.stdout);
    // Writing needs the key; the message names the registry without its password.
    const nokey = await cli(['registry', 'add', location, '--meeting', 'cli', '--participant', 'Q', '--leg', 'app']);
    assert.is(nokey.code, 2);
    assert.match(nokey.stderr, /needs its signing key file/);
    if (new URL(url).password) assert.match(nokey.stderr, /^earmark: postgres:\/\/[^:]*:\*\*\*@/);
  });

  t('unreachable server, missing registry and bad schema names are InputErrors', async () => {
    const down = new PostgresStore('postgres://u:secret@127.0.0.1:1/db');
    await down.describe().then(() => assert.unreachable(), (err: unknown) => {
      assert.instance(err, InputError);
      assert.match((err as Error).message, /^postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db: cannot connect/);
    });
    await down.close();
    const empty = new PostgresStore(withSchema('earmark_t_nothing_here'));
    await empty.snapshot().then(() => assert.unreachable(), (err: unknown) => assert.match((err as Error).message, /no registry in schema earmark_t_nothing_here/));
    await empty.close();
    assert.throws(() => new PostgresStore(withSchema('Bad-Name')), (err: unknown) => err instanceof InputError);
    assert.is(redactUrl('postgres://a:b@h/d'), 'postgres://a:***@h/d');
  });

  t.run();
}
