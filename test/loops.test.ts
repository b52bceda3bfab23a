// Scan and Loop unrolled (src/onnx/control.ts), against onnxruntime-web: sklearn-onnx's
// k-nearest-neighbours classifier (cdist as a Scan over the training rows, TopK, the neighbours'
// labels by ArrayFeatureExtractor, a vote per class, classes[ArgMax]) with integer and string
// classes, its Gaussian-process regressor (an RBF kernel of the same cdist), Scans with states,
// reverse directions and other axes; a for loop (a recurrent cell over the rows of the input), a
// while loop whose condition folds each iteration, and a loop with a data-dependent exit (also in
// a circuit). The k-NN classifier compiles; its witness satisfies the constraints, and a changed
// neighbour does not.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConstraints } from '../src/circom/r1cs.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { decodeOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { attr, buildModel, type ModelSpec, type NodeSpec, type TensorSpec } from '../src/onnx/write.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { compileSpec, satisfiedFlipped } from './helpers/compiled.js';
import { gpRegressor, knnClassifier, knnRegressor } from '../benchmarks/sklearn-models.js';
import { compare, expectErr, floatSamples, labelsOf, rand } from './helpers/ml-models.js';

const F = 3;
const T = 12; // training rows
const f32 = (dims: number[], data: number[]): TensorSpec => ({ dims, data: Float32Array.from(data) });
const i64 = (data: number[]): TensorSpec => ({ dims: [data.length], data: BigInt64Array.from(data.map(BigInt)) });
const TRAIN = rand(T * F, 71, 2);
const TRAIN_LABELS = Array.from({ length: T }, (_, i) => i % 3);

/** sklearn-onnx's KNeighborsClassifier on the training rows above. */
const knn = (name: string, M: number, k: number, classes: number[] | string[], o: { negate?: boolean; distance?: boolean } = {}) => knnClassifier(name, M, F, k, TRAIN, TRAIN_LABELS, classes, o);

