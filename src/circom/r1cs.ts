/**
 * Reader of circom's .r1cs files (iden3 binary section container) and a BigInt checker that
 * evaluates every constraint A·w * B·w = C·w (mod p) on a witness. The checker is what the
 * soundness tests rely on: circom's witness calculator checks `===` only for the witness it
 * computes itself, so a tampered witness has to be checked against the constraints directly.
 *
 * Format: https://github.com/iden3/r1csfile/blob/master/doc/r1cs_bin_format.md
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { ZkonnxError } from '../errors.js';
import { readSymbols } from './witness.js';

/** The BN254 scalar field order: circom's default prime (`bn128`). */
export const BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

// ---------------------------------------------------------------------------------------------
// iden3 binary section container (shared by .r1cs and .wtns)

export interface BinSection {
  type: number;
  /** Byte offset of the section body in the file. */
  offset: number;
  size: number;
}

/** Checks the 12-byte prefix: 4-byte magic and u32 version. */
function checkBinPrefix(buf: Uint8Array, magic: string, expectedVersion: number, file: string): void {
  const fail = (what: string): never => {
    throw new ZkonnxError('ARTIFACT_MISSING', `${file}: not a valid .${magic} file: ${what}`, { file });
  };
  if (buf.byteLength < 12) fail(`${buf.byteLength} bytes is shorter than the 12-byte header`);
  const got = String.fromCharCode(buf[0]!, buf[1]!, buf[2]!, buf[3]!);
  if (got !== magic) fail(`magic is ${JSON.stringify(got)}, expected ${JSON.stringify(magic)}`);
  const version = new DataView(buf.buffer, buf.byteOffset, 12).getUint32(4, true);
  if (version !== expectedVersion) fail(`version is ${version}, expected ${expectedVersion}`);
}

/**
 * Parses the container header: 4-byte magic, u32 version, u32 section count, then per section
 * u32 type, u64 size, body. Checks the magic, the version and that every section lies inside
 * the file, so a truncated file fails here with both numbers in the message.
 */
export function readBinSections(buf: Uint8Array, magic: string, expectedVersion: number, file: string): Map<number, BinSection[]> {
  checkBinPrefix(buf, magic, expectedVersion, file);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerAt = (pos: number) => (pos + 12 <= buf.byteLength ? { type: view.getUint32(pos, true), size: Number(view.getBigUint64(pos + 4, true)) } : undefined);
  return walkBinSections(view.getUint32(8, true), buf.byteLength, headerAt, magic, file);
}

/**
 * readBinSections for a file too big to hold in one buffer (Node reads at most 2 GiB a call, and
 * a typed array holds at most 4 GiB): the prefix and the section headers only, read from `fh`.
 */
export async function readBinSectionsFrom(fh: FileHandle, magic: string, expectedVersion: number, file: string): Promise<Map<number, BinSection[]>> {
  const fileSize = (await fh.stat()).size;
  const at = async (pos: number, len: number) => {
    const b = new Uint8Array(len);
    const { bytesRead } = await fh.read(b, 0, len, pos);
    return b.subarray(0, bytesRead);
  };
  const prefix = await at(0, 12);
  checkBinPrefix(prefix, magic, expectedVersion, file);
  const nSections = new DataView(prefix.buffer).getUint32(8, true);
  // the headers, where the walk below will look for them
  const headers = new Map<number, { type: number; size: number }>();
  for (let i = 0, pos = 12; i < nSections && pos + 12 <= fileSize; i++) {
    const h = new DataView((await at(pos, 12)).buffer);
    const header = { type: h.getUint32(0, true), size: Number(h.getBigUint64(4, true)) };
    headers.set(pos, header);
    pos += 12 + header.size;
  }
  return walkBinSections(nSections, fileSize, (pos) => headers.get(pos), magic, file);
}

