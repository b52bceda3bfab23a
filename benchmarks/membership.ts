// Membership-proof benchmark: constraints, compile, setup and prove seconds of the dataset
// membership circuit (src/commit/membership.ts) by Merkle depth, for iris-like samples (F = 4)
// and one MNIST-like shape (F = 784, depth 14). 16-bit values; the sample and its path private.
// Each circuit is built fresh (compile + our Groth16 setup from the cached local powers of tau)
// into benchmarks/results/tmp/; prove s is the median of 3 (witness excluded, zkonnx's wasm prover).
// The witness is a random sample with a random path (the prover's work does not depend on the
// values), so no 2^depth tree has to be hashed. Prints a table, writes benchmarks/results/membership.{md,json}.
//
//   node dist/benchmarks/membership.js [--cases 4x4,8x4,14x784] [--reps 3]
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { BN254_R } from '../src/circom/r1cs.js';
import { leafHash } from '../src/commit/dataset-format.js';
import { buildMembershipCircuit } from '../src/commit/membership.js';
import { rootOf } from '../src/commit/merkle.js';
import { proveStandalone, verifyStandalone } from '../src/commit/standalone.js';
import { releaseCurves } from '../src/snark.js';

interface Row {
  depth: number; features: number; bits: number; constraints: number;
  compileSeconds: number; setupSeconds: number; witnessSeconds: number; proveSeconds: number; proveRuns: number[]; verified: boolean;
}

const self = fileURLToPath(import.meta.url);
const root = self.includes(join('dist', 'benchmarks')) ? resolve(dirname(self), '..', '..') : resolve(dirname(self), '..');
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const CASES: Array<[number, number]> = (arg('cases') ?? '4x4,8x4,12x4,16x4,20x4,14x784').split(',').map((c) => c.split('x').map(Number) as [number, number]);
const REPS = Number(arg('reps') ?? 3);
const BITS = 16;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const rand = (bits: number): bigint => BigInt(`0x${randomBytes(Math.ceil(bits / 8)).toString('hex')}`) & ((1n << BigInt(bits)) - 1n);
const field = (v: bigint): string => (((v % BN254_R) + BN254_R) % BN254_R).toString();

async function bench(depth: number, features: number, tmp: string): Promise<Row> {
  const dir = join(tmp, `d${depth}-f${features}-b${BITS}`);
  // The leaf header's scales change only a constant of the circuit (its IV), not its cost.
  const meaning = { features, bits: BITS, featureScale: 12, labelScale: 0, labels: 'class' } as const;
  const b = await buildMembershipCircuit({ manifest: { depth, ...meaning }, dir, force: true });
  const x = Array.from({ length: features }, () => rand(BITS) - (1n << BigInt(BITS - 1)));
  const y = rand(3);
  const siblings = Array.from({ length: depth }, () => rand(253) % BN254_R);
  const bits = Array.from({ length: depth }, () => Number(rand(1)));
  const rootValue = await rootOf(await leafHash(x, y, meaning), { siblings, bits });
  const input = { root: rootValue.toString(), x: x.map(field), y: field(y), siblings: siblings.map(String), index: bits.map(String) };
  const runs: number[] = [];
  const witness: number[] = [];
  let verified = true;
  for (let r = 0; r < REPS; r++) {
    const p = await proveStandalone(dir, input);
    runs.push(p.seconds.prove);
    witness.push(p.seconds.witness);
    if (r === 0) verified = (await verifyStandalone(dir, p.proof, p.publicSignals)) && p.publicSignals[0] === rootValue.toString();
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    depth, features, bits: BITS, constraints: b.info.constraints, compileSeconds: b.info.compileSeconds, setupSeconds: b.info.setupSeconds,
    witnessSeconds: median(witness), proveSeconds: median(runs), proveRuns: runs, verified,
  };
}

async function main(): Promise<void> {
  const host = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const tmp = join(root, 'benchmarks', 'results', 'tmp', 'membership');
  mkdirSync(tmp, { recursive: true });
  const rows: Row[] = [];
  const load = [loadavg()[0]!];
  for (const [depth, features] of CASES) {
    process.stderr.write(`depth ${depth}, ${features} features…\n`);
    const r = await bench(depth, features, tmp);
    process.stderr.write(`  ${r.constraints} constraints, compile ${r.compileSeconds.toFixed(2)} s, setup ${r.setupSeconds.toFixed(2)} s, prove ${r.proveSeconds.toFixed(2)} s\n`);
    rows.push(r);
  }
  await releaseCurves();
  load.push(loadavg()[0]!);
  // Timings on a shared machine are only as good as its idleness: say how busy it was.
  const busy = `load average ${load.map((l) => l.toFixed(1)).join(' → ')} (start → end) on ${cpus().length} cores`;
  const header = ['depth', 'features', 'leaves (max)', 'constraints', 'compile s', 'setup s', 'witness s', `prove s (median of ${REPS})`, 'verified'];
  const body = rows.map((r) => [
    String(r.depth), String(r.features), String(2 ** r.depth), String(r.constraints), r.compileSeconds.toFixed(2), r.setupSeconds.toFixed(2),
    r.witnessSeconds.toFixed(2), r.proveSeconds.toFixed(2), r.verified ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const table = [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt)].join('\n');
  console.log(`machine: ${host}; ${busy}\n${table}`);
  const note = `Dataset membership circuit (sample x[F], y and path private; root public), ${BITS}-bit values: leaf = SignedCommit(F+1, ${BITS}, leafIv), MerkleRoot(depth). Built fresh: compile (circom2, WebAssembly) and our Groth16 setup from the cached local powers of tau; prove = zkonnx's prover (wasm backend) on the computed witness, median of ${REPS}.`;
  const out = join(root, 'benchmarks', 'results');
  writeFileSync(join(out, 'membership.json'), `${JSON.stringify({ date: new Date().toISOString(), machine: host, load: busy, note, rows }, null, 2)}\n`);
  writeFileSync(join(out, 'membership.md'), `# bench:membership\n\nMachine: ${host}; ${busy}\n\n${note}\n\n\`\`\`\n${table}\n\`\`\`\n`);
  rmSync(tmp, { recursive: true, force: true });
}

main().catch(async (e) => {
  console.error(e);
  await releaseCurves();
  process.exit(1);
});
