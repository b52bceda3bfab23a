// Model splitting (compile --split N / --max-constraints C): the quantized graph, quantized once,
// is cut in graph order (between layers, or between the elements of one layer) into chunks, each
// its own circuit with its own keys. The values that
// cross a cut are private inputs of the receiving chunk, range-checked there to the interval the
// bound analysis guarantees for them, and bound to the sending chunk by a Poseidon commitment
// that is a public signal of both (emit.ts ChunkLinks). Chunk proofs are independent: each one
// needs only its own witness input (chunkInputs), so they can be proven in parallel anywhere;
// verifySplit accepts the set only when every proof verifies and every link matches.
//
// Soundness, by induction over the chunks: chunk 0 range-checks the model's inputs, so its
// values lie in their intervals (the whole-model bound analysis) and so do the link values it
// commits to, shifted into [0, 2^commitBits). Chunk k range-checks its received values into the
// same [0, 2^commitBits), so PackedCommit is injective on both sides and equal commitments mean
// (Poseidon binding) equal values: chunk k computes on exactly chunk k−1's values, which lie in
// their intervals, and so on to the last chunk's outputs.
//
// Committed weights (--weights hashed) are no chunk's product and never travel through links:
// each chunk takes the weight elements it reads as range-checked private inputs and commits to
// them (its weights_commit); the verifier holds each chunk's commitment to the model's weights.
// A weight two chunks read is committed by both, so both used the committed value.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Groth16Proof, VerificationKey } from 'snarkjs';
import { checkAgainstCircom, circuitInputSignals, loadQuantGraph, writeModelCircuit, writeQuantGraph } from './compiler/build.js';
import { readSettings, type OutputTensor } from './settings.js';
import { BN254_R, fieldToSigned } from './circom/r1cs.js';
import { writeWtns } from './circom/witness.js';
import type { CircomCheck } from './compiler/check-circom.js';
import { circuitWitness, type WrittenCircuit } from './compiler/circuit.js';
import { productConstraints } from './compiler/freivalds.js';
import { inputSignal, publicLayout, saltSignals, type ChunkLinks, type CircuitVisibility, type PublicRun } from './compiler/emit.js';
import { packedCommit, packPerElement, POSEIDON16_CONSTRAINTS } from './commit/poseidon.js';
import { expectedPublicSignals, freshSalt, saltsFor, weightsCommitment, type Salts } from './commit/public.js';
import { checkKeys } from './setup/keys.js';
import { ZkonnxError } from './errors.js';
import { loadSample, readJson, type InputData, type Sample } from './inputs.js';
import type { QAct, QAffine, QInput, QuantGraph } from './ir/graph.js';
import type { Progress } from './log.js';
import { loadWeights } from './model-weights.js';
import { BuildPaths } from './paths.js';
import { getProver, type ProverBackend } from './prover/index.js';
import { execAct, execQuant, outputTensor, quantizeInputs, type QExecResult } from './qexec/exec.js';
import { bitlen, divConstParams } from './quantize/int.js';
import { verifyGroth16 } from './verify-proof.js';
import { maxOf } from './arrays.js';

// ---------------------------------------------------------------- planning

export interface SplitOptions {
  /** N chunks of about equal estimated cost. */
  chunks?: number;
  /** Cut greedily so that no chunk's estimated constraints exceed this (one element is never cut). */
  maxConstraints?: number;
}

/**
 * A run of elements [from, to) of act `act`. A chunk is a list of them, in graph order: cuts
 * fall between acts where they can, and inside an act (between its neurons, whose operands all
 * come before the act) where a layer is larger than a chunk or the model has few layers.
 */
export interface Piece { act: number; from: number; to: number }

/** Estimated R1CS constraints of element i of an act (the templates' costs in circuits/zkonnx.circom). */
export function estimateConstraints(a: QAct, i: number): number {
  const args = a.argStart[i + 1]! - a.argStart[i]!;
  const b = a.bits[i]!;
  const x = a.aux[i]!;
  switch (a.op.kind) {
    case 'rescale': return b + a.shift + 3 + (a.op.relu ? 1 : 0);
    // a matrix product checked at once (freivalds.ts): its element's share of the check
    // exact products in their operands' interval (QAct.plain): one constraint a product
    case 'mul': if (a.plain) return Math.max(1, Math.floor(args / 2));
      return b + a.shift + 3 + (a.op.relu ? 1 : 0) + (a.mm ? productConstraints(a).cost / a.size : Math.max(0, Math.floor(args / 2) - 1));
    // an operand that is not one value (a convolution's maxima before its ReLU) is one linear constraint more
    case 'max': return Math.max(1, (args - 1) * (x + 4)) + wideRows(a, i);
    case 'argmax': return args * (x + 4);
    case 'less': return x + 2;
    case 'equal': case 'select': return 2;
    case 'div': return b + 2 * x + 6;
    case 'sqrt': return 2 * b + 6;
    case 'round': {
      const D = a.args.bias[a.argStart[i]! + 1]!;
      const fix = divConstParams(a.op.mode, D).fix !== 0;
      return x + b + 3 + (D === 1n << BigInt(x) ? 0 : x + 2) + (fix ? 3 : 0);
    }
    case 'fn': {
      // selector, Horner's products and the Rescale; then ClampedPoly's decomposition and clamped
      // digits, or PiecewisePoly's and a Max2 per clamped side
      const { segBits: s, degree: deg } = a.poly!;
      const poly = Math.max(0, 2 ** s - 2) + (s === 0 ? Math.max(0, deg - 1) : deg) + a.shift + b + 3;
      const c = a.clamp;
      if (c?.fused) return c.bits[i]! + 1 + 3 + s + 1 + poly + (c.relu !== undefined ? 2 : 0);
      const clamps = c ? (c.lo !== undefined ? 1 : 0) + (c.hi !== undefined ? 1 : 0) : 0;
      return x + poly + clamps * ((c?.bits[i] ?? 0) + 5);
    }
  }
}

