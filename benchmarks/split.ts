// npm run bench:split — what splitting a model into chunk circuits costs and saves: constraints
// per chunk (the links' range checks and commitments included), prove seconds per chunk and in
// all, and the peak memory (maxRSS) of the process that proves the largest chunk against the one
// that proves the unsplit model, each proof in a child process of its own. models/mnist-mlp and
// models/mnist-cnn (8/8 bits), 1, 2 and 4 chunks. Writes benchmarks/results/split.{json,md}.
//   node dist/benchmarks/split.js [mlp|cnn ...]   (or npx tsx benchmarks/split.ts …)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, prove, setup, verify, type CompileOptions } from '../src/api.js';
import { packageRoot } from '../src/paths.js';
import { releaseCurves } from '../src/snark.js';
import { chunkInputs, proveChunk, verifySplit, type ChunkProof } from '../src/split.js';
import { machine, table } from './chart.js';

interface ChildResult { seconds: { witness: number; prove: number }; maxRssMiB: number; proof?: ChunkProof }

// ---- child: one proof, then its peak memory
if (process.argv[2] === '--child') {
  const job = JSON.parse(readFileSync(process.argv[3]!, 'utf8')) as { buildDir: string; index?: number; input: unknown; outDir: string };
  let res: ChildResult;
  if (job.index === undefined) {
    const p = await prove({ buildDir: job.buildDir, input: job.input as { input_data: number[][] }, name: 'bench' });
    res = { seconds: p.seconds, maxRssMiB: 0 };
  } else {
    const p = await proveChunk({ buildDir: job.buildDir, index: job.index, input: job.input as Record<string, string[]>, outDir: job.outDir });
    res = { seconds: p.seconds, maxRssMiB: 0, proof: p };
  }
  await releaseCurves();
  res.maxRssMiB = process.resourceUsage().maxRSS / 1024;
  writeFileSync(join(job.outDir, 'bench-result.json'), JSON.stringify(res));
  process.exit(0);
}

function inChild(work: string, job: { buildDir: string; index?: number; input: unknown; outDir: string }): ChildResult {
  mkdirSync(job.outDir, { recursive: true });
  const file = join(job.outDir, 'job.json');
  writeFileSync(file, JSON.stringify(job));
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', file], { stdio: ['ignore', 'inherit', 'inherit'], cwd: work });
  if (r.status !== 0) throw new Error(`child proof failed (${r.status})`);
  return JSON.parse(readFileSync(join(job.outDir, 'bench-result.json'), 'utf8')) as ChildResult;
}

const root = packageRoot();
const out = join(root, 'benchmarks', 'results');
mkdirSync(out, { recursive: true });

async function writeResults(rows: Record<string, unknown>[], mach?: string, date?: string): Promise<void> {
  mach ??= await machine();
  const summary = table(
    ['model', 'chunks', 'constraints per chunk', 'total', 'link values in', 'prove s per chunk', 'prove s total', 'slowest chunk s', 'RSS largest chunk MiB', 'peak RSS any chunk MiB', 'peak vs unsplit', 'compile s', 'setup s', 'verified'],
    rows.map((r) => {
      const base = rows.find((x) => x.model === r.model && x.chunks === 1)!;
      return [r.model as string, r.chunks as number, (r.constraints as number[]).join(' + '), r.totalConstraints as number, (r.linkValues as number[]).join(', '),
        (r.proveS as number[]).map((x) => x.toFixed(2)).join(' + '), (r.totalProveS as number).toFixed(2), (r.maxChunkProveS as number).toFixed(2),
        (r.largestChunkRssMiB as number).toFixed(0), (r.peakRssMiB as number).toFixed(0), `${((r.peakRssMiB as number) / (base.peakRssMiB as number)).toFixed(2)}x`,
        (r.compileS as number).toFixed(1), (r.setupS as number).toFixed(1), String(r.verified)];
    }),
  );
  console.log(summary);
  writeFileSync(join(out, 'split.json'), JSON.stringify({ machine: mach, date: date ?? new Date().toISOString(), rows }, null, 2));
  writeFileSync(join(out, 'split.md'), [
    '# Split models: chunk circuits linked by commitments', '', `Machine: ${mach}`, '',
    'Each proof ran in a child process of its own (snarkjs, wasm backend); RSS is that process\'s peak resident memory (Node\'s baseline included).',
    'Chunks prove one after the other here; on separate machines they prove in parallel, so the latency is the slowest chunk\'s.',
    'The link values a chunk receives are range-checked there and hashed on both sides: that is the extra constraints in the totals.', '',
    '```', summary, '```', '',
  ].join('\n'));
}

