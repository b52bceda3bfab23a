// Setup as a team runs it: keys checked against the r1cs and the ptau (ours and snarkjs's own
// CLI), phase-2 contributions and a beacon on top, and clear failures for keys that do not match.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, readFileSync, readSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beacon, compile, contribute, prove, readSettings, setup, verify, verifySetup } from '../src/api.js';
import { BuildPaths } from '../src/paths.js';
import { generatePreparedPtau } from '../src/setup/fast-ptau.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { conformanceInput, conformanceModel, hasConformance } from './helpers/conformance.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-setup-'));
const snarkjsCli = join(__dirname, '..', 'node_modules', '.bin', 'snarkjs');
afterAll(releaseCurves);

describe.skipIf(!hasConformance)('setup: verify, contribute, beacon', () => {
  const build = join(work, 'mlp');
  const input = conformanceInput('1l_mlp');

  beforeAll(async () => {
    await compile({ model: conformanceModel('1l_mlp'), outDir: build, input });
    await setup({ buildDir: build });
  }, 180_000);

  it('fresh keys pass our check and `snarkjs zkey verify`', async () => {
    const r = await verifySetup({ buildDir: build });
    expect(r).toMatchObject({ ok: true, errors: [] });
    const p = new BuildPaths(build);
    const out = await promisify(execFile)(snarkjsCli, ['zkey', 'verify', p.file('r1cs'), r.ptau, p.file('zkey')]);
    expect(out.stdout).toMatch(/ZKey Ok!/);
  }, 120_000);

  it('a contribution and a beacon keep the keys valid and proofs verifying with the new key; the beacon is snarkjs\'s, byte for byte', async () => {
    const c = await contribute({ buildDir: build, name: 'alice' });
    expect(c.contributionHash).toMatch(/^[0-9a-f]{128}$/);
    const p = new BuildPaths(build);
    const hash = '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
    const before = join(work, 'before-beacon.zkey');
    const theirs = join(work, 'snarkjs-beacon.zkey');
    copyFileSync(p.file('zkey'), before);
    const theirHash = await snarkjs.zKey.beacon(before, theirs, 'zkonnx beacon', hash, 10);
    const b = await beacon({ buildDir: build, beaconHash: hash, iterationsExp: 10 });
    expect(b.contributionHash).not.toBe(c.contributionHash);
    expect(b.contributionHash).toBe(Buffer.from(theirHash as Uint8Array).toString('hex'));
    expect(readFileSync(p.file('zkey')).equals(readFileSync(theirs))).toBe(true);
    const r = await verifySetup({ buildDir: build });
    expect(r.ok).toBe(true);
    const out = await promisify(execFile)(snarkjsCli, ['zkey', 'verify', p.file('r1cs'), r.ptau, p.file('zkey')]);
    expect(out.stdout).toMatch(/ZKey Ok!/);
    await prove({ buildDir: build, input });
    expect(await verify({ buildDir: build })).toBe(true);
  }, 120_000);

  it('keys checked against another ptau fail, with a reason', async () => {
    const foreign = join(work, 'foreign.ptau');
    await generatePreparedPtau(readSettings(build).setup!.power, foreign);
    const r = await verifySetup({ buildDir: build, ptau: foreign });
    expect(r.ok).toBe(false);
    expect(r.errors.join(' ')).not.toBe('');
  }, 120_000);

  it('keys of another circuit fail', async () => {
    const q = new BuildPaths(build);
    const dir = join(work, 'mixed');
    await compile({ model: conformanceModel('1l_relu'), outDir: dir, input: conformanceInput('1l_relu') });
    copyFileSync(q.file('zkey'), new BuildPaths(dir).file('zkey'));
    copyFileSync(q.file('vkey'), new BuildPaths(dir).file('vkey'));
    const r = await verifySetup({ buildDir: dir, ptau: readSettings(build).setup!.ptau });
    expect(r.ok).toBe(false);
    expect(r.errors.join(' ')).toMatch(/circuit|match|parameters/i);
  }, 120_000);

  it('a corrupted section fails', async () => {
    const dir = join(work, 'corrupt');
    await compile({ model: conformanceModel('1l_mlp'), outDir: dir, input });
    await setup({ buildDir: dir });
    const file = new BuildPaths(dir).file('zkey');
    const fd = openSync(file, 'r+');
    const byte = Buffer.alloc(1);
    const pos = 2000; // inside the point sections, past the header
    readSync(fd, byte, 0, 1, pos);
    byte[0]! ^= 0x55;
    writeSync(fd, byte, 0, 1, pos);
    closeSync(fd);
    expect((await verifySetup({ buildDir: dir })).ok).toBe(false);
  }, 120_000);
});

describe('setup with a ptau that is too small', () => {
  it('names the power the circuit needs', async () => {
    const dir = join(work, 'mnist');
    const model = join(__dirname, '..', 'models', 'mnist-mlp');
    await compile({ model: join(model, 'model.onnx'), outDir: dir, calibration: join(model, 'calibration.json') });
    const small = join(work, 'small.ptau');
    await generatePreparedPtau(8, small);
    await expect(setup({ buildDir: dir, ptau: small })).rejects.toMatchObject({ code: 'PTAU_TOO_SMALL', message: expect.stringMatching(/2\^12/) });
  }, 180_000);
});
