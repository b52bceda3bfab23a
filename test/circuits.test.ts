/**
 * Soundness tests of circuits/zkonnx.circom against real circom output and real R1CS checks.
 *
 * Each template is compiled at --O1 (every signal keeps a wire, so a cheating prover can edit
 * any of them) and at --O2 (what compileCircom produces by default: circom substitutes linear
 * constraints away, so some signals have no wire and are implied by the others).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// snarkjs serves as the independent reference checker here.
import * as snarkjs from 'snarkjs';
import { compileCircom } from '../src/circom/compile.js';
import { BN254_R, checkConstraints, readR1csHeader } from '../src/circom/r1cs.js';
import { calculateWitness, readWtns, writeWtns } from '../src/circom/witness.js';
import { ZkonnxError } from '../src/errors.js';
import { External, rangeCheck } from '../src/compiler/gadgets.js';
import { System } from '../src/compiler/system.js';
import { CircuitTester } from './helpers/circuit-tester.js';
import { rng } from '../src/random.js';

const INCLUDE = { include: 'circuits/zkonnx.circom' };

// ---------------------------------------------------------------------------------------------
// BigInt references and a seeded generator (failures must be reproducible).

const pow2 = (e: number): bigint => 1n << BigInt(e);

function floorDiv(a: bigint, d: bigint): bigint {
  const q = a / d; // truncates toward zero
  return a % d !== 0n && a < 0n ? q - 1n : q;
}

/** out of Rescale(k, b, relu): floor((in + 2^(k-1)) / 2^k), i.e. in / 2^k rounded half up. */
function rescaleRef(x: bigint, k: number, relu: boolean): bigint {
  const half = k > 0 ? pow2(k - 1) : 0n;
  const q = floorDiv(x + half, pow2(k));
  return relu && q < 0n ? 0n : q;
}

/** The inputs Rescale(k, b, ·) accepts: the quotient lies in [-2^b, 2^b). */
function rescaleDomain(k: number, b: number): { lo: bigint; hi: bigint } {
  const half = k > 0 ? pow2(k - 1) : 0n;
  return { lo: -pow2(b + k) - half, hi: pow2(b + k) - half }; // hi exclusive
}


