/**
 * The on-chain registry (verifier-contracts/ZkonnxRegistry.sol) from TypeScript, with ethers v6:
 * deploy it, register models and training verifiers, submit inference proofs, link training
 * proofs, and read provenance. Reverts come back as ZkonnxError whose message names the
 * contract's custom error and its arguments ("WrongModel(expected: 12…, got: 34…)").
 *
 *   const reg = await deployRegistry({ rpc });
 *   const verifier = await reg.deployVerifier(await exportSolidityVerifier(zkeyPath));
 *   const { modelId } = await reg.registerModel({ verifier: verifier.address, nPublic: verifier.nPublic,
 *     weightsCommitment, weightsIndex: 0, outputStart: 1, outputCount: 1 });
 *   const { outputs } = await reg.submitInference(modelId, proof, publicSignals);
 *   reg.close();
 *
 * Training provenance is recorded per chain, a chain being (dataset root, initial weights): a link
 * continues a state (weights, nextStart) of its chain, never a weights commitment alone, so no one
 * can pre-empt or block another's chain (the contract's header states the threat model).
 *
 *   const { trainingVerifierId } = await reg.registerTrainingVerifier(address, 4, steps * batch);
 *   await reg.linkTraining(trainingVerifierId, first.proof, first.publicSignals); // start 0: h0 is the initial weights
 *   await reg.linkTraining(trainingVerifierId, next.proof, next.publicSignals, { initialWeights: h0 });
 *   await reg.provenance(root, h0, weights); // { trained, steps, nextStart }
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AbiCoder,
  Contract,
  ContractFactory,
  JsonRpcProvider,
  Network,
  Wallet,
  type ContractTransactionReceipt,
  type InterfaceAbi,
  type Log,
  keccak256,
} from 'ethers';
import { ZkonnxError, type ZkonnxErrorCode } from '../errors.js';
import type { Progress } from '../log.js';
import { packageRoot } from '../paths.js';
import { compileSolidity, type CompiledContract } from './compile-sol.js';
import { ANVIL_DEFAULT_PRIVATE_KEY, chainIdOf, errText, revertData } from './onchain.js';
import { solidityCallArgs, verifierPublicCount } from './solidity.js';
import type { Groth16Proof, PublicSignals } from './types.js';

export type Uint = bigint | number | string;

export interface RegistryConnectOptions {
  /** JSON-RPC URL of the chain (e.g. anvil's rpcUrl). */
  rpc: string;
  /** Sender key; default: anvil's first dev account (local chains only). */
  privateKey?: string;
  progress?: Progress;
}

export interface TxInfo {
  txHash: string;
  /** Gas of the mined transaction, from its receipt. */
  gasUsed: number;
}

export interface ModelRegistration {
  /** Address of the model's snarkjs Groth16 verifier (see Registry.deployVerifier). */
  verifier: string;
  /** Number of public signals its verifyProof takes. */
  nPublic: number;
  /** The Poseidon commitment of the weights (`--weights hashed`) every proof must carry. */
  weightsCommitment: Uint;
  /** Position of the weights commitment among the proof's public signals. */
  weightsIndex: number;
  /** Dataset root the model claims to be trained on; 0 (default): none. */
  datasetRoot?: Uint;
  /**
   * Initial weights commitment of the training chain the model claims (e.g. the zero weights'
   * commitment); 0 (default): none. A training claim names both or neither (PartialTrainingClaim):
   * isTrainedOn asks whether the chain (datasetRoot, initialWeights) reached the model's weights.
   */
  initialWeights?: Uint;
  /** Outputs are public signals [outputStart, outputStart + outputCount). */
  outputStart: number;
  outputCount: number;
  metadataURI?: string;
}

export interface ModelInfo {
  modelId: bigint;
  verifier: string;
  nPublic: number;
  weightsIndex: number;
  outputStart: number;
  outputCount: number;
  selector: string;
  weightsCommitment: bigint;
  datasetRoot: bigint;
  initialWeights: bigint;
  metadataURI: string;
}

