// npm run bench:quantized [-- --only a,b] — quantized exports of real models end to end: each
// model of ../shared/realworld named below, as it was exported (float) and quantized the way
// onnxruntime's tools quantize it (benchmarks/quantize-models.ts: quantize_dynamic, and 4-bit
// MatMulNBits where the model has MatMuls by constant weights), through compile, setup, prove and
// verify, the proven output against onnxruntime-web running that same quantized file (digit
// classifiers: class agreement on 100 real digits). Constraints and seconds side by side with the
// float export's. Writes benchmarks/results/quantized.{json,md}.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../src/paths.js';
import { releaseCurves } from '../src/snark.js';
import { machine, table } from './chart.js';
import { runConformanceModel, type Row } from './conformance-lib.js';
import { quantizeModel, type Variant } from './quantize-models.js';
import { agreement, hasRealworld, prepareRealworld } from './realworld-lib.js';

const ROOT = resolve(packageRoot(), '..', 'shared', 'realworld');
/** Models with MatMul or Conv layers small enough to prove each variant in a few minutes here. */
const MODELS: Record<string, Variant[]> = {
  'keras-mlp-tf2onnx': ['dynamic', 'nbits4'],
  'mnist-onnx2c-torch17': ['dynamic'],
  'audio-lstm-keras2onnx': ['dynamic', 'nbits4'],
  'tiny-gpt2-ort-fused': ['dynamic', 'nbits4'],
};

interface Result extends Row { variant: 'float' | Variant; layers?: number }

async function main() {
  if (!hasRealworld(ROOT)) { console.error(`bench:quantized: ${ROOT} not found (the realworld models)`); process.exit(2); }
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : undefined;
  const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-quantized-'));
  const results: Result[] = [];
  try {
    for (const [name, variants] of Object.entries(MODELS)) {
      if (only && !only.includes(name)) continue;
      const p = prepareRealworld(join(ROOT, name), join(work, name, 'inputs'));
      for (const variant of ['float', ...variants] as const) {
        let model = p.model;
        let layers: number | undefined;
        if (variant !== 'float') {
          const q = quantizeModel(readFileSync(p.model), p.model, variant);
          model = join(work, name, `${variant}.onnx`);
          writeFileSync(model, q.bytes);
          layers = q.quantized;
        }
        console.error(`${name} ${variant}${layers !== undefined ? ` (${layers} layers quantized)` : ''} …`);
        const row = await runConformanceModel(join(work, name, variant), join(work, name, 'build'), {
          files: { model, input: p.input, calibration: p.calibration, ...(p.dims ? { dims: p.dims } : {}), ...(p.fixed ? { fixed: p.fixed } : {}) },
          ...(p.digits ? { after: (buildDir: string) => agreement({ ...p, model }, buildDir) } : {}),
        });
        results.push({ ...row, model: name, variant, ...(layers !== undefined ? { layers } : {}) });
        console.error(`  ${row.status} ${row.constraints ?? ''} ${row.message}`);
      }
    }
  } finally {
    await releaseCurves().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
  await report(results);
}

async function report(results: Result[]) {
  const float = new Map(results.filter((r) => r.variant === 'float').map((r) => [r.model, r]));
  const f = (x: number | undefined, d = 2) => (x === undefined ? '—' : x.toFixed(d));
  const rows = results.map((r) => {
    const base = float.get(r.model)?.constraints;
    return [r.model, r.variant, r.layers ?? '—', r.status, r.constraints ?? '—', base && r.constraints ? `${(r.constraints / base).toFixed(2)}x` : '—',
      f(r.compileS), f(r.setupS), f(r.proveS), r.verified === undefined ? '—' : r.verified ? 'yes' : 'NO', r.maxAbsError?.toExponential(2) ?? '—', r.tolerance?.toExponential(2) ?? '—',
      r.agreement === undefined ? '' : `${(100 * r.agreement).toFixed(0)}% of ${r.digits}`];
  });
  const header = ['model', 'variant', 'layers', 'status', 'constraints', 'vs float', 'compile s', 'setup s', 'prove s', 'verified', 'max abs error', 'tolerance', 'class agreement'];
  const text = table(header, rows);
  console.log(text);
  const out = join(packageRoot(), 'benchmarks', 'results');
  mkdirSync(out, { recursive: true });
  const m = await machine();
  writeFileSync(join(out, 'quantized.json'), JSON.stringify({ machine: m, date: new Date().toISOString(), results }, null, 2));
  const failed = results.filter((r) => r.status !== 'pass').map((r) => `- ${r.model} ${r.variant}: ${r.stage ?? ''} ${r.code ?? ''} ${r.message}`);
  writeFileSync(join(out, 'quantized.md'), `# Quantized exports of real models (\`npm run bench:quantized\`)

Machine: ${m}. Run ${new Date().toISOString()}.

Each model of \`../shared/realworld\` below as exported (float) and quantized as onnxruntime's tools
write it (\`benchmarks/quantize-models.ts\`): **dynamic** is quantize_dynamic (int8 weights per
tensor; DynamicQuantizeLinear → MatMulInteger/ConvInteger → scales), **nbits4** is
MatMul4BitsQuantizer's MatMulNBits (uint4, blocks of 32). layers: the MatMul/Conv nodes quantized.
Compile, fast setup, prove (wasm), verify; the error is against onnxruntime-web running the same
quantized file; digit classifiers must agree on ≥ 99% of 100 real digits.

\`\`\`
${text}
\`\`\`
${failed.length ? `\nNot passing:\n\n${failed.join('\n')}\n` : ''}`);
}

await main();
