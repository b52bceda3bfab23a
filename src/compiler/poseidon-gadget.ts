// circuits/commit.circom's PackedCommit and PoseidonHash on a System (system.ts), statement for
// statement. Constants: circomlibjs's optimized Poseidon constants, the ones circomlib's
// poseidon_constants.circom holds (the commitments equal src/commit/poseidon.ts's).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mod, type Component, type Lin, type System } from './system.js';

const N_ROUNDS_F = 8;
const N_ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];

interface Constants { C: bigint[]; S: bigint[]; M: bigint[][]; P: bigint[][] }
let table: { C: string[][]; S: string[][]; M: string[][][]; P: string[][][] } | undefined;
const byT = new Map<number, Constants>();

function constants(t: number): Constants {
  let c = byT.get(t);
  if (!c) {
    if (!table) {
      const root = dirname(dirname(createRequire(import.meta.url).resolve('circomlibjs')));
      table = JSON.parse(readFileSync(join(root, 'src', 'poseidon_constants_opt.json'), 'utf8'));
    }
    const big = (x: string) => BigInt(x);
    c = { C: table!.C[t - 2]!.map(big), S: table!.S[t - 2]!.map(big), M: table!.M[t - 2]!.map((r) => r.map(big)), P: table!.P[t - 2]!.map((r) => r.map(big)) };
    byT.set(t, c);
  }
  return c;
}

/** The labels of one PoseidonHash(nInputs) component, declared when it is created. */
interface PoseidonLabels {
  comp: Component;
  t: number;
  out: number;
  inputs: number;
  x2: number;
  x4: number;
  x5: number;
}

function declarePoseidon(parent: Component, name: string, nInputs: number): PoseidonLabels {
  const t = nInputs + 1;
  if (t < 2 || t > 17) throw new Error(`PoseidonHash takes 1…16 inputs, not ${nInputs}`);
  const comp = parent.child(name);
  const nS = t * N_ROUNDS_F + N_ROUNDS_P[t - 2]!;
  const out = comp.signal('out');
  const inputs = comp.array('inputs', nInputs);
  return { comp, t, out, inputs, x2: comp.array('x2', nS), x4: comp.array('x4', nS), x5: comp.array('x5', nS) };
}

/** The body of PoseidonHash, once its inputs are assigned. */
function poseidonBody(sys: System, h: PoseidonLabels): void {
  sys.owner = h.comp.index;
  const { t } = h;
  const nRoundsP = N_ROUNDS_P[t - 2]!;
  const { C, S, M, P } = constants(t);
  let k = 0;
  const sbox = (x: Lin): Lin => {
    const x2 = h.x2 + k;
    const x4 = h.x4 + k;
    const x5 = h.x5 + k;
    k++;
    sys.set(x2, () => mod(x.v * x.v));
    sys.product(x, x, sys.sig(x2));
    sys.set(x4, () => mod(sys.value(x2) * sys.value(x2)));
    sys.product(sys.sig(x2), sys.sig(x2), sys.sig(x4));
    sys.set(x5, () => mod(sys.value(x4) * x.v));
    sys.product(sys.sig(x4), x, sys.sig(x5));
    return sys.sig(x5);
  };
  let state: Lin[] = [];
  for (let j = 0; j < t; j++) state.push((j === 0 ? sys.lin() : sys.sig(h.inputs + j - 1)).plus(C[j]!));
  const half = N_ROUNDS_F / 2;
  for (let r = 0; r < N_ROUNDS_F; r++) {
    state = state.map(sbox);
    if (r < N_ROUNDS_F - 1) {
      const base = r < half ? (r + 1) * t : (half + 1) * t + nRoundsP + (r - half) * t;
      state.forEach((s, j) => s.addConst(C[base + j]!));
      const mix = r === half - 1 ? P : M;
      state = state.map((_, i) => {
        const next = sys.lin();
        for (let j = 0; j < t; j++) next.addIn(state[j]!, mix[j]![i]!);
        return next;
      });
    }
    if (r === half - 1) {
      for (let q = 0; q < nRoundsP; q++) {
        const s0 = sbox(state[0]!).plus(C[(half + 1) * t + q]!);
        const o = (t * 2 - 1) * q;
        const first = s0.times(S[o]!);
        for (let i = 1; i < t; i++) first.addIn(state[i]!, S[o + i]!);
        for (let i = 1; i < t; i++) state[i]!.addIn(s0, S[o + t + i - 1]!);
        state[0] = first;
        if (sys.witness) state.forEach((s) => { s.v = mod(s.v); });
      }
    }
    if (sys.witness) state.forEach((s) => { s.v = mod(s.v); });
  }
  const lc = sys.lin();
  for (let j = 0; j < t; j++) lc.addIn(state[j]!, M[j]![0]!);
  sys.set(h.out, () => mod(lc.v));
  sys.equal(sys.sig(h.out), lc);
}

export interface PackedCommitGadget {
  /** label of in[0]: the caller assigns in[i] = input + i */
  input: number;
  out: number;
  /** States the template's body: packing, the Poseidon chain, out. */
  hash(): void;
}

/**
 * PackedCommit(n, bits, iv), created with its PoseidonHash children (circom numbers a component's
 * subtree right after it). The caller assigns in[0 … n), then calls hash().
 */
export function packedCommit(parent: Component, name: string, n: number, bits: number, iv: bigint): PackedCommitGadget {
  const { sys } = parent;
  const comp = parent.child(name);
  const out = comp.signal('out');
  const input = comp.array('in', n);
  const k = Math.floor(253 / bits);
  const m = Math.ceil(n / k);
  const runs = Math.ceil(m / 15);
  const hs: PoseidonLabels[] = [];
  for (let r = 0; r < runs; r++) hs.push(declarePoseidon(comp, `h[${r}]`, Math.min(15, m - r * 15) + 1));
  return {
    input,
    out,
    hash() {
      sys.owner = comp.index;
      const e: Lin[] = [];
      for (let j = 0; j < m; j++) {
        const lc = sys.lin();
        for (let i = 0; i < k && j * k + i < n; i++) lc.addTerm(input + j * k + i, 1n << BigInt(bits * i));
        e.push(lc);
      }
      let s = sys.k(iv);
      hs.forEach((h, r) => {
        sys.owner = comp.index;
        sys.assign(h.inputs, s);
        for (let i = 0; i < h.t - 2; i++) sys.assign(h.inputs + i + 1, e[r * 15 + i]!);
        poseidonBody(sys, h);
        s = sys.sig(h.out);
      });
      sys.owner = comp.index;
      sys.assign(out, s);
    },
  };
}

/** PoseidonHash(nInputs) as a component of its own (a salted commitment's last hash). */
export function poseidonHash(parent: Component, name: string, nInputs: number): { inputs: number; out: number; hash(): void } {
  const h = declarePoseidon(parent, name, nInputs);
  return { inputs: h.inputs, out: h.out, hash: () => poseidonBody(parent.sys, h) };
}
