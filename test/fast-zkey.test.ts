// The one-pass Groth16 key writer (src/setup/fast-zkey.ts): snarkjs must accept its final zkey
// (`zkey verify` from the r1cs and ptau), prove with it and verify those proofs; its sections
// 3–7 must be the bytes snarkjs's newZKey writes; a key checked against another ptau must fail.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledCircuit } from '../src/circom/compile.js';
import { ZkonnxError } from '../src/errors.js';
import { generatePreparedPtau } from '../src/setup/fast-ptau.js';
import { fastGroth16Keys } from '../src/setup/fast-zkey.js';
import { signedCoefs, sparseMsm } from '../src/setup/fast/sparse-msm.js';
import { glvConstants } from '../src/setup/fast/kernels.js';
import { snarkjsInternals, type WasmCurve } from '../src/setup/fast/snarkjs-internals.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { mixedCircuitWithPtau } from './helpers/mixed-circuit.js';
import { writeChainR1cs } from '../benchmarks/chain-r1cs.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let dir: string;
let circuit: CompiledCircuit;
let ptau: string;
let zkey: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zkonnx-fast-zkey-'));
  ({ circuit, ptau } = await mixedCircuitWithPtau(dir));
  zkey = join(dir, 'final.zkey');
}, 60_000);

afterAll(async () => {
  await releaseCurves();
  await rm(dir, { recursive: true, force: true });
});

