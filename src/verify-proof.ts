// Groth16 verification off-chain with the verdict of the EVM verifier. snarkjs's groth16.verify
// reads a proof's coordinates mod q (x + q is x), takes its projective z as given, and checks B
// only on the twist: a proof it accepts can still be refused on-chain, where the contract reads
// the affine x, y and the precompiles (EIP-196/197) refuse a coordinate ≥ q and a G2 point outside
// the order-r subgroup (the twist's cofactor has small factors: 10069 · 5864401 · …). Here a
// proof passes only in the form the contract reads (z = 1, every coordinate below q), A and C
// on the curve, B on the twist with r·B = 0, and exactly nPublic public signals; then snarkjs's
// pairing check. Browser-safe.
import * as snarkjs from 'snarkjs';
import type { Groth16Proof, VerificationKey } from 'snarkjs';
import { BN254_R as R } from './circom/r1cs.js';
import { Q } from './prover/cpu/wasm-field.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** A non-negative integer written as snarkjs writes one (decimal; 0x-hex and safe numbers as the ABI would encode them), below `bound`. */
function below(v: unknown, bound: bigint): bigint | undefined {
  let x: bigint;
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(v)) x = BigInt(v);
  else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) x = BigInt(v);
  else if (typeof v === 'bigint' && v >= 0n) x = v;
  else return undefined;
  return x < bound ? x : undefined;
}
/** A coordinate as the contract takes it: an integer below q. */
const canonical = (v: unknown) => below(v, Q);

/** What is wrong with the proof's points, or undefined: the checks the EVM's precompiles make. */
export async function proofPointsProblem(proof: Groth16Proof): Promise<string | undefined> {
  const curve: any = await snarkjs.curves.getCurveFromName('bn128');
  const g1 = (name: 'pi_a' | 'pi_c'): string | undefined => {
    const p = proof?.[name] as unknown;
    if (!Array.isArray(p) || p.length !== 3) return `${name} is not [x, y, z]`;
    if (canonical(p[2]) !== 1n) return `${name} is not affine (z = 1), the form the verifier contract reads`;
    const [x, y] = [canonical(p[0]), canonical(p[1])];
    if (x === undefined || y === undefined) return `${name} has a coordinate that is not an integer below q`;
    if (!curve.G1.isValid(curve.G1.fromObject([x, y, 1n]))) return `${name} is not on the curve`;
    return undefined;
  };
  const b = (): string | undefined => {
    const p = proof?.pi_b as unknown;
    if (!Array.isArray(p) || p.length !== 3 || !p.every((c) => Array.isArray(c) && c.length === 2)) return 'pi_b is not [[x0, x1], [y0, y1], [z0, z1]]';
    if (canonical(p[2][0]) !== 1n || canonical(p[2][1]) !== 0n) return 'pi_b is not affine (z = [1, 0]), the form the verifier contract reads';
    const c = [p[0][0], p[0][1], p[1][0], p[1][1]].map(canonical);
    if (c.some((v) => v === undefined)) return 'pi_b has a coordinate that is not an integer below q';
    const B = curve.G2.fromObject([[c[0], c[1]], [c[2], c[3]], [1n, 0n]]);
    if (!curve.G2.isValid(B)) return 'pi_b is not on the twist';
    if (!curve.G2.isZero(curve.G2.timesScalar(B, curve.r))) return 'pi_b is on the twist but not in G2 (r·B ≠ 0)';
    return undefined;
  };
  return g1('pi_a') ?? b() ?? g1('pi_c');
}

/** Why the EVM verifier of this key would refuse the proof, or undefined when it would accept it. */
export async function groth16Problem(vk: VerificationKey, publicSignals: string[], proof: Groth16Proof): Promise<string | undefined> {
  try {
    // snarkjs combines as many IC points as there are signals: a list one short verifies as if
    // the missing signal were 0; the contract takes exactly nPublic
    const n = (vk as { nPublic?: number }).nPublic;
    if (typeof n !== 'number' || (vk as { IC?: unknown[] }).IC?.length !== n + 1) return 'the verification key has no nPublic + 1 IC points';
    if (!Array.isArray(publicSignals) || publicSignals.length !== n) return `${Array.isArray(publicSignals) ? publicSignals.length : 'no'} public signals, the key takes ${n}`;
    const bad = publicSignals.findIndex((v) => below(v, R) === undefined);
    if (bad >= 0) return `public signal ${bad} is not an integer below r`;
    const points = await proofPointsProblem(proof);
    if (points) return points;
    if (!(await snarkjs.groth16.verify(vk, publicSignals, proof, undefined))) return 'the pairing check fails: it is not a proof of these public signals under this key';
    return undefined;
  } catch (e) {
    return `malformed: ${(e as Error).message}`; // an invalid proof, not a crash
  }
}

/** True when the EVM verifier of this key would accept the proof: its points as the precompiles require, then the pairing check. */
export async function verifyGroth16(vk: VerificationKey, publicSignals: string[], proof: Groth16Proof): Promise<boolean> {
  return (await groth16Problem(vk, publicSignals, proof)) === undefined;
}
