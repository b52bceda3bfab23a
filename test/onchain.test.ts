// On-chain verification against real components: circom2 → snarkjs Groth16 → solc-js → anvil.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as snarkjs from 'snarkjs';
import { BN254_R } from '../src/circom/r1cs.js';
import { ZkonnxError } from '../src/errors.js';
import { rpcAnswers, startAnvil, type AnvilInstance } from '../src/verifier/anvil.js';
import { compileSolidity } from '../src/verifier/compile-sol.js';
import { verifyOnChain } from '../src/verifier/onchain.js';
import { exportSolidityVerifier, solidityCallArgs } from '../src/verifier/solidity.js';
import type { Groth16Proof, PublicSignals } from '../src/verifier/types.js';

const run = promisify(execFile);

/** BN254 scalar field modulus r (public signals must be < r). */
const R = BN254_R;

// c = a * b with a public too: 2 public signals, in snarkjs order [outputs..., public inputs...] = [c, a].
const CIRCUIT = `pragma circom 2.0.0;
template Multiplier() {
  signal input a;
  signal input b;
  signal output c;
  c <== a * b;
}
component main {public [a]} = Multiplier();
`;

let dir: string;
let verifierSol: string;
let proof: Groth16Proof;
let publicSignals: PublicSignals;
let anvil: AnvilInstance | undefined;

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zkonnx-onchain-'));
  await writeFile(join(dir, 'circuit.circom'), CIRCUIT);
  await run(fileURLToPath(new URL('../node_modules/.bin/circom2', import.meta.url)), ['circuit.circom', '--r1cs', '--wasm', '--sym', '-o', dir], { cwd: dir });

  // Tiny single-party setup (2^4 powers): fine for a test, never for production keys.
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  const p = (f: string) => join(dir, f);
  await snarkjs.powersOfTau.newAccumulator(curve, 4, p('pot0.ptau'));
  await snarkjs.powersOfTau.contribute(p('pot0.ptau'), p('pot1.ptau'), 'test', 'entropy-1');
  await snarkjs.powersOfTau.preparePhase2(p('pot1.ptau'), p('pot_final.ptau'));
  await snarkjs.zKey.newZKey(p('circuit.r1cs'), p('pot_final.ptau'), p('circuit_0.zkey'));
  await snarkjs.zKey.contribute(p('circuit_0.zkey'), p('circuit_final.zkey'), 'test', 'entropy-2');
  const vk = await snarkjs.zKey.exportVerificationKey(p('circuit_final.zkey'));

  const res = await snarkjs.groth16.fullProve({ a: 3, b: 11 }, p('circuit_js/circuit.wasm'), p('circuit_final.zkey'));
  proof = res.proof;
  publicSignals = res.publicSignals;
  expect(publicSignals).toEqual(['33', '3']);
  expect(await snarkjs.groth16.verify(vk, publicSignals, proof)).toBe(true);

  verifierSol = await exportSolidityVerifier(p('circuit_final.zkey'));
  anvil = await startAnvil();
}, 90_000);

