// Matrix products of two signal operands (Conv, MatMul, Gemm with committed weights; attention)
// checked all at once instead of product by product: Freivalds' check with the challenge drawn
// inside the circuit (Fiat–Shamir).
//
// A block Z = A·B (graph.ts MatBlock, M×K times K×N) costs M·N·K product constraints when each
// product is its own. Here each element's accumulator Z[m,n] is a witness signal that only its
// Rescale constrains (acc = q·2^k + r, q and r range-checked), and one identity checks them all:
//
//     Σ_{m,n} u_m·v_n·Z[m,n]  =  Σ_k (Σ_m u_m·A[m,k]) · (Σ_n v_n·B[k,n]),   v_n = r^n, u_m = r^(N·m)
//
// at about M·K + K·N + M·N + K constraints. Where Z ≠ A·B the difference of the two sides is
// Σ r^(N·m+n)·(Z − A·B)[m,n], a nonzero polynomial of degree < M·N in r, zero at ≤ M·N − 1 points
// of the field (p ≈ 2^254). The challenge r is a Poseidon hash of everything the prover chooses:
// the model's inputs, the committed weights (their commitment), a split chunk's received values
// (theirs), and every checked accumulator (packed as acc + 2^(b+k) + 2^(k−1) ∈ [0, 2^(b+k+1)), the
// range its Rescale's digits give it, so the packing is injective). Every other value of the
// circuit is a function of these: each template's outputs are unique given its inputs. So the
// accumulators are fixed before r is known, and a wrong one survives with probability
// < M·N / 2^253 per hash the prover evaluates (Poseidon taken as a random oracle).
//
// A block is checked this way only in a build with committed weights, and only where compile kept
// its blocks (worthChecking: by default where the check costs at most a quarter of its products,
// never a matrix times one vector, a dense layer's K·M products being its weights' own count):
// the plan is a function of the quantized graph that the circuit (model-circuit.ts), its circom
// source (emit.ts) and the size estimates share.
import type { QAct, QuantGraph } from '../ir/graph.js';
// headers.ts, not poseidon.ts (circomlibjs, Node's): the page's bundle computes witnesses too
import { packPerElement, plainIv, POSEIDON16_CONSTRAINTS } from '../commit/headers.js';
import { packedCommit } from './poseidon-gadget.js';
import { mod, type Component, type Lin } from './system.js';
import { maxOf } from '../arrays.js';

/** A block with its operands as absolute rows of the act's args (−1: zero) and its signal counts. */
export interface CheckedBlock {
  M: number; K: number; N: number;
  elem: number[];
  /** A[m·K + k], B[k·N + n]: a row of the act's args, or −1 */
  a: Int32Array; b: Int32Array;
  /** u_m·A[m,k] (m ≥ 1), v_n·B[k,n] (n ≥ 1), v_n·Z[m,n] (n ≥ 1), u_m·(Zv)_m (m ≥ 1), (uA)_k·(Bv)_k */
  nA: number; nB: number; nZ: number; nQ: number; nK: number;
  /** k with an A and a B operand: the products of the last sum */
  both: Uint8Array;
}

export interface CheckedAct { j: number; blocks: CheckedBlock[]; width: number }

export interface FreivaldsPlan {
  acts: CheckedAct[];
  /** r^1 … r^nmax: the largest N, and N·(M > 1) powers reach r^N */
  nmax: number;
}

/** Constraints of a PackedCommit of n values of `bits` bits. */
export const packedCommitCost = (n: number, bits: number) => Math.ceil(Math.ceil(n / packPerElement(bits)) / 15) * POSEIDON16_CONSTRAINTS;

/** The accumulator's width as packed: acc + 2^(b+k) + 2^(k−1) ∈ [0, 2^(b+k+1)). */
const accWidth = (a: QAct) => maxOf(a.bits) + a.shift + 1;
export const accOffset = (a: QAct, i: number): bigint => (1n << BigInt(a.bits[i]! + a.shift)) + (a.shift > 0 ? 1n << BigInt(a.shift - 1) : 0n);

