// Calibration: runs the float affine program on sample inputs and records the ranges that the
// scales are chosen from. The float program is checked against onnxruntime-web in the tests.
import type { AffineGraph, InputValue, LinExpr } from '../ir/graph.js';
import { evalAffine } from '../ir/linearize.js';
import { encodeSample, type Sample } from '../inputs.js';

export interface Ranges {
  inputs: { min: number; max: number }[];
  /** Per non-linear value, by name: max |output| (and, for rescale, max |operand|). */
  acts: Map<string, number>;
  /** Per relu(x) − f(x) value (GELU), by name: max |operand|, which its decomposition's headroom covers. */
  operands: Map<string, number>;
  outputs: number[];
  samples: number;
}

/** Samples give a string (categorical) input's strings or their codes. */
export function calibrate(ag: AffineGraph, samples: readonly Sample[]): Ranges {
  const inputs = ag.inputs.map(() => ({ min: Infinity, max: -Infinity }));
  const kinds: InputValue[] = [];
  for (const v of ag.inputs) kinds[v.inputIndex] = v;
  const acts = new Map<string, number>(ag.acts.map((a) => [a.name, 0]));
  const operands = new Map<string, number>(ag.acts.filter((a) => a.op.kind === 'fn' && a.op.reluMinus).map((a) => [a.name, 0]));
  const outputs = ag.outputs.map(() => 0);
  for (const raw of samples) {
    const sample = encodeSample(kinds, raw);
    const r = evalAffine(ag, sample);
    const evalExpr = (e: LinExpr) => {
      let s = e.c;
      for (let t = 0; t < e.idx.length; t++) s += e.w[t]! * r.values[e.idx[t]!]!;
      return s;
    };
    ag.inputs.forEach((v, i) => {
      for (const x of sample[v.inputIndex]!) {
        inputs[i]!.min = Math.min(inputs[i]!.min, x);
        inputs[i]!.max = Math.max(inputs[i]!.max, x);
      }
    });
    for (const a of ag.acts) {
      let m = acts.get(a.name)!;
      for (let i = 0; i < a.size; i++) {
        m = Math.max(m, Math.abs(r.values[a.offset + i]!));
        if (a.op.kind === 'rescale') m = Math.max(m, Math.abs(evalExpr(a.args[i]![0]!)));
      }
      acts.set(a.name, m);
      const o = operands.get(a.name);
      if (o !== undefined) operands.set(a.name, Math.max(o, ...Array.from({ length: a.size }, (_, i) => Math.abs(evalExpr(a.args[i]![0]!)))));
    }
    r.outputs.forEach((o, i) => { for (const x of o) outputs[i] = Math.max(outputs[i]!, Math.abs(x)); });
  }
  return { inputs, acts, operands, outputs, samples: samples.length };
}