export interface TrainingVerifierInfo {
  trainingVerifierId: bigint;
  verifier: string;
  nPublic: number;
  selector: string;
  /** Samples one proof consumes (steps · batch): a link on [start, start + samplesPerProof). */
  samplesPerProof: number;
}

export interface InferenceResult extends TxInfo {
  modelId: bigint;
  submitter: string;
  outputs: bigint[];
}

/** A recorded link: the chain (root, initialWeights) reached (h1, nextStart) from (h0, start). */
export interface TrainingLink extends TxInfo {
  root: bigint;
  initialWeights: bigint;
  h0: bigint;
  h1: bigint;
  start: bigint;
  /** start + samplesPerProof: where the next link of the chain from h1 starts. */
  nextStart: bigint;
  /** Links from the chain's initial weights to h1 (1 for a first link). */
  steps: number;
  trainingVerifierId: bigint;
}

export interface LinkTrainingOptions {
  /**
   * The initial weights of the chain the link continues. Default: the proof's h0, which is right
   * for a chain's first link only (start = 0); later links must name their chain.
   */
  initialWeights?: Uint;
}

/** A recorded state (weights, nextStart) of a chain. */
export interface ChainState {
  /** Links from the chain's initial weights. */
  steps: number;
  /** The training verifier of the link that recorded the state. */
  trainingVerifierId: bigint;
}

/** How far a chain (root, initialWeights) trained to some weights. */
export interface Provenance {
  /** Whether a recorded link of the chain reached the weights. */
  trained: boolean;
  /** Links from the initial weights to the furthest recorded state of the weights (0: none). */
  steps: number;
  /** Samples of the root that chain consumed to get there, in order from position 0 (0: none). */
  nextStart: bigint;
}

export interface DeployedVerifier extends TxInfo {
  address: string;
  nPublic: number;
}

/** The parts of settings.json (a model compiled with `--weights hashed`) that registration needs. */
export interface SettingsLayout {
  publicSignals: { signal: string; kind: string; start: number; count: number }[];
  weights?: { commitment: string };
}

/**
 * registerModel's layout for a compiled model, from its settings.json: nPublic, the position of
 * `weights_commit`, the weights commitment, and the outputs (the public output values, or their
 * commitments with `--output hashed`; none with `--output private`).
 */
export function modelLayoutFromSettings(settings: SettingsLayout): Omit<ModelRegistration, 'verifier' | 'datasetRoot' | 'initialWeights' | 'metadataURI'> {
  const runs = settings.publicSignals ?? [];
  const nPublic = runs.reduce((n, r) => n + r.count, 0);
  const w = runs.find((r) => r.kind === 'weights-commit');
  if (!w || !settings.weights?.commitment) {
    throw new ZkonnxError('BAD_ARGUMENT', 'the model has no weights commitment among its public signals (its weights are baked into the circuit)', {
      hint: 'compile with --weights hashed to register the model: the registry binds proofs to a weights commitment',
    });
  }
  const outs = runs.filter((r) => r.kind === 'output').length ? runs.filter((r) => r.kind === 'output') : runs.filter((r) => r.kind === 'output-commit');
  const outputStart = outs.length ? outs[0]!.start : 0;
  const outputCount = outs.reduce((n, r) => n + r.count, 0);
  outs.forEach((r, i) => {
    if (i > 0 && r.start !== outs[i - 1]!.start + outs[i - 1]!.count) {
      throw new ZkonnxError('BAD_ARGUMENT', `settings.json: output signals are not contiguous (${r.signal} starts at ${r.start})`);
    }
  });
  return { nPublic, weightsCommitment: settings.weights.commitment, weightsIndex: w.start, outputStart, outputCount };
}

