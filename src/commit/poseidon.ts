/**
 * Poseidon commitments in TypeScript, equal to circuits/commit.circom's templates: circomlibjs's
 * Poseidon (the constants circomlib's circuits use), the same packing and chaining rules.
 */
import { ZkonnxError } from '../errors.js';
import { packPerElement, plainIv } from './headers.js';
export { headerIv, plainIv, type CommitHeader } from './headers.js';
import { keepingCurve } from '../setup/fast/snarkjs-internals.js';

export type Hasher = (inputs: readonly bigint[]) => bigint;

let cached: Promise<Hasher> | undefined;

/** Poseidon over 1…16 field elements. circomlibjs loads its own ffjavascript, whose bn128.js
 * clears the process's curve when first evaluated: keepingCurve restores it. */
export function poseidon(): Promise<Hasher> {
  cached ??= keepingCurve(async () => {
    const { buildPoseidon } = await import('circomlibjs');
    const p = await buildPoseidon();
    return (xs: readonly bigint[]) => p.F.toObject(p(xs));
  });
  return cached;
}

export { packPerElement, POSEIDON16_CONSTRAINTS } from './headers.js';

/** Base-2^bits packing of values in [0, 2^bits), k per field element (PackedCommit's e_j). */
export function pack(values: readonly bigint[], bits: number, what = 'value'): bigint[] {
  if (!Number.isInteger(bits) || bits < 1 || bits > 253) throw new ZkonnxError('BAD_ARGUMENT', `packing width must be 1…253 bits, got ${bits}`);
  const k = packPerElement(bits);
  const top = 1n << BigInt(bits);
  const out: bigint[] = [];
  for (let j = 0; j < values.length; j += k) {
    let e = 0n;
    for (let i = Math.min(values.length, j + k) - 1; i >= j; i--) {
      const v = values[i]!;
      if (v < 0n || v >= top) throw new ZkonnxError('INPUT_OUT_OF_RANGE', `${what} ${i} = ${v} is outside [0, 2^${bits})`);
      e = (e << BigInt(bits)) | v;
    }
    out.push(e);
  }
  return out;
}

/**
 * PackedCommit(n, bits, iv): chain Poseidon over the packed elements, 15 at a time, from the IV
 * (a header's, or n·256 + bits by default); with a salt, one more Poseidon(s, salt) at the end.
 */
export async function packedCommit(values: readonly bigint[], bits: number, what?: string, opts: { iv?: bigint; salt?: bigint } = {}): Promise<bigint> {
  if (values.length === 0) throw new ZkonnxError('BAD_ARGUMENT', 'cannot commit to an empty vector');
  const h = await poseidon();
  const e = pack(values, bits, what);
  let s = opts.iv ?? plainIv(values.length, bits);
  for (let r = 0; r < e.length; r += 15) s = h([s, ...e.slice(r, r + 15)]);
  return opts.salt === undefined ? s : h([s, opts.salt]);
}

/** SignedCommit(n, bits): values in [-2^(bits-1), 2^(bits-1)) committed as v + 2^(bits-1). */
export async function signedCommit(values: readonly bigint[], bits: number, what = 'value', opts: { iv?: bigint } = {}): Promise<bigint> {
  const half = 1n << BigInt(bits - 1);
  values.forEach((v, i) => {
    if (v < -half || v >= half) throw new ZkonnxError('INPUT_OUT_OF_RANGE', `${what} ${i} = ${v} is outside [-2^${bits - 1}, 2^${bits - 1})`);
  });
  return packedCommit(values.map((v) => v + half), bits, what, opts);
}
