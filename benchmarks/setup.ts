// Setup benchmark, the whole way from nothing to a circuit's Groth16 keys at 2^p: ours (fast
// prepared ptau, src/setup/fast-ptau.ts, then src/setup/fast-zkey.ts) against snarkjs
// (powersoftau new + contribute + prepare phase2, then zkey new + contribute) in the same run, on
// one circuit of 2^p − 16 multiplication constraints per power (its r1cs written directly, as
// circom writes it: benchmarks/chain-r1cs.ts). Each case runs in a child process of its own, so
// that its peak RSS (worker threads included) is its own; ptau and key seconds are reported apart.
// Prints a table and writes benchmarks/results/setup.{json,md} and setup.svg (total seconds).
//
// With --contribute, the 'ours' cases also time one more phase-2 contribution on their final key,
// ours (src/setup/phase2.ts) and snarkjs's zkey contribute, on the same key.
//
//   node dist/benchmarks/setup.js [--ours 12,14,16,18,20] [--snarkjs 12,14,16] [--contribute 12,14,16,18,20]
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePreparedPtau } from '../src/setup/fast-ptau.js';
import { fastGroth16Keys } from '../src/setup/fast-zkey.js';
import { contributePhase2 } from '../src/setup/phase2.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { writeChainR1cs } from './chain-r1cs.js';
import { barChart, machine, table } from './chart.js';
import { listArg, reportResult, runChild } from './child.js';

interface Row {
  impl: 'zkonnx fast' | 'snarkjs';
  power: number;
  seconds: number;
  ptauSeconds: number;
  keySeconds: number;
  constraints: number;
  peakRssMiB: number;
  /** with --contribute: one more phase-2 contribution on the final key, ours and snarkjs's zkey contribute */
  contribute?: { ours: number; snarkjs: number };
}

const self = fileURLToPath(import.meta.url);
// dist/benchmarks/setup.js (npm script) or benchmarks/setup.ts (tsx)
const root = self.includes(`${join('dist', 'benchmarks')}`) ? resolve(dirname(self), '..', '..') : resolve(dirname(self), '..');

/** The chain circuit bench:prove uses (2^p − 16 multiplications, domain 2^p), as circom's r1cs. */
function chainCircuit(power: number, dir: string): string {
  return writeChainR1cs(power, join(dir, `chain${power}.r1cs`));
}

