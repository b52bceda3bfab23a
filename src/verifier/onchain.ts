import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Contract, ContractFactory, JsonRpcProvider, Network, Wallet, type InterfaceAbi } from 'ethers';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { startAnvil, type AnvilInstance } from './anvil.js';
import { compileSolidity, type CompiledContract } from './compile-sol.js';
import { solidityCallArgs, verifierPublicCount } from './solidity.js';
import type { Groth16Proof, PublicSignals } from './types.js';

export type { Groth16Proof, PublicSignals } from './types.js';

/** Private key of anvil's first dev account (mnemonic "test test ... junk"); public knowledge, local chains only. */
export const ANVIL_DEFAULT_PRIVATE_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

/** EIP-170: runtime code above this many bytes cannot be deployed on mainnet-like chains. */
const MAX_RUNTIME_BYTES = 24_576;

export interface VerifyOnChainOptions {
  /** Verifier source from exportSolidityVerifier (snarkjs Groth16 template). */
  verifierSol: string;
  proof: Groth16Proof;
  publicSignals: PublicSignals;
  /** JSON-RPC URL; default: start a private anvil and stop it afterwards. */
  rpc?: string;
  /** Deployer/sender key; default: anvil's first dev account. */
  privateKey?: string;
  progress?: Progress;
}

export interface OnchainResult {
  /** The verifyAndRecord transaction succeeded (it reverts with InvalidProof otherwise). */
  verified: boolean;
  /** eth_call of the verifier's verifyProof. */
  viewResult: boolean;
  /** Gas of the mined verifyAndRecord transaction (21k base + calldata + verifier + record); 0 when not verified. */
  gasUsed: number;
  txHash?: string;
  verifierAddress: string;
  recorderAddress: string;
  chainId: number;
  rpcUrl: string;
}

/** verifier-contracts/ProofRecorder.sol, found from this module in both src/ and dist/src/ layouts. */
async function recorderTemplate(): Promise<{ path: string; source: string }> {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'verifier-contracts', 'ProofRecorder.sol');
    if (existsSync(p)) return { path: p, source: await readFile(p, 'utf8') };
    dir = dirname(dir);
  }
  throw new ZkonnxError('ARTIFACT_MISSING', 'verifier-contracts/ProofRecorder.sol not found next to the zkonnx package', {
    hint: 'reinstall zkonnx; the package ships verifier-contracts/',
  });
}

/** ProofRecorder source for a circuit with `nPublic` public signals (fills in the template's N_PUBLIC line). */
export async function proofRecorderSource(nPublic: number): Promise<string> {
  if (!Number.isInteger(nPublic) || nPublic < 1) {
    throw new ZkonnxError('BAD_ARGUMENT', `nPublic: expected a positive integer, received ${nPublic}`);
  }
  const { path, source } = await recorderTemplate();
  const re = /^uint256 constant N_PUBLIC = \d+; \/\/ zkonnx:N_PUBLIC$/m;
  if (!re.test(source)) {
    throw new ZkonnxError('ONCHAIN_FAILED', `${path}: the "uint256 constant N_PUBLIC = <n>; // zkonnx:N_PUBLIC" line is missing`, {
      file: path,
      hint: 'restore the template line; zkonnx rewrites it per circuit',
    });
  }
  return source.replace(re, `uint256 constant N_PUBLIC = ${nPublic}; // zkonnx:N_PUBLIC`);
}

/** Compiles the verifier and its ProofRecorder together. */
export async function compileVerifierAndRecorder(
  verifierSol: string,
  progress?: Progress,
): Promise<{ nPublic: number; verifier: CompiledContract; recorder: CompiledContract }> {
  const nPublic = verifierPublicCount(verifierSol);
  if (nPublic < 1) {
    throw new ZkonnxError('BAD_ARGUMENT', 'the verifier takes no public signals; snarkjs\'s template (uint[0]) cannot be compiled', {
      hint: 'make at least one circuit signal public (output or a commitment)',
    });
  }
  const out = await compileSolidity(
    { 'Groth16Verifier.sol': verifierSol, 'ProofRecorder.sol': await proofRecorderSource(nPublic) },
    { progress },
  );
  const verifier = out['Groth16Verifier.sol:Groth16Verifier'];
  const recorder = out['ProofRecorder.sol:ProofRecorder'];
  if (!verifier || !recorder) {
    throw new ZkonnxError('ONCHAIN_FAILED', `compiled output lacks ${!verifier ? 'Groth16Verifier' : 'ProofRecorder'} (got ${Object.keys(out).join(', ')})`);
  }
  return { nPublic, verifier, recorder };
}

