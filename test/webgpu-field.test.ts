// The WGSL BN254 field library (src/prover/webgpu/wgsl/field.ts) against BigInt, on fresh random
// inputs and edge cases, for Fq and Fr; conversions against ffjavascript's Montgomery bytes.
import { afterAll, describe, expect, it } from 'vitest';
import { ZkonnxError } from '../src/errors.js';
import { getGpu, isSoftwareAdapter } from '../src/prover/webgpu/device.js';
import { dispatch, pipeline, readU32, uniformU32, uploadBuffer, storageBuffer } from '../src/prover/webgpu/gpu.js';
import {
  FIELD_MODULI,
  LIMB_BITS,
  NUM_LIMBS,
  bigintWgsl,
  bigintToWords,
  fieldConstants,
  fieldWgsl,
  montgomeryR,
  packBigints,
  unpackBigints,
  wordsToBigint,
  type FieldName,
  type FieldConfig,
  DEFAULT_FIELD_CONFIG,
  fieldConfig,
} from '../src/prover/webgpu/wgsl/field.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import type { WasmCurve } from '../src/setup/fast/snarkjs-internals.js';
import { rng, testGpu } from './helpers/webgpu.js';

const gpu = await testGpu();

const OPS = {
  add: 0, sub: 1, mul: 2, sqr: 3, eq: 4, is_zero: 5, to_mont: 6, from_mont: 7, from_ff: 8, to_ff: 9,
  copy: 10, neg: 11, double: 12, zero: 13, one: 14, ff_roundtrip: 15, mont_roundtrip: 16,
} as const;
type Op = keyof typeof OPS;

function kernel(f: FieldName, cfg: FieldConfig = DEFAULT_FIELD_CONFIG): string {
  return `${bigintWgsl(cfg)}${fieldWgsl(f, cfg)}
@group(0) @binding(0) var<storage, read> inp: array<u32>;
@group(0) @binding(1) var<storage, read_write> outp: array<u32>;
@group(0) @binding(2) var<uniform> prm: vec4<u32>;
fn ld(o: u32) -> array<u32, 8> {
  var w: array<u32, 8>;
  for (var j = 0u; j < 8u; j++) { w[j] = inp[o + j]; }
  return w;
}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= prm.x) { return; }
  let a = ${f}_from_words(ld(i * 16u));
  let b = ${f}_from_words(ld(i * 16u + 8u));
  var r: BigInt;
  switch prm.y {
    case 0u: { r = ${f}_add(a, b); }
    case 1u: { r = ${f}_sub(a, b); }
    case 2u: { r = ${f}_mul(a, b); }
    case 3u: { r = ${f}_sqr(a); }
    case 4u: { r = ${f}_zero(); r.l[0] = select(0u, 1u, ${f}_eq(a, b)); }
    case 5u: { r = ${f}_zero(); r.l[0] = select(0u, 1u, ${f}_is_zero(a)); }
    case 6u: { r = ${f}_to_mont(a); }
    case 7u: { r = ${f}_from_mont(a); }
    case 8u: { r = ${f}_from_ff(a); }
    case 9u: { r = ${f}_to_ff(a); }
    case 10u: { r = a; }
    case 11u: { r = ${f}_neg(a); }
    case 12u: { r = ${f}_double(a); }
    case 13u: { r = ${f}_zero(); }
    case 14u: { r = ${f}_one(); }
    case 15u: { r = ${f}_from_mont(${f}_from_ff(a)); }
    default: { r = ${f}_to_ff(${f}_to_mont(a)); }
  }
  let w = ${f}_to_words(r);
  for (var j = 0u; j < 8u; j++) { outp[i * 8u + j] = w[j]; }
}`;
}

async function run(f: FieldName, op: Op, pairs: [bigint, bigint][], cfg?: FieldConfig): Promise<bigint[]> {
  const ctx = gpu!;
  const pipe = await pipeline(ctx.device, kernel(f, cfg));
  const inp = uploadBuffer(ctx.device, packBigints(pairs.flat()));
  const out = storageBuffer(ctx.device, pairs.length * 32);
  const prm = uniformU32(ctx.device, [pairs.length, OPS[op]]);
  const enc = ctx.device.createCommandEncoder();
  dispatch(ctx, enc, pipe, [inp, out, prm], pairs.length, 64);
  ctx.device.queue.submit([enc.finish()]);
  const res = unpackBigints(await readU32(ctx.device, out, 0, pairs.length * 32), pairs.length);
  inp.destroy();
  out.destroy();
  prm.destroy();
  return res;
}

