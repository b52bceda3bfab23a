/**
 * zkonnx's own constraint system for a template instantiated as main (`component main =
 * Rescale(3, 4, 1);`): the TypeScript twin of circuits/zkonnx.circom and commit.circom that the
 * compiler writes circuits with (src/compiler/gadgets.ts, poseidon-gadget.ts). The circuit tester
 * builds it beside circom's --O1 system, requires the two to be the same, and runs every check
 * (honest witnesses, tampered witnesses, exhaustive searches) against both.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fieldToSigned, readR1cs, type R1cs } from '../../src/circom/r1cs.js';
import { readSymbols, toField } from '../../src/circom/witness.js';
import { argMax, clampedPoly, divConst, divRound, External, floorSqrt, isEqual, max2, piecewisePoly, rangeCheck, rescale, select, signBit, type In } from '../../src/compiler/gadgets.js';
import { packedCommit } from '../../src/compiler/poseidon-gadget.js';
import { mod, System } from '../../src/compiler/system.js';
import { writeR1cs, writeSym } from '../../src/compiler/write-r1cs.js';

export interface Twin {
  r1cs: R1cs;
  symbols: Map<string, number>;
  /** The witness zkonnx computes (every constraint checked as it is stated: throws if one fails). */
  witness(input: Record<string, unknown>): bigint[];
}

type Inputs = Record<string, unknown>;

/** How each supported template is stated on a System, from its parameters. */
interface TemplateTwin {
  /** main's input names and sizes (array inputs: their length), in declaration order */
  inputs(args: bigint[][]): [string, number | undefined][];
  /** output signals of main */
  outputs: number;
  build(root: ReturnType<System['root']>, args: bigint[][], x: (name: string) => In[]): void;
}

const n = (a: bigint[] | undefined) => Number(a![0]);
const one = (x: In[]) => x[0]!;

const TEMPLATES: Record<string, TemplateTwin> = {
  RangeCheck: { inputs: () => [['in', undefined]], outputs: 0, build: (r, a, x) => rangeCheck(r, 'main', n(a[0]), a[1]![0]!, one(x('in'))) },
  Rescale: { inputs: () => [['in', undefined]], outputs: 1, build: (r, a, x) => { rescale(r, 'main', n(a[0]), n(a[1]), n(a[2]) === 1, one(x('in'))); } },
  SignBit: { inputs: () => [['in', undefined]], outputs: 1, build: (r, a, x) => { signBit(r, 'main', n(a[0]), one(x('in'))); } },
  Max2: { inputs: () => [['a', undefined], ['b', undefined]], outputs: 1, build: (r, a, x) => { max2(r, 'main', n(a[0]), one(x('a')), one(x('b'))); } },
  IsEqual: { inputs: () => [['a', undefined], ['b', undefined]], outputs: 1, build: (r, _a, x) => { isEqual(r, 'main', one(x('a')), one(x('b'))); } },
  Select: { inputs: () => [['cs', undefined], ['a', undefined], ['b', undefined]], outputs: 1, build: (r, a, x) => { select(r, 'main', n(a[0]), one(x('cs')), one(x('a')), one(x('b'))); } },
  DivRound: { inputs: () => [['a', undefined], ['b', undefined]], outputs: 1, build: (r, a, x) => { divRound(r, 'main', n(a[0]), n(a[1]), n(a[2]), one(x('a')), one(x('b'))); } },
  DivConst: { inputs: () => [['in', undefined]], outputs: 1, build: (r, a, x) => { divConst(r, 'main', a[0]![0]!, n(a[1]), n(a[2]), n(a[3]), n(a[4]) === 1, one(x('in'))); } },
  FloorSqrt: { inputs: () => [['n', undefined]], outputs: 1, build: (r, a, x) => { floorSqrt(r, 'main', n(a[0]), one(x('n'))); } },
  ArgMax: { inputs: (a) => [['x', n(a[0])]], outputs: 1, build: (r, a, x) => { argMax(r, 'main', n(a[1]), x('x')); } },
  PiecewisePoly: {
    inputs: () => [['in', undefined]], outputs: 1,
    build: (r, a, x) => { piecewisePoly(r, 'main', { B: n(a[0]), s: n(a[1]), drop: n(a[2]), deg: n(a[3]), shift: n(a[4]), bo: n(a[5]), lo: a[6]![0]!, C: a[7]! }, one(x('in'))); },
  },
  ClampedPoly: {
    inputs: () => [['in', undefined]], outputs: 1,
    build: (r, a, x) => { clampedPoly(r, 'main', { W: n(a[0]), B: n(a[1]), s: n(a[2]), drop: n(a[3]), deg: n(a[4]), shift: n(a[5]), bo: n(a[6]), lo: a[7]![0]!, C: a[8]!, rk: n(a[9]) }, one(x('in'))); },
  },
  PackedCommit: {
    inputs: (a) => [['in', n(a[0])]], outputs: 1,
    build: (r, a, x) => {
      const c = packedCommit(r, 'main', n(a[0]), n(a[1]), a[2]![0]!);
      x('in').forEach((v, i) => { if (v instanceof External) r.sys.set(c.input + i, () => v.value!); });
      c.hash();
    },
  },
};

