// G2 (the twist over Fq2) on WebGPU against its BigInt reference and ffjavascript: the reference's
// complete formulas against textbook affine ones, its byte layouts against ffjavascript's, and
// the WGSL kernels (curveWgsl('g2'), pointIoWgsl(…, 'g2')) coordinate for coordinate against the
// reference on random projective representatives, identities, P + P and P + (−P).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { buildModel } from '../src/onnx/write.js';
import { groth16Prove } from '../src/prover/groth16.js';
import { gpuPreparedBytes, gpuProofBytes, loadBackend } from '../src/prover/index.js';
import { WebGpuBackend } from '../src/prover/webgpu/backend.js';
import { parseZkey } from '../src/prover/zkey.js';
import { tinyMlp } from './helpers/tiny-mlp.js';
import { dispatch, gpuMemory, pipeline, readU32, resetGpuPeak, storageBuffer, uniformU32, uploadBuffer } from '../src/prover/webgpu/gpu.js';
import { gpuMsmG1, gpuMsmG2, uploadBasesG2 } from '../src/prover/webgpu/msm.js';
import * as ref from '../src/prover/webgpu/reference.js';
import * as g2 from '../src/prover/webgpu/reference-g2.js';
import { curveWgsl, pointIoWgsl } from '../src/prover/webgpu/wgsl/curve.js';
import { bigintWgsl, fieldWgsl, montgomeryR, packBigints, unpackBigints } from '../src/prover/webgpu/wgsl/field.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { rng, testGpu, type FfCurve } from './helpers/webgpu.js';

const gpu = await testGpu();


const P = ref.P;
const R = montgomeryR();
const r = rng(11);
const randFq2 = (): g2.Fq2 => [r.below(P), r.below(P)];
const nonZeroFq2 = (): g2.Fq2 => {
  for (;;) {
    const z = randFq2();
    if (!g2.fq2IsZero(z)) return z;
  }
};
/** A random projective representative (X·z : Y·z : z); identities as (0 : λ : 0). */
const randProj = (a: g2.Affine2): g2.Proj2 => {
  const z = nonZeroFq2();
  return a === null ? { X: g2.FQ2_ZERO, Y: z, Z: g2.FQ2_ZERO } : { X: g2.fq2Mul(a.x, z), Y: g2.fq2Mul(a.y, z), Z: z };
};

let curve: FfCurve;
beforeAll(async () => {
  curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as FfCurve;
});
afterAll(releaseCurves);

/** k·G by ffjavascript (fast), as canonical affine. */
const ffMul = (k: bigint): g2.Affine2 => g2.decodeBasesFF2(curve.G2.toAffine(curve.G2.timesFr(curve.G2.g, curve.Fr.e(k))))[0]!;

describe('G2 CPU reference', () => {
  const G = g2.G2_GENERATOR;

  it('the twist constant is 3/(9 + u); the generator is on the curve and of order r', () => {
    expect(g2.fq2Mul(g2.TWIST_B, g2.fq2(9n, 1n))).toEqual(g2.fq2(3n));
    expect(g2.onCurve2(G)).toBe(true);
    expect(g2.onCurve2({ x: G!.x, y: g2.fq2Add(G!.y, g2.FQ2_ONE) })).toBe(false);
    expect(g2.mulAffine2(G, ref.R)).toBeNull();
    expect(g2.mulAffine2(G, ref.R - 1n)).toEqual(g2.negAffine2(G));
  });

  it('projective complete formulas agree with affine chord-and-tangent', () => {
    const pts = [G, g2.doubleAffine2(G), g2.mulAffine2(G, 12345n), g2.mulAffine2(G, r.below(ref.R)), null];
    for (const a of pts) {
      expect(g2.onCurve2(a)).toBe(true);
      const pa = randProj(a);
      expect(g2.projToAffine2(g2.doubleProj2(g2.toProj2(a)))).toEqual(g2.doubleAffine2(a));
      expect(g2.projToAffine2(g2.doubleProj2(pa))).toEqual(g2.doubleAffine2(a));
      for (const b of [...pts, g2.negAffine2(a)]) {
        const want = g2.addAffine2(a, b); // covers P + P, P + (−P), P + O, O + O
        expect(g2.onCurve2(want)).toBe(true);
        expect(g2.projToAffine2(g2.addProj2(g2.toProj2(a), g2.toProj2(b)))).toEqual(want);
        expect(g2.projToAffine2(g2.addProj2(pa, randProj(b)))).toEqual(want);
        if (b !== null) expect(g2.projToAffine2(g2.addMixed2(pa, b))).toEqual(want);
      }
    }
    expect(g2.projEq2(g2.G2_REF.zero(), { X: g2.FQ2_ZERO, Y: randFq2(), Z: g2.FQ2_ZERO })).toBe(true);
  });
});