describe('Scan, unrolled, matches onnxruntime-web', () => {
  it('sklearn-onnx\'s k-NN classifier: cdist as a Scan over the training rows, TopK, votes, classes[ArgMax]; integer and string classes; the k-NN regressor', async () => {
    expect(labelsOf(await compare(knn('knn_ints', 2, 3, [2, 5, 9]), floatSamples([2, F], 16, 80, 2)))).toEqual(new Set([2, 5, 9]));
    expect(labelsOf(await compare(knn('knn_strings', 1, 5, ['a', 'b', 'c']), floatSamples([1, F], 16, 90, 2))).size).toBe(3);
    // the regressor: the mean target of the k nearest rows
    await compare(knnRegressor('knn_regressor', 2, F, 3, TRAIN, rand(T, 75, 3)), floatSamples([2, F], 8, 85, 2), 1e-4);
    // opset 10's form: the k largest of −distance
    expect(labelsOf(await compare(knn('knn_negated', 2, 3, [0, 1, 2], { negate: true }), floatSamples([2, F], 8, 80, 2))).size).toBe(3);
    // weights='distance': each neighbour's vote 1 / max(distance, 1e−6)
    expect(labelsOf(await compare(knn('knn_distance', 2, 5, [0, 1, 2], { distance: true }), floatSamples([2, F], 8, 80, 2), 1e-3)).size).toBe(3);
  });

  it('sklearn-onnx\'s Gaussian-process regressor: an RBF kernel of cdist against the training rows, times alpha, plus the mean', async () => {
    const m = gpRegressor('gpr', 2, F, TRAIN, 1.5, 0.8, rand(T, 73, 0.5), 0.25);
    await compare(m, floatSamples([2, F], 6, 120, 2), 1e-4);
  });

  it('states carried across steps, a reversed scan input, a scan output stacked along axis 1 and reversed', async () => {
    // running sum and product-free state: s_t = s_{t−1} + row_t (rows taken in reverse), outputs s_t
    // stacked along axis 1, reversed; and the final state
    const body = attr.graph({
      name: 'acc',
      inputs: [{ name: 's', shape: [F] }, { name: 'row', shape: [F] }],
      outputs: [{ name: 's_next', shape: [F] }, { name: 'y', shape: [F] }],
      nodes: [
        { name: 'add', op: 'Add', inputs: ['s', 'row'], outputs: ['s_next'], attrs: {} },
        { name: 'scale', op: 'Mul', inputs: ['s_next', 'w'], outputs: ['y'], attrs: {} },
      ],
      initializers: [{ name: 'w', ...f32([F], [0.5, -1, 2]) }],
    });
    const m: ModelSpec = {
      graphName: 'scan_state',
      inputs: [{ name: 'x', shape: [4, F] }, { name: 's0', shape: [F] }],
      outputs: [{ name: 'final', shape: [F] }, { name: 'ys', shape: [F, 4] }],
      initializers: [],
      nodes: [{ name: '/scan', op: 'Scan', inputs: ['s0', 'x'], outputs: ['final', 'ys'], attrs: { body, num_scan_inputs: 1, scan_input_directions: [1], scan_output_axes: [1], scan_output_directions: [1] } }],
    };
    await compare(m, Array.from({ length: 4 }, (_, i) => [rand(4 * F, 100 + i), rand(F, 200 + i)]));
  });

  it('scans along axis 1 of an input, and two scan inputs at once', async () => {
    const body = attr.graph({
      name: 'pair',
      inputs: [{ name: 'a', shape: [2] }, { name: 'b', shape: [2] }],
      outputs: [{ name: 'p', shape: [2] }],
      nodes: [{ name: 'mul', op: 'Mul', inputs: ['a', 'b'], outputs: ['p'], attrs: {} }],
    });
    const m: ModelSpec = {
      graphName: 'scan_axes',
      inputs: [{ name: 'x', shape: [2, 5] }, { name: 'z', shape: [5, 2] }],
      outputs: [{ name: 'y', shape: [5, 2] }],
      initializers: [],
      nodes: [{ name: '/scan', op: 'Scan', inputs: ['x', 'z'], outputs: ['y'], attrs: { body, num_scan_inputs: 2, scan_input_axes: [1, 0] } }],
    };
    await compare(m, Array.from({ length: 3 }, (_, i) => [rand(10, 300 + i), rand(10, 400 + i)]));
  });

  it('refuses scan inputs of different lengths, naming the node', () => {
    const body = attr.graph({ name: 'b', inputs: [{ name: 'a', shape: [2] }, { name: 'b', shape: [2] }], outputs: [{ name: 'p', shape: [2] }], nodes: [{ name: 'mul', op: 'Mul', inputs: ['a', 'b'], outputs: ['p'], attrs: {} }] });
    const m: ModelSpec = {
      graphName: 'scan_lengths', inputs: [{ name: 'x', shape: [3, 2] }, { name: 'z', shape: [4, 2] }], outputs: [{ name: 'y', shape: [3, 2] }], initializers: [],
      nodes: [{ name: '/scan', op: 'Scan', inputs: ['x', 'z'], outputs: ['y'], attrs: { body, num_scan_inputs: 2 } }],
    };
    expectErr(m, 'node /scan (Scan): the scan inputs have lengths [3,4] along their scan axes: they must be equal');
  });
});