/** Operand rows of element i that are not a single value (its own linear constraint where a template takes it). */
function wideRows(a: QAct, i: number): number {
  let n = 0;
  for (let r = a.argStart[i]!; r < a.argStart[i + 1]!; r++) {
    const [from, to] = [a.args.rowStart[r]!, a.args.rowStart[r + 1]!];
    if (to - from > 1 || a.args.bias[r] !== 0n || (to > from && a.args.coef[from] !== 1n && a.args.coef[from] !== -1n)) n++;
  }
  return n;
}

/** Estimated constraints of one committed weight of `bits` bits: its range check and its share of the Poseidon hashes. */
const committedWeightCost = (bits: number) => bits + 1 + POSEIDON16_CONSTRAINTS / (15 * packPerElement(bits));

/** The pieces of each chunk. */
export function planChunks(qg: QuantGraph, opts: SplitOptions): Piece[][] {
  // every element's operands must come before its act: then any cut in graph order is a DAG cut
  for (const a of qg.acts) {
    if (a.args.index.some((g) => g >= a.offset)) throw new ZkonnxError('BAD_ARGUMENT', `'${a.name}' uses values computed after it: the graph cannot be split`);
  }
  const elems: { act: number; i: number; cost: number }[] = [];
  // a committed weight costs its range check and its share of the Poseidon hashes in the chunk
  // that reads it first (a chunk that reads it again pays again: the plan does not see that)
  const { weights, owner } = weightOwners(qg);
  const bits = weights[0]?.bits ?? 0;
  const weightCost = bits ? committedWeightCost(bits) : 0;
  const seen = new Uint8Array(owner.length);
  qg.acts.forEach((a, act) => {
    for (let i = 0; i < a.size; i++) {
      let cost = estimateConstraints(a, i);
      if (bits) {
        for (let t = a.args.rowStart[a.argStart[i]!]!; t < a.args.rowStart[a.argStart[i + 1]!]!; t++) {
          const g = a.args.index[t]!;
          if (g < owner.length && owner[g]! >= 0 && !seen[g]) { seen[g] = 1; cost += weightCost; }
        }
      }
      elems.push({ act, i, cost });
    }
  });
  const n = elems.length;
  const prefix = [0];
  for (const e of elems) prefix.push(prefix[prefix.length - 1]! + e.cost);
  const total = prefix[n]!;
  const cuts = [0];
  // an act checked a block at a time (freivalds.ts) is cut only where it must be: its parts are
  // checked product by product, which its estimate does not count
  const starts = [0];
  qg.acts.forEach((a) => starts.push(starts[starts.length - 1]! + a.size));
  const whole = (p: number, after: number, orEnd: boolean) => {
    const e = elems[p]!;
    if (e.i === 0 || !productConstraints(qg.acts[e.act]!).checked) return p;
    const [start, end] = [starts[e.act]!, starts[e.act + 1]!];
    if (orEnd && end < n && (end - p < p - start || start <= after)) return end;
    return start > after ? start : p;
  };
  if (opts.maxConstraints !== undefined) {
    const c = opts.maxConstraints;
    if (!Number.isInteger(c) || c < 1) throw new ZkonnxError('BAD_ARGUMENT', `--max-constraints must be a positive integer, got ${c}`);
    for (let p = 1; p < n; p++) {
      if (prefix[p + 1]! - prefix[cuts[cuts.length - 1]!]! <= c) continue;
      p = whole(p, cuts[cuts.length - 1]!, false);
      cuts.push(p);
    }
  } else {
    const k = opts.chunks ?? 1;
    if (!Number.isInteger(k) || k < 1) throw new ZkonnxError('BAD_ARGUMENT', `--split must be a positive integer, got ${k}`);
    if (k > n) throw new ZkonnxError('BAD_ARGUMENT', `cannot split ${qg.name} into ${k} chunks: it has ${n} non-linear value(s), and a chunk holds at least one`);
    for (let c = 1; c < k; c++) {
      const target = (total * c) / k;
      let p = 0;
      while (p < n && prefix[p]! + elems[p]!.cost / 2 < target) p++;
      // snap to a layer boundary within an eighth of a chunk's cost: a cut there costs no partial layer
      const near = starts.filter((b) => Math.abs(prefix[b]! - target) <= total / k / 8).sort((x, y) => Math.abs(prefix[x]! - target) - Math.abs(prefix[y]! - target));
      if (near.length) p = near[0]!;
      else if (p < n) p = whole(p, cuts[c - 1]!, true);
      cuts.push(Math.min(Math.max(p, cuts[c - 1]! + 1), n - (k - c)));
    }
  }
  cuts.push(n);
  return cuts.slice(0, -1).map((from, c) => {
    const pieces: Piece[] = [];
    for (let p = from; p < cuts[c + 1]!; p++) {
      const e = elems[p]!;
      const last = pieces[pieces.length - 1];
      if (last && last.act === e.act) last.to = e.i + 1; else pieces.push({ act: e.act, from: e.i, to: e.i + 1 });
    }
    return pieces;
  });
}

/** The rows of elements [from, to) of an act's operands. */
function sliceRows(a: QAct, from: number, to: number): { args: QAffine; argStart: number[] } {
  const r0 = a.argStart[from]!;
  const r1 = a.argStart[to]!;
  const t0 = a.args.rowStart[r0]!;
  const t1 = a.args.rowStart[r1]!;
  return {
    args: { rowStart: a.args.rowStart.slice(r0, r1 + 1).map((t) => t - t0), index: a.args.index.slice(t0, t1), coef: a.args.coef.slice(t0, t1), bias: a.args.bias.slice(r0, r1) },
    argStart: a.argStart.slice(from, to + 1).map((r) => r - r0),
  };
}

/** Piece p of act a as an act of its own (the same op, widths and bounds; its values renumbered later). */
function sliceAct(a: QAct, p: Piece): QAct {
  if (p.from === 0 && p.to === a.size) return a;
  const { args, argStart } = sliceRows(a, p.from, p.to);
  const { mm: _whole, ...rest } = a; // a part of a matrix product is checked product by product
  return {
    ...rest, name: `${a.name}[${p.from}:${p.to}]`, shape: [p.to - p.from], offset: a.offset + p.from, size: p.to - p.from,
    args, argStart, bits: a.bits.slice(p.from, p.to), aux: a.aux.slice(p.from, p.to),
  };
}

