// Prover benchmark: snarkjs against each of our Groth16 backends (src/prover/), in one process.
//  (a) G1 MSM at 2^k points: ffjavascript's G1.multiExpAffine (what snarkjs calls) against each
//      backend's msmG1, same random bases and scalars, results compared; the same over G2
//      (--g2-msm, after the proofs: snarkjs's B2 MSM, which the webgpu backend runs on the GPU
//      where the adapter is hardware).
//  (b) Whole proofs at ~2^k constraints (a chain of multiplications with a public input, domain
//      2^k): snarkjs.groth16.prove against groth16Prove with each backend, same zkey and witness;
//      every proof is verified. Keys and witnesses are cached per power under the ZKONNX cache
//      folder (bench-prove/), made once with the project's fast setup.
// Runs are interleaved (snarkjs, then each backend, per round) so that load from other processes
// hits all of them alike; the table shows the best of --runs (proofs) and --msm-runs (MSMs). A
// backend that cannot load is reported as unavailable, with the reason. Prints a table and writes
// benchmarks/results/prove.{json,md} and charts (SVG).
//
//   node dist/benchmarks/prove.js [--msm 12,14,16] [--proofs 12,14,16] [--g2-msm 12,14] [--backends wasm,webgpu] [--runs 3] [--msm-runs 5]
//                                 [--allow-software-gpu]   (webgpu on Mesa's llvmpipe where there is no GPU)
//                                 [--prepared]             (also proofs with a prepared key: createProverFromKey)
//                                 [--budget-s S]           (start no size after S seconds; the rest is listed as skipped)
//                                 [--tune P]               (first choose the GPU MSM's parameters by measurement at 2^P
//                                                           (msm-tune.ts); the webgpu rows then use the winner)
//                                 [--name N]               (results as N.{md,json} and N-*.svg; default prove)
//                                 [--gpu-pre T]            (a column webgpu+pre: the same backend with T precomputed copies of
//                                                           the bases (pre=T), for MSMs over kept bases and prepared keys,
//                                                           where copies are made once; its one-shot proofs would be webgpu's)
//                                 [--models DIR,…]         (proofs on compiled models too: a build folder's circuit_final.zkey and the
//                                                           witness of its first proof under proofs/ (run `zkonnx prove -b DIR` once):
//                                                           a quantized model's witness is mostly 0s, 1s and small values, not the
//                                                           chain's uniform ones)
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BN254_R } from '../src/circom/r1cs.js';
import { writeWtns } from '../src/circom/witness.js';
import { cacheDir } from '../src/paths.js';
import { readSettings } from '../src/settings.js';
import type { BackendName, ProverBackend } from '../src/prover/backend.js';
import type { BasesKeeper } from '../src/prover/groth16.js';
import { bn128, type ProverCurve } from '../src/prover/curve.js';
import { groth16Prove } from '../src/prover/groth16.js';
import { createProverFromKey, gpuPreparedBytes, gpuProofBytes, loadBackend } from '../src/prover/index.js';
import { gpuMemory, resetGpuPeak } from '../src/prover/webgpu/gpu.js';
import { openZkey } from '../src/prover/zkey.js';
import type { WebGpuBackend } from '../src/prover/webgpu/backend.js';
import type { MsmTuning } from '../src/prover/webgpu/msm.js';
import { combTimes } from '../src/setup/fast/kernels.js';
import type { WasmCurve } from '../src/setup/fast/snarkjs-internals.js';
import { setupGroth16 } from '../src/setup/groth16.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { barChart, machine, table } from './chart.js';
import { listArg } from './child.js';
import { chainR1cs, chainWitness } from './chain-r1cs.js';
import { tuneMsm, type TuneResult } from './msm-tune.js';

const self = fileURLToPath(import.meta.url);
const root = self.includes(`${join('dist', 'benchmarks')}`) ? resolve(dirname(self), '..', '..') : resolve(dirname(self), '..');

function names(flag: string, dflt: string[]): string[] {
  const i = process.argv.indexOf(flag);
  return i < 0 ? dflt : process.argv[i + 1]!.split(',').filter(Boolean);
}

/** `keep`: its MSMs' bases and its prepared keys are kept (BasesKeeper.keepBases): no one-shot proofs. */
type Loaded = { name: string; backend?: ProverBackend; reason?: string; keep?: boolean };