/** `component main = T(1, -2, coefs());` with an optional `function coefs() { var c[k]; c[0] = …; … }` */
function parseMain(source: string): { name: string; args: bigint[][] } | undefined {
  const m = /component\s+main\s*=\s*(\w+)\(([^)]*(?:\(\))?[^)]*)\)\s*;/.exec(source);
  if (!m) return undefined;
  const fns = new Map<string, bigint[]>();
  for (const f of source.matchAll(/function\s+(\w+)\(\)\s*\{([\s\S]*?)return/g)) {
    const vals: bigint[] = [];
    for (const a of f[2]!.matchAll(/\w+\[(\d+)\]\s*=\s*(-?\d+)\s*;/g)) vals[Number(a[1])] = BigInt(a[2]!);
    fns.set(f[1]!, vals);
  }
  const args: bigint[][] = [];
  for (const raw of m[2]!.split(',').map((s) => s.trim()).filter(Boolean)) {
    const call = /^(\w+)\(\)$/.exec(raw);
    if (call) { const v = fns.get(call[1]!); if (!v) return undefined; args.push(v); continue; }
    if (!/^-?\d+$/.test(raw)) return undefined;
    args.push([BigInt(raw)]);
  }
  return { name: m[1]!, args };
}

/** The twin of the template in `mainSource`, written to `dir`; undefined for templates zkonnx does not state itself. */
export async function buildTwin(mainSource: string, dir: string): Promise<Twin | undefined> {
  const main = parseMain(mainSource);
  const t = main && TEMPLATES[main.name];
  if (!main || !t) return undefined;
  const names = t.inputs(main.args);
  const state = (sys: System, values?: Inputs) => {
    const x = (name: string): In[] => {
      const size = names.find(([k]) => k === name)![1];
      const v = values?.[name];
      const arr = size === undefined ? [v] : (v as unknown[] | undefined) ?? new Array(size).fill(undefined);
      return arr.map((e) => new External(e === undefined ? undefined : fieldToSigned(toField(e))));
    };
    t.build(sys.root(), main.args, x);
    const inputs = names.reduce((s, [, size]) => s + (size ?? 1), 0);
    return { outputs: t.outputs, publicInputs: 0, privateInputs: inputs };
  };
  const sys = new System('r1cs');
  const fin = sys.finish(state(sys));
  mkdirSync(dir, { recursive: true });
  writeR1cs(join(dir, 'twin.r1cs'), fin);
  writeSym(join(dir, 'twin.sym'), fin);
  const [r1cs, symbols] = await Promise.all([readR1cs(join(dir, 'twin.r1cs')), readSymbols(join(dir, 'twin.sym'))]);
  const wireToLabel = r1cs.wireToLabel!;
  return {
    r1cs, symbols,
    witness(input) {
      const w = new System('witness');
      state(w, input);
      const perm = w.circomLabels();
      const ours = new Int32Array(perm.length);
      perm.forEach((c, l) => { ours[c] = l; });
      const vals = w.labelValues();
      return wireToLabel.map((l) => mod(vals[ours[l]!]!));
    },
  };
}
