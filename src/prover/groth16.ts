// Groth16 proving in snarkjs's stages (groth16_prove.js), with the heavy arithmetic behind a
// ProverBackend: read and check both files, A/B/C evaluations, quotient, five MSMs, random r and
// s, assembly. Every header check runs before any heavy work. Same files in, same proof format
// out: snarkjs verifies our proofs and the proof depends on the backend only through r and s.
import type { Groth16Proof } from 'snarkjs';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { BN254_R, readBigLE } from '../circom/r1cs.js';
import type { ProverBackend } from './backend.js';
import type { BinSource } from './bin-source.js';
import { bn128, type ProverCurve } from './curve.js';
import { buildABC } from './qap.js';
import { releaseShared } from './cpu/pool.js';
import { foldScalar, wordBits } from './scalars.js';
import { parseWtns, readWtnsFile, type Wtns } from './wtns.js';
import { BULK_SECTIONS, openZkey, readZkeyFile, type OpenedZkey, type Zkey } from './zkey.js';

export interface Groth16ProveOptions {
  progress?: Progress;
  /** Test hook only: fixed blinding scalars instead of fresh CSPRNG ones (r = s = 0 is deterministic and NOT zero-knowledge). */
  rs?: { r: bigint; s: bigint };
}

/** Seconds per stage; the MSMs and the quotient overlap, so they do not add up to `total`. */
export interface Groth16Timings {
  read: number;
  abc: number;
  quotient: number;
  msm: number;
  assemble: number;
  total: number;
}

export interface Groth16Result {
  proof: Groth16Proof;
  publicSignals: string[];
  timings: Groth16Timings;
}

/** The checks between the two files, both numbers in each message. */
export function checkPair(zkey: Zkey, wtns: Wtns): void {
  const { r, nVars } = zkey.header;
  if (wtns.q !== r || wtns.n8 !== zkey.header.n8r) {
    throw new ZkonnxError('WITNESS_MISMATCH', `the witness field does not match the proving key: ${wtns.file} has q = ${wtns.q} (${wtns.n8} bytes), ${zkey.file} has r = ${r} (${zkey.header.n8r} bytes)`, {
      file: wtns.file, hint: 'compile the circuit for BN254 (circom --prime bn128) and compute the witness again',
    });
  }
  if (wtns.nWitness !== nVars) {
    throw new ZkonnxError('WITNESS_MISMATCH', `the witness does not fit the proving key: ${wtns.file} has ${wtns.nWitness} values, ${zkey.file} expects ${nVars} variables`, {
      file: wtns.file, hint: 'the witness or the key belongs to another circuit: compile, setup and prove from the same build folder',
    });
  }
}

/**
 * A uniform scalar mod r from the CSPRNG (512 bits reduced: bias below 2^-250). Web Crypto, which
 * Node and browsers both have: the in-browser prover runs this module too.
 */
function randomScalar(): bigint {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(64));
  let x = 0n;
  for (const b of bytes) x = (x << 8n) | BigInt(b);
  return x % BN254_R;
}

function concat(x: Uint8Array, y: Uint8Array): Uint8Array {
  const out = new Uint8Array(x.byteLength + y.byteLength);
  out.set(x);
  out.set(y, x.byteLength);
  return out;
}

const strings = (x: unknown): unknown => (Array.isArray(x) ? x.map(strings) : String(x));

/**
 * A parsed proving key with `CH`, the C and H points concatenated (the bases of pi_c's one MSM):
 * a prepared prover (prepared.ts) joins them once, groth16Prove once a proof.
 */
export type ParsedZkey = Zkey & { readonly CH: Uint8Array };

/**
 * Reads and parses the zkey, then proves (groth16ProveParsed): one proof, nothing kept. A key file
 * is opened (openZkey): its layout and header are checked first, and the work on each section
 * starts as soon as it is read, while the later sections arrive. `zkeySrc` may be a key opened
 * already (a caller that opens it while it computes the witness: the read then overlaps that);
 * it is closed here, as a key opened here is.
 */
