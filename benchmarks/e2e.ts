// npm run bench:e2e — the whole pipeline on the issue-2 conformance models and the bundled MNIST
// model: constraints, wires, compile / setup / prove seconds, verification gas, max abs error.
// Prints a table and writes benchmarks/results/e2e.{json,md} and charts (SVG).
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, prove, setup, verify, verifyOnChain } from '../src/api.js';
import { packageRoot } from '../src/paths.js';
import { releaseCurves } from '../src/snark.js';
import { startAnvil } from '../src/verifier/anvil.js';
import { barChart, machine, table } from './chart.js';

const root = packageRoot();
const conf = join(root, '..', 'shared', 'conformance', 'ezkl');
const models: { name: string; model: string; input: string; calibration?: string }[] = [];
if (existsSync(conf)) {
  for (const m of ['1l_relu', '1l_mlp', '2l_relu_fc', '2l_relu_small', '1l_flatten', '1l_reshape', '1l_identity', 'linear_regression']) {
    models.push({ name: m, model: join(conf, m, 'network.onnx'), input: join(conf, m, 'input.json') });
  }
} else {
  console.warn(`conformance models not found at ${conf}; benchmarking the bundled model only`);
}
const mnist = join(root, 'models', 'mnist-mlp');
models.push({ name: 'mnist-mlp', model: join(mnist, 'model.onnx'), input: join(mnist, 'input.json'), calibration: join(mnist, 'calibration.json') });

interface Row {
  model: string; constraints: number; wires: number; compileS: number; setupS: number; ptauCreated: boolean;
  proveS: number; verified: boolean; gas: number; maxAbsError: number; tolerance: number;
}

const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-'));
const anvil = await startAnvil();
const rows: Row[] = [];
try {
  for (const m of models) {
    const buildDir = join(work, m.name);
    let t = performance.now();
    const c = await compile({ model: m.model, outDir: buildDir, input: m.input, calibration: m.calibration });
    const compileS = (performance.now() - t) / 1000;
    t = performance.now();
    const s = await setup({ buildDir });
    const setupS = (performance.now() - t) / 1000;
    const p = await prove({ buildDir, input: m.input });
    const ok = await verify({ buildDir });
    const oc = await verifyOnChain({ buildDir, rpc: anvil.rpcUrl });
    rows.push({
      model: m.name, constraints: c.settings.circuit.constraints, wires: c.settings.circuit.wires, compileS, setupS,
      ptauCreated: s.ptauCreated, proveS: p.seconds.prove, verified: ok && oc.verified, gas: oc.gasUsed,
      maxAbsError: p.reference?.maxAbsError ?? NaN, tolerance: c.settings.accuracy.tolerance,
    });
    console.error(`done ${m.name}`);
  }
} finally {
  await anvil.stop();
  await releaseCurves();
}

const host = await machine();
const header = ['model', 'constraints', 'wires', 'compile s', 'setup s', 'prove s', 'verify gas', 'max abs err', 'verified'];
const body = rows.map((r) => [r.model, r.constraints, r.wires, r.compileS.toFixed(2), `${r.setupS.toFixed(2)}${r.ptauCreated ? '*' : ''}`, r.proveS.toFixed(2), r.gas, r.maxAbsError.toExponential(2), r.verified ? 'yes' : 'NO']);
const text = table(header, body);
console.log(`machine: ${host}\n${text}\n* includes generating the powers-of-tau file for that power (cached afterwards)`);

const out = join(root, 'benchmarks', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'e2e.json'), JSON.stringify({ date: new Date().toISOString(), machine: host, rows }, null, 2));
writeFileSync(join(out, 'e2e.md'), `# bench:e2e\n\nMachine: ${host}\n\n\`\`\`\n${text}\n\`\`\`\n\n\\* setup time includes generating the powers-of-tau file for that power (cached afterwards).\n`);
writeFileSync(join(out, 'e2e-constraints.svg'), barChart('Constraints per model', '', rows.map((r) => ({ label: r.model, value: r.constraints }))));
writeFileSync(join(out, 'e2e-prove.svg'), barChart('Groth16 prove time (snarkjs, wasm)', 's', rows.map((r) => ({ label: r.model, value: r.proveS }))));
writeFileSync(join(out, 'e2e-gas.svg'), barChart('On-chain verification gas (verify and record)', 'gas', rows.map((r) => ({ label: r.model, value: r.gas }))));
