// A small circom circuit for the setup tests (fast-zkey, verify-zkey), with coefficients of every
// kind: 1, −1, small positive and negative, 64-bit, 2^200, and a public signal in A, B and C; the
// constant ONE appears in many terms.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compileCircom, type CompiledCircuit } from '../../src/circom/compile.js';
import { generatePreparedPtau } from '../../src/setup/fast-ptau.js';
export const MIXED_CIRCUIT = `pragma circom 2.1.0;
template T(n) {
  signal input a[n];
  signal input b[n];
  signal output c;
  signal output d;
  signal acc[n + 1];
  acc[0] <== 0;
  for (var i = 0; i < n; i++) acc[i + 1] <== acc[i] + (3 * a[i] - 7 * b[i] + 12345678901234567890) * (a[i] - 1);
  c <== acc[n];
  d <== (a[0] * 5 - b[1]) * (b[0] + 2 ** 200);
}
component main { public [a] } = T(8);
`;


/** The circuit compiled in `dir`, and a prepared ptau of power 6 (p6.ptau) for it. */
export async function mixedCircuitWithPtau(dir: string): Promise<{ circuit: CompiledCircuit; ptau: string }> {
  const src = join(dir, 't.circom');
  await writeFile(src, MIXED_CIRCUIT);
  const circuit = await compileCircom({ circuitPath: src, outDir: join(dir, 'build') });
  const ptau = join(dir, 'p6.ptau');
  await generatePreparedPtau(6, ptau);
  return { circuit, ptau };
}