export async function groth16Prove(zkeySrc: BinSource | Promise<OpenedZkey>, wtnsSrc: BinSource, backend: ProverBackend, opts: Groth16ProveOptions = {}): Promise<Groth16Result> {
  const t0 = performance.now();
  opts.progress?.step?.('read zkey and witness');
  const early = zkeySrc instanceof Promise ? zkeySrc : undefined;
  const wtns = await readWtnsFile(wtnsSrc).catch(async (e: unknown) => {
    await early?.then((o) => o.close(), () => {});
    throw e;
  }); // the small file first: a wrong witness fails fast
  const opened: Omit<OpenedZkey, 'close'> & { close?(): Promise<void> } = early ? await early : typeof zkeySrc === 'string' ? await openZkey(zkeySrc) : { zkey: await readZkeyFile(zkeySrc as BinSource), ready: READ };
  const { zkey, ready } = opened;
  // C ‖ H is joined only if the proof uses it (C and H in one MSM: a copy of ~128 MiB at 2^20)
  let ch: Uint8Array | undefined;
  const parsed: ParsedZkey = { ...zkey, get CH() { return (ch ??= concat(zkey.C, zkey.H)); } };
  try {
    return await proveParsed(parsed, wtns, backend, opts, t0, ready);
  } finally {
    await opened.close?.(); // a failed proof stops the reading
    // this key's sections die with the proof: a backend that keeps copies of them (WebGpuBackend:
    // uploaded bases and coefficients) frees them now rather than when they are collected
    const keeper = backend as Partial<BasesKeeper>;
    const used = [parsed.A, parsed.B1, parsed.B2, parsed.C, parsed.H, parsed.coefs, ...(ch ? [ch] : [])];
    if (keeper.releaseBases) await Promise.all(used.map((b) => keeper.releaseBases!(b)));
  }
}

/** Every section in already (a key parsed from memory). */
const READ: OpenedZkey['ready'] = Object.fromEntries(BULK_SECTIONS.map((s) => [s, Promise.resolve()])) as OpenedZkey['ready'];

/**
 * A backend that keeps converted or uploaded copies of the bases arrays it is given (keyed by
 * the array object, so a prepared key's sections are converted once for all its proofs; the
 * WebGPU backend keeps a key's coefficient section too) and can drop one before it is
 * garbage-collected.
 */
export interface BasesKeeper {
  /** A prepared key's section, to be kept converted for the proofs to come (the WebGPU backend keeps every array it uploads). */
  keepBases?(bases: Uint8Array): Promise<void>;
  releaseBases(bases: Uint8Array): Promise<void>;
}

/**
 * groth16Prove on a key parsed already: a prepared prover (prepared.ts) parses its key once and
 * proves each witness here, passing the same section arrays to the backend every time.
 */
export async function groth16ProveParsed(zkey: ParsedZkey, wtnsSrc: BinSource | Uint8Array, backend: ProverBackend, opts: Groth16ProveOptions = {}): Promise<Groth16Result> {
  const t0 = performance.now();
  opts.progress?.step?.('read witness');
  const wtns = wtnsSrc instanceof Uint8Array ? parseWtns(wtnsSrc, '<in-memory wtns>') : await readWtnsFile(wtnsSrc);
  return proveParsed(zkey, wtns, backend, opts, t0);
}