/** A hint for each of the registry's custom errors (README "On-chain registry" lists them). */
const HINTS: Record<string, string> = {
  NotOwner: 'only the registry owner may register models and training verifiers',
  NotPendingOwner: 'only the account named by transferOwnership may accept ownership',
  ZeroAddress: 'pass a non-zero address',
  NotAContract: 'deploy the snarkjs verifier first and pass its address',
  VerifierMismatch: 'nPublic must be the N of the verifier\'s verifyProof(..., uint[N]) (verifierPublicCount of its source)',
  InvalidLayout: 'weightsIndex < nPublic and outputStart + outputCount <= nPublic; training verifiers take at least 4 signals',
  ValueOutOfField: 'commitments and roots are BN254 field elements, below r',
  PartialTrainingClaim: 'a training claim names both the dataset root and the initial weights of its chain, or neither (both 0)',
  InvalidSamplesPerProof: 'samplesPerProof is the samples one training proof consumes, steps · batch: at least 1, at most 2^32 − 1',
  UnknownModel: 'register the model first (registerModel), or check the id (ids start at 1)',
  UnknownTrainingVerifier: 'register the training verifier first (registerTrainingVerifier), or check the id',
  WrongPublicCount: 'pass the public.json written with the proof, for the circuit the model was registered with',
  SignalOutOfField: 'public signals must be below the BN254 scalar field r; a value >= r is an alias and never valid',
  WrongModel: 'the proof carries another weights commitment than the registered model: prove with the registered weights, or submit to the model registered with these weights',
  InvalidProof: 'the verifier rejected the proof: it was tampered with, or made with another circuit or key',
  NotInChain:
    'a link continues its chain (root, initialWeights): the first starts at sample 0 from the initial weights, each next one from a recorded h1 at the position where that link ended (start + samplesPerProof). Link in training order and pass the chain\'s initialWeights',
  AlreadyLinked: 'this chain already records these weights at this sample position (stateOf shows it): the chain continues from there, nothing to add',
};

/** Errors that are a verdict on the submitted proof rather than a usage or chain problem. */
const VERDICTS = new Set(['InvalidProof', 'WrongModel', 'SignalOutOfField', 'WrongPublicCount', 'NotInChain', 'AlreadyLinked']);

/** The registry's id of the training chain (root, initialWeights): keccak256(abi.encode(root, initialWeights)). */
export function trainingChainId(root: Uint, initialWeights: Uint): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(['uint256', 'uint256'], [toBig(root, 'root'), toBig(initialWeights, 'initialWeights')]));
}

function toBig(v: Uint, what: string): bigint {
  try {
    const b = BigInt(v);
    if (b < 0n || b >= 1n << 256n) throw new Error('range');
    return b;
  } catch {
    throw new ZkonnxError('BAD_ARGUMENT', `${what}: expected an integer in [0, 2^256), received ${JSON.stringify(String(v))}`);
  }
}

/** verifier-contracts/ZkonnxRegistry.sol of this package. */
export async function registrySource(): Promise<string> {
  const p = join(packageRoot(), 'verifier-contracts', 'ZkonnxRegistry.sol');
  if (!existsSync(p)) {
    throw new ZkonnxError('ARTIFACT_MISSING', `${p} not found`, { file: p, hint: 'reinstall zkonnx; the package ships verifier-contracts/' });
  }
  return readFile(p, 'utf8');
}

/** Compiles ZkonnxRegistry.sol with solc-js (cached per process). */
export async function compileRegistry(progress?: Progress): Promise<CompiledContract> {
  const out = await compileSolidity({ 'ZkonnxRegistry.sol': await registrySource() }, { progress });
  const c = out['ZkonnxRegistry.sol:ZkonnxRegistry'];
  if (!c) throw new ZkonnxError('ONCHAIN_FAILED', `compiled output lacks ZkonnxRegistry (got ${Object.keys(out).join(', ')})`);
  return c;
}

async function connect(opts: RegistryConnectOptions): Promise<{ provider: JsonRpcProvider; wallet: Wallet }> {
  const network = Network.from(await chainIdOf(opts.rpc));
  // cacheTimeout -1: ethers caches identical requests for 250 ms, which reuses stale nonces back to back.
  const provider = new JsonRpcProvider(opts.rpc, network, { staticNetwork: network, pollingInterval: 250, cacheTimeout: -1 });
  try {
    return { provider, wallet: new Wallet(opts.privateKey ?? ANVIL_DEFAULT_PRIVATE_KEY, provider) };
  } catch (cause) {
    provider.destroy();
    throw new ZkonnxError('BAD_ARGUMENT', 'privateKey: expected a 32-byte hex string (0x + 64 hex digits)', { cause });
  }
}

