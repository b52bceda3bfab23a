// The float reference on a thread of its own (src/quantize/reference-thread.ts), as `prove` starts
// it: the values are runReference's to the bit; the built module (dist, what the CLI runs) answers
// on its thread, also to a process that has nothing else alive; a model onnxruntime-web cannot
// run fails with runReference's own error.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ValueInfo } from '../src/ir/graph.js';
import { readOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { buildModel } from '../src/onnx/write.js';
import { runReference } from '../src/quantize/reference.js';
import * as fromSources from '../src/quantize/reference-thread.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-refthread-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const built = join(__dirname, '..', 'dist', 'src', 'quantize', 'reference-thread.js');

function model(): { path: string; inputs: ValueInfo[]; outputs: ValueInfo[] } {
  const path = join(work, 'gemm.onnx');
  writeFileSync(path, buildModel({
    graphName: 'gemm', inputs: [{ name: 'x', shape: [1, 3] }], outputs: [{ name: 'y', shape: [1, 2] }],
    initializers: [{ name: 'w', dims: [3, 2], data: Float32Array.from([0.5, -1.25, 2, 0.75, -0.5, 1]) }],
    nodes: [{ name: '/m', op: 'MatMul', inputs: ['x', 'w'], outputs: ['t'] }, { name: '/r', op: 'Relu', inputs: ['t'], outputs: ['y'] }],
  }));
  const g = inferAndFold(readOnnx(path));
  return { path, inputs: g.inputs as ValueInfo[], outputs: g.outputs as ValueInfo[] };
}

describe('the float reference on its own thread', () => {
  const m = model();
  const sample = [Float64Array.from([0.25, -1.5, 3])];

  it('gives runReference\'s values, from the sources (where the thread may not start) and from the built module (on its thread, twice: its session kept)', async () => {
    const want = await runReference(m.path, m.inputs, sample, m.outputs);
    expect(await fromSources.referenceRun(m.path, m.inputs, sample, m.outputs).values).toEqual(want);
    expect(existsSync(built), 'dist is built (npm test builds first)').toBe(true);
    const dist = (await import(built)) as typeof fromSources;
    dist.startReference(m.path);
    for (const x of [sample, [Float64Array.from([-2, 0.5, 1])]]) {
      const r = dist.referenceRun(m.path, m.inputs, x, m.outputs);
      expect(await r.values).toEqual(await runReference(m.path, m.inputs, x, m.outputs));
      expect(r.onThread).toBe(true);
    }
  });

  it('a process with nothing else alive gets the thread\'s answer (node -e: the worker drops the parent\'s --input-type)', async () => {
    const script = `const m = await import(${JSON.stringify(pathToFileURL(built).href)});
const r = m.referenceRun(${JSON.stringify(m.path)}, ${JSON.stringify(m.inputs)}, [[0.25, -1.5, 3]], ${JSON.stringify(m.outputs)});
const v = await r.values;
console.log(JSON.stringify({ values: v.map((x) => Array.from(x)), onThread: r.onThread }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
    const got = JSON.parse(stdout) as { values: number[][]; onThread: boolean };
    expect(got.onThread).toBe(true);
    expect(got.values).toEqual((await runReference(m.path, m.inputs, sample, m.outputs)).map((x) => Array.from(x)));
  });

  it('a model onnxruntime-web cannot load fails with runReference\'s error, run on the caller\'s thread; the next model gets a thread again', async () => {
    const bad = join(work, 'bad.onnx');
    writeFileSync(bad, buildModel({
      graphName: 'bad', inputs: [{ name: 'x', shape: [1, 3] }], outputs: [{ name: 'y', shape: [1, 3] }], initializers: [],
      nodes: [{ name: '/n', op: 'NoSuchOp', inputs: ['x'], outputs: ['y'] }],
    }));
    const want = await runReference(bad, m.inputs, sample, m.inputs).then(() => 'ran', (e: Error) => e.message);
    expect(want).not.toBe('ran');
    const dist = (await import(built)) as typeof fromSources;
    const r = dist.referenceRun(bad, m.inputs, sample, m.inputs);
    await expect(r.values).rejects.toThrow(want);
    expect(r.onThread).toBe(false);
    const ok = dist.referenceRun(m.path, m.inputs, sample, m.outputs);
    expect(await ok.values).toEqual(await runReference(m.path, m.inputs, sample, m.outputs));
    expect(ok.onThread).toBe(true);
  });
});