afterAll(async () => {
  await anvil?.stop();
  // snarkjs keeps bn128 worker threads alive in a global; end them so the worker can exit.
  await (globalThis as { curve_bn128?: { terminate(): Promise<void> } | null }).curve_bn128?.terminate();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Solidity export', () => {
  it('renders snarkjs groth16 template with one IC point per public signal', () => {
    expect(verifierSol).toContain('contract Groth16Verifier');
    expect(verifierSol).toContain('uint[2] calldata _pubSignals');
    expect(verifierSol).toMatch(/IC2x/);
  });

  it('maps proof.json to call arguments with the G2 coordinates swapped', () => {
    const args = solidityCallArgs(proof, publicSignals);
    expect(args.pA).toEqual([BigInt(proof.pi_a[0]!), BigInt(proof.pi_a[1]!)]);
    expect(args.pB[0]).toEqual([BigInt(proof.pi_b[0]![1]!), BigInt(proof.pi_b[0]![0]!)]);
    expect(args.pB[1]).toEqual([BigInt(proof.pi_b[1]![1]!), BigInt(proof.pi_b[1]![0]!)]);
    expect(args.pubSignals).toEqual([33n, 3n]);
    expect(() => solidityCallArgs(proof, ['12x'])).toThrow(/publicSignals\[0\]/);
    expect(() => solidityCallArgs(proof, [(1n << 256n).toString()])).toThrow(/uint256/);
  });

  it('reports solc errors with file and line', async () => {
    const err = await compileSolidity({ 'Bad.sol': 'pragma solidity ^0.8.0;\ncontract Bad {\n  function f() public { x = 1; }\n}\n' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkonnxError);
    expect((err as ZkonnxError).code).toBe('ONCHAIN_FAILED');
    expect((err as ZkonnxError).message).toMatch(/Bad\.sol:3:\d+/);
  }, 30_000);
});

describe('verifyOnChain', () => {
  it('verifies a valid proof on its own anvil, measures gas, and stops anvil', async () => {
    const res = await verifyOnChain({ verifierSol, proof, publicSignals });
    expect(res.verified).toBe(true);
    expect(res.viewResult).toBe(true);
    expect(res.gasUsed).toBeGreaterThan(150_000);
    expect(res.gasUsed).toBeLessThan(600_000);
    expect(res.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(res.chainId).toBe(31337);
    console.log(`verifyAndRecord gas (2 public signals): ${res.gasUsed}`);
    // The anvil it started is gone.
    expect(await rpcAnswers(res.rpcUrl, 500)).toBe(false);
  }, 60_000);

  it('rejects a proof with a changed pi_a coordinate (not on the curve)', async () => {
    const bad = clone(proof);
    bad.pi_a[0] = (BigInt(bad.pi_a[0]!) + 1n).toString();
    const res = await verifyOnChain({ verifierSol, proof: bad, publicSignals, rpc: anvil!.rpcUrl });
    expect(res).toMatchObject({ verified: false, viewResult: false, gasUsed: 0 });
    expect(res.txHash).toBeUndefined();
  }, 30_000);

  it('rejects a proof whose A is a valid curve point but the wrong one', async () => {
    const bad = clone(proof);
    bad.pi_a = ['1', '2', '1']; // the BN254 G1 generator
    const res = await verifyOnChain({ verifierSol, proof: bad, publicSignals, rpc: anvil!.rpcUrl });
    expect(res).toMatchObject({ verified: false, viewResult: false, gasUsed: 0 });
  }, 30_000);

  it('rejects a changed public signal', async () => {
    const res = await verifyOnChain({ verifierSol, proof, publicSignals: ['34', '3'], rpc: anvil!.rpcUrl });
    expect(res).toMatchObject({ verified: false, viewResult: false, gasUsed: 0 });
  }, 30_000);

  it('rejects a public signal >= the field modulus, even one congruent to the true value', async () => {
    const aliased = [(BigInt(publicSignals[0]!) + R).toString(), publicSignals[1]!];
    const res = await verifyOnChain({ verifierSol, proof, publicSignals: aliased, rpc: anvil!.rpcUrl });
    expect(res).toMatchObject({ verified: false, viewResult: false, gasUsed: 0 });
  }, 30_000);

  it('verifies again on a shared anvil, with a record per proof', async () => {
    const res = await verifyOnChain({ verifierSol, proof, publicSignals, rpc: anvil!.rpcUrl });
    expect(res.verified).toBe(true);
    expect(res.rpcUrl).toBe(anvil!.rpcUrl);
    expect(await rpcAnswers(anvil!.rpcUrl)).toBe(true); // a caller's node is left running
  }, 30_000);

  it('refuses the wrong number of public signals before touching a chain', async () => {
    const err = await verifyOnChain({ verifierSol, proof, publicSignals: ['33'], rpc: 'http://127.0.0.1:1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkonnxError);
    expect((err as ZkonnxError).code).toBe('BAD_ARGUMENT');
    expect((err as ZkonnxError).message).toMatch(/expects 2 public signal\(s\), received 1/);
  });
});

describe('startAnvil', () => {
  it('fails clearly, with anvil output, when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startAnvil({ port, timeoutMs: 15_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZkonnxError);
      expect((err as ZkonnxError).code).toBe('ONCHAIN_FAILED');
      expect((err as ZkonnxError).message).toMatch(/anvil exited/);
      expect((err as ZkonnxError).message).toMatch(/in use/i);
    } finally {
      blocker.close();
    }
  }, 30_000);

  it('stop() ends anvil and its port stops answering', async () => {
    const a = await startAnvil();
    expect(await rpcAnswers(a.rpcUrl)).toBe(true);
    await a.stop();
    await a.stop(); // idempotent
    expect(await rpcAnswers(a.rpcUrl, 500)).toBe(false);
    expect(() => process.kill(a.pid, 0)).toThrow(); // no such process
  }, 30_000);
});
