// The body of a setup kernel worker. It runs as `(${kernelThread})()` in a worker thread made with
// `eval: true` (kernels.ts), so it must not reference anything outside itself: no imports, no
// module-level names. It instantiates wasmcurves' BN254 module (the code ffjavascript and snarkjs
// run) and drives its field and curve functions from JavaScript on pointers into its memory:
// a call into wasm costs ~15 ns against ~95 ns for an Fq multiplication, so the orchestration
// is cheap while the algorithms below are ones wasmcurves does not have.
//
//  - comb: s·G for many secret scalars s and a fixed generator G, with a comb table
//    T[j][d] = d·2^(w·j)·G (affine, kept per worker) and the additions done in AFFINE
//    coordinates for a whole chunk of points at once, one batched inversion per window:
//    5 multiplications and a squaring per addition, against 7 and 4 for a mixed Jacobian
//    addition, and ⌈254/w⌉ additions per point (20 at w = 13, against 32 before).
//    No exceptional case can occur: with s < r, after windows 0..j−1 the accumulator is
//    (s mod 2^(wj))·G and the table point d·2^(wj)·G; they share an x coordinate only if
//    s mod 2^(wj) ≡ ±d·2^(wj) (mod r), and both sides lie in (−r, r) with
//    0 ≤ s mod 2^(wj) < 2^(wj) ≤ d·2^(wj) ≤ s, so neither sign is possible.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const require: (m: string) => any;