async function deployContract(name: string, c: CompiledContract, wallet: Wallet, args: unknown[] = []): Promise<{ contract: Contract; address: string } & TxInfo> {
  try {
    const factory = new ContractFactory(c.abi as InterfaceAbi, c.bytecode, wallet);
    const contract = (await factory.deploy(...args)) as Contract;
    const receipt = await contract.deploymentTransaction()!.wait();
    if (!receipt || receipt.status !== 1) throw new Error(`deployment not mined (status ${receipt?.status})`);
    return { contract, address: await contract.getAddress(), txHash: receipt.hash, gasUsed: Number(receipt.gasUsed) };
  } catch (cause) {
    throw new ZkonnxError('ONCHAIN_FAILED', `deploying ${name} (${(c.deployedBytecode.length - 2) / 2} bytes of runtime code) failed: ${errText(cause)}`, {
      hint: 'check that the account is funded and the node accepts deployments (EIP-170: at most 24,576 bytes of code)',
      cause,
    });
  }
}

/** A deployed ZkonnxRegistry, bound to one sender. */
export class Registry {
  /** Gas and hash of the deployment when this object deployed it. */
  deployment?: TxInfo;

  private constructor(
    readonly address: string,
    readonly contract: Contract,
    readonly provider: JsonRpcProvider,
    readonly wallet: Wallet,
    private readonly compiled: CompiledContract,
    private readonly progress?: Progress,
  ) {}

  /** @internal use deployRegistry / connectRegistry. */
  static async create(address: string, compiled: CompiledContract, opts: RegistryConnectOptions, provider?: JsonRpcProvider, wallet?: Wallet): Promise<Registry> {
    if (!provider || !wallet) ({ provider, wallet } = await connect(opts));
    const contract = new Contract(address, compiled.abi as InterfaceAbi, wallet);
    return new Registry(address, contract, provider, wallet, compiled, opts.progress);
  }

  /** The same registry with another sender (shares the provider; close() the original only). */
  withSigner(privateKey: string): Registry {
    let wallet: Wallet;
    try {
      wallet = new Wallet(privateKey, this.provider);
    } catch (cause) {
      throw new ZkonnxError('BAD_ARGUMENT', 'privateKey: expected a 32-byte hex string (0x + 64 hex digits)', { cause });
    }
    return new Registry(this.address, new Contract(this.address, this.compiled.abi as InterfaceAbi, wallet), this.provider, wallet, this.compiled, this.progress);
  }

  /** Stops the provider's polling. */
  close(): void {
    this.provider.destroy();
  }

  /** Turns an ethers failure of `op` into a ZkonnxError naming the registry's custom error and its arguments. */
  decodeError(e: unknown, op: string): ZkonnxError {
    if (e instanceof ZkonnxError) return e;
    const data = revertData(e);
    let decoded: ReturnType<Contract['interface']['parseError']> = null;
    try {
      decoded = data ? this.contract.interface.parseError(data) : null;
    } catch {
      decoded = null;
    }
    if (!decoded) {
      return new ZkonnxError('ONCHAIN_FAILED', `ZkonnxRegistry.${op} failed: ${errText(e)}`, {
        hint: 'not a revert of the registry: check the node, the account funds and the gas',
        cause: e,
      });
    }
    const args: Record<string, string> = {};
    decoded.fragment.inputs.forEach((p, i) => {
      const v = decoded!.args[i] as unknown;
      args[p.name || `arg${i}`] = typeof v === 'bigint' ? v.toString() : String(v);
    });
    const shown = Object.entries(args).map(([k, v]) => `${k}: ${v}`).join(', ');
    const code: ZkonnxErrorCode = VERDICTS.has(decoded.name) ? 'PROOF_INVALID' : 'ONCHAIN_FAILED';
    return new ZkonnxError(code, `ZkonnxRegistry.${op} reverted: ${decoded.name}(${shown})`, {
      revert: decoded.name,
      args,
      hint: HINTS[decoded.name],
      cause: e,
    });
  }

