// The `zkonnx` command as a user runs it: exit codes, messages that name what was wrong, --json,
// and no half-written build left behind after a failure.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/onnx/write.js';
import { conformanceInput, conformanceModel, hasConformance } from './helpers/conformance.js';

const root = join(__dirname, '..');
// the installed executable: heavy verbs re-run themselves in a Node with a heap sized to the machine
const cli = join(root, 'dist', 'src', 'cli', 'zkonnx.js');
const work = mkdtempSync(join(tmpdir(), 'zkonnx-cli-'));

async function zkonnx(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [cli, ...args], { cwd: work, timeout: 300_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

beforeAll(async () => {
  if (!existsSync(cli)) await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root });
}, 120_000);

describe('zkonnx CLI', () => {
  it('demo, the README\'s first command: the bundled model compiled, set up, proved, verified off-chain and on a local EVM', async () => {
    const r = await zkonnx('demo', '--build', join(work, 'demo'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d).toMatchObject({ verified: true, onchain: { verified: true, chainId: 31337 } });
    expect(d.digit).toBe(d.label);
    expect(d.onchain.gasUsed).toBeGreaterThan(150_000);
  }, 300_000);

  it('rejects an unsupported op with the node and op named, exit ≠ 0, and leaves no build', async () => {
    const model = join(work, 'sig.onnx');
    writeFileSync(model, buildModel({
      graphName: 'sig', inputs: [{ name: 'x', shape: [1, 2] }], outputs: [{ name: 'y', shape: [1, 2] }], initializers: [],
      nodes: [{ name: '/act/Hardmax', op: 'Hardmax', inputs: ['x'], outputs: ['y'] }],
    }));
    writeFileSync(join(work, 'input.json'), JSON.stringify({ input_data: [[0.5, -0.5]] }));
    const r = await zkonnx('compile', model, '--build', join(work, 'build-sig'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[ONNX_UNSUPPORTED_OP]');
    expect(r.stderr).toContain('node /act/Hardmax (Hardmax)');
    expect(existsSync(join(work, 'build-sig'))).toBe(false);
  });

  it('compile --weights hashed on a Conv: the summary names the commitment and the weights\' range checks apart from the input\'s', async () => {
    const model = join(work, 'hconv.onnx');
    writeFileSync(model, buildModel({
      graphName: 'hconv', inputs: [{ name: 'x', shape: [1, 1, 4, 4] }], outputs: [{ name: 'y', shape: [1, 2, 3, 3] }],
      initializers: [{ name: 'K', dims: [2, 1, 2, 2], data: new Float32Array([1, -2, 3, 0.5, -1, 0.25, 2, -0.75]) }, { name: 'B', dims: [2], data: new Float32Array([0.1, -0.1]) }],
      nodes: [{ name: '/conv', op: 'Conv', inputs: ['x', 'K', 'B'], outputs: ['c'], attrs: { kernel_shape: [2, 2] } }, { name: '/relu', op: 'Relu', inputs: ['c'], outputs: ['y'] }],
    }));
    const input = join(work, 'hconv-input.json');
    writeFileSync(input, JSON.stringify({ input_data: [Array.from({ length: 16 }, (_, i) => (i % 5) / 4 - 0.5)] }));
    const r = await zkonnx('compile', model, '--build', join(work, 'build-hconv'), '--input-file', input, '--weights', 'hashed');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/weights commitment \d+ \(public signal \d+\)/);
    // 10 weights of 12 bits: 13 constraints each; 16 inputs apart
    expect(r.stdout).toMatch(/by op: mul\+relu \d+, input range checks \d+, weight range checks 130\n/);
  });

  it('compile --headroom-bits sets the rescales\' headroom (settings.json params), and refuses one out of [1, 64]', async () => {
    const model = join(work, 'headroom.onnx');
    writeFileSync(model, buildModel({
      graphName: 'headroom', inputs: [{ name: 'x', shape: [1, 3] }], outputs: [{ name: 'y', shape: [1, 2] }],
      initializers: [{ name: 'W', dims: [3, 2], data: new Float32Array([0.5, -1, 0.25, 0.75, -0.5, 1]) }],
      nodes: [{ name: '/mm', op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] }, { name: '/relu', op: 'Relu', inputs: ['h'], outputs: ['y'] }],
    }));
    const input = join(work, 'headroom-input.json');
    writeFileSync(input, JSON.stringify({ input_data: [[0.5, -0.25, 1]] }));
    const r = await zkonnx('compile', model, '--build', join(work, 'build-headroom'), '--input-file', input, '--headroom-bits', '6', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).params).toEqual({ activationBits: 12, weightBits: 12, headroomBits: 6 });
    const bad = await zkonnx('compile', model, '--build', join(work, 'build-headroom-0'), '--input-file', input, '--headroom-bits', '0');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('headroomBits must be an integer in [1, 64], got 0');
  });

  it('rejects a malformed file, naming it', async () => {
    const model = join(work, 'junk.onnx');
    writeFileSync(model, 'this is not protobuf at all');
    const r = await zkonnx('compile', model, '--json');
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout).error.code).toBe('ONNX_MALFORMED');
    expect(r.stderr).toContain('junk.onnx');
  });

  it('says which step to run when an artifact is missing', async () => {
    const r = await zkonnx('prove', '--build', join(work, 'nowhere'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/settings\.json does not exist[\s\S]*zkonnx compile/);
  });

  it.skipIf(!hasConformance)('runs every verb on a model, with --json, and fails on a tampered proof', async () => {
    const build = join(work, 'build-mlp');
    const input = conformanceInput('1l_mlp');
    let r = await zkonnx('compile', conformanceModel('1l_mlp'), '--build', build, '--input', 'public', '--json');
    expect(r.code, r.stderr).toBe(0);
    const compiled = JSON.parse(r.stdout);
    expect(compiled.circuit.publicInputs).toBe(3);
    expect(compiled.visibility).toEqual({ input: 'public', output: 'public', weights: 'baked' });

    r = await zkonnx('setup', '--build', build);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/SINGLE-PARTY/);

    r = await zkonnx('prove', input, '--build', build, '--backend', 'wasm', '--json');
    expect(r.code, r.stderr).toBe(0);
    const proved = JSON.parse(r.stdout);
    expect(proved.publicSignals).toHaveLength(4 + 3);
    const proofDir = join(build, 'proofs', 'default');
    for (const f of ['proof.json', 'public.json', 'output.json', 'witness.wtns', 'input.json']) expect(existsSync(join(proofDir, f))).toBe(true);
    const output = JSON.parse(readFileSync(join(proofDir, 'output.json'), 'utf8'));
    expect(output.outputs[0].raw).toHaveLength(4);

    r = await zkonnx('verify', '--build', build);
    expect(r.code).toBe(0);
    // what the proof states: its public outputs, the prove's values
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('verified');
    expect(lines[1]).toBe(`  ${output.outputs[0].name} [${output.outputs[0].shape}] = [${output.outputs[0].values.map((v: number) => +v.toFixed(6)).join(', ')}]`);

    // the files alone, as a third party gets them: no build folder
    const files = ['--proof', join(proofDir, 'proof.json'), '--public', join(proofDir, 'public.json')];
    r = await zkonnx('verify', '--vkey', join(build, 'verification_key.json'), ...files);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('verified');
    r = await zkonnx('verify', '--build', build, ...files, '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: true, outputs: [{ name: output.outputs[0].name }] });
    r = await zkonnx('verify', '--build', build, '--proof', join(proofDir, 'proof.json'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--proof without --public/);

    r = await zkonnx('export-verifier', '--build', build);
    expect(r.code).toBe(0);
    expect(readFileSync(join(build, 'Verifier.sol'), 'utf8')).toContain('contract Groth16Verifier');

    r = await zkonnx('verify-onchain', '--build', build, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: true });

    // a public input the proof was not made for
    const pub = JSON.parse(readFileSync(join(proofDir, 'public.json'), 'utf8')) as string[];
    pub[5] = (BigInt(pub[5]!) + 1n).toString();
    writeFileSync(join(proofDir, 'public.json'), JSON.stringify(pub));
    r = await zkonnx('verify', '--build', build);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('INVALID proof: the pairing check fails');
    r = await zkonnx('verify', '--vkey', join(build, 'verification_key.json'), '--proof', join(proofDir, 'proof.json'), '--public', join(proofDir, 'public.json'), '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: false, problem: expect.stringMatching(/pairing check fails/) });
    r = await zkonnx('verify-onchain', '--build', build);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('INVALID proof on-chain: the pairing check fails');
  }, 300_000);

  it.skipIf(!hasConformance)('refuses an input outside the calibrated range, naming the input and element', async () => {
    const build = join(work, 'build-relu');
    expect((await zkonnx('compile', conformanceModel('1l_relu'), '--build', build, '--input-file', conformanceInput('1l_relu'))).code).toBe(0);
    expect((await zkonnx('setup', '--build', build)).code).toBe(0);
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ input_data: [[0, 1000, 0]] }));
    const r = await zkonnx('prove', bad, '--build', build);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[INPUT_OUT_OF_RANGE]');
    expect(r.stderr).toContain("'input'[1] = 1000");
    expect(existsSync(join(build, 'proofs', 'default', 'proof.json'))).toBe(false);
  }, 300_000);
});

