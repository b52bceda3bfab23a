// The A and B evaluations of the QAP on the domain, and C = A∘B: for every coefficient
// (m, c, s, v) of the zkey's section 4, out_m[c] += v·w[s]. snarkjs (buildABC1) does this in a
// JavaScript loop with one wasm call and three buffer copies per coefficient, one thread; here the
// domain is cut into constraint ranges of about equal work, one 'abc' task per pool thread
// (cpu/worker-body.ts, cpu/wasm-qap.ts), at the quotient's priority: the quotient waits for them.
//
// A task must find its records without reading the whole section: zkeys list them by constraint
// (zkonnx's in one run, snarkjs's in a few: A's, B's, the public inputs'), so within each run of
// nondecreasing constraints a range's records are one span, found by binary search. The main
// thread scans the constraint numbers once per key (kept with the key for a prepared prover):
// the check c < domainSize, the counts per constraint for the cuts, the runs. The tasks check m
// and s. A key with many runs (no order) has every task scan the whole section instead.
import { ZkonnxError } from '../errors.js';
import { cpuPool, ownBytes, releaseShared, sharedBytes } from './cpu/pool.js';
import type { AbcTask } from './cpu/worker-body.js';
import type { Zkey } from './zkey.js';

/** u32 words per coefficient record: m, c, s and a 32-byte value. */
const WORDS = 11;
const REC = WORDS * 4;
/** Below this many coefficients one task beats the cost of splitting. */
const MIN_SPLIT = 1 << 12;
/** Runs of sorted records at most for spans; beyond, every task scans the whole section. */
const MAX_RUNS = 16;
/** Pool priority: the quotient (also CRITICAL, cpu/quotient.ts) waits for these tasks. */
const CRITICAL = 1;

export interface Evaluations {
  /** domainSize × 32 bytes each, Fr Montgomery. */
  a: Uint8Array;
  b: Uint8Array;
  c: Uint8Array;
}

/** What the main thread knows of a key's section 4 (cached per section array). */
interface Layout {
  /** the records, in a SharedArrayBuffer where there is one (tasks then read them without a copy) */
  coefs: Uint8Array;
  rec: Uint32Array;
  /** records per constraint */
  count: Uint32Array;
  /** where each run of nondecreasing constraints starts, then nCoef */
  runs: number[];
}

const layouts = new WeakMap<Uint8Array, Layout>();

const hasShared = typeof SharedArrayBuffer === 'function';

/** x in a SharedArrayBuffer (posted without a copy), 4-byte aligned; x where there is none. */
function toShared(x: Uint8Array): Uint8Array {
  if (!hasShared || (x.buffer instanceof SharedArrayBuffer && x.byteOffset % 4 === 0)) return x;
  const s = sharedBytes(x.byteLength, false);
  s.set(x);
  return s;
}


export function badRecord(zkey: Zkey, rec: Uint32Array, i: number): never {
  const { domainSize, nVars } = zkey.header;
  const [m, c, s] = [rec[i * WORDS], rec[i * WORDS + 1], rec[i * WORDS + 2]];
  throw new ZkonnxError('ARTIFACT_MISSING', `${zkey.file}: zkey coefficient ${i} of ${zkey.nCoef} is (matrix ${m}, constraint ${c}, signal ${s}); expected matrix 0 or 1, constraint < ${domainSize}, signal < ${nVars}`, { file: zkey.file });
}

function layout(zkey: Zkey): Layout {
  const known = layouts.get(zkey.coefs);
  if (known) return known;
  const { domainSize } = zkey.header;
  let coefs = toShared(zkey.coefs);
  if (coefs.byteOffset % 4 !== 0) coefs = coefs.slice(); // for the u32 view
  const rec = new Uint32Array(coefs.buffer, coefs.byteOffset, zkey.nCoef * WORDS);
  const count = new Uint32Array(domainSize);
  const runs = [0];
  for (let i = 0, o = 1, prev = 0; i < zkey.nCoef; i++, o += WORDS) {
    const c = rec[o]!;
    if (c >= domainSize) badRecord(zkey, rec, i); // the tasks would skip it: no range holds it
    if (c < prev) runs.push(i);
    count[c]++;
    prev = c;
  }
  runs.push(zkey.nCoef);
  const l: Layout = { coefs, rec, count, runs };
  layouts.set(zkey.coefs, l);
  return l;
}

