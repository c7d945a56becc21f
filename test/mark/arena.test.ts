import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena } from '../../lib/mark/arena.js';

const t = suite('mark/arena');

t('arrays are zeroed, disjoint until reset, reused after it; large requests get their own slab', () => {
  const arena = new Arena();
  const a = arena.f64(1000);
  const b = arena.f32(999);
  a.fill(1);
  b.fill(2);
  assert.ok(a.every((v) => v === 1) && b.every((v) => v === 2), 'disjoint');
  assert.is(a.byteOffset % 8, 0);
  assert.is(b.byteOffset % 8, 0);
  const held = arena.bytes;
  arena.reset();
  const c = arena.f64(1000);
  assert.is(c.buffer, a.buffer);
  assert.ok(c.every((v) => v === 0), 'zeroed on reuse');
  assert.is(arena.bytes, held);
  const big = arena.f32(20_000_000); // 80 MB, more than a slab
  assert.is(big.length, 20_000_000);
  assert.ok(arena.bytes >= held + 80_000_000);
  arena.reset();
  // The same sequence again needs no new memory.
  const before = arena.bytes;
  arena.f64(1000);
  arena.f32(20_000_000);
  assert.is(arena.bytes, before);
});

t.run();
