import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readKeyFile } from '../../cli/keyfile.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const t = suite('cli/keygen');
const tmp = tempDir();
t.after(() => tmp.cleanup());

t('keygen writes a 0600 key file, prints the key id and never the key', async () => {
  const path = tmp.path('org.key');
  const r = await cli(['keygen', path]);
  assert.is(r.code, 0, r.stderr);
  assert.is(statSync(path).mode & 0o777, 0o600);
  const key = await readKeyFile(path);
  assert.match(r.stdout, new RegExp(`key id ${key.id}`));
  const secret = Buffer.from(key.bytes).toString('base64');
  assert.not.ok(r.stdout.includes(secret) || r.stderr.includes(secret));
  const again = await readKeyFile(path);
  assert.equal(again.bytes, key.bytes);
});

t('keygen refuses to overwrite; a bad key file is exit-2 material naming the file', async () => {
  const path = tmp.path('exists.key');
  writeFileSync(path, 'precious');
  const r = await cli(['keygen', path]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /refusing to overwrite/);
  assert.is(readFileSync(path, 'utf8'), 'precious');
  for (const [name, content, re] of [
    ['garbage.key', 'not json', /not an earmark key file/],
    ['short.key', JSON.stringify({ format: 'earmark.key', version: 1, key: Buffer.alloc(16).toString('base64') }), /16 bytes, expected 32/],
  ] as const) {
    writeFileSync(tmp.path(name), content);
    try {
      await readKeyFile(tmp.path(name));
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, new RegExp(`^${tmp.path(name)}: `));
      assert.match((err as Error).message, re);
    }
  }
  try {
    await readKeyFile(tmp.path('none.key'));
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /no such key file/);
  }
});

t.run();
