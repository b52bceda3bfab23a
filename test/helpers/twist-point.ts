// A point of BN254's twist y² = x³ + b₂ over Fq2 outside the order-r subgroup G2: on the curve,
// so only a subgroup check tells it from a G2 point. ffjavascript's form (x, y, z = 1; Montgomery):
// its first 128 bytes are the point as ptau and zkey files store it (affine, LEM).
import { snarkjs } from '../../src/snark.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

export async function twistPoint(): Promise<Uint8Array> {
  const c: any = await snarkjs.curves.getCurveFromName('bn128');
  const { F1, F2, G2 } = c;
  for (let i = 1; ; i++) {
    const x = new Uint8Array(64);
    x.set(F1.e(BigInt(i)), 0);
    x.set(F1.e(7n), 32);
    const rhs = F2.add(F2.mul(F2.square(x), x), G2.b);
    if (!F2.isSquare(rhs)) continue;
    const p = new Uint8Array(192);
    p.set(x, 0);
    p.set(F2.sqrt(rhs), 64);
    p.set(F2.one, 128);
    if (G2.isValid(p) && !G2.isZero(G2.timesScalar(p, c.r))) return p;
  }
}