describe('TypeScript word helpers', () => {
  it('pack and unpack 256-bit values', () => {
    const r = rng(1);
    for (let i = 0; i < 100; i++) {
      const x = r.bits(256);
      expect(wordsToBigint(bigintToWords(x))).toBe(x);
    }
    expect(() => bigintToWords(1n << 256n)).toThrow();
    expect(LIMB_BITS * NUM_LIMBS).toBeGreaterThanOrEqual(256);
  });
  it('recognizes software adapters by their info strings', () => {
    expect(isSoftwareAdapter({ vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'lavapipe' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H100 80GB HBM3' })).toBe(false);
  });
  it('refuses limb widths whose lazy carries could overflow a u32', () => {
    expect(() => fieldConfig(14)).toThrow(/not supported/);
    expect(() => fieldConfig(9)).toThrow();
    expect(fieldConfig(12).numLimbs).toBe(22);
  });
});

describe.skipIf(!gpu)(`WGSL field arithmetic on ${gpu?.adapterName}`, () => {
  afterAll(releaseCurves);

  it.runIf(gpu?.software)('getGpu() without allowSoftware refuses the software adapter, with a hint', async () => {
    const err = await getGpu().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkonnxError);
    expect((err as ZkonnxError).hint).toMatch(/wasm backend/);
  });

  for (const f of ['fq', 'fr'] as const) {
    const p = FIELD_MODULI[f];
    const R = montgomeryR();
    const Rinv = modInv(R % p, p);
    const edges = [0n, 1n, 2n, p - 1n, p - 2n, (p - 1n) / 2n, (p + 1n) / 2n, R % p, (1n << 253n), (1n << 13n) - 1n, 1n << 13n, (1n << 247n) - 1n, (1n << 253n) - 1n];
    // (2^247 − 1 and 2^253 − 1: every limb at its maximum, the worst case for lazy carries.)
    const r = rng(f === 'fq' ? 11 : 12);
    // ≥ 256 fresh random pairs per op, plus every pair of edge values.
    const inputs = (): [bigint, bigint][] => {
      const out: [bigint, bigint][] = [];
      for (const a of edges) for (const b of edges) out.push([a, b]);
      for (let i = 0; i < 300; i++) out.push([r.below(p), r.below(p)]);
      for (let i = 0; i < 20; i++) { const a = r.below(p); out.push([a, a]); }
      return out;
    };
    const m = (x: bigint) => ((x % p) + p) % p;
    const expected: Record<Exclude<Op, 'ff_roundtrip' | 'mont_roundtrip'>, (a: bigint, b: bigint) => bigint> = {
      add: (a, b) => m(a + b),
      sub: (a, b) => m(a - b),
      mul: (a, b) => m(a * b * Rinv),
      sqr: (a) => m(a * a * Rinv),
      eq: (a, b) => (a === b ? 1n : 0n),
      is_zero: (a) => (a === 0n ? 1n : 0n),
      to_mont: (a) => m(a * R),
      from_mont: (a) => m(a * Rinv),
      from_ff: (a) => m(a * R * modInv(m(1n << 256n), p)),
      to_ff: (a) => m(a * (1n << 256n) * Rinv),
      copy: (a) => a,
      neg: (a) => m(-a),
      double: (a) => m(2n * a),
      zero: () => 0n,
      one: () => R % p,
    };

    for (const [op, fn] of Object.entries(expected) as [Op, (a: bigint, b: bigint) => bigint][]) {
      it(`${f}_${op} matches BigInt`, async () => {
        const pairs = inputs();
        const got = await run(f, op, pairs);
        const bad = pairs.map(([a, b], i) => ({ a, b, got: got[i], want: fn(a, b) })).filter((x) => x.got !== x.want);
        expect(bad.slice(0, 3)).toEqual([]);
      });
    }

    it(`${f}: from_words / to_words repack any 256-bit value, including ≥ p and ≥ 2^255`, async () => {
      const vals = [0n, p, p + 1n, (1n << 255n), (1n << 256n) - 1n, (1n << 255n) + 12345n];
      for (let i = 0; i < 256; i++) vals.push(r.bits(256));
      const got = await run(f, 'copy', vals.map((v) => [v, 0n]));
      expect(got).toEqual(vals);
    });

    it(`${f}: from_ff / to_ff agree with ffjavascript's Montgomery bytes`, async () => {
      const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as WasmCurve;
      const F = f === 'fr' ? curve.Fr : (curve as unknown as { F1: WasmCurve['Fr'] }).F1;
      const xs = [0n, 1n, p - 1n, ...Array.from({ length: 256 }, () => r.below(p))];
      const ff = xs.map((x) => wordsToBigint(new Uint32Array(F.e(x).slice().buffer)));
      // ffjavascript bytes → ours → canonical gives x back …
      expect(await run(f, 'ff_roundtrip', ff.map((v) => [v, 0n]))).toEqual(xs);
      // … canonical → ours → ffjavascript bytes gives F.e(x) …
      expect(await run(f, 'mont_roundtrip', xs.map((x) => [x, 0n]))).toEqual(ff);
      // … and from_ff lands on to_mont: both are x·R.
      const viaFF = await run(f, 'from_ff', ff.map((v) => [v, 0n]));
      expect(viaFF).toEqual(await run(f, 'to_mont', xs.map((x) => [x, 0n])));
    });

    for (const [bits, rolled] of [[12, true], [13, false]] as const) {
      it(`${f}: ${bits}-bit limbs, ${rolled ? 'rolled' : 'unrolled'} outer loop, multiply correctly too`, async () => {
        const cfg = fieldConfig(bits, rolled);
        expect(cfg.rolledMul).toBe(rolled);
        const inv = modInv(montgomeryR(cfg) % p, p);
        const pairs = inputs();
        expect(await run(f, 'mul', pairs, cfg)).toEqual(pairs.map(([a, b]) => m(a * b * inv)));
        const ff = await run(f, 'from_ff', pairs, cfg);
        expect(ff).toEqual(pairs.map(([a]) => m(a * montgomeryR(cfg) * modInv(m(1n << 256n), p))));
      });
    }

    it(`${f}: Montgomery constants are consistent`, () => {
      const k = fieldConstants(f);
      expect((p * BigInt(k.nInv) + 1n) % (1n << BigInt(LIMB_BITS))).toBe(0n); // nInv = −p⁻¹ mod 2^W
      expect(k.one).toBe(R % p);
    });
  }
});

function modInv(a: bigint, p: bigint): bigint {
  let [r0, r1, s0, s1] = [a % p, p, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % p) + p) % p;
}
