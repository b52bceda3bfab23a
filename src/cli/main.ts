#!/usr/bin/env node
// The `zkonnx` command: a thin layer over the library API (src/api.ts).
import { Command, InvalidArgumentError, Option } from 'commander';
import { join } from 'node:path';
import * as api from '../api.js';
import { ZkonnxError } from '../errors.js';
import { loadSample, readJson } from '../inputs.js';
import { packageRoot } from '../paths.js';
import { textSummary } from '../tokenize.js';
import { buildDirOf, buildOpt, jsonOpt, run, visOpt } from './run.js';
import { register as registerData } from './data.js';
import { outputLine, proveSplitVerb, verifySplitVerb } from './split.js';
import { register as registerTrain } from './train.js';
import { register as registerApp } from './app.js';
import { register as registerService } from './service.js';

/** Modules that add verbs: each exports `register(program)` and is listed once here. */
const verbGroups: ((program: Command) => void)[] = [registerData, registerTrain, registerService, registerApp];

// positional options: a verb's options follow it (`setup contribute --build X` is contribute's
// --build, not setup's); subcommands inherit this from the program
const program = new Command().enablePositionalOptions();
program.name('zkonnx').description('Verifiable ML inference: ONNX → circom → Groth16 → verify off-chain and on-chain').version(api.version);

/** "relu 54080, input range checks 7056, …", largest first (committed weights' range checks apart). */
function constraintsByOp(s: api.Settings): string {
  const weights = new Set(s.weights?.tensors.map((t) => t.name) ?? []);
  const checks = (w: boolean) => s.inputs.reduce((n, i) => n + (weights.has(i.name) === w ? i.constraints : 0), 0);
  const by = new Map<string, number>([['input range checks', checks(false)], ['weight range checks', checks(true)]]);
  for (const l of s.layers) by.set(l.op, (by.get(l.op) ?? 0) + l.constraints);
  return [...by.entries()].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
}

/** --dim name=size, repeatable. */
function collectDim(v: string, acc: Record<string, number>): Record<string, number> {
  const m = /^([^=]+)=(\d+)$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError('expected name=size, e.g. --dim seq_len=16');
  return { ...acc, [m[1]!]: parseInt(m[2]!, 10) };
}

/** --fix-input name=v1,v2,…, repeatable. */
function collectFixed(v: string, acc: Record<string, number[]>): Record<string, number[]> {
  const m = /^([^=]+)=(.+)$/.exec(v.trim());
  const values = m ? m[2]!.split(',').map(Number) : [];
  if (!m || values.some((x) => !Number.isFinite(x))) throw new InvalidArgumentError('expected name=value[,value…], e.g. --fix-input sr=16000');
  return { ...acc, [m[1]!]: values };
}