/** The section table from each header (undefined past the end), with every section checked to lie in the file. */
function walkBinSections(nSections: number, fileSize: number, headerAt: (pos: number) => { type: number; size: number } | undefined, magic: string, file: string): Map<number, BinSection[]> {
  const fail = (what: string): never => {
    throw new ZkonnxError('ARTIFACT_MISSING', `${file}: not a valid .${magic} file: ${what}`, { file });
  };
  const sections = new Map<number, BinSection[]>();
  let pos = 12;
  for (let i = 0; i < nSections; i++) {
    const h = headerAt(pos);
    if (!h) fail(`section header ${i} of ${nSections} starts at byte ${pos}, past the end (${fileSize} bytes)`);
    const { type, size } = h!;
    const offset = pos + 12;
    if (offset + size > fileSize) fail(`section ${type} needs ${size} bytes at ${offset}, file has ${fileSize}`);
    const list = sections.get(type) ?? [];
    list.push({ type, offset, size });
    sections.set(type, list);
    pos = offset + size;
  }
  if (pos !== fileSize) fail(`${fileSize - pos} trailing bytes after the last section`);
  return sections;
}

/** The single section of a given type, or an error naming the file. */
export function oneSection(sections: Map<number, BinSection[]>, type: number, what: string, file: string): BinSection {
  const list = sections.get(type);
  if (!list || list.length !== 1) {
    throw new ZkonnxError('ARTIFACT_MISSING', `${file}: expected exactly one ${what} section (type ${type}), found ${list?.length ?? 0}`, { file });
  }
  return list[0]!;
}

/** Little-endian unsigned integer of n8 bytes. */
export function readBigLE(buf: Uint8Array, offset: number, n8: number): bigint {
  let x = 0n;
  for (let i = n8 - 1; i >= 0; i--) x = (x << 8n) | BigInt(buf[offset + i]!);
  return x;
}

export function writeBigLE(buf: Uint8Array, offset: number, n8: number, value: bigint): void {
  let x = value;
  for (let i = 0; i < n8; i++) {
    buf[offset + i] = Number(x & 0xffn);
    x >>= 8n;
  }
  if (x !== 0n) throw new ZkonnxError('BAD_ARGUMENT', `value ${value} does not fit in ${n8} bytes`);
}

// ---------------------------------------------------------------------------------------------
// .r1cs

const SECTION_HEADER = 1;
const SECTION_CONSTRAINTS = 2;
const SECTION_WIRE2LABEL = 3;

export interface R1csHeader {
  /** Bytes per field element. */
  n8: number;
  prime: bigint;
  /** Wires, wire 0 (the constant 1) included: the witness length. */
  nWires: number;
  nPubOut: number;
  nPubIn: number;
  nPrvIn: number;
  nLabels: number;
  nConstraints: number;
}

/** Sparse linear combination: wire index → coefficient (in [0, p)). */
export type LinearCombination = Map<number, bigint>;

export interface R1csConstraint {
  a: LinearCombination;
  b: LinearCombination;
  c: LinearCombination;
}

export interface R1cs {
  file: string;
  header: R1csHeader;
  constraints: R1csConstraint[];
  /** wire → label (signal) index, when the file has the section. */
  wireToLabel?: number[];
}

function parseHeader(buf: Uint8Array, offset: number, size: number, file: string): R1csHeader {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n8 = view.getUint32(offset, true);
  const expected = 4 + n8 + 4 * 4 + 8 + 4;
  if (size !== expected) {
    throw new ZkonnxError('ARTIFACT_MISSING', `${file}: r1cs header section is ${size} bytes, expected ${expected} for n8=${n8}`, { file });
  }
  let p = offset + 4;
  const prime = readBigLE(buf, p, n8);
  p += n8;
  const nWires = view.getUint32(p, true);
  const nPubOut = view.getUint32(p + 4, true);
  const nPubIn = view.getUint32(p + 8, true);
  const nPrvIn = view.getUint32(p + 12, true);
  const nLabels = Number(view.getBigUint64(p + 16, true));
  const nConstraints = view.getUint32(p + 24, true);
  return { n8, prime, nWires, nPubOut, nPubIn, nPrvIn, nLabels, nConstraints };
}

/** The bodies of the wanted sections, read without loading the rest (the constraints section of
 * a real model is hundreds of MB). */
