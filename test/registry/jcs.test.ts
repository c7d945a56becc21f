import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalBytes, canonicalize, CanonicalJsonError, parseCanonical } from '../../lib/registry/jcs.js';

const t = suite('registry: RFC 8785 canonical JSON');
const isJcsError = (err: unknown): boolean => err instanceof CanonicalJsonError;

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

t('RFC 8785 §3.2.2 sample: literals, numbers, string escapes, member order', () => {
  // Parsed from the RFC's input text (JSON.parse does the reading, as in the RFC).
  const input = '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}';
  const expected = '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
  assert.is(canonicalize(JSON.parse(input)), expected);
  // The RFC's UTF-8 rendering starts 7b 22 6c 69 74 65 72 61 6c 73 ("{"literals).
  assert.is(Buffer.from(canonicalBytes(JSON.parse(input))).subarray(0, 10).toString('hex'), '7b226c69746572616c73');
});

t('RFC 8785 §3.2.3 sorting: UTF-16 code units, not code points', () => {
  const input = '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}';
  // Read the member values in text order (JS objects would list "1" first).
  const values = [...canonicalize(JSON.parse(input)).matchAll(/":"([^"]+)"/g)].map((m) => m[1]);
  assert.equal(values, ['Carriage Return', 'One', 'Control', 'Latin Small Letter O With Diaeresis', 'Euro Sign', 'Emoji: Grinning Face', 'Hebrew Letter Dalet With Dagesh']);
});

t('RFC 8785 Appendix B: number serialization of IEEE 754 bit patterns', () => {
  const table: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  for (const [bits, text] of table) assert.is(canonicalize(fromBits(bits)), text, bits);
  // NaN and Infinity are outside I-JSON.
  for (const bits of ['7fffffffffffffff', '7ff0000000000000']) assert.throws(() => canonicalize(fromBits(bits)), isJcsError);
});

t('nested structures, empty containers, arrays keep their order', () => {
  assert.is(canonicalize({ b: [3, { z: 1, a: [] }, {}], a: 'x' }), '{"a":"x","b":[3,{"a":[],"z":1},{}]}');
  assert.is(canonicalize([]), '[]');
  assert.is(canonicalize('\u007f\u2028'), '"\u007f\u2028"');
});

t('values outside the data model are rejected', () => {
  for (const bad of [undefined, () => 1, 10n, { a: undefined }, new Date(0), '\ud800', 'x\udc00y', { '\ud83d': 1 }]) {
    assert.throws(() => canonicalize(bad), isJcsError, String(bad));
  }
  assert.is(canonicalize('\ud83d\ude00'), '"😀"');
});

t('parseCanonical accepts only the canonical text', () => {
  assert.equal(parseCanonical('{"a":1,"b":[true,null]}'), { a: 1, b: [true, null] });
  for (const bad of ['{"b":1,"a":2}', '{"a": 1}', '{"a":1.0}', '{"a":"\\u0041"}', '{"a":1,"a":2}', '{"a":1e400}', 'nope', ' 1', '"\\/"']) {
    assert.throws(() => parseCanonical(bad), isJcsError, bad);
  }
});

t.run();
