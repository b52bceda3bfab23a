// The bit-exact integer executor: computes exactly the integers the circuit computes. Its values
// are the witness hints' ground truth and the expected public outputs.
import { ZkonnxError } from '../errors.js';
import type { QAffine, QuantGraph } from '../ir/graph.js';
import { rescale, roundBig } from '../quantize/quantize.js';

export interface QExecResult {
  /** Every circuit value (inputs, then activations), in value-index order. */
  values: bigint[];
  /** Each graph output's integers, at that output's scale. */
  outputs: bigint[][];
}

/** Float inputs → range-checked integers; an out-of-range value is an error naming it. */
export function quantizeInputs(qg: QuantGraph, floats: ArrayLike<number>[]): bigint[][] {
  if (floats.length !== qg.inputs.length) {
    throw new ZkonnxError('INPUT_INVALID', `the model has ${qg.inputs.length} input(s), got ${floats.length}`);
  }
  return qg.inputs.map((inp, i) => {
    const x = floats[i]!;
    if (x.length !== inp.size) {
      throw new ZkonnxError('INPUT_INVALID', `input '${inp.name}' of shape [${inp.shape}] needs ${inp.size} values, got ${x.length}`, { signal: inp.name });
    }
    const hi = inp.lo + (1n << BigInt(inp.bits));
    return Array.from({ length: inp.size }, (_, j) => {
      const v = x[j]!;
      if (!Number.isFinite(v)) throw new ZkonnxError('INPUT_INVALID', `input '${inp.name}'[${j}] is ${v}`, { signal: inp.name });
      const q = roundBig(v * 2 ** inp.scale);
      if (q < inp.lo || q >= hi) {
        const lo = Number(inp.lo) / 2 ** inp.scale;
        const top = Number(hi - 1n) / 2 ** inp.scale;
        throw new ZkonnxError('INPUT_OUT_OF_RANGE', `input '${inp.name}'[${j}] = ${v} lies outside the range the circuit was calibrated for, [${lo}, ${top}]`, {
          signal: inp.name, hint: 'compile again with a calibration file (--calibration) that covers such inputs',
        });
      }
      return q;
    });
  });
}

function evalRow(a: QAffine, r: number, values: bigint[]): bigint {
  let s = a.bias[r]!;
  for (let t = a.rowStart[r]!; t < a.rowStart[r + 1]!; t++) s += a.coef[t]! * values[a.index[t]!]!;
  return s;
}

export function execQuant(qg: QuantGraph, qin: bigint[][]): QExecResult {
  const values = new Array<bigint>(qg.totalValues).fill(0n);
  qg.inputs.forEach((inp, i) => qin[i]!.forEach((q, j) => { values[inp.offset + j] = q; }));
  for (const a of qg.acts) {
    for (let j = 0; j < a.size; j++) {
      const q = rescale(evalRow(a.affine, j, values), a.shift);
      const lim = 1n << BigInt(a.bits[j]!);
      if (q < -lim || q >= lim) {
        // cannot happen for range-checked inputs (bound analysis); kept as a guard on the IR
        throw new ZkonnxError('QUANT_OVERFLOW', `node ${a.nodes.join(', ')}: '${a.name}'[${j}] = ${q} exceeds its ${a.bits[j]! + 1}-bit decomposition`, { node: a.nodes[0] });
      }
      values[a.offset + j] = a.act === 'relu' && q < 0n ? 0n : q;
    }
  }
  const outputs = qg.outputs.map((o) => Array.from({ length: o.affine.bias.length }, (_, r) => evalRow(o.affine, r, values)));
  return { values, outputs };
}

export function dequantize(q: bigint, scale: number): number {
  return Number(q) / 2 ** scale;
}