/** The first index in [lo, hi) of a sorted run whose constraint is ≥ c. */
function lowerBound(rec: Uint32Array, lo: number, hi: number, c: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rec[mid * WORDS + 1]! < c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export async function buildABC(zkey: Zkey, witness: Uint8Array): Promise<Evaluations> {
  const { domainSize, nVars, n8r } = zkey.header;
  if (n8r !== 32) throw new ZkonnxError('BAD_ARGUMENT', `coefficient records of ${12 + n8r} bytes are not supported (BN254: 44)`);
  const pool = await cpuPool();
  const l = layout(zkey);

  // Cut the domain into parts of about equal work: each constraint costs its coefficients plus
  // one product for C.
  const parts = zkey.nCoef < MIN_SPLIT ? 1 : pool.concurrency;
  const cuts = [0];
  const perPart = (zkey.nCoef + domainSize) / parts;
  for (let c = 0, acc = 0; c < domainSize && cuts.length < parts; c++) {
    acc += l.count[c]! + 1;
    if (acc >= perPart * cuts.length) cuts.push(c + 1);
  }
  if (cuts[cuts.length - 1] !== domainSize) cuts.push(domainSize);

  const wIn = witness.subarray(0, nVars * 32);
  const w = hasShared ? toShared(wIn) : ownBytes(wIn);
  // with shared memory the tasks write their ranges in place (the quotient then posts them without copies)
  const n8 = 32;
  // (from pool.ts's reused buffers: the caller may give them back, releaseShared, once the quotient
  // is done; not zeroed: the tasks' ranges cover the domain and each writes all of its own)
  const out = hasShared ? [0, 1, 2].map(() => sharedBytes(domainSize * n8, false)) as [Uint8Array, Uint8Array, Uint8Array] : undefined;
  const scan = l.runs.length - 1 > MAX_RUNS;
  const results = await Promise.all(cuts.slice(0, -1).map((from, k) => {
    const to = cuts[k + 1]!;
    const spans: number[] = [];
    if (scan) spans.push(0, zkey.nCoef);
    for (let r = 0; !scan && r + 1 < l.runs.length; r++) {
      const lo = lowerBound(l.rec, l.runs[r]!, l.runs[r + 1]!, from);
      const hi = lowerBound(l.rec, lo, l.runs[r + 1]!, to);
      if (hi > lo) spans.push(lo, hi);
    }
    // without shared memory, only the spans' records are sent (the message copies them)
    let coefs = l.coefs;
    if (!hasShared) {
      let bytes = 0;
      for (let j = 0; j < spans.length; j += 2) bytes += (spans[j + 1]! - spans[j]!) * REC;
      coefs = new Uint8Array(bytes);
      for (let j = 0, at = 0; j < spans.length; j += 2) {
        coefs.set(l.coefs.subarray(spans[j]! * REC, spans[j + 1]! * REC), at);
        at += (spans[j + 1]! - spans[j]!) * REC;
      }
    }
    const task: AbcTask = { op: 'abc', coefs, packed: !hasShared, spans, witness: w, from, to, out };
    return pool.run(task, CRITICAL);
  }));

  if (w !== wIn) releaseShared(w); // our copy: every task has replied
  const bad = results.map((r) => new Uint32Array(r[0]!.buffer, r[0]!.byteOffset, 1)[0]!).filter((x) => x > 0);
  if (bad.length) badRecord(zkey, l.rec, Math.min(...bad) - 1);
  if (out) return { a: out[0], b: out[1], c: out[2] };
  const evals: Evaluations = { a: new Uint8Array(domainSize * n8), b: new Uint8Array(domainSize * n8), c: new Uint8Array(domainSize * n8) };
  results.forEach((r, k) => {
    const n = (cuts[k + 1]! - cuts[k]!) * n8;
    const at = cuts[k]! * n8;
    evals.a.set(r[1]!.subarray(0, n), at);
    evals.b.set(r[1]!.subarray(n, 2 * n), at);
    evals.c.set(r[1]!.subarray(2 * n), at);
  });
  return evals;
}
