// Groth16 key benchmark: our one-pass final zkey (src/setup/fast-zkey.ts) against snarkjs
// (zkey new + zkey contribute) in the same run, from the same r1cs and prepared ptau. Each case
// runs in a child process of its own, so that its peak RSS (worker threads included) is its own;
// the ptau and the circuits are made beforehand and not timed.
// Circuits: `mul` is a chain of N multiplications (private inputs, coefficients ±1) filling most
// of the domain; `model` is the bundled MNIST circuit (build/mnist-mlp/circuit.r1cs) when it has
// been built — its coefficients are mostly full-width field elements.
// Prints a table and writes benchmarks/results/zkey.json.
//
//   node dist/benchmarks/zkey.js [--powers 12,14] [--reps 1]
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileCircom } from '../src/circom/compile.js';
import { readR1csHeader } from '../src/circom/r1cs.js';
import { generatePreparedPtau } from '../src/setup/fast-ptau.js';
import { fastGroth16Keys } from '../src/setup/fast-zkey.js';
import { requiredPower } from '../src/setup/ptau.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { reportResult, runChild } from './child.js';

interface Row { circuit: string; constraints: number; power: number; impl: 'zkonnx fast' | 'snarkjs'; seconds: number; peakRssMiB: number; cpuSeconds: number }

const self = fileURLToPath(import.meta.url);
const root = self.includes(`${join('dist', 'benchmarks')}`) ? resolve(dirname(self), '..', '..') : resolve(dirname(self), '..');

async function child(impl: string, r1cs: string, ptau: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'zkonnx-bench-zkey-'));
  try {
    await snarkjs.curves.getCurveFromName('bn128'); // worker start-up is not part of either
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (impl === 'ours') {
      await fastGroth16Keys({ r1csPath: r1cs, ptauPath: ptau, zkeyPath: join(dir, 'final.zkey') });
    } else {
      await snarkjs.zKey.newZKey(r1cs, ptau, join(dir, '0.zkey'));
      await snarkjs.zKey.contribute(join(dir, '0.zkey'), join(dir, 'final.zkey'), 'bench', randomBytes(32).toString('hex'));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await releaseCurves();
    reportResult({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMiB: process.resourceUsage().maxRSS / 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(impl: 'ours' | 'snarkjs', r1cs: string, ptau: string): { seconds: number; cpuSeconds: number; peakRssMiB: number } {
  return runChild(self, [impl, r1cs, ptau], `${impl} ${r1cs}`);
}

async function mulCircuit(dir: string, n: number): Promise<string> {
  const src = join(dir, `mul${n}.circom`);
  writeFileSync(src, `pragma circom 2.1.0;
template Mul(n) {
  signal input a[n];
  signal input b[n];
  signal output c;
  signal acc[n + 1];
  acc[0] <== 0;
  for (var i = 0; i < n; i++) acc[i + 1] <== acc[i] + a[i] * b[i];
  c <== acc[n];
}
component main = Mul(${n});
`);
  return (await compileCircom({ circuitPath: src, outDir: join(dir, `mul${n}`) })).r1csPath;
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
} else {
  const arg = (flag: string, dflt: string) => {
    const i = process.argv.indexOf(flag);
    return i < 0 ? dflt : process.argv[i + 1]!;
  };
  const powers = arg('--powers', '12,14').split(',').filter(Boolean).map(Number);
  const reps = Number(arg('--reps', '1'));
  const host = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-zkey-'));
  const rows: Row[] = [];
  try {
    const cases: { circuit: string; r1cs: string; power: number; constraints: number }[] = [];
    for (const p of powers) {
      // 90% of the largest circuit that fits domain 2^p (constraints + 1 output < 2^p)
      const n = Math.floor(0.9 * 2 ** p) - 1;
      const r1cs = await mulCircuit(work, n);
      cases.push({ circuit: `mul ${n}`, r1cs, power: p, constraints: n });
    }
    const model = join(root, 'build', 'mnist-mlp', 'circuit.r1cs');
    if (existsSync(model)) {
      const h = await readR1csHeader(model);
      cases.push({ circuit: 'model (mnist-mlp)', r1cs: model, power: requiredPower(h), constraints: h.nConstraints });
    }
    const ptaus = new Map<number, string>();
    for (const c of cases) {
      if (!ptaus.has(c.power)) {
        const f = join(work, `p${c.power}.ptau`);
        await generatePreparedPtau(c.power, f);
        ptaus.set(c.power, f);
      }
    }
    await releaseCurves();
    cases.sort((a, b) => a.power - b.power);
    for (const c of cases) {
      for (let k = 0; k < reps; k++) {
        for (const impl of ['ours', 'snarkjs'] as const) {
          const r = run(impl, c.r1cs, ptaus.get(c.power)!);
          rows.push({ circuit: c.circuit, constraints: c.constraints, power: c.power, impl: impl === 'ours' ? 'zkonnx fast' : 'snarkjs', ...r });
          console.error(`done ${c.circuit} 2^${c.power} ${impl}: ${r.seconds.toFixed(2)} s`);
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const header = ['circuit', 'domain', 'impl', 'seconds', 'cpu s', 'peak RSS MiB', 'speedup'];
  const body = rows.map((r, i) => {
    const other = rows[i - 1];
    const speedup = r.impl === 'snarkjs' && other?.impl === 'zkonnx fast' && other.circuit === r.circuit ? `${(r.seconds / other.seconds).toFixed(2)}x` : '';
    return [r.circuit, `2^${r.power}`, r.impl, r.seconds.toFixed(2), r.cpuSeconds.toFixed(1), r.peakRssMiB.toFixed(0), speedup];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`machine: ${host}\n${fmt(header)}\n${body.map(fmt).join('\n')}\n(speedup = snarkjs seconds / ours, on the snarkjs row)`);
  const out = join(root, 'benchmarks', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'zkey.json'), `${JSON.stringify({ date: new Date().toISOString(), machine: host, note: 'ours: fastGroth16Keys (one pass, final zkey); snarkjs: zKey.newZKey + zKey.contribute; same r1cs and ptau, each in its own process, worker start-up excluded', rows }, null, 2)}\n`);
}
