// bench:setup writes its chain circuits' r1cs directly (benchmarks/chain-r1cs.ts) because circom2
// takes minutes at 2^20; the file must be the one circom writes for the same source.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { chainSource } from '../benchmarks/chain-circuit.js';
import { chainR1cs } from '../benchmarks/chain-r1cs.js';
import { compileCircom } from '../src/circom/compile.js';

it('the generated chain r1cs is byte-identical to circom --O1 on the chain source', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zkonnx-chain-r1cs-'));
  for (const power of [5, 7]) {
    const circuitPath = join(dir, `chain${power}.circom`);
    writeFileSync(circuitPath, chainSource(power));
    const c = await compileCircom({ circuitPath, outDir: dir, optimize: 1 });
    expect(Buffer.from(chainR1cs(power)).equals(readFileSync(c.r1csPath))).toBe(true);
  }
});
