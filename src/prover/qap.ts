// The A and B evaluations of the QAP on the domain, and C = A∘B: for every coefficient
// (m, c, s, v) of the zkey's section 4, out_m[c] += v·w[s]. snarkjs (buildABC1) does this in a
// JavaScript loop with one wasm call and three buffer copies per coefficient, one thread; here the
// coefficients are split by constraint into one batch per worker thread and each batch runs in
// wasmcurves' `qap_buildABC` (multiply-accumulate and the product A∘B in one call).
import { ZkonnxError } from '../errors.js';
import type { ProverCurve } from './curve.js';
import type { Zkey } from './zkey.js';

/** u32 words per coefficient record: m, c, s and a 32-byte value. */
const WORDS = 11;
/** Below this many coefficients one worker task beats the cost of splitting. */
const MIN_SPLIT = 1 << 12;

export interface Evaluations {
  /** domainSize × 32 bytes each, Fr Montgomery. */
  a: Uint8Array;
  b: Uint8Array;
  c: Uint8Array;
}

/** Aligned u32 view of a byte range, copying only when the range is not 4-byte aligned. */
function words(bytes: Uint8Array): Uint32Array {
  const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/**
 * Checks every record (an out-of-range index would be skipped silently by the wasm code and give
 * a proof that does not verify) and counts coefficients per constraint, for load balancing.
 */
function countPerConstraint(zkey: Zkey, rec: Uint32Array): Uint32Array {
  const { domainSize, nVars } = zkey.header;
  const count = new Uint32Array(domainSize);
  for (let i = 0, o = 0; i < zkey.nCoef; i++, o += WORDS) {
    const m = rec[o]!;
    const c = rec[o + 1]!;
    const s = rec[o + 2]!;
    if (m > 1 || c >= domainSize || s >= nVars) {
      throw new ZkonnxError('ARTIFACT_MISSING', `${zkey.file}: zkey coefficient ${i} of ${zkey.nCoef} is (matrix ${m}, constraint ${c}, signal ${s}); expected matrix 0 or 1, constraint < ${domainSize}, signal < ${nVars}`, { file: zkey.file });
    }
    count[c]++;
  }
  return count;
}

export async function buildABC(curve: ProverCurve, zkey: Zkey, witness: Uint8Array): Promise<Evaluations> {
  const { domainSize, nVars, n8r } = zkey.header;
  if (n8r !== 32) throw new ZkonnxError('BAD_ARGUMENT', `coefficient records of ${12 + n8r} bytes are not supported (BN254: 44)`);
  const rec = words(zkey.coefs);
  const count = countPerConstraint(zkey, rec);

  // Cut the domain into parts of about equal work: each constraint costs its coefficients plus
  // one product for C.
  const parts = zkey.nCoef < MIN_SPLIT ? 1 : Math.min(curve.tm.concurrency, 255);
  const cuts = [0];
  const perPart = (zkey.nCoef + domainSize) / parts;
  for (let c = 0, acc = 0; c < domainSize && cuts.length < parts; c++) {
    acc += count[c]! + 1;
    if (acc >= perPart * cuts.length) cuts.push(c + 1);
  }
  if (cuts[cuts.length - 1] !== domainSize) cuts.push(domainSize);
  const nParts = cuts.length - 1;

  // Scatter the records into one compact buffer per part (transferred to the worker, not cloned).
  const partOf = new Uint8Array(domainSize);
  const sizes = new Array<number>(nParts).fill(0);
  for (let k = 0; k < nParts; k++) {
    partOf.fill(k, cuts[k], cuts[k + 1]);
    for (let c = cuts[k]!; c < cuts[k + 1]!; c++) sizes[k] += count[c]!;
  }
  const out = sizes.map((n) => new Uint32Array(n * WORDS));
  const pos = new Array<number>(nParts).fill(0);
  for (let i = 0, o = 0; i < zkey.nCoef; i++, o += WORDS) {
    const k = partOf[rec[o + 1]!]!;
    const dst = out[k]!;
    let d = pos[k]!;
    for (let j = 0; j < WORDS; j++) dst[d++] = rec[o + j]!;
    pos[k] = d;
  }

  const n8 = 32;
  const w = witness.slice(); // compact: postMessage would clone the whole file behind a view
  const results = await Promise.all(out.map((part, k) => {
    const offset = cuts[k]!;
    const n = cuts[k + 1]! - offset;
    const task = [
      { cmd: 'ALLOCSET', var: 0, buff: new Uint8Array(part.buffer) },
      { cmd: 'ALLOCSET', var: 1, buff: w },
      { cmd: 'ALLOC', var: 2, len: n * n8 },
      { cmd: 'ALLOC', var: 3, len: n * n8 },
      { cmd: 'ALLOC', var: 4, len: n * n8 },
      { cmd: 'CALL', fnName: 'qap_buildABC', params: [{ var: 0 }, { val: sizes[k] }, { var: 1 }, { var: 2 }, { var: 3 }, { var: 4 }, { val: offset }, { val: n }, { val: 0 }, { val: nVars }] },
      { cmd: 'GET', out: 0, var: 2, len: n * n8 },
      { cmd: 'GET', out: 1, var: 3, len: n * n8 },
      { cmd: 'GET', out: 2, var: 4, len: n * n8 },
    ];
    return curve.tm.queueAction(task, [part.buffer]);
  }));
  const evals: Evaluations = { a: new Uint8Array(domainSize * n8), b: new Uint8Array(domainSize * n8), c: new Uint8Array(domainSize * n8) };
  results.forEach((r, k) => {
    const at = cuts[k]! * n8;
    evals.a.set(r[0]!, at);
    evals.b.set(r[1]!, at);
    evals.c.set(r[2]!, at);
  });
  return evals;
}