describe('G2 reference against ffjavascript', () => {
  it('the generator, multiples, affine and Jacobian layouts agree', () => {
    expect(g2.decodeBasesFF2(curve.G2.toAffine(curve.G2.g))).toEqual([g2.G2_GENERATOR]);
    for (const k of [1n, 2n, 12345n, ref.R - 1n, r.below(ref.R), r.below(ref.R)]) {
      const jac = curve.G2.timesFr(curve.G2.g, curve.Fr.e(k));
      const want = g2.mulAffine2(g2.G2_GENERATOR, k);
      expect(g2.jacobianFF2ToAffine(jac)).toEqual(want);
      const aff = curve.G2.toAffine(jac);
      expect(aff.length).toBe(128);
      expect(g2.encodeBasesFF2([want])).toEqual(aff);
      expect(curve.G2.eq(g2.projToJacobianFF2(randProj(want)), jac)).toBe(true);
      expect(curve.G2.eq(g2.projToJacobianFF2(randProj(g2.negAffine2(want))), jac)).toBe(false);
    }
    // The identity: all-zero affine bytes, (0, 1, 0) Jacobian.
    const zero = curve.G2.timesFr(curve.G2.g, curve.Fr.e(0n));
    expect(g2.jacobianFF2ToAffine(zero)).toBeNull();
    expect(g2.encodeBasesFF2([null])).toEqual(curve.G2.toAffine(zero));
    expect(g2.decodeBasesFF2(new Uint8Array(128))).toEqual([null]);
    const z = g2.projToJacobianFF2(randProj(null));
    expect(curve.G2.isZero(z)).toBe(true);
    expect(curve.G2.eq(z, curve.G2.zero)).toBe(true);
  });
});

