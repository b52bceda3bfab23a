// The circuit of a model (or of one chunk of a split model) on a System: the TypeScript twin of
// the `Model` template that emit.ts writes, statement for statement, so that the system built
// here is the one circom builds from circuit.circom (check-circom.ts shows it). In 'r1cs' mode it
// states the constraints; in 'witness' mode, given the circuit's inputs, it computes every signal.
import type { QAct, QAffine, QuantGraph } from '../ir/graph.js';
import { ZkonnxError } from '../errors.js';
import { inputSignal, outputCommitBits, outputSignal, publicLayout, saltSignals, type ChunkLinks, type CircuitVisibility } from './emit.js';
import { argMax, clampedPoly, divConst, divRound, floorSqrt, isEqual, max2, piecewisePoly, rangeCheck, rescale, select, signBit } from './gadgets.js';
import { packedCommit, poseidonHash } from './poseidon-gadget.js';
import { buildFreivalds, declareFreivalds, freivaldsPlan, type ChallengeSources } from './freivalds.js';
import { modelIvs, plainIv } from '../commit/headers.js';
import type { Progress } from '../log.js';
import type { Component, Lin, System, SystemShape } from './system.js';
import { ROUND_MODES } from '../quantize/int.js';

/** The circuit's inputs (witness mode): model inputs as integers, and a chunk's received values. */
export interface CircuitInputs {
  qin: bigint[][];
  linkIn?: bigint[];
  /** A salted build's salts by signal name (emit.ts saltSignals: in0_salt, out0_salt, …). */
  salts?: Record<string, bigint>;
  /**
   * The accumulator element i of checked matrix product act j takes (freivalds.ts), given the
   * true one: the prover's choice, which only the block's identity confines (tests play a
   * dishonest prover with it).
   */
  accOf?: (j: number, i: number, acc: bigint) => bigint;
}

/** Labels of main's signals, for reading values back (witness) and for messages. */
export interface ModelLabels {
  inputs: number[];
  outputs: number[];
  /** main.v[0]: values are v + j */
  v: number;
  linkIn?: number;
}

/** Extra product signals main declares for a dot product of signals (emit.ts actBody 'mul'). */
function mulExtra(a: QAct): number {
  return a.argStart.reduce((n, s, i) => (i ? n + Math.floor((s - a.argStart[i - 1]!) / 2) - 1 : 0), 0);
}