async function readR1csSections(file: string, wanted: number[]): Promise<Map<number, Uint8Array>> {
  const fh = await open(file, 'r').catch((cause: unknown) => {
    throw new ZkonnxError('ARTIFACT_MISSING', `cannot open r1cs file ${file}`, { file, cause });
  });
  try {
    const { size: fileSize } = await fh.stat();
    const head = Buffer.alloc(Math.min(12, fileSize));
    await fh.read(head, 0, head.length, 0);
    checkBinPrefix(new Uint8Array(head), 'r1cs', 1, file);
    const nSections = head.readUInt32LE(8);
    let pos = 12;
    const sh = Buffer.alloc(12);
    const found = new Map<number, Uint8Array>();
    for (let i = 0; i < nSections && found.size < wanted.length; i++) {
      if (pos + 12 > fileSize) break;
      await fh.read(sh, 0, 12, pos);
      const type = sh.readUInt32LE(0);
      const size = Number(sh.readBigUInt64LE(4));
      if (pos + 12 + size > fileSize) break;
      if (wanted.includes(type)) {
        const body = Buffer.alloc(size);
        await fh.read(body, 0, size, pos + 12);
        found.set(type, new Uint8Array(body.buffer, body.byteOffset, size));
      }
      pos += 12 + size;
    }
    for (const t of wanted) if (!found.has(t)) throw new ZkonnxError('ARTIFACT_MISSING', `${file}: no r1cs section ${t} (file truncated?)`, { file });
    return found;
  } finally {
    await fh.close();
  }
}

/**
 * Reads only the header, without loading the constraints: cheap for large circuits (the
 * constraint section of a real model is hundreds of MB).
 */
export async function readR1csHeader(file: string): Promise<R1csHeader> {
  const body = (await readR1csSections(file, [SECTION_HEADER])).get(SECTION_HEADER)!;
  return parseHeader(body, 0, body.byteLength, file);
}

/** The header and the wire → label map (what a witness generator needs), without the constraints. */
export async function readR1csWireMap(file: string): Promise<{ header: R1csHeader; wireToLabel: Float64Array }> {
  const s = await readR1csSections(file, [SECTION_HEADER, SECTION_WIRE2LABEL]);
  const hb = s.get(SECTION_HEADER)!;
  const header = parseHeader(hb, 0, hb.byteLength, file);
  const wb = s.get(SECTION_WIRE2LABEL)!;
  if (wb.byteLength !== header.nWires * 8) {
    throw new ZkonnxError('ARTIFACT_MISSING', `${file}: wire-to-label section is ${wb.byteLength} bytes, expected ${header.nWires * 8}`, { file });
  }
  const view = new DataView(wb.buffer, wb.byteOffset, wb.byteLength);
  const wireToLabel = new Float64Array(header.nWires);
  for (let i = 0; i < header.nWires; i++) wireToLabel[i] = Number(view.getBigUint64(8 * i, true));
  return { header, wireToLabel };
}

/** Reads header, constraints and the wire→label map. */
export async function readR1cs(file: string): Promise<R1cs> {
  const buf = new Uint8Array(
    await readFile(file).catch((cause: unknown) => {
      throw new ZkonnxError('ARTIFACT_MISSING', `cannot read r1cs file ${file}`, { file, cause });
    }),
  );
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const sections = readBinSections(buf, 'r1cs', 1, file);
  const hs = oneSection(sections, SECTION_HEADER, 'header', file);
  const header = parseHeader(buf, hs.offset, hs.size, file);
  const { n8 } = header;

  const cs = oneSection(sections, SECTION_CONSTRAINTS, 'constraints', file);
  const constraints: R1csConstraint[] = [];
  let p = cs.offset;
  const end = cs.offset + cs.size;
  const readLc = (): LinearCombination => {
    const n = view.getUint32(p, true);
    p += 4;
    if (p + n * (4 + n8) > end) {
      throw new ZkonnxError('ARTIFACT_MISSING', `${file}: constraint ${constraints.length} runs past its section`, { file });
    }
    const lc: LinearCombination = new Map();
    for (let i = 0; i < n; i++) {
      const wire = view.getUint32(p, true);
      lc.set(wire, readBigLE(buf, p + 4, n8));
      p += 4 + n8;
    }
    return lc;
  };
  for (let i = 0; i < header.nConstraints; i++) {
    const a = readLc();
    const b = readLc();
    const c = readLc();
    constraints.push({ a, b, c });
  }
  if (p !== end) {
    throw new ZkonnxError('ARTIFACT_MISSING', `${file}: constraints section has ${end - p} bytes left after ${header.nConstraints} constraints`, { file });
  }

  let wireToLabel: number[] | undefined;
  const ws = sections.get(SECTION_WIRE2LABEL)?.[0];
  if (ws) {
    if (ws.size !== header.nWires * 8) {
      throw new ZkonnxError('ARTIFACT_MISSING', `${file}: wire-to-label section is ${ws.size} bytes, expected ${header.nWires * 8}`, { file });
    }
    wireToLabel = [];
    for (let i = 0; i < header.nWires; i++) wireToLabel.push(Number(view.getBigUint64(ws.offset + 8 * i, true)));
  }
  return { file, header, constraints, wireToLabel };
}

