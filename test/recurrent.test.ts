// LSTM, GRU and RNN on signals (src/onnx/recurrent.ts): each cell unrolled over its sequence,
// compiled, and checked three ways: the integer executor within tolerance of onnxruntime-web on
// every calibration sample, circom building the same constraint system and witness from the
// emitted circuit.circom (check-circom), and one bidirectional LSTM proven and verified.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runConformanceModel } from '../benchmarks/conformance-lib.js';
import { compile } from '../src/api.js';
import { ZkonnxError } from '../src/errors.js';
import { readOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { linearize } from '../src/ir/linearize.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { calibrate } from '../src/quantize/calibrate.js';
import { quantize } from '../src/quantize/quantize.js';
import { buildModel, type AttrValue, type ModelSpec, type ValueSpec } from '../src/onnx/write.js';
import { releaseCurves } from '../src/snark.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-recurrent-'));
afterAll(async () => { await releaseCurves(); });

const GATES = { LSTM: 4, GRU: 3, RNN: 1 } as const;
type Cell = keyof typeof GATES;

interface Case {
  cell: Cell; S: number; I: number; H: number; dirs: 1 | 2;
  attrs?: Record<string, AttrValue>; bias?: boolean; peep?: boolean;
  /** initial states as graph inputs (signals) */
  init?: boolean; layout?: 0 | 1;
  outputs?: ('Y' | 'Y_h' | 'Y_c')[];
}

const wave = (n: number, a: number, b: number, amp: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * a + b) * amp);

function spec(c: Case): { spec: ModelSpec; inputs: ValueSpec[] } {
  const { cell, S, I, H, dirs: D } = c;
  const G = GATES[cell];
  const layout = c.layout ?? 0;
  const xShape = layout === 0 ? [S, 1, I] : [1, S, I];
  const stateShape = layout === 0 ? [D, 1, H] : [1, D, H];
  const inputs: ValueSpec[] = [{ name: 'X', shape: xShape }];
  if (c.init) inputs.push({ name: 'h0', shape: stateShape }, ...(cell === 'LSTM' ? [{ name: 'c0', shape: stateShape }] : []));
  const initializers = [
    { name: 'W', dims: [D, G * H, I], data: wave(D * G * H * I, 0.7, 0.3, 0.6) },
    { name: 'R', dims: [D, G * H, H], data: wave(D * G * H * H, 1.3, 1.1, 0.5) },
    ...(c.bias ? [{ name: 'B', dims: [D, 2 * G * H], data: wave(D * 2 * G * H, 0.9, 2.0, 0.3) }] : []),
    ...(c.peep ? [{ name: 'P', dims: [D, 3 * H], data: wave(D * 3 * H, 1.7, 0.5, 0.4) }] : []),
  ];
  const outs = c.outputs ?? ['Y'];
  const yShape = layout === 0 ? [S, D, 1, H] : [1, S, D, H];
  const shapes = { Y: yShape, Y_h: stateShape, Y_c: stateShape };
  const nodeInputs = ['X', 'W', 'R', c.bias ? 'B' : '', '', c.init ? 'h0' : '', c.init && cell === 'LSTM' ? 'c0' : '', c.peep ? 'P' : ''];
  while (nodeInputs[nodeInputs.length - 1] === '') nodeInputs.pop();
  const all = ['Y', 'Y_h', 'Y_c'] as const;
  const nodeOutputs = all.slice(0, Math.max(...outs.map((o) => all.indexOf(o))) + 1).map((o) => (outs.includes(o) ? o : ''));
  return {
    inputs,
    spec: {
      graphName: cell.toLowerCase(), inputs, outputs: outs.map((o) => ({ name: o, shape: shapes[o] })), initializers,
      nodes: [{
        name: `/${cell.toLowerCase()}`, op: cell, inputs: nodeInputs, outputs: nodeOutputs,
        attrs: { hidden_size: H, direction: D === 2 ? 'bidirectional' : 'forward', ...(layout ? { layout } : {}), ...c.attrs },
      }],
      opset: 14,
    },
  };
}

function writeCase(name: string, c: Case): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const { spec: s, inputs } = spec(c);
  writeFileSync(join(dir, 'network.onnx'), buildModel(s));
  const sample = (k: number) => ({ input_data: inputs.map((v, j) => Array.from(wave(v.shape.reduce<number>((a, d) => a * (d as number), 1), 0.37 * (k + 1), k + j, 1))) });
  writeFileSync(join(dir, 'input.json'), JSON.stringify(sample(0)));
  writeFileSync(join(dir, 'calibration.json'), JSON.stringify(Array.from({ length: 6 }, (_, k) => sample(k))));
  return dir;
}

