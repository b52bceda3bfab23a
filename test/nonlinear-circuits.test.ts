/**
 * Soundness tests of the non-linear templates of circuits/zkonnx.circom (SignBit, Max2, IsEqual,
 * Select, DivRound, FloorSqrt, ArgMax, PiecewisePoly) against real circom output and real R1CS
 * checks; test/circuits.test.ts does the same for RangeCheck and Rescale.
 *
 * For each template:
 *  - honest witnesses pass at --O1 and --O2, and the output equals the BigInt reference of
 *    src/quantize (rescale, divRound, isqrt, evalPoly) on edges and seeded random inputs;
 *  - a TypeScript model of the template gives the value of every signal. It reproduces circom's
 *    honest witness wire for wire, and it builds complete cheating witnesses: another output,
 *    with every internal signal made consistent with it. Where the constraints force the other
 *    signals (bits by booleanity and their sum, products by their constraint, linear signals by
 *    their equation), enumerating the one free choice (a quotient, a root, a one-hot selector)
 *    covers every witness a prover can make for that input: exactly the honest one must pass;
 *  - single-signal edits of a cheating prover fail at --O1 (circom still merges a signal into
 *    another when they are equal, e.g. SignBit's u[b] into out: the edits use the wire left);
 *  - inputs outside the documented domain fail;
 *  - constraint counts are pinned at --O1 and --O2. The costs in the templates' doc comments
 *    count --O2 (compileCircom's default); where a doc formula is off, the test says so.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BN254_R } from '../src/circom/r1cs.js';
import { ZkonnxError } from '../src/errors.js';
import type { QPoly } from '../src/ir/graph.js';
import { divRound, floorDiv, isqrt, rescale } from '../src/quantize/int.js';
import { evalPoly, fitPiecewise } from '../src/quantize/poly.js';
import { CircuitTester } from './helpers/circuit-tester.js';
import { rng } from '../src/random.js';
import { modPow } from '../src/bigint.js';

const INCLUDE = { include: 'circuits/zkonnx.circom' };
const P = BN254_R;
/** Compiling two circuits (O1 and O2) takes a few seconds when the cache is cold. */
const BUILD_TIMEOUT = 60_000;

// ---------------------------------------------------------------------------------------------
// BigInt helpers and a seeded generator (failures must be reproducible).

const pow2 = (e: number): bigint => 1n << BigInt(e);
const fe = (x: bigint): bigint => ((x % P) + P) % P;

/** 1/x in the field. */
function finv(x: bigint): bigint {
  let r = 1n;
  let b = fe(x);
  for (let e = P - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
  }
  return r;
}
const HALF = finv(2n);