// ---------------------------------------------------------------------------------------------
// Constraint checking

export type CheckResult = { ok: true } | { ok: false; constraint: number; message: string };

export interface CheckOptions {
  /** A .sym file, to name the signals of the failing constraint. */
  symPath?: string;
  /** Or the symbols already read (name → witness index), as readSymbols returns them. */
  symbols?: Map<string, number>;
}

function evalLc(lc: LinearCombination, w: readonly bigint[], p: bigint): bigint {
  let acc = 0n;
  for (const [wire, coeff] of lc) acc += coeff * w[wire]!;
  return acc % p;
}

/** A field element as the signed integer it stands for, in (−p/2, p/2). */
export function fieldToSigned(x: bigint, p: bigint = BN254_R): bigint {
  return x > p / 2n ? x - p : x;
}

/**
 * Evaluates every constraint on `witness` and reports the first one that fails (0-based index),
 * with the values of A·w, B·w, C·w and of the signals it touches. Also checks the witness
 * shape: one value per wire, each in [0, p), wire 0 equal to 1.
 */
export async function checkConstraints(r1cs: string | R1cs, witness: readonly bigint[], options: CheckOptions = {}): Promise<CheckResult> {
  const sys = typeof r1cs === 'string' ? await readR1cs(r1cs) : r1cs;
  const { prime: p, nWires } = sys.header;
  if (witness.length !== nWires) {
    return { ok: false, constraint: -1, message: `witness has ${witness.length} values, ${sys.file} expects ${nWires} wires` };
  }
  if (witness[0] !== 1n) {
    return { ok: false, constraint: -1, message: `witness wire 0 must be 1, got ${witness[0]}` };
  }
  for (let i = 0; i < witness.length; i++) {
    const v = witness[i]!;
    if (v < 0n || v >= p) return { ok: false, constraint: -1, message: `witness wire ${i} = ${v} is not in [0, p)` };
  }
  for (let i = 0; i < sys.constraints.length; i++) {
    const { a, b, c } = sys.constraints[i]!;
    const av = evalLc(a, witness, p);
    const bv = evalLc(b, witness, p);
    const cv = evalLc(c, witness, p);
    if ((av * bv) % p === cv) continue;
    const symbols = options.symbols ?? (options.symPath ? await readSymbols(options.symPath) : undefined);
    const names = wireNames(symbols);
    const wires = [...new Set([...a.keys(), ...b.keys(), ...c.keys()])].filter((w) => w !== 0).sort((x, y) => x - y);
    const signals = wires.map((w) => `${names.get(w) ?? `wire ${w}`} = ${fieldToSigned(witness[w]!, p)}`).join(', ');
    return {
      ok: false,
      constraint: i,
      message:
        `constraint #${i} of ${sys.constraints.length} fails: (A·w)(B·w) ≠ C·w with ` +
        `A·w = ${fieldToSigned(av, p)}, B·w = ${fieldToSigned(bv, p)}, C·w = ${fieldToSigned(cv, p)}` +
        (signals ? `; signals: ${signals}` : ''),
    };
  }
  return { ok: true };
}

/** Indices of every failing constraint (no early exit): for tests that pin down which ones a
 * tampered witness breaks. Assumes a well-shaped witness (see checkConstraints). */
export function failingConstraints(sys: R1cs, witness: readonly bigint[]): number[] {
  const p = sys.header.prime;
  const failed: number[] = [];
  sys.constraints.forEach(({ a, b, c }, i) => {
    if ((evalLc(a, witness, p) * evalLc(b, witness, p)) % p !== evalLc(c, witness, p)) failed.push(i);
  });
  return failed;
}

/** witness index → first signal name (several names can share a wire after optimisation). */
function wireNames(symbols: Map<string, number> | undefined): Map<number, string> {
  const names = new Map<number, string>();
  if (!symbols) return names;
  for (const [name, idx] of symbols) if (idx >= 0 && !names.has(idx)) names.set(idx, name);
  return names;
}
