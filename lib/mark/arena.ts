/**
 * Reusable memory for the detector's per-clip arrays when a long clip is scanned in pieces
 * (detect/index.ts): each piece's band energies, grids and tile features (~260 MB per 256 s piece) are
 * taken from the arena and the arena is reset between pieces. Without it, V8 left the freed typed
 * arrays uncollected (its JS heap stays small, so it sees little reason to collect) and a
 * 12-minute scan in pieces reached 2.2 GB RSS.
 *
 * Arrays are carved from large slabs, 8-byte aligned and zero-filled when taken (as new typed
 * arrays are). Nothing taken may be used after reset(): the detector only hands callers results
 * that hold no arena memory.
 */
const SLAB_BYTES = 64 * 1024 * 1024;

export class Arena {
  #slabs: ArrayBuffer[] = [];
  #slab = 0;
  #offset = 0;

  f32(n: number): Float32Array {
    const [buf, at] = this.#take(4 * n);
    const a = new Float32Array(buf, at, n);
    a.fill(0);
    return a;
  }

  f64(n: number): Float64Array {
    const [buf, at] = this.#take(8 * n);
    const a = new Float64Array(buf, at, n);
    a.fill(0);
    return a;
  }

  /** Make every slab available again (everything taken so far becomes invalid). */
  reset(): void {
    this.#slab = 0;
    this.#offset = 0;
  }

  /** Bytes held (for tests and diagnostics). */
  get bytes(): number {
    return this.#slabs.reduce((n, s) => n + s.byteLength, 0);
  }

  #take(bytes: number): [ArrayBuffer, number] {
    const size = Math.ceil(bytes / 8) * 8;
    for (;;) {
      const slab = this.#slabs[this.#slab];
      if (!slab) {
        this.#slabs.push(new ArrayBuffer(Math.max(SLAB_BYTES, size)));
        this.#offset = 0;
        continue;
      }
      if (this.#offset + size <= slab.byteLength) {
        const at = this.#offset;
        this.#offset += size;
        return [slab, at];
      }
      // Does not fit: the next slab (a large request on a reused small slab inserts its own).
      if (size > slab.byteLength && this.#offset === 0) {
        this.#slabs.splice(this.#slab, 0, new ArrayBuffer(size));
        continue;
      }
      this.#slab++;
      this.#offset = 0;
    }
  }
}
