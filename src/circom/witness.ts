/**
 * Witness generation with the calculator circom writes next to the circuit wasm
 * (<name>_js/witness_calculator.js), the snarkjs .wtns format, and circom's .sym signal map.
 */
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ZkonnxError } from '../errors.js';
import { BN254_R, oneSection, readBigLE, readBinSections, writeBigLE } from './r1cs.js';

/** What circom's generated WitnessCalculator offers (the part we use). */
interface CircomWitnessCalculator {
  prime: bigint;
  witnessSize: number;
  calculateWitness(input: Record<string, unknown>, sanityCheck?: boolean): Promise<bigint[]>;
}
type Builder = (code: Uint8Array, options?: unknown) => Promise<CircomWitnessCalculator>;

interface Loaded {
  wc: CircomWitnessCalculator;
  /** Calls are serialised: the generated calculator keeps its state in one wasm instance, and
   * an interleaved second call (it awaits between setting inputs and reading the witness)
   * would overwrite the first one's signals. */
  queue: Promise<unknown>;
}

// Small cache so that tests computing many witnesses of one circuit compile its wasm once.
const MAX_CACHED = 8;
const cache = new Map<string, Promise<Loaded>>();

async function loadCalculator(wasmPath: string): Promise<Loaded> {
  const st = await stat(wasmPath).catch((cause: unknown) => {
    throw new ZkonnxError('ARTIFACT_MISSING', `witness wasm not found: ${wasmPath}`, {
      file: wasmPath,
      cause,
      hint: 'compile the circuit with --wasm first',
    });
  });
  const key = `${wasmPath}\0${st.mtimeMs}\0${st.size}`;
  let entry = cache.get(key);
  if (!entry) {
    entry = (async () => {
      const calcPath = join(dirname(wasmPath), 'witness_calculator.js');
      const source = await readFile(calcPath, 'utf8').catch((cause: unknown) => {
        throw new ZkonnxError('ARTIFACT_MISSING', `witness calculator not found: ${calcPath}`, { file: calcPath, cause });
      });
      // The generated file is CommonJS. Evaluate it with a CommonJS wrapper instead of
      // require(): under a package.json with "type": "module" (this project's build/ folder)
      // require() would treat the .js file as ESM and refuse it.
      const mod: { exports: unknown } = { exports: {} };
      const req = createRequire(calcPath);
      new Function('module', 'exports', 'require', '__filename', '__dirname', source)(mod, mod.exports, req, calcPath, dirname(calcPath));
      const builder = mod.exports as Builder;
      if (typeof builder !== 'function') {
        throw new ZkonnxError('ARTIFACT_MISSING', `${calcPath} does not export a witness calculator builder`, { file: calcPath });
      }
      const wc = await builder(new Uint8Array(await readFile(wasmPath)));
      return { wc, queue: Promise.resolve() };
    })();
    cache.set(key, entry);
    entry.catch(() => cache.delete(key));
    while (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
  }
  return entry;
}

export interface WitnessOptions {
  /** circom's runtime checks (signals assigned once, inputs complete). Default true. */
  sanityCheck?: boolean;
}

/**
 * Computes the full witness (one field element per wire, wire 0 = 1) for `input`, a map from
 * main's input signal names to values or nested arrays of values. Values may be numbers (safe
 * integers), bigints or decimal/hex strings; negatives stand for p − |x|.
 * Throws ZkonnxError 'INPUT_INVALID' for unknown signals or wrong sizes, 'WITNESS_MISMATCH'
 * when the circuit rejects the input (a failed `===` or assert, e.g. a value out of range).
 */
export async function calculateWitness(wasmPath: string, input: Record<string, unknown>, options: WitnessOptions = {}): Promise<bigint[]> {
  const loaded = await loadCalculator(wasmPath);
  const normalized = normalizeInput(input, loaded.wc.prime);
  const run = loaded.queue.then(() => loaded.wc.calculateWitness(normalized, options.sanityCheck ?? true));
  loaded.queue = run.catch(() => undefined);
  try {
    return await run;
  } catch (cause) {
    const text = (cause instanceof Error ? cause.message : String(cause)).trim();
    const badInput = /Signal .* not found|Not enough values|Too many values|Not all inputs have been set|Signal not found|Input signal array access/.test(text);
    throw new ZkonnxError(
      badInput ? 'INPUT_INVALID' : 'WITNESS_MISMATCH',
      `witness generation failed for ${wasmPath}: ${text.replace(/\s*\n\s*/g, '; ')}`,
      {
        file: wasmPath,
        cause,
        hint: badInput
          ? 'the input names or sizes do not match the circuit main component'
          : 'the circuit rejects this input: a value is outside the range the circuit was built for',
      },
    );
  }
}

/** Maps every leaf of a (nested) input object to a field element in [0, p). */
export function normalizeInput(input: Record<string, unknown>, prime: bigint = BN254_R): Record<string, unknown> {
  const conv = (v: unknown, path: string): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => conv(x, `${path}[${i}]`));
    return toField(v, prime, path);
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    // Nested objects name sub-component inputs (circom's "a.b" qualification): keep the shape.
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) ? normalizeInput(v as Record<string, unknown>, prime) : conv(v, k);
  }
  return out;
}