function checkedBlocks(a: QAct): CheckedBlock[] {
  return a.mm!.map(({ M, K, N, elem, a: ar, b: br }) => {
    const abs = (ref: number[], n: number) => Int32Array.from({ length: n }, (_, t) => (ref[2 * t]! < 0 ? -1 : a.argStart[ref[2 * t]!]! + ref[2 * t + 1]!));
    const A = abs(ar, M * K);
    const B = abs(br, K * N);
    const hasA = new Uint8Array(K);
    const both = new Uint8Array(K);
    let nA = 0;
    let nB = 0;
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) if (A[m * K + k]! >= 0) { hasA[k] = 1; if (m > 0) nA++; }
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) if (B[k * N + n]! >= 0) { if (hasA[k]) both[k] = 1; if (n > 0) nB++; }
    const nK = both.reduce((s, x) => s + x, 0);
    return { M, K, N, elem, a: A, b: B, nA, nB, nZ: M * (N - 1), nQ: M - 1, nK, both };
  });
}

/**
 * Whether a block's last products take Σ u_m·A[m,k] as their B operand (else Σ v_n·B[k,n]): the one
 * with fewer wires. Every product of the check puts its shared factor (a power of r, u_m) or the
 * smaller sum in B: the wires of B are the points of the proof's G2 MSM, three times a G1 one.
 */
export const uaInB = (b: CheckedBlock) => b.nA <= b.nB;

/** Product constraints of an act's dot products when each is its own (the last pair of each goes into its Rescale). */
export function productCost(a: QAct): number {
  let n = 0;
  for (let i = 0; i < a.size; i++) n += Math.max(0, ((a.argStart[i + 1]! - a.argStart[i]!) >> 1) - 1);
  return n;
}

/** Constraints of the check of these blocks (their Rescales aside: those an act has either way), the accumulators' hash included. */
function checkCost(a: QAct, blocks: CheckedBlock[]): number {
  const own = blocks.reduce((s, b) => s + b.nA + b.nB + b.nZ + b.nQ + b.nK + Math.max(0, b.M - 2) + 1, 0);
  return own + packedCommitCost(a.size, accWidth(a));
}

/**
 * Constraints of act a's products as the circuit states them: its check where the act has blocks
 * (compile keeps them only where they pay: worthChecking) and they cost fewer, else one each.
 */
export function productConstraints(a: QAct): { checked?: CheckedBlock[]; cost: number } {
  let r = decided.get(a);
  if (r) return r;
  const direct = productCost(a);
  if (a.op.kind !== 'mul' || !a.mm?.length) r = { cost: direct };
  else {
    const blocks = checkedBlocks(a);
    const cost = checkCost(a, blocks);
    r = cost < direct ? { checked: blocks, cost } : { cost: direct };
  }
  decided.set(a, r);
  return r;
}
const decided = new WeakMap<QAct, { checked?: CheckedBlock[]; cost: number }>();

/**
 * The largest share of its products that an act's check may cost by default (compile's
 * batchProducts). A quarter: the check's wires are full-size field elements (powers of r, hash
 * states), which the prover's MSMs pay every window for, where a product of a weight and an
 * activation is a small integer of a window or two, and its hashes' full-size coefficients slow
 * the setup (bench:freivalds: the bundled CNN's second convolution, checked at 0.36 of its
 * products, proved in 2.2 s against 1.5 s and set up slower).
 */
export const CHECK_SHARE = 0.25;

/** Whether act a's blocks are worth checking: the check costs at most `share` of its products. */
export function worthChecking(a: QAct, share = CHECK_SHARE): boolean {
  if (a.op.kind !== 'mul' || !a.mm?.length) return false;
  return checkCost(a, checkedBlocks(a)) <= share * productCost(a);
}

