// On-chain verification of a split model's proofs: every chunk's snarkjs Groth16Verifier, and
// verifier-contracts/SplitVerifier.sol, which calls each of them and checks the link commitments.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Contract, ContractFactory, JsonRpcProvider, Network, Wallet, type InterfaceAbi } from 'ethers';
import { readSettings } from '../settings.js';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { BuildPaths, packageRoot } from '../paths.js';
import { compileSolidity, type CompiledContract } from './compile-sol.js';
import { ANVIL_DEFAULT_PRIVATE_KEY, chainIdOf, errText } from './onchain.js';
import { exportSolidityVerifier, solidityCallArgs } from './solidity.js';
import type { Groth16Proof } from './types.js';

export interface SplitVerifierDeployment {
  address: string;
  verifiers: string[];
  /** eth_call of SplitVerifier.verify: true only when every chunk proof verifies and every link matches. */
  verify(proofs: { proof: Groth16Proof; publicSignals: string[] }[]): Promise<boolean>;
  /** Gas of verify(proofs) as a transaction would spend it (eth_estimateGas). */
  estimateGas(proofs: { proof: Groth16Proof; publicSignals: string[] }[]): Promise<number>;
  close(): void;
}

async function deploy(name: string, c: CompiledContract, wallet: Wallet, args: unknown[] = []): Promise<string> {
  try {
    const contract = await new ContractFactory(c.abi as InterfaceAbi, c.bytecode, wallet).deploy(...args);
    await contract.waitForDeployment();
    return contract.getAddress();
  } catch (cause) {
    throw new ZkonnxError('ONCHAIN_FAILED', `deploying ${name} failed: ${errText(cause)}`, { cause });
  }
}

/** Deploys each chunk's verifier and a SplitVerifier over them, from a split build set up with keys. */
export async function deploySplitVerifier(opts: { buildDir: string; rpc: string; privateKey?: string; progress?: Progress }): Promise<SplitVerifierDeployment> {
  const split = readSettings(opts.buildDir).split;
  if (!split) throw new ZkonnxError('BAD_ARGUMENT', `${resolve(opts.buildDir)} is not a split build`, { hint: 'compile with --split N' });
  const chainId = await chainIdOf(opts.rpc);
  const network = Network.from(chainId);
  const provider = new JsonRpcProvider(opts.rpc, network, { staticNetwork: network, pollingInterval: 250, cacheTimeout: -1 });
  try {
    const wallet = new Wallet(opts.privateKey ?? ANVIL_DEFAULT_PRIVATE_KEY, provider);
    const verifiers: string[] = [];
    for (const [k, ch] of split.chunks.entries()) {
      opts.progress?.step?.(`deploying the verifier of chunk ${k + 1}`);
      const sol = await exportSolidityVerifier(new BuildPaths(join(resolve(opts.buildDir), ch.dir)).require('zkey', 'setup'));
      const out = await compileSolidity({ [`Chunk${k}Verifier.sol`]: sol }, { progress: opts.progress });
      verifiers.push(await deploy(`the verifier of chunk ${k + 1}`, out[`Chunk${k}Verifier.sol:Groth16Verifier`]!, wallet));
    }
    const source = readFileSync(join(packageRoot(), 'verifier-contracts', 'SplitVerifier.sol'), 'utf8');
    const sv = (await compileSolidity({ 'SplitVerifier.sol': source }, { progress: opts.progress }))['SplitVerifier.sol:SplitVerifier']!;
    const pos = (runs: { kind: string; start: number }[], kind: string) => runs.find((r) => r.kind === kind)?.start ?? 0;
    const config = split.chunks.map((ch, k) => ({
      verifier: verifiers[k]!, nPublic: ch.publicSignals.reduce((n, r) => n + r.count, 0),
      linkIn: pos(ch.publicSignals, 'link-in-commit'), linkOut: pos(ch.publicSignals, 'link-out-commit'),
    }));
    const address = await deploy('SplitVerifier', sv, wallet, [config]);
    const contract = new Contract(address, sv.abi as InterfaceAbi, provider);
    const args = (proofs: { proof: Groth16Proof; publicSignals: string[] }[]) => [proofs.map((p) => {
      const c = solidityCallArgs(p.proof, p.publicSignals);
      return { a: c.pA, b: c.pB, c: c.pC, pubSignals: c.pubSignals };
    })];
    return {
      address, verifiers,
      verify: async (proofs) => Boolean(await contract.getFunction('verify').staticCall(...args(proofs))),
      // check() reverts on an invalid set: verify() would be estimated on its cheapest failing path
      estimateGas: async (proofs) => Number(await contract.getFunction('check').estimateGas(...args(proofs))),
      close: () => provider.destroy(),
    };
  } catch (e) {
    provider.destroy();
    throw e;
  }
}
