// bench:setup and bench:prove write their chain circuits' r1cs and witness directly
// (benchmarks/chain-r1cs.ts) because circom2 takes minutes at 2^20; the files must be the ones
// circom and its witness calculator write for the same source.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { chainSource } from '../benchmarks/chain-circuit.js';
import { chainR1cs, chainWitness } from '../benchmarks/chain-r1cs.js';
import { BN254_R } from '../src/circom/r1cs.js';
import { compileCircom } from '../src/circom/compile.js';
import { writeWtns } from '../src/circom/witness.js';
import { computeWitness } from '../src/prover/index.js';

it('the generated chain r1cs and witness are byte-identical to circom --O1 and its witness calculator', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zkonnx-chain-r1cs-'));
  for (const power of [5, 7]) {
    const circuitPath = join(dir, `chain${power}.circom`);
    writeFileSync(circuitPath, chainSource(power));
    const c = await compileCircom({ circuitPath, outDir: dir, optimize: 1 });
    expect(Buffer.from(chainR1cs(power)).equals(readFileSync(c.r1csPath))).toBe(true);
    for (const [x, y] of [[3n, 5n], [123456789n, 0n], [BN254_R - 1n, BN254_R - 7n]] as const) {
      const wtns = join(dir, `chain${power}-${x}.wtns`);
      await computeWitness(c.wasmPath, { x: x.toString(), y: y.toString() }, wtns);
      await writeWtns(`${wtns}.ours`, chainWitness(power, x, y));
      expect(readFileSync(`${wtns}.ours`).equals(readFileSync(wtns))).toBe(true);
    }
  }
});
