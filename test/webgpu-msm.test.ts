// G1 curve kernels and the Pippenger MSM on WebGPU (src/prover/webgpu/) against the BigInt
// reference and ffjavascript's multiExpAffine: random points, the identity, P + P, P + (−P),
// infinity bases, scalars 0, 1, r − 1, ≥ r, sizes that are not powers of two, and buckets so
// heavy that several accumulation levels run. The debug mode's stage checks run once too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkonnxError } from '../src/errors.js';
import { dispatch, pipeline, readU32, storageBuffer, uniformU32, uploadBuffer } from '../src/prover/webgpu/gpu.js';
import { chooseWindow, formatMsmTuning, gpuMsmG1, parseMsmTuning, unrolledMul, uploadBasesG1 } from '../src/prover/webgpu/msm.js';
import * as ref from '../src/prover/webgpu/reference.js';
import { curveWgsl, pointIoWgsl } from '../src/prover/webgpu/wgsl/curve.js';
import { bigintWgsl, fieldWgsl, montgomeryR, packBigints, unpackBigints } from '../src/prover/webgpu/wgsl/field.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { rng, testGpu, type FfCurve } from './helpers/webgpu.js';

const gpu = await testGpu();


const P = ref.P;
const R = montgomeryR();
const toOurs = (x: bigint) => ref.mod(x * R);

