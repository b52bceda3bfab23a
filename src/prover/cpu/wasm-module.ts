// The CPU prover's WebAssembly module: Fq, Fq2, G1, G2 for the MSMs (wasm-field.ts, wasm-curve.ts)
// and their scalars' preparation (wasm-scalars.ts), Fr and its NTTs for the quotient
// (wasm-ntt.ts), the QAP's A/B/C (wasm-qap.ts), built with wasmbuilder (in Node once per version
// of its code: moduleBytes) and compiled once per process; workers get the compiled
// WebAssembly.Module in a message and instantiate it on a memory of their own (and msm.ts one
// small instance, for the scalars).
import { ModuleBuilder } from 'wasmbuilder';
import { ZkonnxError } from '../../errors.js';
import { G1, G2, emitGroup } from './wasm-curve.js';
import { emitNtt } from './wasm-ntt.js';
import { emitQap } from './wasm-qap.js';
import { emitBatchAdd4, emitFromFfjN } from './wasm-batch4.js';
import { emitScalars } from './wasm-scalars.js';
import { FQ, FR, Scratch, constData, emitAffineTail, emitFq2, emitPrime } from './wasm-field.js';

export { HEAP_START } from './wasm-field.js';

/** The exports the MSM calls (all pointers are byte addresses in the instance's memory). */
export interface MsmExports {
  fq_mul(a: number, b: number, r: number): void;
  fq_sqr(a: number, r: number): void;
  fq2_sqr(a: number, r: number): void;
  fq_add(a: number, b: number, r: number): void;
  fq_sub(a: number, b: number, r: number): void;
  fq_neg(a: number, r: number): void;
  fq_reduce(a: number, r: number): void;
  fq_inv(a: number, r: number): void;
  fq_fromFfj(src: number, r: number): void;
  fq_toFfj(src: number, r: number): void;
  fq2_mul(a: number, b: number, r: number): void;
  fq2_inv(a: number, r: number): void;
  g1_fromFfj(src: number, r: number, neg: number): void;
  g2_fromFfj(src: number, r: number, neg: number): void;
  g1_fromFfjN(src: number, dst: number, n: number): void;
  g2_fromFfjN(src: number, dst: number, n: number): void;
  g1_offCurveN(src: number, n: number, pb: number): number;
  g2_offCurveN(src: number, n: number, pb: number): number;
  g1_batchAdd(list: number, n: number, pref: number): void;
  g1_round(cnt: number, off: number, k: number, src: number, dst: number, list: number, pref: number, fin: number, ptrs: number): number;
  g2_round(cnt: number, off: number, k: number, src: number, dst: number, list: number, pref: number, fin: number, ptrs: number): number;
  g2_batchAdd(list: number, n: number, pref: number): void;
  g1_jAdd(p: number, q: number, r: number): void;
  g2_jAdd(p: number, q: number, r: number): void;
  g1_jAddMixed(p: number, q: number, r: number): void;
  g2_jAddMixed(p: number, q: number, r: number): void;
  g1_jDouble(p: number, r: number): void;
  g2_jDouble(p: number, r: number): void;
  g1_reduce(ptrs: number, K: number, out: number): void;
  g2_reduce(ptrs: number, K: number, out: number): void;
  g1_toFfjJac(src: number, r: number): void;
  g2_toFfjJac(src: number, r: number): void;
  fr_fromFfj(src: number, r: number): void;
  fr_toCanon(src: number, r: number): void;
  fr_unpackN(src: number, dst: number, n: number): void;
  fr_coset(data: number, n: number, w: number, inc: number, invN: number, tmp: number): void;
  fr_join(a: number, b: number, c: number, out: number, n: number): void;
  fr_abcAcc(rec: number, n: number, wit: number, a: number, b: number, from: number, to: number, nVars: number): number;
  fr_abcOut(a: number, b: number, n: number, oa: number, ob: number, oc: number): void;
  g1_gather(idx: number, n: number, base: number, dst: number): void;
  g2_gather(idx: number, n: number, base: number, dst: number): void;
  sc_fold(src: number, dst: number, neg: number, n: number): number;
  sc_offset(dst: number, n: number, off: number): void;
}

const EXPORTS = [
  'fq_mul', 'fq_sqr', 'fq2_sqr', 'fq_add', 'fq_sub', 'fq_neg', 'fq_reduce',
  'fr_mul', 'fr_fromFfj', 'fr_toCanon', 'fr_unpackN', 'fr_coset', 'fr_join', 'fr_abcAcc', 'fr_abcOut', 'fq_inv', 'fq_fromFfj', 'fq_toFfj', 'fq2_mul', 'fq2_inv',
  'sc_fold', 'sc_offset',
  ...['g1', 'g2'].flatMap((g) => ['fromFfj', 'fromFfjN', 'offCurveN', 'gather', 'batchAdd', 'round', 'jAdd', 'jAddMixed', 'jDouble', 'reduce', 'toFfjJac'].map((n) => `${g}_${n}`)),
];