async function child(impl: string, power: number, r1csPath: string, contribute: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'zkonnx-bench-setup-'));
  try {
    const t0 = performance.now();
    const ptau = join(dir, 'pot.ptau');
    if (impl === 'ours') {
      await generatePreparedPtau(power, ptau);
    } else {
      const curve = await snarkjs.curves.getCurveFromName('bn128');
      await snarkjs.powersOfTau.newAccumulator(curve, power, join(dir, '0.ptau'));
      await snarkjs.powersOfTau.contribute(join(dir, '0.ptau'), join(dir, '1.ptau'), 'bench', randomBytes(32).toString('hex'));
      await snarkjs.powersOfTau.preparePhase2(join(dir, '1.ptau'), ptau);
    }
    const t1 = performance.now();
    if (impl === 'ours') {
      await fastGroth16Keys({ r1csPath, ptauPath: ptau, zkeyPath: join(dir, 'circuit_final.zkey') });
    } else {
      await snarkjs.zKey.newZKey(r1csPath, ptau, join(dir, 'circuit_0000.zkey'));
      await snarkjs.zKey.contribute(join(dir, 'circuit_0000.zkey'), join(dir, 'circuit_final.zkey'), 'bench', randomBytes(32).toString('hex'));
    }
    const t2 = performance.now();
    const peakRssMiB = process.resourceUsage().maxRSS / 1024; // KiB on Linux; before the contributions
    let contribution: Row['contribute'];
    if (contribute) {
      const key = join(dir, 'circuit_final.zkey');
      const t3 = performance.now();
      await contributePhase2(key, join(dir, 'ours.zkey'), 'bench', { entropy: randomBytes(32).toString('hex') });
      const t4 = performance.now();
      await snarkjs.zKey.contribute(key, join(dir, 'snarkjs.zkey'), 'bench', randomBytes(32).toString('hex'));
      contribution = { ours: (t4 - t3) / 1000, snarkjs: (performance.now() - t4) / 1000 };
    }
    await releaseCurves();
    reportResult({ seconds: (t2 - t0) / 1000, ptauSeconds: (t1 - t0) / 1000, keySeconds: (t2 - t1) / 1000, peakRssMiB, contribute: contribution });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(impl: 'ours' | 'snarkjs', power: number, r1csPath: string, contribute = false): Row {
  const m = runChild<Omit<Row, 'impl' | 'power' | 'constraints'>>(self, [impl, String(power), r1csPath, String(contribute)], `${impl} 2^${power}`);
  return { impl: impl === 'ours' ? 'zkonnx fast' : 'snarkjs', power, constraints: 2 ** power - 16, ...m };
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]!, Number(process.argv[4]), process.argv[5]!, process.argv[6] === 'true');
} else {
  const ours = listArg('--ours', [12, 14, 16, 18, 20]);
  const theirs = listArg('--snarkjs', [12, 14, 16]);
  const contributions = listArg('--contribute', [12, 14, 16, 18, 20]);
  const circuits = mkdtempSync(join(tmpdir(), 'zkonnx-bench-circuits-'));
  const host = await machine();
  const rows: Row[] = [];
  const out = join(root, 'benchmarks', 'results');
  const save = () => {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'setup.json'), JSON.stringify({ date: new Date().toISOString(), machine: host, rows }, null, 2));
  };
  for (const p of [...new Set([...ours, ...theirs])].sort((a, b) => a - b)) {
    const r1cs = chainCircuit(p, circuits);
    if (ours.includes(p)) rows.push(run('ours', p, r1cs, contributions.includes(p)));
    if (theirs.includes(p)) rows.push(run('snarkjs', p, r1cs));
    const last = rows[rows.length - 1]!;
    console.error(`done 2^${p}: ${last.impl} ${last.seconds.toFixed(1)} s`);
    save(); // long runs (snarkjs at 2^16 takes tens of minutes) keep what they measured so far
  }
  const speedup = (p: number) => {
    const a = rows.find((r) => r.power === p && r.impl === 'zkonnx fast');
    const b = rows.find((r) => r.power === p && r.impl === 'snarkjs');
    return a && b ? `${(b.seconds / a.seconds).toFixed(1)}x` : '';
  };
  const text = `machine: ${host}\n\n${table(
    ['power', 'constraints', 'impl', 'ptau s', 'keys s', 'total s', 'peak RSS MiB', 'snarkjs / ours'],
    rows.map((r) => [`2^${r.power}`, r.constraints, r.impl, r.ptauSeconds.toFixed(2), r.keySeconds.toFixed(2), r.seconds.toFixed(2), r.peakRssMiB.toFixed(0), r.impl === 'zkonnx fast' ? speedup(r.power) : '']),
  )}`;
  const contributed = rows.filter((r) => r.contribute);
  const contribText = contributed.length ? `\n\nphase-2 contribution on the final key (setup contribute): ours (src/setup/phase2.ts) against snarkjs zkey contribute\n\n${table(
    ['power', 'constraints', 'ours s', 'snarkjs s', 'snarkjs / ours'],
    contributed.map((r) => [`2^${r.power}`, r.constraints, r.contribute!.ours.toFixed(2), r.contribute!.snarkjs.toFixed(2), `${(r.contribute!.snarkjs / r.contribute!.ours).toFixed(1)}x`]),
  )}` : '';
  console.log(text + contribText);
  save();
  writeFileSync(join(out, 'setup.md'), `# bench:setup\n\n\`\`\`\n${text}${contribText}\n\`\`\`\n`);
  writeFileSync(join(out, 'setup.svg'), barChart('Groth16 setup from nothing (ptau + keys)', 's', rows.map((r) => ({ label: `2^${r.power} ${r.impl}`, value: r.seconds })), { log: true }));
  rmSync(circuits, { recursive: true, force: true });
}