program.command('compile')
  .description('quantize an ONNX model and compile it into a circom circuit')
  .argument('<model>', 'the .onnx file')
  .addOption(buildOpt(true))
  .option('-c, --calibration <file>', 'calibration inputs: a JSON list of {"input_data": ...} (default: the proving input)')
  .option('-i, --input-file <file>', 'the proving input (default: input.json next to the model)')
  .addOption(visOpt('input', 'private'))
  .addOption(visOpt('output', 'public'))
  .option('--activation-bits <n>', 'precision of activations and inputs, in bits', (v) => parseInt(v, 10))
  .option('--weight-bits <n>', 'precision of weights, in bits', (v) => parseInt(v, 10))
  .option('--headroom-bits <n>', 'bits past its calibrated range that each rescale admits (default 4: 16x the largest value calibration saw; 64: every value its interval allows, at more constraints; the default with --weights hashed)', (v) => parseInt(v, 10))
  .addOption(new Option('--weights <visibility>', 'baked: constants of the circuit (the key names the model); hashed: private, committed by a public Poseidon hash (the key names the architecture)').choices(['baked', 'hashed']).default('baked'))
  .option('--weight-scale <n>', 'with --weights hashed: fixed scale 2^n of the weights (default: the largest that fits)', (v) => parseInt(v, 10))
  .option('--split <n>', 'split into n chunk circuits of about equal cost, proven independently and linked by commitments', (v) => parseInt(v, 10))
  .option('--max-constraints <c>', 'split into chunk circuits of at most about c constraints each', (v) => parseInt(v, 10))
  .option('--check-circom', 'also compile circuit.circom with circom (circom2, --O1) and check that it builds the same constraint system and witness (slow on large models)')
  .option('--dim <name=size>', 'size of a symbolic input dimension, e.g. --dim seq_len=16 (repeatable; a symbolic batch dim is 1)', collectDim, {})
  .option('--max-tokens <n>', 'tokens per string of a text input (the Tokenizer of a text pipeline runs outside the circuit; a longer text is refused at prove time; default 64)', (v) => parseInt(v, 10))
  .option('--salt', 'salt the hashed input and output commitments (a fresh random salt per proof, written to proofs/<name>/salts.json), so they hide low-entropy data')
  .option('--fix-input <name=values>', 'fix a model input at compile time (comma-separated values), e.g. --fix-input sr=16000: a constant of the circuit, so control flow on it folds (repeatable)', collectFixed, {})
  .option('--allow-inaccurate', 'keep the build even where the quantized outputs miss onnxruntime-web\'s by more than max(1e-2, 1% of the largest output) on a calibration sample')
  .addOption(jsonOpt())
  .action((model: string, o) => run(o, async (progress) => {
    const r = await api.compile({
      model, dims: o.dim, fixedInputs: o.fixInput, ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}), allowInaccurate: o.allowInaccurate === true, salt: o.salt === true, outDir: o.build, calibration: o.calibration, input: o.inputFile, progress, checkCircom: o.checkCircom === true,
      ...(o.split !== undefined || o.maxConstraints !== undefined ? { split: { chunks: o.split, maxConstraints: o.maxConstraints } } : {}),
      visibility: { input: o.input, output: o.output, weights: o.weights },
      params: {
        ...(o.activationBits ? { activationBits: o.activationBits } : {}), ...(o.weightBits ? { weightBits: o.weightBits } : {}),
        ...(o.weightScale !== undefined ? { weightScale: o.weightScale } : {}), ...(o.headroomBits !== undefined ? { headroomBits: o.headroomBits } : {}),
      },
    });
    const s = r.settings;
    return {
      ok: true, json: { buildDir: r.buildDir, ...s },
      text: [
        `compiled ${model} → ${r.buildDir}`,
        `  constraints ${s.circuit.constraints}, wires ${s.circuit.wires}, public ${s.circuit.publicOutputs + s.circuit.publicInputs} (written in ${s.circuit.compileSeconds.toFixed(2)} s)`,
        ...(s.circuit.checkCircom ? [`  check-circom: circom builds the same system and witness (${s.circuit.checkCircom.circomSeconds.toFixed(1)} s)`] : []),
        ...(s.split ? [`  ${s.split.chunks.length} chunks: ${s.split.chunks.map((c) => c.constraints).join(' + ')} constraints`] : []),
        ...(s.weights ? [`  weights commitment ${s.weights.commitment} (public signal ${s.publicSignals.find((r) => r.kind === 'weights-commit')!.start})`] : []),
        `  by op: ${constraintsByOp(s)}`,
        `  max abs error vs onnxruntime-web ${s.accuracy.maxAbsError.toExponential(3)} over ${s.accuracy.samples} sample(s) (tolerance ${s.accuracy.tolerance})`,
        ...(s.accuracy.allowInaccurate && s.accuracy.worst && s.accuracy.worst.maxAbsError > s.accuracy.worst.tolerance
          ? [`  INACCURATE (kept by --allow-inaccurate): sample ${s.accuracy.worst.sample} is off by ${s.accuracy.worst.maxAbsError.toExponential(3)}, its tolerance is ${s.accuracy.worst.tolerance.toExponential(3)}`] : []),
      ].join('\n'),
    };
  }));

