/**
 * The registry in PostgreSQL, for fleets of bridges writing to one registry
 * (`postgres://user:pass@host:port/db?schema=name`; schema default `earmark`).
 *
 *   <schema>.registry     one row: format, origin, verifier key
 *   <schema>.entries      (idx, leaf bytea): the Merkle leaves, canonical event JSON
 *   <schema>.checkpoints  (position, note): every signed checkpoint issued
 *
 * Triggers reject UPDATE, DELETE and TRUNCATE on all three tables (append-only even for a
 * careless client; a privileged attacker can drop them, which verification then exposes).
 * Appends run in one transaction that first takes a transaction-scoped advisory lock on the
 * schema, so writers from any number of hosts are serialized and the sealing check sees the
 * latest committed state; the commit (synchronous_commit) is the durability point. The
 * signing key stays in a file on the writer (`signingKeyPath`), never in the database.
 */
import pg from 'pg';
import type { ClientBase } from 'pg';
import { InputError } from '../errors.js';
import { formatVerifierKey, parseVerifierKey, verifierOf } from './checkpoint.js';
import { readOrCreateSigningKey, readSigningKey } from './keyfile.js';
import { sealNotes } from './store.js';
import type { AppendPlanner, AppendResult, LogSnapshot, RegistryDescription, RegistryStore, StoredCheckpoint } from './store.js';

export const POSTGRES_FORMAT = 'earmark.registry/1';

export interface PostgresStoreOptions {
  /** Signing key file; required to write (created by `init` when missing). */
  signingKeyPath?: string;
}

