// BigInt helpers shared by the reference code (WebGPU kernels' TypeScript twins, the setup's GLV
// constants): used where values are computed once, never in hot loops.

/** b^e mod m by square-and-multiply (b may be negative). */
export function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b = ((b % m) + m) % m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}