describe('fastGroth16Keys', () => {
  it('writes a final zkey that snarkjs zkey verify accepts, with newZKey\'s sections 3–7', async () => {
    const r = await fastGroth16Keys({ r1csPath: circuit.r1csPath, ptauPath: ptau, zkeyPath: zkey });
    expect(r.seconds).toBeGreaterThan(0);
    expect(await snarkjs.zKey.verifyFromR1cs(circuit.r1csPath, ptau, zkey, quiet)).toBe(true);

    const init = join(dir, 'init.zkey');
    await snarkjs.zKey.newZKey(circuit.r1csPath, ptau, init, quiet);
    const I = await snarkjsInternals();
    const ours = await I.binFileUtils.readBinFile(zkey, 'zkey', 1);
    const theirs = await I.binFileUtils.readBinFile(init, 'zkey', 1);
    try {
      for (const id of [1, 3, 4, 5, 6, 7]) {
        const a = await I.binFileUtils.readSection(ours.fd, ours.sections, id);
        const b = await I.binFileUtils.readSection(theirs.fd, theirs.sections, id);
        expect(Buffer.from(a).equals(Buffer.from(b)), `section ${id}`).toBe(true);
      }
      // C and H are divided by δ: same size, other bytes
      for (const id of [8, 9]) {
        const a = await I.binFileUtils.readSection(ours.fd, ours.sections, id);
        const b = await I.binFileUtils.readSection(theirs.fd, theirs.sections, id);
        expect(a.length).toBe(b.length);
        expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
      }
      // one contribution, after the circuit hash newZKey computed
      const mpc = await I.binFileUtils.readSection(ours.fd, ours.sections, 10);
      const mpc0 = await I.binFileUtils.readSection(theirs.fd, theirs.sections, 10);
      expect(Buffer.from(mpc.subarray(0, 64)).equals(Buffer.from(mpc0.subarray(0, 64)))).toBe(true);
      expect(new DataView(mpc.buffer, mpc.byteOffset).getUint32(64, true)).toBe(1);
      // sections in the order zkey contribute writes them
      expect(Array.from({ length: 10 }, (_, i) => ours.sections[i + 1][0].p as number)).toEqual(
        Array.from({ length: 10 }, (_, i) => ours.sections[i + 1][0].p as number).sort((x, y) => x - y),
      );
    } finally {
      await ours.fd.close();
      await theirs.fd.close();
    }
  }, 60_000);

  it('its circuit hash is newZKey\'s above 2^14 too, where zkey_new.js hashes N H points, the last from past the ptau\'s section 2', async () => {
    const r1cs = writeChainR1cs(15, join(dir, 'chain15.r1cs')); // domain 2^15
    const p15 = join(dir, 'p15.ptau');
    await generatePreparedPtau(15, p15);
    const theirs = join(dir, 'chain15-init.zkey');
    const ours = join(dir, 'chain15.zkey');
    await snarkjs.zKey.newZKey(r1cs, p15, theirs, quiet);
    await fastGroth16Keys({ r1csPath: r1cs, ptauPath: p15, zkeyPath: ours });
    const I = await snarkjsInternals();
    const csHash = async (file: string): Promise<Buffer> => {
      const { fd, sections } = await I.binFileUtils.readBinFile(file, 'zkey', 1);
      try {
        return Buffer.from((await I.binFileUtils.readSection(fd, sections, 10)).subarray(0, 64));
      } finally {
        await fd.close();
      }
    };
    expect((await csHash(ours)).equals(await csHash(theirs))).toBe(true);
  }, 120_000);

  it('snarkjs proves with the key and verifies the proof with the exported verification key', async () => {
    const a = [1, 2, 3, 4, 5, 6, 7, 8];
    const b = [8, 7, 6, 5, 4, 3, 2, 1];
    const { proof, publicSignals } = await snarkjs.groth16.fullProve({ a, b }, circuit.wasmPath, zkey, quiet);
    const vk = await snarkjs.zKey.exportVerificationKey(zkey, quiet);
    expect(await snarkjs.groth16.verify(vk, publicSignals, proof, quiet)).toBe(true);
    const forged = [...publicSignals];
    forged[2] = String(BigInt(forged[2]!) + 1n);
    expect(await snarkjs.groth16.verify(vk, forged, proof, quiet)).toBe(false);
  }, 60_000);

  it('a key made from another ptau fails zkey verify', async () => {
    const other = join(dir, 'other.ptau');
    await generatePreparedPtau(6, other);
    const z = join(dir, 'other.zkey');
    await fastGroth16Keys({ r1csPath: circuit.r1csPath, ptauPath: other, zkeyPath: z });
    expect(await snarkjs.zKey.verifyFromR1cs(circuit.r1csPath, other, z, quiet)).toBe(true);
    expect(await snarkjs.zKey.verifyFromR1cs(circuit.r1csPath, ptau, z, quiet)).toBe(false);
  }, 60_000);

  it('two runs draw different δ', async () => {
    const z2 = join(dir, 'again.zkey');
    await fastGroth16Keys({ r1csPath: circuit.r1csPath, ptauPath: ptau, zkeyPath: z2 });
    const v1 = await snarkjs.zKey.exportVerificationKey(zkey, quiet);
    const v2 = await snarkjs.zKey.exportVerificationKey(z2, quiet);
    expect(v2.vk_alpha_1).toEqual(v1.vk_alpha_1);
    expect(v2.vk_delta_2).not.toEqual(v1.vk_delta_2);
  }, 60_000);

  it('a ptau too small for the circuit is PTAU_TOO_SMALL and leaves no file', async () => {
    const small = join(dir, 'p3.ptau');
    await generatePreparedPtau(3, small);
    const z = join(dir, 'small.zkey');
    const err = await fastGroth16Keys({ r1csPath: circuit.r1csPath, ptauPath: small, zkeyPath: z }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkonnxError);
    expect((err as ZkonnxError).code).toBe('PTAU_TOO_SMALL');
    expect((err as ZkonnxError).message).toMatch(/2\^5/);
    expect(existsSync(z)).toBe(false);
  }, 60_000);
});