/** The acts checked by Freivalds' method, and what they need; undefined where none is cheaper so. */
export function freivaldsPlan(qg: QuantGraph): FreivaldsPlan | undefined {
  // the check's powers of r are full-size field elements: one in a witness makes every window of
  // an MSM count, which a build with committed weights pays for its Poseidon hashes already; a
  // baked build's integers are small, and its MSMs cheap (its attention stays product by product)
  if (!qg.inputs.some((i) => i.role === 'weight')) return undefined;
  const acts: CheckedAct[] = [];
  let nmax = 1;
  qg.acts.forEach((a, j) => {
    const { checked } = productConstraints(a);
    if (!checked) return;
    acts.push({ j, blocks: checked, width: accWidth(a) });
    for (const b of checked) nmax = Math.max(nmax, b.N);
  });
  return acts.length ? { acts, nmax } : undefined;
}

/** Estimated constraints of the challenge: the powers of r and the hashes of the inputs and of the parts. */
export function challengeCost(qg: QuantGraph, plan: FreivaldsPlan): number {
  let n = plan.nmax;
  for (const i of qg.inputs) if (i.role !== 'weight') n += packedCommitCost(i.size, i.bits);
  return n + packedCommitCost(plan.acts.length + qg.inputs.length + 2, 253);
}

/** Labels of main's signals for the checks, declared in emit.ts's order (after every act's). */
export interface FreivaldsSignals {
  pow: number;
  /** per checked act, per block: u, pA, pB, pZ, pQ, pK (−1 where the count is 0) */
  blocks: number[][][];
}

/** Declares main's signals of the checks (fs_pow, then each block's), as emit.ts declares them. */
export function declareFreivalds(main: Component, plan: FreivaldsPlan): FreivaldsSignals {
  const pow = main.array('fs_pow', plan.nmax);
  const arr = (name: string, n: number) => (n > 0 ? main.array(name, n) : -1);
  const blocks = plan.acts.map((c) => c.blocks.map((b, g) => {
    const p = `f${c.j}_${g}`;
    return [arr(`${p}_u`, b.M - 1), arr(`${p}_pa`, b.nA), arr(`${p}_pb`, b.nB), arr(`${p}_pz`, b.nZ), arr(`${p}_pq`, b.nQ), arr(`${p}_pk`, b.nK)];
  }));
  return { pow, blocks };
}

/** What the challenge hashes besides the accumulators: each model input, and commitments made already. */
export interface ChallengeSources {
  /** label of in_i[0] per model input (weights excluded: their commitment stands for them) */
  inputs: { i: number; label: number; size: number; bits: number; lo: bigint }[];
  /** labels of weights_c.out, link_in_c.out where the circuit has them */
  commits: number[];
}

/**
 * The challenge and the checks (emit.ts freivaldsLines, statement for statement): fs_in{i} and
 * fs_a{j} pack the inputs and accumulators, fs hashes them with the commitments, and each block's
 * identity is stated over the powers of r. acc(j) is the label of act j's accumulator 0.
 */