describe('zkonnx CLI: the ceremony verbs and the safety of what it writes', () => {
  const build = join(work, 'build-small');
  const input = join(work, 'small-input.json');
  beforeAll(async () => {
    const model = join(work, 'small.onnx');
    writeFileSync(model, buildModel({
      graphName: 'small', inputs: [{ name: 'x', shape: [1, 3] }], outputs: [{ name: 'y', shape: [1, 2] }],
      initializers: [{ name: 'W', dims: [2, 3], data: new Float32Array([0.5, -1, 0.25, 1, 0.75, -0.5]) }, { name: 'B', dims: [2], data: new Float32Array([0.1, -0.2]) }],
      nodes: [{ name: '/fc/Gemm', op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: ['h'], attrs: { transB: 1 } }, { name: '/act/Relu', op: 'Relu', inputs: ['h'], outputs: ['y'] }],
    }));
    writeFileSync(input, JSON.stringify({ input_data: [[0.5, -0.25, 1]] }));
    const r = await zkonnx('compile', model, '--build', build, '--input-file', input);
    expect(r.code, r.stderr).toBe(0);
    // what an interrupted setup leaves behind (its process is gone): the next setup removes it
    writeFileSync(join(build, 'circuit_final.zkey.tmp-2147483646'), 'partial');
    expect((await zkonnx('setup', '--build', build)).code).toBe(0);
    expect(readdirSync(build).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(Object.keys(JSON.parse(readFileSync(join(build, 'keys.json'), 'utf8')))).toEqual(['zkeySha256', 'vkeySha256']);
  }, 120_000);

  it('setup contribute, beacon, verify and verify-ptau take their arguments as the README writes them', async () => {
    let r = await zkonnx('setup', 'contribute', '--build', build, '--name', 'alice', '--entropy', 'some words');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('contribution added');
    r = await zkonnx('setup', 'beacon', '--build', build, '--hash', '0102030405060708090a0b0c0d0e0f10', '--iterations', '10');
    expect(r.code, r.stderr).toBe(0);
    r = await zkonnx('setup', 'verify', '--build', build);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('keys verified');
    // the ptau itself, then a copy with two τ·G1 powers swapped (section 2 starts at byte 80)
    const ptau = JSON.parse(readFileSync(join(build, 'settings.json'), 'utf8')).setup.ptau as string;
    r = await zkonnx('setup', 'verify-ptau', ptau);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/powers of tau verified: 2\^\d+ of a 2\^\d+ ceremony, 1 contribution/);
    const b = readFileSync(ptau);
    const p1 = Buffer.from(b.subarray(80 + 64, 80 + 128));
    b.copy(b, 80 + 64, 80 + 128, 80 + 192);
    p1.copy(b, 80 + 128);
    writeFileSync(join(work, 'spoiled.ptau'), b);
    r = await zkonnx('setup', 'verify-ptau', join(work, 'spoiled.ptau'));
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/INVALID powers of tau:[^]*section 2 \(tauG1\): its points are not consecutive powers of τ/);
  }, 120_000);

  it('refuses a proof name that leaves proofs/, and a build folder that holds other files', async () => {
    let r = await zkonnx('prove', input, '--build', build, '--name', '../../escaped');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[BAD_ARGUMENT]');
    expect(existsSync(join(work, 'escaped'))).toBe(false);
    const mine = join(work, 'my-files');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'keep me');
    r = await zkonnx('compile', join(work, 'small.onnx'), '--build', mine, '--input-file', input);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not a zkonnx build folder/);
    expect(readFileSync(join(mine, 'notes.txt'), 'utf8')).toBe('keep me');
  }, 120_000);

  it('a failed re-prove keeps the good proof; a live writer of the same name is refused, a dead one\'s lock is not', async () => {
    let r = await zkonnx('prove', input, '--build', build, '--name', 'keep', '--backend', 'wasm');
    expect(r.code, r.stderr).toBe(0);
    const proof = readFileSync(join(build, 'proofs', 'keep', 'proof.json'), 'utf8');
    const bad = join(work, 'small-bad.json');
    writeFileSync(bad, JSON.stringify({ input_data: [[0.5, 1000, 1]] }));
    r = await zkonnx('prove', bad, '--build', build, '--name', 'keep', '--backend', 'wasm');
    expect(r.code).not.toBe(0);
    expect(readFileSync(join(build, 'proofs', 'keep', 'proof.json'), 'utf8')).toBe(proof);
    // a lock held by a running process (this one), then one left by a process that is gone
    writeFileSync(join(build, 'proofs', 'keep.lock'), String(process.pid));
    r = await zkonnx('prove', input, '--build', build, '--name', 'keep', '--backend', 'wasm');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[BUSY]');
    writeFileSync(join(build, 'proofs', 'keep.lock'), '2147483646');
    mkdirSync(join(build, 'proofs', 'keep.tmp-2147483646'));
    r = await zkonnx('prove', input, '--build', build, '--name', 'keep', '--backend', 'wasm');
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(build, 'proofs', 'keep.lock'))).toBe(false);
    expect(existsSync(join(build, 'proofs', 'keep.tmp-2147483646'))).toBe(false);
  }, 120_000);

  it('a damaged proving key is named (KEY_CHANGED) and no proof of it is kept; without keys.json the proof is still verified before it is written', async () => {
    const zkey = join(build, 'circuit_final.zkey');
    const good = readFileSync(zkey);
    // flip the second point of the A section (5) of the snarkjs .zkey: a key that gives invalid proofs
    const bad = Buffer.from(good);
    let at = 12;
    while (bad.readUInt32LE(at) !== 5) at += 12 + Number(bad.readBigUInt64LE(at + 4));
    for (let i = 0; i < 64; i++) bad[at + 12 + 64 + i]! ^= 0x55;
    writeFileSync(zkey, bad);
    const keys = readFileSync(join(build, 'keys.json'));
    try {
      let r = await zkonnx('prove', input, '--build', build, '--name', 'damaged', '--backend', 'wasm');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('[KEY_CHANGED]');
      expect(r.stderr).toContain('circuit_final.zkey');
      rmSync(join(build, 'keys.json'));
      r = await zkonnx('prove', input, '--build', build, '--name', 'damaged', '--backend', 'wasm');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('[PROOF_INVALID]');
      expect(existsSync(join(build, 'proofs', 'damaged'))).toBe(false);
    } finally {
      writeFileSync(zkey, good);
      writeFileSync(join(build, 'keys.json'), keys);
    }
    // the verification key is checked before each proof (the proving key's hash only when a proof fails)
    const vkeyFile = join(build, 'verification_key.json');
    const vkey = readFileSync(vkeyFile);
    try {
      writeFileSync(vkeyFile, Buffer.concat([vkey, Buffer.from(' ')]));
      const r = await zkonnx('prove', input, '--build', build, '--name', 'damaged', '--backend', 'wasm');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('[KEY_CHANGED]');
      expect(r.stderr).toContain('verification_key.json');
      expect(existsSync(join(build, 'proofs', 'damaged'))).toBe(false);
    } finally {
      writeFileSync(vkeyFile, vkey);
    }
    const r = await zkonnx('prove', input, '--build', build, '--name', 'damaged', '--backend', 'wasm');
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it('names what is wrong without a stack trace: 1e400, folders for files, a wrong-shaped calibration sample, --out in a new folder', async () => {
    const huge = join(work, 'huge.json');
    writeFileSync(huge, '{"input_data": [[0.5, 1e400, 1]]}');
    let r = await zkonnx('prove', huge, '--build', build, '--name', 'huge');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/input_data\[0\]\[1\] is Infinity \(beyond a 64-bit float's range/);
    r = await zkonnx('prove', work, '--build', build, '--name', 'dir');
    expect(r.stderr).toContain('[INPUT_INVALID]');
    expect(r.stderr).toContain('is a folder');
    r = await zkonnx('compile', work, '--build', join(work, 'build-dir'));
    expect(r.stderr).toContain('is a folder: pass the .onnx file');
    const calib = join(work, 'calib-wrong.json');
    writeFileSync(calib, JSON.stringify([{ input_data: [[0.5, -0.25, 1]] }, { input_data: [[0.5, -0.25]] }]));
    r = await zkonnx('compile', join(work, 'small.onnx'), '--build', join(work, 'build-wrong'), '--calibration', calib);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("sample 1: input 'x' of shape [1,3] needs 3 values, input_data[0] has 2");
    for (const x of [r.stderr, (await zkonnx('prove', work, '--build', build)).stderr]) expect(x).not.toMatch(/\n\s+at /);
    r = await zkonnx('export-verifier', '--build', build, '--out', join(work, 'contracts', 'new', 'V.sol'));
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(work, 'contracts', 'new', 'V.sol'), 'utf8')).toContain('contract Groth16Verifier');
  }, 120_000);

  it('refuses an absurd calibration (one sample of 1e30 sets the scale) unless --allow-inaccurate; prove then says the outputs are off', async () => {
    const calib = join(work, 'calib-absurd.json');
    writeFileSync(calib, JSON.stringify([{ input_data: [[0.5, -0.25, 1]] }, { input_data: [[1e30, 1e30, 1e30]] }]));
    const absurd = join(work, 'build-absurd');
    let r = await zkonnx('compile', join(work, 'small.onnx'), '--build', absurd, '--calibration', calib);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[QUANT_INACCURATE]');
    expect(r.stderr).toMatch(/calibration sample 0: .*off by \d\.\d+ .*largest \|x\| = 1\.00e\+30, in sample 1/);
    expect(existsSync(absurd)).toBe(false);
    r = await zkonnx('compile', join(work, 'small.onnx'), '--build', absurd, '--calibration', calib, '--allow-inaccurate');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('INACCURATE (kept by --allow-inaccurate): sample 0');
    expect(JSON.parse(readFileSync(join(absurd, 'settings.json'), 'utf8')).accuracy.allowInaccurate).toBe(true);
    expect((await zkonnx('setup', '--build', absurd)).code).toBe(0);
    r = await zkonnx('prove', input, '--build', absurd, '--backend', 'wasm');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('OVER IT, the proven outputs are not the float model');
    expect(r.stderr).toContain('more than the tolerance');
  }, 180_000);
});

describe('README example script', () => {
  it('is in the README verbatim and proves the bundled model', async () => {
    const script = readFileSync(join(root, 'examples', 'prove.mjs'), 'utf8');
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(script.trim());
    const r = await promisify(execFile)(process.execPath, [join(root, 'examples', 'prove.mjs')], {
      cwd: root, env: { ...process.env, BUILD_DIR: join(work, 'build-example') }, timeout: 600_000,
    });
    expect(r.stdout).toContain('predicted digit: 6');
    expect(r.stdout).toContain('verified: true');
  }, 600_000);
});
