// `setup verify` benchmark: our key check (src/setup/verify-zkey.ts) against snarkjs's
// `zkey verify` (verifyFromR1cs) on the same final key, r1cs and ptau, in the same child process,
// one per power. Circuits: bench:setup's chain (2^p − 16 multiplications, benchmarks/chain-r1cs.ts);
// the ptau and the key are made first with our fast setup and not timed.
// Prints a table and writes benchmarks/results/setup-verify.{json,md}.
//
//   node dist/benchmarks/setup-verify.js [--ours 12,14,16,18,20] [--snarkjs 12,14,16]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../src/paths.js';
import { generatePreparedPtau } from '../src/setup/fast-ptau.js';
import { fastGroth16Keys } from '../src/setup/fast-zkey.js';
import { verifyZkey } from '../src/setup/verify-zkey.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { writeChainR1cs } from './chain-r1cs.js';
import { machine, table } from './chart.js';
import { listArg, reportResult, runChild } from './child.js';

interface Row {
  power: number;
  constraints: number;
  ours: number;
  /** absent where snarkjs was not run at this power */
  snarkjs?: number;
}

const self = fileURLToPath(import.meta.url);
const root = packageRoot();
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function child(power: number, withSnarkjs: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'zkonnx-bench-verify-'));
  try {
    const r1cs = writeChainR1cs(power, join(dir, 'chain.r1cs'));
    const ptau = join(dir, 'pot.ptau');
    const zkey = join(dir, 'circuit_final.zkey');
    await generatePreparedPtau(power, ptau);
    await fastGroth16Keys({ r1csPath: r1cs, ptauPath: ptau, zkeyPath: zkey });
    const t0 = performance.now();
    const r = await verifyZkey(r1cs, ptau, zkey);
    const ours = (performance.now() - t0) / 1000;
    if (!r.ok) throw new Error(`our check rejected a good key: ${r.errors.join('; ')}`);
    let theirs: number | undefined;
    if (withSnarkjs) {
      const t1 = performance.now();
      if (!(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, zkey, quiet))) throw new Error('snarkjs rejected the key');
      theirs = (performance.now() - t1) / 1000;
    }
    await releaseCurves();
    reportResult({ ours, snarkjs: theirs });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]), process.argv[4] === 'true');
} else {
  const ours = listArg('--ours', [12, 14, 16, 18, 20]);
  const theirs = listArg('--snarkjs', [12, 14, 16]);
  const host = await machine();
  const rows: Row[] = [];
  const out = join(root, 'benchmarks', 'results');
  mkdirSync(out, { recursive: true });
  for (const power of [...new Set([...ours, ...theirs])].sort((a, b) => a - b)) {
    const result = runChild<Omit<Row, 'power' | 'constraints'>>(self, [String(power), String(theirs.includes(power))], `2^${power}`);
    rows.push({ power, constraints: 2 ** power - 16, ...result });
    console.error(`done 2^${power}`);
    writeFileSync(join(out, 'setup-verify.json'), JSON.stringify({ date: new Date().toISOString(), machine: host, rows }, null, 2));
  }
  const text = `machine: ${host}\nsetup verify of a final key (one contribution) against its r1cs and ptau\n\n${table(
    ['power', 'constraints', 'ours s', 'snarkjs zkey verify s', 'snarkjs / ours'],
    rows.map((r) => [`2^${r.power}`, r.constraints, r.ours.toFixed(2), r.snarkjs?.toFixed(2) ?? '', r.snarkjs ? `${(r.snarkjs / r.ours).toFixed(1)}x` : '']),
  )}`;
  console.log(text);
  writeFileSync(join(out, 'setup-verify.md'), `# bench:setup-verify\n\n\`\`\`\n${text}\n\`\`\`\n`);
}
