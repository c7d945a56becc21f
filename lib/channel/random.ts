/**
 * Seeded random streams for the channel simulator. Every consumer draws from its own named
 * stream derived from (seed, name), so adding a step or a participant never shifts the numbers
 * another stage sees. Not cryptographic: this is for reproducible test signals only.
 */

/** Mix a seed and a stream name into a 32-bit stream seed (FNV-1a over the name, then a
 * murmur3-style finaliser so nearby seeds give unrelated streams). */
export function deriveSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  h = Math.imul(h ^ Math.floor(seed / 2 ** 32), 0x01000193) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export interface RandomStream {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number;
  /** Standard normal deviate. */
  gaussian(): number;
  /** Integer in [0, n). */
  int(n: number): number;
}

/** A named stream: sfc32 generator seeded from `deriveSeed(seed, name)`. */
export function randomStream(seed: number, name: string): RandomStream {
  let a = deriveSeed(seed, `${name}/a`);
  let b = deriveSeed(seed, `${name}/b`);
  let c = deriveSeed(seed, `${name}/c`);
  let d = 1;
  const next = (): number => {
    // sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, public domain design).
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  let spare: number | undefined;
  return {
    uniform: next,
    between: (lo, hi) => lo + (hi - lo) * next(),
    int: (n) => Math.min(n - 1, Math.floor(next() * n)),
    gaussian: () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      // Box-Muller; 1 - u keeps the log argument in (0, 1].
      const u = 1 - next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}
