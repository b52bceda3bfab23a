// The public signals a compiled model's proof must carry, computed from the integer executor's
// values: output and input values where public, their Poseidon commitments where hashed, and the
// weights commitment with --weights hashed (the layout is emit.ts publicLayout's).
import { BN254_R } from '../circom/r1cs.js';
import { inputSignal, outputCommitBits, outputSignal, saltSignals, type ChunkLinks, type CircuitVisibility, type PublicRun } from '../compiler/emit.js';
import { ZkonnxError } from '../errors.js';
import type { QuantGraph } from '../ir/graph.js';
import type { QExecResult } from '../qexec/exec.js';
import { modelIvs } from './headers.js';
import { packedCommit } from './poseidon.js';

const toField = (x: bigint) => ((x % BN254_R) + BN254_R) % BN254_R;

/** Commitment to the committed weights (inputs with role 'weight'), as the circuit computes it. */
export async function weightsCommitment(qg: QuantGraph, qin: bigint[][]): Promise<bigint | undefined> {
  const ws = qg.inputs.flatMap((inp, i) => (inp.role === 'weight' ? [{ inp, q: qin[i]! }] : []));
  if (!ws.length) return undefined;
  const bits = ws[0]!.inp.bits;
  return packedCommit(ws.flatMap(({ inp, q }) => q.map((v) => v - inp.lo)), bits, 'weight', { iv: modelIvs.weights(ws.map((w) => w.inp)) });
}

/** Salts of a salted build (compile --salt) by signal name: in0_salt, out0_salt, … (emit.ts saltSignals). */
export type Salts = Record<string, bigint>;

/** A salt drawn from the platform's CSPRNG: 32 random bytes mod r. */
export function freshSalt(): bigint {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(32));
  return BigInt(`0x${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`) % BN254_R;
}

/**
 * The salts of a salted build (undefined for an unsalted one): the given ones, which must name
 * exactly its salt signals, each in [0, r), or fresh random ones.
 */
export function saltsFor(qg: QuantGraph, vis: CircuitVisibility, given?: Salts, links?: ChunkLinks): Salts | undefined {
  const names = saltSignals(qg, vis, links);
  if (!names.length) {
    if (given && Object.keys(given).length) throw new ZkonnxError('INPUT_INVALID', `salts given (${Object.keys(given).join(', ')}), but this build salts no commitment`, { hint: 'compile with --salt (and hashed inputs or outputs) to salt them' });
    return undefined;
  }
  const unknown = given ? Object.keys(given).filter((k) => !names.includes(k)) : [];
  if (unknown.length) throw new ZkonnxError('INPUT_INVALID', `unknown salt(s) ${unknown.join(', ')}: this build's are ${names.join(', ')}`, { signal: unknown[0] });
  return Object.fromEntries(names.map((n) => {
    const s = given ? given[n] : freshSalt();
    if (s === undefined || s < 0n || s >= BN254_R) throw new ZkonnxError('INPUT_INVALID', `salt ${n} must be given, in [0, r)`, { signal: n });
    return [n, s];
  }));
}

export async function expectedPublicSignals(qg: QuantGraph, layout: PublicRun[], qin: bigint[][], q: QExecResult, salts?: Salts): Promise<string[]> {
  const out: bigint[] = [];
  for (const r of layout) {
    switch (r.kind) {
      case 'output': out.push(...q.outputs[r.index]!); break;
      case 'input': out.push(...qin[r.index]!); break;
      case 'output-commit': {
        const o = qg.outputs[r.index]!;
        out.push(await packedCommit(q.outputs[r.index]!.map((v) => v + o.bound), outputCommitBits(o.bound), `output '${o.name}' value`, { iv: modelIvs.output(o, outputCommitBits(o.bound)), salt: salts?.[`${outputSignal(r.index)}_salt`] }));
        break;
      }
      case 'input-commit': {
        const inp = qg.inputs[r.index]!;
        out.push(await packedCommit(qin[r.index]!.map((v) => v - inp.lo), inp.bits, `input '${inp.name}' value`, { iv: modelIvs.input(inp), salt: salts?.[`${inputSignal(r.index)}_salt`] }));
        break;
      }
      case 'weights-commit': out.push((await weightsCommitment(qg, qin))!); break;
    }
  }
  return out.map((x) => toField(x).toString());
}