  private async send(op: string, args: unknown[]): Promise<ContractTransactionReceipt> {
    let receipt: ContractTransactionReceipt | null;
    try {
      // ethers runs eth_estimateGas first: it executes the call and surfaces a revert before sending.
      // The registry reverts whenever a verifier says false, so the estimate is honest (DESIGN.md §7).
      const tx = await this.contract.getFunction(op).send(...args);
      receipt = await tx.wait();
    } catch (e) {
      throw this.decodeError(e, op);
    }
    if (!receipt || receipt.status !== 1) {
      throw new ZkonnxError('ONCHAIN_FAILED', `ZkonnxRegistry.${op}: transaction not mined successfully (status ${receipt?.status})`);
    }
    return receipt;
  }

  private event(receipt: ContractTransactionReceipt, name: string): { args: unknown[] } {
    for (const log of receipt.logs as Log[]) {
      if (log.address.toLowerCase() !== this.address.toLowerCase()) continue;
      const parsed = this.contract.interface.parseLog({ topics: [...log.topics], data: log.data });
      if (parsed?.name === name) return { args: [...parsed.args] };
    }
    throw new ZkonnxError('ONCHAIN_FAILED', `transaction ${receipt.hash} succeeded without emitting ${name}`);
  }

  private async view<T>(op: string, args: unknown[]): Promise<T> {
    try {
      return (await this.contract.getFunction(op).staticCall(...args)) as T;
    } catch (e) {
      throw this.decodeError(e, op);
    }
  }

  /** Compiles and deploys a snarkjs Groth16 verifier (source from exportSolidityVerifier) with this registry's sender. */
  async deployVerifier(verifierSol: string): Promise<DeployedVerifier> {
    const nPublic = verifierPublicCount(verifierSol);
    const out = await compileSolidity({ 'Groth16Verifier.sol': verifierSol }, { progress: this.progress });
    const c = out['Groth16Verifier.sol:Groth16Verifier'];
    if (!c) throw new ZkonnxError('ONCHAIN_FAILED', `compiled output lacks Groth16Verifier (got ${Object.keys(out).join(', ')})`);
    this.progress?.step?.(`deploying Groth16Verifier (${nPublic} public signal(s))`);
    const d = await deployContract('Groth16Verifier', c, this.wallet);
    return { address: d.address, nPublic, txHash: d.txHash, gasUsed: d.gasUsed };
  }

  async owner(): Promise<string> {
    return this.view<string>('owner', []);
  }

  async transferOwnership(newOwner: string): Promise<TxInfo> {
    const r = await this.send('transferOwnership', [newOwner]);
    return { txHash: r.hash, gasUsed: Number(r.gasUsed) };
  }

  async acceptOwnership(): Promise<TxInfo> {
    const r = await this.send('acceptOwnership', []);
    return { txHash: r.hash, gasUsed: Number(r.gasUsed) };
  }

  /** Registers a model (owner only); returns its id (from 1). */
  async registerModel(m: ModelRegistration): Promise<{ modelId: bigint } & TxInfo> {
    const r = await this.send('registerModel', [
      m.verifier,
      m.nPublic,
      toBig(m.weightsCommitment, 'weightsCommitment'),
      m.weightsIndex,
      toBig(m.datasetRoot ?? 0n, 'datasetRoot'),
      toBig(m.initialWeights ?? 0n, 'initialWeights'),
      m.outputStart,
      m.outputCount,
      m.metadataURI ?? '',
    ]);
    const modelId = this.event(r, 'ModelRegistered').args[0] as bigint;
    this.progress?.info?.(`registered model ${modelId} (gas ${r.gasUsed})`);
    return { modelId, txHash: r.hash, gasUsed: Number(r.gasUsed) };
  }