/** eth_chainId with a plain fetch: ethers would retry forever and print to the console on a dead URL. */
export async function chainIdOf(rpcUrl: string): Promise<number> {
  let body: { result?: string; error?: { message?: string } };
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(10_000),
    });
    body = (await res.json()) as typeof body;
  } catch (cause) {
    // undici reports "fetch failed" and puts the reason (ECONNREFUSED, ...) in cause.
    const inner = (cause as { cause?: { code?: string; message?: string } })?.cause;
    const why = inner?.code ?? inner?.message ?? String((cause as Error)?.message ?? cause);
    throw new ZkonnxError('ONCHAIN_FAILED', `JSON-RPC at ${rpcUrl} does not answer: ${why}`, {
      hint: 'start a node (e.g. anvil) there, or omit rpc to let zkonnx start anvil',
      cause,
    });
  }
  if (typeof body.result !== 'string') {
    throw new ZkonnxError('ONCHAIN_FAILED', `JSON-RPC at ${rpcUrl}: eth_chainId failed: ${body.error?.message ?? JSON.stringify(body)}`);
  }
  return Number(BigInt(body.result));
}

/** The revert data of an ethers error, wherever the provider put it. */
export function revertData(e: unknown): string | undefined {
  const seen = new Set<unknown>();
  const walk = (x: unknown): string | undefined => {
    if (!x || typeof x !== 'object' || seen.has(x)) return undefined;
    seen.add(x);
    const o = x as Record<string, unknown>;
    if (typeof o.data === 'string' && /^0x[0-9a-fA-F]*$/.test(o.data) && o.data.length >= 10) return o.data;
    return walk(o.info) ?? walk(o.error) ?? walk(o.cause) ?? walk(o.data);
  };
  return walk(e);
}

export function errText(e: unknown): string {
  const o = e as { shortMessage?: string; message?: string };
  return o?.shortMessage ?? o?.message ?? String(e);
}

async function deploy(
  name: string,
  c: CompiledContract,
  wallet: Wallet,
  args: unknown[],
): Promise<Contract> {
  const size = (c.deployedBytecode.length - 2) / 2;
  try {
    const factory = new ContractFactory(c.abi as InterfaceAbi, c.bytecode, wallet);
    const contract = await factory.deploy(...args);
    await contract.waitForDeployment();
    return contract as Contract;
  } catch (cause) {
    throw new ZkonnxError('ONCHAIN_FAILED', `deploying ${name} (${size} bytes of runtime code) failed: ${errText(cause)}`, {
      hint:
        size > MAX_RUNTIME_BYTES
          ? `${name} exceeds the EIP-170 limit of ${MAX_RUNTIME_BYTES} bytes: use fewer public signals (hash inputs instead), or for local tests run anvil with --code-size-limit`
          : 'check that the account is funded and the node accepts deployments',
      cause,
    });
  }
}

/**
 * Deploys the Groth16 verifier and a ProofRecorder bound to it, checks the proof with an
 * eth_call of verifyProof, then submits verifyAndRecord as a real transaction and reports
 * its gas. An invalid proof (tampered point, wrong or out-of-field public signal) gives
 * verified = false: the recorder reverts with InvalidProof, decoded from the revert data.
 * Anything else (node down, deploy failure, other revert) throws ONCHAIN_FAILED.
 */
