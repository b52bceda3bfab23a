// The constraint system of a circuit, built by the TypeScript twins of the circom templates
// (gadgets.ts, poseidon.ts, model-circuit.ts) in one of two modes:
//
//   'r1cs'     every signal gets a label and every constraint is recorded as the template states
//              it; finish() simplifies the system exactly as `circom --O1` does (signal = signal
//              and signal = constant constraints are substituted away, nothing else) and writes
//              circuit.r1cs and circuit.sym (write-r1cs.ts).
//   'witness'  every signal gets its value, and every constraint is checked as it is stated, so
//              a witness that leaves here satisfies the system it was computed for.
//
// Labels are numbered as circom numbers signals: label 0 is the constant 1, then main's signals
// (outputs, public inputs, private inputs, intermediates), then each component in creation order,
// depth first, with its own signals (outputs, inputs, intermediates) before its children's. The
// wires of the written system are the labels that survive simplification, in label order: the
// same numbering circom gives, so circuit.sym names the same wires (check-circom.ts compares).
import { ZkonnxError } from '../errors.js';
import { modPow } from '../bigint.js';
import { BN254_R } from '../circom/r1cs.js';

export const P = BN254_R;
export const mod = (x: bigint): bigint => { const r = x % P; return r < 0n ? r + P : r; };

/** x^(p−2) mod p: the field inverse (x ≠ 0). */
export function inverse(x: bigint): bigint {
  if (mod(x) === 0n) throw new ZkonnxError('WITNESS_MISMATCH', 'division by zero in the field');
  return modPow(x, P - 2n, P);
}

export type Mode = 'r1cs' | 'witness';

/**
 * A linear combination of signals: Σ coef·signal + constant (label 0). In 'r1cs' mode it holds
 * its terms; in 'witness' mode only its value (an integer: the circuit's signed values stay
 * small, and field elements such as inverses are reduced where they are compared or written).
 */
export class Lin {
  constructor(
    readonly sys: System,
    readonly t: Map<number, bigint> | undefined,
    public v: bigint,
  ) {}

  /** this += coef·signal (in place). */
  addTerm(label: number, coef: bigint): this {
    if (coef === 0n) return this;
    if (this.t) {
      const c = (this.t.get(label) ?? 0n) + coef;
      if (c === 0n) this.t.delete(label); else this.t.set(label, c);
    } else {
      this.v += coef * this.sys.value(label);
    }
    return this;
  }

  /** this += coef·x (in place). */
  addIn(x: Lin, coef = 1n): this {
    if (coef === 0n) return this;
    if (this.t) for (const [l, c] of x.t!) this.addTerm(l, c * coef);
    else this.v += coef * x.v;
    return this;
  }

  /** this += k (in place). */
  addConst(k: bigint): this {
    return this.addTerm(0, k);
  }

  copy(): Lin {
    return new Lin(this.sys, this.t ? new Map(this.t) : undefined, this.v);
  }

  plus(x: Lin | bigint, coef = 1n): Lin {
    return typeof x === 'bigint' ? this.copy().addConst(x * coef) : this.copy().addIn(x, coef);
  }

  minus(x: Lin | bigint): Lin {
    return this.plus(x, -1n);
  }

  times(k: bigint): Lin {
    const r = this.sys.lin();
    return r.addIn(this, k);
  }

}

/** A declared signal array: labels [first, first + size), named `${path}.${name}[i]…`. */
interface Block {
  first: number;
  comp: number;
  name: string;
  dims: number[];
}

/** Constraint kinds, as circom sorts the constraints a template states. */
const enum Kind {
  NonLinear = 0,
  Linear = 1,
  /** s1 = s2: a linear constraint of two signals with opposite coefficients and no constant. */
  Equality = 2,
  /** a·s + k = 0: a linear constraint of one signal. */
  Constant = 3,
}

/** Growable typed storage of the constraints as stated: three runs of terms each. */
class ConstraintStore {
  kinds = new Uint8Array(1024);
  /** owner component of each constraint (for messages) */
  owners = new Int32Array(1024);
  /** offsets[3i..3i+3]: starts of A, B, C of constraint i, and offsets[3i+3] its end. */
  offsets = new Uint32Array(3 * 1024 + 1);
  labels = new Int32Array(1 << 16);
  /**
   * Each term's coefficient: c for c < 2^53, −(p − c) for p − c < 2^53 (a small negative one),
   * and otherwise k + 0.5 for the big one kept at big[k] (a Map would stop at 2^24 entries).
   */
  coefs = new Float64Array(1 << 16);
  big: bigint[] = [];
  n = 0;
  nTerms = 0;