describe('Loop, unrolled, matches onnxruntime-web', () => {
  const W = f32([F, F], rand(F * F, 130, 0.8));
  /** the initial condition, true (the writer has no bool tensors: a cast) */
  const GO: NodeSpec = { name: '/go', op: 'Cast', inputs: ['one_i'], outputs: ['go'], attrs: { to: 9 } };

  it('a for loop (trip count 4): h = tanh(h·W + x[i]) over the rows of x, the final h and every h stacked', async () => {
    const body = attr.graph({
      name: 'rnn',
      inputs: [{ name: 'i', shape: [], type: 'int64' }, { name: 'c', shape: [], type: 'bool' }, { name: 'h', shape: [1, F] }],
      outputs: [{ name: 'c_out', shape: [], type: 'bool' }, { name: 'h_next', shape: [1, F] }, { name: 'h_scan', shape: [1, F] }],
      nodes: [
        { name: 'row', op: 'Gather', inputs: ['x', 'i'], outputs: ['xi'], attrs: { axis: 0 } },
        { name: 'mm', op: 'MatMul', inputs: ['h', 'w'], outputs: ['hw'], attrs: {} },
        { name: 'add', op: 'Add', inputs: ['hw', 'xi'], outputs: ['pre'], attrs: {} },
        { name: 'tanh', op: 'Tanh', inputs: ['pre'], outputs: ['h_next'], attrs: {} },
        { name: 'copy', op: 'Identity', inputs: ['h_next'], outputs: ['h_scan'], attrs: {} },
        { name: 'keep', op: 'Identity', inputs: ['c'], outputs: ['c_out'], attrs: {} },
      ],
    });
    const m: ModelSpec = {
      graphName: 'loop_for',
      inputs: [{ name: 'x', shape: [4, F] }, { name: 'h0', shape: [1, F] }],
      outputs: [{ name: 'h_final', shape: [1, F] }, { name: 'hs', shape: [4, 1, F] }],
      initializers: [{ name: 'w', ...W }, { name: 'trip', ...i64([4]) }, { name: 'one_i', dims: [], data: BigInt64Array.of(1n) }],
      nodes: [GO, { name: '/loop', op: 'Loop', inputs: ['trip', 'go', 'h0'], outputs: ['h_final', 'hs'], attrs: { body } }],
    };
    await compare(m, Array.from({ length: 4 }, (_, i) => [rand(4 * F, 140 + i), rand(F, 150 + i, 0.5)]), 1e-4);
  });

  it('a while loop (no trip count): its condition, computed from the iteration number, folds each time', async () => {
    const body = attr.graph({
      name: 'halve',
      inputs: [{ name: 'i', shape: [], type: 'int64' }, { name: 'c', shape: [], type: 'bool' }, { name: 's', shape: [1, F] }],
      outputs: [{ name: 'c_out', shape: [], type: 'bool' }, { name: 's_next', shape: [1, F] }],
      nodes: [
        { name: 'next_i', op: 'Add', inputs: ['i', 'one'], outputs: ['i1'], attrs: {} },
        { name: 'more', op: 'Less', inputs: ['i1', 'limit'], outputs: ['c_out'], attrs: {} },
        { name: 'half', op: 'Mul', inputs: ['s', 'w_half'], outputs: ['sh'], attrs: {} },
        { name: 'shift', op: 'Add', inputs: ['sh', 'b'], outputs: ['s_next'], attrs: {} },
      ],
      initializers: [{ name: 'one', dims: [], data: BigInt64Array.of(1n) }, { name: 'limit', dims: [], data: BigInt64Array.of(3n) }, { name: 'w_half', ...f32([1], [0.5]) }],
    });
    const m: ModelSpec = {
      graphName: 'loop_while',
      inputs: [{ name: 's0', shape: [1, F] }],
      outputs: [{ name: 's', shape: [1, F] }],
      initializers: [{ name: 'b', ...f32([F], [0.25, -0.5, 1]) }, { name: 'one_i', dims: [], data: BigInt64Array.of(1n) }],
      nodes: [GO, { name: '/loop', op: 'Loop', inputs: ['', 'go', 's0'], outputs: ['s'], attrs: { body } }],
    };
    await compare(m, Array.from({ length: 3 }, (_, i) => [rand(F, 160 + i, 2)]), 1e-4);
  });

  // s doubles until its sum reaches 10 (a data-dependent exit), at most `trip` times
  const until = (name: string, trip: boolean, scan: boolean): ModelSpec => {
    const body = attr.graph({
      name: 'until',
      inputs: [{ name: 'i', shape: [], type: 'int64' }, { name: 'c', shape: [], type: 'bool' }, { name: 's', shape: [1, F] }],
      outputs: [{ name: 'c_out', shape: [], type: 'bool' }, { name: 's_next', shape: [1, F] }, ...(scan ? [{ name: 's_scan', shape: [1, F] }] : [])],
      nodes: [
        { name: 'twice', op: 'Add', inputs: ['s', 's'], outputs: ['s_next'], attrs: {} },
        { name: 'total', op: 'ReduceSum', inputs: ['s_next'], outputs: ['t'], attrs: { keepdims: 0 } },
        { name: 'small', op: 'Less', inputs: ['t', 'ten'], outputs: ['c_out'], attrs: {} },
        ...(scan ? [{ name: 'copy', op: 'Identity', inputs: ['s_next'], outputs: ['s_scan'], attrs: {} }] : []),
      ],
      initializers: [{ name: 'ten', ...f32([], [10]) }],
    });
    return {
      graphName: name, opset: 11,
      inputs: [{ name: 's0', shape: [1, F] }], outputs: [{ name: 's', shape: [1, F] }, ...(scan ? [{ name: 'ss', shape: [5, 1, F] }] : [])],
      initializers: [{ name: 'trip', ...i64([5]) }, { name: 'one_i', dims: [], data: BigInt64Array.of(1n) }],
      nodes: [GO, { name: '/loop', op: 'Loop', inputs: [trip ? 'trip' : '', 'go', 's0'], outputs: ['s', ...(scan ? ['ss'] : [])], attrs: { body } }],
    };
  };

  it('a data-dependent exit up to a constant trip count: every iteration computed, each kept while the conditions so far hold', async () => {
    // sums from 0.3 to 12: the loop stops after 0 to 5 doublings
    const samples = [0.3, 0.8, 1.5, 2.6, 6, 12].map((sum, i) => [rand(F, 170 + i, 1).map((v) => sum / F + v * 0.05)]);
    await compare(until('loop_until', true, false), samples, 1e-4);
    // in a circuit: circom builds the same system, within tolerance of onnxruntime-web
    const c = await compileSpec(until('loop_until_circuit', true, false), mkdtempSync(join(tmpdir(), 'zkonnx-loop-')), samples.map((x) => ({ input_data: x })), true);
    expect(c.settings.circuit.constraints).toBeGreaterThan(0);
  }, 60_000);

  it('refuses a data-dependent exit without a trip count, or with scan outputs (their length would depend on the input)', () => {
    const err = (m: ModelSpec) => { try { inferAndFold(decodeOnnx(buildModel(m), 'm.onnx')); } catch (e) { return (e as Error).message; } return 'accepted'; };
    expect(err(until('loop_forever', false, false))).toContain('node /loop (Loop): the condition computed in iteration 0 depends on the model\'s input and the loop has no trip count');
    expect(err(until('loop_scans', true, true))).toContain("scan output 'ss' would have a length that depends on the input");
  });
});