/**
 * link[k] (k ≥ 1): the sorted global indices of the values computed before chunk k (the model's
 * inputs included) that chunk k, a later chunk or the model's outputs use. link[0] is empty.
 */
export function linkValues(qg: QuantGraph, plan: Piece[][]): number[][] {
  const producer = new Int32Array(qg.totalValues).fill(-1);
  // committed weights are no chunk's product: each chunk takes the elements it reads as inputs
  for (const inp of qg.inputs) if (!inp.role) for (let i = 0; i < inp.size; i++) producer[inp.offset + i] = 0;
  const lastUse = new Int32Array(qg.totalValues).fill(-1);
  const use = (a: QAffine, k: number) => { for (const g of a.index) if (lastUse[g]! < k) lastUse[g] = k; };
  plan.forEach((pieces, k) => {
    for (const p of pieces) {
      const a = sliceAct(qg.acts[p.act]!, p);
      for (let i = 0; i < a.size; i++) producer[a.offset + i] = k;
      use(a.args, k);
    }
  });
  for (const o of qg.outputs) use(o.affine, plan.length - 1);
  return plan.map((_, k) => {
    if (k === 0) return [];
    const out: number[] = [];
    for (let g = 0; g < qg.totalValues; g++) if (producer[g]! >= 0 && producer[g]! < k && lastUse[g]! >= k) out.push(g);
    return out;
  });
}

/** What chunks/<k>/chunk.json holds: where the chunk's values come from and its links. */
export interface ChunkFile {
  index: number;
  count: number;
  /** The runs of act elements the chunk computes, in graph order. */
  pieces: Piece[];
  /** Local value index → the whole model's value index. */
  globals: number[];
  /**
   * --weights hashed: the elements of each committed tensor that the chunk reads (`input`: the
   * tensor's index among the model's inputs), its weight inputs in this order, and what its
   * weights commitment commits to.
   */
  weights?: { input: number; name: string; elements: number[] }[];
  /** Received values: global indices, interval lo and width. */
  linkIn?: { values: number[]; lo: string[]; bits: number[]; commitBits: number };
  /** Handed-on values: global indices and interval lo. */
  linkOut?: { values: number[]; lo: string[]; commitBits: number };
}

/** Bits w with [lo, hi] ⊆ [lo, lo + 2^w): what a received value is range-checked to. */
const widthOf = (b: { lo: bigint; hi: bigint }) => Math.max(1, bitlen(b.hi - b.lo));

/** The committed weight tensors (--weights hashed) and, for each input value, the model input it belongs to if it is a weight (else −1). */
function weightOwners(qg: QuantGraph): { weights: QInput[]; owner: Int32Array } {
  const end = qg.inputs.reduce((m, inp) => Math.max(m, inp.offset + inp.size), 0);
  const owner = new Int32Array(end).fill(-1);
  qg.inputs.forEach((inp, i) => { if (inp.role === 'weight') owner.fill(i, inp.offset, inp.offset + inp.size); });
  return { weights: qg.inputs.filter((inp) => inp.role === 'weight'), owner };
}

/** The committed weight elements that a chunk's pieces (and, last, the outputs) read, per tensor in model order. */
function weightsRead(qg: QuantGraph, pieces: Piece[], last: boolean): NonNullable<ChunkFile['weights']> {
  const { weights, owner } = weightOwners(qg);
  if (!weights.length) return [];
  const read = new Map<number, Set<number>>();
  const note = (a: QAffine) => {
    for (const g of a.index) {
      const i = g < owner.length ? owner[g]! : -1;
      if (i < 0) continue;
      if (!read.has(i)) read.set(i, new Set());
      read.get(i)!.add(g - qg.inputs[i]!.offset);
    }
  };
  for (const p of pieces) note(sliceAct(qg.acts[p.act]!, p).args);
  if (last) for (const o of qg.outputs) note(o.affine);
  return [...read.keys()].sort((x, y) => x - y).map((input) => ({ input, name: qg.inputs[input]!.name, elements: [...read.get(input)!].sort((x, y) => x - y) }));
}

/** A chunk's input values (the circuit's in<i>) from the whole model's quantized inputs. */
export function chunkQin(qg: QuantGraph, file: ChunkFile, qin: bigint[][]): bigint[][] {
  const model = file.index === 0 ? qg.inputs.flatMap((inp, i) => (inp.role ? [] : [qin[i]!])) : [];
  return [...model, ...(file.weights ?? []).map((w) => w.elements.map((e) => qin[w.input]![e]!))];
}