  private growTerms(need: number): void {
    if (need <= this.labels.length) return;
    let len = this.labels.length;
    while (len < need) len *= 2;
    const l = new Int32Array(len); l.set(this.labels); this.labels = l;
    const c = new Float64Array(len); c.set(this.coefs); this.coefs = c;
  }

  private growRows(): void {
    if (this.n + 1 < this.kinds.length) return;
    const len = this.kinds.length * 2;
    const k = new Uint8Array(len); k.set(this.kinds); this.kinds = k;
    const w = new Int32Array(len); w.set(this.owners); this.owners = w;
    const o = new Uint32Array(3 * len + 1); o.set(this.offsets); this.offsets = o;
  }

  private pushTerms(t: Map<number, bigint>): void {
    this.growTerms(this.nTerms + t.size);
    for (const [l, c] of t) {
      const r = mod(c);
      const i = this.nTerms++;
      this.labels[i] = l;
      if (r < 0x20000000000000n) this.coefs[i] = Number(r);
      else if (P - r < 0x20000000000000n) this.coefs[i] = -Number(P - r);
      else { this.coefs[i] = this.big.length + 0.5; this.big.push(r); }
    }
  }

  push(kind: Kind, owner: number, a: Map<number, bigint>, b: Map<number, bigint>, c: Map<number, bigint>): void {
    this.growRows();
    const i = this.n++;
    this.kinds[i] = kind;
    this.owners[i] = owner;
    this.offsets[3 * i] = this.nTerms;
    this.pushTerms(a);
    this.offsets[3 * i + 1] = this.nTerms;
    this.pushTerms(b);
    this.offsets[3 * i + 2] = this.nTerms;
    this.pushTerms(c);
    this.offsets[3 * i + 3] = this.nTerms;
  }

  coef(i: number): bigint {
    const c = this.coefs[i]!;
    if (!Number.isInteger(c)) return this.big[Math.floor(c)]!;
    return c >= 0 ? BigInt(c) : P - BigInt(-c);
  }
}

/** A component: a namespace whose signals get consecutive labels. */
export class Component {
  constructor(
    readonly sys: System,
    /** Full circom name: main, main.a0[3], main.a0[3].rb */
    readonly path: string,
    readonly index: number,
  ) {}

  /** One signal. */
  signal(name: string): number {
    return this.sys.declare(this.index, name, []);
  }

  /** A signal array of `n` elements: labels first … first + n − 1. */
  array(name: string, n: number): number {
    return this.sys.declare(this.index, name, [n]);
  }

  /** A two-dimensional signal array [n][m], row-major. */
  array2(name: string, n: number, m: number): number {
    return this.sys.declare(this.index, name, [n, m]);
  }

  /** A child component, named path.name (name may carry indices: 'a0[3]'). */
  child(name: string): Component {
    return this.index < 0 ? this.sys.main() : this.sys.component(`${this.path}.${name}`, this.index);
  }
}

export interface SystemShape {
  /** main's outputs, public inputs and private inputs: circom's nPubOut, nPubIn, nPrvIn. */
  outputs: number;
  publicInputs: number;
  privateInputs: number;
}

/** The simplified system, ready to be written (write-r1cs.ts). */
export interface FinishedSystem {
  nLabels: number;
  nWires: number;
  shape: SystemShape;
  /** label → wire, −1 where simplification removed the signal */
  wireOf: Int32Array;
  /** wire → label */
  labelOf: Int32Array;
  /** Streams the constraints (terms on wires, sorted by wire, coefficients in [0, p)). */
  forEachConstraint(fn: (a: Term[], b: Term[], c: Term[]) => void): void;
  nConstraints: number;
  /** Every label's full name, in label order (for circuit.sym). */
  forEachName(fn: (label: number, comp: number, name: string) => void): void;
}

export type Term = [wire: number, coef: bigint];

