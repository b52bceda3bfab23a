// `zkonnx train-proof`: prove k steps of fixed-point mini-batch SGD (linear, logistic or softmax
// regression, or an mlp with one ReLU layer) on a committed dataset, from weights with commitment h0 to weights with commitment h1.
import { Command, Option } from 'commander';
import { chainTraining } from '../commit/train-circuit.js';
import { ZkonnxError } from '../errors.js';
import { jsonOpt, run } from './run.js';

const int = (what: string, min = 0) => (v: string): number => {
  if (!/^\d+$/.test(v.trim()) || parseInt(v, 10) < min) throw new ZkonnxError('BAD_ARGUMENT', `${what} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return parseInt(v, 10);
};

export function register(program: Command): void {
  program.command('train-proof')
    .description('prove k steps of fixed-point mini-batch gradient descent on a committed dataset (public: root, h0, h1, start)')
    .requiredOption('--data <dir>', 'the committed dataset folder (`zkonnx data commit --out`)')
    .addOption(new Option('--model <model>', 'linear (squared loss), logistic (cross-entropy, labels 0/1), softmax (cross-entropy over the dataset\'s classes 0 … C − 1) or mlp (one ReLU layer of --hidden units, then softmax)').choices(['linear', 'logistic', 'softmax', 'mlp']).makeOptionMandatory())
    .requiredOption('--steps <k>', 'SGD steps in one proof', int('--steps', 1))
    .requiredOption('--batch <B>', 'samples per step (a power of two)', int('--batch', 1))
    .option('--start <n>', 'position of the first sample; step t uses start + t·B … start + t·B + B − 1', int('--start'), 0)
    .option('--init <file>', 'initial weights.json (default: zeros; an mlp: seeded weights, --seed)')
    .option('--hidden <H>', 'an mlp\'s hidden units (default 16)', int('--hidden', 1))
    .option('--seed <n>', 'an mlp\'s initial weights without --init: He-uniform from this seed (default 0), so anyone can recompute h0', int('--seed'))
    .option('--lr-shift <n>', 'learning rate 2^-n', int('--lr-shift'), 4)
    .option('--wbits <n>', 'signed width of every weight', int('--wbits', 2), 16)
    .option('--weight-scale <n>', 'weights: real ≈ q / 2^n (default: wbits − 4)', int('--weight-scale'))
    .option('--links <n>', 'a chain of n proofs, each from the previous weights and the next positions', int('--links', 1), 1)
    .option('-o, --out <dir>', 'output folder: proof.json, public.json, weights.json, model.onnx (default: build/train/<circuit>/proofs/start-<n>)')
    .option('--build-root <dir>', 'parent of the circuit folders', 'build/train')
    .addOption(jsonOpt())
    .action((o) => run(o, async (progress) => {
      const r = await chainTraining({
        dataDir: o.data, model: o.model, steps: o.steps, batch: o.batch, start: o.start, init: o.init, hidden: o.hidden, seed: o.seed, lrShift: o.lrShift,
        wbits: o.wbits, weightScale: o.weightScale, links: o.links, outDir: o.out, buildRoot: o.buildRoot, progress,
      });
      const json = {
        linked: r.linked, problems: r.problems,
        proofs: r.proofs.map((p) => ({
          outDir: p.outDir, buildDir: p.buildDir, constraints: p.constraints, verified: p.verified, publicSignals: p.publicSignals,
          root: p.root, h0: p.h0, h1: p.h1, start: p.start, nextStart: p.nextStart, weightsFile: p.weightsFile, onnxFile: p.onnxFile,
          weights: p.weights.map(String), floatMaxAbsDiff: p.float.maxAbsDiff, sigmoidMaxError: p.sigmoidMaxError, expMaxError: p.expMaxError, seconds: p.seconds,
        })),
      };
      const lines = r.proofs.flatMap((p, i) => [
        `${r.proofs.length > 1 ? `proof ${i}: ` : ''}${o.steps} step(s) of ${o.batch} from position ${p.start}, ${p.verified ? 'verified' : 'NOT VERIFIED'} (${p.constraints} constraints, prove ${p.seconds.prove.toFixed(2)} s) → ${p.outDir}`,
        `  root ${p.root}`,
        `  h0   ${p.h0}`,
        `  h1   ${p.h1}  (${p.weightsFile})`,
        `  next start ${p.nextStart}; float SGD differs by at most ${p.float.maxAbsDiff.toExponential(2)} per weight`,
      ]);
      if (r.proofs.length > 1) lines.push(r.linked ? 'chain linked: each h0 is the previous h1, each start follows' : `chain BROKEN: ${r.problems.join('; ')}`);
      return { ok: r.linked, json, text: lines.join('\n') };
    }));
}
