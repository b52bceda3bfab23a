// `setup verify-ptau` benchmark: our powers-of-tau check (src/setup/verify-ptau.ts) against
// snarkjs's `powersoftau verify` on the same prepared file, in the same child process, one per
// power. The file is made first by our fast generator (one contribution) and not timed.
// Prints a table and writes benchmarks/results/ptau-verify.{json,md}.
//
//   node dist/benchmarks/ptau-verify.js [--ours 12,14,16,18,20] [--snarkjs 12,14,16,18,20]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePreparedPtau } from '../src/setup/fast-ptau.js';
import { verifyPtau } from '../src/setup/verify-ptau.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { machine, table } from './chart.js';

interface Row {
  power: number;
  /** the file's size, bytes */
  bytes: number;
  ours: number;
  /** absent where snarkjs was not run at this power */
  snarkjs?: number;
}

const self = fileURLToPath(import.meta.url);
const root = self.includes(`${join('dist', 'benchmarks')}`) ? resolve(dirname(self), '..', '..') : resolve(dirname(self), '..');
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function child(power: number, withSnarkjs: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'zkonnx-bench-ptau-verify-'));
  try {
    const ptau = join(dir, 'pot.ptau');
    await generatePreparedPtau(power, ptau);
    const t0 = performance.now();
    const r = await verifyPtau(ptau);
    const ours = (performance.now() - t0) / 1000;
    if (!r.ok) throw new Error(`our check rejected a good file: ${r.errors.join('; ')}`);
    let theirs: number | undefined;
    if (withSnarkjs) {
      const t1 = performance.now();
      if (!(await snarkjs.powersOfTau.verify(ptau, quiet))) throw new Error('snarkjs rejected the file');
      theirs = (performance.now() - t1) / 1000;
    }
    await releaseCurves();
    console.log(`RESULT ${JSON.stringify({ bytes: statSync(ptau).size, ours, snarkjs: theirs })}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function list(flag: string, dflt: number[]): number[] {
  const i = process.argv.indexOf(flag);
  return i < 0 ? dflt : process.argv[i + 1]!.split(',').filter(Boolean).map(Number);
}

if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]), process.argv[4] === 'true');
} else {
  const ours = list('--ours', [12, 14, 16, 18, 20]);
  const theirs = list('--snarkjs', [12, 14, 16, 18, 20]);
  const host = await machine();
  const rows: Row[] = [];
  const out = join(root, 'benchmarks', 'results');
  mkdirSync(out, { recursive: true });
  for (const power of [...new Set([...ours, ...theirs])].sort((a, b) => a - b)) {
    const r = spawnSync(process.execPath, [...process.execArgv, self, '--child', String(power), String(theirs.includes(power))], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (r.status !== 0 || !line) throw new Error(`2^${power} failed (status ${r.status}): ${r.stderr.slice(-2000)}`);
    rows.push({ power, ...(JSON.parse(line.slice(7)) as Omit<Row, 'power'>) });
    console.error(`done 2^${power}`);
    writeFileSync(join(out, 'ptau-verify.json'), JSON.stringify({ date: new Date().toISOString(), machine: host, rows }, null, 2));
  }
  const text = `machine: ${host}\nsetup verify-ptau of a prepared powers-of-tau file (one contribution)\n\n${table(
    ['power', 'file MiB', 'ours s', 'snarkjs powersoftau verify s', 'snarkjs / ours'],
    rows.map((r) => [`2^${r.power}`, (r.bytes / 2 ** 20).toFixed(0), r.ours.toFixed(2), r.snarkjs?.toFixed(2) ?? '', r.snarkjs ? `${(r.snarkjs / r.ours).toFixed(1)}x` : '']),
  )}`;
  console.log(text);
  writeFileSync(join(out, 'ptau-verify.md'), `# bench:ptau-verify\n\n\`\`\`\n${text}\n\`\`\`\n`);
}