/** The chunk's own QuantGraph (its values renumbered), its links for the emitter, and chunk.json. */
export function chunkGraph(qg: QuantGraph, plan: Piece[][], links: number[][], k: number): { graph: QuantGraph; links: ChunkLinks; file: ChunkFile } {
  const bounds = qg.valueBounds;
  if (!bounds) throw new ZkonnxError('ARTIFACT_MISSING', `the quantized graph of ${qg.name} records no value intervals`, { hint: 'compile again with this version of zkonnx' });
  const last = k === plan.length - 1;
  const local = new Map<number, number>();
  const globals: number[] = [];
  const add = (g: number) => { local.set(g, globals.length); globals.push(g); };
  // the model's inputs (first chunk), then the committed weight elements the chunk reads
  const inputs: QInput[] = k === 0 ? qg.inputs.filter((inp) => !inp.role).map((inp) => { const offset = globals.length; for (let i = 0; i < inp.size; i++) add(inp.offset + i); return { ...inp, offset }; }) : [];
  const weights = weightsRead(qg, plan[k]!, last);
  for (const w of weights) {
    const inp = qg.inputs[w.input]!;
    inputs.push({ ...inp, shape: [w.elements.length], size: w.elements.length, offset: globals.length });
    for (const e of w.elements) add(inp.offset + e);
  }
  const linkIn = links[k]!;
  for (const g of linkIn) add(g);
  const remap = (a: QAffine): QAffine => ({
    ...a,
    index: a.index.map((g) => {
      const l = local.get(g);
      if (l === undefined) throw new Error(`chunk ${k}: value ${g} is used but neither received nor computed here`);
      return l;
    }),
  });
  const acts = plan[k]!.map((p) => sliceAct(qg.acts[p.act]!, p)).map((a) => {
    const args = remap(a.args); // operands come before the act's own values
    const offset = globals.length;
    for (let i = 0; i < a.size; i++) add(a.offset + i);
    return { ...a, offset, args };
  });
  const outputs = last ? qg.outputs.map((o) => ({ ...o, affine: remap(o.affine) })) : [];
  const graph: QuantGraph = {
    name: `${qg.name} (chunk ${k + 1} of ${plan.length})`, inputs, acts, outputs, totalValues: globals.length,
    params: qg.params, valueBounds: globals.map((g) => bounds[g]!),
  };
  const file: ChunkFile = { index: k, count: plan.length, pieces: plan[k]!, globals, ...(weights.length ? { weights } : {}) };
  const emitLinks: ChunkLinks = {};
  if (linkIn.length) {
    const bits = linkIn.map((g) => widthOf(bounds[g]!));
    const lo = linkIn.map((g) => bounds[g]!.lo);
    const commitBits = maxOf(bits);
    emitLinks.in = { offset: local.get(linkIn[0]!)!, lo, bits, commitBits };
    file.linkIn = { values: linkIn, lo: lo.map(String), bits, commitBits };
  }
  const out = last ? [] : links[k + 1]!;
  if (out.length) {
    const lo = out.map((g) => bounds[g]!.lo);
    const commitBits = maxOf(out.map((g) => widthOf(bounds[g]!)));
    emitLinks.out = { idx: out.map((g) => local.get(g)!), lo, commitBits };
    file.linkOut = { values: out, lo: lo.map(String), commitBits };
  }
  if (k > 0 && !linkIn.length) throw new ZkonnxError('BAD_ARGUMENT', `chunk ${k + 1} of ${qg.name} receives nothing from the chunks before it: it cannot be linked`, { hint: 'pick another number of chunks' });
  return { graph, links: emitLinks, file };
}

// ---------------------------------------------------------------- compile (called by api.compile)

export interface SplitChunkSettings {
  /** The chunk's build folder, relative to the model's. */
  dir: string;
  /** Act range [from, to) of the model's quantized graph that the chunk computes (in part at the ends: see pieces). */
  acts: [number, number];
  /** The runs of act elements it computes: act, element range [from, to). */
  pieces: Piece[];
  constraints: number;
  estimatedConstraints: number;
  wires: number;
  /** sha256 of the chunk's qgraph.json (its witness is computed from it) */
  qgraphSha256?: string;
  /** The chunk proof's public signals: model outputs (last chunk), commitments, model inputs (first chunk). */
  publicSignals: PublicRun[];
  link: { in: number; out: number };
}

export interface SplitSettings {
  chunks: SplitChunkSettings[];
  by: SplitOptions;
}

export interface CompiledSplit {
  split: SplitSettings;
  /** --weights hashed: each chunk's weights commitment of the sample's weights ('' where it reads none). */
  weightCommitments?: string[];
  /** The totals, in WrittenCircuit's shape (settings.circuit); checkCircom: every chunk's check, summed. */
  circuit: Pick<WrittenCircuit, 'constraints' | 'wires' | 'publicInputs' | 'publicOutputs' | 'privateInputs' | 'seconds'> & { checkCircom?: CircomCheck };
  /** Constraints per component under the whole-model names (a<j>, rc<i>). */
  perComponent: Map<string, number>;
}

/** The links of a chunk as the circuit states them (emit.ts ChunkLinks), from its chunk.json. */
export function chunkLinksOf(file: ChunkFile): ChunkLinks {
  const local = new Map(file.globals.map((g, l) => [g, l]));
  const links: ChunkLinks = {};
  if (file.linkIn) links.in = { offset: local.get(file.linkIn.values[0]!)!, lo: file.linkIn.lo.map(BigInt), bits: file.linkIn.bits, commitBits: file.linkIn.commitBits };
  if (file.linkOut) links.out = { idx: file.linkOut.values.map((g) => local.get(g)!), lo: file.linkOut.lo.map(BigInt), commitBits: file.linkOut.commitBits };
  return links;
}