// re-render the table from benchmarks/results/split.json
if (process.argv[2] === '--from-json') {
  const j = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8')) as { machine: string; date: string; rows: Record<string, unknown>[] };
  await writeResults(j.rows, j.machine, j.date);
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-split-'));
const models: { key: string; label: string; dir: string; params?: CompileOptions['params'] }[] = [
  { key: 'mlp', label: 'mnist-mlp (196→32→10, 12/12 bits)', dir: join(root, 'models', 'mnist-mlp') },
  { key: 'cnn', label: 'mnist-cnn (8/8 bits)', dir: join(root, 'models', 'mnist-cnn'), params: { activationBits: 8, weightBits: 8 } },
];
const pick = process.argv.slice(2);
const rows: Record<string, unknown>[] = [];

try {
  for (const m of models.filter((x) => !pick.length || pick.includes(x.key))) {
    const input = JSON.parse(readFileSync(join(m.dir, 'input.json'), 'utf8')) as { input_data: number[][] };
    for (const n of [1, 2, 4]) {
      const buildDir = join(work, `${m.key}-${n}`);
      let t = performance.now();
      const { settings: s } = await compile({
        model: join(m.dir, 'model.onnx'), outDir: buildDir, calibration: join(m.dir, 'calibration.json'), input: join(m.dir, 'input.json'),
        params: m.params, ...(n > 1 ? { split: { chunks: n } } : {}),
      });
      const compileS = (performance.now() - t) / 1000;
      t = performance.now();
      await setup({ buildDir });
      const setupS = (performance.now() - t) / 1000;
      let chunks: { constraints: number; proveS: number; witnessS: number; maxRssMiB: number; linkIn: number }[];
      let ok: boolean;
      if (n === 1) {
        const r = inChild(work, { buildDir, input, outDir: join(buildDir, 'proofs', 'bench') });
        ok = await verify({ buildDir, name: 'bench' });
        chunks = [{ constraints: s.circuit.constraints, proveS: r.seconds.prove, witnessS: r.seconds.witness, maxRssMiB: r.maxRssMiB, linkIn: 0 }];
      } else {
        const results = chunkInputs(buildDir, input).map((ci) => inChild(work, { buildDir, index: ci.index, input: ci.input, outDir: join(buildDir, 'proofs', 'bench', String(ci.index)) }));
        ok = (await verifySplit({ buildDir, proofs: results.map((r) => r.proof!) })).ok;
        chunks = results.map((r, k) => ({
          constraints: s.split!.chunks[k]!.constraints, proveS: r.seconds.prove, witnessS: r.seconds.witness, maxRssMiB: r.maxRssMiB, linkIn: s.split!.chunks[k]!.link.in,
        }));
      }
      const largest = chunks.reduce((a, b) => (b.constraints > a.constraints ? b : a));
      const row = {
        model: m.label, chunks: n, constraints: chunks.map((c) => c.constraints), totalConstraints: chunks.reduce((a, c) => a + c.constraints, 0),
        linkValues: chunks.map((c) => c.linkIn), proveS: chunks.map((c) => c.proveS), totalProveS: chunks.reduce((a, c) => a + c.proveS, 0),
        maxChunkProveS: Math.max(...chunks.map((c) => c.proveS)), largestChunkRssMiB: largest.maxRssMiB, peakRssMiB: Math.max(...chunks.map((c) => c.maxRssMiB)),
        compileS, setupS, verified: ok,
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
  await writeResults(rows);
} finally {
  rmSync(work, { recursive: true, force: true });
  await releaseCurves();
}