/** Uniform-ish bigint in [lo, hi). */
function randBig(rand: () => number, lo: bigint, hi: bigint): bigint {
  const span = hi - lo;
  let x = 0n;
  for (let bits = 0; bits < span.toString(2).length + 32; bits += 32) x = (x << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
  return lo + (x % span);
}

/** The low n bits of x (two's complement for x < 0: boolean, but then they do not sum to x). */
function bitsOf(x: bigint, n: number): bigint[] {
  return Array.from({ length: n }, (_, i) => (x >> BigInt(i)) & 1n);
}

async function build(name: string, main: string): Promise<[CircuitTester, CircuitTester]> {
  return Promise.all([
    CircuitTester.fromSource(name, main, { ...INCLUDE, optimize: 1 }),
    CircuitTester.fromSource(name, main, { ...INCLUDE, optimize: 2 }),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Models: signal name → signed value, for every signal of a template.

type Assignment = Record<string, bigint>;

/** The signals of RangeCheck(n, lo) named `pre` holding v: in, and the low n bits of v − lo. */
function rangeCheckSignals(pre: string, v: bigint, n: number, lo = 0n): Assignment {
  const a: Assignment = { [`${pre}in`]: v };
  bitsOf(v - lo, n).forEach((bit, i) => (a[`${pre}bits[${i}]`] = bit));
  return a;
}

/** Rescale(k, b, 0) named `pre` with quotient q (default: the honest one). */
function rescaleSignals(pre: string, x: bigint, k: number, b: number, q = rescale(x, k)): Assignment {
  const half = k > 0 ? pow2(k - 1) : 0n;
  const u = q + pow2(b);
  const rem = x + half + pow2(b + k) - u * pow2(k); // in [0, 2^k) only for the honest q
  const a: Assignment = { [`${pre}in`]: x, [`${pre}out`]: q };
  bitsOf(u, b + 1).forEach((bit, i) => (a[`${pre}u[${i}]`] = bit));
  bitsOf(rem, k).forEach((bit, i) => (a[`${pre}r[${i}]`] = bit));
  return a;
}

/**
 * A complete witness built from nothing but `values`: every wire gets its value from a signal
 * name (names circom merged away, index −1, are skipped: the wire they share carries the value).
 * A wire no name sets, or two names setting one wire differently, is a bug of the model.
 */
function assemble(t: CircuitTester, values: Assignment): bigint[] {
  const w = new Array<bigint | undefined>(t.r1cs.header.nWires).fill(undefined);
  w[0] = 1n;
  for (const [name, v] of Object.entries(values)) {
    const full = t.resolveName(name);
    const i = t.symbols.get(full);
    if (i === undefined) throw new Error(`${t.name}: the model sets ${full}, which the circuit lacks`);
    if (i < 0) continue;
    if (w[i] !== undefined && w[i] !== fe(v)) throw new Error(`${t.name}: the model sets wire ${i} twice, ${full} = ${v} differs`);
    w[i] = fe(v);
  }
  const missing = w.flatMap((v, i) => (v === undefined ? [i] : []));
  if (missing.length) throw new Error(`${t.name}: the model leaves wires ${missing.join(', ')} unset`);
  return w as bigint[];
}

/** The model is the template: it gives circom's honest witness, wire for wire. */
async function expectModel(t: CircuitTester, input: Record<string, bigint | bigint[]>, values: Assignment): Promise<void> {
  expect(assemble(t, values)).toEqual(await t.expectPass(input));
}

async function satisfies(t: CircuitTester, values: Assignment): Promise<boolean> {
  return (await t.check(assemble(t, values))).ok;
}

/**
 * The distinct witnesses among the candidates that satisfy every constraint. Candidates that
 * differ only in signals without a wire (merged or substituted away) are one witness.
 */
async function solutions(t: CircuitTester, candidates: Iterable<Assignment>): Promise<bigint[][]> {
  const found = new Map<string, bigint[]>();
  for (const c of candidates) {
    const w = assemble(t, c);
    if ((await t.check(w)).ok) found.set(w.join(','), w);
  }
  return [...found.values()];
}

/** Exactly the honest witness among the candidates satisfies the R1CS (none if input fails). */
async function expectOnlyHonest(t: CircuitTester, input: Record<string, bigint | bigint[]>, candidates: Iterable<Assignment>, inDomain: boolean): Promise<void> {
  const sols = await solutions(t, candidates);
  if (inDomain) expect(sols, `${t.name} --O${t.optimize}: ${show(input)}`).toEqual([await t.expectPass(input)]);
  else expect(sols, `${t.name} --O${t.optimize}: ${show(input)}`).toEqual([]);
}

/** A forged complete witness fails; returns the first failing constraint's message. */
async function expectForgedFails(t: CircuitTester, values: Assignment): Promise<string> {
  const res = await t.check(assemble(t, values));
  if (res.ok) throw new Error(`${t.name} --O${t.optimize}: SOUNDNESS: forged witness ${show(values)} satisfies every constraint`);
  return res.message;
}

function show(x: unknown): string {
  return JSON.stringify(x, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** SignBit(b) named `pre` for input x; v = the (b+1)-bit value decomposed (honest: x + 2^b). */
function signBitSignals(pre: string, x: bigint, b: number, v = x + pow2(b)): Assignment {
  const a: Assignment = { [`${pre}in`]: x };
  const u = bitsOf(v, b + 1);
  u.forEach((bit, i) => (a[`${pre}u[${i}]`] = bit));
  a[`${pre}out`] = u[b]!;
  return a;
}

// ---------------------------------------------------------------------------------------------
// SignBit(b): out = [in ≥ 0] for in ∈ [−2^b, 2^b)

for (const b of [1, 3, 200]) {
  describe(`SignBit(${b})`, () => {
    let t1: CircuitTester;
    let t2: CircuitTester;
    beforeAll(async () => {
      [t1, t2] = await build(`signbit_${b}`, `component main = SignBit(${b});`);
    }, BUILD_TIMEOUT);
    const lo = -pow2(b);
    const hi = pow2(b); // exclusive

    it('out = [in ≥ 0] on both ends of [−2^b, 2^b), around 0 and on random inputs; the model matches', async () => {
      const rand = rng(11 + b);
      const values = [lo, lo + 1n, -1n, 0n, 1n, hi - 2n, hi - 1n, ...Array.from({ length: 20 }, () => randBig(rand, lo, hi))];
      for (const x of values.filter((v) => v >= lo && v < hi)) {
        for (const t of [t1, t2]) {
          await t.expectPass({ in: x }, { out: x >= 0n ? 1 : 0 });
          await expectModel(t, { in: x }, signBitSignals('', x, b));
        }
      }
    });

    it('rejects inputs outside [−2^b, 2^b)', async () => {
      for (const t of [t1, t2]) {
        for (const x of [lo - 1n, hi, hi + 1n, lo - pow2(b + 3), hi + pow2(b + 40), P / 2n]) {
          expect(await t.expectFail({ in: x })).toMatch(/Assert Failed|fails/);
        }
      }
    });

    it('a cheating prover is caught: flipped out, flipped out with a compensating low bit, a non-boolean bit', async () => {
      for (const x of [lo, -1n, 0n, hi - 1n, 2n - pow2(b)]) {
        if (x < lo || x >= hi) continue;
        const honest = x >= 0n ? 1n : 0n;
        // out shares its wire with u[b] (circom merges out <== u[b] at O1): flipping it breaks the sum.
        for (const t of [t1, t2]) await t.expectConstraintFailure({ in: x }, { out: 1n - honest });
        // Keep the sum by moving 2^b into u[0]: only u[0]'s booleanity is left to catch it.
        const u0 = t1.read(await t1.witness({ in: x }), 'u[0]');
        const r = await t1.expectConstraintFailure({ in: x }, { out: 1n - honest, 'u[0]': u0 + (honest === 1n ? pow2(b) : -pow2(b)) });
        expect(r.message).toMatch(/signals: main\.u\[0\] = -?\d+$/);
        expect(r.failing).toEqual([r.constraint]);
      }
      if (b >= 2) {
        // in + 2^b = 2: bits [0, 1, 0, …]; u[0] = 2, u[1] = 0 keeps the sum, fails booleanity.
        const x = 2n - pow2(b);
        const r = await t1.expectConstraintFailure({ in: x }, { 'u[0]': 2n, 'u[1]': 0n });
        expect(r.message).toMatch(/signals: main\.u\[0\] = 2$/);
        expect(r.failing).toEqual([r.constraint]);
        // A field fraction: u[0] = 1, u[1] = 1/2 also sums to 2.
        await t1.expectConstraintFailure({ in: x }, { 'u[0]': 1n, 'u[1]': HALF });
      }
    });

    it('constraint count: b + 2 at O1 (b + 1 booleanity, the sum), b + 1 at O2 (the doc\'s cost)', () => {
      t1.expectConstraintCount(b + 2);
      t2.expectConstraintCount(b + 1);
    });
  });
}

describe('SignBit(3) exhaustively', () => {
  // Every wire left is a bit with its own booleanity constraint (out carries u[3]), so the
  // boolean assignments of the (b+1)-bit value v are every witness a prover can make.
  it.each([1, 2] as const)('O%i: exactly one witness for in ∈ [−8, 8), none outside', async (optimize) => {
    const t = await CircuitTester.fromSource('signbit_3', 'component main = SignBit(3);', { ...INCLUDE, optimize });
    for (let x = -12n; x < 12n; x++) {
      const candidates = Array.from({ length: 16 }, (_, v) => signBitSignals('', x, 3, BigInt(v)));
      await expectOnlyHonest(t, { in: x }, candidates, x >= -8n && x < 8n);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Max2(d): out = max(a, b) for b − a ∈ [−2^d, 2^d)

function max2Signals(a: bigint, b: bigint, d: number, cheat: { v?: bigint; sIn?: bigint; out?: bigint } = {}): Assignment {
  const s = signBitSignals('s.', cheat.sIn ?? b - a, d, cheat.v);
  return { a, b, ...s, out: cheat.out ?? a + s['s.out']! * (b - a) };
}

for (const d of [2, 40]) {
  describe(`Max2(${d})`, () => {
    let t1: CircuitTester;
    let t2: CircuitTester;
    beforeAll(async () => {
      [t1, t2] = await build(`max2_${d}`, `component main = Max2(${d});`);
    }, BUILD_TIMEOUT);
    const rand = rng(200 + d);
    // Pairs across the whole difference range, including equal values and both extremes.
    const pairs: Array<[bigint, bigint]> = [
      [0n, 0n], [5n, 5n], [-3n, -3n], [0n, pow2(d) - 1n], [pow2(d) - 1n, 0n], [0n, -pow2(d)], [1n - pow2(d), 1n - 2n * pow2(d)],
      [-7n, -6n], [-6n, -7n], [pow2(d + 20), pow2(d + 20) + 1n], [-pow2(d + 30) + 1n, -pow2(d + 30)],
    ];
    for (let i = 0; i < 20; i++) {
      const a = randBig(rand, -pow2(d + 8), pow2(d + 8));
      pairs.push([a, a + randBig(rand, -pow2(d), pow2(d))]);
    }

    it('out = max(a, b) on edges, ties and random pairs; the model matches', async () => {
      for (const [a, b] of pairs) {
        for (const t of [t1, t2]) {
          await t.expectPass({ a, b }, { out: a > b ? a : b });
          await expectModel(t, { a, b }, max2Signals(a, b, d));
        }
      }
    });

    it('rejects b − a outside [−2^d, 2^d)', async () => {
      for (const t of [t1, t2]) {
        for (const [a, b] of [[0n, pow2(d)], [pow2(d), -1n], [5n, 5n + pow2(d + 1)], [0n, -pow2(d + 50)]]) {
          expect(await t.expectFail({ a: a!, b: b! })).toMatch(/Assert Failed|fails/);
        }
      }
    });

    it('a cheating prover is caught: out ± 1, out = the smaller one with the sign flipped, s.in edited', async () => {
      for (const [a, b] of pairs.slice(0, 12)) {
        const mx = a > b ? a : b;
        const mn = a > b ? b : a;
        for (const t of [t1, t2]) {
          await t.expectConstraintFailure({ a, b }, { out: mx + 1n });
          await t.expectConstraintFailure({ a, b }, { out: mx - 1n });
        }
        if (a !== b) {
          // The smaller one, alone and with the sign bit s.out (which carries u[d]) flipped to
          // match it: the sign's bits no longer sum to b − a + 2^d ...
          const sign = b - a >= 0n ? 1n : 0n;
          for (const t of [t1, t2]) await t.expectConstraintFailure({ a, b }, { out: mn });
          await t1.expectConstraintFailure({ a, b }, { out: mn, 's.out': 1n - sign });
          // ... and with the sum kept by moving 2^d into u[0]: only u[0]'s booleanity is left.
          const u0 = t1.read(await t1.witness({ a, b }), 's.u[0]');
          const r = await t1.expectConstraintFailure({ a, b }, { out: mn, 's.out': 1n - sign, 's.u[0]': u0 + (sign === 1n ? pow2(d) : -pow2(d)) });
          expect(r.message).toMatch(/signals: main\.s\.u\[0\] = -?\d+$/);
          expect(r.failing).toEqual([r.constraint]);
        }
        // s.in is a wire at O1 fixed by s.in = b − a; the sign bits decomposing another value fail it.
        const forged = max2Signals(a, b, d, { sIn: b - a - 1n, v: b - a - 1n + pow2(d) });
        if (b - a - 1n >= -pow2(d)) expect(await expectForgedFails(t1, forged)).toMatch(/main\.s\.in/);
      }
    });

    it('constraint count: d + 4 at O1, d + 2 at O2 (the doc\'s cost)', () => {
      // O1: SignBit's d + 2, s.in = b − a and the product for out. O2 substitutes the two linear ones.
      t1.expectConstraintCount(d + 4);
      t2.expectConstraintCount(d + 2);
    });
  });
}

describe('Max2(2) exhaustively', () => {
  // Wires: the sign bits (boolean, each with its booleanity constraint), s.in (fixed by a linear
  // equation) and out: every value of each over a window that covers all that can pass.
  it.each([1, 2] as const)('O%i: for every a, b in [−5, 5), only out = max(a, b) passes, and only when |b − a| fits', async (optimize) => {
    const t = await CircuitTester.fromSource('max2_2', 'component main = Max2(2);', { ...INCLUDE, optimize });
    for (let a = -5n; a < 5n; a++) {
      for (let b = -5n; b < 5n; b++) {
        const candidates: Assignment[] = [];
        for (let v = 0n; v < 8n; v++) {
          for (const sIn of [b - a - 1n, b - a, b - a + 1n]) {
            for (let out = -7n; out < 7n; out++) candidates.push(max2Signals(a, b, 2, { v, sIn, out }));
          }
        }
        await expectOnlyHonest(t, { a, b }, candidates, b - a >= -4n && b - a < 4n);
      }
    }
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------
// IsEqual(): out = [a = b]

describe('IsEqual()', () => {
  let t1: CircuitTester;
  let t2: CircuitTester;
  beforeAll(async () => {
    [t1, t2] = await build('isequal', 'component main = IsEqual();');
  }, BUILD_TIMEOUT);
  const rand = rng(300);
  const pairs: Array<[bigint, bigint]> = [
    [0n, 0n], [5n, 5n], [-3n, -3n], [5n, 6n], [6n, 5n], [0n, 1n], [-1n, 1n],
    [-1n, P - 1n], // the same field element
    [pow2(200), pow2(200) + 1n], [pow2(250), pow2(250)], [P / 2n, -(P / 2n)],
  ];
  for (let i = 0; i < 10; i++) {
    const a = randBig(rand, -pow2(64), pow2(64));
    pairs.push([a, a], [a, randBig(rand, -pow2(64), pow2(64))]);
  }
  const same = (a: bigint, b: bigint): boolean => fe(a) === fe(b);

  it('out = [a = b] (as field elements), on equal, adjacent, far and random pairs', async () => {
    for (const [a, b] of pairs) {
      for (const t of [t1, t2]) {
        const w = await t.expectPass({ a, b }, { out: same(a, b) ? 1 : 0 });
        expect(fe(t.read(w, 'inv'))).toBe(same(a, b) ? 0n : finv(a - b));
      }
    }
  });

  it('a cheating prover is caught: for every other out, with inv solving out = 1 − (a − b)·inv', async () => {
    for (const [a, b] of pairs) {
      const d = fe(a - b);
      const honest = same(a, b) ? 1n : 0n;
      for (const out of [-1n, 0n, 1n, 2n, P / 2n]) {
        if (out === honest) continue;
        // The inv that keeps the first constraint, and a few others.
        const invs = d !== 0n ? [(1n - out) * finv(d), 0n, 1n, finv(d)] : [0n, 1n, 7n];
        for (const inv of invs) {
          for (const t of [t1, t2]) expect(await satisfies(t, { a, b, out, inv })).toBe(false);
        }
      }
      if (d !== 0n) {
        // inv alone edited: out = 1 − d·inv no longer holds.
        await t1.expectConstraintFailure({ a, b }, { inv: 0n });
        await t1.expectConstraintFailure({ a, b }, { inv: finv(d) + 1n });
        await t1.expectConstraintFailure({ a, b }, { out: 1n, inv: 0n });
      } else {
        await t1.expectConstraintFailure({ a, b }, { out: 0n });
        await t1.expectConstraintFailure({ a, b }, { out: 0n, inv: 1n });
      }
    }
  });

  it('when a = b, inv is free but out is not: any inv passes with out = 1', async () => {
    // Not a soundness issue (the output is unique), but the witness is not: documented here.
    for (const inv of [1n, 7n, P - 1n]) {
      for (const t of [t1, t2]) expect(await satisfies(t, { a: 4n, b: 4n, out: 1n, inv })).toBe(true);
    }
  });

  it('constraint count: 2 at O1 and O2', () => {
    t1.expectConstraintCount(2);
    t2.expectConstraintCount(2);
  });
});

// ---------------------------------------------------------------------------------------------
// Select(s): out = c ? a : b with cs = c·2^s, c ∈ {0, 1}

for (const s of [0, 20]) {
  describe(`Select(${s})`, () => {
    let t1: CircuitTester;
    let t2: CircuitTester;
    beforeAll(async () => {
      [t1, t2] = await build(`select_${s}`, `component main = Select(${s});`);
    }, BUILD_TIMEOUT);
    const rand = rng(400 + s);
    const pairs: Array<[bigint, bigint]> = [[0n, 0n], [3n, -4n], [-4n, 3n], [7n, 7n], [pow2(100), -pow2(100)], [P / 2n, 1n]];
    for (let i = 0; i < 10; i++) pairs.push([randBig(rand, -pow2(60), pow2(60)), randBig(rand, -pow2(60), pow2(60))]);

    it('out = a when cs = 2^s, b when cs = 0', async () => {
      for (const [a, b] of pairs) {
        for (const t of [t1, t2]) {
          await t.expectPass({ cs: pow2(s), a, b }, { out: a });
          await t.expectPass({ cs: 0n, a, b }, { out: b });
        }
      }
    });

    it('rejects a condition that is not 0 or 2^s', async () => {
      const bad = [pow2(s) + 1n, -pow2(s), 2n * pow2(s), -1n, HALF * pow2(s)];
      if (s > 0) bad.push(1n, pow2(s - 1), pow2(s) - 1n);
      for (const t of [t1, t2]) {
        for (const cs of bad) expect(await t.expectFail({ cs: fe(cs), a: 3n, b: -4n })).toMatch(/Assert Failed|fails/);
      }
    });

    it('a cheating prover is caught: out ± 1, out = the other input, a half condition 2^(s−1) with out = (a + b)/2', async () => {
      for (const [a, b] of pairs) {
        for (const cs of [0n, pow2(s)]) {
          const honest = cs === 0n ? b : a;
          const other = cs === 0n ? a : b;
          for (const t of [t1, t2]) {
            await t.expectConstraintFailure({ cs, a, b }, { out: honest + 1n });
            await t.expectConstraintFailure({ cs, a, b }, { out: honest - 1n });
            if (a !== b) await t.expectConstraintFailure({ cs, a, b }, { out: other });
          }
          // A condition of 1/2 (cs = 2^(s−1), or 1/2 in the field for s = 0): out = b + (a − b)/2
          // satisfies the product; only cs·(cs − 2^s) = 0 catches it.
          const half = s > 0 ? pow2(s - 1) : HALF;
          const out = fe(b + (a - b) * HALF);
          const r = await t1.expectConstraintFailure({ cs, a, b }, { cs: half, out });
          expect(r.failing).toEqual([r.constraint]);
          expect(r.message).toMatch(/signals: main\.cs = /);
          // Or the condition itself flipped: cs = 2^s − cs, with the honest out: the product fails.
          if (a !== b) await t1.expectConstraintFailure({ cs, a, b }, { cs: pow2(s) - cs });
        }
      }
    });

    it('constraint count: 2 at O1 and O2', () => {
      t1.expectConstraintCount(2);
      t2.expectConstraintCount(2);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// DivRound(k, bq, bb): q = round(a·2^k / b) half up, for b ∈ [1, 2^bb] and q ∈ [−2^bq, 2^bq)

/** DivRound with quotient q; r is then the one remainder 2a·2^k + b = 2·b·q + r allows. */
function divRoundSignals(k: number, bq: number, bb: number, a: bigint, b: bigint, q: bigint): Assignment {
  const r = 2n * a * pow2(k) + b - 2n * b * q;
  return {
    a, b, q, r, bqv: b * q,
    ...rangeCheckSignals('rb.', b, bb, 1n),
    ...rangeCheckSignals('rq.', q, bq + 1, -pow2(bq)),
    ...rangeCheckSignals('rr.', r, bb + 2),
    ...rangeCheckSignals('rt.', 2n * b - 1n - r, bb + 2),
  };
}

const DIVROUND: Array<[k: number, bq: number, bb: number]> = [
  [0, 3, 2],
  [4, 6, 5],
  [20, 60, 40],
];

for (const [k, bq, bb] of DIVROUND) {
  describe(`DivRound(${k}, ${bq}, ${bb})`, () => {
    let t1: CircuitTester;
    let t2: CircuitTester;
    beforeAll(async () => {
      [t1, t2] = await build(`divround_${k}_${bq}_${bb}`, `component main = DivRound(${k}, ${bq}, ${bb});`);
    }, BUILD_TIMEOUT);
    const ref = (a: bigint, b: bigint): bigint => divRound(a << BigInt(k), b);
    const qOk = (q: bigint): boolean => q >= -pow2(bq) && q < pow2(bq);
    const bMax = pow2(bb);
    /** The smallest and largest a with an admissible quotient, for divisor b. */
    const aRange = (b: bigint): [bigint, bigint] => {
      // −2^bq ≤ floor((2a·2^k + b) / 2b) < 2^bq ⇔ −2b·2^bq ≤ 2a·2^k + b < 2b·2^bq
      const lo = -floorDiv(2n * b * pow2(bq) + b, pow2(k + 1));
      const hi = floorDiv(2n * b * pow2(bq) - b - 1n, pow2(k + 1));
      expect([qOk(ref(lo - 1n, b)), qOk(ref(lo, b)), qOk(ref(hi, b)), qOk(ref(hi + 1n, b))]).toEqual([false, true, true, false]);
      return [lo, hi];
    };
    const rand = rng(500 + k + bq + bb);
    const cases: Array<[bigint, bigint]> = [];
    for (const b of [1n, 2n, 3n, bMax - 1n, bMax, ...Array.from({ length: 6 }, () => randBig(rand, 1n, bMax + 1n))]) {
      const [lo, hi] = aRange(b);
      cases.push([lo, b], [lo + 1n, b], [hi, b], [hi - 1n, b], [0n, b], [1n, b], [-1n, b]);
      for (let i = 0; i < 3; i++) cases.push([randBig(rand, lo, hi + 1n), b]);
    }
    // Exact halves pin rounding half up: a·2^k / b = m + 1/2 for b = 2^(k+1)·odd (when b fits).
    const halves: Array<[bigint, bigint]> = [];
    if (pow2(k + 1) <= bMax) for (const a of [1n, -1n, 3n, -3n, 5n, -5n]) halves.push([a, pow2(k + 1)]);
    const admissible = [...cases, ...halves].filter(([a, b]) => b >= 1n && b <= bMax && qOk(ref(a, b)));

    it('q = divRound(a·2^k, b) on edges of a and b, exact halves and random inputs; the model matches', async () => {
      expect(admissible.length).toBeGreaterThan(60);
      for (const [a, b] of halves) {
        // 2.5 → 3, −2.5 → −2: (2a·2^k + b) / 2b is an integer, r = 0
        expect(ref(a, b)).toBe(a > 0n ? (a + 1n) / 2n : -((-a - 1n) / 2n));
      }
      for (const [a, b] of admissible) {
        for (const t of [t1, t2]) {
          await t.expectPass({ a, b }, { q: ref(a, b) });
          await expectModel(t, { a, b }, divRoundSignals(k, bq, bb, a, b, ref(a, b)));
        }
      }
    });

    it('rejects b = 0, b < 0, b > 2^bb and quotients outside [−2^bq, 2^bq)', async () => {
      for (const t of [t1, t2]) {
        for (const b of [0n, -1n, -bMax, bMax + 1n, 2n * bMax, P - 1n]) {
          expect(await t.expectFail({ a: 1n, b })).toMatch(/Assert Failed|divide by zero|fails/);
        }
        for (const b of [1n, bMax]) {
          const [lo, hi] = aRange(b);
          for (const a of [lo - 1n, hi + 1n, -pow2(bq + k + bb + 10), pow2(bq + k + bb + 10)]) {
            expect(qOk(ref(a, b))).toBe(false);
            expect(await t.expectFail({ a, b })).toMatch(/Assert Failed|fails/);
          }
        }
      }
    });

    it('every other quotient fails, with r, b·q and all range-check bits made consistent with it', async () => {
      // r and bqv are fixed by their equations, the range-check bits by booleanity and their
      // sums: a quotient (an integer in [−2^bq, 2^bq), by rq) is the prover's only choice.
      const window = bq <= 6 ? Array.from({ length: Number(pow2(bq + 1)) + 6 }, (_, i) => BigInt(i) - pow2(bq) - 3n) : undefined;
      for (const [a, b] of admissible.slice(0, 40)) {
        const q = ref(a, b);
        const qs = window ?? [q - 3n, q - 2n, q - 1n, q, q + 1n, q + 2n, q + 3n, -pow2(bq), pow2(bq) - 1n];
        for (const t of [t1, t2]) await expectOnlyHonest(t, { a, b }, qs.map((q2) => divRoundSignals(k, bq, bb, a, b, q2)), true);
      }
    });

    it('a cheating prover is caught: q ± 1 with r ∓ 2b, half down at exact halves, r ± b with q ∓ 1/2, q or bqv alone', async () => {
      for (const [a, b] of [...admissible.slice(0, 12), ...halves]) {
        const q = ref(a, b);
        for (const t of [t1, t2]) {
          await t.expectConstraintFailure({ a, b }, { q: q + 1n });
          await t.expectConstraintFailure({ a, b }, { q: q - 1n });
        }
        // q + 1: r − 2b < 0, caught by rr; q − 1: r + 2b ≥ 2b fits rr's bb + 2 bits, caught by rt.
        // (At an exact half r = 0, so q − 1 is rounding half down: r = 2b, and rt.in = −1.)
        if (qOk(q + 1n)) expect(await expectForgedFails(t1, divRoundSignals(k, bq, bb, a, b, q + 1n))).toMatch(/main\.rr\.bits/);
        if (qOk(q - 1n)) expect(await expectForgedFails(t1, divRoundSignals(k, bq, bb, a, b, q - 1n))).toMatch(/main\.rt\./);
        // r shifted by b: the equation needs q − 1/2 (or q + 1/2), a field fraction rq's sum refuses.
        for (const sign of [1n, -1n]) {
          const forged = divRoundSignals(k, bq, bb, a, b, q);
          const q2 = fe(q - sign * HALF);
          const r2 = forged.r! + sign * b;
          Object.assign(forged, { q: q2, bqv: fe(b * q2), r: r2 }, rangeCheckSignals('rr.', r2, bb + 2), rangeCheckSignals('rt.', 2n * b - 1n - r2, bb + 2));
          delete forged['rq.in'];
          const msg = await expectForgedFails(t1, { ...forged, 'rq.in': q2 });
          expect(msg).toMatch(/main\.q = .*main\.rq\.bits/);
        }
        // bqv off by one, r made up for it: bqv = b·q fails.
        await t1.expectConstraintFailure({ a, b }, { bqv: b * q + 1n, r: divRoundSignals(k, bq, bb, a, b, q).r! - 2n });
      }
    });

    it(`constraint count: 3bb + bq + 12 at O1, 3bb + bq + 6 at O2 (the doc's bb + (bq + 1) + 2·(bb + 2) + 1)`, () => {
      // O2: RangeCheck(n) costs n (its sum substituted into the top bit), + b·q; the equation is
      // substituted away. O1 keeps the four sums, rt.in = 2b − 1 − r and the equation.
      t1.expectConstraintCount(3 * bb + bq + 12);
      t2.expectConstraintCount(3 * bb + bq + 6);
      expect(3 * bb + bq + 6).toBe(bb + (bq + 1) + 2 * (bb + 2) + 1);
    });
  });
}

describe('DivRound(0, 3, 2) exhaustively', () => {
  // For every a, every b from −1 to 2^bb + 1 and every quotient (the prover's only choice, see
  // above): one witness when b ∈ [1, 4] and round(a / b) ∈ [−8, 8), none otherwise.
  it.each([1, 2] as const)('O%i', async (optimize) => {
    const t = await CircuitTester.fromSource('divround_0_3_2', 'component main = DivRound(0, 3, 2);', { ...INCLUDE, optimize });
    for (let a = -40n; a <= 40n; a++) {
      for (let b = -1n; b <= 5n; b++) {
        const qs = Array.from({ length: 24 }, (_, i) => BigInt(i) - 12n);
        const ok = b >= 1n && b <= 4n && divRound(a, b) >= -8n && divRound(a, b) < 8n;
        await expectOnlyHonest(t, { a, b }, qs.map((q) => divRoundSignals(0, 3, 2, a, b, q)), ok);
        if (ok) await t.expectPass({ a, b }, { q: divRound(a, b) });
        else await t.expectFail({ a, b });
      }
    }
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------
// FloorSqrt(by): y = floor(√n) for n ≥ 0, y ∈ [0, 2^by)

/**
 * floor(√n). src/quantize/int.ts's isqrt starts from Math.sqrt(Number(n)) and steps by one:
 * its start is off by about 2^(bits(n)/2 − 53), so above ~2^140 it crawls (3.5 s at 2^156) and
 * at 2^200 it would not finish. Newton's method stands in for it there.
 */
function sqrtRef(n: bigint): bigint {
  if (n < pow2(120)) return isqrt(n);
  let x = pow2(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

function floorSqrtSignals(by: number, n: bigint, y: bigint): Assignment {
  const y2 = y * y;
  const e = n - y2;
  return { n, y, y2, ...rangeCheckSignals('ry.', y, by), ...rangeCheckSignals('re.', e, by + 1), ...rangeCheckSignals('rt.', 2n * y - e, by + 1) };
}

for (const by of [3, 16, 100]) {
  describe(`FloorSqrt(${by})`, () => {
    let t1: CircuitTester;
    let t2: CircuitTester;
    beforeAll(async () => {
      [t1, t2] = await build(`floorsqrt_${by}`, `component main = FloorSqrt(${by});`);
    }, BUILD_TIMEOUT);
    const top = pow2(2 * by); // n ∈ [0, 2^(2by)): y ≤ 2^by − 1
    const rand = rng(600 + by);
    const values: bigint[] = [0n, 1n, 2n, 3n, 4n, 5n, 8n, 9n, 10n, top - 1n, top - 2n, (pow2(by) - 1n) ** 2n, (pow2(by) - 1n) ** 2n - 1n];
    for (let i = 0; i < 8; i++) {
      const m = randBig(rand, 1n, pow2(by) - 1n);
      values.push(m * m - 1n, m * m, m * m + 1n, m * m + 2n * m); // around a square, and (m + 1)² − 1
    }
    for (let i = 0; i < 15; i++) values.push(randBig(rand, 0n, top));
    const domain = values.filter((n) => n >= 0n && n < top);

    it('y = isqrt(n) around squares, at both ends of [0, 2^(2by)) and on random inputs; the model matches', async () => {
      for (const n of domain) {
        for (const t of [t1, t2]) {
          await t.expectPass({ n }, { y: sqrtRef(n) });
          await expectModel(t, { n }, floorSqrtSignals(by, n, sqrtRef(n)));
        }
      }
    });

    it('rejects negative n and n ≥ 2^(2by)', async () => {
      for (const t of [t1, t2]) {
        for (const n of [-1n, -2n, -top, top, top + 1n, top * 1024n, P / 2n]) {
          expect(await t.expectFail({ n })).toMatch(/Assert Failed|fails/);
        }
      }
    });

    it('every other root fails, with y², the remainder and all range-check bits consistent with it', async () => {
      // y2 = y·y, re.in and rt.in are fixed by their equations, the bits by booleanity and their
      // sums: y (an integer in [0, 2^by) by ry) is the prover's only choice.
      for (const n of domain) {
        const y = sqrtRef(n);
        const ys = by <= 3 ? Array.from({ length: 14 }, (_, i) => BigInt(i) - 3n) : [y - 2n, y - 1n, y, y + 1n, y + 2n, -1n, -y, pow2(by) - 1n, pow2(by)];
        for (const t of [t1, t2]) await expectOnlyHonest(t, { n }, ys.map((y2) => floorSqrtSignals(by, n, y2)), true);
      }
    });

    it('a cheating prover is caught: y ± 1 (alone, and with y2 and the remainders recomputed), y2 ± 1, a non-boolean bit', async () => {
      for (const n of domain.slice(0, 20)) {
        const y = sqrtRef(n);
        for (const t of [t1, t2]) {
          await t.expectConstraintFailure({ n }, { y: y + 1n });
          if (y > 0n) await t.expectConstraintFailure({ n }, { y: y - 1n });
        }
        // y + 1: n − (y + 1)² < 0, caught by re; y − 1: 2(y − 1) − (n − (y − 1)²) = −e − 1 < 0, by rt.
        if (y + 1n < pow2(by)) expect(await expectForgedFails(t1, floorSqrtSignals(by, n, y + 1n))).toMatch(/main\.re\./);
        if (y > 0n) {
          const msg = await expectForgedFails(t1, floorSqrtSignals(by, n, y - 1n));
          // (unless n − (y − 1)² = e + 2y − 1 is already too wide for re)
          if (n - (y - 1n) ** 2n < pow2(by + 1)) expect(msg).toMatch(/main\.rt\./);
        }
        // y2 off by one, with e and 2y − e made consistent: only y2 = y·y catches it.
        for (const dy of [1n, -1n]) {
          const forged = { ...floorSqrtSignals(by, n, y), y2: y * y + dy, ...rangeCheckSignals('re.', n - y * y - dy, by + 1), ...rangeCheckSignals('rt.', 2n * y - (n - y * y - dy), by + 1) };
          if (n - y * y - dy >= 0n && 2n * y - (n - y * y - dy) >= 0n) {
            const msg = await expectForgedFails(t1, forged);
            expect(msg).toMatch(/signals: main\.y = \d+, main\.y2 = \d+$/);
          }
        }
      }
      // A non-boolean bit with a compensating value: n = 6 → e = 2 → re bits [0, 1].
      const r = await t1.expectConstraintFailure({ n: 6n }, { 're.bits[0]': 2n, 're.bits[1]': 0n });
      expect(r.message).toMatch(/signals: main\.re\.bits\[0\] = 2$/);
      expect(r.failing).toEqual([r.constraint]);
    });

    it('constraint count: 3by + 8 at O1, 3by + 3 at O2 (the doc\'s by + 2·(by + 1) + 1)', () => {
      t1.expectConstraintCount(3 * by + 8);
      t2.expectConstraintCount(3 * by + 3);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// ArgMax(n, d): idx = the first index of the largest x[i], for x[i] − x[j] ∈ [−2^d, 2^d)

/** ArgMax with selector sel (honest: one-hot at the first maximum). */
function argMaxSignals(x: bigint[], d: number, sel: bigint[]): Assignment {
  const a: Assignment = {};
  let m = 0n;
  let idx = 0n;
  x.forEach((xi, i) => {
    a[`x[${i}]`] = xi;
    a[`sel[${i}]`] = sel[i]!;
    a[`prod[${i}]`] = sel[i]! * xi;
    m += sel[i]! * xi;
    idx += BigInt(i) * sel[i]!;
  });
  a.idx = idx;
  let after = 1n;
  x.forEach((xj, j) => {
    after -= sel[j]!;
    Object.assign(a, rangeCheckSignals(`rc[${j}].`, m - xj - after, d + 1));
  });
  return a;
}

const firstMax = (x: bigint[]): number => x.reduce((best, v, i) => (v > x[best]! ? i : best), 0);
const oneHot = (n: number, i: number): bigint[] => Array.from({ length: n }, (_, j) => (j === i ? 1n : 0n));

const ARGMAX: Array<[n: number, d: number]> = [
  [1, 3],
  [3, 2],
  [4, 5],
  [8, 40],
];

for (const [n, d] of ARGMAX) {
  describe(`ArgMax(${n}, ${d})`, () => {
    let t1: CircuitTester;
    let t2: CircuitTester;
    beforeAll(async () => {
      [t1, t2] = await build(`argmax_${n}_${d}`, `component main = ArgMax(${n}, ${d});`);
    }, BUILD_TIMEOUT);
    const rand = rng(700 + n + d);
    const spread = pow2(d) - 1n; // the largest max − min the domain allows
    const fill = (f: (i: number) => bigint): bigint[] => Array.from({ length: n }, (_, i) => f(i));
    const inputs: bigint[][] = [
      fill(() => 0n), // all tied: idx 0
      fill(() => -5n),
      fill((i) => BigInt(i)), // max last
      fill((i) => BigInt(-i)), // max first
      fill((i) => (i === n - 1 ? spread : 0n)),
      fill((i) => (i === 0 ? -spread : 0n)), // ties among the rest: the first of them
      fill((i) => (i % 2 === 1 ? 3n : 1n)), // ties at 1, 3, …: idx 1
      fill((i) => (i >= n - 2 ? spread - 7n : -7n)), // ties at the end
      fill((i) => pow2(d + 50) + BigInt(i % 3)), // far from 0
    ];
    for (let k = 0; k < 15; k++) {
      const base = randBig(rand, -pow2(d + 10), pow2(d + 10));
      // few distinct values, to get ties often
      const vals = fill(() => base + randBig(rand, 0n, spread + 1n));
      inputs.push(k % 2 ? vals : fill((i) => vals[Math.floor(rand() * 2) ? i : 0]!));
    }

    it('idx = the first index of the maximum (ties!), on ties, both ends of the spread and random inputs; the model matches', async () => {
      for (const x of inputs) {
        for (const t of [t1, t2]) {
          await t.expectPass({ x }, { idx: firstMax(x) });
          await expectModel(t, { x }, argMaxSignals(x, d, oneHot(n, firstMax(x))));
        }
      }
    });

    it('rejects inputs spread wider than the range checks (2^(d+1)) allow', async () => {
      // The checks have d + 1 bits, one more than the domain needs (see the count test), so a
      // spread up to 2^(d+1) − 1 still passes with the right index; past that, nothing does.
      if (n < 2) return;
      await t1.expectPass({ x: fill((i) => (i === 1 ? pow2(d + 1) - 1n : 0n)) }, { idx: 1 });
      for (const t of [t1, t2]) {
        for (const x of [fill((i) => (i === 0 ? pow2(d + 1) + 1n : 0n)), fill((i) => (i === n - 1 ? pow2(d + 1) + 1n : 0n)), fill((i) => (i === 0 ? -pow2(d + 20) : 0n))]) {
          expect(await t.expectFail({ x })).toMatch(/Assert Failed|fails/);
        }
      }
    });

    it('every other selector fails: all 2^n boolean sel, with prod, idx and the range checks consistent with it', async () => {
      // sel is boolean (its own constraints); prod, idx, m and the range checks' inputs follow
      // from it by their equations and the bits from booleanity and sums: sel is the only choice.
      for (const x of inputs) {
        if (n > 4 && inputs.indexOf(x) % 3 !== 0) continue; // 2^8 selectors: a third of the inputs suffices
        const sels = Array.from({ length: 2 ** n }, (_, mask) => Array.from({ length: n }, (_, i) => BigInt((mask >> i) & 1)));
        for (const t of [t1, t2]) await expectOnlyHonest(t, { x }, sels.map((sel) => argMaxSignals(x, d, sel)), true);
      }
    });

    it('a cheating prover is caught: idx ± 1, a later tie, a smaller element, sel doubled / zero / non-boolean', async () => {
      for (const x of inputs) {
        const best = firstMax(x);
        for (const t of [t1, t2]) {
          await t.expectConstraintFailure({ x }, { idx: BigInt(best) + 1n });
          await t.expectConstraintFailure({ x }, { idx: BigInt(best) - 1n });
        }
        if (n === 1) continue;
        for (let j = 0; j < n; j++) {
          if (j === best) continue;
          // Another index, with everything recomputed: a later tie fails rc[best] (in = −1), a
          // smaller element fails the check of the true maximum.
          const msg = await expectForgedFails(t1, argMaxSignals(x, d, oneHot(n, j)));
          if (x[j] === x[best]) expect(msg).toMatch(new RegExp(`main\\.rc\\[${best}\\]\\.`));
          // sel doubled: the maximum and another one (total = 2).
          const two = oneHot(n, best);
          two[j] = 1n;
          await expectForgedFails(t1, argMaxSignals(x, d, two));
          // Non-boolean with the total kept: sel[best] = 2, sel[j] = −1.
          const nb = oneHot(n, best);
          nb[best] = 2n;
          nb[j] = -1n;
          expect(await expectForgedFails(t1, argMaxSignals(x, d, nb))).toMatch(/main\.sel\[/);
          // Half and half (sums to 1): booleanity again.
          const halves = oneHot(n, best).map(() => 0n);
          halves[best] = HALF;
          halves[j] = HALF;
          expect(await expectForgedFails(t1, argMaxSignals(x, d, halves))).toMatch(/main\.sel\[/);
        }
        await expectForgedFails(t1, argMaxSignals(x, d, oneHot(n, -1))); // no selection at all
        await t1.expectConstraintFailure({ x }, { [`sel[${best}]`]: 0n });
        await t1.expectConstraintFailure({ x }, { [`prod[${best}]`]: x[best]! + 1n });
      }
    });

    it('constraint count', () => {
      if (n === 1) {
        // sel[0] = 1 is forced by the total: 8 at O1 and 5 at O2 (the doc's n·(d+2) + n + 1 says 7).
        t1.expectConstraintCount(8);
        t2.expectConstraintCount(5);
        return;
      }
      // O1: n·(d + 2) per range check (d + 1 bits, sum, in), n booleanity, n products, the total
      // and idx = Σ i·sel[i]. O2 substitutes the linear ones: n·(d + 3), one less than the doc's
      // n·(d + 2) + n + 1 (the total sel = 1 costs nothing at O2).
      t1.expectConstraintCount(n * (d + 5) + 2);
      t2.expectConstraintCount(n * (d + 3));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// PiecewisePoly(B, s, drop, deg, shift, bo, lo, C): rescale(Σ_k C[seg·(deg+1) + k]·t^k, shift)

interface PiecewiseCase {
  name: string;
  B: number;
  s: number;
  /** low bits of each segment's offset left out of t */
  drop: number;
  deg: number;
  shift: number;
  bo: number;
  lo: bigint;
  C: bigint[];
  /** Constraint counts at O1 and O2. */
  counts: [number, number];
}

/** The main component, with C declared the way the compiler does: a function returning a var array. */
function piecewiseSource(c: PiecewiseCase): string {
  const coefs = c.C.map((v, i) => `    c[${i}] = ${v};`).join('\n');
  return `function coefs() {\n    var c[${c.C.length}];\n${coefs}\n    return c;\n}\ncomponent main = PiecewisePoly(${c.B}, ${c.s}, ${c.drop}, ${c.deg}, ${c.shift}, ${c.bo}, ${c.lo}, coefs());`;
}

function qpoly(c: PiecewiseCase): QPoly {
  return { lo: c.lo, segBits: c.s, lowBits: c.B - c.s, dropBits: c.drop, degree: c.deg, coef: c.C, polyScale: 0, maxError: 0 };
}

/** The smallest bo with [lo, hi] ⊂ [−2^bo, 2^bo). */
function outBits(lo: bigint, hi: bigint): number {
  let bo = 0;
  while (lo < -pow2(bo) || hi >= pow2(bo)) bo++;
  return bo;
}

/**
 * PiecewisePoly's signals as the template computes them, from the bits of x − lo (or forged
 * bits), with forged selector or Horner products where given (the later signals follow them),
 * and the Rescale's quotient q (default: the honest one for the accumulated value).
 */
function piecewiseSignals(
  c: PiecewiseCase,
  x: bigint,
  forge: { bits?: bigint[]; prod?: Record<number, bigint>; hp?: Record<number, bigint>; q?: bigint } = {},
): Assignment {
  const m = c.B - c.s;
  const bits = forge.bits ?? bitsOf(x - c.lo, c.B);
  const a: Assignment = { in: x };
  bits.forEach((bit, i) => (a[`bits[${i}]`] = bit));
  const t = bits.slice(c.drop, m).reduce((sum, bit, i) => sum + bit * pow2(i), 0n);
  // The one-hot selector, most significant segment bit first: sel[g] for g = the segment's digits.
  let sel: bigint[] = [1n];
  let np = 0;
  for (let j = c.s - 1; j >= 0; j--) {
    const bit = bits[m + j]!;
    const next: bigint[] = [];
    if (sel.length === 1) next.push(1n - bit, bit);
    else {
      for (const sk of sel) {
        const pr = forge.prod?.[np] ?? sk * bit;
        a[`prod[${np++}]`] = pr;
        next.push(sk - pr, pr);
      }
    }
    sel = next;
  }
  if (2 ** c.s <= 2) a['prod[0]'] = 0n;
  // Horner: hp[k] = acc·t, acc = hp[k] + C_k(seg), from acc = C_deg(seg)
  const coef = (k: number) => sel.reduce((sum, sg, g) => sum + sg * c.C[g * (c.deg + 1) + k]!, 0n);
  let acc = coef(c.deg);
  if (c.deg === 0) a['hp[0]'] = 0n;
  for (let k = c.deg - 1; k >= 0; k--) {
    const h = forge.hp?.[k] ?? acc * t;
    a[`hp[${k}]`] = h;
    acc = h + coef(k);
  }
  Object.assign(a, rescaleSignals('r.', acc, c.shift, c.bo, forge.q));
  a.out = a['r.out']!;
  return a;
}

const PIECEWISE: PiecewiseCase[] = (() => {
  const cases: PiecewiseCase[] = [
    // The example of the brief: 4 segments of 16 points, linear, [-32, 32).
    { name: 'pp_handmade', B: 6, s: 2, drop: 0, deg: 1, shift: 3, bo: 10, lo: -32n, C: [100n, -7n, -500n, 40n, 1000n, -60n, 0n, 3n], counts: [27, 23] },
    // One segment (s = 0): the coefficients are constants, so the terms are linear.
    { name: 'pp_one_segment', B: 6, s: 0, drop: 0, deg: 2, shift: 3, bo: 10, lo: -32n, C: [5n, -2n, 1n], counts: [26, 21] },
    // Two segments (s = 1, no selector products), cubic, no rescaling (shift = 0), lo > 0.
    { name: 'pp_two_cubic', B: 5, s: 1, drop: 0, deg: 3, shift: 0, bo: 20, lo: 7n, C: [3n, -50n, 20n, -1n, -7n, 40n, -9n, 2n], counts: [33, 29] },
    // s = B: a lookup table (t = 0), degree 0.
    { name: 'pp_table', B: 3, s: 3, drop: 0, deg: 0, shift: 0, bo: 8, lo: -4n, C: [5n, -3n, 7n, 0n, 100n, -100n, 2n, 1n], counts: [22, 18] },
    // The low 2 bits of each segment's 8 offsets left out: t ∈ [0, 2) is the offset's top bit.
    { name: 'pp_drop', B: 7, s: 2, drop: 2, deg: 2, shift: 2, bo: 10, lo: -40n, C: [90n, -7n, 3n, -300n, 40n, -5n, 500n, 60n, 2n, 11n, -13n, 17n], counts: [0, 0] },
  ];
  // Two fits the quantizer makes itself: sigmoid and tanh over their whole input domains.
  const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
  // pp_exp_drop: exp(x) on [−4, 0) at input scale 2^9, output scale 2^6: the fit drops low bits
  for (const [name, f, lo, bits, inScale, outScale, tolerance, counts, allowDrop] of [
    ['pp_sigmoid', sigmoid, -128n, 8, 4, 6, 0.02, [0, 0], false],
    ['pp_tanh', Math.tanh, -512n, 10, 7, 7, 0.004, [0, 0], false],
    ['pp_exp_drop', Math.exp, -2048n, 11, 9, 6, 2 ** -6, [0, 0], true],
  ] as const) {
    const fit = fitPiecewise({ f, lo, domainBits: bits, inScale, outScale, tolerance, allowDrop });
    const p = fit.poly;
    if (allowDrop) expect(p.dropBits).toBeGreaterThan(0);
    cases.push({ name, B: bits, s: p.segBits, drop: p.dropBits ?? 0, deg: p.degree, shift: p.polyScale - outScale, bo: outBits(fit.outLo, fit.outHi), lo, C: p.coef, counts: [...counts] });
  }
  return cases;
})();

/** Horner's products: deg, or deg − 1 when s = 0 (the first, C_deg·t, is linear: C_deg is a constant). */
const hornerProducts = (c: { s: number; deg: number }) => (c.s === 0 ? Math.max(0, c.deg - 1) : c.deg);

/** --O2 cost: B bits, the selector's 2^s − 2 products, Horner's products, Rescale's shift + bo + 1. */
function piecewiseCostO2(c: PiecewiseCase): number {
  return c.B + Math.max(0, 2 ** c.s - 2) + hornerProducts(c) + c.shift + c.bo + 1;
}

for (const c of PIECEWISE) {
  describe(`PiecewisePoly(${c.B}, ${c.s}, ${c.drop}, ${c.deg}, ${c.shift}, ${c.bo}, ${c.lo}, C) ${c.name}`, () => {
    let t1: CircuitTester;
    let t2: CircuitTester;
    beforeAll(async () => {
      [t1, t2] = await build(c.name, piecewiseSource(c));
    }, BUILD_TIMEOUT);
    const p = qpoly(c);
    const m = c.B - c.s;
    const ref = (x: bigint): bigint => rescale(evalPoly(p, x), c.shift);
    const domain = Array.from({ length: 2 ** c.B }, (_, i) => c.lo + BigInt(i));
    // A sample for the slower checks: segment ends and a stride through the domain.
    const sample = domain.filter((x, i) => i % 37 === 0 || (x - c.lo) % pow2(m) === 0n || (x - c.lo + 1n) % pow2(m) === 0n).slice(0, 40);

    it('out = rescale(evalPoly(p, x), shift) for every x of [lo, lo + 2^B); the model matches', async () => {
      // The fit's own coefficients are in range: the honest witness exists everywhere.
      for (const x of domain) {
        for (const t of [t1, t2]) await t.expectPass({ in: x }, { out: ref(x) });
      }
      for (const x of sample) for (const t of [t1, t2]) await expectModel(t, { in: x }, piecewiseSignals(c, x));
    }, 30_000);

    it('rejects inputs outside [lo, lo + 2^B)', async () => {
      for (const t of [t1, t2]) {
        for (const x of [c.lo - 1n, c.lo + pow2(c.B), c.lo - pow2(c.B), c.lo + pow2(c.B + 20), -P / 4n]) {
          expect(await t.expectFail({ in: x })).toMatch(/Assert Failed|fails/);
        }
      }
    });

    it('every other output fails, with the Rescale\'s bits consistent with it', async () => {
      // The bits of x − lo are fixed by booleanity and their sum; the selector products, powers
      // and terms by their constraints; so the accumulated value is fixed, and the quotient of
      // its Rescale is the prover's only choice.
      for (const x of sample) {
        const q = ref(x);
        const qs = [q - 3n, q - 2n, q - 1n, q, q + 1n, q + 2n, q + 3n, -pow2(c.bo), pow2(c.bo) - 1n];
        for (const t of [t1, t2]) await expectOnlyHonest(t, { in: x }, qs.map((q2) => piecewiseSignals(c, x, { q: q2 })), true);
      }
    });

    it('a cheating prover is caught: out ± 1, non-boolean bits across the t/segment boundary, forged products, powers and terms', async () => {
      for (const x of sample.slice(0, 12)) {
        for (const t of [t1, t2]) {
          await t.expectConstraintFailure({ in: x }, { out: ref(x) + 1n });
          await t.expectConstraintFailure({ in: x }, { out: ref(x) - 1n });
        }
      }
      const u = (x: bigint): bigint => x - c.lo;
      // Bits [.., 0 at i, 1 at i + 1, ..] → [2, 0]: the sum is kept, but the prover now evaluates
      // another digit split: for i = m − 1, segment seg − 1's polynomial at t + 2^m. Everything
      // downstream is made consistent; only the booleanity of bits[i] is left to catch it.
      let onlyBooleanity = 0;
      let otherOutput = 0;
      for (let i = 0; i + 1 < c.B; i++) {
        const fits = domain.filter((v) => ((u(v) >> BigInt(i)) & 3n) === 2n);
        const x = fits[Math.floor(fits.length / 2)]!;
        const bits = bitsOf(u(x), c.B);
        bits[i] = 2n;
        bits[i + 1] = 0n;
        const forged = piecewiseSignals(c, x, { bits });
        const acc = forged['r.in']!;
        const res = await t1.check(assemble(t1, forged));
        expect(res.ok, `bits[${i}] = 2, bits[${i + 1}] = 0 at x = ${x}`).toBe(false);
        const q = rescale(acc, c.shift);
        if (q >= -pow2(c.bo) && q < pow2(c.bo) && !res.ok) {
          expect(res.message).toMatch(new RegExp(`signals: main\\.bits\\[${i}\\] = 2$`));
          expect(failingOf(t1, forged)).toEqual([res.constraint]);
          onlyBooleanity++;
          if (q !== ref(x)) otherOutput++;
        }
      }
      // Some of these forgeries satisfy every other constraint (the others overflow the
      // Rescale), and with segments some give another output.
      expect(onlyBooleanity).toBeGreaterThan(0);
      if (c.s > 0 && m > 0) expect(otherOutput).toBeGreaterThan(0);
      // Forged selector products (another segment switched on or off), powers and terms, with
      // every later signal following them: the forged signal's own constraint fails.
      const x = sample[Math.min(3, sample.length - 1)]!;
      const honest = piecewiseSignals(c, x);
      for (let np = 0; np < Math.max(0, 2 ** c.s - 2); np++) {
        for (const v of [1n - honest[`prod[${np}]`]!, 2n]) {
          const msg = await expectForgedFails(t1, piecewiseSignals(c, x, { prod: { [np]: v } }));
          expect(msg).toMatch(new RegExp(`main\\.prod\\[${np}\\] = `));
        }
      }
      // (with s = 0 the first Horner product C_deg·t is linear and circom substitutes it)
      for (let k = 0; k < hornerProducts(c); k++) {
        expect(await expectForgedFails(t1, piecewiseSignals(c, x, { hp: { [k]: honest[`hp[${k}]`]! + 1n } }))).toMatch(new RegExp(`main\\.hp\\[${k}\\] = `));
      }
    });

    it(`constraint count (--O2: B + max(0, 2^s − 2) + (deg, or deg − 1 when s = 0) + shift + bo + 1)`, () => {
      t2.expectConstraintCount(piecewiseCostO2(c));
      if (c.counts[1]) expect(c.counts[1]).toBe(piecewiseCostO2(c));
      if (c.counts[0]) t1.expectConstraintCount(c.counts[0]);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// ClampedPoly(W, B, s, drop, deg, shift, bo, lo, C, rk): PiecewisePoly of min(max(x, lo), lo + 2^B − 1);
// with rk ≥ 1 (lo = −2^(B−1)), ⌊x / 2^(rk−1)⌋·[x ≥ 0] minus it (GELU as relu(x) − h(x))

interface ClampedCase { name: string; W: number; B: number; s: number; drop: number; deg: number; shift: number; bo: number; lo: bigint; C: bigint[]; rk: number }

const CLAMPED: ClampedCase[] = (() => {
  const cases: ClampedCase[] = [
    // 2 segments of 8 offsets, the low offset bit dropped, linear; x − lo over [−64, 64)
    { name: 'cp_handmade', W: 6, B: 4, s: 1, drop: 1, deg: 1, shift: 2, bo: 9, lo: -10n, C: [40n, 7n, -90n, 30n], rk: 0 },
    // the same pieces as relu minus the polynomial: lo = −8, ⌊x / 4⌋ for x ≥ 0
    { name: 'cp_relu_handmade', W: 6, B: 4, s: 1, drop: 1, deg: 1, shift: 2, bo: 9, lo: -8n, C: [40n, 7n, -90n, 30n], rk: 3 },
    // k = 0 (the input already at the output's scale): relu(x) itself
    { name: 'cp_relu_k0', W: 6, B: 4, s: 1, drop: 1, deg: 1, shift: 2, bo: 9, lo: -8n, C: [40n, 7n, -90n, 30n], rk: 1 },
  ];
  // the quantizer's own fit: tanh on [−4, 4) at input scale 2^4, output scale 2^6, inputs to ±16
  const fit = fitPiecewise({ f: Math.tanh, lo: -64n, domainBits: 7, inScale: 4, outScale: 6, tolerance: 0.02, allowDrop: true });
  const p = fit.poly;
  cases.push({ name: 'cp_tanh', W: 8, B: 7, s: p.segBits, drop: p.dropBits ?? 0, deg: p.degree, shift: p.polyScale - 6, bo: outBits(fit.outLo, fit.outHi), lo: -64n, C: p.coef, rk: 0 });
  // GELU's h (|x|·Φ(−|x|), the floor's half step off at x ≥ 0) on [−4, 4) at input scale 2^6, output 2^4
  const h = (x: number) => 0.5 * Math.abs(x) * (1 - Math.tanh(Math.sqrt(2 / Math.PI) * (Math.abs(x) + 0.044715 * Math.abs(x) ** 3))) - (x >= 0 ? 2 ** -5 : 0);
  const g = fitPiecewise({ f: h, lo: -256n, domainBits: 9, inScale: 6, outScale: 4, tolerance: 0.05, allowDrop: true });
  cases.push({ name: 'cp_relu_gelu', W: 10, B: 9, s: g.poly.segBits, drop: g.poly.dropBits ?? 0, deg: g.poly.degree, shift: g.poly.polyScale - 4, bo: outBits(g.outLo, g.outHi), lo: -256n, C: g.poly.coef, rk: 3 });
  return cases;
})();

/**
 * ClampedPoly's signals from the decomposition of x − lo + 2^W, with nz (and inv) as given where
 * forged; above, the clamped bits and everything after them follow (PiecewisePoly's model on cb).
 */
function clampedSignals(c: ClampedCase, x: bigint, forge: { nz?: bigint; inv?: bigint } = {}): Assignment {
  const bits = bitsOf(x - c.lo + pow2(c.W), c.W + 1);
  const high = bits.slice(c.B, c.W).reduce((sum, b) => sum + b, 0n);
  const nz = forge.nz ?? (high !== 0n ? 1n : 0n);
  const inv = forge.inv ?? (high !== 0n ? modPow(high, P - 2n, P) : 0n);
  const above = nz * bits[c.W]!;
  const keep = bits[c.W]! - above;
  const cb = bits.slice(0, c.B).map((b) => keep * b + above); // the clamped offset's bits
  const poly = piecewiseSignals({ name: c.name, B: c.B, s: c.s, drop: c.drop, deg: c.deg, shift: c.shift, bo: c.bo, lo: 0n, C: c.C, counts: [0, 0] }, 0n, { bits: cb });
  const a: Assignment = { in: x, inv, nz, above };
  for (const [k, v] of Object.entries(poly)) if (k !== 'in' && !k.startsWith('bits[')) a[k] = v;
  bits.forEach((b, i) => (a[`bits[${i}]`] = b));
  const m = c.B - c.s;
  for (let j = 0; j < Math.max(1, c.s); j++) a[`sb[${j}]`] = j < c.s ? cb[m + j]! : 0n;
  a.tk = keep * bits.slice(c.drop, m).reduce((sum, b, i) => sum + b * pow2(i), 0n);
  if (c.rk > 0) {
    // x ≥ 0 from the bits (above, or kept with bit B−1), ⌊x / 2^k⌋ from bits [k, W]
    const k = c.rk - 1;
    a.kb = keep * bits[c.B - 1]!;
    const fl = bits.slice(k).reduce((sum, b, i) => sum + b * pow2(i), 0n) - pow2(c.W - k) - pow2(c.B - 1 - k);
    a.relu = (above + a.kb) * fl;
    a.out = a.relu - a.out!;
  }
  return a;
}

for (const c of CLAMPED) {
  describe(`ClampedPoly(${c.W}, ${c.B}, ${c.s}, ${c.drop}, ${c.deg}, ${c.shift}, ${c.bo}, ${c.lo}, C, ${c.rk}) ${c.name}`, () => {
    let t1: CircuitTester;
    let t2: CircuitTester;
    const coefs = c.C.map((v, i) => `    c[${i}] = ${v};`).join('\n');
    const source = `function coefs() {\n    var c[${c.C.length}];\n${coefs}\n    return c;\n}\ncomponent main = ClampedPoly(${c.W}, ${c.B}, ${c.s}, ${c.drop}, ${c.deg}, ${c.shift}, ${c.bo}, ${c.lo}, coefs(), ${c.rk});`;
    beforeAll(async () => {
      [t1, t2] = await build(c.name, source);
    }, BUILD_TIMEOUT);
    const p: QPoly = { lo: c.lo, segBits: c.s, lowBits: c.B - c.s, dropBits: c.drop, degree: c.deg, coef: c.C, polyScale: 0, maxError: 0 };
    const top = c.lo + pow2(c.B) - 1n;
    const clampX = (x: bigint) => (x < c.lo ? c.lo : x > top ? top : x);
    const relu = (x: bigint): bigint => (c.rk > 0 && x >= 0n ? floorDiv(x, pow2(c.rk - 1)) : 0n);
    const ref = (x: bigint): bigint => (c.rk > 0 ? relu(x) - rescale(evalPoly(p, clampX(x)), c.shift) : rescale(evalPoly(p, clampX(x)), c.shift));
    const domain = Array.from({ length: 2 ** (c.W + 1) }, (_, i) => c.lo - pow2(c.W) + BigInt(i));

    it('out = the polynomial at x clamped to [lo, lo + 2^B − 1] (rk ≥ 1: ⌊x / 2^k⌋·[x ≥ 0] minus it), for every x with x − lo ∈ [−2^W, 2^W)', async () => {
      for (const x of domain) for (const t of [t1, t2]) await t.expectPass({ in: x }, { out: ref(x) });
    }, 60_000);

    it('the model of its signals is the witness; a complete witness that flips the clamp fails', async () => {
      const xs = domain.filter((_, i) => i % 7 === 0);
      for (const x of xs) await expectModel(t1, { in: x }, clampedSignals(c, x));
      // claimed "not above the top" for an x above it (nz = 0: the polynomial at the wrapped
      // offset), and "above" for one inside (nz = 1), with every later signal consistent
      for (const x of xs) {
        const honest = clampedSignals(c, x);
        const forged = clampedSignals(c, x, { nz: 1n - honest.nz!, inv: honest.nz === 1n ? 0n : 1n });
        const msg = await expectForgedFails(t1, forged);
        expect(msg).toMatch(/main\.(nz|inv|bits\[\d+\]|above|cb\[\d+\])|fails/);
      }
    });

    it('rejects inputs whose offset leaves [−2^W, 2^W)', async () => {
      for (const t of [t1, t2]) {
        for (const x of [c.lo - pow2(c.W) - 1n, c.lo + pow2(c.W), c.lo + pow2(c.W + 5), -P / 4n]) {
          expect(await t.expectFail({ in: x })).toMatch(/Assert Failed|fails/);
        }
      }
    });

    it('a cheating prover is caught: out ± 1, a flipped clamp flag (nz, above), a flipped clamped bit, a forged inverse', async () => {
      // below lo, inside, at the top, above the top: every branch of the clamp
      const xs = [c.lo - 5n, c.lo, c.lo + 3n, top, top + 1n, top + 9n].filter((x) => domain.includes(x));
      for (const x of xs) {
        const above = x > top;
        const inside = x >= c.lo && !above;
        for (const t of [t1, t2]) {
          await t.expectConstraintFailure({ in: x }, { out: ref(x) + 1n });
          await t.expectConstraintFailure({ in: x }, { out: ref(x) - 1n });
          await t.expectConstraintFailure({ in: x }, { above: above ? 0n : 1n });
          await t.expectConstraintFailure({ in: x }, { tk: clampedSignals(c, x).tk! + 1n });
        }
        // nz = [some bit of x − lo + 2^W in [B, W) is set], claimed the other way
        const nz = ((x - c.lo + pow2(c.W)) >> BigInt(c.B)) % pow2(c.W - c.B) !== 0n ? 1n : 0n;
        await t1.expectConstraintFailure({ in: x }, { nz: 1n - nz });
        // sb[0] is the clamped offset's bit m = B − s: flipped
        if (inside && c.s > 0) await t1.expectConstraintFailure({ in: x }, { 'sb[0]': 1n - ((clampX(x) - c.lo) >> BigInt(c.B - c.s) & 1n) });
        if (above) await t1.expectConstraintFailure({ in: x }, { inv: 5n });
      }
    });

    if (c.rk > 0) {
      it('relu mode: a complete witness with another ReLU part fails (the sign claimed the other way, ⌊x / 2^k⌋ ± 1), for every x', async () => {
        const k = c.rk - 1;
        for (const x of domain.filter((_, i) => i % 3 === 0)) {
          const honest = clampedSignals(c, x);
          const fl = floorDiv(x, pow2(k));
          for (const r of new Set([0n, fl, fl + 1n, fl - 1n, honest.relu! + 1n])) {
            if (r === honest.relu) continue;
            // the ReLU part r, its product and the output consistent with it; kb as the honest one, then flipped
            for (const kb of [honest.kb!, 1n - honest.kb!]) {
              await expectForgedFails(t1, { ...honest, kb, relu: r, out: honest.out! - honest.relu! + r });
            }
          }
        }
      }, 60_000);
    }

    it('constraint count: (W + 1) + 3 + s + 1 + selector + Horner + Rescale (+ 2 in relu mode)', () => {
      t2.expectConstraintCount(c.W + 1 + 3 + c.s + 1 + Math.max(0, 2 ** c.s - 2) + hornerProducts(c) + c.shift + c.bo + 1 + (c.rk > 0 ? 2 : 0));
    });
  });
}

function failingOf(t: CircuitTester, values: Assignment): number[] {
  const w = assemble(t, values);
  const p = t.r1cs.header.prime;
  const ev = (lc: Map<number, bigint>): bigint => [...lc.entries()].reduce((s, [i, c]) => (s + c * w[i]!) % p, 0n);
  return t.r1cs.constraints.flatMap(({ a, b, c }, i) => ((ev(a) * ev(b)) % p === ev(c) ? [] : [i]));
}

describe('PiecewisePoly parameter limits', () => {
  it('refuses s > 8 at compile time (the selector is built in var arrays of 256)', async () => {
    const c: PiecewiseCase = { name: 'pp_refused', B: 9, s: 9, drop: 0, deg: 0, shift: 0, bo: 4, lo: 0n, C: Array.from({ length: 512 }, () => 1n), counts: [0, 0] };
    const err = await CircuitTester.fromSource(c.name, piecewiseSource(c), { ...INCLUDE, optimize: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkonnxError);
    expect((err as ZkonnxError).code).toBe('CIRCOM_FAILED');
    expect((err as ZkonnxError).message).toMatch(/Out of bounds/);
  });

  it('the sigmoid fit is within its measured error over the whole domain (the circuit is the executor)', async () => {
    const c = PIECEWISE.find((k) => k.name === 'pp_sigmoid')!;
    const t = await CircuitTester.fromSource(c.name, piecewiseSource(c), { ...INCLUDE, optimize: 2 });
    const fit = fitPiecewise({ f: (v) => 1 / (1 + Math.exp(-v)), lo: -128n, domainBits: 8, inScale: 4, outScale: 6, tolerance: 0.02 });
    expect(fit.poly.maxError).toBeLessThanOrEqual(0.02);
    for (let x = -128n; x < 128n; x += 5n) {
      const w = await t.expectPass({ in: x });
      const err = Math.abs(Number(t.read(w, 'out')) / 64 - 1 / (1 + Math.exp(-Number(x) / 16)));
      expect(err).toBeLessThanOrEqual(fit.poly.maxError + 1e-12);
    }
  });
});
