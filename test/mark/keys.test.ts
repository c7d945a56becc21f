import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError } from '../../lib/errors.js';
import { KeyStream, generateKey, legKey, parseKey, serializeKey } from '../../lib/mark/keys.js';

const t = suite('mark/keys');

t('a key file round-trips and never contains the key in its id', () => {
  const key = generateKey();
  const text = new TextDecoder().decode(serializeKey(key));
  const back = parseKey(serializeKey(key), 'k.key');
  assert.equal(Buffer.from(back.bytes), Buffer.from(key.bytes));
  assert.is(back.id, key.id);
  assert.match(key.id, /^[0-9a-f]{16}$/);
  assert.not.ok(Buffer.from(key.bytes).toString('hex').includes(key.id));
  assert.ok(text.endsWith('\n'));
  assert.is.not(generateKey().id, key.id);
});

t('corrupt or foreign key files are InputErrors naming the file', () => {
  const good = JSON.parse(new TextDecoder().decode(serializeKey(generateKey()))) as Record<string, unknown>;
  const bad: (string | Uint8Array)[] = [
    'not json',
    new Uint8Array([0xff, 0xfe, 0x00]),
    JSON.stringify({ ...good, format: 'something.else' }),
    JSON.stringify({ ...good, version: 2 }),
    JSON.stringify({ ...good, key: Buffer.alloc(16).toString('base64') }),
    JSON.stringify({ ...good, key: '!!!' }),
    JSON.stringify({ ...good, id: '0000000000000000' }),
    '[]',
  ];
  for (const b of bad) {
    const bytes = typeof b === 'string' ? new TextEncoder().encode(b) : b;
    assert.throws(
      () => parseKey(bytes, 'leak.key'),
      (e: unknown) => e instanceof InputError && e.message.startsWith('leak.key: '),
    );
  }
});

t('named streams are independent, deterministic and randomly accessible', () => {
  const key = generateKey();
  const leg = legKey(key, 'token-1');
  const a = new KeyStream(leg, 'sync');
  const b = new KeyStream(leg, 'timecode-chip');
  assert.equal(a.bytes(0, 64), new KeyStream(leg, 'sync').bytes(0, 64));
  assert.not.equal(Buffer.from(a.bytes(0, 64)), Buffer.from(b.bytes(0, 64)));
  assert.equal(Buffer.from(a.bytes(37, 50)), Buffer.from(a.bytes(0, 87).subarray(37)));
  const s = a.signs(0, 4096);
  const s2 = a.signs(1000, 100);
  for (let i = 0; i < 100; i++) assert.is(s2[i], s[1000 + i]);
  let sum = 0;
  for (const v of s) sum += v;
  assert.ok(Math.abs(sum) < 4 * Math.sqrt(4096), `signs balanced: ${sum}`);
  // Different tokens and keys give different leg keys.
  assert.not.equal(Buffer.from(legKey(key, 'token-2')), Buffer.from(leg));
  assert.not.equal(Buffer.from(legKey(generateKey(), 'token-1')), Buffer.from(leg));
});

t.run();
