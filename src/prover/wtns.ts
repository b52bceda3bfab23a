// Reader of snarkjs/circom .wtns files for the prover: the header and the witness as the raw
// little-endian section (canonical, not Montgomery), which is already the MSM scalar layout.
//   magic "wtns", version 2; section 1: u32 n8, q (n8 bytes), u32 nWitness; section 2: nWitness·n8.
import { ZkonnxError } from '../errors.js';
import { oneSection, readBigLE, readBinSections } from '../circom/r1cs.js';
import { loadBinSource, type BinSource } from './bin-source.js';

export interface Wtns {
  file: string;
  n8: number;
  /** The field the witness lives in: must be the zkey's r. */
  q: bigint;
  nWitness: number;
  /** nWitness × n8 bytes, a view into the file. */
  witness: Uint8Array;
}

const bad = (file: string, msg: string): never => {
  throw new ZkonnxError('ARTIFACT_MISSING', `${file}: ${msg}`, { file, hint: 'compute the witness again (zkonnx prove writes it)' });
};

export async function readWtnsFile(src: BinSource): Promise<Wtns> {
  const { buf, file } = await loadBinSource(src, 'wtns');
  return parseWtns(buf, file);
}

export function parseWtns(buf: Uint8Array, file: string): Wtns {
  const sections = readBinSections(buf, 'wtns', 2, file);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hs = oneSection(sections, 1, 'header', file);
  if (hs.size < 4) bad(file, `wtns section 1 (header) is ${hs.size} bytes, expected at least 4`);
  const n8 = view.getUint32(hs.offset, true);
  if (hs.size !== 4 + n8 + 4) bad(file, `wtns section 1 (header) is ${hs.size} bytes, expected ${4 + n8 + 4} for n8 = ${n8}`);
  const q = readBigLE(buf, hs.offset + 4, n8);
  const nWitness = view.getUint32(hs.offset + 4 + n8, true);
  const ds = oneSection(sections, 2, 'witness', file);
  if (ds.size !== nWitness * n8) bad(file, `wtns section 2 (witness) is ${ds.size} bytes, expected ${nWitness * n8} (${nWitness} values × ${n8} bytes)`);
  return { file, n8, q, nWitness, witness: buf.subarray(ds.offset, ds.offset + ds.size) };
}
