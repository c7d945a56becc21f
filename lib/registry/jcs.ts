/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): one byte sequence per JSON value, so a leaf's
 * hash does not depend on who serialized it.
 *
 * - Data model: I-JSON (RFC 7493): null, booleans, finite IEEE 754 doubles, strings of valid
 *   Unicode (no lone surrogates), arrays, objects with unique member names (RFC 8785 §3.1).
 * - Numbers: ECMAScript Number::toString (ECMA-262 §7.1.12.1), -0 written as 0 (§3.2.2.3).
 * - Strings: the JSON.stringify escapes: \b \t \n \f \r, \" and \\, other controls as
 *   lowercase \u00xx, everything else as is (§3.2.2.2).
 * - Object members sorted by their names as arrays of UTF-16 code units (§3.2.3).
 * - No whitespace; the result is encoded as UTF-8 by the caller (§3.2.4).
 */

/** A value in the JSON data model that RFC 8785 can canonicalize. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Thrown for values outside the I-JSON data model (NaN, Infinity, lone surrogates, ...). */
export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}

/** The RFC 8785 canonical text of `value`. */
export function canonicalize(value: unknown): string {
  const parts: string[] = [];
  write(value, parts, '$');
  return parts.join('');
}

/** The canonical text as UTF-8 bytes (what gets hashed). */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}

/**
 * Parse `text` and require it to be exactly the canonical form of what it encodes (no
 * whitespace, sorted members, no duplicate names, shortest numbers, minimal escapes).
 * Throws `CanonicalJsonError` naming the first difference otherwise.
 */
export function parseCanonical(text: string): JsonValue {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CanonicalJsonError(`not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const canonical = canonicalize(value);
  if (canonical !== text) {
    let i = 0;
    while (i < text.length && text[i] === canonical[i]) i++;
    // JSON.parse keeps the last of duplicate names, which re-serializes shorter.
    throw new CanonicalJsonError(`not in RFC 8785 canonical form (first difference at character ${i})`);
  }
  return value as JsonValue;
}

function write(value: unknown, out: string[], path: string): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      out.push(serializeNumber(value, path));
      return;
    case 'string':
      out.push(serializeString(value, path));
      return;
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`${path}: ${typeof value} is not a JSON value`);
  }
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, i) => {
      if (i > 0) out.push(',');
      write(item, out, `${path}[${i}]`);
    });
    out.push(']');
    return;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw new CanonicalJsonError(`${path}: only plain objects are JSON objects`);
  }
  const record = value as Record<string, unknown>;
  // Default string comparison in JS orders by UTF-16 code units, as §3.2.3 requires.
  const keys = Object.keys(record).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  out.push('{');
  keys.forEach((key, i) => {
    const member = record[key];
    if (member === undefined) throw new CanonicalJsonError(`${path}.${key}: undefined is not a JSON value`);
    if (i > 0) out.push(',');
    out.push(serializeString(key, `${path} member name`), ':');
    write(member, out, `${path}.${key}`);
  });
  out.push('}');
}

function serializeNumber(n: number, path: string): string {
  if (!Number.isFinite(n)) throw new CanonicalJsonError(`${path}: ${n} is not an I-JSON number`);
  // ECMAScript Number::toString is the RFC 8785 number format; it prints -0 as "0".
  return String(n);
}

function serializeString(s: string, path: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      throw new CanonicalJsonError(`${path}: lone surrogate U+${c.toString(16).toUpperCase()} at ${i}`);
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      throw new CanonicalJsonError(`${path}: lone surrogate U+${c.toString(16).toUpperCase()} at ${i}`);
    }
  }
  // With lone surrogates excluded, JSON.stringify's escaping is exactly §3.2.2.2.
  return JSON.stringify(s);
}
