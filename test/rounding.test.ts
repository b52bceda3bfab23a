// Floor, Ceil, Round (half to even), Cast of fractions to an integer type (toward zero) and Mod
// by a constant (fmod=0: the divisor's sign; fmod=1: the dividend's) on signals: the 'round'
// primitive (src/ir/nonlinear.ts), proven by DivConst (circuits/zkonnx.circom).
//  - each op on a one-node model against onnxruntime-web, exactly (the inputs are dyadic, so the
//    quantized inputs are the float ones), with the witness satisfying the written R1CS and the
//    circuit's values equal to the integer executor's; circom builds the same system (one model);
//  - DivConst as main against circom: every input of its domain against the BigInt reference,
//    its constraint count, and a tampered witness (output, remainder bits, the correction's
//    signals) fails the constraints, in circom's system and in the one zkonnx writes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../src/api.js';
import { BN254_R, checkConstraints, readR1cs } from '../src/circom/r1cs.js';
import { circuitWitness, writeCircuit } from '../src/compiler/circuit.js';
import { ZkonnxError } from '../src/errors.js';
import type { QuantGraph, ValueInfo } from '../src/ir/graph.js';
import { linearize } from '../src/ir/linearize.js';
import { readOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { buildModel, type ElemType, type InitializerSpec, type ModelSpec, type NodeSpec } from '../src/onnx/write.js';
import { dequantize, execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { calibrate } from '../src/quantize/calibrate.js';
import { divConst, ROUND_MODES } from '../src/quantize/int.js';
import { quantize } from '../src/quantize/quantize.js';
import { runReference } from '../src/quantize/reference.js';
import { estimateConstraints } from '../src/split.js';
import { CircuitTester } from './helpers/circuit-tester.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-rounding-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Halves (ties both ways), quarters, eighths, whole numbers and 0, of both signs. */
const FLOATS = [
  [-7.5, -3.5, -2.5, -1.5, -0.5, -0.25, 0, 0.5, 1.5, 2.5, 3.5, 0.75, -2.75, 2.125, -6, 7.875],
  [-7.875, -4.5, -1, 1, 4.5, 6.5, -6.5, 0.125, -0.125, 5.25, -5.25, 3, -3, 2, -0.875, 7],
];
const INTS = [[-7, -6, -5, -4, -3, -1, 0, 1, 3, 4, 5, 7], [6, -2, 2, -8, 8, 9, -9, 11, -11, 12, -12, 10]];

interface OneNode {
  op: string;
  attrs?: NodeSpec['attrs'];
  /** a constant second input */
  c?: InitializerSpec['data'];
  cDims?: number[];
  inType?: ElemType;
  outType?: ElemType;
}

function oneNode(name: string, n: OneNode, size: number): ModelSpec {
  const inits: InitializerSpec[] = n.c ? [{ name: 'c', dims: n.cDims ?? [], data: n.c }] : [];
  return {
    graphName: name, inputs: [{ name: 'x', shape: [1, size], type: n.inType }], outputs: [{ name: 'y', shape: [1, size], type: n.outType }],
    initializers: inits, nodes: [{ name: `/m/${name}`, op: n.op, inputs: n.c ? ['x', 'c'] : ['x'], outputs: ['y'], attrs: n.attrs }],
  };
}

/**
 * The model through the pipeline: its dequantized outputs equal onnxruntime-web's on every
 * sample, and the witness of the written R1CS satisfies it (the circuit's values are qexec's).
 */
async function pipeline(name: string, spec: ModelSpec, samples: number[][]): Promise<QuantGraph> {
  const path = join(work, `${name}.onnx`);
  writeFileSync(path, buildModel(spec));
  const g = inferAndFold(readOnnx(path));
  const ag = linearize(g);
  const qg = quantize(ag, calibrate(ag, samples.map((s) => [Float64Array.from(s)])));
  const vis = { input: 'private', output: 'public' } as const;
  const r1csPath = join(work, `${name}.r1cs`);
  const written = writeCircuit(qg, vis, {}, r1csPath, join(work, `${name}.sym`));
  const r1cs = await readR1cs(r1csPath);
  for (const s of samples) {
    const ref = await runReference(path, g.inputs as ValueInfo[], [Float64Array.from(s)], g.outputs);
    const qin = quantizeInputs(qg, [s]);
    const q = execQuant(qg, qin);
    const ours = q.outputs.map((o, k) => o.map((v) => dequantize(v, qg.outputs[k]!.scale)));
    expect(ours.map((o) => o.map((v) => v + 0)), `${name} on [${s}]`).toEqual(ref.map((r) => Array.from(r, (v) => v + 0)));
    const w = await circuitWitness(qg, vis, {}, { qin }, r1csPath, q);
    const res = await checkConstraints(r1cs, w);
    expect(res.ok, res.ok ? '' : res.message).toBe(true);
    // the corrections' and Equal's inverses, the only full-size values here, stay out of B: a wire
    // in some B is a point of the proof's G2 MSM, where one full-size scalar costs every window
    const inB = new Set(r1cs.constraints.flatMap((c) => [...c.b.keys()]));
    const large = [...inB].filter((wire) => { const v = w[wire]!; return (v > BN254_R / 2n ? BN254_R - v : v) >= 1n << 64n; });
    expect(large, `${name}: wires in B with full-size values`).toEqual([]);
  }
  // each round element costs what DivConst's doc says (split.ts's estimate), and one more where
  // its operand is no plain value (the −x of Mod by a negative divisor: `in <== −x` stays)
  qg.acts.forEach((a, j) => {
    if (a.op.kind !== 'round') return;
    let est = 0;
    for (let i = 0; i < a.size; i++) {
      const r = a.argStart[i]!; // x's row
      const plain = a.args.rowStart[r + 1]! - a.args.rowStart[r]! === 1 && a.args.coef[a.args.rowStart[r]!] === 1n && a.args.bias[r] === 0n;
      est += estimateConstraints(a, i) + (plain ? 0 : 1);
    }
    expect(written.perComponent.get(`a${j}`), `constraints of ${a.name}`).toBe(est);
  });
  return qg;
}

/** Element 0 of each round act: remainder bits m, floor-quotient bits b, and its constraints. */
const shape = (qg: QuantGraph) => qg.acts.filter((a) => a.op.kind === 'round').map((a) => ({ m: a.aux[0], b: a.bits[0], cost: estimateConstraints(a, 0) }));

describe('Floor, Ceil, Round and Cast to integers on signals match onnxruntime-web exactly, and the witness satisfies the R1CS', () => {
  // x at scale 2^9 (|x| < 8 in 13 bits): D = 2^9, m = 9 remainder bits; b from the quotient's range
  const expected: Record<string, { m: number; b: number; cost: number }> = {
    Floor: { m: 9, b: 3, cost: 9 + 3 + 3 }, Ceil: { m: 9, b: 4, cost: 9 + 4 + 3 }, Round: { m: 9, b: 4, cost: 9 + 4 + 3 + 3 },
  };
  for (const op of ['Floor', 'Ceil', 'Round']) {
    it(`${op}: negative values, exact integers and .5 ties toward even and odd`, async () => {
      const qg = await pipeline(op, oneNode(op, { op }, 16), FLOATS);
      expect(shape(qg)).toEqual([expected[op]]);
      expect(qg.outputs[0]!.scale).toBe(0);
    });
  }

  it('Cast of fractions to int32 and int64 truncates toward zero (negatives round up)', async () => {
    for (const [to, type] of [[6, 'int32'], [7, 'int64']] as const) {
      const qg = await pipeline(`Cast${to}`, oneNode(`Cast${to}`, { op: 'Cast', attrs: { to }, outType: type }, 16), FLOATS);
      expect(shape(qg)).toEqual([{ m: 9, b: 3, cost: 9 + 3 + 3 + 3 }]);
    }
  });

  it('Floor feeds Cast (no truncation: its values are integers) and Equal(Floor, Ceil) finds the integers', async () => {
    const spec: ModelSpec = {
      graphName: 'chain', inputs: [{ name: 'x', shape: [1, 16] }],
      outputs: [{ name: 'i', shape: [1, 16], type: 'int64' }, { name: 'whole', shape: [1, 16], type: 'bool' }], initializers: [],
      nodes: [
        { name: '/f', op: 'Floor', inputs: ['x'], outputs: ['f'] },
        { name: '/c', op: 'Ceil', inputs: ['x'], outputs: ['c'] },
        { name: '/i', op: 'Cast', inputs: ['f'], outputs: ['i'], attrs: { to: 7 } },
        { name: '/e', op: 'Equal', inputs: ['f', 'c'], outputs: ['whole'] },
      ],
    };
    await pipeline('chain', spec, FLOATS);
    const g = inferAndFold(readOnnx(join(work, 'chain.onnx')));
    expect(g.nodes.map((n) => n.op)).toEqual(['Floor', 'Ceil', 'Cast', 'Equal']);
  });
});

describe('Mod by a constant on signals matches onnxruntime-web exactly', () => {
  it('fmod=1 (C fmod: the dividend\'s sign) on floats, by 1.5, −2, 0.1 and a per-element divisor', async () => {
    await pipeline('fmod15', oneNode('fmod15', { op: 'Mod', attrs: { fmod: 1 }, c: Float32Array.from([1.5]) }, 16), FLOATS);
    await pipeline('fmodm2', oneNode('fmodm2', { op: 'Mod', attrs: { fmod: 1 }, c: Float32Array.from([-2]) }, 16), FLOATS);
    // 0.1 in float32 is 13421773·2^−27: x's rows are lifted from 2^9 to 2^27, where it is an integer
    const tenth = await pipeline('fmod01', oneNode('fmod01', { op: 'Mod', attrs: { fmod: 1 }, c: Float32Array.from([0.1]) }, 16), FLOATS);
    expect(tenth.acts[0]!.argScale).toBe(27);
    expect(tenth.acts[0]!.args.bias[1]).toBe(13421773n);
    const per = Float32Array.from({ length: 16 }, (_, i) => [1.5, -0.75, 4, -3, 0.5, 2.5][i % 6]!);
    await pipeline('fmodvec', oneNode('fmodvec', { op: 'Mod', attrs: { fmod: 1 }, c: per, cDims: [1, 16] }, 16), FLOATS);
  });

  it('integer Mod: fmod=0 (the divisor\'s sign) and fmod=1 on int32 and int64, by positive and negative divisors', async () => {
    for (const [d, fmod] of [[3, 0], [-3, 0], [4, 0], [-5, 1], [3, 1]] as const) {
      const name = `imod${d < 0 ? 'm' : ''}${Math.abs(d)}f${fmod}`;
      await pipeline(name, oneNode(name, { op: 'Mod', attrs: { fmod }, c: Int32Array.from([d]), inType: 'int32', outType: 'int32' }, 12), INTS);
    }
    const per = BigInt64Array.from([3n, -3n, 4n, -4n, 5n, -7n, 1n, -1n, 2n, 6n, -6n, 9n]);
    await pipeline('imodvec', oneNode('imodvec', { op: 'Mod', c: per, cDims: [12], inType: 'int64', outType: 'int64' }, 12), INTS);
  });

  it('refuses a divisor that depends on the input, naming the node', () => {
    const spec: ModelSpec = {
      graphName: 'sigdiv', inputs: [{ name: 'x', shape: [1, 4] }, { name: 'd', shape: [1, 4] }], outputs: [{ name: 'y', shape: [1, 4] }], initializers: [],
      nodes: [{ name: '/m/Mod', op: 'Mod', inputs: ['x', 'd'], outputs: ['y'], attrs: { fmod: 1 } }],
    };
    const path = join(work, 'sigdiv.onnx');
    writeFileSync(path, buildModel(spec));
    const g = inferAndFold(readOnnx(path));
    let err: unknown;
    try { linearize(g); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ZkonnxError);
    expect((err as ZkonnxError).message).toContain('/m/Mod');
    expect((err as ZkonnxError).message).toContain('divisor that depends on the model input');
  });
});

describe('compile --check-circom: circom builds the system zkonnx writes for every rounding mode', () => {
  it('Floor, Ceil, Round, Cast, Mod fmod=1 by 1.5 and by −2 in one model', async () => {
    const ops: [string, NodeSpec['attrs'], string?][] = [['Floor', {}], ['Ceil', {}], ['Round', {}], ['Cast', { to: 7 }], ['Mod', { fmod: 1 }, 'c15'], ['Mod', { fmod: 1 }, 'cm2']];
    const spec: ModelSpec = {
      graphName: 'all', inputs: [{ name: 'x', shape: [1, 16] }],
      outputs: ops.map(([op], k) => ({ name: `y${k}`, shape: [1, 16], type: op === 'Cast' ? 'int64' as const : undefined })),
      initializers: [{ name: 'c15', dims: [], data: Float32Array.from([1.5]) }, { name: 'cm2', dims: [], data: Float32Array.from([-2]) }],
      nodes: ops.map(([op, attrs, c], k) => ({ name: `/n${k}/${op}`, op, inputs: c ? ['x', c] : ['x'], outputs: [`y${k}`], attrs })),
    };
    const path = join(work, 'all.onnx');
    writeFileSync(path, buildModel(spec));
    const { settings } = await compile({ model: path, calibration: FLOATS.map((s) => ({ input_data: [s] })), outDir: join(work, 'all-build'), checkCircom: true });
    expect(settings.circuit.checkCircom?.same).toBe(true);
    expect(settings.circuit.checkCircom!.witnessCompared).toBe(settings.circuit.wires);
    expect(settings.accuracy.maxAbsError).toBe(0);
  }, 120_000);
});

// ---------------------------------------------------------------- DivConst as main

const INCLUDE = { include: 'circuits/zkonnx.circom' };
const bitsOf = (x: bigint, n: number) => Array.from({ length: n }, (_, i) => (x >> BigInt(i)) & 1n);

/** DivConst(D, m, b, mode, rem): every input with f = floor((in + off)/D) ∈ [−2^b, 2^b). */
async function divConstCase(D: number, m: number, b: number, mode: number, rem: 0 | 1): Promise<CircuitTester> {
  const t = await CircuitTester.fromSource(`divconst_${D}_${m}_${b}_${mode}_${rem}`, `component main = DivConst(${D}, ${m}, ${b}, ${mode}, ${rem});`, INCLUDE);
  const Dn = BigInt(D);
  const off = mode === 1 ? Dn - 1n : mode === 3 ? Dn / 2n : 0n;
  const lo = -Dn * (1n << BigInt(b)) - off;
  for (let x = lo; x < lo + 2n * Dn * (1n << BigInt(b)); x++) {
    const { q } = divConst(x, Dn, ROUND_MODES[mode]!);
    await t.expectPass({ in: x }, { out: rem ? x - q * Dn : q });
  }
  return t;
}

describe('DivConst: the circuit is the executor on its whole domain, and tampered witnesses fail', () => {
  it('floor and ceil by 8 (m = 3, b = 2): the Rescale\'s cost, m + b + 3; out ± 1 and a flipped bit fail', async () => {
    for (const mode of [0, 1]) {
      const t = await divConstCase(8, 3, 2, mode, 0);
      t.expectConstraintCount(3 + 2 + 3);
      const out = t.read(await t.witness({ in: -13 }), 'out');
      await t.expectConstraintFailure({ in: -13 }, { out: out + 1n });
      await t.expectConstraintFailure({ in: -13 }, { out: out - 1n });
      await t.expectConstraintFailure({ in: -13 }, { 'r[0]': 1n - t.read(await t.witness({ in: -13 }), 'r[0]') });
    }
  });

  it('trunc by 8: toward zero for negatives with a remainder; dropping or forging the correction fails', async () => {
    const t = await divConstCase(8, 3, 2, 2, 0);
    t.expectConstraintCount(3 + 2 + 3 + 3);
    // −13/8 = −1.625: f = −2, r = 3, q = −1
    const w = await t.expectPass({ in: -13 }, { out: -1, nz: 1, t: 1 });
    expect(t.read(w, 'out')).toBe(-1n);
    await t.expectConstraintFailure({ in: -13 }, { t: 0n, out: -2n }); // floor instead of trunc
    await t.expectConstraintFailure({ in: -13 }, { nz: 0n, t: 0n, out: -2n }); // "no remainder"
    await t.expectConstraintFailure({ in: -13 }, { inv: 5n });
    // −16/8 = −2 exactly: no correction; forging one fails
    await t.expectPass({ in: -16 }, { out: -2, nz: 0, t: 0 });
    await t.expectConstraintFailure({ in: -16 }, { nz: 1n, t: 1n, out: -1n });
  });

  it('even by 8: ties go to the even neighbour; half up at a tie fails', async () => {
    const t = await divConstCase(8, 3, 2, 3, 0);
    t.expectConstraintCount(3 + 2 + 3 + 3);
    for (const [x, q] of [[4, 0], [12, 2], [-4, 0], [-12, -2], [20, 2], [-20, -2], [5, 1], [-5, -1]] as const) await t.expectPass({ in: x }, { out: q });
    // 12/8 = 1.5 → 2 (f = 2, even: t = 0); 4/8 = 0.5 → 0 (f = 1, odd: t = 1)
    await t.expectConstraintFailure({ in: 4 }, { t: 0n, out: 1n });
    await t.expectConstraintFailure({ in: 4 }, { nz: 1n, t: 0n, out: 1n });
    await t.expectConstraintFailure({ in: 12 }, { t: 1n, out: 1n });
  });

  it('remainders by 5 (not a power of two: r < 5 checked): floor and trunc; r + 5 with the quotient − 1 fails', async () => {
    const floor = await divConstCase(5, 3, 2, 0, 1);
    floor.expectConstraintCount(3 + 2 + 3 + 3 + 2);
    // 7 = 1·5 + 2; the other decomposition 7 = 0·5 + 7 has r = 7 < 2^3: only r < 5 refuses it
    const w = await floor.expectPass({ in: 7 }, { out: 2 });
    const u = floor.read(w, 'u[0]') + 2n * floor.read(w, 'u[1]') + 4n * floor.read(w, 'u[2]');
    const forged: Record<string, bigint> = { out: 7n };
    bitsOf(7n, 3).forEach((v, i) => { forged[`r[${i}]`] = v; });
    bitsOf(u - 1n, 3).forEach((v, i) => { forged[`u[${i}]`] = v; });
    const { failing } = await floor.expectConstraintFailure({ in: 7 }, forged);
    expect(failing.length).toBeGreaterThan(0);
    const trunc = await divConstCase(5, 3, 2, 2, 1);
    trunc.expectConstraintCount(3 + 2 + 3 + 3 + 2 + 3);
    await trunc.expectPass({ in: -7 }, { out: -2 });
    await trunc.expectConstraintFailure({ in: -7 }, { t: 0n, out: 3n }); // the floor remainder
  });
});
