// npm run bench:gpt [-- --tokens 4,8] [--blocks 4] [--d 64] [--heads 4] [--vocab 512] [--std 0.02]
// The small GPT of models/gpt (written with zkonnx's ONNX writer) end to end: compile, setup,
// prove, verify, the proven last-token logits against onnxruntime-web's, and the next-token
// (argmax) agreement of the integer executor with the float model on 20 more sequences.
// Prints a table, writes benchmarks/results/gpt.{md,json}.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT_SMALL, gptSpec, parameterCount, type GptConfig } from '../models/gpt/gpt.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { buildModel } from '../src/onnx/write.js';
import { BuildPaths, packageRoot } from '../src/paths.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { runReference } from '../src/quantize/reference.js';
import { rng } from '../src/random.js';
import { releaseCurves } from '../src/snark.js';
import type { Settings } from '../src/settings.js';
import { machine, table } from './chart.js';
import { runConformanceModel } from './conformance-lib.js';

function args(): { tokens: number[]; base: GptConfig } {
  const a = process.argv.slice(2);
  const get = (k: string) => { const i = a.indexOf(`--${k}`); return i >= 0 ? a[i + 1] : undefined; };
  const num = (k: string, d: number) => { const v = get(k); const n = v === undefined ? d : Number(v); if (!Number.isFinite(n) || n <= 0) throw new Error(`--${k} must be a positive number, got '${v}'`); return n; };
  const tokens = (get('tokens') ?? '4').split(',').map(Number);
  if (tokens.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`--tokens must be positive integers, got '${get('tokens')}'`);
  const std = get('std');
  return {
    tokens,
    base: {
      ...GPT_SMALL, blocks: num('blocks', GPT_SMALL.blocks), d: num('d', GPT_SMALL.d), heads: num('heads', GPT_SMALL.heads),
      vocab: num('vocab', GPT_SMALL.vocab), ...(std ? { std: num('std', 0.02) } : {}),
    },
  };
}

const { tokens, base } = args();
const out = join(packageRoot(), 'benchmarks', 'results');
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-gpt-'));
const rows: Record<string, unknown>[] = [];
try {
  for (const T of tokens) {
    const cfg: GptConfig = { ...base, tokens: T };
    const dir = join(work, `gpt-${T}`);
    mkdirSync(dir, { recursive: true });
    const spec = gptSpec(cfg);
    const model = join(dir, 'model.onnx');
    writeFileSync(model, buildModel(spec));
    const r = rng(5);
    const seq = () => Array.from({ length: T }, () => Math.floor(r() * cfg.vocab));
    const sample = () => ({ input_data: [seq()] });
    writeFileSync(join(dir, 'input.json'), JSON.stringify(sample()));
    writeFileSync(join(dir, 'calibration.json'), JSON.stringify(Array.from({ length: 32 }, sample)));
    console.log(`gpt: ${cfg.blocks} blocks, d ${cfg.d}, ${cfg.heads} heads, vocab ${cfg.vocab}, ${T} tokens, ${parameterCount(spec)} parameters`);
    const row = await runConformanceModel(dir, join(dir, 'builds'), {
      files: { model, input: join(dir, 'input.json'), calibration: join(dir, 'calibration.json') },
      onStage: (s) => console.log(`  ${s} …`),
    });
    const buildDir = join(dir, 'builds', `gpt-${T}`);
    let agreement: number | undefined;
    let byOp: Record<string, number> = {};
    let power: number | undefined;
    if (row.status === 'pass') {
      const settings = JSON.parse(readFileSync(new BuildPaths(buildDir).file('settings'), 'utf8')) as Settings;
      power = settings.setup?.power;
      for (const l of settings.layers) byOp[l.op] = (byOp[l.op] ?? 0) + l.constraints;
      byOp = Object.fromEntries(Object.entries(byOp).sort((a, b) => b[1] - a[1]));
      // next-token agreement: argmax of the integer executor's logits = argmax of the float model's
      const qg = quantGraphFromJson(readFileSync(new BuildPaths(buildDir).file('qgraph'), 'utf8'));
      const ins = qg.inputs.map((x) => ({ name: x.name, shape: x.shape, dtype: x.dtype }));
      const outs = qg.outputs.map((x) => ({ name: x.name, shape: x.shape }));
      const argmax = (xs: ArrayLike<number | bigint>) => { let j = 0; for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[j]!) j = i; return j; };
      let same = 0;
      for (let k = 0; k < 20; k++) {
        const x = Float64Array.from(seq());
        const ref = await runReference(model, ins, [x], outs);
        if (argmax(execQuant(qg, quantizeInputs(qg, [x])).outputs[0]!) === argmax(ref[0]!)) same++;
      }
      agreement = same / 20;
    }
    rows.push({
      tokens: T, blocks: cfg.blocks, d: cfg.d, heads: cfg.heads, vocab: cfg.vocab, parameters: parameterCount(spec),
      status: row.status, message: row.message, constraints: row.constraints, compileS: row.compileS, setupS: row.setupS, power,
      ptauCreated: row.ptauCreated, witnessS: row.witnessS, proveS: row.proveS, verified: row.verified,
      maxAbsError: row.maxAbsError, tolerance: row.tolerance, nextTokenAgreement: agreement, constraintsByOp: byOp,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    });
    rmSync(join(dir, 'builds'), { recursive: true, force: true });
  }
} finally {
  await releaseCurves();
  rmSync(work, { recursive: true, force: true });
}

