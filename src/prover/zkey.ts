// Reader of snarkjs Groth16 proving keys (.zkey, iden3 section container, version 1) for the
// prover. Every section size is checked against the header before anything is computed, so a
// truncated or mixed-up key fails here, naming the file, the section and both numbers.
//   1: u32 protocol (1 = groth16)
//   2: n8q, q, n8r, r, nVars, nPublic, domainSize, α1, β1, β2, γ2, δ1, δ2 (affine, Montgomery LE)
//   3: IC, (nPublic+1) G1        4: u32 nCoef, then nCoef × (u32 m, u32 c, u32 s, n8r value)
//   5: A, nVars G1   6: B1, nVars G1   7: B2, nVars G2   8: C, (nVars−nPublic−1) G1   9: H, domainSize G1
import { ZkonnxError } from '../errors.js';
import { open } from 'node:fs/promises';
import { BN254_R, oneSection, readBigLE, readBinSections, readBinSectionsFrom, type BinSection } from '../circom/r1cs.js';
import { loadBinSource, type BinSource } from './bin-source.js';

/** BN254's base field: circom's `bn128` curve. */
export const BN254_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

export interface ZkeyHeader {
  n8q: number;
  q: bigint;
  n8r: number;
  r: bigint;
  nVars: number;
  nPublic: number;
  domainSize: number;
  /** log2(domainSize) */
  power: number;
  vk_alpha_1: Uint8Array;
  vk_beta_1: Uint8Array;
  vk_beta_2: Uint8Array;
  vk_gamma_2: Uint8Array;
  vk_delta_1: Uint8Array;
  vk_delta_2: Uint8Array;
}

export interface Zkey {
  file: string;
  header: ZkeyHeader;
  nCoef: number;
  /** Section 4 without its u32 count: nCoef records of 12 + n8r bytes (value "doubly Montgomery"). */
  coefs: Uint8Array;
  /** Sections 5–9, views into the file. */
  A: Uint8Array;
  B1: Uint8Array;
  B2: Uint8Array;
  C: Uint8Array;
  H: Uint8Array;
}

const SECTION_NAMES: Record<number, string> = { 1: 'header', 2: 'groth16 header', 3: 'IC', 4: 'coefficients', 5: 'A points', 6: 'B1 points', 7: 'B2 points', 8: 'C points', 9: 'H points' };

const dataView = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

const bad = (file: string, msg: string): never => {
  throw new ZkonnxError('ARTIFACT_MISSING', `${file}: ${msg}`, { file, hint: 'run zkonnx setup again; the key may be truncated or from another tool' });
};

export async function readZkeyFile(src: BinSource): Promise<Zkey> {
  const { buf, file } = await loadBinSource(src, 'zkey');
  return parseZkey(buf, file);
}

export function parseZkey(buf: Uint8Array, file: string): Zkey {
  return parseSections(readBinSections(buf, 'zkey', 1, file), (s) => buf.subarray(s.offset, s.offset + s.size), file);
}

/** The sections that hold the key's bulk, in file order: what openZkey reads while work starts. */
export const BULK_SECTIONS = ['coefs', 'A', 'B1', 'B2', 'C', 'H'] as const;
export type BulkSection = (typeof BULK_SECTIONS)[number];
const BULK_TYPE: Record<BulkSection, number> = { coefs: 4, A: 5, B1: 6, B2: 7, C: 8, H: 9 };

/** A key being read: its layout checked and header parsed; `ready[s]` resolves once section s's bytes are in. */
export interface OpenedZkey {
  zkey: Zkey;
  ready: Readonly<Record<BulkSection, Promise<void>>>;
  /** Stops reading (the sections not read yet reject) and closes the file; resolves when it is closed. */
  close(): Promise<void>;
}

/** Bytes of one read call (Node reads at most 2 GiB at once); `chunkBytes` in tests. */
const READ_CHUNK = 1 << 26;

/**
 * Opens a zkey file: checks its layout (every size, as parseZkey does) and parses its header from
 * a few small reads, then reads the bulk sections in file order into a buffer each, in the
 * background. A prover starts on the first sections while the later ones arrive, and a key past
 * 2 GiB (Node's readFile limit: 2^23 constraints and up) reads at all.
 */