/** `ready`: when each bulk section of `zkey` is in (openZkey); the work on a section waits for it. */
async function proveParsed(zkey: ParsedZkey, wtns: Wtns, backend: ProverBackend, opts: Groth16ProveOptions, t0: number, ready = READ): Promise<Groth16Result> {
  const since = (t: number) => (performance.now() - t) / 1000;
  const step = (name: string) => opts.progress?.step?.(name);
  checkPair(zkey, wtns);
  const { nPublic, power } = zkey.header;
  const curve = await bn128();
  const read = since(t0);

  const t1 = performance.now();
  // The MSMs that need only the witness start first, so that the backend works while the A/B/C
  // evaluations run (qap.ts: CPU pool tasks, ahead of queued MSM windows); then the quotient (a
  // chain of dependent steps, first in the backend's queue: the wasm pool runs it ahead of queued
  // MSM windows). A backend that evaluates A/B/C itself (quotientFromWitness: a GPU) gets that
  // chain first instead, so its stages are timed as they run. C and H both go into pi_c: where
  // the witness needs far fewer bits than H's scalars (uniform, ~254 bits; a quantized model's
  // witness is small), C's MSM is cheap and starts early too, filling the threads while the
  // quotient runs; else they are one MSM over the concatenated bases (one bucket reduction per
  // window instead of two, a wider window).
  const w = wtns.witness;
  const wC = w.subarray((nPublic + 1) * 32);
  const splitC = zkey.C.byteLength > 0 && fitsBits(wC, SPLIT_C_BITS);
  const chReady = splitC ? ready.H : Promise.all([ready.C, ready.H]);
  const chBases = chReady.then(() => (splitC ? zkey.H : zkey.CH));
  chBases.catch(() => {}); // awaited where H's MSM starts; an earlier failure must not leave it unhandled
  // H's scalars (the quotient's) are uniform, so none is zero in practice (a zero one costs nothing
  // wrong: its digits are 0); C's are often zero, so C ‖ H is left to its MSM
  if (splitC && backend.basesAhead && !backend.quotientFromWitness) void chBases.then((b) => backend.basesAhead!(b), () => {});
  const prefix = splitC ? new Uint8Array(0) : wC;
  step('A/B/C evaluations');
  let abc = 0;
  let quotient = 0;
  let t2 = 0;
  const evaluated = () => {
    abc = since(t1);
    t2 = performance.now();
    step('quotient and MSMs');
  };
  const quotiented = () => void (quotient = since(t2));
  // the backend keeps A, B, C and the quotient where it computes them (a GPU: no transfers), and
  // may copy the witness once for all the MSMs that read it (until unhold). Each call waits for
  // its section; the coefficients come first in the file, then A, B1, B2, C and H.
  const unhold = backend.holdWitness?.(w);
  let points: [Uint8Array, Uint8Array, Uint8Array, Uint8Array | undefined, Uint8Array];
  try {
    const after = <T>(section: Promise<unknown>, work: () => Promise<T>) => section.then(work);
    let ch: Promise<Uint8Array>;
    let early: Promise<Uint8Array | undefined>[];
    if (backend.quotientFromWitness) {
      ch = after(ready.coefs, () => backend.quotientFromWitness!(zkey, w, chBases, prefix, { abc: evaluated, quotient: quotiented }));
      ch.catch(() => {});
      await ready.coefs.catch(() => {}); // the chain is queued first: its stages are timed as they run
    } else {
      ch = after(ready.coefs, () => buildABC(zkey, w)).then(async ({ a, b, c }) => {
        evaluated();
        const q = await backend.quotient(a, b, c, power);
        releaseShared(a, b, c); // read by nothing after the quotient: the next proof's (pool.ts)
        return q;
      }).then(async (q) => {
        quotiented();
        try {
          return await backend.msmG1(await chBases, prefix.byteLength > 0 ? concat(prefix, q) : q);
        } finally {
          releaseShared(q); // where the quotient made it shared (cpu/quotient.ts)
        }
      });
    }
    early = [
      after(ready.A, () => backend.msmG1(zkey.A, w)),
      after(ready.B1, () => backend.msmG1(zkey.B1, w)),
      after(ready.B2, () => backend.msmG2(zkey.B2, w)),
      splitC ? after(ready.C, () => backend.msmG1(zkey.C, wC)) : Promise.resolve(undefined),
    ];
    // every call that reads w settles before unhold (allSettled: also when one fails)
    const settled = await Promise.allSettled([...early, ch]);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    points = settled.map((r) => (r as PromiseFulfilledResult<Uint8Array | undefined>).value) as typeof points;
  } finally {
    await unhold?.();
  }
  const [pA, pB1, pB2, pC, pH] = points;
  const pCH = pC ? curve.G1.add(pC, pH) : pH;
  const msm = since(t2);

  const t3 = performance.now();
  step('assemble');
  const proof = assemble(curve, zkey, { pA, pB1, pB2, pCH }, opts.rs ?? { r: randomScalar(), s: randomScalar() });
  const publicSignals: string[] = [];
  for (let i = 1; i <= nPublic; i++) publicSignals.push(readBigLE(w, i * 32, 32).toString());
  const timings: Groth16Timings = { read, abc, quotient, msm, assemble: since(t3), total: since(t0) };
  const f = (x: number) => x.toFixed(3);
  opts.progress?.info?.(`groth16 (${backend.description}), 2^${power}: read ${f(read)} s, A/B/C ${f(abc)} s, quotient ${f(quotient)} s, MSMs ${f(msm)} s, total ${f(timings.total)} s`);
  return { proof, publicSignals, timings };
}