describe.skipIf(!gpu)(`WGSL G2 on ${gpu?.adapterName}`, () => {
  // llvmpipe compiles a G2 addition in ~30 s (Mesa inlines every call, and compile time grows
  // faster than the code): the additions are checked against the reference through the MSM's
  // own kernels below (its debug mode compares every stage's points with the BigInt twin), so
  // the suite compiles each of them once; this kernel test covers the cheap operations.
  const lib = `${bigintWgsl()}${fieldWgsl('fq')}${curveWgsl('g2')}`;
  /** A kernel reading the named point buffers (bindings 0…) and writing item i of `out` (an affine or projective point). */
  const kernel = (inputs: string[], out: 'a' | 'p', expr: string) => `${lib}
${inputs.map((b, k) => `@group(0) @binding(${k}) var<storage, read> ${b}: array<u32>;\n${pointIoWgsl(b, b, false, 'g2')}`).join('\n')}
@group(0) @binding(${inputs.length}) var<storage, read_write> outb: array<u32>;
@group(0) @binding(${inputs.length + 1}) var<uniform> prm: vec4<u32>;
${pointIoWgsl('outb', 'out', true, 'g2')}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= prm.x) { return; }
  out_store_${out}(i, ${expr});
}`;
  const KERNELS = {
    neg: kernel(['ps'], 'p', 'g2_neg(ps_load_p(i))'),
    fromFF: kernel(['fs'], 'a', 'g2_affine_from_ff(fs_load_a(i))'),
  };

  it('negation and the ffjavascript conversion match the reference, identities included', async () => {
    const ctx = gpu!;
    const pts: g2.Affine2[] = [...Array.from({ length: 12 }, () => ffMul(r.below(ref.R - 1n) + 1n)), null];
    const toOurs = (x: bigint) => ref.mod(x * R);
    const fq2Words = (a: g2.Fq2) => [a[0], a[1]];
    const proj = pts.map(randProj);
    const ps = uploadBuffer(ctx.device, packBigints(proj.flatMap((p) => [p.X, p.Y, p.Z].flatMap(fq2Words).map(toOurs))));
    // ffjavascript's bytes read in place: the conversion kernel's input.
    const fsBytes = g2.encodeBasesFF2(pts);
    const fs = uploadBuffer(ctx.device, new Uint32Array(fsBytes.buffer, fsBytes.byteOffset, fsBytes.length / 4));
    const n = pts.length;
    const rInv = ref.modInv(R % P);
    /** Runs one kernel; its output as canonical values (our Montgomery form removed). */
    const run = async (name: keyof typeof KERNELS, inBufs: GPUBuffer[], out: 'a' | 'p') => {
      const pipe = await pipeline(ctx.device, KERNELS[name]);
      const outb = storageBuffer(ctx.device, n * (out === 'a' ? 128 : 192));
      const enc = ctx.device.createCommandEncoder();
      dispatch(ctx, enc, pipe, [...inBufs, outb, uniformU32(ctx.device, [n])], n, 64);
      ctx.device.queue.submit([enc.finish()]);
      return unpackBigints(await readU32(ctx.device, outb)).map((v) => ref.mod(v * rInv));
    };
    const gotNeg = await run('neg', [ps], 'p');
    const gotA = await run('fromFF', [fs], 'a');
    const fq2At = (w: bigint[], o: number): g2.Fq2 => [w[o]!, w[o + 1]!];
    const pt = (w: bigint[], i: number): g2.Proj2 => ({ X: fq2At(w, 6 * i), Y: fq2At(w, 6 * i + 2), Z: fq2At(w, 6 * i + 4) });
    proj.forEach((pp, i) => {
      expect(g2.projToAffine2(pt(gotNeg, i)), `neg ${i}`).toEqual(g2.negAffine2(pts[i]!));
      expect(pt(gotNeg, i), `neg ${i}`).toEqual(g2.negProj2(pp));
      const a = pts[i]!;
      const want = a ?? { x: [0n, 0n], y: [0n, 0n] }; // the identity stays all zero
      expect({ x: fq2At(gotA, 4 * i), y: fq2At(gotA, 4 * i + 2) }, `from_ff ${i}`).toEqual(want);
    });
  }, 120_000);

  it('the G2 MSM matches ffjavascript: random, small signed and special scalars, infinity bases, debug stage checks, scalars on the device', async () => {
    const ctx = gpu!;
    const pts = Array.from({ length: 16 }, () => ffMul(r.below(ref.R - 1n) + 1n));
    const n = 200;
    const bases = Array.from({ length: n }, (_, i) => (i % 9 === 4 ? null : pts[r.int(pts.length)]!));
    const special = [0n, 1n, ref.R - 1n, (ref.R - 1n) / 2n, (ref.R + 1n) / 2n, ref.R, (1n << 256n) - 1n];
    const basesFF = g2.encodeBasesFF2(bases);
    const ff = (sc: bigint[]) => curve.G2.multiExpAffine(basesFF, ref.encodeScalars(sc.map((s) => ref.mod(s, ref.R))));
    const same = (got: Uint8Array, want: Uint8Array) => {
      expect(g2.jacobianFF2ToAffine(got)).toEqual(g2.jacobianFF2ToAffine(want));
      expect(curve.G2.eq(got, want)).toBe(true);
    };
    const uniform = bases.map((_, i) => (i % 5 === 0 ? special[(i / 5) % special.length]! : r.below(ref.R)));
    const logs: string[] = [];
    same(await gpuMsmG2(ctx, basesFF, ref.encodeScalars(uniform), { windowBits: 4, debug: true, log: (m) => logs.push(m) }), await ff(uniform));
    expect(logs.join('\n')).toMatch(/bucket sums match the CPU/);
    // precomputed multiples on the first 48 points: 4 copies of 13 windows of 5 bits, checked
    // against the CPU twin
    const m = 48;
    const fewFF = basesFF.subarray(0, m * 128);
    const fewScalars = uniform.slice(0, m);
    const ffFew = await curve.G2.multiExpAffine(fewFF, ref.encodeScalars(fewScalars.map((s) => ref.mod(s, ref.R))));
    const pre = await uploadBasesG2(ctx, fewFF, { precompute: 4, windowBits: 5, debug: true, log: (m) => logs.push(m) });
    try {
      logs.length = 0;
      same(await gpuMsmG2(ctx, pre, ref.encodeScalars(fewScalars), { debug: true, log: (m) => logs.push(m) }), ffFew);
      expect(pre.multiples).toEqual({ c: 5, V: 13, t: 4 });
      expect(logs.join('\n')).toMatch(/c=5 K=51 \(13 over copies\)/);
      expect(logs.join('\n')).toMatch(/bucket sums match the CPU/);
    } finally {
      pre.release();
    }
    // a quantized witness: |s| < 2^10, half of them negative: 11 bits in 3 windows of 4
    const small = bases.map((_, i) => ref.mod(BigInt(r.int(1024)) * (i % 2 ? 1n : -1n), ref.R));
    const up = await uploadBasesG2(ctx, basesFF);
    try {
      logs.length = 0;
      same(await gpuMsmG2(ctx, up, ref.encodeScalars(small), { windowBits: 4, log: (m) => logs.push(m) }), await ff(small));
      expect(logs.join('\n')).toMatch(/msm g2 n=200 bits=10 c=4 K=3 /);
      // the same scalars read from a device buffer, at an offset
      const words = ref.encodeScalars([5n, ...small]);
      const buf = uploadBuffer(ctx.device, new Uint32Array(words.buffer, words.byteOffset, words.length / 4));
      same(await gpuMsmG2(ctx, up, { buffer: buf, offset: 32, n }, { windowBits: 4 }), await ff(small));
      buf.destroy();
      // G2 bases are not G1 bases
      await expect(gpuMsmG1(ctx, up, ref.encodeScalars([1n]))).rejects.toThrow(/uploaded as G2/);
    } finally {
      up.release();
    }
  }, 300_000);

  it('proofs with the G2 MSM on the GPU: equal to the wasm backend\'s with r = s = 0, verified by snarkjs; ZKONNX_GPU_G2=gpu routes the API there', async () => {
    const work = mkdtempSync(join(tmpdir(), 'zkonnx-g2-'));
    try {
      const onnx = join(work, 'mlp.onnx');
      writeFileSync(onnx, buildModel(tinyMlp));
      const inputs = [{ input_data: [[0.5, -0.25, 1, 0.75]] }, { input_data: [[-1, 1, -0.5, 0.25]] }];
      writeFileSync(join(work, 'calibration.json'), JSON.stringify(inputs));
      writeFileSync(join(work, 'input.json'), JSON.stringify(inputs[1]));
      const buildDir = join(work, 'build');
      await api.compile({ model: onnx, outDir: buildDir, calibration: join(work, 'calibration.json') });
      await api.setup({ buildDir });
      process.env['ZKONNX_GPU_G2'] = 'gpu';
      let p: Awaited<ReturnType<typeof api.prove>>;
      try {
        p = await api.prove({ buildDir, input: join(work, 'input.json'), backend: 'webgpu', allowSoftwareGpu: true });
      } finally {
        delete process.env['ZKONNX_GPU_G2'];
      }
      expect(p.backend).toMatch(/G2 on the GPU/);
      expect(await api.verify({ buildDir })).toBe(true);
      const zkey = join(buildDir, 'circuit_final.zkey');
      const wtns = join(buildDir, 'proofs', 'default', 'witness.wtns');
      const gpuG2 = await WebGpuBackend.create({ allowSoftware: true, g2: 'gpu' });
      const rs = { r: 0n, s: 0n };
      const dev = gpuG2.ctx.device;
      const before = gpuMemory(dev).live;
      resetGpuPeak(dev);
      const got = await groth16Prove(zkey, wtns, gpuG2, { rs });
      // its device memory at the peak, G2's scratch and points included, against the plan
      const { header: h, nCoef } = parseZkey(new Uint8Array(readFileSync(zkey)), zkey);
      expect(gpuMemory(dev).peak - before).toBeLessThanOrEqual(gpuPreparedBytes(h.power, h.nVars, nCoef) + gpuProofBytes(h.power, h.nVars, h.nPublic, true));
      expect(got.proof).toEqual((await groth16Prove(zkey, wtns, await loadBackend('wasm'), { rs })).proof);
      const vkey = JSON.parse(readFileSync(join(buildDir, 'verification_key.json'), 'utf8'));
      const fresh = await groth16Prove(zkey, wtns, gpuG2);
      expect(await snarkjs.groth16.verify(vkey, fresh.publicSignals, fresh.proof)).toBe(true);
      await gpuG2.release();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 300_000);
});
