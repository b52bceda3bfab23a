// npm run bench:app — proving in the browser page against proving in Node: the same model, the
// same input (a 7 drawn on the page's canvas), the same backend, in the same run. The page runs
// in headless Chromium (Debian's chromium through playwright-core); WebGPU where Chromium has an
// adapter (SwiftShader on a machine without a GPU), WebAssembly always. Node's `webgpu` backend
// runs on Dawn (Mesa's llvmpipe where there is no GPU). Best of --runs proofs each. Writes
// benchmarks/results/app.{json,md} and docs/app.png (the page after a proof).
//   node dist/benchmarks/app.js [--models mnist-mlp,mnist-cnn] [--runs 3] [--backends wasm,webgpu]
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as api from '../src/api.js';
import { startApp } from '../src/app/server.js';
import { inputSignal } from '../src/compiler/emit.js';
import { BuildPaths, packageRoot } from '../src/paths.js';
import { computeWitness, groth16Prove, loadBackend, type BackendName } from '../src/prover/index.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { releaseCurves } from '../src/snark.js';
import { drawSeven, launchChromium, proveOnPage, webgpuAdapter } from '../test/helpers/browser.js';
import { machine, table } from './chart.js';

const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1]! : dflt; };
const MODELS = arg('--models', 'mnist-mlp').split(',');
const RUNS = Number(arg('--runs', '3'));
const BACKENDS = arg('--backends', 'wasm,webgpu').split(',') as BackendName[];

const root = packageRoot();
const out = join(root, 'benchmarks', 'results');
const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-app-'));
mkdirSync(out, { recursive: true });
mkdirSync(join(root, 'docs'), { recursive: true });

async function nodeProve(buildDir: string, x: number[], backend: BackendName): Promise<{ seconds: number; description: string }> {
  const qg = quantGraphFromJson(readFileSync(new BuildPaths(buildDir).file('qgraph'), 'utf8'));
  const qin = quantizeInputs(qg, [x]);
  execQuant(qg, qin);
  const input: Record<string, string[]> = {};
  qin.forEach((v, i) => { input[inputSignal(i)] = v.map(String); });
  const wtns = join(buildDir, 'bench.wtns');
  await computeWitness(join(buildDir, 'circuit_js', 'circuit.wasm'), input, wtns);
  const b = await loadBackend(backend, { allowSoftware: true });
  try {
    const t0 = performance.now();
    await groth16Prove(join(buildDir, 'circuit_final.zkey'), wtns, b);
    return { seconds: (performance.now() - t0) / 1000, description: b.description };
  } finally {
    await b.release?.();
  }
}

const rows: Record<string, unknown>[] = [];
for (const m of MODELS) {
  const buildDir = join(work, 'models', m);
  const model = join(root, 'models', m);
  await api.compile({ model: join(model, 'model.onnx'), outDir: buildDir, calibration: join(model, 'calibration.json') });
  await api.setup({ buildDir });
}
const server = await startApp({ models: join(work, 'models'), port: 0 });
const browser = await launchChromium();
try {
  for (const m of MODELS) {
    const page = await browser.newPage({ viewport: { width: 900, height: 1150 } });
    await page.goto(`${server.url}/?model=${m}`);
    await page.waitForSelector('body[data-ready="1"]');
    await drawSeven(page);
    const adapter = await webgpuAdapter(page);
    const settings = api.readSettings(join(work, 'models', m));
    for (const backend of BACKENDS) {
      if (backend === 'webgpu' && !adapter) {
        rows.push({ model: m, backend, note: 'Chromium has no WebGPU adapter' });
        continue;
      }
      let pageBest = Infinity, nodeBest = Infinity, pageDesc = '', nodeDesc = '', x: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await proveOnPage(page, backend, 1_800_000);
        if (!r.verified) throw new Error(`${m} ${backend}: the page's proof did not verify`);
        pageBest = Math.min(pageBest, r.seconds.prove);
        pageDesc = r.backend;
        x = r.input;
        if (backend === 'wasm' && m === MODELS[0] && i === 0) await page.screenshot({ path: join(root, 'docs', 'app.png'), fullPage: true });
      }
      for (let i = 0; i < RUNS; i++) {
        try {
          const n = await nodeProve(join(work, 'models', m), x, backend);
          nodeBest = Math.min(nodeBest, n.seconds);
          nodeDesc = n.description;
        } catch (e) {
          nodeDesc = `unavailable: ${(e as Error).message}`;
          break;
        }
      }
      rows.push({ model: m, constraints: settings.circuit.constraints, backend, page: pageBest, pageBackend: pageDesc, node: Number.isFinite(nodeBest) ? nodeBest : null, nodeBackend: nodeDesc });
      console.log(JSON.stringify(rows.at(-1)));
    }
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
  await releaseCurves();
}

const mach = await machine();
const summary = table(['model', 'constraints', 'backend', 'page s', 'node s', 'page / node', 'page adapter', 'node adapter'],
  rows.map((r) => [r.model as string, (r.constraints as number | undefined) ?? '', r.backend as string,
    typeof r.page === 'number' ? r.page.toFixed(2) : '—', typeof r.node === 'number' ? r.node.toFixed(2) : '—',
    typeof r.page === 'number' && typeof r.node === 'number' ? `${(r.page / r.node).toFixed(2)}x` : '—',
    (r.pageBackend as string | undefined) ?? (r.note as string), (r.nodeBackend as string | undefined) ?? '']));
console.log(summary);
writeFileSync(join(out, 'app.json'), JSON.stringify({ machine: mach, date: new Date().toISOString(), runs: RUNS, rows }, null, 2));
writeFileSync(join(out, 'app.md'), ['# Proving in the browser page vs in Node', '', `Machine: ${mach}`, '',
  `Best of ${RUNS} proofs each (prover only: the witness and downloads are not counted), same input (a 7 drawn on the page).`, '', '```', summary, '```', ''].join('\n'));
process.exit(0);