/** The URL with its password replaced, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:@/]*):[^@/]*@/, '://$1:***@');
  }
}

function parseLocation(url: string): { connectionString: string; schema: string; location: string } {
  const location = redactUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(location, 'not a valid postgres:// URL');
  }
  const schema = u.searchParams.get('schema') ?? 'earmark';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new InputError(location, `schema ${JSON.stringify(schema)} must be a lowercase SQL identifier`);
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema, location };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

export class PostgresStore implements RegistryStore {
  readonly location: string;
  readonly schema: string;
  readonly #connectionString: string;
  readonly #signingKeyPath: string | undefined;
  #client: pg.Client | null = null;

  constructor(url: string, options: PostgresStoreOptions = {}) {
    const parsed = parseLocation(url);
    this.location = parsed.location;
    this.schema = parsed.schema;
    this.#connectionString = parsed.connectionString;
    this.#signingKeyPath = options.signingKeyPath;
  }

  #t(table: string): string {
    return `"${this.schema}"."${table}"`;
  }

  async #connect(): Promise<pg.Client> {
    if (this.#client) return this.#client;
    const client = new pg.Client({ connectionString: this.#connectionString, connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new InputError(this.location, `cannot connect to PostgreSQL (${message(err)})`);
    }
    client.on('error', () => {
      // A dropped connection surfaces on the next query; keep the process alive.
    });
    this.#client = client;
    return client;
  }

  /** Run `fn` in a transaction; rolls back on error. */
  async #transaction<T>(mode: string, fn: (c: ClientBase) => Promise<T>): Promise<T> {
    const client = await this.#connect();
    await client.query(`BEGIN ${mode}`);
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (err instanceof InputError) throw err;
      if (err instanceof pg.DatabaseError) throw new InputError(this.location, `PostgreSQL error (${message(err)})`);
      throw err;
    }
  }

  async #lockSchema(c: ClientBase): Promise<void> {
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('earmark.registry'), hashtext($1))`, [this.schema]);
  }

  async #exists(c: ClientBase): Promise<boolean> {
    const r = await c.query<{ t: string | null }>(`SELECT to_regclass($1) AS t`, [`"${this.schema}"."registry"`]);
    return r.rows[0]?.t !== null && r.rows[0]?.t !== undefined;
  }

  async #describe(c: ClientBase): Promise<RegistryDescription> {
    if (!(await this.#exists(c))) {
      throw new InputError(this.location, `no registry in schema ${this.schema} (create one with earmark registry init or registry add)`);
    }
    const r = await c.query<{ format: string; origin: string; verifier_key: string }>(`SELECT format, origin, verifier_key FROM ${this.#t('registry')}`);
    const row = r.rows[0];
    if (r.rows.length !== 1 || !row || row.format !== POSTGRES_FORMAT) throw new InputError(this.location, `schema ${this.schema} holds no valid ${POSTGRES_FORMAT} registry row`);
    try {
      if (parseVerifierKey(row.verifier_key).name !== row.origin) throw new Error('verifier key name is not the origin');
    } catch (err) {
      throw new InputError(this.location, `registry row is corrupt (${message(err)})`);
    }
    return { origin: row.origin, verifierKey: row.verifier_key };
  }

  async init(options: { origin?: string } = {}): Promise<RegistryDescription> {
    return this.#transaction('', async (c) => {
      await this.#lockSchema(c);
      if (await this.#exists(c)) return this.#describe(c);
      const keyPath = this.#requireKeyPath();
      const key = await readOrCreateSigningKey(keyPath, options.origin, this.location);
      const description: RegistryDescription = { origin: key.name, verifierKey: formatVerifierKey(verifierOf(key)) };
      const s = `"${this.schema}"`;
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await c.query(`CREATE TABLE ${s}.registry (id smallint PRIMARY KEY CHECK (id = 1), format text NOT NULL, origin text NOT NULL, verifier_key text NOT NULL)`);
      await c.query(`CREATE TABLE ${s}.entries (idx bigint PRIMARY KEY CHECK (idx >= 0), leaf bytea NOT NULL)`);
      await c.query(`CREATE TABLE ${s}.checkpoints (position bigint PRIMARY KEY CHECK (position >= 0), note text NOT NULL)`);
      await c.query(`CREATE FUNCTION ${s}.append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'earmark registry tables are append-only'; END $$`);
      for (const table of ['registry', 'entries', 'checkpoints']) {
        await c.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${s}.${table} FOR EACH ROW EXECUTE FUNCTION ${s}.append_only()`);
        await c.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${s}.${table} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.append_only()`);
      }
      await c.query(`INSERT INTO ${s}.registry (id, format, origin, verifier_key) VALUES (1, $1, $2, $3)`, [POSTGRES_FORMAT, description.origin, description.verifierKey]);
      return description;
    });
  }

  #requireKeyPath(): string {
    if (this.#signingKeyPath === undefined) {
      throw new InputError(this.location, 'writing to a PostgreSQL registry needs its signing key file (option signingKeyPath)');
    }
    return this.#signingKeyPath;
  }

  async describe(): Promise<RegistryDescription> {
    return this.#transaction('READ ONLY', (c) => this.#describe(c));
  }

  async #entries(c: ClientBase, start = 0, end?: number): Promise<Uint8Array[]> {
    const r = await c.query<{ leaf: Buffer }>(
      `SELECT leaf FROM ${this.#t('entries')} WHERE idx >= $1 AND ($2::bigint IS NULL OR idx < $2) ORDER BY idx`,
      [start, end ?? null],
    );
    return r.rows.map((row) => new Uint8Array(row.leaf));
  }

  async #checkpoints(c: ClientBase, lastOnly = false): Promise<StoredCheckpoint[]> {
    const r = await c.query<{ position: string; note: string }>(
      `SELECT position, note FROM ${this.#t('checkpoints')} ORDER BY position ${lastOnly ? 'DESC LIMIT 1' : ''}`,
    );
    // Positions as the verifier sees them: their order in the history.
    return r.rows.map((row, i) => ({ position: lastOnly ? Number(row.position) : i, note: row.note }));
  }

  async size(): Promise<number> {
    return this.#transaction('READ ONLY', async (c) => {
      await this.#describe(c);
      const r = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.#t('entries')}`);
      return Number(r.rows[0]!.n);
    });
  }

  async read(start = 0, end?: number): Promise<Uint8Array[]> {
    return this.#transaction('READ ONLY', async (c) => {
      await this.#describe(c);
      return this.#entries(c, start, end);
    });
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    return this.#transaction('READ ONLY', async (c) => {
      await this.#describe(c);
      return this.#checkpoints(c);
    });
  }

  async snapshot(): Promise<LogSnapshot> {
    return this.#transaction('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (c) => {
      const description = await this.#describe(c);
      return { location: this.location, description, entries: await this.#entries(c), tornTailBytes: 0, checkpoints: await this.#checkpoints(c) };
    });
  }

  async append<T>(planner: AppendPlanner<T>): Promise<AppendResult<T>> {
    await this.init();
    const signer = await readSigningKey(this.#requireKeyPath());
    return this.#transaction('', async (c) => {
      await this.#lockSchema(c);
      const description = await this.#describe(c);
      const entries = await this.#entries(c);
      const last = (await this.#checkpoints(c, true))[0] ?? null;
      const { leaves, result } = planner(entries);
      const notes = sealNotes({ location: this.location, description, signer, entries, lastCheckpoint: last, newLeaves: leaves });
      for (const [i, leaf] of leaves.entries()) {
        await c.query(`INSERT INTO ${this.#t('entries')} (idx, leaf) VALUES ($1, $2)`, [entries.length + i, Buffer.from(leaf)]);
      }
      const nextPosition = last === null ? 0 : last.position + 1;
      for (const [i, note] of notes.entries()) {
        await c.query(`INSERT INTO ${this.#t('checkpoints')} (position, note) VALUES ($1, $2)`, [nextPosition + i, note]);
      }
      const latest = notes[notes.length - 1] ?? last?.note;
      if (latest === undefined || latest === null) throw new InputError(this.location, 'the registry is empty: nothing to checkpoint yet');
      return { firstIndex: entries.length, size: entries.length + leaves.length, checkpoint: latest, result };
    });
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }
}
