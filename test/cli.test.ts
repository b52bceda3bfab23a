// The `zkonnx` command as a user runs it: exit codes, messages that name what was wrong, --json,
// and no half-written build left behind after a failure.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
    expect(r.stdout.trim()).toBe('verified');

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
    expect(r.stdout).toContain('INVALID');
    r = await zkonnx('verify-onchain', '--build', build);
    expect(r.code).toBe(1);
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
    expect((await zkonnx('setup', '--build', build)).code).toBe(0);
  }, 120_000);

  it('setup contribute, beacon and verify take --build as the README writes them', async () => {
    let r = await zkonnx('setup', 'contribute', '--build', build, '--name', 'alice', '--entropy', 'some words');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('contribution added');
    r = await zkonnx('setup', 'beacon', '--build', build, '--hash', '0102030405060708090a0b0c0d0e0f10', '--iterations', '10');
    expect(r.code, r.stderr).toBe(0);
    r = await zkonnx('setup', 'verify', '--build', build);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('keys verified');
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