export class System {
  readonly mode: Mode;
  /** witness mode: value of each label (undefined until assigned) */
  private vals: (bigint | undefined)[] = [1n];
  private blocks: Block[] = [];
  private comps: string[] = [];
  /** per component: parent, name in the parent (array name), array index (−1: none), own labels */
  private tree: { parent: number; key: string; idx: number; first: number; count: number; children: number[] }[] = [];
  private store = new ConstraintStore();
  private nLabels = 1;
  private interfaceEnd = 1;
  /** the component whose code states the next constraints (messages) */
  owner = 0;

  constructor(mode: Mode) {
    this.mode = mode;
  }

  get labels(): number {
    return this.nLabels;
  }

  /** The main component. Declare its outputs, public inputs, private inputs, then call seal(). */
  main(): Component {
    return this.component('main', -1);
  }

  /** A parent whose one child is main: to instantiate a single template as main (tests). */
  root(): Component {
    return new Component(this, '', -1);
  }

  /** Ends main's interface (outputs, public inputs, private inputs: declare them first). */
  sealMainInterface(): void {
    this.interfaceEnd = this.nLabels;
  }

  component(path: string, parent: number): Component {
    const index = this.comps.length;
    this.comps.push(path);
    const m = /\.([A-Za-z_$][\w$]*)(?:\[(\d+)\])?$/.exec(path);
    this.tree.push({ parent, key: m?.[1] ?? path, idx: m?.[2] !== undefined ? Number(m[2]) : -1, first: this.nLabels, count: 0, children: [] });
    if (parent >= 0) this.tree[parent]!.children.push(index);
    return new Component(this, path, index);
  }

  declare(comp: number, name: string, dims: number[]): number {
    const first = this.nLabels;
    const node = this.tree[comp]!;
    // a component's own signals are consecutive: all of them are declared before its children
    if (node.first + node.count !== first) throw new Error(`${this.comps[comp]}.${name} is declared after other components' signals`);
    let size = 1;
    for (const d of dims) size *= d;
    if (size < 1) return first; // circom allows `signal r[0]`: no signal at all
    this.blocks.push({ first, comp, name, dims });
    this.nLabels += size;
    node.count += size;
    return first;
  }

  /**
   * circom's label of each of our labels. circom numbers a component's own signals, then its
   * children's subtrees with the children sorted by name (byte order of the component array's
   * name, then the index): `main.a10[0]` before `main.a2[0]` before `main.rc0[0]`. Ours follow
   * creation order; this is the permutation.
   */
  circomLabels(): Int32Array {
    const perm = new Int32Array(this.nLabels);
    let next = 1;
    const visit = (c: number) => {
      const node = this.tree[c]!;
      for (let i = 0; i < node.count; i++) perm[node.first + i] = next++;
      const kids = node.children.slice().sort((x, y) => {
        const a = this.tree[x]!;
        const b = this.tree[y]!;
        return a.key < b.key ? -1 : a.key > b.key ? 1 : a.idx - b.idx;
      });
      for (const k of kids) visit(k);
    };
    visit(0);
    if (next !== this.nLabels) throw new Error(`${this.nLabels - next} signals belong to no component`);
    return perm;
  }

  // ------------------------------------------------------------- linear combinations

  lin(): Lin {
    return new Lin(this, this.mode === 'r1cs' ? new Map() : undefined, 0n);
  }

  /** 1·signal */
  sig(label: number): Lin {
    return this.mode === 'r1cs' ? new Lin(this, new Map([[label, 1n]]), 0n) : new Lin(this, undefined, this.value(label));
  }

  /** the constant k */
  k(k: bigint): Lin {
    return this.lin().addConst(k);
  }

  // ------------------------------------------------------------- values (witness mode)

  get witness(): boolean {
    return this.mode === 'witness';
  }

  value(label: number): bigint {
    if (label === 0) return 1n;
    const v = this.vals[label];
    if (v === undefined) throw new Error(`signal ${this.nameOf(label)} is read before it is assigned`);
    return v;
  }

  /** signal <-- value (witness mode; ignored when building the r1cs) */
  set(label: number, value: bigint | (() => bigint)): void {
    if (this.mode === 'witness') this.vals[label] = typeof value === 'bigint' ? value : value();
  }

