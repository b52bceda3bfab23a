// The fast local powers of tau (src/setup/fast-ptau.ts): snarkjs must read, verify and use what
// it writes, and its prepared sections 12–15 must be the bytes snarkjs's own prepare phase2 makes.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCircom } from '../src/circom/compile.js';
import { ZkonnxError } from '../src/errors.js';
import { generatePreparedPtau } from '../src/setup/fast-ptau.js';
import { snarkjsInternals } from '../src/setup/fast/snarkjs-internals.js';
import { releaseCurves, snarkjs } from '../src/snark.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zkonnx-fast-ptau-'));
});
afterAll(async () => {
  await releaseCurves();
  await rm(dir, { recursive: true, force: true });
});

describe('generatePreparedPtau', () => {
  it('writes the bytes snarkjs prepare phase2 makes from the same unprepared sections, and powersoftau verify passes', async () => {
    const power = 4;
    const ours = join(dir, 'ours.ptau');
    const r = await generatePreparedPtau(power, ours);
    expect(r.seconds).toBeGreaterThan(0);
    // an unprepared file with our sections 1–7, prepared by snarkjs
    const I = await snarkjsInternals();
    const { fd, sections } = await I.binFileUtils.readBinFile(ours, 'ptau', 1);
    expect(Object.keys(sections).map(Number).filter((k) => sections[k]).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15]);
    const unprepared = join(dir, 'unprepared.ptau');
    const fdU = await I.binFileUtils.createBinFile(unprepared, 'ptau', 1, 7);
    for (let id = 1; id <= 7; id++) await I.binFileUtils.copySection(fd, sections, fdU, id);
    await fdU.close();
    await fd.close();
    const theirs = join(dir, 'theirs.ptau');
    await snarkjs.powersOfTau.preparePhase2(unprepared, theirs, quiet);
    const a = readFileSync(ours);
    const b = readFileSync(theirs);
    expect(a.length).toBe(b.length);
    expect(a.equals(b)).toBe(true);
    expect(await snarkjs.powersOfTau.verify(ours, quiet)).toBe(true);
  }, 60_000);

  it('a tampered Lagrange section fails powersoftau verify', async () => {
    const ours = join(dir, 'ours.ptau');
    const I = await snarkjsInternals();
    const { fd, sections } = await I.binFileUtils.readBinFile(ours, 'ptau', 1);
    const pos = sections[14][0].p as number;
    await fd.close();
    const bytes = readFileSync(ours);
    // replace alphaTauG1's level-1 first point by its level-0 point (both valid curve points)
    bytes.copy(bytes, pos + 64, pos, pos + 64);
    const bad = join(dir, 'bad.ptau');
    await writeFile(bad, bytes);
    expect(await snarkjs.powersOfTau.verify(bad, quiet)).toBe(false);
  }, 60_000);

  it('snarkjs makes a zkey from it that verifies against the r1cs, and its proofs verify', async () => {
    const power = 6;
    const ptau = join(dir, 'p6.ptau');
    await generatePreparedPtau(power, ptau);
    const src = join(dir, 'mul.circom');
    await writeFile(src, `pragma circom 2.1.0;
template Mul(n) {
  signal input a[n];
  signal input b[n];
  signal output c;
  signal acc[n + 1];
  acc[0] <== 0;
  for (var i = 0; i < n; i++) acc[i + 1] <== acc[i] + a[i] * b[i];
  c <== acc[n];
}
component main { public [a] } = Mul(8);
`);
    const circuit = await compileCircom({ circuitPath: src, outDir: join(dir, 'build') });
    const zkey = join(dir, 'mul.zkey');
    await snarkjs.zKey.newZKey(circuit.r1csPath, ptau, zkey, quiet);
    expect(existsSync(zkey)).toBe(true);
    expect(await snarkjs.zKey.verifyFromR1cs(circuit.r1csPath, ptau, zkey, quiet)).toBe(true);
    const a = [1, 2, 3, 4, 5, 6, 7, 8];
    const b = [8, 7, 6, 5, 4, 3, 2, 1];
    const { proof, publicSignals } = await snarkjs.groth16.fullProve({ a, b }, circuit.wasmPath, zkey, quiet);
    expect(publicSignals[0]).toBe(String(a.reduce((s, x, i) => s + x * b[i]!, 0)));
    const vk = await snarkjs.zKey.exportVerificationKey(zkey, quiet);
    expect(await snarkjs.groth16.verify(vk, publicSignals, proof, quiet)).toBe(true);
    const forged = [...publicSignals];
    forged[0] = String(BigInt(forged[0]!) + 1n);
    expect(await snarkjs.groth16.verify(vk, forged, proof, quiet)).toBe(false);
  }, 120_000);

  it('rejects powers outside its range', async () => {
    await expect(generatePreparedPtau(0, join(dir, 'x.ptau'))).rejects.toBeInstanceOf(ZkonnxError);
    await expect(generatePreparedPtau(28, join(dir, 'x.ptau'))).rejects.toThrow(/outside/);
    expect(existsSync(join(dir, 'x.ptau'))).toBe(false);
  });
});