  /**
   * Registers a training verifier (owner only) whose proofs' public signals start
   * [root, h0, h1, start] and consume the samples [start, start + samplesPerProof) of root:
   * samplesPerProof = steps · batch of the training circuit (train-proof's --steps and --batch).
   */
  async registerTrainingVerifier(verifier: string, nPublic: number, samplesPerProof: number): Promise<{ trainingVerifierId: bigint } & TxInfo> {
    if (!Number.isSafeInteger(samplesPerProof) || samplesPerProof < 1) {
      throw new ZkonnxError('BAD_ARGUMENT', `samplesPerProof: expected a positive integer (steps · batch of the training circuit), received ${String(samplesPerProof)}`, {
        hint: HINTS.InvalidSamplesPerProof,
      });
    }
    const r = await this.send('registerTrainingVerifier', [verifier, nPublic, samplesPerProof]);
    const trainingVerifierId = this.event(r, 'TrainingVerifierRegistered').args[0] as bigint;
    return { trainingVerifierId, txHash: r.hash, gasUsed: Number(r.gasUsed) };
  }

  /**
   * Submits a snarkjs proof (proof.json, public.json) for a registered model. Resolves with the
   * outputs of the InferenceVerified event; a rejection throws ZkonnxError (code PROOF_INVALID for
   * InvalidProof, WrongModel, SignalOutOfField, WrongPublicCount).
   */
  async submitInference(modelId: Uint, proof: Groth16Proof, publicSignals: PublicSignals): Promise<InferenceResult> {
    const call = solidityCallArgs(proof, publicSignals);
    const r = await this.send('submitInference', [toBig(modelId, 'modelId'), call.pA, call.pB, call.pC, call.pubSignals]);
    const [id, submitter, outputs] = this.event(r, 'InferenceVerified').args as [bigint, string, bigint[]];
    return { modelId: id, submitter, outputs: [...outputs], txHash: r.hash, gasUsed: Number(r.gasUsed) };
  }

  /**
   * Verifies a training proof (public signals [root, h0, h1, start, ...]) and records the state
   * (h1, start + samplesPerProof) in the chain (root, initialWeights). The link must continue the
   * chain: start = 0 from the initial weights (the default initialWeights is h0, for that case),
   * or from a recorded state (h0, start) of the chain (NotInChain otherwise). Links of other
   * chains into the same weights neither block nor redirect it.
   */
  async linkTraining(trainingVerifierId: Uint, proof: Groth16Proof, publicSignals: PublicSignals, opts: LinkTrainingOptions = {}): Promise<TrainingLink> {
    const call = solidityCallArgs(proof, publicSignals);
    const [, h0Signal, , startSignal] = call.pubSignals as bigint[];
    let initialWeights: bigint;
    if (opts.initialWeights !== undefined) {
      initialWeights = toBig(opts.initialWeights, 'initialWeights');
    } else if (startSignal === undefined || startSignal === 0n) {
      initialWeights = h0Signal ?? 0n; // too few signals: the registry names the problem (WrongPublicCount)
    } else {
      throw new ZkonnxError('BAD_ARGUMENT', `linkTraining: the proof starts at sample ${String(startSignal)}, so it continues a chain: pass the chain's initialWeights`, {
        hint: 'only a first link (start = 0) names its chain by its own h0; pass { initialWeights } of the chain it continues (its first link\'s h0)',
      });
    }
    const r = await this.send('linkTraining', [toBig(trainingVerifierId, 'trainingVerifierId'), initialWeights, call.pA, call.pB, call.pC, call.pubSignals]);
    const [root, init, h1, h0, start, nextStart, steps, tv] = this.event(r, 'TrainingLinked').args as bigint[];
    return {
      root: root!, initialWeights: init!, h0: h0!, h1: h1!, start: start!, nextStart: nextStart!, steps: Number(steps), trainingVerifierId: tv!,
      txHash: r.hash, gasUsed: Number(r.gasUsed),
    };
  }

