/**
 * Registry events: each is one log leaf, the RFC 8785 canonical JSON of an object whose `type`
 * names the event. Nothing is ever updated or deleted: a leg's join and leave are separate
 * events, and a correction would be a new event.
 *
 *   {"created":…,"meeting":…,"type":"meeting.created"}
 *   {"device":…?,"joined":…,"leg":"app|browser|sip|pstn|recorder","meeting":…,"participant":…,
 *    "token":…,"type":"leg.joined"}
 *   {"left":…,"token":…,"type":"leg.left"}
 *   {"key":…,"rotated":…,"type":"key.rotated"}           (watermark key change, by key id)
 *   {"recorded":…,"reference":…,"token":…,"type":"leg.content"}
 *        (a content reference of the leg's downlink, lib/mark/content-ref.ts, committed by the
 *        SHA-256 of its file: the file is kept beside the registry and a scan uses it only if it
 *        matches a commitment; a leg may have several, e.g. one per rejoin)
 *
 * Times are the bridge's claims (a log proves order, not time), stored as UTC RFC 3339 with
 * milliseconds ("2025-01-31T09:30:00.000Z").
 *
 * Tokens: 16 random bytes (crypto.randomBytes) in lowercase RFC 4648 base32 without padding,
 * 26 characters of [a-z2-7]: 128 bits, case-insensitive when read aloud, URL- and file-safe.
 */
import { randomBytes } from 'node:crypto';
import { canonicalBytes, parseCanonical } from './jcs.js';

import { LEG_KINDS } from '../legs.js';
import type { LegKind } from '../legs.js';


export interface MeetingCreated {
  type: 'meeting.created';
  meeting: string;
  created: string;
}

export interface LegJoined {
  type: 'leg.joined';
  token: string;
  meeting: string;
  participant: string;
  leg: LegKind;
  device?: string;
  joined: string;
}

export interface LegLeft {
  type: 'leg.left';
  token: string;
  left: string;
}

export interface KeyRotated {
  type: 'key.rotated';
  /** Identifier (e.g. fingerprint) of the watermark key in use from now on. */
  key: string;
  rotated: string;
}

export interface LegContent {
  type: 'leg.content';
  token: string;
  /** SHA-256 (lowercase hex) of the content reference file (lib/mark/content-ref.ts serializeContentReference). */
  reference: string;
  recorded: string;
}

export type RegistryEvent = MeetingCreated | LegJoined | LegLeft | KeyRotated | LegContent;
export type EventType = RegistryEvent['type'];

/** Thrown when a value or leaf is not a valid event; the message says which field and why. */
export class EventError extends Error {
  override readonly name = 'EventError';
}

/** Required and optional fields per type (besides `type`). */
const FIELDS: Record<EventType, { required: readonly string[]; optional: readonly string[] }> = {
  'meeting.created': { required: ['meeting', 'created'], optional: [] },
  'leg.joined': { required: ['token', 'meeting', 'participant', 'leg', 'joined'], optional: ['device'] },
  'leg.left': { required: ['token', 'left'], optional: [] },
  'key.rotated': { required: ['key', 'rotated'], optional: [] },
  'leg.content': { required: ['token', 'reference', 'recorded'], optional: [] },
};

const TIME_FIELDS = new Set(['created', 'joined', 'left', 'rotated', 'recorded']);
const SHA256_HEX = /^[0-9a-f]{64}$/;
const TEXT_LIMIT = 512;
const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{8,128}$/;
const STORED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// RFC 3339 date-time; the offset is required so a time is never ambiguous.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A fresh random token (16 bytes, lowercase base32, 26 characters). */
export function newToken(): string {
  const bytes = randomBytes(16);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Parse an RFC 3339 date-time with offset and return the stored UTC form. */
export function normalizeTime(text: string, field = 'time'): string {
  const m = RFC3339.exec(text);
  if (!m) throw new EventError(`${field} ${JSON.stringify(text)} is not an RFC 3339 date-time with offset (e.g. 2025-01-31T09:30:00Z)`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(text.replace(' ', 'T'));
  const probe = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, Math.min(s!, 59)));
  if (Number.isNaN(date.getTime()) || probe.getUTCDate() !== d || probe.getUTCMonth() !== mo! - 1 || h! > 23 || mi! > 59 || s! > 60) {
    throw new EventError(`${field} ${JSON.stringify(text)} is not a valid date-time`);
  }
  return date.toISOString();
}

function checkText(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new EventError(`${field} must be a string`);
  if (value.length === 0) throw new EventError(`${field} must not be empty`);
  if (value.length > TEXT_LIMIT) throw new EventError(`${field} is longer than ${TEXT_LIMIT} characters`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new EventError(`${field} contains control characters`);
  if (value !== value.trim()) throw new EventError(`${field} has leading or trailing spaces`);
  return value;
}

/** Check that `value` is a valid event (exact fields, types, formats) and return it typed. */
export function validateEvent(value: unknown): RegistryEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EventError('event must be a JSON object');
  const record = value as Record<string, unknown>;
  const type = record['type'];
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type)) {
    throw new EventError(`unknown event type ${JSON.stringify(type)} (expected ${Object.keys(FIELDS).join(', ')})`);
  }
  const spec = FIELDS[type as EventType];
  for (const key of Object.keys(record)) {
    if (key !== 'type' && !spec.required.includes(key) && !spec.optional.includes(key)) {
      throw new EventError(`${type} has unexpected field ${JSON.stringify(key)}`);
    }
  }
  for (const key of spec.required) if (!Object.hasOwn(record, key)) throw new EventError(`${type} lacks field ${key}`);
  for (const key of [...spec.required, ...spec.optional]) {
    if (!Object.hasOwn(record, key)) continue;
    const text = checkText(record[key], `${type} ${key}`);
    if (TIME_FIELDS.has(key) && (!STORED_TIME.test(text) || normalizeTime(text, `${type} ${key}`) !== text)) {
      throw new EventError(`${type} ${key} ${JSON.stringify(text)} is not a UTC time like 2025-01-31T09:30:00.000Z`);
    }
    if (key === 'token' && !TOKEN_PATTERN.test(text)) throw new EventError(`${type} token ${JSON.stringify(text)} is not 8-128 URL-safe characters`);
    if (key === 'reference' && !SHA256_HEX.test(text)) throw new EventError(`${type} reference ${JSON.stringify(text)} is not a SHA-256 in lowercase hex`);
    if (key === 'leg' && !(LEG_KINDS as readonly string[]).includes(text)) {
      throw new EventError(`${type} leg ${JSON.stringify(text)} is not one of ${LEG_KINDS.join(', ')}`);
    }
  }
  return record as unknown as RegistryEvent;
}

/** The leaf bytes of an event: UTF-8 of its RFC 8785 canonical JSON. */
export function encodeEvent(event: RegistryEvent): Uint8Array {
  return canonicalBytes(validateEvent(event));
}

/** Decode and validate one leaf: UTF-8, canonical JSON, valid event. Throws `EventError`. */
export function decodeEvent(leaf: Uint8Array): RegistryEvent {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(leaf);
  } catch {
    throw new EventError('not valid UTF-8');
  }
  let value: unknown;
  try {
    value = parseCanonical(text);
  } catch (err) {
    throw new EventError(err instanceof Error ? err.message : String(err));
  }
  return validateEvent(value);
}
