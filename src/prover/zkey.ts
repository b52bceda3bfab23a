// Reader of snarkjs Groth16 proving keys (.zkey, iden3 section container, version 1) for the
// prover. Every section size is checked against the header before anything is computed, so a
// truncated or mixed-up key fails here, naming the file, the section and both numbers.
//   1: u32 protocol (1 = groth16)
//   2: n8q, q, n8r, r, nVars, nPublic, domainSize, α1, β1, β2, γ2, δ1, δ2 (affine, Montgomery LE)
//   3: IC, (nPublic+1) G1        4: u32 nCoef, then nCoef × (u32 m, u32 c, u32 s, n8r value)
//   5: A, nVars G1   6: B1, nVars G1   7: B2, nVars G2   8: C, (nVars−nPublic−1) G1   9: H, domainSize G1
import { ZkonnxError } from '../errors.js';
import { BN254_R, oneSection, readBigLE, readBinSections } from '../circom/r1cs.js';
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

const bad = (file: string, msg: string): never => {
  throw new ZkonnxError('ARTIFACT_MISSING', `${file}: ${msg}`, { file, hint: 'run zkonnx setup again; the key may be truncated or from another tool' });
};

export async function readZkeyFile(src: BinSource): Promise<Zkey> {
  const { buf, file } = await loadBinSource(src, 'zkey');
  return parseZkey(buf, file);
}

export function parseZkey(buf: Uint8Array, file: string): Zkey {
  const sections = readBinSections(buf, 'zkey', 1, file);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const section = (type: number) => oneSection(sections, type, `zkey ${SECTION_NAMES[type]}`, file);
  const sized = (type: number, expected: number, why: string) => {
    const s = section(type);
    if (s.size !== expected) bad(file, `zkey section ${type} (${SECTION_NAMES[type]}) is ${s.size} bytes, expected ${expected} (${why})`);
    return buf.subarray(s.offset, s.offset + s.size);
  };

  const s1 = section(1);
  if (s1.size !== 4) bad(file, `zkey section 1 (header) is ${s1.size} bytes, expected 4`);
  const protocol = view.getUint32(s1.offset, true);
  if (protocol !== 1) bad(file, `zkey protocol is ${protocol}, expected 1 (groth16)${protocol === 2 ? '; 2 is plonk' : protocol === 10 ? '; 10 is fflonk' : ''}`);

  const s2 = section(2);
  let p = s2.offset;
  const need = (n: number) => { if (p + n > s2.offset + s2.size) bad(file, `zkey section 2 (groth16 header) is ${s2.size} bytes, too short at byte ${p - s2.offset} (needs ${p - s2.offset + n})`); };
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
  const nCoef = view.getUint32(s4.offset, true);
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