const setupCmd = program.command('setup')
  .description('Groth16 setup: circuit_final.zkey and verification_key.json (subcommands: contribute, beacon, verify, verify-ptau)')
  .addOption(buildOpt())
  .option('--ptau <file>', 'a public powers-of-tau file (default: a cached local single-party one)')
  .addOption(jsonOpt())
  .action((o) => run(o, async (progress) => {
    const buildDir = buildDirOf(o);
    const r = await api.setup({ buildDir, ptau: o.ptau, progress });
    const origin = r.singleParty ? 'single-party ceremony (local powers of tau): fine for development, not for production' : `powers of tau from ${r.ptauPath}`;
    return { ok: true, json: { buildDir, ...r }, text: `setup done: 2^${r.power} domain, ${origin}, ${r.seconds.toFixed(1)} s` };
  }));

/** A contribution's hash, or a split build's, one per chunk. */
const hashesOf = (r: api.Contributed): string => (r.chunkHashes ? `hashes by chunk:${r.chunkHashes.map((h, i) => `\n  chunk ${i}: ${h}`).join('')}` : `hash ${r.contributionHash}`);

setupCmd.command('contribute')
  .description('add a phase-2 contribution to the keys (run once per ceremony participant)')
  .addOption(buildOpt())
  .option('--name <name>', 'contributor name recorded in the key')
  .option('--entropy <text>', 'extra entropy (default: 32 random bytes)')
  .addOption(jsonOpt())
  .action((o) => run(o, async (progress) => {
    const r = await api.contribute({ buildDir: buildDirOf(o), name: o.name, entropy: o.entropy, progress });
    return { ok: true, json: r, text: `contribution added; ${hashesOf(r)}\nre-export the Solidity verifier: the keys changed` };
  }));

setupCmd.command('beacon')
  .description('seal the ceremony with a contribution from a public random beacon')
  .requiredOption('--hash <hex>', 'the beacon value (hex)')
  .option('--iterations <exp>', 'hash the beacon 2^exp times', (v) => parseInt(v, 10), 10)
  .addOption(buildOpt())
  .option('--name <name>', 'name recorded in the key')
  .addOption(jsonOpt())
  .action((o) => run(o, async (progress) => {
    const r = await api.beacon({ buildDir: buildDirOf(o), beaconHash: o.hash, iterationsExp: o.iterations, name: o.name, progress });
    return { ok: true, json: r, text: `beacon contribution added; ${hashesOf(r)}` };
  }));

setupCmd.command('verify')
  .description('check the keys against the circuit (r1cs) and the powers-of-tau file')
  .addOption(buildOpt())
  .option('--ptau <file>', 'the ptau the keys were made from (default: the one setup recorded)')
  .addOption(jsonOpt())
  .action((o) => run(o, async (progress) => {
    const r = await api.verifySetup({ buildDir: buildDirOf(o), ptau: o.ptau, progress });
    const list = r.contributions.map((c, i) => `\n  contribution ${i + 1}${c.name ? ` (${c.name})` : ''}: ${c.hash}${c.beacon ? `, beacon ${c.beacon.hash} 2^${c.beacon.iterationsExp} iterations` : ''}`).join('');
    return { ok: r.ok, json: r, text: r.ok ? `keys verified against the r1cs and ${r.chunkPtaus ? `the ptau of each of ${r.chunkPtaus.length} chunks (${[...new Set(r.chunkPtaus)].join(', ')})` : r.ptau}${list}` : `INVALID keys:\n  ${r.errors.join('\n  ')}` };
  }));