const CASES: [string, Case][] = [
  ['LSTM forward: bias, peepholes, initial states as inputs, Y, Y_h and Y_c', { cell: 'LSTM', S: 3, I: 3, H: 2, dirs: 1, bias: true, peep: true, init: true, outputs: ['Y', 'Y_h', 'Y_c'] }],
  ['LSTM reverse: clip, input_forget', { cell: 'LSTM', S: 3, I: 2, H: 3, dirs: 1, bias: true, attrs: { direction: 'reverse', clip: 1.5, input_forget: 1 }, outputs: ['Y_h'] }],
  ['GRU forward, linear_before_reset', { cell: 'GRU', S: 3, I: 3, H: 3, dirs: 1, bias: true, init: true, attrs: { linear_before_reset: 1 }, outputs: ['Y', 'Y_h'] }],
  ['GRU bidirectional', { cell: 'GRU', S: 3, I: 2, H: 2, dirs: 2, bias: true }],
  ['RNN bidirectional, Relu and Tanh', { cell: 'RNN', S: 4, I: 3, H: 3, dirs: 2, bias: true, attrs: { activations: ['Relu', 'Tanh'] }, outputs: ['Y', 'Y_h'] }],
  ['LSTM with listed activations (HardSigmoid with alpha/beta, Softsign, Tanh)', { cell: 'LSTM', S: 2, I: 2, H: 2, dirs: 1, bias: true, attrs: { activations: ['HardSigmoid', 'Softsign', 'Tanh'], activation_alpha: [0.25], activation_beta: [0.45] } }],
];

describe('recurrent cells unrolled', () => {
  for (const [name, c] of CASES) {
    it(`${name}: within tolerance of onnxruntime-web; circom builds the same system`, async () => {
      const key = name.split(':')[0]!.replace(/[^a-z]+/gi, '-');
      const dir = writeCase(key, c);
      const { settings } = await compile({ model: join(dir, 'network.onnx'), calibration: join(dir, 'calibration.json'), input: join(dir, 'input.json'), outDir: join(work, `${key}-build`), checkCircom: true });
      expect(settings.circuit.checkCircom?.same).toBe(true);
      expect(settings.accuracy.samples).toBe(6);
      expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
    }, 120_000);
  }

  it('a bidirectional LSTM with initial states proves, verifies and matches the float model', async () => {
    const dir = writeCase('bilstm', { cell: 'LSTM', S: 3, I: 3, H: 3, dirs: 2, bias: true, init: true, outputs: ['Y', 'Y_h'] });
    const row = await runConformanceModel(dir, join(work, 'builds'));
    expect(row.message).toBe('');
    expect(row.status).toBe('pass');
  }, 240_000);

  it('layout 1 (batch first) computes what layout 0 does', () => {
    // onnxruntime refuses layout 1, so compare the two layouts' integer executors; with batch 1
    // both layouts hold the same values in the same flat order
    const run = (layout: 0 | 1) => {
      const c: Case = { cell: 'LSTM', S: 3, I: 2, H: 2, dirs: 2, bias: true, init: true, layout, outputs: ['Y', 'Y_h', 'Y_c'] };
      const f = join(work, `layout${layout}.onnx`);
      writeFileSync(f, buildModel(spec(c).spec));
      const ag = linearize(inferAndFold(readOnnx(f)));
      const samples = [0, 1, 2].map((k) => ag.inputs.map((v, j) => Float64Array.from(wave(v.shape.reduce((a, d) => a * d, 1), 0.41 * (k + 1), k + j, 1))));
      const qg = quantize(ag, calibrate(ag, samples));
      return execQuant(qg, quantizeInputs(qg, samples[1]!)).outputs.map((o) => Array.from(o));
    };
    expect(run(1)).toEqual(run(0));
  });

  it('refuses what it cannot unroll, naming the node', () => {
    const bad = (c: Case, extra: Partial<ModelSpec['nodes'][number]> = {}) => {
      const { spec: s } = spec(c);
      s.nodes[0] = { ...s.nodes[0]!, ...extra };
      const f = join(work, `bad-${Math.random().toString(36).slice(2)}.onnx`);
      writeFileSync(f, buildModel(s));
      try { inferAndFold(readOnnx(f)); } catch (e) { return e as ZkonnxError; }
      throw new Error('accepted');
    };
    const lens = bad({ cell: 'LSTM', S: 2, I: 2, H: 2, dirs: 1 }, { inputs: ['X', 'W', 'R', '', 'X'] });
    expect(lens.message).toMatch(/\/lstm.*sequence_lens/);
    const act = bad({ cell: 'RNN', S: 2, I: 2, H: 2, dirs: 1, attrs: { activations: ['Gaussian'] } });
    expect(act.message).toMatch(/\/rnn.*activation Gaussian is not supported/);
  });
});
