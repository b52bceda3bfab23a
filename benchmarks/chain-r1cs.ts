// The r1cs and a witness of chain-circuit.ts's chain (2^k − 16 multiplications, public out and
// x), written directly in iden3's binary formats: circom2 (circom compiled to wasm) needs more
// than ten minutes for the 2^20 one, and bench:setup and bench:prove measure the setup and the
// prover, not the compiler. Wires are numbered as circom --O1 numbers them (ONE, out, x, y, then
// c[0..n−2]; c[n−1] is out); the files are byte-identical to circom's and its witness
// calculator's (test/chain-r1cs.test.ts compares them at 2^5 and 2^7).
import { writeFileSync } from 'node:fs';
import { BN254_R } from '../src/circom/r1cs.js';

const u32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};
const u64 = (v: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
  return b;
};
const fe = (v: bigint) => {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++, v >>= 8n) b[i] = Number(v & 0xffn);
  return b;
};

/** iden3's section container: magic, version, then (type, u64 size, bytes) per section. */
function container(magic: string, version: number, sections: [number, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [new TextEncoder().encode(magic), u32(version), u32(sections.length)];
  for (const [type, data] of sections) parts.push(u32(type), u64(data.byteLength), data);
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

export function chainR1cs(power: number): Uint8Array {
  const n = 2 ** power - 16;
  const nWires = 4 + (n - 1);
  const term = 4 + 32;
  const ONE = 0;
  const OUT = 1;
  const X = 2;
  const Y = 3;
  const c = (i: number) => (i === n - 1 ? OUT : 4 + i);
  const MINUS_ONE = BN254_R - 1n;

  // constraints: c0 = x·y; c_i = c_{i−1}·x + i, i.e. c_{i−1}·x = c_i − i, written as circom
  // writes them, with A and C negated: (−c_{i−1})·x = i − c_i
  const body = new Uint8Array(n * (3 * 4 + 4 * term));
  const dv = new DataView(body.buffer);
  let o = 0;
  const lc = (terms: [number, bigint][]) => {
    dv.setUint32(o, terms.length, true);
    o += 4;
    for (const [wire, coef] of terms) {
      dv.setUint32(o, wire, true);
      body.set(fe(coef), o + 4);
      o += term;
    }
  };
  for (let i = 0; i < n; i++) {
    if (i === 0) {
      lc([[X, MINUS_ONE]]);
      lc([[Y, 1n]]);
      lc([[c(0), MINUS_ONE]]);
    } else {
      lc([[c(i - 1), MINUS_ONE]]);
      lc([[X, 1n]]);
      lc([[ONE, BigInt(i)], [c(i), MINUS_ONE]]);
    }
  }
  const header = new Uint8Array([...u32(32), ...fe(BN254_R), ...u32(nWires), ...u32(1), ...u32(1), ...u32(1), ...u64(nWires + 1), ...u32(n)]); // + the label of c[n−1]
  const map = new Uint8Array(nWires * 8);
  const mv = new DataView(map.buffer);
  for (let w = 0; w < nWires; w++) mv.setBigUint64(w * 8, BigInt(w), true);
  return container('r1cs', 1, [[2, body.subarray(0, o)], [1, header], [3, map]]);
}

/** The chain's witness for inputs x, y (src/circom/witness.ts's writeWtns writes it), wires
 * numbered as in chainR1cs: ONE, out, x, y, c[0..n−2]. */
export function chainWitness(power: number, x: bigint, y: bigint): bigint[] {
  const n = 2 ** power - 16;
  x %= BN254_R;
  y %= BN254_R;
  const w: bigint[] = [1n, 0n, x, y];
  let c = (x * y) % BN254_R;
  for (let i = 1; i < n; i++) {
    w.push(c);
    c = (c * x + BigInt(i)) % BN254_R;
  }
  w[1] = c;
  return w;
}

export function writeChainR1cs(power: number, path: string): string {
  writeFileSync(path, chainR1cs(power));
  return path;
}
