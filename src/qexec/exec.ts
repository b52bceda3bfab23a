// The bit-exact integer executor: computes exactly the integers the circuit computes. Its values
// are the witness hints' ground truth and the expected public outputs.
import { ZkonnxError } from '../errors.js';
import { IN_RANGE, type QAct, type QAffine, type QInput, type QOutput, type QuantGraph } from '../ir/graph.js';
import type { OutputTensor } from '../settings.js';
import { categoryCode, checkKind, givenShape, stringCodes } from '../inputs.js';
import { divConst, divRound, isqrt, rescale, roundBig } from '../quantize/int.js';
import { evalPoly } from '../quantize/poly.js';

export interface QExecResult {
  /** Every circuit value (inputs, then activations), in value-index order. */
  values: bigint[];
  /** Each graph output's integers, at that output's scale. */
  outputs: bigint[][];
}

/**
 * Float inputs → range-checked integers; an out-of-range value is an error naming it. A
 * categorical (string) input takes strings: each becomes its category code (the index in the
 * input's table, or the table's length for any other string).
 */
export function quantizeInputs(qg: QuantGraph, floats: readonly (ArrayLike<number> | readonly string[])[]): bigint[][] {
  if (floats.length !== qg.inputs.length) {
    throw new ZkonnxError('INPUT_INVALID', `the model has ${qg.inputs.length} input(s), got ${floats.length}`);
  }
  return qg.inputs.map((inp, i) => {
    const given = floats[i]!;
    const shape = givenShape(inp);
    const size = shape.reduce((a, b) => a * b, 1);
    if (given.length !== size) {
      throw new ZkonnxError('INPUT_INVALID', `input '${inp.name}' of shape [${shape}] needs ${size} ${inp.text ? 'string(s) (a text input)' : 'values'}, got ${given.length}`, { signal: inp.name });
    }
    checkKind(inp, given, i);
    const x: ArrayLike<number> = inp.text ? stringCodes(inp, given as readonly string[]) : inp.categories ? categoryCodes(inp, given as readonly string[]) : (given as ArrayLike<number>);
    const hi = inp.lo + (1n << BigInt(inp.bits));
    return Array.from({ length: inp.size }, (_, j) => {
      const v = x[j]!;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ZkonnxError('INPUT_INVALID', `input '${inp.name}'[${j}] is ${typeof v === 'number' ? v : JSON.stringify(v)}, not a finite number`, { signal: inp.name });
      const q = roundBig(v * 2 ** inp.scale);
      if ((q < inp.lo || q >= hi) && inp.role === 'weight') {
        throw new ZkonnxError('INPUT_OUT_OF_RANGE', `weight '${inp.name}'[${j}] = ${v} is ${q} at scale 2^${inp.scale}, outside the circuit's ${inp.bits}-bit signed weights`, {
          signal: inp.name, hint: 'compile with a larger --weight-bits or a smaller --weight-scale',
        });
      }
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

/** A categorical input's strings as codes; a string that a OneHotEncoder with zeros=0 does not know is refused here, by name. */
function categoryCodes(inp: QInput, values: readonly string[]): number[] {
  const table = inp.categories!;
  return values.map((s, j) => {
    const code = categoryCode(table, s);
    for (const c of inp.closedBy ?? []) {
      if (!c.codes.includes(code)) {
        throw new ZkonnxError('INPUT_INVALID', `input '${inp.name}'[${j}] = ${JSON.stringify(s)} is not a category of node ${c.node} (OneHotEncoder with zeros=0, which refuses unknown categories): one of ${c.codes.map((k) => JSON.stringify(table[k])).join(', ')}`, {
          signal: inp.name, node: c.node, hint: 'onnxruntime refuses it too ("Unknown Category and zeros = 0"); the circuit cannot prove it',
        });
      }
    }
    return code;
  });
}

/** 'mul': Σ x[2i]·x[2i+1], plus an odd last operand lifted from argScale to the products' 2·argScale. */
export function mulAcc(x: readonly bigint[], argScale: number): bigint {
  let s = x.length % 2 ? x[x.length - 1]! << BigInt(argScale) : 0n;
  for (let i = 0; i + 1 < x.length; i += 2) s += x[i]! * x[i + 1]!;
  return s;
}

function evalRow(a: QAffine, r: number, values: bigint[]): bigint {
  let s = a.bias[r]!;
  for (let t = a.rowStart[r]!; t < a.rowStart[r + 1]!; t++) s += a.coef[t]! * values[a.index[t]!]!;
  return s;
}

/** The integers of one non-linear element, exactly as its circuit template computes them. */
export function execAct(a: QAct, i: number, values: bigint[]): bigint {
  const x: bigint[] = [];
  for (let r = a.argStart[i]!; r < a.argStart[i + 1]!; r++) x.push(evalRow(a.args, r, values));
  const op = a.op;
  const fail = (m: string): never => {
    throw new ZkonnxError('QUANT_OVERFLOW', `node ${a.nodes.join(', ')}: '${a.name}'[${i}] ${m}`, {
      node: a.nodes[0], hint: 'the input lies outside what the circuit was calibrated for; compile with a calibration set that covers it, or with a larger --headroom-bits',
    });
  };
  const inBits = (q: bigint, b: number, what = `= ${q}`) => {
    if (q < -(1n << BigInt(b)) || q >= 1n << BigInt(b)) fail(`${what} exceeds its ${b + 1}-bit decomposition`);
    return q;
  };
  switch (op.kind) {
    case 'rescale': case 'mul': {
      const q = inBits(rescale(op.kind === 'mul' ? mulAcc(x, a.argScale) : x[0]!, a.shift), a.bits[i]!);
      return op.relu && q < 0n ? 0n : q;
    }
    case 'max': return x.reduce((m, v) => (v > m ? v : m));
    case 'argmax': { let j = 0; for (let k = 1; k < x.length; k++) if (x[k]! > x[j]!) j = k; return BigInt(j); }
    case 'less': return x[0]! < x[1]! ? 1n : 0n;
    case 'equal': return x[0] === x[1] ? 1n : 0n;
    case 'select': {
      const c = x[0]! >> BigInt(a.argScale);
      if (x[0] !== 0n && x[0] !== 1n << BigInt(a.argScale)) fail('has a condition that is not 0 or 1');
      return c === 1n ? x[1]! : x[2]!;
    }
    case 'div': {
      if (x[1]! < 1n) fail(`divides by ${x[1]}, not a positive integer`);
      return inBits(divRound(x[0]! << BigInt(a.scale), x[1]!), a.bits[i]!);
    }
    case 'sqrt': {
      if (x[0]! < 0n && a.name.endsWith(IN_RANGE)) {
        throw new ZkonnxError('INPUT_INVALID', `node ${a.nodes.join(', ')}: index ${i} of those it reads is not one of 0 … ${a.args.rowStart[a.argStart[i]! + 1]! - a.args.rowStart[a.argStart[i]!]! - 1} (the indices of the data along the gathered axis)`, {
          node: a.nodes[0], hint: 'onnxruntime refuses an index out of range; a negative index (which ONNX counts from the end) from the input is not supported',
        });
      }
      if (x[0]! < 0n) fail(`takes the square root of a negative value (${x[0]})`);
      return inBits(isqrt(x[0]! << BigInt(a.shift)), a.bits[i]!);
    }
    case 'round': {
      // DivConst: the floor quotient f is range-checked, q is f corrected by the mode
      const D = x[1]!;
      const { f, q } = divConst(x[0]!, D, op.mode);
      inBits(f, a.bits[i]!, `has a quotient ${f}`);
      return op.rem ? x[0]! - q * D : q;
    }
    case 'fn': {
      const p = a.poly!;
      // the clamp where f is constant (Max2 comparisons in the circuit)
      let v = x[0]!;
      const c = a.clamp;
      if (c?.lo !== undefined && v < c.lo) v = c.lo;
      if (c?.hi !== undefined && v > c.hi) v = c.hi;
      const u = v - p.lo;
      if (u < 0n || u >= 1n << BigInt(a.aux[i]!)) fail(`has an input ${x[0]} outside the domain of its approximation`);
      const y = inBits(rescale(evalPoly(p, v), a.shift), a.bits[i]!);
      if (c?.relu === undefined) return y;
      // relu(x) − f(x): ⌊x / 2^k⌋ of the input before the clamp, which the W-bit decomposition
      // of x − lo + 2^W bounds (the headroom)
      inBits(x[0]! - p.lo, c.bits[i]!, `has an input ${x[0]} that`);
      return (x[0]! >= 0n ? x[0]! >> BigInt(c.relu) : 0n) - y;
    }
  }
}

export function execQuant(qg: QuantGraph, qin: bigint[][]): QExecResult {
  const values = new Array<bigint>(qg.totalValues).fill(0n);
  qg.inputs.forEach((inp, i) => qin[i]!.forEach((q, j) => { values[inp.offset + j] = q; }));
  for (const a of qg.acts) for (let j = 0; j < a.size; j++) values[a.offset + j] = execAct(a, j, values);
  const outputs = qg.outputs.map((o) => Array.from({ length: o.affine.bias.length }, (_, r) => evalRow(o.affine, r, values)));
  return { values, outputs };
}

export function dequantize(q: bigint, scale: number): number {
  return Number(q) / 2 ** scale;
}

/** An output's integers as a user reads them: dequantized, and as strings where it holds class labels. */
export function outputTensor(o: Pick<QOutput, 'name' | 'shape' | 'scale' | 'categories'>, raw: bigint[]): OutputTensor {
  const values = raw.map((x) => dequantize(x, o.scale));
  const t: OutputTensor = { name: o.name, shape: o.shape, scale: o.scale, raw: raw.map(String), values };
  if (o.categories) {
    t.categories = o.categories;
    t.labels = values.map((v) => o.categories![v] ?? `(code ${v} outside the table)`);
  }
  return t;
}
