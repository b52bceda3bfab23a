// Powers-of-tau setup benchmark: our fast prepared-ptau generator (src/setup/fast-ptau.ts)
// against snarkjs (powersoftau new + contribute + prepare phase2) in the same run. Each case runs
// in a child process of its own, so that its peak RSS (worker threads included) is its own.
// Prints a table and writes benchmarks/results/setup.json.
//
//   node dist/benchmarks/setup.js [--ours 10,12,14,16] [--snarkjs 10,12]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePreparedPtau } from '../src/setup/fast-ptau.js';
import { releaseCurves, snarkjs } from '../src/snark.js';

interface Row { impl: 'zkonnx fast' | 'snarkjs'; power: number; seconds: number; peakRssMiB: number }

const self = fileURLToPath(import.meta.url);
// dist/benchmarks/setup.js (npm script) or benchmarks/setup.ts (tsx)
const root = self.includes(`${join('dist', 'benchmarks')}`) ? resolve(dirname(self), '..', '..') : resolve(dirname(self), '..');

async function child(impl: string, power: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'zkonnx-bench-setup-'));
  try {
    const t0 = performance.now();
    if (impl === 'ours') {
      await generatePreparedPtau(power, join(dir, 'pot.ptau'));
    } else {
      const curve = await snarkjs.curves.getCurveFromName('bn128');
      await snarkjs.powersOfTau.newAccumulator(curve, power, join(dir, '0.ptau'));
      await snarkjs.powersOfTau.contribute(join(dir, '0.ptau'), join(dir, '1.ptau'), 'bench', randomBytes(32).toString('hex'));
      await snarkjs.powersOfTau.preparePhase2(join(dir, '1.ptau'), join(dir, 'pot.ptau'));
    }
    const seconds = (performance.now() - t0) / 1000;
    await releaseCurves();
    // ru_maxrss is in KiB on Linux
    console.log(`RESULT ${JSON.stringify({ seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function list(flag: string, dflt: number[]): number[] {
  const i = process.argv.indexOf(flag);
  return i < 0 ? dflt : process.argv[i + 1]!.split(',').filter(Boolean).map(Number);
}

function run(impl: 'ours' | 'snarkjs', power: number): Row {
  const r = spawnSync(process.execPath, [...process.execArgv, self, '--child', impl, String(power)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`${impl} 2^${power} failed (status ${r.status}): ${r.stderr.slice(-2000)}`);
  const { seconds, peakRssMiB } = JSON.parse(line.slice(7)) as { seconds: number; peakRssMiB: number };
  return { impl: impl === 'ours' ? 'zkonnx fast' : 'snarkjs', power, seconds, peakRssMiB };
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]!, Number(process.argv[4]));
} else {
  const ours = list('--ours', [10, 12, 14, 16]);
  const theirs = list('--snarkjs', [10, 12]);
  const host = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const rows: Row[] = [];
  const out = join(root, 'benchmarks', 'results');
  const save = () => {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'setup.json'), JSON.stringify({ date: new Date().toISOString(), machine: host, rows }, null, 2));
  };
  for (const p of [...new Set([...ours, ...theirs])].sort((a, b) => a - b)) {
    if (ours.includes(p)) rows.push(run('ours', p));
    if (theirs.includes(p)) rows.push(run('snarkjs', p));
    const last = rows[rows.length - 1]!;
    console.error(`done 2^${p}: ${last.impl} ${last.seconds.toFixed(1)} s`);
    save(); // long runs (snarkjs at 2^16 takes tens of minutes) keep what they measured so far
  }
  const speedup = (p: number) => {
    const a = rows.find((r) => r.power === p && r.impl === 'zkonnx fast');
    const b = rows.find((r) => r.power === p && r.impl === 'snarkjs');
    return a && b ? `${(b.seconds / a.seconds).toFixed(1)}x` : '';
  };
  const header = ['power', 'impl', 'seconds', 'peak RSS MiB', 'speedup'];
  const body = rows.map((r) => [`2^${r.power}`, r.impl, r.seconds.toFixed(2), r.peakRssMiB.toFixed(0), r.impl === 'zkonnx fast' ? speedup(r.power) : '']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`machine: ${host}\n${fmt(header)}\n${body.map(fmt).join('\n')}`);
  save();
}
