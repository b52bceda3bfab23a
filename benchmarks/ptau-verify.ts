// `setup verify-ptau` benchmark: our powers-of-tau check (src/setup/verify-ptau.ts) against
// snarkjs's `powersoftau verify` on the same prepared file, in the same child process, one per
// power. The file is made first by our fast generator (one contribution) and not timed.
// Prints a table and writes benchmarks/results/ptau-verify.{json,md}.
//
//   node dist/benchmarks/ptau-verify.js [--ours 12,14,16,18,20] [--snarkjs 12,14,16,18,20]
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../src/paths.js';
import { generatePreparedPtau } from '../src/setup/fast-ptau.js';
import { verifyPtau } from '../src/setup/verify-ptau.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { machine, table } from './chart.js';
import { listArg, reportResult, runChild } from './child.js';

interface Row {
  power: number;
  /** the file's size, bytes */
  bytes: number;
  ours: number;
  /** absent where snarkjs was not run at this power */
  snarkjs?: number;
}

const self = fileURLToPath(import.meta.url);
const root = packageRoot();
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
    reportResult({ bytes: statSync(ptau).size, ours, snarkjs: theirs });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]), process.argv[4] === 'true');
} else {
  const ours = listArg('--ours', [12, 14, 16, 18, 20]);
  const theirs = listArg('--snarkjs', [12, 14, 16, 18, 20]);
  const host = await machine();
  const rows: Row[] = [];
  const out = join(root, 'benchmarks', 'results');
  mkdirSync(out, { recursive: true });
  for (const power of [...new Set([...ours, ...theirs])].sort((a, b) => a - b)) {
    const result = runChild<Omit<Row, 'power'>>(self, [String(power), String(theirs.includes(power))], `2^${power}`);
    rows.push({ power, ...result });
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