setupCmd.command('verify-ptau')
  .description('check a powers-of-tau file: its contributions, its powers, its hash and its Lagrange sections')
  .argument('<ptau>', 'the .ptau file (a public ceremony\'s, or a local one)')
  .addOption(jsonOpt())
  .action((ptau: string, o) => run(o, async (progress) => {
    const r = await api.verifyPtau({ ptau, progress });
    const list = r.contributions.map((c, i) => `\n  contribution ${i + 1}${c.name ? ` (${c.name})` : ''}: ${c.responseHash}${c.beacon ? `, beacon ${c.beacon.hash} 2^${c.beacon.iterationsExp} iterations` : ''}`).join('');
    const notes = r.notes.map((n) => `\n  note: ${n}`).join('');
    return {
      ok: r.ok, json: r,
      text: r.ok ? `powers of tau verified: 2^${r.power} of a 2^${r.ceremonyPower} ceremony, ${r.contributions.length} contribution(s)${list}${notes}` : `INVALID powers of tau:\n  ${r.errors.join('\n  ')}`,
    };
  }));

program.command('prove')
  .description('prove the model output on an input')
  .argument('[input]', 'input.json ({"input_data": [[...]]})')
  .addOption(buildOpt())
  .option('-n, --name <name>', 'proof folder name under <build>/proofs', 'default')
  .option('--weights <model.onnx>', 'with --weights hashed: prove with this model\'s weights (same architecture)')
  .addOption(new Option('--backend <backend>', 'prover backend: wasm (CPU), webgpu (GPU), auto (webgpu on a hardware adapter, else wasm)').choices(['wasm', 'webgpu', 'auto']).default('auto'))
  .option('--allow-software-gpu', 'webgpu: accept a software adapter (Mesa llvmpipe, SwiftShader); correct but slower than wasm')
  .addOption(jsonOpt())
  .action((input: string | undefined, o) => run(o, async (progress) => {
    const buildDir = buildDirOf(o);
    const settings = api.readSettings(buildDir);
    const file = input ?? join(settings.model.path, '..', 'input.json');
    if (settings.split) return proveSplitVerb(buildDir, file, o, progress);
    const r = await api.prove({ buildDir, input: file, name: o.name, weights: o.weights, backend: o.backend, allowSoftwareGpu: o.allowSoftwareGpu, progress });
    // a text input: what the circuit took of it (its tokens run outside the circuit)
    const sample = settings.inputs.some((inp) => inp.text) ? loadSample(file) : [];
    const texts = settings.inputs.flatMap((inp, k) => (inp.text ? textSummary(inp.name, inp.text, inp.categories ?? [], sample[k] as string[]) : []));
    const lines = [...texts.map((t) => `  ${t}`), ...r.outputs.map(outputLine)];
    if (r.salts) lines.push(`  salts (private: they open the commitments) → ${join(r.proofDir, 'salts.json')}`);
    if (r.reference) {
      const off = r.reference.maxAbsError > r.reference.tolerance;
      lines.push(`  max abs error vs onnxruntime-web ${r.reference.maxAbsError.toExponential(3)} (tolerance ${r.reference.tolerance.toExponential(3)}${off ? ': OVER IT, the proven outputs are not the float model\'s on this input' : ''})`);
    }
    return {
      ok: true, json: { proofDir: r.proofDir, outputs: r.outputs, publicSignals: r.publicSignals, reference: r.reference, seconds: r.seconds, backend: r.backend },
      text: [`proved (${r.backend}, ${r.seconds.prove.toFixed(2)} s) → ${r.proofDir}`, ...lines].join('\n'),
    };
  }));