export function buildMsmWasm(): Uint8Array {
  const m = new ModuleBuilder();
  m.setMemory(1, 'env', 'memory');
  const scratch = new Scratch();
  emitPrime(m, scratch, FQ);
  emitAffineTail(m);
  emitPrime(m, scratch, FR);
  emitNtt(m, scratch);
  emitQap(m, scratch);
  emitFq2(m, scratch);
  // each group's batchAdd before its round, which calls it
  emitBatchAdd4(m, scratch, 'g1');
  emitGroup(m, scratch, G1);
  emitFromFfjN(m, scratch, 'g1'); // after <g>_fromFfj, which it calls
  emitBatchAdd4(m, scratch, 'g2');
  emitGroup(m, scratch, G2);
  emitFromFfjN(m, scratch, 'g2');
  emitScalars(m);
  for (const [at, bytes] of constData()) m.addData(at, bytes);
  for (const e of EXPORTS) m.exportFunction(e);
  return m.build();
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** (func (result v128) (v128.const i32x4 0 0 0 0)): valid where the runtime has WebAssembly SIMD */
export const SIMD_PROBE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 10, 22, 1, 20, 0, 0xfd, 12, ...new Array<number>(16).fill(0), 0x0b]);

/** Whether this runtime runs WebAssembly SIMD, which the module's NTTs and batch additions use. */
export function hasWasmSimd(probe: Uint8Array = SIMD_PROBE): boolean {
  return WebAssembly.validate(probe as BufferSource);
}

/** The files whose code makes the module (this folder's wasm-*): their hash names its cached bytes. */
const GENERATOR = ['wasm-module', 'wasm-field', 'wasm-curve', 'wasm-ntt', 'wasm-qap', 'wasm-batch4', 'wasm-scalars', 'wasm-simd'];

/**
 * The module's bytes. In Node they are kept in the cache folder (cacheDir()/wasm), named by a hash
 * of the code that makes them (GENERATOR and wasmbuilder's version): building takes 0.1–0.2 s of
 * the main thread at every process start, a `zkonnx prove` of a small model ~15% of its time. A
 * file is written whole (renamed into place) and checked with WebAssembly.validate when read;
 * anything unexpected builds the module as in a page.
 */
export async function moduleBytes(): Promise<Uint8Array> {
  if (typeof process === 'undefined' || !process.versions?.node) return buildMsmWasm();
  try {
    const [fs, { createHash }, path, { fileURLToPath }, { createRequire }, { cacheDir }] = await Promise.all([
      import('node:fs'), import('node:crypto'), import('node:path'), import('node:url'), import('node:module'), import('../../paths.js'),
    ]);
    const self = fileURLToPath(import.meta.url);
    const ext = path.extname(self); // .js (dist) or .ts (tests run the sources)
    const h = createHash('sha256');
    for (const f of GENERATOR) h.update(fs.readFileSync(path.join(path.dirname(self), f + ext)));
    // wasmbuilder's package.json (not in its exports): up from its entry point
    for (let d = path.dirname(createRequire(import.meta.url).resolve('wasmbuilder')); ; d = path.dirname(d)) {
      const pkg = path.join(d, 'package.json');
      if (fs.existsSync(pkg)) { h.update(fs.readFileSync(pkg)); break; }
      if (path.dirname(d) === d) throw new Error('wasmbuilder has no package.json');
    }
    const file = path.join(cacheDir(), 'wasm', `prover-${h.digest('hex').slice(0, 24)}.wasm`);
    if (fs.existsSync(file)) {
      const bytes = new Uint8Array(fs.readFileSync(file));
      if (WebAssembly.validate(bytes as BufferSource)) return bytes;
    }
    const bytes = buildMsmWasm();
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(tmp, bytes);
      fs.renameSync(tmp, file);
    } catch {
      fs.rmSync(tmp, { force: true }); // a read-only or full disk: built again next time, nothing half-written left
    }
    return bytes;
  } catch {
    return buildMsmWasm();
  }
}

/** The compiled module, built on first use (or read from the cache folder: moduleBytes). */
export function msmModule(): Promise<WebAssembly.Module> {
  compiled ??= hasWasmSimd()
    ? moduleBytes().then((bytes) => WebAssembly.compile(bytes as BufferSource))
    : Promise.reject(new ZkonnxError('PROVER_FAILED', 'the wasm prover needs WebAssembly SIMD, which this runtime does not have', {
      hint: 'use Node 16.4 or later, or a browser from 2021 on (Chrome 91, Firefox 89; Safari 16.4)',
    }));
  return compiled;
}

/** An instance on a fresh memory of `pages` 64 KiB pages (grown later by the caller as needed). */
export async function instantiate(module: WebAssembly.Module, pages = 2): Promise<{ exports: MsmExports; memory: WebAssembly.Memory }> {
  const memory = new WebAssembly.Memory({ initial: pages });
  const inst = await WebAssembly.instantiate(module, { env: { memory } });
  return { exports: inst.exports as unknown as MsmExports, memory };
}