/** Writes every chunk's circuit into <buildDir>/chunks/<k>/ (checkCircom: each checked against circom on `sample`). */
export async function compileSplit(qg: QuantGraph, vis: CircuitVisibility, buildDir: string, opts: SplitOptions, extra: { progress?: Progress; checkCircom?: boolean; sample?: Sample } = {}): Promise<CompiledSplit> {
  const { progress } = extra;
  const plan = planChunks(qg, opts);
  const links = linkValues(qg, plan);
  const root = new BuildPaths(buildDir);
  const chunks: SplitChunkSettings[] = [];
  const perComponent = new Map<string, number>();
  const total = { constraints: 0, wires: 0, publicInputs: 0, publicOutputs: 0, privateInputs: 0, seconds: 0 };
  const sampleQin = extra.sample ? quantizeInputs(qg, extra.sample) : undefined;
  const run = extra.checkCircom && sampleQin ? { qin: sampleQin, q: execQuant(qg, sampleQin) } : undefined;
  const hashed = qg.inputs.some((i) => i.role === 'weight');
  if (hashed && !sampleQin) throw new ZkonnxError('BAD_ARGUMENT', `${qg.name}: a split with --weights hashed needs the weights (the sample) to state each chunk's commitment`);
  const weightCommitments: string[] = [];
  let check: CircomCheck | undefined;
  for (let k = 0; k < plan.length; k++) {
    const { graph, links: l, file } = chunkGraph(qg, plan, links, k);
    const dir = root.chunkDir(k);
    const paths = new BuildPaths(dir);
    mkdirSync(dir, { recursive: true });
    const qgraphSha256 = writeQuantGraph(paths.file('qgraph'), graph);
    writeFileSync(paths.file('chunk'), JSON.stringify(file));
    const acts: [number, number] = [file.pieces[0]!.act, file.pieces[file.pieces.length - 1]!.act + 1];
    progress?.step?.(`compile chunk ${k + 1} of ${plan.length} (layers ${acts[0]}…${acts[1] - 1})`);
    const c = await writeModelCircuit(paths, graph, vis, l, progress);
    if (hashed) weightCommitments.push(file.weights ? (await weightsCommitment(graph, chunkQin(qg, file, sampleQin!)))!.toString() : '');
    if (run) {
      const one = await checkAgainstCircom(paths, graph, vis, l, { qin: chunkQin(qg, file, run.qin), linkIn: file.linkIn?.values.map((g) => run.q.values[g]!), salts: saltsFor(graph, vis, undefined, l) }, progress);
      check = check ? { ...check, constraints: check.constraints + one.constraints, wires: check.wires + one.wires, witnessCompared: check.witnessCompared + one.witnessCompared, circomSeconds: check.circomSeconds + one.circomSeconds } : one;
    }
    const parts = c.perComponent;
    file.pieces.forEach((p, l) => perComponent.set(`a${p.act}`, (perComponent.get(`a${p.act}`) ?? 0) + (parts.get(`a${l}`) ?? 0)));
    // range checks of the model's inputs (first chunk) and of the weight elements each chunk reads
    graph.inputs.forEach((inp, i) => {
      const model = qg.inputs.findIndex((m) => m.name === inp.name);
      perComponent.set(`rc${model}`, (perComponent.get(`rc${model}`) ?? 0) + (parts.get(`rc${i}`) ?? 0));
    });
    for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += c[key];
    if (opts.maxConstraints !== undefined && c.constraints > opts.maxConstraints) {
      progress?.warn?.(`chunk ${k + 1} has ${c.constraints} constraints, more than --max-constraints ${opts.maxConstraints}: the plan estimates the layers' own constraints, not the input range checks and the links' range checks and hashes`);
    }
    chunks.push({
      dir: join('chunks', String(k)), acts, pieces: file.pieces, constraints: c.constraints, wires: c.wires,
      qgraphSha256,
      estimatedConstraints: Math.round(file.pieces.reduce((s, p) => { for (let i = p.from; i < p.to; i++) s += estimateConstraints(qg.acts[p.act]!, i); return s; }, 0)
        + (file.weights ?? []).reduce((s, w) => s + w.elements.length * committedWeightCost(qg.inputs[w.input]!.bits), 0)),
      publicSignals: publicLayout(graph, vis, l), link: { in: file.linkIn?.values.length ?? 0, out: file.linkOut?.values.length ?? 0 },
    });
  }
  return { split: { chunks, by: opts }, circuit: { ...total, ...(check ? { checkCircom: check } : {}) }, perComponent, ...(hashed ? { weightCommitments } : {}) };
}

// ---------------------------------------------------------------- proving

interface Chunk {
  paths: BuildPaths;
  graph: QuantGraph;
  file: ChunkFile;
  info: SplitChunkSettings;
}

function splitOf(buildDir: string): SplitSettings {
  const s = readSettings(buildDir);
  if (!s.split) throw new ZkonnxError('BAD_ARGUMENT', `${resolve(buildDir)} is not a split build`, { hint: 'compile with --split N or --max-constraints C' });
  return s.split;
}

function loadChunk(buildDir: string, index: number): Chunk {
  const split = splitOf(buildDir);
  const info = split.chunks[index];
  if (!Number.isInteger(index) || !info) throw new ZkonnxError('BAD_ARGUMENT', `chunk index ${index} is not in 0…${split.chunks.length - 1}`);
  const paths = new BuildPaths(new BuildPaths(buildDir).chunkDir(index));
  return {
    paths, info,
    graph: loadQuantGraph(paths.dir, info.qgraphSha256),
    file: readJson(paths.require('chunk', 'compile --split')) as ChunkFile,
  };
}

/**
 * A process that proves chunks (a service worker) reads each chunk's graph, witness wasm and zkey
 * once and keeps them in memory; a rebuilt chunk (newer files) is read again.
 */
const loaded = new Map<string, { stamp: string; chunk: Chunk; zkey: Uint8Array }>();
const MAX_LOADED = 16;

function loadedChunk(buildDir: string, index: number): { chunk: Chunk; zkey: Uint8Array } {
  const paths = new BuildPaths(new BuildPaths(buildDir).chunkDir(index));
  const zkeyPath = paths.require('zkey', 'setup');
  const r1csPath = paths.require('r1cs', 'compile --split');
  const stamp = [zkeyPath, r1csPath, paths.file('qgraph')].map((f) => statSync(f).mtimeMs).join();
  const hit = loaded.get(paths.dir);
  if (hit && hit.stamp === stamp) return hit;
  const entry = { stamp, chunk: loadChunk(buildDir, index), zkey: new Uint8Array(readFileSync(zkeyPath)) };
  checkKeys(zkeyPath, paths.file('vkey'), entry.zkey);
  if (loaded.size >= MAX_LOADED) loaded.delete(loaded.keys().next().value!);
  loaded.set(paths.dir, entry);
  return entry;
}

// snarkjs (fastfile) reads { type: 'mem', data } wherever its typings say a file name
const inMemory = (data: Uint8Array) => ({ type: 'mem', data }) as unknown as string;

export interface ChunkInput {
  index: number;
  /**
   * The chunk circuit's witness input: in<i> (first chunk) or link_in (the others), and a salted
   * build's salts (in<i>_salt, out<j>_salt, link_in_salt, link_out_salt), decimal strings.
   */
  input: Record<string, string[]>;
}

/** The whole model run by the integer executor; with --weights hashed on the build's weights or another model's (`weights`). */
function modelRun(buildDir: string, input: string | InputData, weights?: string): { qg: QuantGraph; qin: bigint[][]; q: QExecResult } {
  const paths = new BuildPaths(buildDir);
  const qg = loadQuantGraph(buildDir);
  const settings = readSettings(buildDir);
  if (weights && !settings.weights) throw new ZkonnxError('BAD_ARGUMENT', `${resolve(buildDir)} was compiled with its weights baked in: other weights need compile --weights hashed`);
  const qin = quantizeInputs(qg, [...loadSample(input), ...(settings.weights ? loadWeights(paths, settings, weights) : [])]);
  return { qg, qin, q: execQuant(qg, qin) };
}