export async function verifyOnChain(opts: VerifyOnChainOptions): Promise<OnchainResult> {
  const { progress } = opts;
  const { nPublic, verifier: vc, recorder: rc } = await compileVerifierAndRecorder(opts.verifierSol, progress);
  if (!Array.isArray(opts.publicSignals) || opts.publicSignals.length !== nPublic) {
    throw new ZkonnxError(
      'BAD_ARGUMENT',
      `publicSignals: the verifier expects ${nPublic} public signal(s), received ${Array.isArray(opts.publicSignals) ? opts.publicSignals.length : typeof opts.publicSignals}`,
      { hint: 'pass the public.json written with this proof, for the circuit the verifier was exported from' },
    );
  }
  const call = solidityCallArgs(opts.proof, opts.publicSignals);
  const callArgs = [call.pA, call.pB, call.pC, call.pubSignals] as const;

  let anvil: AnvilInstance | undefined;
  let provider: JsonRpcProvider | undefined;
  try {
    let rpcUrl = opts.rpc;
    if (!rpcUrl) {
      anvil = await startAnvil({ progress });
      rpcUrl = anvil.rpcUrl;
    }
    const chainId = await chainIdOf(rpcUrl);
    const network = Network.from(chainId);
    provider = new JsonRpcProvider(rpcUrl, network, {
      staticNetwork: network,
      pollingInterval: 250,
      // ethers caches identical requests for 250 ms by default; back-to-back deploys would then reuse a stale nonce.
      cacheTimeout: -1,
    });
    let wallet: Wallet;
    try {
      wallet = new Wallet(opts.privateKey ?? ANVIL_DEFAULT_PRIVATE_KEY, provider);
    } catch (cause) {
      throw new ZkonnxError('BAD_ARGUMENT', 'privateKey: expected a 32-byte hex string (0x + 64 hex digits)', { cause });
    }

    progress?.step?.(`deploying Groth16Verifier and ProofRecorder (${nPublic} public signal(s)) on chain ${chainId}`);
    const verifier = await deploy('Groth16Verifier', vc, wallet, []);
    const verifierAddress = await verifier.getAddress();
    const recorder = await deploy('ProofRecorder', rc, wallet, [verifierAddress]);
    const recorderAddress = await recorder.getAddress();

    progress?.step?.('verifying the proof on chain');
    let viewResult: boolean;
    try {
      viewResult = Boolean(await verifier.getFunction('verifyProof').staticCall(...callArgs));
    } catch (cause) {
      throw new ZkonnxError('ONCHAIN_FAILED', `eth_call Groth16Verifier.verifyProof failed: ${errText(cause)}`, { cause });
    }

    // The transaction: ethers first runs eth_estimateGas, which executes verifyAndRecord and
    // surfaces its revert. An InvalidProof revert there is a verdict, not a failure, and we
    // do not send a transaction known to revert.
    let verified = false;
    let gasUsed = 0;
    let txHash: string | undefined;
    try {
      const tx = await recorder.getFunction('verifyAndRecord').send(...callArgs);
      const receipt = await tx.wait();
      if (!receipt || receipt.status !== 1) {
        throw new ZkonnxError('ONCHAIN_FAILED', `verifyAndRecord transaction ${tx.hash} was not mined successfully (status ${receipt?.status})`);
      }
      verified = true;
      gasUsed = Number(receipt.gasUsed);
      txHash = receipt.hash;
    } catch (cause) {
      if (cause instanceof ZkonnxError) throw cause;
      const data = revertData(cause);
      const decoded = data ? recorder.interface.parseError(data) : null;
      if (decoded?.name !== 'InvalidProof') {
        throw new ZkonnxError('ONCHAIN_FAILED', `ProofRecorder.verifyAndRecord failed: ${decoded ? `reverted with ${decoded.name}()` : errText(cause)}`, {
          hint: 'the verifier and recorder were deployed; this is a node or gas problem, not a verdict on the proof',
          cause,
        });
      }
    }
    if (verified !== viewResult) {
      progress?.warn?.(`on-chain results disagree: eth_call verifyProof=${viewResult}, verifyAndRecord ${verified ? 'succeeded' : 'reverted InvalidProof'}`);
    }
    progress?.info?.(verified ? `proof verified on chain ${chainId}, gas ${gasUsed}` : `proof rejected on chain ${chainId} (InvalidProof)`);
    return { verified, viewResult, gasUsed, txHash, verifierAddress, recorderAddress, chainId, rpcUrl };
  } finally {
    provider?.destroy();
    await anvil?.stop();
  }
}