program.command('verify')
  .description('verify a proof off-chain, with the verdict of the EVM verifier')
  .addOption(buildOpt())
  .option('-n, --name <name>', 'proof folder name under <build>/proofs', 'default')
  .option('--proof <file>', 'a proof.json to verify (with --public) instead of <build>/proofs/<name>/')
  .option('--public <file>', 'the public.json of --proof')
  .option('--vkey <file>', 'the verification key (default: the build\'s verification_key.json); with --proof and --public no build folder is needed')
  .addOption(jsonOpt())
  .action((o) => run(o, async () => {
    if (!o.proof !== !o.public) throw new ZkonnxError('BAD_ARGUMENT', `--${o.proof ? 'proof' : 'public'} without --${o.proof ? 'public' : 'proof'}`, { hint: 'a proof is verified with its public signals: pass --proof proof.json --public public.json' });
    if (o.vkey && !o.proof) throw new ZkonnxError('BAD_ARGUMENT', '--vkey needs --proof and --public', { hint: 'verify --vkey verification_key.json --proof proof.json --public public.json' });
    const given = o.proof ? { proof: readJson(o.proof) as api.Groth16Proof, publicSignals: readJson(o.public) as string[] } : undefined;
    const buildDir = o.build || !o.vkey ? buildDirOf(o) : undefined;
    if (buildDir && api.readSettings(buildDir).split) {
      if (given) throw new ZkonnxError('BAD_ARGUMENT', `${buildDir} is a split build: its proof is one per chunk`, { hint: 'verify the proof folder: zkonnx verify --build DIR --name NAME' });
      return verifySplitVerb(buildDir, o.name);
    }
    const problem = o.vkey
      ? await api.groth16Problem(readJson(o.vkey) as api.VerificationKey, given!.publicSignals, given!.proof)
      : await api.whyInvalid({ buildDir: buildDir!, name: o.name, ...given });
    const ok = problem === undefined;
    // what the proof states: its public outputs (class labels as their strings), where a build says which they are
    const outputs = ok && buildDir ? api.provenOutputs({ buildDir, name: o.name, ...given }) : [];
    return { ok, json: { verified: ok, outputs, ...(problem ? { problem } : {}) }, text: ok ? ['verified', ...outputs.map(outputLine)].join('\n') : `INVALID proof: ${problem}` };
  }));

program.command('export-verifier')
  .description('write the Solidity verifier (Verifier.sol)')
  .addOption(buildOpt())
  .option('-o, --out <file>', 'output file (default: <build>/Verifier.sol)')
  .addOption(jsonOpt())
  .action((o) => run(o, async () => {
    const out = await api.exportVerifier({ buildDir: buildDirOf(o), out: o.out });
    return { ok: true, json: { verifier: out }, text: `wrote ${out}` };
  }));

program.command('verify-onchain')
  .description('deploy the verifier to an EVM and verify the proof in a transaction')
  .addOption(buildOpt())
  .option('-n, --name <name>', 'proof folder name under <build>/proofs', 'default')
  .option('--rpc <url>', 'JSON-RPC endpoint (default: start anvil on 127.0.0.1)')
  .option('--private-key <hex>', 'deployer key (default: the first anvil dev account)')
  .addOption(jsonOpt())
  .action((o) => run(o, async (progress) => {
    const r = await api.verifyOnChain({ buildDir: buildDirOf(o), name: o.name, rpc: o.rpc, privateKey: o.privateKey, progress });
    // the chain says only no; the off-chain verdict (the same checks) says why
    const problem = r.verified ? undefined : await api.whyInvalid({ buildDir: buildDirOf(o), name: o.name });
    return { ok: r.verified, json: { ...r, ...(problem ? { problem } : {}) }, text: r.verified ? `verified on-chain (gas ${r.gasUsed})` : `INVALID proof on-chain${problem ? `: ${problem}` : ''}` };
  }));

program.command('demo')
  .description('the whole pipeline on the bundled MNIST model: compile, setup, prove, verify, verify on a local EVM')
  .addOption(buildOpt())
  .option('--rpc <url>', 'JSON-RPC endpoint (default: start anvil on 127.0.0.1)')
  .addOption(jsonOpt())
  .action((o) => run(o, async (progress) => {
    const dir = join(packageRoot(), 'models', 'mnist-mlp');
    const r = await api.demo({ modelDir: dir, buildDir: o.build, rpc: o.rpc, progress });
    return {
      ok: r.verified && r.onchain.verified, json: r,
      text: [
        `predicted digit: ${r.digit} (label ${r.label})`,
        `constraints: ${r.constraints}`,
        r.verified ? 'verified' : 'NOT verified',
        r.onchain.verified ? `verified on-chain (gas ${r.onchain.gasUsed})` : 'NOT verified on-chain',
      ].join('\n'),
    };
  }));

// Verb groups kept in their own modules register themselves here.
for (const register of verbGroups) register(program);

program.parseAsync(process.argv);