/**
 * Every chunk's witness input, from one run of the integer executor over the whole model: with
 * them, each chunk proves on its own (in parallel, on other machines). `weights`: another
 * model's weights (--weights hashed builds; the build's own by default). A salted build's salts
 * are drawn here, fresh for each proof set: the model's (given ones with `salts`) and one per
 * link, which the two chunks of the link share.
 */
export function chunkInputs(buildDir: string, input: string | InputData, weights?: string, salts?: Salts): ChunkInput[] {
  return chunkInputsOf(buildDir, modelRun(buildDir, input, weights), salts);
}

/** A salted split build's model salts (in<i>_salt, out<j>_salt) from its chunk inputs, decimal; undefined when unsalted. */
export function modelSaltsOf(chunks: readonly ChunkInput[]): Record<string, string> | undefined {
  const all = Object.fromEntries(chunks.flatMap((c) => Object.entries(c.input).filter(([k]) => /^(in|out)\d+_salt$/.test(k)).map(([k, v]) => [k, v[0]!])));
  return Object.keys(all).length ? all : undefined;
}

function chunkInputsOf(buildDir: string, { qg, qin, q }: ReturnType<typeof modelRun>, given?: Salts): ChunkInput[] {
  const split = splitOf(buildDir);
  const vis = readSettings(buildDir).visibility;
  const model = saltsFor(qg, vis, given) ?? {};
  // link k joins chunks k − 1 and k
  const linkSalts = split.chunks.map(() => (vis.salt ? freshSalt() : 0n));
  return split.chunks.map((_, index) => {
    const { graph, file } = loadChunk(buildDir, index);
    // the chunk's own salt signals: the model's inputs' (first chunk), outputs' (last) and its links'
    const salts = Object.fromEntries(saltSignals(graph, vis, chunkLinksOf(file)).map((n) => {
      const v = n === 'link_in_salt' ? linkSalts[index] : n === 'link_out_salt' ? linkSalts[index + 1] : model[n];
      if (v === undefined) throw new Error(`chunk ${index}: no salt for ${n}`);
      return [n, v];
    }));
    return { index, input: circuitInputSignals({ qin: chunkQin(qg, file, qin), linkIn: file.linkIn?.values.map((g) => q.values[g]!), salts }) };
  });
}

const toField = (x: bigint) => ((x % BN254_R) + BN254_R) % BN254_R;

/** The chunk's values by the integer executor, from its witness input (what the circuit must compute). */
function execChunk(c: Chunk, input: Record<string, string[]>, vis: CircuitVisibility): { qin: bigint[][]; q: QExecResult; linkIn: bigint[]; salts?: Salts } {
  const values = new Array<bigint>(c.graph.totalValues).fill(0n);
  const parse = (name: string, n: number) => {
    const xs = input[name];
    if (!Array.isArray(xs) || xs.length !== n) throw new ZkonnxError('INPUT_INVALID', `chunk ${c.file.index}: input '${name}' needs ${n} values, got ${Array.isArray(xs) ? xs.length : typeof xs}`, { signal: name });
    return xs.map((x) => { try { return BigInt(x); } catch { throw new ZkonnxError('INPUT_INVALID', `chunk ${c.file.index}: '${name}' holds ${JSON.stringify(x)}, not an integer`, { signal: name }); } });
  };
  const qin = c.graph.inputs.map((inp, i) => {
    const v = parse(inputSignal(i), inp.size);
    v.forEach((x, j) => {
      if (x < inp.lo || x >= inp.lo + (1n << BigInt(inp.bits))) throw new ZkonnxError('INPUT_OUT_OF_RANGE', `input '${inp.name}'[${j}] = ${x} is outside the circuit's range`, { signal: inp.name });
      values[inp.offset + j] = x;
    });
    return v;
  });
  const li = c.file.linkIn;
  const linkIn = li ? parse('link_in', li.values.length) : [];
  linkIn.forEach((x, i) => {
    const lo = BigInt(li!.lo[i]!);
    if (x < lo || x >= lo + (1n << BigInt(li!.bits[i]!))) {
      throw new ZkonnxError('INPUT_OUT_OF_RANGE', `chunk ${c.file.index}: link value ${i} = ${x} is outside [${lo}, ${lo} + 2^${li!.bits[i]})`, { signal: 'link_in' });
    }
    values[i + (c.graph.inputs.reduce((n, inp) => n + inp.size, 0))] = x;
  });
  for (const a of c.graph.acts) for (let j = 0; j < a.size; j++) values[a.offset + j] = execAct(a, j, values);
  const outputs = c.graph.outputs.map((o) => Array.from({ length: o.affine.bias.length }, (_, r) => {
    let s = o.affine.bias[r]!;
    for (let t = o.affine.rowStart[r]!; t < o.affine.rowStart[r + 1]!; t++) s += o.affine.coef[t]! * values[o.affine.index[t]!]!;
    return s;
  }));
  const links = chunkLinksOf(c.file);
  const salts = saltsFor(c.graph, vis, Object.fromEntries(saltSignals(c.graph, vis, links).map((n) => [n, parse(n, 1)[0]!])), links);
  return { qin, q: { values, outputs }, linkIn, ...(salts ? { salts } : {}) };
}

