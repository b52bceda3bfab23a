// Toxic waste: uniformly random nonzero scalars of Fr, from the system's cryptographic source.
// Every buffer that holds secret material goes through `keep`, so the caller can zero it.
import { randomBytes } from 'node:crypto';
import type { WasmField } from './snarkjs-internals.js';

export function drawSecretScalar(Fr: WasmField, keep: <T extends Uint8Array>(b: T) => T): Uint8Array {
  const two248 = Fr.exp(Fr.e(2), 248);
  for (;;) {
    // 2·31 random bytes, each half below 2^248 < r: x = a + b·2^248 is uniform mod r up to 2^-240.
    const raw = keep(randomBytes(64));
    const lo = keep(new Uint8Array(32));
    const hi = keep(new Uint8Array(32));
    lo.set(raw.subarray(0, 31));
    hi.set(raw.subarray(32, 63));
    const x = keep(Fr.add(keep(Fr.fromRprLE(lo, 0)), keep(Fr.mul(keep(Fr.fromRprLE(hi, 0)), two248))));
    if (!Fr.isZero(x)) return x;
  }
}