/** A signed integer (number, bigint or numeric string) as a field element: −x ↦ p − x. */
export function toField(v: unknown, prime: bigint = BN254_R, name = 'value'): bigint {
  let x: bigint;
  if (typeof v === 'bigint') x = v;
  else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      throw new ZkonnxError('INPUT_INVALID', `input ${name} = ${v} is not a safe integer`, {
        signal: name,
        hint: 'pass quantized integers; use bigint or a decimal string above 2^53',
      });
    }
    x = BigInt(v);
  } else if (typeof v === 'string' && /^\s*-?(0x[0-9a-f]+|\d+)\s*$/i.test(v)) {
    const s = v.trim();
    x = s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
  } else {
    throw new ZkonnxError('INPUT_INVALID', `input ${name} = ${JSON.stringify(v)} is not an integer`, { signal: name });
  }
  const r = x % prime;
  return r < 0n ? r + prime : r;
}

// ---------------------------------------------------------------------------------------------
// .wtns (snarkjs): magic "wtns", version 2; section 1: n8, prime, nWitness; section 2: values.

export async function writeWtns(path: string, witness: readonly bigint[], prime: bigint = BN254_R): Promise<void> {
  await writeFile(path, encodeWtns(witness, prime, path));
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The .wtns bytes of a witness (values in [0, p)). */
export function encodeWtns(witness: readonly bigint[], prime: bigint = BN254_R, path = '<witness>'): Uint8Array {
  const n8 = Math.ceil(prime.toString(2).length / 64) * 8;
  const headerSize = 4 + n8 + 4;
  const dataSize = witness.length * n8;
  const buf = new Uint8Array(12 + 12 + headerSize + 12 + dataSize);
  const view = new DataView(buf.buffer);
  buf.set([0x77, 0x74, 0x6e, 0x73]); // "wtns"
  view.setUint32(4, 2, true);
  view.setUint32(8, 2, true);
  let p = 12;
  view.setUint32(p, 1, true);
  view.setBigUint64(p + 4, BigInt(headerSize), true);
  p += 12;
  view.setUint32(p, n8, true);
  writeBigLE(buf, p + 4, n8, prime);
  view.setUint32(p + 4 + n8, witness.length, true);
  p += headerSize;
  view.setUint32(p, 2, true);
  view.setBigUint64(p + 4, BigInt(dataSize), true);
  p += 12;
  // most values of a quantized model's witness are small, or p − small (its negative values):
  // those are written from one Number, the rest 64 bits at a time (a byte at a time took 0.3 s
  // for mnist-burn-bn's 837k values, and fed the garbage collector a BigInt a byte)
  const pBytes = new Uint8Array(n8);
  writeBigLE(pBytes, 0, n8, prime);
  const words = n8 / 4;
  for (let i = 0, at = p; i < witness.length; i++, at += n8) {
    const v = witness[i]!;
    if (v < 0n || v >= prime) throw new ZkonnxError('BAD_ARGUMENT', `witness value ${i} = ${v} is not in [0, p)`, { file: path });
    if (v <= SAFE) {
      const x = Number(v);
      view.setUint32(at, x >>> 0, true);
      view.setUint32(at + 4, Math.floor(x / 2 ** 32), true);
    } else if (prime - v <= SAFE) {
      // p − d, word by word with the borrow (d below 2^53: its two low words)
      const d = Number(prime - v);
      buf.set(pBytes, at);
      let borrow = 0;
      for (let k = 0; k < words; k++) {
        const sub = (k === 0 ? d >>> 0 : k === 1 ? Math.floor(d / 2 ** 32) : 0) + borrow;
        const w = view.getUint32(at + 4 * k, true) - sub;
        view.setUint32(at + 4 * k, w >>> 0, true);
        borrow = w < 0 ? 1 : 0;
      }
    } else {
      let x = v;
      for (let k = 0; k < n8; k += 8, x >>= 64n) view.setBigUint64(at + k, BigInt.asUintN(64, x), true);
    }
  }
  return buf;
}

export async function readWtns(path: string): Promise<bigint[]> {
  const buf = new Uint8Array(
    await readFile(path).catch((cause: unknown) => {
      throw new ZkonnxError('ARTIFACT_MISSING', `cannot read witness file ${path}`, { file: path, cause });
    }),
  );
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const sections = readBinSections(buf, 'wtns', 2, path);
  const hs = oneSection(sections, 1, 'header', path);
  const n8 = view.getUint32(hs.offset, true);
  if (hs.size !== 4 + n8 + 4) {
    throw new ZkonnxError('ARTIFACT_MISSING', `${path}: wtns header section is ${hs.size} bytes, expected ${4 + n8 + 4}`, { file: path });
  }
  const nWitness = view.getUint32(hs.offset + 4 + n8, true);
  const ds = oneSection(sections, 2, 'witness', path);
  if (ds.size !== nWitness * n8) {
    throw new ZkonnxError('ARTIFACT_MISSING', `${path}: witness section is ${ds.size} bytes, expected ${nWitness} × ${n8}`, { file: path });
  }
  const w: bigint[] = new Array(nWitness);
  for (let i = 0; i < nWitness; i++) w[i] = readBigLE(buf, ds.offset + i * n8, n8);
  return w;
}

// ---------------------------------------------------------------------------------------------
// .sym: CSV lines `labelIdx,witnessIdx,componentIdx,name`.

/**
 * Maps full signal names (`main.rs[3].u[2]`) to witness indices. A signal that circom's
 * optimiser removed (witnessIdx −1) is kept with index −1, so callers can tell "removed"
 * from "unknown".
 */
export async function readSymbols(symPath: string): Promise<Map<string, number>> {
  const map = new Map<string, number>();
  const stream = createReadStream(symPath, 'utf8');
  const failed = new Promise<never>((_, reject) =>
    stream.once('error', (cause) => reject(new ZkonnxError('ARTIFACT_MISSING', `cannot read symbol file ${symPath}`, { file: symPath, cause }))),
  );
  failed.catch(() => undefined); // handled by the race below; never an unhandled rejection
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  const consume = (async () => {
    for await (const line of lines) {
      n++;
      if (line === '') continue;
      const c1 = line.indexOf(',');
      const c2 = line.indexOf(',', c1 + 1);
      const c3 = line.indexOf(',', c2 + 1);
      if (c1 < 0 || c2 < 0 || c3 < 0) {
        throw new ZkonnxError('ARTIFACT_MISSING', `${symPath}:${n}: expected labelIdx,witnessIdx,componentIdx,name, got ${JSON.stringify(line)}`, { file: symPath });
      }
      map.set(line.slice(c3 + 1), Number(line.slice(c1 + 1, c2)));
    }
  })();
  await Promise.race([consume, failed]);
  return map;
}