export function buildModelCircuit(sys: System, qg: QuantGraph, vis: CircuitVisibility, links: ChunkLinks = {}, values?: CircuitInputs, progress?: Progress): { shape: SystemShape; labels: ModelLabels } {
  if (sys.witness && !values) throw new Error('witness mode needs the circuit inputs');
  const main = sys.main();
  const layout = publicLayout(qg, vis, links);

  // main's signals, in circom's label order: outputs, public inputs, private inputs, intermediates
  const outputs: number[] = new Array(qg.outputs.length).fill(-1);
  const inputs: number[] = new Array(qg.inputs.length).fill(-1);
  const commit = new Map<string, number>();
  let nOut = 0;
  if (vis.output === 'public') qg.outputs.forEach((o, j) => { outputs[j] = main.array(outputSignal(j), o.affine.bias.length); nOut += o.affine.bias.length; });
  for (const r of layout) if (r.kind.endsWith('-commit')) { commit.set(r.signal, main.signal(r.signal)); nOut++; }
  const pubIn = new Set(layout.filter((r) => r.kind === 'input').map((r) => r.index));
  let nPub = 0;
  let nPrv = 0;
  qg.inputs.forEach((inp, i) => { if (pubIn.has(i)) { inputs[i] = main.array(inputSignal(i), inp.size); nPub += inp.size; } });
  qg.inputs.forEach((inp, i) => { if (!pubIn.has(i)) { inputs[i] = main.array(inputSignal(i), inp.size); nPrv += inp.size; } });
  let linkIn: number | undefined;
  if (links.in) { linkIn = main.array('link_in', links.in.lo.length); nPrv += links.in.lo.length; }
  const salts = new Map(saltSignals(qg, vis, links).map((s) => [s, main.signal(s)]));
  nPrv += salts.size;
  sys.sealMainInterface();
  if (vis.output !== 'public') qg.outputs.forEach((o, j) => { outputs[j] = main.array(outputSignal(j), o.affine.bias.length); });
  const v = main.array('v', qg.totalValues);
  const prods = new Map<number, number>();
  // a matrix product checked at once (freivalds.ts) has its accumulators as signals, not its products
  const plan = freivaldsPlan(qg);
  const checked = new Set(plan?.acts.map((c) => c.j));
  const accs = new Map<number, number>();
  qg.acts.forEach((a, j) => {
    if (checked.has(j)) accs.set(j, main.array(`a${j}_acc`, a.size));
    else if (a.op.kind === 'mul' && mulExtra(a) > 0) prods.set(j, main.array(`a${j}_prod`, mulExtra(a)));
  });
  const fsSignals = plan && declareFreivalds(main, plan);
  const fsCommits: number[] = [];

  if (values) {
    values.qin.forEach((xs, i) => xs.forEach((q, k) => sys.set(inputs[i]! + k, q)));
    values.linkIn?.forEach((q, k) => sys.set(linkIn! + k, q));
    for (const [name, label] of salts) {
      const salt = values.salts?.[name];
      if (salt === undefined) throw new ZkonnxError('BAD_ARGUMENT', `this build salts its commitments (compile --salt): the prover must supply ${name}`, { signal: `main.${name}` });
      sys.set(label, salt);
    }
  }
  /** out ← the commitment c.out, or Poseidon(c.out, salt) in a salted build (emit.ts commitOut). */
  const commitOut = (c: { comp: string; out: number }, sig: string) => {
    toMain();
    if (!vis.salt) { sys.assign(commit.get(`${sig}_commit`)!, s(c.out)); return; }
    const h = poseidonHash(main, `${c.comp}_s`, 2);
    toMain();
    sys.assign(h.inputs, s(c.out));
    sys.assign(h.inputs + 1, s(salts.get(`${sig}_salt`)!));
    h.hash();
    toMain();
    sys.assign(commit.get(`${sig}_commit`)!, s(h.out));
  };
  const s = (l: number) => sys.sig(l);
  const V = (j: number) => s(v + j);
  const toMain = () => { sys.owner = main.index; };

  // received values of a split chunk
  if (links.in) {
    const li = links.in;
    const c = packedCommit(main, 'link_in_c', li.lo.length, li.commitBits, plainIv(li.lo.length, li.commitBits));
    for (let i = 0; i < li.lo.length; i++) {
      rangeCheck(main, `lrc[${i}]`, li.bits[i]!, li.lo[i]!, s(linkIn! + i));
      toMain();
      sys.assign(c.input + i, s(linkIn! + i).minus(li.lo[i]!));
      sys.assign(v + li.offset + i, s(linkIn! + i));
    }
    c.hash();
    commitOut({ comp: 'link_in_c', out: c.out }, 'link_in');
    fsCommits.push(c.out);
  }

  for (const [i, inp] of qg.inputs.entries()) {
    for (let k = 0; k < inp.size; k++) {
      rangeCheck(main, `rc${i}[${k}]`, inp.bits, inp.lo, s(inputs[i]! + k));
      toMain();
      sys.assign(v + inp.offset + k, s(inputs[i]! + k));
    }
    if (vis.input === 'hashed' && !inp.role) {
      const c = packedCommit(main, `${inputSignal(i)}_c`, inp.size, inp.bits, modelIvs.input(inp));
      toMain();
      for (let k = 0; k < inp.size; k++) sys.assign(c.input + k, s(inputs[i]! + k).minus(inp.lo));
      c.hash();
      commitOut({ comp: `${inputSignal(i)}_c`, out: c.out }, inputSignal(i));
    }
  }

  const weights = qg.inputs.flatMap((inp, i) => (inp.role === 'weight' ? [{ inp, i }] : []));
  if (weights.length) {
    const wb = weights[0]!.inp.bits;
    const total = weights.reduce((n, w) => n + w.inp.size, 0);
    const c = packedCommit(main, 'weights_c', total, wb, modelIvs.weights(weights.map((w) => w.inp)));
    toMain();
    let off = 0;
    for (const { inp, i } of weights) {
      for (let k = 0; k < inp.size; k++) sys.assign(c.input + off + k, s(inputs[i]! + k).plus(1n << BigInt(wb - 1)));
      off += inp.size;
    }
    c.hash();
    toMain();
    sys.assign(commit.get('weights_commit')!, s(c.out));
    fsCommits.unshift(c.out);
  }

  const elements = qg.acts.reduce((n, a) => n + a.size, 0);
  progress?.step?.(sys.witness ? `witness of ${qg.totalValues} values` : `constraints of ${qg.totalValues} values`, elements);
  let done = 0;
  qg.acts.forEach((a, j) => {
    buildAct(main, a, j, v, prods.get(j), accs.get(j), values?.accOf);
    done += a.size;
    progress?.tick?.(done);
  });
  if (plan) {
    const src: ChallengeSources = {
      inputs: qg.inputs.flatMap((inp, i) => (inp.role === 'weight' ? [] : [{ i, label: inputs[i]!, size: inp.size, bits: inp.bits, lo: inp.lo }])),
      commits: fsCommits,
    };
    buildFreivalds(main, qg, plan, fsSignals!, src, (j) => accs.get(j)!, (a, r) => row(sys, a.args, r, v));
  }

  for (const [j, o] of qg.outputs.entries()) {
    toMain();
    const n = o.affine.bias.length;
    for (let i = 0; i < n; i++) sys.assign(outputs[j]! + i, row(sys, o.affine, i, v));
    if (vis.output === 'hashed') {
      const c = packedCommit(main, `o${j}_c`, n, outputCommitBits(o.bound), modelIvs.output(o, outputCommitBits(o.bound)));
      toMain();
      for (let i = 0; i < n; i++) sys.assign(c.input + i, s(outputs[j]! + i).plus(o.bound));
      c.hash();
      commitOut({ comp: `o${j}_c`, out: c.out }, outputSignal(j));
    }
  }

  if (links.out) {
    const lo = links.out;
    const c = packedCommit(main, 'link_out_c', lo.idx.length, lo.commitBits, plainIv(lo.idx.length, lo.commitBits));
    toMain();
    lo.idx.forEach((g, i) => sys.assign(c.input + i, V(g).minus(lo.lo[i]!)));
    c.hash();
    commitOut({ comp: 'link_out_c', out: c.out }, 'link_out');
  }

  return {
    shape: { outputs: nOut, publicInputs: nPub, privateInputs: nPrv },
    labels: { inputs, outputs, v, linkIn },
  };
}