/** The public signals chunk c's proof must carry, from the integer executor's values (and a salted build's salts). */
async function expectedChunkSignals(c: Chunk, qin: bigint[][], q: QExecResult, linkIn: bigint[], salts?: Salts): Promise<string[]> {
  const out: string[] = [];
  for (const r of c.info.publicSignals) {
    if (r.kind === 'link-in-commit') {
      const li = c.file.linkIn!;
      out.push(toField(await packedCommit(linkIn.map((v, i) => v - BigInt(li.lo[i]!)), li.commitBits, 'received link value', { salt: salts?.link_in_salt })).toString());
    } else if (r.kind === 'link-out-commit') {
      const lo = c.file.linkOut!;
      const local = new Map(c.file.globals.map((g, l) => [g, l]));
      out.push(toField(await packedCommit(lo.values.map((g, i) => q.values[local.get(g)!]! - BigInt(lo.lo[i]!)), lo.commitBits, 'link value', { salt: salts?.link_out_salt })).toString());
    } else {
      out.push(...(await expectedPublicSignals(c.graph, [r], qin, q, salts)));
    }
  }
  return out;
}

export interface ProveChunkOptions {
  buildDir: string;
  index: number;
  /** The chunk's witness input, as chunkInputs gives it. */
  input: Record<string, string[]>;
  /** Where proof.json, public.json and the witness go. */
  outDir: string;
  backend?: ProverBackend;
  allowSoftwareGpu?: boolean;
  progress?: Progress;
}

export interface ChunkProof {
  index: number;
  proof: Groth16Proof;
  publicSignals: string[];
  seconds: { witness: number; prove: number };
}

/** Proves one chunk: witness, the check that every circuit value is the executor's, Groth16. */
export async function proveChunk(opts: ProveChunkOptions): Promise<ChunkProof> {
  const { chunk: c, zkey } = loadedChunk(opts.buildDir, opts.index);
  const prover = await getProver(opts.backend, { allowSoftware: opts.allowSoftwareGpu });
  const vis = readSettings(opts.buildDir).visibility;
  const { qin, q, linkIn, salts } = execChunk(c, opts.input, vis);
  mkdirSync(opts.outDir, { recursive: true });
  const wtns = join(opts.outDir, 'witness.wtns');
  for (const f of ['proof.json', 'public.json']) rmSync(join(opts.outDir, f), { force: true });
  const t0 = performance.now();
  opts.progress?.step?.(`witness of chunk ${opts.index + 1}`);
  await writeWtns(wtns, await circuitWitness(c.graph, vis, chunkLinksOf(c.file), { qin, linkIn, ...(salts ? { salts } : {}) }, c.paths.require('r1cs', 'compile --split'), q, opts.progress));
  const t1 = performance.now();
  opts.progress?.step?.(`prove chunk ${opts.index + 1} (${prover.name})`);
  const { proof, publicSignals } = await prover.prove(inMemory(zkey), wtns, opts.progress);
  const t2 = performance.now();
  const expected = await expectedChunkSignals(c, qin, q, linkIn, salts);
  const bad = expected.findIndex((e, i) => e !== publicSignals[i]);
  if (bad >= 0 || expected.length !== publicSignals.length) {
    throw new ZkonnxError('WITNESS_MISMATCH', `chunk ${opts.index + 1}: public signal ${bad} is ${publicSignals[bad]} in the circuit but ${expected[bad]} in the integer executor`, {
      signal: String(bad), hint: 'the build folder may be stale: compile again',
    });
  }
  writeFileSync(join(opts.outDir, 'proof.json'), JSON.stringify(proof, null, 1));
  writeFileSync(join(opts.outDir, 'public.json'), JSON.stringify(publicSignals, null, 1));
  return { index: opts.index, proof, publicSignals, seconds: { witness: (t1 - t0) / 1000, prove: (t2 - t1) / 1000 } };
}

// ---------------------------------------------------------------- verifying

export interface VerifySplitOptions {
  buildDir: string;
  /** One proof per chunk, in chunk order. */
  proofs: { proof: Groth16Proof; publicSignals: string[] }[];
  /**
   * What the caller expects (field elements as decimal strings): the first chunk's model-input
   * signals (public input values or input commitments, in order) and the last chunk's
   * model-output signals (output values or output commitments), and with --weights hashed each
   * chunk's weights commitment (settings.json weights.chunks: the build's own weights; '' for a
   * chunk that reads none). Unchecked when absent.
   */
  expect?: { inputs?: string[]; outputs?: string[]; weights?: string[] };
}

export interface SplitVerification {
  /** Every chunk proof verifies, every link matches, and the expected signals are there. */
  ok: boolean;
  /** Why not, one line each. */
  errors: string[];
  chunks: boolean[];
  /** links[k − 1]: chunk k's received commitment equals chunk k−1's handed-on one. */
  links: boolean[];
  /** The first chunk's model-input signals (values or commitments; empty when private). */
  inputs: string[];
  /** The last chunk's model-output signals (values or commitments; empty when private). */
  outputs: string[];
  /** The model outputs as signed integers, when they are public. */
  outputValues?: string[];
  /** --weights hashed: each chunk's weights commitment ('' for a chunk that reads no weight). */
  weights?: string[];
}

const runOf = (runs: PublicRun[], kind: PublicRun['kind']) => runs.find((r) => r.kind === kind);
const signalsOf = (runs: PublicRun[], kinds: PublicRun['kind'][], sig: string[]) => runs.filter((r) => kinds.includes(r.kind)).flatMap((r) => sig.slice(r.start, r.start + r.count));