export function buildFreivalds(main: Component, qg: QuantGraph, plan: FreivaldsPlan, sig: FreivaldsSignals, src: ChallengeSources, acc: (j: number) => number, row: (a: QAct, r: number) => Lin): void {
  const { sys } = main;
  const toMain = () => { sys.owner = main.index; };
  const s = (l: number) => sys.sig(l);
  /** lhs <== a·b with the value reduced (powers of r are field elements) */
  const prod = (lhs: number, x: Lin, y: Lin) => {
    sys.set(lhs, () => mod(x.v * y.v));
    sys.product(x, y, s(lhs));
  };
  const parts: number[] = [];
  for (const inp of src.inputs) {
    const c = packedCommit(main, `fs_in${inp.i}`, inp.size, inp.bits, plainIv(inp.size, inp.bits));
    toMain();
    for (let k = 0; k < inp.size; k++) sys.assign(c.input + k, s(inp.label + k).minus(inp.lo));
    c.hash();
    parts.push(c.out);
  }
  parts.push(...src.commits);
  for (const c of plan.acts) {
    const a = qg.acts[c.j]!;
    const h = packedCommit(main, `fs_a${c.j}`, a.size, c.width, plainIv(a.size, c.width));
    toMain();
    for (let i = 0; i < a.size; i++) sys.assign(h.input + i, s(acc(c.j) + i).plus(accOffset(a, i)));
    h.hash();
    parts.push(h.out);
  }
  const fs = packedCommit(main, 'fs', parts.length, 253, plainIv(parts.length, 253));
  toMain();
  parts.forEach((l, t) => sys.assign(fs.input + t, s(l)));
  fs.hash();
  toMain();
  const r = s(fs.out);
  sys.assign(sig.pow, r);
  for (let t = 1; t < plan.nmax; t++) prod(sig.pow + t, s(sig.pow + t - 1), r);
  const V = (n: number) => (n === 0 ? sys.k(1n) : s(sig.pow + n - 1));

  plan.acts.forEach((c, ci) => {
    const a = qg.acts[c.j]!;
    const lift = 1n << BigInt(a.argScale);
    c.blocks.forEach((b, g) => {
      const [u, pa, pb, pz, pq, pk] = sig.blocks[ci]![g]! as [number, number, number, number, number, number];
      const { M, K, N } = b;
      toMain();
      // u_m = r^(N·m), held in u[m − 1] for m ≥ 1
      const R = s(sig.pow + N - 1);
      for (let m = 1; m < M; m++) {
        if (m === 1) sys.assign(u, R);
        else prod(u + m - 1, s(u + m - 2), R);
      }
      const U = (m: number) => (m === 0 ? sys.k(1n) : s(u + m - 1));
      // Σ_i f(i)·X[…] for each k over the refs in order (A: i = m, row-major m·K + k; B: i = n,
      // k·N + n): the i = 0 term as it is (f(0) = 1), the others one product each at first + …
      const sums = (refs: Int32Array, width: number, iIsRow: boolean, f: (i: number) => Lin, first: number): Lin[] => {
        const out = Array.from({ length: K }, () => sys.lin());
        let n1 = 0;
        refs.forEach((r, t) => {
          if (r < 0) return;
          const [hi, lo] = [Math.floor(t / width), t % width];
          const [i, k] = iIsRow ? [hi, lo] : [lo, hi];
          if (i === 0) { out[k]!.addIn(row(a, r)); return; }
          prod(first + n1, row(a, r), f(i));
          out[k]!.addTerm(first + n1, 1n);
          n1++;
        });
        return out;
      };
      const ua = sums(b.a, K, true, U, pa);
      const bv = sums(b.b, N, false, V, pb);
      // Σ_m u_m·Σ_n v_n·Z[m,n], Z the accumulator less the lifted odd operand (a bias)
      const rhs = sys.lin();
      let n1 = 0;
      for (let m = 0; m < M; m++) {
        const zv = sys.lin();
        for (let n = 0; n < N; n++) {
          const e = b.elem[m * N + n]!;
          const z = s(acc(c.j) + e);
          const r0 = a.argStart[e]!;
          const r1 = a.argStart[e + 1]!;
          if ((r1 - r0) % 2 === 1) z.addIn(row(a, r1 - 1), -lift);
          if (n === 0) { zv.addIn(z); continue; }
          prod(pz + n1, z, V(n));
          zv.addTerm(pz + n1, 1n);
          n1++;
        }
        if (m === 0) rhs.addIn(zv);
        else { prod(pq + m - 1, zv, U(m)); rhs.addTerm(pq + m - 1, 1n); }
      }
      const lhs = sys.lin();
      n1 = 0;
      for (let k = 0; k < K; k++) {
        if (!b.both[k]) continue;
        prod(pk + n1, ...(uaInB(b) ? [bv[k]!, ua[k]!] as const : [ua[k]!, bv[k]!] as const));
        lhs.addTerm(pk + n1, 1n);
        n1++;
      }
      sys.equal(lhs, rhs);
    });
  });
}