/** Uniform-ish bigint in [lo, hi). */
function randBig(rand: () => number, lo: bigint, hi: bigint): bigint {
  const span = hi - lo;
  let x = 0n;
  for (let bits = 0; bits < span.toString(2).length + 32; bits += 32) x = (x << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
  return lo + (x % span);
}

function bitsOf(x: bigint, n: number): bigint[] {
  return Array.from({ length: n }, (_, i) => (x >> BigInt(i)) & 1n);
}

// ---------------------------------------------------------------------------------------------
// RangeCheck(n, lo)

describe('RangeCheck(n, lo)', () => {
  const cases: Array<[number, bigint]> = [
    [8, -5n],
    [1, 7n],
    [16, -(2n ** 15n)],
    [64, 3n],
  ];

  for (const [n, lo] of cases) {
    const hi = lo + pow2(n); // exclusive
    describe(`RangeCheck(${n}, ${lo})`, () => {
      let t1: CircuitTester;
      let t2: CircuitTester;
      beforeAll(async () => {
        [t1, t2] = await Promise.all([
          CircuitTester.fromSource(`range_${n}`, `component main = RangeCheck(${n}, ${lo});`, { ...INCLUDE, optimize: 1 }),
          CircuitTester.fromSource(`range_${n}`, `component main = RangeCheck(${n}, ${lo});`, { ...INCLUDE, optimize: 2 }),
        ]);
      });

      it('accepts both ends of [lo, lo + 2^n) and values between', async () => {
        const rand = rng(n);
        const values = [lo, lo + 1n, hi - 2n, hi - 1n, ...Array.from({ length: 20 }, () => randBig(rand, lo, hi))].filter((v) => v >= lo && v < hi);
        for (const t of [t1, t2]) for (const v of values) await t.expectPass({ in: v });
      });

      it('rejects lo - 1, lo + 2^n and far-away values', async () => {
        for (const t of [t1, t2]) {
          for (const v of [lo - 1n, hi, hi + 1n, lo - pow2(n + 3), hi + pow2(n + 40), BN254_R / 2n]) {
            expect(await t.expectFail({ in: v })).toMatch(/Assert Failed|fails/);
          }
        }
      });

      it('our witness mode (compiler/system.ts) has the bits circom computes, and refuses what the template refuses', async () => {
        // RangeCheck as main in our System: in is label 1, bits[i] label 2 + i
        const ours = (v: bigint) => {
          const sys = new System('witness');
          rangeCheck(sys.root(), 'main', n, lo, new External(v));
          return Array.from({ length: n }, (_, i) => sys.value(2 + i));
        };
        const rand = rng(n + 1);
        for (const v of [lo, lo + 1n, hi - 2n, hi - 1n, ...Array.from({ length: 8 }, () => randBig(rand, lo, hi))].filter((x) => x >= lo && x < hi)) {
          const w = await t1.witness({ in: v });
          expect(ours(v), `in = ${v}`).toEqual(Array.from({ length: n }, (_, i) => t1.read(w, `bits[${i}]`)));
        }
        for (const v of [lo - 1n, hi, hi + 1n, lo - pow2(n + 3), hi + pow2(n + 40)]) {
          expect(() => ours(v), `in = ${v}`).toThrow(expect.objectContaining({ code: 'WITNESS_MISMATCH' }));
        }
      });

      it('rejects a tampered bit and a non-boolean bit with a compensating value', async () => {
        // A value whose bits 0 and 1 are [0, 1], so that bits = [2, 0, ...] keeps the sum.
        const v = n > 1 ? lo + 2n : lo + 1n;
        const w = await t1.witness({ in: v });
        if (n > 1) expect([t1.read(w, 'bits[0]'), t1.read(w, 'bits[1]')]).toEqual([0n, 1n]);
        // Flipping any bit breaks the sum.
        for (const i of new Set([0, n - 1])) {
          await t1.expectConstraintFailure({ in: v }, { [`bits[${i}]`]: 1n - t1.read(w, `bits[${i}]`) });
        }
        if (n > 1) {
          const r = await t1.expectConstraintFailure({ in: v }, { 'bits[0]': 2n, 'bits[1]': 0n });
          // The sum still holds; only the booleanity of bits[0] catches it.
          expect(r.message).toMatch(/signals: main\.bits\[0\] = 2$/);
          expect(r.failing).toEqual([r.constraint]);
          // At O2 the top bit has no wire; the lower ones do and must still be boolean.
          await t2.expectConstraintFailure({ in: v }, { 'bits[0]': 2n, 'bits[1]': 0n });
        }
      });

      it('has n + 1 constraints at O1 and n at O2', () => {
        // O1: n booleanity constraints + the linear sum. O2 substitutes the sum into the top
        // bit (bits[n-1] loses its wire), leaving n quadratic constraints.
        t1.expectConstraintCount(n + 1);
        t2.expectConstraintCount(n);
        expect(t2.symbols.get(`main.bits[${n - 1}]`)).toBe(-1);
      });
    });
  }

  it('exhaustively: for RangeCheck(3, -2) only honest bits satisfy, and only in [-2, 6)', async () => {
    for (const optimize of [1, 2] as const) {
      const t = await CircuitTester.fromSource('range_small', 'component main = RangeCheck(3, -2);', { ...INCLUDE, optimize });
      const bitWires = [0, 1, 2].map((i) => t.symbols.get(`main.bits[${i}]`)!).filter((i) => i >= 0);
      for (let v = -8n; v < 12n; v++) {
        const solutions: bigint[][] = [];
        for (let mask = 0; mask < 1 << bitWires.length; mask++) {
          const w = new Array<bigint>(t.r1cs.header.nWires).fill(0n);
          w[0] = 1n;
          w[t.index('in')] = (v + BN254_R) % BN254_R;
          bitWires.forEach((wire, j) => (w[wire] = BigInt((mask >> j) & 1)));
          if ((await t.check(w)).ok) solutions.push(bitWires.map((wire) => w[wire]!));
        }
        if (v >= -2n && v < 6n) expect(solutions, `in = ${v}, O${optimize}`).toEqual([bitsOf(v + 2n, 3).slice(0, bitWires.length)]);
        else expect(solutions, `in = ${v}, O${optimize}`).toEqual([]);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Rescale(k, b, relu)

const RESCALE: Array<[k: number, b: number]> = [
  [0, 4],
  [1, 3],
  [3, 4],
  [8, 8],
  [16, 20],
  [32, 200], // b + k + 1 = 233 bits: close to the field, still |in| + 2^(b+k+1) < p/2
];

for (const relu of [0, 1] as const) {
  for (const [k, b] of RESCALE) {
    describe(`Rescale(${k}, ${b}, ${relu})`, () => {
      const main = `component main = Rescale(${k}, ${b}, ${relu});`;
      const name = `rescale_${k}_${b}_${relu}`;
      const { lo, hi } = rescaleDomain(k, b);
      const half = k > 0 ? pow2(k - 1) : 0n;
      const ref = (x: bigint): bigint => rescaleRef(x, k, relu === 1);
      let t1: CircuitTester;
      let t2: CircuitTester;
      beforeAll(async () => {
        [t1, t2] = await Promise.all([
          CircuitTester.fromSource(name, main, { ...INCLUDE, optimize: 1 }),
          CircuitTester.fromSource(name, main, { ...INCLUDE, optimize: 2 }),
        ]);
      });

      it('out = floor((in + 2^(k-1)) / 2^k) on edges, exact halves and random inputs', async () => {
        const rand = rng(1000 * k + b + 7 * relu);
        const values: bigint[] = [lo, lo + 1n, hi - 1n, hi - 2n, 0n, 1n, -1n, half, -half, half - 1n, -half - 1n];
        // Exact halves (2^(k-1) · odd) pin rounding half up: 2.5 → 3, -2.5 → -2, -0.5 → 0.
        if (k > 0) for (const m of [1n, -1n, 3n, -3n, 5n, -5n, 2n * pow2(b) - 1n, -2n * pow2(b) + 1n]) values.push(m * half);
        // Neighbours of multiples of 2^k and random values: near the edges, and anywhere.
        for (const j of [1n, -1n, 2n, -2n, pow2(b) - 1n, -pow2(b)]) values.push(j * pow2(k) - 1n, j * pow2(k), j * pow2(k) + 1n);
        for (let i = 0; i < 30; i++) values.push(randBig(rand, lo, hi));
        for (let i = 0; i < 5; i++) values.push(randBig(rand, lo, lo + pow2(k + 1)), randBig(rand, hi - pow2(k + 1), hi));
        const inRange = values.filter((v) => v >= lo && v < hi);
        expect(inRange.length).toBeGreaterThan(40);
        for (const t of [t1, t2]) for (const v of inRange) await t.expectPass({ in: v }, { out: ref(v) });
      });

      it('rejects inputs whose quotient is outside [-2^b, 2^b)', async () => {
        const far = pow2(b + k + 10);
        for (const t of [t1, t2]) {
          for (const v of [lo - 1n, hi, hi + 1n, lo - pow2(k), hi + pow2(k) * 3n, far, -far]) {
            expect(await t.expectFail({ in: v })).toMatch(/Assert Failed|fails/);
          }
        }
      });

      describe('a cheating prover is caught', () => {
        // Inputs away from the edges, so q ± 1 stays inside the range and only the
        // constraints (not the range) stop the cheat. One positive, one negative quotient.
        const samples = [pow2(k) * (pow2(b) / 2n) + (k > 0 ? 1n : 0n), -pow2(k) * (pow2(b) / 2n + 1n) + (k > 1 ? 3n : 0n)];

        it('out off by one', async () => {
          for (const x of samples) {
            for (const t of [t1, t2]) {
              await t.expectConstraintFailure({ in: x }, { out: ref(x) + 1n });
              await t.expectConstraintFailure({ in: x }, { out: ref(x) - 1n });
            }
          }
        });

        it('another quotient: q + 1 with remainder − 2^k (and q − 1 with remainder + 2^k)', async () => {
          for (const x of samples) {
            const w = await t1.witness({ in: x });
            const u = floorDiv(x + half, pow2(k)) + pow2(b); // the honest u, as a number
            expect(bitsOf(u, b + 1)).toEqual(Array.from({ length: b + 1 }, (_, i) => t1.read(w, `u[${i}]`)));
            const up: Record<string, bigint> = { out: rescaleRef(x + pow2(k), k, relu === 1) };
            const down: Record<string, bigint> = { out: rescaleRef(x - pow2(k), k, relu === 1) };
            bitsOf(u + 1n, b + 1).forEach((bit, i) => (up[`u[${i}]`] = bit));
            bitsOf(u - 1n, b + 1).forEach((bit, i) => (down[`u[${i}]`] = bit));
            if (k === 0) {
              // No remainder to absorb the change: the linear equation itself breaks.
              await t1.expectConstraintFailure({ in: x }, up);
              await t1.expectConstraintFailure({ in: x }, down);
              continue;
            }
            // Keep u·2^k + r = in + … satisfied: r must fall by 2^k (rise by 2^k). With boolean
            // r[i] that is impossible (0 ≤ r < 2^k), so the change lands in one bit, which then
            // is not boolean — the booleanity constraint of that bit is what fails.
            up['r[0]'] = t1.read(w, 'r[0]') - pow2(k);
            down[`r[${k - 1}]`] = t1.read(w, `r[${k - 1}]`) + 2n;
            // Exactly one constraint fails: the linear equation and out's constraint still hold.
            const r1 = await t1.expectConstraintFailure({ in: x }, up);
            expect(r1.message).toMatch(/signals: main\.r\[0\] = -?\d+$/);
            expect(r1.failing).toEqual([r1.constraint]);
            const r2 = await t1.expectConstraintFailure({ in: x }, down);
            expect(r2.message).toMatch(new RegExp(`signals: main\\.r\\[${k - 1}\\] = [23]$`));
            expect(r2.failing).toEqual([r2.constraint]);
          }
        });

        it('a flipped sign bit u[b]', async () => {
          for (const x of samples) {
            const w = await t1.witness({ in: x });
            const flipped = 1n - t1.read(w, `u[${b}]`);
            await t1.expectConstraintFailure({ in: x }, { [`u[${b}]`]: flipped });
            // Also with out recomputed from the flipped bit: the linear equation is off by 2^(b+k),
            // more than all lower bits together can make up.
            const lcu = floorDiv(x + half, pow2(k)) + pow2(b) + (flipped === 1n ? pow2(b) : -pow2(b));
            const out = relu === 1 ? flipped * (lcu - flipped * pow2(b)) : lcu - pow2(b);
            await t1.expectConstraintFailure({ in: x }, { [`u[${b}]`]: flipped, out });
          }
        });

        if (relu === 1) {
          it('out = q instead of 0 when q < 0', async () => {
            const x = samples[1]!;
            const q = floorDiv(x + half, pow2(k));
            expect(q).toBeLessThan(0n);
            for (const t of [t1, t2]) {
              const r = await t.expectConstraintFailure({ in: x }, { out: q });
              expect(r.message).toMatch(/main\.out = -\d+/);
            }
          });
        }

        it('a non-boolean bit with a compensating value (r[0] = 2, r[1] = 0; u[0] = 2, u[1] = 0)', async () => {
          // Pick inputs whose honest bits are [0, 1] in the low positions so the sum is unchanged.
          if (k >= 2) {
            const x = pow2(k) * 5n + 2n - half; // in + half = 5·2^k + 2: r = 2 → r[0] = 0, r[1] = 1
            const w = await t1.witness({ in: x });
            expect([t1.read(w, 'r[0]'), t1.read(w, 'r[1]')]).toEqual([0n, 1n]);
            const r = await t1.expectConstraintFailure({ in: x }, { 'r[0]': 2n, 'r[1]': 0n });
            expect(r.message).toMatch(/signals: main\.r\[0\] = 2$/);
            expect(r.failing).toEqual([r.constraint]); // the sum holds; only booleanity catches it
            if (k >= 3) await t2.expectConstraintFailure({ in: x }, { 'r[0]': 2n, 'r[1]': 0n }); // both keep wires at O2
            // Or with a "negative bit": r[0] = 4, r[1] = −1 also sums to 4 − 2 = 2.
            await t1.expectConstraintFailure({ in: x }, { 'r[0]': 4n, 'r[1]': -1n });
          }
          if (b >= 1) {
            const x = pow2(k) * 2n - half; // q = 2 → u = 2^b + 2: u[0] = 0, u[1] = 1
            const w = await t1.witness({ in: x });
            expect([t1.read(w, 'u[0]'), t1.read(w, 'u[1]')]).toEqual([0n, 1n]);
            const r = await t1.expectConstraintFailure({ in: x }, { 'u[0]': 2n, 'u[1]': 0n });
            expect(r.message).toMatch(/signals: main\.u\[0\] = 2$/);
            expect(r.failing).toEqual([r.constraint]);
            // A field fraction: u[0] = 1, u[1] = 1/2 keeps 1 + 2·(1/2) = 2, but 1/2 · (1/2 − 1) ≠ 0.
            const inv2 = (BN254_R + 1n) / 2n;
            const f = await t1.expectConstraintFailure({ in: x }, { 'u[0]': 1n, 'u[1]': inv2 });
            expect(f.message).toMatch(/signals: main\.u\[1\] = /);
            expect(f.failing).toEqual([f.constraint]);
          }
        });
      });

      it('constraint count: b + k + 3 at O1; at O2 b + k + 2 (relu = 1) or b + k + 1 (relu = 0)', () => {
        // O1: k + b + 1 booleanity + 1 linear equation + 1 for out (quadratic for relu = 1,
        // linear for relu = 0). O2 substitutes the linear ones away: the equation into the
        // sign bit u[b], and for relu = 0 also out = lcu − 2^b (into r[k-1]; for k = 0 into the
        // input itself, since then out = in: main.in has no wire at O2).
        t1.expectConstraintCount(b + k + 3);
        t2.expectConstraintCount(relu === 1 ? b + k + 2 : b + k + 1);
        expect(t2.symbols.get(`main.u[${b}]`)).toBe(-1);
      });
    });
  }
}

describe('Rescale exhaustively (k = 2, b = 2)', () => {
  // For every in, every boolean assignment of the remaining bit wires and every out in a range
  // that covers all values out can take: exactly one witness satisfies the R1CS when the
  // quotient is in range (the honest one), none otherwise. Booleanity constraints x(x − 1) = 0
  // have only the roots 0 and 1 in a field, and out is fixed by the bits, so this search covers
  // every possible witness for these inputs.
  for (const relu of [0, 1] as const) {
    for (const optimize of [1, 2] as const) {
      it(`relu = ${relu}, O${optimize}`, async () => {
        const t = await CircuitTester.fromSource(`rescale_2_2_${relu}`, `component main = Rescale(2, 2, ${relu});`, { ...INCLUDE, optimize });
        const { lo, hi } = rescaleDomain(2, 2);
        const bitWires = [...t.symbols.entries()].filter(([n, i]) => /^main\.[ru]\[\d+\]$/.test(n) && i >= 0).map(([, i]) => i);
        const outWire = t.index('out');
        const fe = (x: bigint): bigint => ((x % BN254_R) + BN254_R) % BN254_R;
        for (let x = lo - 6n; x < hi + 6n; x++) {
          const solutions: Array<{ out: bigint; bits: bigint[] }> = [];
          for (let mask = 0; mask < 1 << bitWires.length; mask++) {
            for (let out = -6n; out <= 6n; out++) {
              const w = new Array<bigint>(t.r1cs.header.nWires).fill(0n);
              w[0] = 1n;
              w[t.index('in')] = fe(x);
              w[outWire] = fe(out);
              bitWires.forEach((wire, j) => (w[wire] = BigInt((mask >> j) & 1)));
              if ((await t.check(w)).ok) solutions.push({ out, bits: bitWires.map((wire) => w[wire]!) });
            }
          }
          if (x >= lo && x < hi) {
            const honest = await t.witness({ in: x });
            expect(solutions, `in = ${x}`).toEqual([{ out: rescaleRef(x, 2, relu === 1), bits: bitWires.map((wire) => honest[wire]!) }]);
          } else {
            expect(solutions, `in = ${x}`).toEqual([]);
          }
        }
      });
    }
  }
});

describe('Rescale parameter precondition b + k + 1 ≤ 252 (asserted by the template)', () => {
  // Soundness needs u·2^k + r < 2^(b+k+1) < p, so that L = in + 2^(k-1) + 2^(b+k) has one
  // representative below 2^(b+k+1). Without the template's assert, a caller asking for
  // b + k + 1 ≥ 254 would get a circuit where L + p is a second decomposition.
  /** Edits that replace the honest decomposition of L = 5 by that of 5 + p. */
  async function cheat(k: number, b: number): Promise<{ t: CircuitTester; x: bigint; edits: Record<string, bigint>; fits: boolean }> {
    const t = await CircuitTester.fromSource(`rescale_wrap_${k}_${b}`, `component main = Rescale(${k}, ${b}, 1);`, { ...INCLUDE, optimize: 1 });
    const half = k > 0 ? pow2(k - 1) : 0n;
    const x = 5n - pow2(b + k) - half; // honest: L = 5, u = 5 >> k, q < 0, out = 0
    const L = 5n + BN254_R;
    const u = L >> BigInt(k);
    const edits: Record<string, bigint> = {};
    bitsOf(u, b + 1).forEach((bit, i) => (edits[`u[${i}]`] = bit));
    bitsOf(L & (pow2(k) - 1n), k).forEach((bit, i) => (edits[`r[${i}]`] = bit));
    const sign = edits[`u[${b}]`]!;
    edits.out = (((sign * (u - sign * pow2(b))) % BN254_R) + BN254_R) % BN254_R;
    return { t, x, edits, fits: L < pow2(b + k + 1) };
  }

  it('at b + k + 1 = 252, the largest size the template admits, a field-shifted decomposition fails', async () => {
    const { t, x, edits, fits } = await cheat(0, 251);
    expect(fits).toBe(false); // 5 + p needs more bits than the circuit has
    await t.expectPass({ in: x }, { out: 0 });
    await t.expectConstraintFailure({ in: x }, edits);
  });

  it('refuses parameters past the field bound at compile time (b + k + 1 = 254 would admit a second output)', async () => {
    for (const [k, b, relu] of [[0, 252, 1], [0, 253, 1], [1, 252, 1], [3, 4, 2]] as const) {
      const err = await CircuitTester.fromSource(`rescale_refused_${k}_${b}_${relu}`, `component main = Rescale(${k}, ${b}, ${relu});`, { ...INCLUDE, optimize: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZkonnxError);
      expect((err as ZkonnxError).code).toBe('CIRCOM_FAILED');
    }
    const err = await CircuitTester.fromSource('rangecheck_refused', 'component main = RangeCheck(253, 0);', { ...INCLUDE, optimize: 1 }).catch((e: unknown) => e);
    expect((err as ZkonnxError).code).toBe('CIRCOM_FAILED');
   }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// The tooling itself: compile errors, witness errors, and agreement with snarkjs.

describe('src/circom tooling', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zkonnx-circom-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } | null }).curve_bn128?.terminate();
  });

  it('.wtns values at the edges of their fast paths (small, p − small, the rest) read back as written', async () => {
    const S = BigInt(Number.MAX_SAFE_INTEGER);
    const edges = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, S - 1n, S, S + 1n, 2n ** 64n, 2n ** 200n + 5n];
    const values = [...edges, ...edges.map((x) => BN254_R - 1n - x)];
    const r = rng(7);
    for (let i = 0; i < 50; i++) values.push(Array.from({ length: 8 }, () => BigInt(Math.floor(r() * 2 ** 32))).reduce((a, w) => (a << 32n) | w) % BN254_R);
    const file = join(dir, 'edges.wtns');
    await writeWtns(file, values);
    expect(await readWtns(file)).toEqual(values);
    await expect(writeWtns(file, [BN254_R])).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('reports circom errors as CIRCOM_FAILED with the file and the error text, without colours', async () => {
    const file = join(dir, 'broken.circom');
    await writeFile(file, 'pragma circom 2.1.6;\ntemplate T() { signal input a; signal output b; b <== a * undefinedSignal; }\ncomponent main = T();\n');
    const err = await compileCircom({ circuitPath: file, outDir: join(dir, 'broken') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkonnxError);
    const ze = err as ZkonnxError;
    expect(ze.code).toBe('CIRCOM_FAILED');
    expect(ze.message).toContain(file);
    expect(ze.message).toMatch(/error\[\w+\]/);
    expect(ze.message).toContain('undefinedSignal');
    expect(ze.message).not.toContain('\x1b');
  });

  it('explains a circom stack overflow on one long expression', async () => {
    // circom-wasm's stack is fixed at 1 MB in its linear memory: 600 terms overflow it.
    const terms = Array.from({ length: 600 }, (_, i) => `in[${i}] * ${i + 3}`).join(' + ');
    const file = join(dir, 'long.circom');
    await writeFile(file, `pragma circom 2.1.6;\ntemplate T() { signal input in[600]; signal output out; out <== ${terms}; }\ncomponent main = T();\n`);
    const err = (await compileCircom({ circuitPath: file, outDir: join(dir, 'long') }).catch((e: unknown) => e)) as ZkonnxError;
    expect(err.code).toBe('CIRCOM_FAILED');
    expect(err.hint).toMatch(/stack/);
  });

  it('counts come from the r1cs header; witness errors are typed; .wtns agrees with snarkjs', async () => {
    const t = await CircuitTester.fromSource('rescale_3_4_1', 'component main = Rescale(3, 4, 1);', { ...INCLUDE, optimize: 1 });
    expect(t.compiled).toMatchObject({ constraints: 10, wires: 11, publicInputs: 0, publicOutputs: 1, privateInputs: 1, labels: 11 });
    const header = await readR1csHeader(t.compiled.r1csPath);
    expect(header.nConstraints).toBe(10);
    expect(header.prime).toBe(BN254_R); // circom's bn128 scalar field is the constant we use
    expect(t.symbols.get('main.u[4]')).toBe(10);

    await expect(calculateWitness(t.compiled.wasmPath, { nope: 1 })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(calculateWitness(t.compiled.wasmPath, { in: 1000 })).rejects.toMatchObject({ code: 'WITNESS_MISMATCH' });
    await expect(calculateWitness(t.compiled.wasmPath, { in: 0.5 })).rejects.toMatchObject({ code: 'INPUT_INVALID' });

    // Concurrent calls on one cached calculator do not mix their signals.
    const xs = Array.from({ length: 20 }, (_, i) => BigInt(i * 7 - 70));
    const ws = await Promise.all(xs.map((x) => calculateWitness(t.compiled.wasmPath, { in: x })));
    ws.forEach((w, i) => expect(t.read(w, 'out')).toBe(rescaleRef(xs[i]!, 3, true)));

    // Our witness equals snarkjs's, our .wtns is one snarkjs reads, and both checkers agree.
    const w = await t.witness({ in: -37 });
    const theirs = join(dir, 'theirs.wtns');
    await snarkjs.wtns.calculate({ in: -37 }, t.compiled.wasmPath, theirs);
    expect(await readWtns(theirs)).toEqual(w);
    const ours = join(dir, 'ours.wtns');
    await writeWtns(ours, w);
    const quiet = { info() {}, warn() {}, debug() {}, error() {} };
    expect(await snarkjs.wtns.check(t.compiled.r1csPath, ours, quiet)).toBe(true);
    const bad = t.edit(w, { out: 5n });
    await writeWtns(ours, bad);
    expect(await snarkjs.wtns.check(t.compiled.r1csPath, ours, quiet)).toBe(false);
    const res = await checkConstraints(t.compiled.r1csPath, bad, { symPath: t.compiled.symPath });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.message).toMatch(/^constraint #8 of 10 fails: .*; signals: main\.out = 5, main\.u\[0\] = /);
    expect(await checkConstraints(t.compiled.r1csPath, [0n, ...w.slice(1)])).toMatchObject({ ok: false, message: expect.stringMatching(/wire 0 must be 1/) });
  });
});