  /** A hint computed only in witness mode: `<--`'s right side. */
  hint(fn: () => bigint): bigint {
    return this.mode === 'witness' ? fn() : 0n;
  }

  // ------------------------------------------------------------- constraints

  /** a·b === c */
  product(a: Lin, b: Lin, c: Lin): void {
    if (this.mode === 'witness') {
      if (mod(a.v * b.v - c.v) !== 0n) this.unsatisfied(`${a.v}·${b.v} = ${c.v}`);
      return;
    }
    const A = clean(a.t!);
    const B = clean(b.t!);
    const C = clean(c.t!);
    // circom's fix_raw_constraint: A or B empty → linear; a constant factor → linear
    if (A.size === 0 || B.size === 0) return this.linearTerms(C);
    const constantOf = (m: Map<number, bigint>) => (m.size === 1 && m.has(0) ? m.get(0)! : undefined);
    const ka = constantOf(A);
    const kb = ka === undefined ? constantOf(B) : undefined;
    if (ka !== undefined || kb !== undefined) {
      const r = new Lin(this, new Map(C), 0n).addIn(new Lin(this, ka !== undefined ? B : A, 0n), -(ka ?? kb!));
      return this.linearTerms(r.t!);
    }
    this.store.push(Kind.NonLinear, this.owner, A, B, C);
  }

  /** x === y (linear) */
  equal(x: Lin, y: Lin): void {
    if (this.mode === 'witness') {
      if (mod(x.v - y.v) !== 0n) this.unsatisfied(`${x.v} = ${y.v}`);
      return;
    }
    this.linearTerms(x.minus(y).t!);
  }

  /** lhs <== rhs for a signal lhs: the value, then the constraint. */
  assign(lhs: number, rhs: Lin): void {
    this.set(lhs, () => rhs.v);
    this.equal(this.sig(lhs), rhs);
  }

  /** lhs <== a·b */
  assignProduct(lhs: number, a: Lin, b: Lin): void {
    this.set(lhs, () => a.v * b.v);
    this.product(a, b, this.sig(lhs));
  }

  private linearTerms(c: Map<number, bigint>): void {
    c = clean(c);
    if (c.size === 0) return; // 0 = 0: circom drops it
    const signals = c.has(0) ? c.size - 1 : c.size;
    if (signals === 0) throw new ZkonnxError('WITNESS_MISMATCH', `${this.comps[this.owner]}: a constraint between constants that does not hold`);
    let kind = Kind.Linear;
    if (signals === 1) kind = Kind.Constant;
    else if (signals === 2 && !c.has(0)) {
      const [[, c0], [, c1]] = c;
      if (mod(c0! + c1!) === 0n) kind = Kind.Equality;
    }
    this.store.push(kind, this.owner, EMPTY, EMPTY, c);
  }

  private unsatisfied(what: string): never {
    throw new ZkonnxError('WITNESS_MISMATCH', `${this.comps[this.owner]}: the witness does not satisfy ${what}`, {
      hint: 'the input lies outside what the circuit admits, or the build folder is stale: compile again',
    });
  }

  // ------------------------------------------------------------- names

