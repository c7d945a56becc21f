/**
 * The session registry: legs, their tokens and who they were, on top of a `RegistryStore`.
 * `openRegistry(location)` picks the store: a `postgres://` / `postgresql://` URL opens the
 * PostgreSQL store, anything else is a directory (the embedded file store).
 */
import { InputError } from '../errors.js';
import { NoteError, openCheckpoint, parseVerifierKey } from './checkpoint.js';
import { makeProofBundle } from './bundle.js';
import type { ProofBundle } from './bundle.js';
import { LEG_KINDS } from '../legs.js';
import type { LegKind } from '../legs.js';
import { decodeEvent, encodeEvent, EventError, newToken, normalizeTime } from './events.js';
import type { KeyRotated, LegContent, LegJoined, LegLeft, MeetingCreated, RegistryEvent } from './events.js';
import { FileStore } from './file-store.js';
import { equalBytes, leafHash, treeRoot } from './merkle.js';
import { isPostgresUrl } from './store.js';
import type { AppendResult, RegistryDescription, RegistryStore } from './store.js';
import { verifyLog } from './verify.js';
import type { VerifyOptions, VerifyReport } from './verify.js';

export interface OpenRegistryOptions {
  /** Signing key file (file store default `<dir>.signing-key`; PostgreSQL: required to write). */
  signingKeyPath?: string;
  /** How long a writer waits for the lock (file store; default 30 s). */
  lockTimeoutMs?: number;
  /** Clock for default event times (tests). */
  now?: () => Date;
}

export interface AddLegInput {
  meeting: string;
  participant: string;
  leg: LegKind | string;
  device?: string;
  /** RFC 3339 date-time with offset, or a Date; default now. */
  joined?: string | Date;
}

export interface IndexedEvent<E extends RegistryEvent = RegistryEvent> {
  index: number;
  event: E;
}

export interface AddLegResult {
  token: string;
  /** Index of the leg.joined entry. */
  index: number;
  event: LegJoined;
  /** Entries appended (meeting.created first when the meeting was new). */
  appended: IndexedEvent[];
  /** The signed checkpoint covering the new entries. */
  checkpoint: string;
}

/** A leg as the registry knows it: its leg.joined fields, the leave time, and the entry index. */
export type LegRecord = Omit<LegJoined, 'type'> & {
  left?: string;
  /** SHA-256 digests of the leg's committed content references (leg.content entries), in log order. */
  contentReferences?: string[];
  /** Index of the leg.joined entry. */
  index: number;
};

/** Open the store a registry location names. */
export async function openStore(location: string, options: OpenRegistryOptions = {}): Promise<RegistryStore> {
  if (isPostgresUrl(location)) {
    const { PostgresStore } = await import('./postgres-store.js');
    return new PostgresStore(location, options.signingKeyPath === undefined ? {} : { signingKeyPath: options.signingKeyPath });
  }
  return new FileStore(location, {
    ...(options.signingKeyPath === undefined ? {} : { signingKeyPath: options.signingKeyPath }),
    ...(options.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.lockTimeoutMs }),
  });
}

/** Open a registry (nothing is created until `init` or the first append). */
export async function openRegistry(location: string, options: OpenRegistryOptions = {}): Promise<Registry> {
  return new Registry(await openStore(location, options), options);
}

function timeOf(value: string | Date | undefined, now: () => Date, field: string): string {
  if (value === undefined) return now().toISOString();
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new EventError(`${field} is an invalid Date`);
    return value.toISOString();
  }
  return normalizeTime(value, field);
}

export class Registry {
  readonly store: RegistryStore;
  readonly #now: () => Date;

  constructor(store: RegistryStore, options: OpenRegistryOptions = {}) {
    this.store = store;
    this.#now = options.now ?? (() => new Date());
  }

  get location(): string {
    return this.store.location;
  }

  init(options: { origin?: string } = {}): Promise<RegistryDescription> {
    return this.store.init(options);
  }

  describe(): Promise<RegistryDescription> {
    return this.store.describe();
  }