/** C's MSM starts with A's and B's where no witness value needs more bits than this (r − s counting as −s). */
const SPLIT_C_BITS = 128;

/**
 * Whether every scalar's magnitude fits in `bits`, a scalar above r/2 counting as s − r: one pass
 * over 32-byte canonical scalars (stops at the first that does not fit).
 */
export function fitsBits(scalars: Uint8Array, bits: number): boolean {
  const b = scalars.byteOffset % 4 === 0 ? scalars : scalars.slice();
  const sw = new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
  const m = new Uint32Array(8);
  for (let o = 0; o < sw.length; o += 8) {
    foldScalar(sw, o, m, 0);
    if (wordBits(m, 0) > bits) return false;
  }
  return true;
}

/** The MSM results; pCH = C + H. */
interface Parts { pA: Uint8Array; pB1: Uint8Array; pB2: Uint8Array; pCH: Uint8Array }

/**
 * snarkjs's assembly: pi_a = A + α + r·δ1; pi_b = B2 + β2 + s·δ2; B1' = B1 + β1 + s·δ1;
 * pi_c = C + H + s·pi_a + r·B1' − r·s·δ1. Cheap: a handful of operations on the main thread.
 */
function assemble(curve: ProverCurve, zkey: Zkey, p: Parts, rs: { r: bigint; s: bigint }): Groth16Proof {
  const { G1, G2, Fr } = curve;
  const h = zkey.header;
  const r = Fr.e(rs.r % BN254_R);
  const s = Fr.e(rs.s % BN254_R);
  const piA = G1.add(G1.add(p.pA, h.vk_alpha_1), G1.timesFr(h.vk_delta_1, r));
  const piB = G2.add(G2.add(p.pB2, h.vk_beta_2), G2.timesFr(h.vk_delta_2, s));
  const b1 = G1.add(G1.add(p.pB1, h.vk_beta_1), G1.timesFr(h.vk_delta_1, s));
  let piC = G1.add(p.pCH, G1.timesFr(piA, s));
  piC = G1.add(piC, G1.timesFr(b1, r));
  piC = G1.add(piC, G1.timesFr(h.vk_delta_1, Fr.neg(Fr.mul(r, s))));
  return {
    pi_a: strings(G1.toObject(G1.toAffine(piA))) as string[],
    pi_b: strings(G2.toObject(G2.toAffine(piB))) as string[][],
    pi_c: strings(G1.toObject(G1.toAffine(piC))) as string[],
    protocol: 'groth16',
    curve: curve.name,
  };
}