  async getModel(modelId: Uint): Promise<ModelInfo> {
    const m = await this.view<{ [k: string]: unknown }>('getModel', [toBig(modelId, 'modelId')]);
    return {
      modelId: toBig(modelId, 'modelId'),
      verifier: m.verifier as string,
      nPublic: Number(m.nPublic),
      weightsIndex: Number(m.weightsIndex),
      outputStart: Number(m.outputStart),
      outputCount: Number(m.outputCount),
      selector: m.selector as string,
      weightsCommitment: m.weightsCommitment as bigint,
      datasetRoot: m.datasetRoot as bigint,
      initialWeights: m.initialWeights as bigint,
      metadataURI: m.metadataURI as string,
    };
  }

  async getTrainingVerifier(trainingVerifierId: Uint): Promise<TrainingVerifierInfo> {
    const id = toBig(trainingVerifierId, 'trainingVerifierId');
    const tv = await this.view<{ [k: string]: unknown }>('getTrainingVerifier', [id]);
    return {
      trainingVerifierId: id,
      verifier: tv.verifier as string,
      nPublic: Number(tv.nPublic),
      selector: tv.selector as string,
      samplesPerProof: Number(tv.samplesPerProof),
    };
  }

  /**
   * The recorded state (weights, nextStart) of the chain (root, initialWeights), or null. The
   * chain's own start (initialWeights, 0) is a state without being recorded: null too.
   */
  async stateOf(root: Uint, initialWeights: Uint, weights: Uint, nextStart: Uint): Promise<ChainState | null> {
    const st = await this.view<{ [k: string]: unknown }>('stateOf', [
      toBig(root, 'root'), toBig(initialWeights, 'initialWeights'), toBig(weights, 'weights'), toBig(nextStart, 'nextStart'),
    ]);
    if (Number(st.steps) === 0) return null;
    return { steps: Number(st.steps), trainingVerifierId: st.trainingVerifierId as bigint };
  }

  /** How far the chain (root, initialWeights) trained to `weights`: its furthest recorded state of them. */
  async provenance(root: Uint, initialWeights: Uint, weights: Uint): Promise<Provenance> {
    const [steps, nextStart] = await this.view<[bigint, bigint]>('provenance', [
      toBig(root, 'root'), toBig(initialWeights, 'initialWeights'), toBig(weights, 'weights'),
    ]);
    return { trained: steps !== 0n, steps: Number(steps), nextStart };
  }

  /** Whether a recorded link of the chain (root, initialWeights) reached `weights`. */
  async isTrained(root: Uint, initialWeights: Uint, weights: Uint): Promise<boolean> {
    return this.view<boolean>('isTrained', [toBig(root, 'root'), toBig(initialWeights, 'initialWeights'), toBig(weights, 'weights')]);
  }

  /**
   * Whether the chain the model's registration names (its datasetRoot and initialWeights) reached
   * the model's weights commitment through recorded training proofs. False when it names none.
   */
  async isTrainedOn(modelId: Uint): Promise<boolean> {
    return this.view<boolean>('isTrainedOn', [toBig(modelId, 'modelId')]);
  }
}

/** Compiles and deploys ZkonnxRegistry; the sender becomes its owner. */
export async function deployRegistry(opts: RegistryConnectOptions): Promise<Registry> {
  const compiled = await compileRegistry(opts.progress);
  const { provider, wallet } = await connect(opts);
  try {
    opts.progress?.step?.('deploying ZkonnxRegistry');
    const d = await deployContract('ZkonnxRegistry', compiled, wallet);
    const reg = await Registry.create(d.address, compiled, opts, provider, wallet);
    reg.deployment = { txHash: d.txHash, gasUsed: d.gasUsed };
    return reg;
  } catch (e) {
    provider.destroy();
    throw e;
  }
}

/** A registry already deployed at `address`. */
export async function connectRegistry(address: string, opts: RegistryConnectOptions): Promise<Registry> {
  const compiled = await compileRegistry(opts.progress);
  const reg = await Registry.create(address, compiled, opts);
  if ((await reg.provider.getCode(address)) === '0x') {
    reg.close();
    throw new ZkonnxError('ONCHAIN_FAILED', `no contract at ${address}`, { hint: 'pass the address deployRegistry returned, on the same chain' });
  }
  return reg;
}