describe('CPU reference', () => {
  it('projective complete formulas agree with affine chord-and-tangent', () => {
    const g = ref.G1_GENERATOR;
    const pts = [g, ref.doubleAffine(g), ref.mulAffine(g, 12345n), ref.mulAffine(g, ref.R - 1n), null];
    for (const a of pts) {
      expect(ref.onCurve(a)).toBe(true);
      expect(ref.projToAffine(ref.doubleProj(ref.toProj(a)))).toEqual(ref.doubleAffine(a));
      for (const b of [...pts, ref.negAffine(a)]) {
        const want = ref.addAffine(a, b);
        expect(ref.projToAffine(ref.addProj(ref.toProj(a), ref.toProj(b)))).toEqual(want);
        if (b !== null) expect(ref.projToAffine(ref.addMixed(ref.toProj(a), b))).toEqual(want);
      }
    }
    expect(ref.mulAffine(g, ref.R)).toBeNull(); // G has order r
  });

  it('signed digits of the folded scalar recompose it mod r, in as many windows as its magnitude needs', () => {
    const r = rng(3);
    const half = (ref.R - 1n) / 2n;
    const cases = [0n, 1n, ref.R - 1n, (1n << 253n) + 1n, half, half + 1n, ref.R + 5n, (1n << 256n) - 1n, r.below(ref.R), ref.R - 4095n, 4096n];
    for (const c of [2, 5, 9, 13, 16]) {
      for (const s of cases) {
        const { mag, neg } = ref.foldScalar(s);
        expect(mag <= half).toBe(true);
        expect(ref.mod(neg ? -mag : mag, ref.R)).toBe(ref.mod(s, ref.R));
        const bits = mag === 0n ? 0 : mag.toString(2).length;
        const K = ref.numWindows(c, bits);
        const d = ref.signedDigits(s, c, K);
        expect(d.length).toBe(K);
        expect(d.every((x) => Math.abs(x) <= 2 ** (c - 1))).toBe(true);
        expect(ref.mod(d.reduceRight((acc, x) => (acc << BigInt(c)) + BigInt(x), 0n), ref.R)).toBe(ref.mod(s, ref.R));
        expect(ref.signedDigits(s, c).length).toBe(ref.numWindows(c)); // the default: room for any scalar
      }
    }
    // r − 4095 is −4095: 12 bits, like 4095 itself; 2^12 needs 13
    expect(ref.scalarBits([ref.G1_GENERATOR, ref.G1_GENERATOR], [ref.R - 4095n, 7n])).toBe(12);
    expect(ref.scalarBits([ref.G1_GENERATOR, null], [4095n, 4096n])).toBe(12); // an infinity base's scalar does not count
    expect(() => ref.signedDigits(1n << 20n, 5, 4)).toThrow(/do not hold/);
  });

  it('precomputed multiples: copy j is 2^(c·V·j)·P, and V windows of buckets over the copies give the MSM', () => {
    const g = ref.G1_GENERATOR;
    const bases = [g, null, ref.mulAffine(g, 777n), ref.mulAffine(g, ref.R - 2n), g];
    const scalars = [ref.R - 1n, 5n, (1n << 200n) + 12345n, (ref.R - 1n) / 2n, 3n];
    const want = ref.projToAffine(ref.naiveMsm(bases, scalars));
    for (const [c, copies] of [[6, 3], [9, 100], [4, 1], [5, 2]] as const) {
      const K = ref.numWindows(c);
      const m = ref.multiplesFor(c, copies);
      expect(m.V * m.t).toBeGreaterThanOrEqual(K);
      expect(m.V * (m.t - 1)).toBeLessThan(K); // no copy without a window
      expect(m.t).toBeLessThanOrEqual(copies);
      const all = ref.precomputeMultiples(ref.G1_REF, bases, m);
      expect(all.length).toBe(m.t * bases.length);
      for (let j = 0; j < m.t; j++) {
        bases.forEach((b, i) => expect(all[j * bases.length + i]).toEqual(ref.mulAffine(b, 2n ** BigInt(c * m.V * j))));
      }
      const buckets = ref.bucketSums(ref.G1_REF, all, scalars, c, K, { V: m.V, n: bases.length });
      expect(buckets.length).toBe(Math.min(K, m.V) * 2 ** (c - 1));
      expect(ref.projToAffine(ref.combineWindows(ref.G1_REF, ref.windowSums(ref.G1_REF, buckets, c), c))).toEqual(want);
    }
    expect(ref.multiplesFor(9, 100)).toEqual({ c: 9, V: 1, t: 29 }); // 254 bits in 29 windows of 9
    expect(ref.multiplesFor(16, 4)).toEqual({ c: 16, V: 4, t: 4 });
  });

  it('window choice grows with n', () => {
    expect(chooseWindow(1)).toBeLessThanOrEqual(chooseWindow(1 << 10));
    expect(chooseWindow(1 << 20)).toBe(16);
  });

  it('MSM tunings (ZKONNX_GPU_MSM) parse, print back, and name what is wrong', () => {
    const t = parseMsmTuning('limbs=12, wg=128,task=16,reduce=4096,c=15');
    expect(t.field).toMatchObject({ limbBits: 12, numLimbs: 22 });
    expect(t).toMatchObject({ curveWorkgroup: 128, taskSize: 16, reduceThreads: 4096, windowBits: 15 });
    expect(formatMsmTuning(t)).toBe('limbs=12,wg=128,task=16,reduce=4096,c=15');
    expect(parseMsmTuning('')).toEqual({});
    expect(formatMsmTuning({})).toBe('default');
    // the product's form: alone, with a limb width (either order), and back to the default
    expect(parseMsmTuning('unroll=1').field).toMatchObject({ limbBits: 13, rolledMul: false });
    expect(parseMsmTuning('unroll=1,limbs=12').field).toMatchObject({ limbBits: 12, numLimbs: 22, rolledMul: false });
    expect(formatMsmTuning(parseMsmTuning('limbs=12,unroll=1,wg=64'))).toBe('limbs=12,unroll=1,wg=64');
    expect(formatMsmTuning(parseMsmTuning('unroll=0,limbs=13'))).toBe('default');
    expect(unrolledMul(parseMsmTuning('unroll=1'))).toBe(true);
    expect(unrolledMul(parseMsmTuning('limbs=12'))).toBe(false);
    const pre = parseMsmTuning('pre=8,c=18');
    expect(pre).toEqual({ precompute: 8, windowBits: 18 });
    expect(formatMsmTuning(pre)).toBe('c=18,pre=8');
    expect(() => parseMsmTuning('c=17')).toThrow(/above 16 needs precomputed multiples/);
    expect(parseMsmTuning('acc=rcb,wg=32')).toEqual({ accumulate: 'rcb', curveWorkgroup: 32 });
    expect(formatMsmTuning(parseMsmTuning('acc=rcb'))).toBe('acc=rcb');
    expect(formatMsmTuning(parseMsmTuning('acc=xyzz'))).toBe('default');
    for (const [bad, why] of [['limbs=14', /limb width 14/], ['unroll=2', /unroll=0 or unroll=1/], ['unroll', /unroll=0 or unroll=1/], ['wg=96', /power of two/], ['task=1', /at least 2/], ['c=21', /2…16/], ['pre=x', /key=positive integer/], ['acc=jacobian', /acc=rcb or acc=xyzz/], ['lanes=4', /unknown key "lanes"/], ['wg', /key=positive integer/], ['task=1.5', /key=positive integer/]] as const) {
      expect(() => parseMsmTuning(bad), bad).toThrow(why);
      expect(() => parseMsmTuning(bad), bad).toThrow(new RegExp(`in "${bad.replace('.', '\\.')}"`));
    }
  });
});