describe('a k-NN classifier in a circuit', () => {
  it('compiles (circom builds the same system); the witness satisfies the constraints and gives onnxruntime\'s label; a changed neighbour does not', async () => {
    const work = mkdtempSync(join(tmpdir(), 'zkonnx-knn-'));
    const m = knn('knn_circuit', 1, 3, [0, 1, 2]);
    const input = Array.from({ length: 12 }, (_, i) => ({ input_data: [floatSamples([1, F], 1, 500 + i, 2)[0]![0]!] }));
    const c = await compileSpec(m, work, input, true);
    const refs = await compare(m, input.map((s) => s.input_data));
    expect(labelsOf(refs).size).toBeGreaterThan(1);
    for (const [i, s] of input.entries()) {
      const qin = quantizeInputs(c.qg, s.input_data);
      expect(Number(execQuant(c.qg, qin).outputs[0]![0])).toBe(refs[i]![0]![0]);
      if (i > 1) continue;
      const w = await circuitWitness(c.qg, c.settings.visibility, {}, { qin }, c.paths.file('r1cs'));
      expect((await checkConstraints(c.r1cs, w)).ok).toBe(true);
      // the first equality that reads a neighbour's label: changed, the constraints fail
      if (i === 0) expect(await satisfiedFlipped(c, w, '/labels')).toBe(false);
    }
  }, 180_000);
});