/** Accepts a set of chunk proofs only when each verifies and the links chain them. */
export async function verifySplit(opts: VerifySplitOptions): Promise<SplitVerification> {
  const split = splitOf(opts.buildDir);
  const n = split.chunks.length;
  const errors: string[] = [];
  const res: SplitVerification = { ok: false, errors, chunks: [], links: [], inputs: [], outputs: [] };
  if (opts.proofs.length !== n) { errors.push(`${opts.proofs.length} proof(s) for ${n} chunks`); return res; }
  for (let k = 0; k < n; k++) {
    const info = split.chunks[k]!;
    const { proof, publicSignals } = opts.proofs[k]!;
    const want = info.publicSignals.reduce((s, r) => s + r.count, 0);
    let ok = Array.isArray(publicSignals) && publicSignals.length === want;
    if (ok) {
      const vk = readJson(new BuildPaths(join(resolve(opts.buildDir), info.dir)).require('vkey', 'setup')) as VerificationKey;
      ok = await verifyGroth16(vk, publicSignals, proof);
    }
    res.chunks.push(ok);
    if (!ok) errors.push(`chunk ${k + 1}: the proof does not verify`);
  }
  for (let k = 1; k < n; k++) {
    const out = runOf(split.chunks[k - 1]!.publicSignals, 'link-out-commit');
    const inn = runOf(split.chunks[k]!.publicSignals, 'link-in-commit');
    const a = out && opts.proofs[k - 1]!.publicSignals?.[out.start];
    const b = inn && opts.proofs[k]!.publicSignals?.[inn.start];
    const ok = a !== undefined && b !== undefined && a === b;
    res.links.push(ok);
    if (!ok) errors.push(`link ${k}: chunk ${k + 1} received a commitment (${b}) that chunk ${k} did not hand on (${a})`);
  }
  res.inputs = signalsOf(split.chunks[0]!.publicSignals, ['input', 'input-commit'], opts.proofs[0]!.publicSignals ?? []);
  const lastRuns = split.chunks[n - 1]!.publicSignals;
  res.outputs = signalsOf(lastRuns, ['output', 'output-commit'], opts.proofs[n - 1]!.publicSignals ?? []);
  if (lastRuns.some((r) => r.kind === 'output')) res.outputValues = signalsOf(lastRuns, ['output'], opts.proofs[n - 1]!.publicSignals ?? []).map((x) => fieldToSigned(BigInt(x)).toString());
  if (split.chunks.some((c) => runOf(c.publicSignals, 'weights-commit'))) {
    res.weights = split.chunks.map((c, k) => { const r = runOf(c.publicSignals, 'weights-commit'); return r ? opts.proofs[k]!.publicSignals?.[r.start] ?? '' : ''; });
  }
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (opts.expect?.weights && !same(res.weights ?? [], opts.expect.weights)) errors.push('the chunks\' weights commitments are not the expected ones');
  if (opts.expect?.inputs && !same(res.inputs, opts.expect.inputs)) errors.push('the first chunk\'s model-input signals are not the expected ones');
  if (opts.expect?.outputs && !same(res.outputs, opts.expect.outputs)) errors.push('the last chunk\'s model-output signals are not the expected ones');
  res.ok = errors.length === 0;
  return res;
}

// ---------------------------------------------------------------- all in one process

export interface ProveSplitOptions {
  /** Folder name under <build>/proofs; default 'default'. Chunk k's proof goes to chunks/<k>/. */
  name?: string;
  /** --weights hashed builds: prove with this model's weights (same architecture) instead of the build's. */
  weights?: string;
  /** A salted build's model salts (in0_salt, out0_salt, …); default: fresh ones. The links' are always fresh. */
  salts?: Salts;
  backend?: ProverBackend;
  allowSoftwareGpu?: boolean;
  progress?: Progress;
}

export interface SplitProveResult {
  proofDir: string;
  chunks: ChunkProof[];
  verification: SplitVerification;
  outputs: OutputTensor[];
  /** A salted build's model salts (also in proofs/<name>/salts.json): they open the input and output commitments. */
  salts?: Record<string, string>;
  seconds: { witness: number; prove: number };
}

/** The proof folder of chunk k of a split proof. */
export const chunkProofDir = (buildDir: string, name: string, k: number) => join(new BuildPaths(buildDir).proofDir(name), 'chunks', String(k));

/** Proves every chunk one after the other, then verifies the set (the outputs are the executor's). */
export async function proveSplit(buildDir: string, input: string | InputData, opts: ProveSplitOptions = {}): Promise<SplitProveResult> {
  const name = opts.name ?? 'default';
  const paths = new BuildPaths(buildDir);
  const run = modelRun(buildDir, input, opts.weights);
  const { qg, q } = run;
  const proofDir = paths.proofDir(name);
  rmSync(join(proofDir, 'chunks'), { recursive: true, force: true });
  mkdirSync(proofDir, { recursive: true });
  writeFileSync(paths.proofFile(name, 'input'), JSON.stringify(typeof input === 'string' ? readJson(input) : input));
  const chunks: ChunkProof[] = [];
  const inputs = chunkInputsOf(buildDir, run, opts.salts);
  const salts = modelSaltsOf(inputs);
  rmSync(paths.proofFile(name, 'salts'), { force: true });
  if (salts) writeFileSync(paths.proofFile(name, 'salts'), JSON.stringify(salts, null, 1));
  for (const ci of inputs) {
    chunks.push(await proveChunk({ buildDir, index: ci.index, input: ci.input, outDir: chunkProofDir(buildDir, name, ci.index), backend: opts.backend, allowSoftwareGpu: opts.allowSoftwareGpu, progress: opts.progress }));
  }
  const verification = await verifySplit({ buildDir, proofs: chunks });
  if (!verification.ok) throw new ZkonnxError('WITNESS_MISMATCH', `the chunk proofs do not verify as a set: ${verification.errors.join('; ')}`);
  const outputs: OutputTensor[] = qg.outputs.map((o, i) => outputTensor(o, q.outputs[i]!));
  writeFileSync(paths.proofFile(name, 'output'), JSON.stringify({ outputs }, null, 1));
  const seconds = { witness: chunks.reduce((s, c) => s + c.seconds.witness, 0), prove: chunks.reduce((s, c) => s + c.seconds.prove, 0) };
  return { proofDir, chunks, verification, outputs, ...(salts ? { salts } : {}), seconds };
}

/** Reads a split proof written by proveSplit (or by chunk workers into the same layout). */
export function readSplitProof(buildDir: string, name = 'default'): { proof: Groth16Proof; publicSignals: string[] }[] {
  return splitOf(buildDir).chunks.map((_, k) => {
    const dir = chunkProofDir(buildDir, name, k);
    if (!existsSync(join(dir, 'proof.json'))) throw new ZkonnxError('ARTIFACT_MISSING', `${join(dir, 'proof.json')} does not exist`, { file: join(dir, 'proof.json'), hint: 'run `zkonnx prove` first' });
    return { proof: readJson(join(dir, 'proof.json')) as Groth16Proof, publicSignals: readJson(join(dir, 'public.json')) as string[] };
  });
}