  /** Full circom name of a label. */
  nameOf(label: number): string {
    if (label === 0) return 'one';
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.blocks[mid]!.first <= label) lo = mid; else hi = mid - 1;
    }
    const b = this.blocks[lo]!;
    return `${this.comps[b.comp]}.${b.name}${indexSuffix(b.dims, label - b.first)}`;
  }

  /** Values of all labels (witness mode), label 0 = 1. */
  labelValues(): (bigint | undefined)[] {
    return this.vals;
  }

  // ------------------------------------------------------------- circom --O1 simplification

  finish(shape: SystemShape): FinishedSystem {
    if (this.mode !== 'r1cs') throw new Error('finish() builds the r1cs');
    const s = this.store;
    const nLabels = this.nLabels;
    // circom keeps main's outputs and public inputs whatever happens ("forbidden" signals); its
    // private inputs are signals like any other (measured with circom 2.2: an input equal to an
    // output becomes the output, an unused one gets no wire)
    const nForbidden = shape.outputs + shape.publicInputs;
    const forbidden = (l: number) => l > 0 && l <= nForbidden;
    if (this.interfaceEnd > 1 && this.interfaceEnd - 1 !== nForbidden + shape.privateInputs) {
      throw new Error(`main declares ${this.interfaceEnd - 1} interface signals, the shape says ${nForbidden + shape.privateInputs}`);
    }
    // from here on, circom's labels (main's interface signals are first in both numberings)
    const perm = this.circomLabels();
    for (let t = 0; t < s.nTerms; t++) s.labels[t] = perm[s.labels[t]!]!;
    const blocks = this.blocks.map((b) => ({ ...b, first: perm[b.first]! })).sort((x, y) => x.first - y.first);

    // 1. signal = signal: clusters of equalities; each keeps its smallest label (the forbidden
    // signals come first, so a cluster with one of them keeps the first of them), the others
    // become it; other forbidden signals in the cluster keep a constraint `s − rep = 0`.
    const parent = new Int32Array(nLabels);
    for (let i = 0; i < nLabels; i++) parent[i] = i;
    const find = (x: number): number => {
      while (parent[x] !== x) { parent[x] = parent[parent[x]!]!; x = parent[x]!; }
      return x;
    };
    const kept: Map<number, bigint>[] = [];
    const member = new Uint8Array(nLabels);
    for (let i = 0; i < s.n; i++) {
      if (s.kinds[i] !== Kind.Equality) continue;
      const t = s.offsets[3 * i + 2]!;
      member[s.labels[t]!] = member[s.labels[t + 1]!] = 1;
      const x = find(s.labels[t]!);
      const y = find(s.labels[t + 1]!);
      if (x !== y) { if (x < y) parent[y] = x; else parent[x] = y; }
    }
    for (let l = 1; l <= nForbidden && l < nLabels; l++) {
      const r = find(l);
      if (member[l] && r !== l) kept.push(new Map([[l, 1n], [r, P - 1n]]));
    }
    const rename = new Int32Array(nLabels);
    for (let l = 0; l < nLabels; l++) rename[l] = forbidden(l) ? l : find(l);

    // 2. signal = constant, after the renaming: the signal becomes the constant (a forbidden one
    // keeps the constraint)
    const constant = new Map<number, bigint>();
    for (let i = 0; i < s.n; i++) {
      if (s.kinds[i] !== Kind.Constant) continue;
      const m = new Map<number, bigint>();
      for (let t = s.offsets[3 * i + 2]!; t < s.offsets[3 * i + 3]!; t++) m.set(rename[s.labels[t]!]!, s.coef(t));
      let sig = -1;
      for (const l of m.keys()) if (l !== 0) sig = l;
      if (forbidden(sig) || constant.has(sig)) { kept.push(m); continue; }
      constant.set(sig, mod(-(m.get(0) ?? 0n) * inverse(m.get(sig)!)));
    }

    // 3. every other constraint, rewritten on the surviving labels (constants on label 0)
    const rewrite = (from: number, to: number): Map<number, bigint> => {
      const out = new Map<number, bigint>();
      for (let t = from; t < to; t++) {
        const l = rename[s.labels[t]!]!;
        const k = constant.get(l);
        const key = k === undefined ? l : 0;
        out.set(key, mod((out.get(key) ?? 0n) + (k === undefined ? s.coef(t) : s.coef(t) * k)));
      }
      for (const [w, c] of out) if (c === 0n) out.delete(w);
      return out;
    };
    /** circom's fix_raw_constraint after substitution; undefined for an empty (dropped) row */
    const fix = (a: Map<number, bigint>, b: Map<number, bigint>, c: Map<number, bigint>): Row | undefined => {
      if (a.size === 0 || b.size === 0) { a = EMPTY; b = EMPTY; }
      else {
        const ka = a.size === 1 && a.has(0) ? a.get(0)! : undefined;
        const kb = ka === undefined && b.size === 1 && b.has(0) ? b.get(0)! : undefined;
        if (ka !== undefined || kb !== undefined) {
          const other = ka !== undefined ? b : a;
          const k = ka ?? kb!;
          for (const [w, x] of other) c.set(w, mod((c.get(w) ?? 0n) - k * x));
          for (const [w, x] of c) if (x === 0n) c.delete(w);
          a = EMPTY; b = EMPTY;
        }
      }
      if (a.size === 0 && c.size === 0) return undefined;
      if (a.size === 0 && c.size === 1 && c.has(0)) throw new ZkonnxError('WITNESS_MISMATCH', 'the circuit has a constraint between constants that does not hold');
      return { a, b, c };
    };
    const rowOf = (i: number): Row | undefined => {
      const o = 3 * i;
      return fix(rewrite(s.offsets[o]!, s.offsets[o + 1]!), rewrite(s.offsets[o + 1]!, s.offsets[o + 2]!), rewrite(s.offsets[o + 2]!, s.offsets[o + 3]!));
    };
    const keptRows: Row[] = [];
    for (const m of kept) {
      const c = new Map<number, bigint>();
      for (const [l, k] of m) {
        const kk = constant.get(l);
        const key = kk === undefined ? l : 0;
        c.set(key, mod((c.get(key) ?? 0n) + (kk === undefined ? k : k * kk)));
      }
      for (const [w, x] of c) if (x === 0n) c.delete(w);
      const r = fix(EMPTY, EMPTY, c);
      if (r) keptRows.push(r);
    }
    // status of each stated constraint (0 gone, 1 non-linear, 2 linear) and the labels in use
    const status = new Uint8Array(s.n);
    const used = new Uint8Array(nLabels);
    const use = (r: Row) => { for (const m of [r.a, r.b, r.c]) for (const l of m.keys()) used[l] = 1; };
    let nConstraints = keptRows.length;
    for (let i = 0; i < s.n; i++) {
      const kind = s.kinds[i]!;
      if (kind === Kind.Equality || kind === Kind.Constant) continue;
      const r = rowOf(i);
      if (r) { status[i] = r.a.size ? 1 : 2; nConstraints++; use(r); }
    }
    keptRows.forEach(use);

    // wires: the surviving labels that some constraint uses (and the forbidden ones), in order
    const wireOf = new Int32Array(nLabels).fill(-1);
    const labelOf: number[] = [];
    for (let l = 0; l < nLabels; l++) {
      if (l === 0 || forbidden(l) || (rename[l] === l && !constant.has(l) && used[l])) { wireOf[l] = labelOf.length; labelOf.push(l); }
    }
    const onWires = (m: Map<number, bigint>): Term[] => [...m].map(([l, c]): Term => [wireOf[l]!, c]).sort((x, y) => x[0] - y[0]);
    const comps = this.comps;
    return {
      nLabels,
      nWires: labelOf.length,
      shape,
      wireOf,
      labelOf: Int32Array.from(labelOf),
      nConstraints,
      // circom writes the constraints that stay non-linear first, then the linear ones
      forEachConstraint(fn) {
        for (const pass of [1, 2]) {
          for (let i = 0; i < s.n; i++) {
            if (status[i] !== pass) continue;
            const r = rowOf(i)!;
            fn(onWires(r.a), onWires(r.b), onWires(r.c));
          }
        }
        for (const r of keptRows) fn(onWires(r.a), onWires(r.b), onWires(r.c));
      },
      forEachName(fn) {
        for (const b of blocks) {
          let size = 1;
          for (const d of b.dims) size *= d;
          const base = `${comps[b.comp]}.${b.name}`;
          for (let i = 0; i < size; i++) fn(b.first + i, b.comp, base + indexSuffix(b.dims, i));
        }
      },
    };
  }
}

interface Row {
  a: Map<number, bigint>;
  b: Map<number, bigint>;
  c: Map<number, bigint>;
}

const EMPTY: Map<number, bigint> = new Map();

/** A copy with coefficients reduced into [0, p) and zero terms dropped. */
function clean(m: Map<number, bigint>): Map<number, bigint> {
  const r = new Map<number, bigint>();
  for (const [l, k] of m) {
    const c = k >= 0n && k < P ? k : mod(k);
    if (c !== 0n) r.set(l, c);
  }
  return r;
}

function indexSuffix(dims: number[], i: number): string {
  if (dims.length === 0) return '';
  const idx: number[] = [];
  for (let d = dims.length - 1; d >= 0; d--) { idx.unshift(i % dims[d]!); i = Math.floor(i / dims[d]!); }
  return idx.map((x) => `[${x}]`).join('');
}