describe('sparseMsm', () => {
  it('G2: outputs of full-width coefficients are cut into tasks by their arena (a Poseidon circuit\'s B2 once overflowed 2 GiB of a thread\'s memory), results unchanged', async () => {
    const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as WasmCurve & { r: bigint } & Record<'G2', WasmCurve['G1'] & { add(a: Uint8Array, b: Uint8Array): Uint8Array; zero: Uint8Array; timesScalar(p: Uint8Array, s: Uint8Array): Uint8Array; toRprLEM(b: Uint8Array, o: number, p: Uint8Array): void }>;
    const G = curve.G2;
    const { r } = curve;
    const sG = G.F.n8 * 2;
    const nPoints = 5;
    const base = new Uint8Array(nPoints * sG);
    for (let i = 0; i < nPoints; i++) base.set(G.toAffine(G.timesFr(G.g, curve.Fr.e(i + 3))), i * sG);
    const toLE = (x: bigint): Uint8Array => { const b = new Uint8Array(32); for (let i = 0; i < 32; i++, x >>= 8n) b[i] = Number(x & 0xffn); return b; };
    // 300 outputs, each one or two terms with 254-bit coefficients
    const coefVals: bigint[] = [];
    const ptr = [0];
    for (let j = 0; j < 300; j++) {
      for (let t = 0; t <= j % 2; t++) coefVals.push(BigInt(`0x${randomBytes(32).toString('hex')}`) % r);
      ptr.push(coefVals.length);
    }
    const raw = new Uint8Array(coefVals.length * 32);
    coefVals.forEach((c, i) => raw.set(toLE(c), i * 32));
    const cols = { ptr: Uint32Array.from(ptr), set: new Uint8Array(coefVals.length), point: Uint32Array.from(coefVals.map((_, i) => i % nPoints)), coef: Uint32Array.from(coefVals.map((_, i) => i)) };
    const coefs = signedCoefs(r, raw, coefVals.length);
    const one = await sparseMsm(curve, 'G2', [base], cols, coefs, false);
    const cut = await sparseMsm(curve, 'G2', [base], cols, coefs, false, undefined, 2 * 2 ** 20);
    expect(one.tasks).toBeLessThan(cut.tasks); // 2 MiB holds about 14 such outputs
    expect(cut.tasks).toBeGreaterThan(10);
    expect(Buffer.from(cut.lem).equals(Buffer.from(one.lem))).toBe(true);
    const want = new Uint8Array(sG);
    for (const j of [0, 1, 150, 299]) {
      let acc = G.zero;
      for (let k = ptr[j]!; k < ptr[j + 1]!; k++) acc = G.add(acc, G.timesScalar(base.slice((k % nPoints) * sG, (k % nPoints + 1) * sG), toLE(coefVals[k]!)));
      G.toRprLEM(want, 0, G.toAffine(acc));
      expect(Buffer.from(cut.lem.subarray(j * sG, (j + 1) * sG)).equals(Buffer.from(want)), `output ${j}`).toBe(true);
    }
  }, 60_000);


  it('G1: wide NAF digits on shared odd multiples, whatever the sharing and the coefficients\' widths (every window from the plain NAF to 7 bits)', async () => {
    const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as WasmCurve & { r: bigint } & Record<'G1', WasmCurve['G1'] & { add(a: Uint8Array, b: Uint8Array): Uint8Array; zero: Uint8Array; timesScalar(p: Uint8Array, s: Uint8Array): Uint8Array; toRprLEM(b: Uint8Array, o: number, p: Uint8Array): void }>;
    const G = curve.G1;
    const { r } = curve;
    const sG = G.F.n8 * 2;
    const toLE = (x: bigint): Uint8Array => { const b = new Uint8Array(32); for (let i = 0; i < 32; i++, x >>= 8n) b[i] = Number(x & 0xffn); return b; };
    const pool = 96;
    const base = new Uint8Array(pool * sG);
    for (let i = 0; i < pool; i++) base.set(G.toAffine(G.timesFr(G.g, curve.Fr.e(i + 7))), i * sG);
    // (distinct points, coefficient bits), one task each: one point under 200 full-width terms
    // takes w = 7, 40 points w = 6, 96 points w = 5, and at 32, 12 and 4 bits w = 4, 3 and the
    // plain NAF. Coefficients near 2^bits and near r (negative) too: runs of ones carry through
    // every window.
    for (const [points, bits] of [[1, 254], [3, 254], [40, 254], [96, 254], [96, 32], [96, 12], [96, 4], [8, 64], [2, 128]] as const) {
      const coefVals: bigint[] = [];
      const point: number[] = [];
      const ptr = [0];
      for (let j = 0; j < 40; j++) {
        for (let t = 0; t < 1 + (j % 9); t++) {
          const x = BigInt(`0x${randomBytes(32).toString('hex')}`) % (1n << BigInt(bits));
          const c = (t % 4 === 1 ? (1n << BigInt(bits)) - 1n - (x & 0xffn) : t % 4 === 2 ? r - x % r : x) % r;
          coefVals.push(c);
          point.push((j * 7 + t) % points);
        }
        ptr.push(coefVals.length);
      }
      const raw = new Uint8Array(coefVals.length * 32);
      coefVals.forEach((c, i) => raw.set(toLE(c), i * 32));
      const cols = { ptr: Uint32Array.from(ptr), set: new Uint8Array(coefVals.length), point: Uint32Array.from(point), coef: Uint32Array.from(coefVals.map((_, i) => i)) };
      const res = await sparseMsm(curve, 'G1', [base], cols, signedCoefs(r, raw, coefVals.length), false);
      const want = new Uint8Array(sG);
      for (let j = 0; j < 40; j++) {
        let acc = G.zero;
        for (let k = ptr[j]!; k < ptr[j + 1]!; k++) acc = G.add(acc, G.timesScalar(base.slice(point[k]! * sG, (point[k]! + 1) * sG), toLE(coefVals[k]!)));
        G.toRprLEM(want, 0, G.toAffine(acc));
        expect(Buffer.from(res.lem.subarray(j * sG, (j + 1) * sG)).toString('hex'), `${points} points, ${bits} bits, output ${j}`).toBe(Buffer.from(want).toString('hex'));
      }
    }
  }, 60_000);

  for (const group of ['G1', 'G2'] as const) {
    it(`${group}: coefficients above 128 bits split by the endomorphism (c = k1 + k2·λ on P and φ(P)), halves of zero and edge values included`, async () => {
      const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as WasmCurve & { r: bigint } & Record<'G1' | 'G2', WasmCurve['G1'] & { add(a: Uint8Array, b: Uint8Array): Uint8Array; zero: Uint8Array; timesScalar(p: Uint8Array, s: Uint8Array): Uint8Array; toRprLEM(b: Uint8Array, o: number, p: Uint8Array): void }>;
      const G = curve[group];
      const { r } = curve;
      const { lambda } = glvConstants(curve);
      const sG = G.F.n8 * 2;
      const toLE = (x: bigint): Uint8Array => { const b = new Uint8Array(32); for (let i = 0; i < 32; i++, x >>= 8n) b[i] = Number(x & 0xffn); return b; };
      const nPoints = 4;
      const base = new Uint8Array(nPoints * sG);
      for (let i = 0; i < nPoints; i++) base.set(G.toAffine(G.timesFr(G.g, curve.Fr.e(i + 11))), i * sG);
      const rand = (): bigint => BigInt(`0x${randomBytes(32).toString('hex')}`) % r;
      // λ (k1 = 0), λ·5 − 3, 2^128 and its negation (17 bytes: split), 2^128 − 1 (16 bytes: not),
      // (r + 1)/2, r − λ; then few-term outputs of random ones, points shared and repeated
      const special = [lambda, (lambda * 5n - 3n + r) % r, 1n << 128n, r - (1n << 128n), (1n << 128n) - 1n, (r + 1n) / 2n, r - lambda];
      const columns: Array<Array<[bigint, number]>> = special.map((c, i) => [[c, i % nPoints]]);
      columns.push(special.map((c, i) => [c, (i * 3) % nPoints] as [bigint, number]));
      for (let j = 0; j < 30; j++) columns.push(Array.from({ length: 1 + (j % 5) }, (_, t) => [t === 2 ? (j % 2 ? r - 1n : 12345n) : rand(), (j + t) % nPoints] as [bigint, number]));
      const coefVals: bigint[] = [];
      const point: number[] = [];
      const ptr = [0];
      for (const col of columns) {
        for (const [c, at] of col) { coefVals.push(c); point.push(at); }
        ptr.push(coefVals.length);
      }
      const raw = new Uint8Array(coefVals.length * 32);
      coefVals.forEach((c, i) => raw.set(toLE(c), i * 32));
      const cols = { ptr: Uint32Array.from(ptr), set: new Uint8Array(coefVals.length), point: Uint32Array.from(point), coef: Uint32Array.from(coefVals.map((_, i) => i)) };
      const res = await sparseMsm(curve, group, [base], cols, signedCoefs(r, raw, coefVals.length), false);
      const want = new Uint8Array(sG);
      for (let j = 0; j < columns.length; j++) {
        let acc = G.zero;
        for (let k = ptr[j]!; k < ptr[j + 1]!; k++) acc = G.add(acc, G.timesScalar(base.slice(point[k]! * sG, (point[k]! + 1) * sG), toLE(coefVals[k]!)));
        G.toRprLEM(want, 0, G.toAffine(acc));
        expect(Buffer.from(res.lem.subarray(j * sG, (j + 1) * sG)).toString('hex'), `output ${j}`).toBe(Buffer.from(want).toString('hex'));
      }
    }, 60_000);
  }

  for (const group of ['G1', 'G2'] as const) {
    it(`${group}: matches term-by-term scalar multiplication, split outputs, signed coefficients, repeated and cancelling terms included`, async () => {
      const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as WasmCurve & { r: bigint } & Record<'G1' | 'G2', WasmCurve['G1'] & { add(a: Uint8Array, b: Uint8Array): Uint8Array; zero: Uint8Array; timesScalar(p: Uint8Array, s: Uint8Array): Uint8Array }>;
      const G = curve[group];
      const { r } = curve;
      const sG = G.F.n8 * 2;
      const nPoints = 6;
      const base = new Uint8Array(nPoints * sG);
      for (let i = 0; i < nPoints; i++) base.set(G.toAffine(G.timesFr(G.g, curve.Fr.e(i + 2))), i * sG);
      const toLE = (x: bigint): Uint8Array => {
        const b = new Uint8Array(32);
        for (let i = 0; i < 32; i++, x >>= 8n) b[i] = Number(x & 0xffn);
        return b;
      };
      const rand = (): bigint => BigInt(`0x${randomBytes(32).toString('hex')}`) % r;
      // outputs: empty, one term, small/large/negative mix, zero, one of 9 terms (split at 3), a
      // point twice (its buckets double it), a point and its negation (infinity), −1s and a weight
      const columns: Array<Array<[bigint, number?]>> = [
        [], [[r - 1n]], [[1n], [r - 5n], [1n << 100n], [rand()]], [[0n]],
        Array.from({ length: 9 }, (_, i) => [i % 2 ? r - BigInt(i) : rand()] as [bigint]),
        [[3n, 4], [3n, 4], [7n, 5]], [[5n, 1], [r - 5n, 1]], [[r - 1n, 0], [r - 1n, 1], [1234n, 2], [r - 4095n, 3]],
      ];
      const coefVals: bigint[] = [];
      const ptr = [0];
      const point: number[] = [];
      for (const col of columns) {
        for (const [c, at] of col) {
          point.push(at ?? coefVals.length % nPoints);
          coefVals.push(c);
        }
        ptr.push(coefVals.length);
      }
      const raw = new Uint8Array(coefVals.length * 32);
      coefVals.forEach((c, i) => raw.set(toLE(c), i * 32));
      const cols = { ptr: Uint32Array.from(ptr), set: new Uint8Array(coefVals.length), point: Uint32Array.from(point), coef: Uint32Array.from(coefVals.map((_, i) => i)) };
      const res = await sparseMsm(curve, group, [base], cols, signedCoefs(r, raw, coefVals.length), true, 3);
      const want = new Uint8Array(sG);
      for (let j = 0; j < columns.length; j++) {
        let acc = G.zero;
        for (let k = ptr[j]!; k < ptr[j + 1]!; k++) acc = G.add(acc, G.timesScalar(base.slice(point[k]! * sG, (point[k]! + 1) * sG), toLE(coefVals[k]!)));
        // byte for byte: snarkjs's affine form, infinity as zeros
        (G as unknown as { toRprLEM(b: Uint8Array, o: number, p: Uint8Array): void }).toRprLEM(want, 0, G.toAffine(acc));
        expect(Buffer.from(res.lem.subarray(j * sG, (j + 1) * sG)).toString('hex'), `output ${j}`).toBe(Buffer.from(want).toString('hex'));
        expect(Buffer.from(res.u!.subarray(j * sG, (j + 1) * sG)).equals(Buffer.from(await G.batchLEMtoU(res.lem.slice(j * sG, (j + 1) * sG))))).toBe(true);
      }
    }, 60_000);
  }
});