/** Σ coef·v[idx] + bias of row r: emit.ts's `acc` loop. */
function row(sys: System, a: QAffine, r: number, v: number): Lin {
  const acc = sys.k(a.bias[r]!);
  for (let t = a.rowStart[r]!; t < a.rowStart[r + 1]!; t++) acc.addTerm(v + a.index[t]!, a.coef[t]!);
  return acc;
}

/** One non-linear value, element by element (emit.ts actBody). */
function buildAct(main: Component, a: QAct, j: number, v: number, prod: number | undefined, acc: number | undefined, accOf?: CircuitInputs['accOf']): void {
  const { sys } = main;
  const p = `a${j}`;
  let n = 0; // the act's component counter (max chains, mul products)
  for (let i = 0; i < a.size; i++) {
    sys.owner = main.index;
    const x: Lin[] = [];
    for (let r = a.argStart[i]!; r < a.argStart[i + 1]!; r++) x.push(row(sys, a.args, r, v));
    const out = v + a.offset + i;
    const name = `${p}[${i}]`;
    let res: number | undefined;
    const op = a.op;
    switch (op.kind) {
      case 'rescale':
        res = rescale(main, name, a.shift, a.bits[i]!, op.relu, x[0]!);
        break;
      case 'mul': {
        const len = x.length;
        const np = Math.floor(len / 2);
        const lift = 1n << BigInt(a.argScale);
        if (acc !== undefined) {
          // checked with its block (freivalds.ts): the accumulator is a hint its Rescale's digits fix
          sys.set(acc + i, () => {
            const z = x.reduce((t, e, r) => (r % 2 ? t + x[r - 1]!.v * e.v : r === len - 1 ? t + e.v * lift : t), 0n);
            return accOf ? accOf(j, i, z) : z;
          });
          res = rescale(main, name, a.shift, a.bits[i]!, op.relu === true, sys.sig(acc + i));
          break;
        }
        const sum = len % 2 === 1 ? x[len - 1]!.times(lift) : sys.lin();
        for (let r = 0; r + 1 < np; r++) {
          sys.owner = main.index;
          sys.assignProduct(prod! + n, x[2 * r]!, x[2 * r + 1]!);
          sum.addTerm(prod! + n, 1n);
          n++;
        }
        if (a.plain) {
          // exact and within the interval its operands imply: the product is the value (QAct.plain)
          const [l, r] = [x[2 * np - 2]!, x[2 * np - 1]!];
          sys.owner = main.index;
          sys.set(out, () => l.v * r.v + sum.v);
          sys.product(l, r, sys.sig(out).minus(sum));
          continue;
        }
        res = rescale(main, name, a.shift, a.bits[i]!, op.relu === true, [x[2 * np - 2]!, x[2 * np - 1]!, sum]);
        break;
      }
      case 'max': {
        let m = x[0]!;
        for (let r = 1; r < x.length; r++) {
          m = sys.sig(max2(main, `${p}[${n}]`, a.aux[i]!, m, x[r]!));
          n++;
        }
        sys.owner = main.index;
        sys.assign(out, m);
        continue;
      }
      case 'argmax':
        res = argMax(main, name, a.aux[i]!, x);
        break;
      case 'less':
        res = signBit(main, name, a.aux[i]!, x[1]!.minus(x[0]!).minus(1n));
        break;
      case 'equal':
        res = isEqual(main, name, x[0]!, x[1]!);
        break;
      case 'select':
        res = select(main, name, a.argScale, x[0]!, x[1]!, x[2]!);
        break;
      case 'div':
        res = divRound(main, name, a.scale, a.bits[i]!, a.aux[i]!, x[0]!, x[1]!);
        break;
      case 'round':
        // the divisor D is the constant operand: its row's bias
        res = divConst(main, name, a.args.bias[a.argStart[i]! + 1]!, a.aux[i]!, a.bits[i]!, ROUND_MODES.indexOf(op.mode), op.rem === true, x[0]!);
        break;
      case 'sqrt':
        res = floorSqrt(main, name, a.bits[i]!, x[0]!.times(1n << BigInt(a.shift)));
        break;
      case 'fn': {
        const q = a.poly!;
        // where f is constant, x is clamped first: max(x, lo), then min(·, hi) = −max(−·, −hi)
        let xc = x[0]!;
        const c = a.clamp;
        const pp = { B: a.aux[i]!, s: q.segBits, drop: q.dropBits ?? 0, deg: q.degree, shift: a.shift, bo: a.bits[i]!, lo: q.lo, C: q.coef };
        if (c?.fused) { res = clampedPoly(main, name, { ...pp, W: c.bits[i]!, rk: c.relu === undefined ? 0 : c.relu + 1 }, xc); break; }
        if (c?.lo !== undefined) xc = sys.sig(max2(main, `${p}_lo[${i}]`, c.bits[i]!, xc, sys.k(c.lo)));
        if (c?.hi !== undefined) xc = sys.sig(max2(main, `${p}_hi[${i}]`, c.bits[i]!, xc.times(-1n), sys.k(-c.hi))).times(-1n);
        sys.owner = main.index;
        res = piecewisePoly(main, name, pp, xc);
        break;
      }
      default:
        throw new ZkonnxError('BAD_ARGUMENT', `'${a.name}': no circuit for ${(op as { kind: string }).kind}`);
    }
    sys.owner = main.index;
    sys.assign(out, sys.sig(res));
  }
}