export function kernelThread(): void {
  const { parentPort, workerData } = require('node:worker_threads');
  const memory = new WebAssembly.Memory({ initial: 512, maximum: 32767 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(workerData.code), { env: { memory } });
  const e: any = instance.exports;
  const G1GEN: number = workerData.pG1gen;
  const G2GEN: number = workerData.pG2gen;
  let top: number = new Uint32Array(memory.buffer, 0, 1)[0]!; // first free byte after tables

  /**
   * Makes [from, from + bytes) usable, moves wasm's own allocator above it and returns its end;
   * `scratch` bytes above stay free for wasm's temporaries (batchInverse, batchToAffine).
   */
  function reserve(from: number, bytes: number, scratch = 0): number {
    const end = (from + bytes + 7) & ~7;
    const need = end + scratch + (1 << 16);
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
    new Uint32Array(memory.buffer, 0, 1)[0] = end;
    return end;
  }
  const bytes = (): Uint8Array => new Uint8Array(memory.buffer);

  interface Group { f: string; g: string; n8: number; gen: number }
  const groups: Record<string, Group> = {
    G1: { f: 'f1m', g: 'g1m', n8: 32, gen: G1GEN },
    G2: { f: 'f2m', g: 'g2m', n8: 64, gen: G2GEN },
  };

  // ---- comb tables, one per (group, w), kept for the worker's life ----------------------------
  const tables = new Map<string, number>();
  function table(name: string, w: number): number {
    const key = `${name}:${w}`;
    const hit = tables.get(key);
    if (hit !== undefined) return hit;
    const G = groups[name]!;
    const W = Math.ceil(254 / w);
    const D = (1 << w) - 1;
    const sJ = G.n8 * 3;
    const sA = G.n8 * 2;
    const count = W * D;
    const pTable = top;
    const pJac = reserve(pTable, count * sA);
    const pBase = reserve(pJac, count * sJ);
    reserve(pBase, sJ, 2 * (count + 1) * G.n8);
    const add = e[`${G.g}_add`];
    e[`${G.g}_copy`](G.gen, pBase);
    for (let j = 0; j < W; j++) {
      const row = pJac + j * D * sJ;
      e[`${G.g}_copy`](pBase, row);
      for (let d = 1; d < D; d++) add(row + (d - 1) * sJ, pBase, row + d * sJ);
      add(row + (D - 1) * sJ, pBase, pBase); // 2^w · base
    }
    e[`${G.g}_batchToAffine`](pJac, count, pTable);
    top = reserve(pTable, count * sA); // drop the Jacobian scratch
    tables.set(key, pTable);
    return pTable;
  }

  // ---- comb: s_i·G, batch-affine -------------------------------------------------------------
  function comb(name: string, w: number, scalars: Uint8Array): Uint8Array {
    const G = groups[name]!;
    const F = G.f;
    const n8 = G.n8;
    const sA = n8 * 2;
    const W = Math.ceil(254 / w);
    const D = (1 << w) - 1;
    const m = scalars.byteLength / 32;
    const pT = table(name, w);
    // layout: scalars (normal form), acc (affine), den, inv
    const pS = top;
    const pAcc = reserve(pS, m * 32);
    const pDen = reserve(pAcc, m * sA);
    const pInv = reserve(pDen, m * n8);
    const pLam = reserve(pInv, m * n8);
    const pTmp = reserve(pLam, n8);
    reserve(pTmp, n8, (m + 1) * n8);
    let mem = bytes();
    mem.set(scalars, pS);
    scalars.fill(0);
    for (let i = 0; i < m; i++) e.frm_fromMontgomery(pS + i * 32, pS + i * 32);
    mem = bytes();
    // digits: w-bit windows of the 256-bit little-endian scalar
    const digits = new Uint16Array(m * W);
    for (let i = 0; i < m; i++) {
      const o = pS + i * 32;
      for (let j = 0; j < W; j++) {
        const bit = j * w;
        const byte = bit >> 3;
        let v = 0;
        for (let b = 0; b < 4 && byte + b < 32; b++) v |= mem[o + byte + b]! << (8 * b);
        digits[i * W + j] = (v >>> (bit & 7)) & D;
      }
    }
    mem.fill(0, pS, pS + m * 32);
    const empty = new Uint8Array(m).fill(1); // accumulator is the point at infinity
    const who = new Int32Array(m);
    const from = new Int32Array(m);
    const sub = e[`${F}_sub`];
    const mul = e[`${F}_mul`];
    const square = e[`${F}_square`];
    const batchInverse = e[`${F}_batchInverse`];
    const copy = e[`${F}_copy`];
    for (let j = 0; j < W; j++) {
      let cnt = 0;
      mem = bytes();
      for (let i = 0; i < m; i++) {
        const d = digits[i * W + j]!;
        if (d === 0) continue;
        const t = pT + (j * D + d - 1) * sA;
        const a = pAcc + i * sA;
        if (empty[i]) {
          mem.copyWithin(a, t, t + sA);
          empty[i] = 0;
          continue;
        }
        sub(t, a, pDen + cnt * n8); // x_T − x_acc
        who[cnt] = i;
        from[cnt] = t;
        cnt++;
      }
      if (cnt === 0) continue;
      batchInverse(pDen, n8, cnt, pInv, n8);
      for (let k = 0; k < cnt; k++) {
        const a = pAcc + who[k]! * sA;
        const t = from[k]!;
        const inv = pInv + k * n8;
        sub(t + n8, a + n8, pLam); // y_T − y_acc
        mul(pLam, inv, pLam); // λ
        square(pLam, pTmp); // λ²
        sub(pTmp, a, pTmp);
        sub(pTmp, t, pTmp); // x3 = λ² − x_acc − x_T
        sub(a, pTmp, pDen); // x_acc − x3 (den is free again)
        mul(pLam, pDen, pDen);
        sub(pDen, a + n8, a + n8); // y3 = λ·(x_acc − x3) − y_acc
        copy(pTmp, a);
      }
    }
    mem = bytes();
    for (let i = 0; i < m; i++) if (empty[i]) mem.fill(0, pAcc + i * sA, pAcc + (i + 1) * sA);
    const out = mem.slice(pAcc, pAcc + m * sA);
    mem.fill(0, pS, pTmp + n8);
    digits.fill(0);
    return out;
  }

  parentPort.on('message', (msg: any) => {
    try {
      const out = comb(msg.group, msg.w, new Uint8Array(msg.scalars));
      parentPort.postMessage({ id: msg.id, out }, [out.buffer]);
    } catch (err) {
      parentPort.postMessage({ id: msg.id, error: String((err as Error)?.stack ?? err) });
    }
  });
}