  #decodeAll(entries: readonly Uint8Array[]): RegistryEvent[] {
    return entries.map((leaf, index) => {
      try {
        return decodeEvent(leaf);
      } catch (err) {
        throw new InputError(this.location, `entry #${index} is invalid (${(err as Error).message}); run earmark registry verify`);
      }
    });
  }

  #input<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof EventError) throw new InputError(this.location, err.message);
      throw err;
    }
  }

  /** Register a leg: appends meeting.created when the meeting is new, then leg.joined with a fresh token. */
  async addLeg(input: AddLegInput): Promise<AddLegResult> {
    const now = this.#now();
    const joined = this.#input(() => timeOf(input.joined, () => now, 'joined'));
    const draft: LegJoined = {
      type: 'leg.joined',
      token: newToken(),
      meeting: input.meeting,
      participant: input.participant,
      leg: input.leg as LegKind,
      ...(input.device === undefined ? {} : { device: input.device }),
      joined,
    };
    if (!(LEG_KINDS as readonly string[]).includes(input.leg)) {
      throw new InputError(this.location, `leg ${JSON.stringify(input.leg)} is not one of ${LEG_KINDS.join(', ')}`);
    }
    this.#input(() => encodeEvent(draft));
    const res = await this.store.append((current) => {
      const events = this.#decodeAll(current);
      const tokens = new Set(events.flatMap((e) => (e.type === 'leg.joined' ? [e.token] : [])));
      const appended: RegistryEvent[] = [];
      if (!events.some((e) => e.type === 'meeting.created' && e.meeting === draft.meeting)) {
        const created: MeetingCreated = { type: 'meeting.created', meeting: draft.meeting, created: now.toISOString() };
        appended.push(created);
      }
      let token = draft.token;
      while (tokens.has(token)) token = newToken();
      const event: LegJoined = { ...draft, token };
      appended.push(event);
      return { leaves: appended.map((e) => encodeEvent(e)), result: { appended, event } };
    });
    const appended = res.result.appended.map((event, i) => ({ index: res.firstIndex + i, event }));
    return { token: res.result.event.token, index: appended[appended.length - 1]!.index, event: res.result.event, appended, checkpoint: res.checkpoint };
  }

  /** Record that a leg left. */
  async leaveLeg(input: { token: string; left?: string | Date }): Promise<{ index: number; event: LegLeft; checkpoint: string }> {
    const left = this.#input(() => timeOf(input.left, this.#now, 'left'));
    const event: LegLeft = { type: 'leg.left', token: input.token, left };
    this.#input(() => encodeEvent(event));
    const res = await this.store.append((current) => {
      const events = this.#decodeAll(current);
      if (!events.some((e) => e.type === 'leg.joined' && e.token === input.token)) throw new InputError(this.location, `no leg with token ${input.token}`);
      if (events.some((e) => e.type === 'leg.left' && e.token === input.token)) throw new InputError(this.location, `leg ${input.token} has already left`);
      return { leaves: [encodeEvent(event)], result: null };
    });
    return { index: res.firstIndex, event, checkpoint: res.checkpoint };
  }

  /** Record a watermark key rotation (by key identifier, never the key itself). */
  async recordKeyRotation(input: { key: string; rotated?: string | Date }): Promise<{ index: number; event: KeyRotated; checkpoint: string }> {
    const event: KeyRotated = { type: 'key.rotated', key: input.key, rotated: this.#input(() => timeOf(input.rotated, this.#now, 'rotated')) };
    this.#input(() => encodeEvent(event));
    const res: AppendResult<null> = await this.store.append(() => ({ leaves: [encodeEvent(event)], result: null }));
    return { index: res.firstIndex, event, checkpoint: res.checkpoint };
  }

  /**
   * Commit a content reference of a leg's downlink (lib/mark/content-ref.ts) by its file's SHA-256
   * (contentReferenceDigest): the file itself is kept beside the registry; a scan uses a reference
   * only when its digest is committed here for its token.
   */
  async recordContent(input: { token: string; reference: string; recorded?: string | Date }): Promise<{ index: number; event: LegContent; checkpoint: string }> {
    const event: LegContent = { type: 'leg.content', token: input.token, reference: input.reference, recorded: this.#input(() => timeOf(input.recorded, this.#now, 'recorded')) };
    this.#input(() => encodeEvent(event));
    const res = await this.store.append((current) => {
      const events = this.#decodeAll(current);
      if (!events.some((e) => e.type === 'leg.joined' && e.token === input.token)) throw new InputError(this.location, `no leg with token ${input.token}`);
      if (events.some((e) => e.type === 'leg.content' && e.token === input.token && e.reference === input.reference)) throw new InputError(this.location, `content reference ${input.reference.slice(0, 16)}… of ${input.token} is already recorded`);
      return { leaves: [encodeEvent(event)], result: null };
    });
    return { index: res.firstIndex, event, checkpoint: res.checkpoint };
  }

  /** Every event with its index. Throws InputError when an entry is invalid. */
  async events(): Promise<IndexedEvent[]> {
    await this.store.describe();
    return this.#decodeAll(await this.store.read()).map((event, index) => ({ index, event }));
  }

  /** Legs with their join (and leave) data, in join order. */
  async legs(): Promise<LegRecord[]> {
    const legs = new Map<string, LegRecord>();
    for (const { index, event } of await this.events()) {
      if (event.type === 'leg.joined') {
        const { type: _type, ...rest } = event;
        legs.set(event.token, { ...rest, index });
      } else if (event.type === 'leg.left') {
        const leg = legs.get(event.token);
        if (leg) leg.left = event.left;
      } else if (event.type === 'leg.content') {
        const leg = legs.get(event.token);
        if (leg) (leg.contentReferences ??= []).push(event.reference);
      }
    }
    return [...legs.values()];
  }

  /**
   * The latest signed checkpoint, covering the whole log. Seals first (needs the signing key)
   * when entries are not yet covered, e.g. after an append interrupted by a crash.
   */
  async checkpoint(): Promise<string> {
    const snapshot = await this.store.snapshot();
    const last = snapshot.checkpoints[snapshot.checkpoints.length - 1];
    if (last?.note) {
      try {
        const cp = openCheckpoint(last.note, parseVerifierKey(snapshot.description.verifierKey));
        if (cp.size === snapshot.entries.length && snapshot.tornTailBytes === 0) return last.note;
      } catch (err) {
        if (!(err instanceof NoteError)) throw err;
      }
    }
    return (await this.store.append(() => ({ leaves: [], result: null }))).checkpoint;
  }

  /** An offline-checkable inclusion proof of the leg.joined entry of `token`. */
  async prove(token: string): Promise<ProofBundle> {
    const snapshot = await this.store.snapshot();
    const events = this.#decodeAll(snapshot.entries);
    const index = events.findIndex((e) => e.type === 'leg.joined' && e.token === token);
    if (index < 0) throw new InputError(this.location, `no leg with token ${token}`);
    const last = snapshot.checkpoints[snapshot.checkpoints.length - 1];
    if (!last?.note) throw new InputError(this.location, 'no signed checkpoint to prove against; run earmark registry checkpoint');
    let size: number;
    try {
      const cp = openCheckpoint(last.note, parseVerifierKey(snapshot.description.verifierKey));
      size = cp.size;
      if (size <= index) throw new InputError(this.location, `entry #${index} is not covered by the latest checkpoint yet; run earmark registry checkpoint`);
      if (size > snapshot.entries.length || !equalBytes(treeRoot(snapshot.entries.map((e) => leafHash(e)), size), cp.rootHash)) {
        throw new InputError(this.location, 'the log does not match its latest checkpoint; run earmark registry verify');
      }
    } catch (err) {
      if (err instanceof NoteError) throw new InputError(this.location, `latest checkpoint is invalid (${err.message}); run earmark registry verify`);
      throw err;
    }
    return makeProofBundle({ entries: snapshot.entries, index, checkpoint: last.note, treeSize: size, publicKey: snapshot.description.verifierKey });
  }

  /** Full verification (see verify.ts). */
  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    return verifyLog(await this.store.snapshot(), options);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