export async function openZkey(path: string, opts: { chunkBytes?: number } = {}): Promise<OpenedZkey> {
  const chunk = opts.chunkBytes ?? READ_CHUNK;
  const fh = await open(path, 'r').catch((cause: unknown) => {
    throw new ZkonnxError('ARTIFACT_MISSING', `cannot read zkey file ${path}`, { file: path, cause });
  });
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= fh.close());
  try {
    const sections = await readBinSectionsFrom(fh, 'zkey', 1, path);
    const data = new Map<number, Uint8Array>();
    const readInto = async (buf: Uint8Array, pos: number) => {
      for (let done = 0; done < buf.byteLength;) {
        if (closed) throw new ZkonnxError('ARTIFACT_MISSING', `${path}: reading stopped before the end`, { file: path });
        const { bytesRead } = await fh.read(buf, done, Math.min(chunk, buf.byteLength - done), pos + done);
        if (bytesRead === 0) throw new ZkonnxError('ARTIFACT_MISSING', `${path}: the file ended early (it changed while being read?)`, { file: path });
        done += bytesRead;
      }
    };
    // the small sections now, and section 4's count; a buffer for each bulk section once its
    // size is checked (parseSections asks for it then), filled below
    // (the bulk in SharedArrayBuffers where there are any: the CPU prover's threads then read the
    // coefficients, and points where all are kept, without a copy on the main thread)
    const shared = typeof SharedArrayBuffer === 'function';
    const buffer = (sec: BinSection) => {
      let b = data.get(sec.offset);
      if (!b) data.set(sec.offset, (b = sec.type >= 4 && shared ? new Uint8Array(new SharedArrayBuffer(sec.size)) : new Uint8Array(sec.size)));
      return b;
    };
    for (const list of sections.values()) {
      for (const sec of list) {
        if (sec.type < 4) await readInto(buffer(sec), sec.offset);
        if (sec.type === 4) await readInto(buffer(sec).subarray(0, Math.min(4, sec.size)), sec.offset);
      }
    }
    const zkey = parseSections(sections, buffer, path);
    const bulk = BULK_SECTIONS.map((name) => oneSection(sections, BULK_TYPE[name], `zkey ${SECTION_NAMES[BULK_TYPE[name]]}`, path));
    let chain: Promise<void> = Promise.resolve();
    const ready = {} as Record<BulkSection, Promise<void>>;
    BULK_SECTIONS.forEach((name, i) => {
      const sec = bulk[i]!;
      chain = chain.then(() => readInto(data.get(sec.offset)!, sec.offset));
      ready[name] = chain;
      chain.catch(() => {}); // each is awaited where it is used
    });
    void chain.then(close, close).catch(() => {});
    return { zkey, ready, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A Zkey from the section table and each section's bytes (the bulk's may still be arriving). */
function parseSections(sections: Map<number, BinSection[]>, bytes: (s: BinSection) => Uint8Array, file: string): Zkey {
  const section = (type: number) => oneSection(sections, type, `zkey ${SECTION_NAMES[type]}`, file);
  const sized = (type: number, expected: number, why: string) => {
    const s = section(type);
    if (s.size !== expected) bad(file, `zkey section ${type} (${SECTION_NAMES[type]}) is ${s.size} bytes, expected ${expected} (${why})`);
    return bytes(s);
  };

  const s1 = section(1);
  if (s1.size !== 4) bad(file, `zkey section 1 (header) is ${s1.size} bytes, expected 4`);
  const protocol = dataView(bytes(s1)).getUint32(0, true);
  if (protocol !== 1) bad(file, `zkey protocol is ${protocol}, expected 1 (groth16)${protocol === 2 ? '; 2 is plonk' : protocol === 10 ? '; 10 is fflonk' : ''}`);

  const s2 = section(2);
  const buf = bytes(s2);
  const view = dataView(buf);
  let p = 0;
  const need = (n: number) => { if (p + n > s2.size) bad(file, `zkey section 2 (groth16 header) is ${s2.size} bytes, too short at byte ${p} (needs ${p + n})`); };
  need(4);
  const n8q = view.getUint32(p, true); p += 4;
  need(n8q + 4);
  const q = readBigLE(buf, p, n8q); p += n8q;
  const n8r = view.getUint32(p, true); p += 4;
  need(n8r);
  const r = readBigLE(buf, p, n8r); p += n8r;
  if (n8q !== 32 || q !== BN254_Q) bad(file, `zkey curve base field is q = ${q} (${n8q} bytes), expected BN254's q = ${BN254_Q} (32 bytes)`);
  if (n8r !== 32 || r !== BN254_R) bad(file, `zkey curve scalar field is r = ${r} (${n8r} bytes), expected BN254's r = ${BN254_R} (32 bytes)`);
  const g1 = 2 * n8q;
  const g2 = 4 * n8q;
  const headerSize = 4 + n8q + 4 + n8r + 12 + 3 * g1 + 3 * g2;
  if (s2.size !== headerSize) bad(file, `zkey section 2 (groth16 header) is ${s2.size} bytes, expected ${headerSize}`);
  const nVars = view.getUint32(p, true);
  const nPublic = view.getUint32(p + 4, true);
  const domainSize = view.getUint32(p + 8, true);
  p += 12;
  const power = Math.log2(domainSize);
  if (!Number.isInteger(power) || power < 1 || power > 28) bad(file, `zkey domain size is ${domainSize}, expected a power of two from 2 to 2^28`);
  if (nPublic + 1 > nVars) bad(file, `zkey has ${nPublic} public signals but only ${nVars} variables`);
  const point = (n: number) => { const v = buf.subarray(p, p + n); p += n; return v; };
  const header: ZkeyHeader = {
    n8q, q, n8r, r, nVars, nPublic, domainSize, power,
    vk_alpha_1: point(g1), vk_beta_1: point(g1), vk_beta_2: point(g2), vk_gamma_2: point(g2), vk_delta_1: point(g1), vk_delta_2: point(g2),
  };

  sized(3, (nPublic + 1) * g1, `${nPublic + 1} IC points × ${g1}`);
  const s4 = section(4);
  if (s4.size < 4) bad(file, `zkey section 4 (coefficients) is ${s4.size} bytes, expected at least 4`);
  const nCoef = dataView(bytes(s4)).getUint32(0, true);
  const coefs = sized(4, 4 + nCoef * (12 + n8r), `4 + ${nCoef} coefficients × ${12 + n8r}`).subarray(4);
  return {
    file, header, nCoef, coefs,
    A: sized(5, nVars * g1, `${nVars} variables × ${g1}`),
    B1: sized(6, nVars * g1, `${nVars} variables × ${g1}`),
    B2: sized(7, nVars * g2, `${nVars} variables × ${g2}`),
    C: sized(8, (nVars - nPublic - 1) * g1, `${nVars - nPublic - 1} private variables × ${g1}`),
    H: sized(9, domainSize * g1, `domain ${domainSize} × ${g1}`),
  };
}
