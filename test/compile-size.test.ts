// A model too large for the machine fails at once with its size in the message: before
// linearization when its linear layers cannot fit, before the constraint system when its keys
// could not (with the --split that would make them fit).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { affineTerms, affineTermsByKind, checkCircuitMemory, checkCompileMemory, compileMemoryNeed, estimateGraphConstraints } from '../src/compiler/size.js';
import { ZkonnxError } from '../src/errors.js';
import { linearize } from '../src/ir/linearize.js';
import { readOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { packageRoot } from '../src/paths.js';
import { calibrate } from '../src/quantize/calibrate.js';
import { quantize } from '../src/quantize/quantize.js';
import { loadSamples } from '../src/inputs.js';
import { quantGraphFromJson, quantGraphLines, quantGraphToJson } from '../src/ir/serialize.js';

const dir = join(packageRoot(), 'models', 'mnist-mlp');

describe('size guards', () => {
  const graph = inferAndFold(readOnnx(join(dir, 'model.onnx')));

  it('counts the multiply-accumulates of the linear layers', () => {
    // 196→32 and 32→10 Gemms, plus the Relu's 32 elements
    expect(affineTerms(graph)).toBe(196 * 32 + 32 + 32 * 10);
  });

  it('refuses a model whose linear layers do not fit, naming the size and the memory', () => {
    const err = (() => { try { checkCompileMemory(graph, 1e6); } catch (e) { return e; } })() as ZkonnxError;
    expect(err).toBeInstanceOf(ZkonnxError);
    expect(err.code).toBe('CIRCUIT_TOO_LARGE');
    expect(err.message).toMatch(/about 7k multiply-accumulates.*needs about .* GiB, this machine has 0\.0 GiB/);
    expect(() => checkCompileMemory(graph, 2 ** 30)).not.toThrow();
  });

  it('prices a convolution\'s terms below a dense layer\'s, unless the weights are committed', () => {
    // bench:compile's CNNs peak at about 175 bytes a term, its MLPs at about 380
    const cnn = inferAndFold(readOnnx(join(packageRoot(), 'models', 'mnist-cnn', 'model.onnx')));
    const { conv, other } = affineTermsByKind(cnn);
    expect(conv).toBeGreaterThan(other);
    expect(conv + other).toBe(affineTerms(cnn));
    // the same terms priced as a dense layer's with committed weights: ~160 bytes more each
    const more = (compileMemoryNeed(cnn, true) - compileMemoryNeed(cnn)) / conv;
    expect(more).toBeGreaterThan(100);
    expect(more).toBeLessThan(300);
    expect(compileMemoryNeed(graph, true)).toBe(compileMemoryNeed(graph)); // no convolution
  });

  it('refuses one circuit whose keys do not fit, and says which --split would', () => {
    const affine = linearize(graph);
    const qg = quantize(affine, calibrate(affine, loadSamples(join(dir, 'calibration.json'))));
    const est = estimateGraphConstraints(qg);
    expect(est).toBeGreaterThan(3000);
    const err = (() => { try { checkCircuitMemory(qg, 'model.onnx', 1e6); } catch (e) { return e; } })() as ZkonnxError;
    expect(err.code).toBe('CIRCUIT_TOO_LARGE');
    expect(err.message).toMatch(/about \d+k constraints \(a 2\^\d+ domain\)/);
    expect(err.hint).toMatch(/--split \d+ or --max-constraints \d+/);
    expect(() => checkCircuitMemory(qg, 'model.onnx', 2 ** 30)).not.toThrow();
  });

  it('writes qgraph.json an act a line, which reads back whole or a line at a time (no size limit): the same graph', () => {
    const affine = linearize(graph);
    const qg = quantize(affine, calibrate(affine, loadSamples(join(dir, 'calibration.json'))));
    const lines = quantGraphLines(qg);
    expect(lines.length).toBe(qg.acts.length + 2);
    const bytes = new TextEncoder().encode(lines.join('\n'));
    const whole = quantGraphFromJson(bytes);
    const byLine = quantGraphFromJson(bytes, 0);
    expect(quantGraphToJson(byLine)).toBe(quantGraphToJson(whole));
    expect(byLine.acts[0]!.args.coef[0]).toBe(qg.acts[0]!.args.coef[0]); // bigints back as bigints
    expect(typeof byLine.outputs[0]!.bound).toBe('bigint');
    // a build written before (one line) still reads
    expect(quantGraphToJson(quantGraphFromJson(new TextEncoder().encode(JSON.stringify(JSON.parse(lines.join('\n')))), 0))).toBe(quantGraphToJson(whole));
  });
});
