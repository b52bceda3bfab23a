// The compiler's two products for a quantized graph: the constraint system (circuit.r1cs and
// circuit.sym, written here without circom) and, at proving time, the full witness (every wire:
// the executor's integers and each template's bits, remainders, selectors and products).
// Both come from one description of the circuit (model-circuit.ts), run in two modes.
import type { CompiledCircuit } from '../circom/compile.js';
import { readR1csWireMap } from '../circom/r1cs.js';
import { ZkonnxError } from '../errors.js';
import type { QuantGraph } from '../ir/graph.js';
import type { Progress } from '../log.js';
import type { QExecResult } from '../qexec/exec.js';
import type { ChunkLinks, CircuitVisibility } from './emit.js';
import { buildModelCircuit, type CircuitInputs } from './model-circuit.js';
import { mod, System } from './system.js';
import { writeR1cs, writeSym } from './write-r1cs.js';

/** What circom's compile reports (its wasm aside), and what only the writer knows. */
export interface WrittenCircuit extends Omit<CompiledCircuit, 'wasmPath'> {
  /** Nonzero coefficients of A, B and C together: what the prover's A/B/C evaluation and the key's size grow with. */
  nonzeros: number;
  /**
   * Constraints per component of main: 'a<j>' for non-linear value j, 'rc<i>' for input i's range
   * checks, 'other' for the rest (outputs, commitments, links). A constraint belongs to the latest
   * of these components whose signals it touches.
   */
  perComponent: Map<string, number>;
}

/** Writes circuit.r1cs and circuit.sym of the model (or chunk) circuit. */
export function writeCircuit(qg: QuantGraph, vis: CircuitVisibility, links: ChunkLinks, r1csPath: string, symPath: string, progress?: Progress): WrittenCircuit {
  const t0 = performance.now();
  const sys = new System('r1cs');
  const { shape } = buildModelCircuit(sys, qg, vis, links, undefined, progress);
  progress?.step?.('simplify (as circom --O1)');
  const fin = sys.finish(shape);
  // the component group of every wire: main.a<j>[…], its signals a<j>_… and its check's (f<j>_…,
  // fs_a<j>) → j + 1, main.rc<i>[…] → −(i + 1), else 0
  const group = new Int32Array(fin.nWires);
  fin.forEachName((label, _comp, name) => {
    const w = fin.wireOf[label]!;
    if (w < 0) return;
    const m = /^main\.(a|rc|f|fs_a)(\d+)[[_.]/.exec(name);
    if (m) group[w] = m[1] === 'rc' ? -(Number(m[2]) + 1) : Number(m[2]) + 1;
  });
  const counts = new Map<number, number>();
  // rc groups rank below every a group; within a kind, the later one wins
  const rank = (g: number) => (g === 0 ? -Infinity : g < 0 ? -g : 1e9 + g);
  let nonzeros = 0;
  writeR1cs(r1csPath, fin, (a, b, c) => {
    nonzeros += a.length + b.length + c.length;
    let who = 0;
    for (const lc of [a, b, c]) for (const [w] of lc) { const g = group[w]!; if (g !== 0 && rank(g) > rank(who)) who = g; }
    counts.set(who, (counts.get(who) ?? 0) + 1);
  }, progress);
  writeSym(symPath, fin);
  const perComponent = new Map<string, number>();
  for (const [g, n] of counts) perComponent.set(g === 0 ? 'other' : g > 0 ? `a${g - 1}` : `rc${-g - 1}`, n);
  const seconds = (performance.now() - t0) / 1000;
  progress?.info?.(`${qg.name}: ${fin.nConstraints} constraints, ${fin.nWires} wires (${seconds.toFixed(2)} s)`);
  return {
    r1csPath, symPath, constraints: fin.nConstraints, wires: fin.nWires, labels: fin.nLabels,
    publicInputs: shape.publicInputs, publicOutputs: shape.outputs, privateInputs: shape.privateInputs, nonzeros, seconds, perComponent,
  };
}

/** What a witness needs of the written system: circom's label of every wire (the r1cs's map). */
export interface WireMap {
  nLabels: number;
  wireToLabel: ArrayLike<number>;
  /** where it came from, for messages */
  file: string;
}

export async function readWireMap(r1csPath: string): Promise<WireMap> {
  const { header, wireToLabel } = await readR1csWireMap(r1csPath);
  return { nLabels: header.nLabels, wireToLabel, file: r1csPath };
}

/**
 * The witness of the circuit (its r1cs at `wires`, or that r1cs's wire map) for these inputs,
 * as field elements in wire order. Every constraint is checked as it is stated while the values
 * are computed, and every value main.v[j] must equal the integer executor's (`expect`).
 */
export async function circuitWitness(qg: QuantGraph, vis: CircuitVisibility, links: ChunkLinks, inputs: CircuitInputs, wires: string | WireMap, expect?: QExecResult, progress?: Progress): Promise<bigint[]> {
  const map = typeof wires === 'string' ? await readWireMap(wires) : wires;
  const { wireToLabel } = map;
  const sys = new System('witness');
  const { labels } = buildModelCircuit(sys, qg, vis, links, inputs, progress);
  if (sys.labels !== map.nLabels) {
    throw new ZkonnxError('WITNESS_MISMATCH', `${map.file} has ${map.nLabels} signals, the circuit of this quantized graph has ${sys.labels}`, {
      file: map.file, hint: 'the build folder is stale: compile again',
    });
  }
  const values = sys.labelValues();
  if (expect) {
    for (let j = 0; j < qg.totalValues; j++) {
      if (values[labels.v + j] !== expect.values[j]) {
        throw new ZkonnxError('WITNESS_MISMATCH', `value ${j} is ${values[labels.v + j]} in the circuit but ${expect.values[j]} in the integer executor`, {
          signal: `main.v[${j}]`, hint: 'the build folder may be stale: compile again',
        });
      }
    }
    qg.outputs.forEach((o, k) => o.affine.bias.forEach((_, i) => {
      if (values[labels.outputs[k]! + i] !== expect.outputs[k]![i]) {
        throw new ZkonnxError('WITNESS_MISMATCH', `output ${k}[${i}] is ${values[labels.outputs[k]! + i]} in the circuit but ${expect.outputs[k]![i]} in the integer executor`, { signal: `main.out${k}[${i}]` });
      }
    }));
  }
  // wire → circom's label (the r1cs) → ours
  const perm = sys.circomLabels();
  const ours = new Int32Array(perm.length);
  perm.forEach((c, l) => { ours[c] = l; });
  const w = new Array<bigint>(wireToLabel.length);
  for (let i = 0; i < wireToLabel.length; i++) {
    const l = ours[wireToLabel[i]!]!;
    const v = values[l];
    if (v === undefined) throw new Error(`wire ${i} (${sys.nameOf(l)}) has no value`);
    w[i] = mod(v);
  }
  return w;
}
