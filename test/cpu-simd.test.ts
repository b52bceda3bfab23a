// wasm-simd.ts: the four-lane Montgomery product against bigint at the edges of its stated bound
// (limbs all ones, operands as large as the NTT's butterflies feed it), and the lane form's
// conversion both ways. The NTTs built on them are checked against ffjavascript in prover.test.ts.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ModuleBuilder } from 'wasmbuilder';
import { LIMBS, LIMB_BITS, Q, R, limbs } from '../src/prover/cpu/wasm-field.js';
import { emitLanes, mont4Locals, montMul4, simdFn, simdOps } from '../src/prover/cpu/wasm-simd.js';
import { SIMD_PROBE, hasWasmSimd } from '../src/prover/cpu/wasm-module.js';

const rand = (m: bigint) => {
  let v = 0n;
  for (const b of randomBytes(48)) v = (v << 8n) | BigInt(b);
  return v % m;
};
const modPow = (b: bigint, e: bigint, m: bigint) => {
  let r = 1n;
  for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
};

/** mul4(pa, pb, pr): four products in lane form, for p */
async function build(p: bigint) {
  const m = new ModuleBuilder();
  m.setMemory(1, 'env', 'memory');
  const [f, c] = simdFn(m, 'mul4', ['pa', 'pb', 'pr'], mont4Locals());
  const v = simdOps(c);
  const range = Array.from({ length: LIMBS }, (_, j) => j);
  f.addCode([
    ...range.flatMap((j) => [...c.setLocal(`A${j}`, v.load(c.getLocal('pa'), 16 * j)), ...c.setLocal(`B${j}`, v.load(c.getLocal('pb'), 16 * j))]),
    ...montMul4(c, p, (j, x) => v.store(c.getLocal('pr'), 16 * j, x)),
  ]);
  m.exportFunction('mul4');
  emitLanes(m);
  m.exportFunction('ntt_lanes');
  const memory = new WebAssembly.Memory({ initial: 1 });
  const inst = await WebAssembly.instantiate(await WebAssembly.compile(m.build() as BufferSource), { env: { memory } });
  return { x: inst.exports as { mul4(a: number, b: number, r: number): void; ntt_lanes(p: number, runs: number, to: number): void }, u32: new Uint32Array(memory.buffer) };
}

/** x's 29-bit limbs, the last one taking the rest (up to 32 bits) */
const rawLimbs = (x: bigint) => [...limbs(x).slice(0, LIMBS - 1), Number(x >> BigInt((LIMBS - 1) * LIMB_BITS))];

describe('four-lane Montgomery product (WebAssembly SIMD)', () => {
  for (const [name, p] of [['Fr', R], ['Fq', Q]] as const) {
    it(`${name}: a·b·2^-261 ≡ the bigint product and below 2p, for a·b < 2^261·p`, async () => {
      const { x, u32 } = await build(p);
      const top = (1n << 261n) - 1n; // every limb 2^29 − 1
      const cases: Array<[bigint, bigint]> = [
        [0n, 0n], [1n, 1n], [p - 1n, p - 1n], [2n * p - 1n, 2n * p - 1n],
        [58n * p, 2n * p - 1n], // the NTT butterflies' largest operands
        [top, (p << 261n) / top - 1n], // a with all limbs set, b as large as the bound allows
        ...Array.from({ length: 40 }, () => [rand(58n * p), rand(2n * p)] as [bigint, bigint]),
      ];
      while (cases.length % 4) cases.push([rand(2n * p), rand(2n * p)]);
      const Rinv = modPow(2n, 261n * (p - 2n), p);
      for (let g = 0; g < cases.length; g += 4) {
        for (let l = 0; l < 4; l++) {
          const [a, b] = cases[g + l]!;
          expect(a * b < (p << 261n)).toBe(true);
          rawLimbs(a).forEach((w, j) => (u32[(0 + 16 * j + 4 * l) / 4] = w));
          rawLimbs(b).forEach((w, j) => (u32[(256 + 16 * j + 4 * l) / 4] = w));
        }
        x.mul4(0, 256, 512);
        for (let l = 0; l < 4; l++) {
          const [a, b] = cases[g + l]!;
          let got = 0n;
          for (let j = LIMBS - 1; j >= 0; j--) got = (got << BigInt(LIMB_BITS)) + BigInt(u32[(512 + 16 * j + 4 * l) / 4]!);
          expect(got < 2n * p, `${a} · ${b}`).toBe(true);
          expect(got % p, `${a} · ${b}`).toBe((((a * b) % p) * Rinv) % p);
        }
      }
    });
  }

  it('ntt_lanes moves runs of four elements to lane form and back', async () => {
    const { x, u32 } = await build(R);
    const runs = 3;
    const words = Array.from({ length: runs * 36 }, (_, i) => (i * 2654435761) >>> 3);
    words.forEach((w, i) => (u32[1024 + i] = w));
    x.ntt_lanes(4096, runs, 1);
    for (let r = 0; r < runs; r++) {
      for (let e = 0; e < 4; e++) {
        for (let j = 0; j < LIMBS; j++) expect(u32[1024 + 36 * r + 4 * j + e]).toBe(words[36 * r + 9 * e + j]);
      }
    }
    x.ntt_lanes(4096, runs, 0);
    expect([...u32.subarray(1024, 1024 + runs * 36)]).toEqual(words);
  });

  it('the SIMD probe is valid here and invalid with its SIMD instruction taken out', () => {
    expect(hasWasmSimd()).toBe(true);
    const broken = SIMD_PROBE.slice();
    broken[broken.indexOf(0xfd)] = 0xff; // no such opcode: what a runtime without SIMD sees
    expect(hasWasmSimd(broken)).toBe(false);
  });
});
