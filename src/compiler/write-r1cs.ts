// circuit.r1cs and circuit.sym from a finished System, streamed to disk: iden3's binary r1cs
// (https://github.com/iden3/r1csfile/blob/master/doc/r1cs_bin_format.md), as snarkjs reads it,
// and circom's .sym (labelIdx,witnessIdx,componentIdx,name; witnessIdx −1 for a signal that
// simplification removed). Memory stays flat: rows are encoded into one reused buffer.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Progress } from '../log.js';
import { P, type FinishedSystem, type Term } from './system.js';

const N8 = 32;
const P_BYTES = fieldBytes(P);

function fieldBytes(x: bigint): Uint8Array {
  const b = new Uint8Array(N8);
  const hex = x.toString(16).padStart(2 * N8, '0');
  for (let i = 0; i < N8; i++) b[i] = parseInt(hex.slice(2 * (N8 - 1 - i), 2 * (N8 - i)), 16);
  return b;
}

/** Writes x ∈ [0, p) as 32 little-endian bytes; small values and p − small values without bigint work. */
export function writeField(buf: Uint8Array, off: number, x: bigint): void {
  if (x < 0x20000000000000n) {
    let v = Number(x);
    for (let i = 0; i < 8; i++) { buf[off + i] = v % 256; v = Math.floor(v / 256); }
    buf.fill(0, off + 8, off + N8);
    return;
  }
  const neg = P - x;
  if (neg < 0x20000000000000n) {
    // p − small: subtract byte by byte with borrow
    let v = Number(neg);
    let borrow = 0;
    for (let i = 0; i < N8; i++) {
      const sub = (v % 256) + borrow;
      v = Math.floor(v / 256);
      let d = P_BYTES[i]! - sub;
      borrow = d < 0 ? 1 : 0;
      if (d < 0) d += 256;
      buf[off + i] = d;
    }
    return;
  }
  buf.set(fieldBytes(x), off);
}

/** Buffered sequential writer over a file descriptor, with positioned patches. */
class Out {
  private buf = new Uint8Array(1 << 22);
  private view = new DataView(this.buf.buffer);
  private used = 0;
  pos = 0;
  constructor(readonly fd: number) {}

  reserve(n: number): { buf: Uint8Array; view: DataView; off: number } {
    if (this.used + n > this.buf.length) this.flush();
    if (n > this.buf.length) {
      this.buf = new Uint8Array(n);
      this.view = new DataView(this.buf.buffer);
    }
    const off = this.used;
    this.used += n;
    this.pos += n;
    return { buf: this.buf, view: this.view, off };
  }

  u32(v: number): void { const r = this.reserve(4); r.view.setUint32(r.off, v, true); }
  u64(v: number): void { const r = this.reserve(8); r.view.setBigUint64(r.off, BigInt(v), true); }
  bytes(b: Uint8Array): void { const r = this.reserve(b.length); r.buf.set(b, r.off); }

  flush(): void {
    let done = 0;
    while (done < this.used) done += writeSync(this.fd, this.buf, done, this.used - done);
    this.used = 0;
  }

  /** Overwrites 8 bytes at an absolute file position (after flush). */
  patchU64(at: number, v: number): void {
    this.flush();
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    writeSync(this.fd, b, 0, 8, at);
  }
}

/** Writes circuit.r1cs; `onRow` sees every constraint as it is written (e.g. to attribute it). */
export function writeR1cs(path: string, sys: FinishedSystem, onRow?: (a: Term[], b: Term[], c: Term[]) => void, progress?: Progress): void {
  const fd = openSync(path, 'w');
  try {
    const out = new Out(fd);
    out.bytes(new TextEncoder().encode('r1cs'));
    out.u32(1);
    out.u32(3);
    // 1: header
    out.u32(1);
    out.u64(4 + N8 + 4 * 4 + 8 + 4);
    out.u32(N8);
    out.bytes(P_BYTES);
    out.u32(sys.nWires);
    out.u32(sys.shape.outputs);
    out.u32(sys.shape.publicInputs);
    out.u32(sys.shape.privateInputs);
    out.u64(sys.nLabels);
    out.u32(sys.nConstraints);
    // 2: constraints (the section size is patched in at the end)
    out.u32(2);
    const sizeAt = out.pos;
    out.u64(0);
    const start = out.pos;
    const lc = (terms: Term[]) => {
      const r = out.reserve(4 + terms.length * (4 + N8));
      r.view.setUint32(r.off, terms.length, true);
      let o = r.off + 4;
      for (const [w, c] of terms) {
        r.view.setUint32(o, w, true);
        writeField(r.buf, o + 4, c);
        o += 4 + N8;
      }
    };
    progress?.step?.(`write ${sys.nConstraints} constraints`, sys.nConstraints);
    let rows = 0;
    sys.forEachConstraint((a, b, c) => {
      lc(a); lc(b); lc(c); onRow?.(a, b, c);
      if (++rows % 65536 === 0) progress?.tick?.(rows);
    });
    const constraintsSize = out.pos - start;
    // 3: wire → label
    out.u32(3);
    out.u64(8 * sys.nWires);
    for (let w = 0; w < sys.nWires; w++) out.u64(sys.labelOf[w]!);
    out.patchU64(sizeAt, constraintsSize);
    out.flush();
  } finally {
    closeSync(fd);
  }
}

export function writeSym(path: string, sys: FinishedSystem): void {
  const fd = openSync(path, 'w');
  try {
    let chunk = '';
    sys.forEachName((label, comp, name) => {
      chunk += `${label},${sys.wireOf[label]},${comp},${name}\n`;
      if (chunk.length > 1 << 20) { writeSync(fd, chunk); chunk = ''; }
    });
    if (chunk) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}