describe.skipIf(!gpu)(`WGSL G1 and MSM on ${gpu?.adapterName}`, () => {
  let curve: FfCurve;
  const r = rng(7);
  /** Random points k·G (ffjavascript's scalar multiplication, fast), as canonical affine. */
  const randomPoints = (n: number): ref.Affine[] => {
    const out: ref.Affine[] = [];
    for (let i = 0; i < n; i++) {
      const a = curve.G1.toAffine(curve.G1.timesFr(curve.G1.g, curve.Fr.e(r.below(ref.R - 1n) + 1n)));
      out.push(ref.decodeBasesFF(a)[0]!);
    }
    return out;
  };

  beforeAll(async () => {
    curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as FfCurve;
  });
  afterAll(releaseCurves);

  describe('curve formulas', () => {
    /** A G1 kernel: `body` reads item i's words from `inp` and stores projective points to `out`. */
    const g1Kernel = (body: string) => `${bigintWgsl()}${fieldWgsl('fq')}${curveWgsl()}
@group(0) @binding(0) var<storage, read> inp: array<u32>;
@group(0) @binding(1) var<storage, read_write> outp: array<u32>;
@group(0) @binding(2) var<uniform> prm: vec4<u32>;
${pointIoWgsl('inp', 'inp', false)}
${pointIoWgsl('outp', 'out', true)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= prm.x) { return; }
${body}
}`;
    /** Runs a g1Kernel over `items` items (inputs: canonical values); output point k, canonical. */
    const runG1Kernel = async (code: string, words: bigint[], items: number, pointsPerItem: number) => {
      const ctx = gpu!;
      const pipe = await pipeline(ctx.device, code);
      const out = storageBuffer(ctx.device, items * pointsPerItem * 96);
      const enc = ctx.device.createCommandEncoder();
      dispatch(ctx, enc, pipe, [uploadBuffer(ctx.device, packBigints(words.map(toOurs))), out, uniformU32(ctx.device, [items])], items, 64);
      ctx.device.queue.submit([enc.finish()]);
      const got = unpackBigints(await readU32(ctx.device, out)).map((v) => ref.mod(v * ref.modInv(R % P)));
      return (k: number): ref.Proj => ({ X: got[3 * k]!, Y: got[3 * k + 1]!, Z: got[3 * k + 2]! });
    };
    // per item: P (24) ‖ Q (24) ‖ A (16) in; add, mixed add, double, negation out
    const kernel = g1Kernel(`  let p = G1P(fq_from_words(inp_words(i * 64u)), fq_from_words(inp_words(i * 64u + 8u)), fq_from_words(inp_words(i * 64u + 16u)));
  let q = G1P(fq_from_words(inp_words(i * 64u + 24u)), fq_from_words(inp_words(i * 64u + 32u)), fq_from_words(inp_words(i * 64u + 40u)));
  let a = G1A(fq_from_words(inp_words(i * 64u + 48u)), fq_from_words(inp_words(i * 64u + 56u)));
  out_store_p(i * 4u, g1_add(p, q));
  out_store_p(i * 4u + 1u, g1_add_mixed(p, a));
  out_store_p(i * 4u + 2u, g1_double(p));
  out_store_p(i * 4u + 3u, g1_neg(p));`);

    it('add, mixed add, double and negation match the reference, identity and P ± P included', async () => {
      const pts = randomPoints(40);
      // Random projective representatives (X·z : Y·z : z); identities as (0 : λ : 0).
      const proj = (a: ref.Affine): ref.Proj => {
        const z = r.below(P - 1n) + 1n;
        return a === null ? { X: 0n, Y: z, Z: 0n } : { X: ref.mod(a.x * z), Y: ref.mod(a.y * z), Z: z };
      };
      const cases: [ref.Affine, ref.Affine, { x: bigint; y: bigint }][] = [];
      for (let i = 0; i + 2 < pts.length; i++) cases.push([pts[i]!, pts[i + 1]!, pts[i + 2]!]);
      const p0 = pts[0]!;
      const p1 = pts[1]!;
      cases.push(
        [p0, p0, p0], // P + P in both additions
        [p0, ref.negAffine(p0), ref.negAffine(p0)!], // P + (−P)
        [p0, null, p1], // P + O
        [null, p0, p1], // O + P, O + A
        [null, null, p0], // O + O
        [ref.negAffine(p1), p1, p1!],
      );
      const words: bigint[] = [];
      const inputs = cases.map(([a, b, c]) => {
        const pp = proj(a);
        const qq = proj(b);
        words.push(pp.X, pp.Y, pp.Z, qq.X, qq.Y, qq.Z, c.x, c.y);
        return { pp, qq, c };
      });
      const pt = await runG1Kernel(kernel, words, cases.length, 4);
      inputs.forEach(({ pp, qq, c }, i) => {
        const A = ref.projToAffine(pp);
        const B = ref.projToAffine(qq);
        expect(ref.projToAffine(pt(4 * i)), `add ${i}`).toEqual(ref.addAffine(A, B));
        expect(ref.projToAffine(pt(4 * i + 1)), `mixed ${i}`).toEqual(ref.addAffine(A, c));
        expect(ref.projToAffine(pt(4 * i + 2)), `double ${i}`).toEqual(ref.doubleAffine(A));
        expect(ref.projToAffine(pt(4 * i + 3)), `neg ${i}`).toEqual(ref.negAffine(A));
        // Exactly the reference's formulas, coordinate for coordinate.
        expect(pt(4 * i)).toEqual(ref.addProj(pp, qq));
        expect(pt(4 * i + 1)).toEqual(ref.addMixed(pp, c));
        expect(pt(4 * i + 2)).toEqual(ref.doubleProj(pp));
      });
    });

    it('XYZZ mixed addition matches the reference coordinate for coordinate and the affine sum: identity, P + P and P + (−P) included', async () => {
      // per item: P (XYZZ, 32) ‖ A (16) in; P + A and P, projective, out
      const kernel = g1Kernel(`  let w = i * 48u;
  let p = G1Z(fq_from_words(inp_words(w)), fq_from_words(inp_words(w + 8u)), fq_from_words(inp_words(w + 16u)), fq_from_words(inp_words(w + 24u)));
  let a = G1A(fq_from_words(inp_words(w + 32u)), fq_from_words(inp_words(w + 40u)));
  out_store_p(i * 2u, g1_xyzz_to_proj(g1_xyzz_add_mixed(p, a)));
  out_store_p(i * 2u + 1u, g1_xyzz_to_proj(p));`);
      const pts = randomPoints(24);
      // random XYZZ representatives (x·λ², y·λ³, λ², λ³); the identity as ZZ = ZZZ = 0
      const xyzz = (a: ref.Affine): ref.Xyzz<bigint> => {
        if (a === null) return { X: r.below(P), Y: r.below(P), ZZ: 0n, ZZZ: 0n };
        const l = r.below(P - 1n) + 1n;
        return { X: ref.mod(a.x * l * l), Y: ref.mod(a.y * l * l * l), ZZ: ref.mod(l * l), ZZZ: ref.mod(l * l * l) };
      };
      const cases: [ref.Affine, { x: bigint; y: bigint }][] = [];
      for (let i = 0; i + 1 < pts.length; i++) cases.push([pts[i]!, pts[i + 1]!]);
      const p0 = pts[0]!;
      cases.push([p0, p0], [p0, ref.negAffine(p0)!], [null, p0], [ref.negAffine(p0), p0]);
      const inputs = cases.map(([a, q]) => ({ a, q, z: xyzz(a) }));
      const words = inputs.flatMap(({ z, q }) => [z.X, z.Y, z.ZZ, z.ZZZ, q.x, q.y]);
      const pt = await runG1Kernel(kernel, words, cases.length, 2);
      inputs.forEach(({ a, q, z }, i) => {
        expect(ref.projToAffine(pt(2 * i)), `add ${i}`).toEqual(ref.addAffine(a, q));
        expect(ref.projToAffine(pt(2 * i + 1)), `to projective ${i}`).toEqual(a);
        expect(pt(2 * i), `add ${i}`).toEqual(ref.xyzzToProj(ref.addMixedXyzz(z, q)));
        expect(pt(2 * i + 1)).toEqual(ref.xyzzToProj(z));
      });
      // P + (−P) is the identity, and the identity plus Q is Q
      expect(ref.addMixedXyzz(xyzz(p0), ref.negAffine(p0)!).ZZ).toBe(0n);
      expect(ref.xyzzToProj(ref.addMixedXyzz(ref.addMixedXyzz(xyzz(p0), ref.negAffine(p0)!), pts[1]!))).toEqual(ref.toProj(pts[1]!));
    });
  });

  describe('MSM', () => {
    const SPECIAL = [0n, 1n, 2n, ref.R - 1n, ref.R - 2n, (ref.R - 1n) / 2n, 1n << 253n, ref.R, (1n << 256n) - 1n, 12345n];
    /** n bases (every 7th the identity) and scalars (every 5th special). */
    const instance = (n: number) => {
      const pts = randomPoints(Math.min(n, 64));
      const bases: ref.Affine[] = [];
      const scalars: bigint[] = [];
      for (let i = 0; i < n; i++) {
        // Reuse a few random points under random multiples of G: cheap, and repeats test P + P.
        bases.push(i % 7 === 3 ? null : pts[r.int(pts.length)]!);
        scalars.push(i % 5 === 0 ? SPECIAL[(i / 5) % SPECIAL.length]! : r.below(ref.R));
      }
      return { bases, scalars, basesFF: ref.encodeBasesFF(bases), scalarsLE: ref.encodeScalars(scalars) };
    };
    const expectSame = (got: Uint8Array, want: Uint8Array) => {
      expect(ref.jacobianFFToAffine(got)).toEqual(ref.jacobianFFToAffine(want));
      expect(curve.G1.eq(got, want)).toBe(true);
    };
    // ffjavascript reads scalars as 32-byte integers; ≥ r values are the same point as mod r.
    const ffMsm = (basesFF: Uint8Array, scalars: bigint[]) =>
      curve.G1.multiExpAffine(basesFF, ref.encodeScalars(scalars.map((s) => ref.mod(s, ref.R))));

    for (const n of [1, 2, 3, 100, 1000, 3001]) {
      it(`n = ${n} matches ffjavascript${n <= 100 ? ' and the naive sum' : ''}`, async () => {
        const { bases, scalars, basesFF, scalarsLE } = instance(n);
        const got = await gpuMsmG1(gpu!, basesFF, scalarsLE);
        expectSame(got, await ffMsm(basesFF, scalars));
        if (n <= 100) expect(ref.jacobianFFToAffine(got)).toEqual(ref.projToAffine(ref.naiveMsm(bases, scalars)));
      });
    }

    it('n = 1 with scalar r − 1 gives −P; zero scalars and infinity bases give the identity', async () => {
      const [p] = randomPoints(1);
      const one = ref.encodeBasesFF([p!]);
      expect(ref.jacobianFFToAffine(await gpuMsmG1(gpu!, one, ref.encodeScalars([ref.R - 1n])))).toEqual(ref.negAffine(p!));
      const zero = await gpuMsmG1(gpu!, ref.encodeBasesFF([p!, p!, p!]), ref.encodeScalars([0n, 0n, ref.R]));
      expect(curve.G1.isZero(zero)).toBe(true);
      const inf = await gpuMsmG1(gpu!, ref.encodeBasesFF([null, null]), ref.encodeScalars([5n, 7n]));
      expect(curve.G1.isZero(inf)).toBe(true);
      expect(curve.G1.isZero(await gpuMsmG1(gpu!, new Uint8Array(0), new Uint8Array(0)))).toBe(true);
    });

    it('heavy buckets (half the scalars r − 1, a third 1) run several accumulation levels; debug checks pass', async () => {
      const n = 300;
      const { bases, basesFF } = instance(n);
      const scalars = bases.map((_, i) => (i % 2 === 0 ? ref.R - 1n : i % 3 === 0 ? 1n : r.below(ref.R)));
      const logs: string[] = [];
      // Tasks of 4 entries: buckets of ~150 points need 4 levels.
      const got = await gpuMsmG1(gpu!, basesFF, ref.encodeScalars(scalars), { taskSize: 4, windowBits: 6, debug: true, log: (m) => logs.push(m) });
      expectSame(got, await ffMsm(basesFF, scalars));
      expect(logs.join('\n')).toMatch(/levels=[3-9]/);
      expect(logs.join('\n')).toMatch(/bucket sums match the CPU/);
      // the complete projective first level (acc=rcb) too
      logs.length = 0;
      const rcb = await gpuMsmG1(gpu!, basesFF, ref.encodeScalars(scalars), { taskSize: 4, windowBits: 6, accumulate: 'rcb', debug: true, log: (m) => logs.push(m) });
      expectSame(rcb, await ffMsm(basesFF, scalars));
      expect(logs.join('\n')).toMatch(/bucket sums match the CPU/);
      // XYZZ (the default): repeated bases in a bucket take its doubling path, r − 1 and 1 on one
      // base cancel to ZZ = 0 and the next entry restarts from it
      const few = [...randomPoints(2), null];
      const same = Array.from({ length: 40 }, (_, i) => few[i % 3]!);
      const sc = same.map((_, i) => (i % 4 === 0 ? 1n : i % 4 === 1 ? ref.R - 1n : 5n));
      const sameFF = ref.encodeBasesFF(same);
      expectSame(await gpuMsmG1(gpu!, sameFF, ref.encodeScalars(sc), { windowBits: 4, debug: true }), await ffMsm(sameFF, sc));
    });

    it('small signed scalars (a quantized witness: |s| < 2^12, half of them r − |s|) take a few windows; debug checks pass', async () => {
      const n = 500;
      const { bases, basesFF } = instance(n);
      const scalars = bases.map((_, i) => {
        const m = BigInt(r.int(4096));
        return i % 2 === 0 ? ref.mod(-m, ref.R) : m;
      });
      scalars[7] = ref.R - 4095n; // the largest magnitude, negative: 12 bits
      const logs: string[] = [];
      const got = await gpuMsmG1(gpu!, basesFF, ref.encodeScalars(scalars), { windowBits: 5, debug: true, log: (m) => logs.push(m) });
      expectSame(got, await ffMsm(basesFF, scalars));
      expect(logs.join('\n')).toMatch(/bits=12 c=5 K=3 /);
      // and with the window the cost model picks
      expectSame(await gpuMsmG1(gpu!, basesFF, ref.encodeScalars(scalars)), await ffMsm(basesFF, scalars));
    });

    it('ZKONNX_GPU_DEBUG=1 turns the stage checks on', async () => {
      const { basesFF, scalars, scalarsLE } = instance(50);
      const logs: string[] = [];
      process.env['ZKONNX_GPU_DEBUG'] = '1';
      try {
        expectSame(await gpuMsmG1(gpu!, basesFF, scalarsLE, { log: (m) => logs.push(m) }), await ffMsm(basesFF, scalars));
      } finally {
        delete process.env['ZKONNX_GPU_DEBUG'];
      }
      expect(logs.filter((l) => l.startsWith('debug:')).length).toBeGreaterThanOrEqual(4);
    });

    it('uploaded bases are reused across MSMs, in chunks, with fewer scalars than bases', async () => {
      const n = 500;
      const { basesFF } = instance(n);
      const handle = await uploadBasesG1(gpu!, basesFF, { maxChunk: 128 });
      try {
        expect(handle.chunks.map((c) => c.n)).toEqual([128, 128, 128, 116]);
        for (const m of [n, 300, 1]) {
          const scalars = Array.from({ length: m }, (_, i) => (i % 11 === 0 ? ref.R - 1n : r.below(ref.R)));
          const got = await gpuMsmG1(gpu!, handle, ref.encodeScalars(scalars), { windowBits: m === 1 ? 3 : undefined });
          expectSame(got, await ffMsm(basesFF.subarray(0, m * 64), scalars));
        }
        // Concurrent MSMs (as a prover issues them) take turns on the shared scratch buffers.
        const sets = [0, 1, 2].map(() => Array.from({ length: n }, () => r.below(ref.R)));
        const gots = await Promise.all(sets.map((sc) => gpuMsmG1(gpu!, handle, ref.encodeScalars(sc))));
        for (let i = 0; i < sets.length; i++) expectSame(gots[i]!, await ffMsm(basesFF, sets[i]!));
      } finally {
        handle.release();
      }
    });

    it('window widths from 2 to 13 agree', async () => {
      const { basesFF, scalars, scalarsLE } = instance(200);
      const want = await ffMsm(basesFF, scalars);
      for (const c of [2, 7, 13]) expectSame(await gpuMsmG1(gpu!, basesFF, scalarsLE, { windowBits: c }), want);
    });

    it('another tuning (12-bit limbs, the product unrolled, workgroups of 32, tasks of 4) gives the same point; profiling names every stage', async () => {
      const { basesFF, scalars, scalarsLE } = instance(300);
      const want = await ffMsm(basesFF, scalars);
      const t = parseMsmTuning('limbs=12,unroll=1,wg=32,task=4,reduce=64');
      const handle = await uploadBasesG1(gpu!, basesFF, t);
      try {
        const stages: string[] = [];
        expectSame(await gpuMsmG1(gpu!, handle, scalarsLE, { ...t, windowBits: 4, profile: (s, ms) => { expect(ms).toBeGreaterThanOrEqual(0); stages.push(s); } }), want);
        // 300 points, 4-bit windows: buckets of ~35 entries take several task levels of 4
        const levels = stages.filter((s) => s.startsWith('level'));
        expect(levels.length).toBeGreaterThanOrEqual(2);
        expect(stages).toEqual(['bits', 'digits', ...levels.map((_, i) => `level${i + 1}`), 'buckets', 'reduce', 'tree', 'combine']);
      } finally {
        handle.release();
      }
    });

    it('precomputed multiples (a copy a window, and 3 copies of 15 windows) give the same point; debug checks the copies and every stage', async () => {
      const n = 200;
      const { basesFF, scalars, scalarsLE } = instance(n);
      const want = await ffMsm(basesFF, scalars);
      for (const [c, copies, W] of [[8, 64, 1], [6, 3, 15]] as const) {
        const logs: string[] = [];
        const log = (m: string) => logs.push(m);
        const handle = await uploadBasesG1(gpu!, basesFF, { precompute: copies, windowBits: c, debug: true, log });
        try {
          const m = ref.multiplesFor(c, copies);
          expect(handle.multiples).toEqual(m);
          expect(handle.bytes).toBe(m.t * n * 64);
          expectSame(await gpuMsmG1(gpu!, handle, scalarsLE, { debug: true, log }), want);
          const text = logs.join('\n');
          expect(text).toMatch(/copies made as the CPU does/);
          expect(text).toMatch(new RegExp(`c=${c} K=${ref.numWindows(c)} \\(${W} over copies\\)`));
          expect(text).toMatch(/bucket sums match the CPU/);
        } finally {
          handle.release();
        }
      }
    });

    it('precomputed multiples in chunks, with fewer scalars than bases; small scalars take plain windows over copy 0 where those are cheaper', async () => {
      const n = 300;
      const { basesFF } = instance(n);
      const handle = await uploadBasesG1(gpu!, basesFF, { maxChunk: 128, precompute: 2, windowBits: 6 });
      try {
        expect(handle.chunks.map((c) => c.n)).toEqual([128, 128, 44]);
        expect(handle.multiples).toEqual({ c: 6, V: 22, t: 2 });
        for (const m of [n, 200]) {
          const scalars = Array.from({ length: m }, (_, i) => (i % 11 === 0 ? ref.R - 1n : r.below(ref.R)));
          const logs: string[] = [];
          expectSame(await gpuMsmG1(gpu!, handle, ref.encodeScalars(scalars), { log: (l) => logs.push(l) }), await ffMsm(basesFF.subarray(0, m * 64), scalars));
          // every chunk over the copies: 43 windows' entries into 22 windows of buckets
          expect(logs.filter((l) => /c=6 K=43 \(22 over copies\)/.test(l)).length).toBe(m === n ? 3 : 2);
        }
        // |s| < 8: one plain window of a few bits beats 22 windows of 32 buckets (and debug follows it)
        const small = Array.from({ length: n }, (_, i) => ref.mod(BigInt(r.int(8)) * (i % 2 ? 1n : -1n), ref.R));
        const logs: string[] = [];
        expectSame(await gpuMsmG1(gpu!, handle, ref.encodeScalars(small), { debug: true, log: (l) => logs.push(l) }), await ffMsm(basesFF, small));
        expect(logs.join('\n')).not.toMatch(/over copies|c=6/);
        expect(logs.join('\n')).toMatch(/bucket sums match the CPU/);
      } finally {
        handle.release();
      }
    });

    it('rejects mismatched sizes with both numbers in the message', async () => {
      const b = ref.encodeBasesFF(randomPoints(2));
      await expect(gpuMsmG1(gpu!, b, new Uint8Array(3 * 32))).rejects.toThrow(/3 scalars but only 2 bases/);
      await expect(gpuMsmG1(gpu!, b, new Uint8Array(33))).rejects.toThrow(ZkonnxError);
      await expect(gpuMsmG1(gpu!, b, new Uint8Array(32), { windowBits: 21 })).rejects.toThrow(/window bits/);
      // a width for precomputed multiples (17…20) leaves plain windows to the cost model
      expectSame(await gpuMsmG1(gpu!, b, ref.encodeScalars([3n, 5n]), { windowBits: 18 }), await ffMsm(b, [3n, 5n]));
    });
  });
});