async function load(name: string, msm?: MsmTuning): Promise<Loaded> {
  try {
    return { name, backend: await loadBackend(name as BackendName, { allowSoftware: process.argv.includes('--allow-software-gpu'), msm }) };
  } catch (e) {
    return { name, reason: ((e as Error).message ?? String(e)).split('\n')[0] };
  }
}

/** n uniform scalars below r, 32 bytes little-endian each. */
function randomScalars(n: number): Uint8Array {
  const out = randomBytes(n * 32);
  for (let i = 0; i < n; i++) {
    const o = i * 32;
    out[o + 31]! &= 0x3f;
    let x = 0n;
    for (let j = 31; j >= 0; j--) x = (x << 8n) | BigInt(out[o + j]!);
    if (x >= BN254_R) out[o + 31]! &= 0x1f; // rare: fold the top into range
  }
  return out;
}

async function best(runs: number, fn: () => Promise<unknown>): Promise<number> {
  let t = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// (a) MSM

/** `stages`: one more MSM with its stages profiled (webgpu backends: WebGpuBackend.profileMsm). */
interface MsmRow { power: number; snarkjsMs: number; backends: Record<string, { ms?: number; ratio?: number; unavailable?: string; stages?: Record<string, number> }> }

/** n random points (s·G, s random) of `group` and n random scalars. */
async function msmInputs(curve: ProverCurve, group: 'G1' | 'G2', n: number): Promise<{ bases: Uint8Array; scalars: Uint8Array }> {
  return { bases: await combTimes(curve as unknown as WasmCurve, group, randomScalars(n)), scalars: randomScalars(n) };
}

async function benchMsm(curve: ProverCurve, group: 'G1' | 'G2', power: number, loaded: Loaded[], runs: number): Promise<MsmRow> {
  const { bases, scalars } = await msmInputs(curve, group, 2 ** power);
  const G = curve[group] as ProverCurve['G1'] & { eq(a: Uint8Array, b: Uint8Array): boolean };
  const msm = (b: ProverBackend) => (group === 'G1' ? b.msmG1(bases, scalars) : b.msmG2(bases, scalars));
  const expected = await G.multiExpAffine(bases, scalars);
  const row: MsmRow = { power, snarkjsMs: Infinity, backends: {} };
  for (const l of loaded) row.backends[l.name] = l.backend ? { ms: Infinity } : { unavailable: l.reason };
  // kept bases: the first run makes their copies, the best of the runs is over them
  for (const l of loaded) if (l.keep) await (l.backend as Partial<BasesKeeper> | undefined)?.keepBases?.(bases);
  for (let run = 0; run < runs; run++) {
    row.snarkjsMs = Math.min(row.snarkjsMs, await best(1, () => G.multiExpAffine(bases, scalars)));
    for (const l of loaded) {
      if (!l.backend) continue;
      let got: Uint8Array | undefined;
      const ms = await best(1, async () => { got = await msm(l.backend!); });
      if (!G.eq(got!, expected)) throw new Error(`${l.name} ${group} MSM at 2^${power} differs from ffjavascript's`);
      const b = row.backends[l.name]!;
      b.ms = Math.min(b.ms!, ms);
    }
  }
  for (const b of Object.values(row.backends)) if (b.ms !== undefined) b.ratio = b.ms / row.snarkjsMs;
  for (const l of loaded) {
    const gpu = l.backend as Partial<WebGpuBackend> | undefined;
    const stages = await gpu?.profileMsm?.(group === 'G1' ? 'g1' : 'g2', bases, scalars);
    if (stages) row.backends[l.name]!.stages = stages;
  }
  for (const l of loaded) if (l.keep) await (l.backend as Partial<BasesKeeper> | undefined)?.releaseBases?.(bases);
  return row;
}

// ---------------------------------------------------------------------------------------------
// (b) Whole proofs


interface Keys { zkey: string; wtns: string; vkey: string; constraints: number }

/** Circuit, keys and witness for 2^power, made once and kept under the cache folder. The r1cs and
 * the witness are written directly (chain-r1cs.ts: byte-identical to circom's), so a 2^20 row
 * needs no ten-minute compile, here or on a GPU machine. */
async function chainKeys(power: number): Promise<Keys> {
  const r1cs = chainR1cs(power);
  const stamp = createHash('sha256').update(r1cs).digest('hex').slice(0, 16);
  const dir = join(cacheDir(), 'bench-prove', `chain${power}-${stamp}`);
  const keys: Keys = { zkey: join(dir, 'circuit_final.zkey'), wtns: join(dir, 'witness.wtns'), vkey: join(dir, 'verification_key.json'), constraints: 2 ** power - 16 };
  if (existsSync(keys.wtns)) return keys;
  mkdirSync(dir, { recursive: true });
  console.error(`making keys for 2^${power} in ${dir} (once)`);
  const r1csPath = join(dir, 'circuit.r1cs');
  writeFileSync(r1csPath, r1cs);
  await setupGroth16({ r1csPath, zkeyPath: keys.zkey, vkeyPath: keys.vkey });
  await writeWtns(keys.wtns, chainWitness(power, 3n, 5n)); // last: its presence marks a complete folder
  return keys;
}

/** A compiled model's key and the witness of its first proof (`zkonnx prove -b dir` writes one). */
async function modelKeys(dir: string): Promise<Keys> {
  const zkey = join(dir, 'circuit_final.zkey');
  const proofs = join(dir, 'proofs');
  const name = existsSync(proofs) ? readdirSync(proofs).sort().find((p) => existsSync(join(proofs, p, 'witness.wtns'))) : undefined;
  if (!existsSync(zkey) || !name) throw new Error(`--models ${dir}: needs circuit_final.zkey and a proof's witness.wtns under proofs/ (zkonnx compile, setup and prove -b ${dir})`);
  return { zkey, wtns: join(proofs, name, 'witness.wtns'), vkey: join(dir, 'verification_key.json'), constraints: readSettings(dir).circuit.constraints };
}

interface ProofRow {
  power: number;
  /** a compiled model's name (--models); else the chain circuit of 2^power */
  model?: string;
  constraints: number;
  snarkjsS: number;
  /** `prepared`: best proof time with the key read, parsed (and uploaded) once beforehand (createProverFromKey) */
  backends: Record<string, { s?: number; ratio?: number; unavailable?: string; stages?: Record<string, number>; prepared?: number; gpuPeakBytes?: number; gpuPlanBytes?: number }>;
}

async function benchProof(power: number, loaded: Loaded[], runs: number, model?: string): Promise<ProofRow> {
  const k = model ? await modelKeys(model) : await chainKeys(power);
  // the key's sizes (its header: the bulk is not waited for), for the GPU memory plan, and a model's domain
  const opened = await openZkey(k.zkey);
  await opened.close();
  const { nVars, nPublic } = opened.zkey.header;
  const nCoef = opened.zkey.nCoef;
  if (model) power = opened.zkey.header.power;
  const vkey = JSON.parse(readFileSync(k.vkey, 'utf8'));
  const check = async (who: string, r: { proof: unknown; publicSignals: string[] }) => {
    if (!(await snarkjs.groth16.verify(vkey, r.publicSignals, r.proof as never))) throw new Error(`${who} proof at 2^${power} does not verify`);
  };
  const row: ProofRow = { power, ...(model ? { model: basename(resolve(model)) } : {}), constraints: k.constraints, snarkjsS: Infinity, backends: {} };
  for (const l of loaded) row.backends[l.name] = !l.backend ? { unavailable: l.reason } : l.keep ? {} : { s: Infinity };
  for (let run = 0; run < runs; run++) {
    let t0 = performance.now();
    const theirs = await snarkjs.groth16.prove(k.zkey, k.wtns);
    row.snarkjsS = Math.min(row.snarkjsS, (performance.now() - t0) / 1000);
    await check('snarkjs', theirs);
    for (const l of loaded) {
      if (!l.backend || l.keep) continue;
      const dev = (l.backend as Partial<WebGpuBackend>).ctx?.device;
      const before = dev ? gpuMemory(dev).live : 0;
      if (dev) resetGpuPeak(dev);
      t0 = performance.now();
      const ours = await groth16Prove(k.zkey, k.wtns, l.backend);
      const s = (performance.now() - t0) / 1000;
      await check(l.name, ours);
      const b = row.backends[l.name]!;
      if (s < b.s!) Object.assign(b, { s, stages: { ...ours.timings } });
      if (dev) {
        // the device memory a one-shot proof took at its peak (its key's uploads included), and the plan
        b.gpuPeakBytes = Math.max(b.gpuPeakBytes ?? 0, gpuMemory(dev).peak - before);
        b.gpuPlanBytes = gpuPreparedBytes(power, nVars, nCoef) + gpuProofBytes(power, nVars, nPublic, (l.backend as WebGpuBackend).g2 === 'gpu');
      }
    }
  }
  if (withPrepared) {
    // a prepared key: read and parsed once, its bases kept by the backend (WebGPU: on the device);
    // one proof to warm it, then the best of `runs`
    const wtns = readFileSync(k.wtns);
    for (const l of loaded) {
      if (!l.backend) continue;
      const prover = await createProverFromKey(k.zkey, l.backend);
      await check(`${l.name} prepared`, await prover.prove(new Uint8Array(wtns)));
      let best = Infinity;
      for (let run = 0; run < runs; run++) {
        const t0 = performance.now();
        const r = await prover.prove(new Uint8Array(wtns));
        best = Math.min(best, (performance.now() - t0) / 1000);
        await check(`${l.name} prepared`, r);
      }
      await prover.release();
      row.backends[l.name]!.prepared = best;
    }
  }
  for (const b of Object.values(row.backends)) if (b.s !== undefined) b.ratio = b.s / row.snarkjsS;
  return row;
}

// ---------------------------------------------------------------------------------------------

const msmPowers = listArg('--msm', [12, 13, 14, 15, 16, 17, 18]);
const proofPowers = listArg('--proofs', [12, 13, 14, 15, 16]);
const models = names('--models', []);
const g2Powers = listArg('--g2-msm', []);
const backendNames = names('--backends', ['wasm', 'webgpu']);
const runs = listArg('--runs', [3])[0]!;
// an MSM is short and the one kernel both sides share: more runs to see past the noise of a shared machine
const msmRuns = listArg('--msm-runs', [5])[0]!;
const withPrepared = process.argv.includes('--prepared');
// --budget-s: a size is started only while the run is under this many seconds (a device session
// is short); the sizes left out are listed
const budgetS = listArg('--budget-s', [Infinity])[0]!;
const tunePower = listArg('--tune', [])[0];
const gpuPre = listArg('--gpu-pre', [])[0];
// --name: the results' file names (benchmarks/results/<name>.{md,json}, <name>-msm.svg, …)
const outName = names('--name', ['prove'])[0]!;
const started = performance.now();
const skipped: string[] = [];
const inBudget = (what: string) => {
  if ((performance.now() - started) / 1000 < budgetS) return true;
  skipped.push(what);
  console.error(`${what}: skipped (over --budget-s ${budgetS})`);
  return false;
};

const host = await machine();
const curve = await bn128(); // worker start-up is not part of any timing
const loaded = await Promise.all(backendNames.map((n) => load(n)));
let tune: TuneResult | undefined;
if (tunePower !== undefined) {
  const i = loaded.findIndex((l) => l.name === 'webgpu' && l.backend);
  if (i < 0) console.error('--tune: no webgpu backend loaded: skipped');
  else {
    const gpu = loaded[i]!.backend as WebGpuBackend;
    const { bases, scalars } = await msmInputs(curve, 'G1', 2 ** tunePower);
    const expected = await curve.G1.multiExpAffine(bases, scalars);
    try {
      tune = await tuneMsm(gpu.ctx, bases, scalars, expected, curve.G1 as never, tunePower, msmRuns, (m) => console.error(m));
      await gpu.release();
      loaded[i] = await load('webgpu', tune.tuning); // the rows below with the winner
    } catch (e) {
      console.error(`--tune failed, the defaults stay: ${(e as Error).message}`); // the tables below still say whether the defaults work
    }
  }
}
if (gpuPre !== undefined) {
  const gpu = loaded.find((l) => l.name === 'webgpu' && l.backend)?.backend as WebGpuBackend | undefined;
  if (!gpu) console.error('--gpu-pre: no webgpu backend loaded: skipped');
  else {
    loaded.push({ ...(await load('webgpu', { ...gpu.msm, precompute: gpuPre })), name: 'webgpu+pre', keep: true });
    backendNames.push('webgpu+pre');
  }
}
console.error(`machine: ${host}\nbackends: ${loaded.map((l) => (l.backend ? `${l.name} (${l.backend.description})` : `${l.name}: unavailable: ${l.reason}`)).join('; ')}`);

const msmRows: MsmRow[] = [];
const g2Rows: MsmRow[] = [];
const proofRows: ProofRow[] = [];
const out = join(root, 'benchmarks', 'results');
const cell = (b: { ms?: number; s?: number; ratio?: number; unavailable?: string } | undefined, unit: 'ms' | 's') =>
  b?.unavailable !== undefined ? [`unavailable: ${b.unavailable}`, ''] : (unit === 'ms' ? b?.ms : b?.s) === undefined ? ['—', ''] : [unit === 'ms' ? b!.ms!.toFixed(1) : b!.s!.toFixed(3), `${b!.ratio!.toFixed(2)}`];
const render = () => {
  const msmTable = (group: string, rows: MsmRow[]) => table(
    [`${group} MSM`, 'snarkjs ms', ...backendNames.flatMap((n) => [`${n} ms`, `${n}/snarkjs`])],
    rows.map((r) => [`2^${r.power}`, r.snarkjsMs.toFixed(1), ...backendNames.flatMap((n) => cell(r.backends[n], 'ms'))]),
  );
  const proofHeader = ['proof', 'constraints', 'snarkjs s', ...backendNames.flatMap((n) => [`${n} s`, `${n}/snarkjs`])];
  const proofLabel = (r: ProofRow) => (r.model ? `${r.model} (2^${r.power})` : `2^${r.power}`);
  const proofBody = proofRows.map((r) => [proofLabel(r), String(r.constraints), r.snarkjsS.toFixed(3), ...backendNames.flatMap((n) => cell(r.backends[n], 's'))]);
  // where the time of each backend's best proof went (the MSMs overlap the quotient: no sum)
  const stageHeader = ['proof', 'backend', 'read s', 'A/B/C s', 'quotient s', 'MSMs s', 'total s', ...(withPrepared ? ['prepared s', 'prepared/snarkjs'] : [])];
  const stageBody = proofRows.flatMap((r) => backendNames.filter((n) => r.backends[n]?.stages || r.backends[n]?.prepared).map((n) => {
    const b = r.backends[n]!;
    const st = b.stages;
    return [proofLabel(r), n, ...[st?.['read'], st?.['abc'], st?.['quotient'], st?.['msm'], st?.['total']].map((x) => (st ? (x ?? 0).toFixed(3) : '—')),
      ...(withPrepared ? [b.prepared?.toFixed(3) ?? '', b.prepared ? (b.prepared / r.snarkjsS).toFixed(3) : ''] : [])];
  }));
  // where a GPU MSM's time goes: one profiled run per size (each stage waited for: their sum
  // exceeds the unprofiled time by the waits)
  const stageTable = (group: string, rows: MsmRow[]) => {
    const body = rows.flatMap((r) => backendNames.filter((n) => r.backends[n]?.stages).map((n) => ({ r, n, st: r.backends[n]!.stages! })));
    if (!body.length) return '';
    const names = [...new Set(body.flatMap((b) => Object.keys(b.st)))];
    return `\n\n${table([`${group} MSM stages ms`, 'backend', 'unprofiled', ...names], body.map(({ r, n, st }) => [`2^${r.power}`, n, r.backends[n]!.ms?.toFixed(1) ?? '', ...names.map((s) => st[s]?.toFixed(1) ?? '')]))}`;
  };
  const mib = (x: number) => (x / 2 ** 20).toFixed(1);
  const memBody = proofRows.flatMap((r) => backendNames.filter((n) => r.backends[n]?.gpuPeakBytes !== undefined).map((n) => {
    const b = r.backends[n]!;
    return [proofLabel(r), n, mib(b.gpuPeakBytes!), mib(b.gpuPlanBytes!), (b.gpuPeakBytes! / b.gpuPlanBytes!).toFixed(2)];
  }));
  const memTable = memBody.length ? `\n\n${table(['proof', 'backend', 'GPU peak MiB', 'planned MiB', 'peak/planned'], memBody)}` : '';
  return `machine: ${host}\nbackends: ${loaded.map((l) => (l.backend ? l.backend.description : `${l.name} unavailable`)).join('; ')}; best of ${msmRuns} (MSM) and ${runs} (proofs)\n\n`
    + (msmRows.length ? `${msmTable('G1', msmRows)}${stageTable('G1', msmRows)}\n\n` : '') + table(proofHeader, proofBody)
    + (stageBody.length ? `\n\n${table(stageHeader, stageBody)}` : '')
    + memTable
    + (g2Rows.length ? `\n\n${msmTable('G2', g2Rows)}${stageTable('G2', g2Rows)}` : '')
    + (tune ? `\n\n${tuneTable(tune)}` : '')
    + (skipped.length ? `\n\nskipped (over --budget-s ${budgetS}): ${skipped.join(', ')}` : '');
};
const tuneTable = (t: TuneResult) => {
  const rows = table([`MSM tuning, G1 2^${t.power}`, 'ms', 'vs default'], t.rows.map((r) => [r.tuning, r.ms?.toFixed(1) ?? r.error ?? '', r.vsDefault?.toFixed(2) ?? '']));
  const names = [...new Set([...Object.keys(t.stages.default), ...Object.keys(t.stages.tuned)])];
  const stages = table(['MSM stage (profiled)', 'default ms', 'tuned ms'], names.map((s) => [s, t.stages.default[s]?.toFixed(1) ?? '', t.stages.tuned[s]?.toFixed(1) ?? '']));
  return `${rows}\n\nchosen: ${t.winner} (ZKONNX_GPU_MSM=${t.winner === 'default' ? '' : t.winner}), ${(t.bestMs / t.defaultMs).toFixed(2)}× the defaults' time on ${t.adapter}\n\n${stages}`;
};
const save = () => {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${outName}.json`), `${JSON.stringify({ date: new Date().toISOString(), machine: host, backends: loaded.map((l) => l.backend?.description ?? `${l.name} unavailable: ${l.reason}`), runs, msmRuns, skipped, note: 'best of runs, interleaved; snarkjs = ffjavascript G1/G2.multiExpAffine / snarkjs.groth16.prove; ratio = ours / snarkjs (below 1: faster)', msm: msmRows, proofs: proofRows, msmG2: g2Rows, tune }, null, 2)}\n`);
  writeFileSync(join(out, `${outName}.md`), `# bench:prove\n\n\`\`\`\n${render()}\n\`\`\`\n`);
};

for (const p of msmPowers) {
  if (!inBudget(`msm 2^${p}`)) continue;
  msmRows.push(await benchMsm(curve, 'G1', p, loaded, msmRuns));
  console.error(`msm 2^${p} done`);
  save();
}
for (const p of proofPowers) {
  if (!inBudget(`proof 2^${p}`)) continue;
  proofRows.push(await benchProof(p, loaded, runs));
  console.error(`proof 2^${p} done`);
  save();
}
for (const dir of models) {
  if (!inBudget(`proof ${dir}`)) continue;
  proofRows.push(await benchProof(0, loaded, runs, dir));
  console.error(`proof ${dir} done`);
  save();
}
for (const p of g2Powers) {
  if (!inBudget(`G2 msm 2^${p}`)) continue;
  g2Rows.push(await benchMsm(curve, 'G2', p, loaded, msmRuns));
  console.error(`G2 msm 2^${p} done`);
  save();
}
const bars = <R extends { power: number; model?: string }>(rows: R[], base: (r: R) => number, of: (r: R, n: string) => number | undefined) =>
  rows.flatMap((r) => {
    const label = r.model ?? `2^${r.power}`;
    return [{ label: `${label} snarkjs`, value: base(r) }, ...backendNames.flatMap((n) => {
      const v = of(r, n);
      return v === undefined ? [] : [{ label: `${label} ${n}`, value: v }];
    })];
  });
if (msmRows.length) writeFileSync(join(out, `${outName}-msm.svg`), barChart('G1 MSM time', 'ms', bars(msmRows, (r) => r.snarkjsMs, (r, n) => r.backends[n]?.ms), { log: true }));
if (proofRows.length) writeFileSync(join(out, `${outName}-proofs.svg`), barChart('Groth16 proof time', 's', bars(proofRows, (r) => r.snarkjsS, (r, n) => r.backends[n]?.s), { log: true }));
save();
console.log(render());
for (const l of loaded) await l.backend?.release?.();
await releaseCurves();
