// `compile --check-circom`: circom (circom2, WebAssembly) compiles circuit.circom at --O1, and the
// system it builds is compared with the one zkonnx wrote: the same counts (constraints, wires,
// public and private signals, labels), the same wire for every signal name in circuit.sym, the
// same constraints (each up to a nonzero factor, as circom may scale or negate a row; compared as
// a multiset) and, for a sample input, the same witness. circom stays the cross-check that the
// constraint system zkonnx writes is the one circuits/*.circom defines.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { compileCircom } from '../circom/compile.js';
import { readR1cs, type LinearCombination, type R1cs, type R1csConstraint } from '../circom/r1cs.js';
import { calculateWitness, readSymbols } from '../circom/witness.js';
import type { Progress } from '../log.js';
import { circomlibDir } from '../paths.js';
import { inverse, P } from './system.js';

export interface CircomCheck {
  /** Everything compared is the same. */
  same: boolean;
  /** What differs, one line each (at most a few of each kind). */
  differences: string[];
  constraints: number;
  wires: number;
  /** Witness values compared (0 when no input was given). */
  witnessCompared: number;
  circomSeconds: number;
}

export interface CheckCircomOptions {
  circuitPath: string;
  r1csPath: string;
  symPath: string;
  /** A circuit input (main's input signals → decimal strings) and the witness zkonnx computes for it. */
  witness?: { input: Record<string, string[]>; ours: bigint[] };
  /** Where circom writes (a temporary folder by default, removed afterwards). */
  workDir?: string;
  progress?: Progress;
}

export async function checkCircom(opts: CheckCircomOptions): Promise<CircomCheck> {
  const work = opts.workDir ?? mkdtempSync(join(process.env.TMPDIR ?? '/tmp', 'zkonnx-check-circom-'));
  try {
    const compiled = await compileCircom({ circuitPath: opts.circuitPath, outDir: work, includePaths: [circomlibDir()], optimize: 1, progress: opts.progress });
    opts.progress?.step?.('compare the constraint systems');
    const [theirs, ours, theirSym, ourSym] = await Promise.all([readR1cs(compiled.r1csPath), readR1cs(opts.r1csPath), readSymbols(compiled.symPath), readSymbols(opts.symPath)]);
    const differences = compareSystems(ours, theirs, ourSym, theirSym);
    let witnessCompared = 0;
    if (opts.witness) {
      const w = await calculateWitness(compiled.wasmPath, opts.witness.input);
      const mine = opts.witness.ours;
      if (w.length !== mine.length) differences.push(`witness: circom computes ${w.length} values, zkonnx ${mine.length}`);
      else {
        const bad: number[] = [];
        for (let i = 0; i < w.length; i++) if (w[i] !== mine[i]) bad.push(i);
        if (bad.length) differences.push(`witness: ${bad.length} of ${w.length} values differ, first at wire ${bad[0]} (circom ${w[bad[0]!]}, zkonnx ${mine[bad[0]!]})`);
        witnessCompared = w.length;
      }
    }
    return { same: differences.length === 0, differences, constraints: ours.header.nConstraints, wires: ours.header.nWires, witnessCompared, circomSeconds: compiled.seconds };
  } finally {
    if (!opts.workDir) rmSync(work, { recursive: true, force: true });
  }
}

/** Differences between two constraint systems whose wires are named by their .sym files. */
export function compareSystems(ours: R1cs, theirs: R1cs, ourSym: Map<string, number>, theirSym: Map<string, number>): string[] {
  const diff: string[] = [];
  const h1 = ours.header;
  const h2 = theirs.header;
  for (const k of ['nWires', 'nPubOut', 'nPubIn', 'nPrvIn', 'nLabels', 'nConstraints'] as const) {
    if (h1[k] !== h2[k]) diff.push(`${k}: zkonnx ${h1[k]}, circom ${h2[k]}`);
  }
  // every signal names the same wire (or is removed in both)
  const names: string[] = [];
  for (const [name, w] of theirSym) {
    const mine = ourSym.get(name);
    if (mine !== w) names.push(`${name}: zkonnx ${mine ?? 'absent'}, circom ${w}`);
  }
  for (const name of ourSym.keys()) if (!theirSym.has(name)) names.push(`${name}: zkonnx ${ourSym.get(name)}, circom absent`);
  if (names.length) diff.push(`${names.length} signal(s) differ in circuit.sym, e.g. ${names.slice(0, 3).join('; ')}`);
  if (diff.length) return diff;

  // the constraints, each in a canonical form, as multisets
  const inv = inverseCache();
  const count = new Map<string, number>();
  for (const c of ours.constraints) { const k = canonical(c, inv); count.set(k, (count.get(k) ?? 0) + 1); }
  const missing: string[] = [];
  for (const c of theirs.constraints) {
    const k = canonical(c, inv);
    const n = count.get(k);
    if (!n) missing.push(k);
    else if (n === 1) count.delete(k); else count.set(k, n - 1);
  }
  if (missing.length || count.size) {
    const extra = [...count.keys()];
    diff.push(`constraints differ: ${missing.length} of circom's are not zkonnx's, ${extra.reduce((s, k) => s + count.get(k)!, 0)} of zkonnx's are not circom's` +
      (missing.length ? `; circom's ${short(missing[0]!)}` : '') + (extra.length ? `; zkonnx's ${short(extra[0]!)}` : ''));
  }
  return diff;
}

const short = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s);

function inverseCache(): (x: bigint) => bigint {
  const cache = new Map<bigint, bigint>([[1n, 1n], [P - 1n, P - 1n]]);
  return (x) => {
    let r = cache.get(x);
    if (r === undefined) { r = inverse(x); if (cache.size < 1 << 16) cache.set(x, r); }
    return r;
  };
}

/** A·B = C up to A → λA, B → μB, C → λμC (and A ↔ B); a linear row up to a factor. */
export function canonical(c: R1csConstraint, inv: (x: bigint) => bigint): string {
  const terms = (lc: LinearCombination) => [...lc].filter(([, k]) => k !== 0n).sort((x, y) => x[0] - y[0]);
  const scaled = (t: [number, bigint][], f: bigint) => t.map(([w, k]) => `${w}:${(k * f) % P}`).join(' ');
  const a = terms(c.a);
  const b = terms(c.b);
  const cc = terms(c.c);
  if (a.length === 0 || b.length === 0) return cc.length ? `L ${scaled(cc, inv(cc[0]![1]))}` : 'L';
  const fa = inv(a[0]![1]);
  const fb = inv(b[0]![1]);
  let sa = scaled(a, fa);
  let sb = scaled(b, fb);
  if (sa > sb) [sa, sb] = [sb, sa];
  return `Q ${sa} | ${sb} | ${scaled(cc, (fa * fb) % P)}`;
}