const f = (v: unknown, d = 2) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v < 0.01 ? v.toExponential(2) : v.toFixed(d)) : v === undefined ? '' : String(v));
const header = ['tokens', 'params', 'status', 'constraints', 'compile s', 'setup s (2^k)', 'witness s', 'prove s', 'max abs error', 'tolerance', 'next-token agreement'];
const body = rows.map((r) => [
  f(r.tokens), f(r.parameters), `${r.status}`, f(r.constraints), f(r.compileS), `${f(r.setupS)}${r.power ? ` (2^${r.power})` : ''}${r.ptauCreated ? '*' : ''}`,
  f(r.witnessS, 3), f(r.proveS), f(r.maxAbsError), f(r.tolerance), r.nextTokenAgreement === undefined ? '' : `${(100 * (r.nextTokenAgreement as number)).toFixed(0)}% of 20`,
]);
const text = table(header, body);
console.log(`\n${text}`);
for (const r of rows) if (r.message) console.log(`tokens ${r.tokens}: ${r.message}`);
const m = await machine();
const cfgLine = `${base.blocks} blocks, d ${base.d}, ${base.heads} heads, vocab ${base.vocab}, ${base.std ? `weights N(0, ${base.std}²)` : 'Xavier-scaled weights'}, last-token logits public`;
const md = [
  '# A small GPT, proven (`npm run bench:gpt`)', '',
  `Machine: ${m}. Run ${new Date().toISOString()}.`, '',
  `Model: models/gpt (zkonnx's ONNX writer): ${cfgLine}. Token ids are a private int64 input.`,
  'Error: proven logits against onnxruntime-web on the proving input; agreement: argmax of the integer executor (what a proof proves) against the float model on 20 more random sequences.', '',
  '```', text, '```', '',
  '\\* setup time includes generating the powers-of-tau file for that power (cached afterwards).', '',
  '## Constraints by op', '',
  ...rows.map((r) => `- ${r.tokens} tokens: ${Object.entries(r.constraintsByOp as Record<string, number>).map(([k, v]) => `${k} ${v}`).join(', ')}`),
  '',
].join('\n');
writeFileSync(join(out, 'gpt.md'), md);
writeFileSync(join(out, 'gpt.json'), JSON.stringify({ machine: m, config: base, rows }, null, 1));
console.log(`wrote ${join(out, 'gpt.md')} and gpt.json`);
