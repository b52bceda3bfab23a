// Trains the bundled convolutional example on real MNIST digits and writes it as ONNX with our
// own writer (src/onnx/write.ts). Run: `npm run train:mnist-cnn` (optional argument: output folder).
//
// The architecture is circomlib-ml's MNIST convnet (test/circuits/mnist_latest_test.circom),
// with Relu for its polynomial activation, on full 28x28 digits:
//   Conv 3x3x4 -> BatchNorm -> Relu -> AvgPool 2x2 -> Conv 3x3x8 -> BatchNorm -> Relu
//   -> AvgPool 2x2 -> Flatten (200) -> Gemm 200->10 -> ArgMax
// tfjs trains it channels-last (NHWC); the ONNX files are channels-first (NCHW), as PyTorch
// exports them, so the kernels are transposed and the Gemm rows permuted (see
// onnxInitializers), and onnxruntime-web must reproduce the tfjs logits before anything is
// written.
//
// Deterministic by construction: a seeded split and a seeded per-epoch order of the data,
// seeded Glorot initializers, and tfjs's single-threaded CPU backend. Rerunning gives the
// same ONNX files byte for byte; meta.json records their sha256 so a rerun can be checked.
// A few of tfjs's CPU kernels are swapped for faster ones that give identical floats (see
// installFastKernels); ZKONNX_STOCK_KERNELS=1 trains without them, to the same bytes.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { packageRoot } from '../../src/paths.js';
import { accuracy, argmaxRows, loadDigits, rng, ScheduledAdam, shuffle, toX, type Sample } from '../mnist-data.js';
import { attr, buildModel, type InitializerSpec, type ModelSpec } from '../../src/onnx/write.js';

const SEED = 20240601;
const N_TRAIN = 8000;
const N_HELD_OUT = 2000;
const SIDE = 28;
const N_IN = SIDE * SIDE;
const N_OUT = 10;
const K = 3; // conv kernel side
const C1 = 4; // conv1 filters
const C2 = 8; // conv2 filters
// 28 -conv-> 26 -pool-> 13 -conv-> 11 -pool-> 5 (floor: the last row and column are dropped)
const S1 = SIDE - K + 1;
const P1 = Math.floor(S1 / 2);
const S2 = P1 - K + 1;
const P2 = Math.floor(S2 / 2);
const N_FLAT = C2 * P2 * P2;
const BN_EPSILON = 1e-3; // tfjs's default, written into the ONNX BatchNormalization nodes
const BN_MOMENTUM = 0.99; // tfjs's default; same meaning as ONNX's momentum attribute
const EPOCHS = 6;
const BATCH = 64;
// Adam with a cosine-decayed learning rate, as for mnist-mlp.
const LR_MAX = 0.01;
const LR_MIN = 0.0002;
const N_CALIBRATION = 32;
const N_TEST_JSON = 1000;
const MAX_LOGIT_DIFF = 1e-4;
const OPSET = 13;








const cosineLr = (epoch: number) => LR_MIN + 0.5 * (LR_MAX - LR_MIN) * (1 + Math.cos((Math.PI * epoch) / EPOCHS));

function buildCnn(): tf.Sequential {
  // Seeded initializers: each layer its own seed, or they would draw the same stream.
  // Biases start at zero, BatchNorm at gamma 1, beta 0, mean 0, variance 1 (tfjs defaults).
  const conv = (name: string, filters: number, seed: number, inputShape?: number[]) =>
    tf.layers.conv2d({
      name, filters, kernelSize: K, strides: 1, padding: 'valid', useBias: true, dataFormat: 'channelsLast',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
      ...(inputShape ? { inputShape } : {}),
    });
  const bn = (name: string) => tf.layers.batchNormalization({ name, axis: -1, epsilon: BN_EPSILON, momentum: BN_MOMENTUM });
  const pool = (name: string) => tf.layers.averagePooling2d({ name, poolSize: 2, strides: 2, padding: 'valid' });
  const model = tf.sequential({
    layers: [
      conv('conv1', C1, SEED + 1, [SIDE, SIDE, 1]),
      bn('bn1'),
      tf.layers.activation({ name: 'relu1', activation: 'relu' }),
      pool('pool1'),
      conv('conv2', C2, SEED + 2),
      bn('bn2'),
      tf.layers.activation({ name: 'relu2', activation: 'relu' }),
      pool('pool2'),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({
        name: 'fc', units: N_OUT, activation: 'linear',
        kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 3 }),
      }),
    ],
  });
  // The model outputs logits; softmax lives only in the loss, so the ONNX graph needs none.
  model.compile({
    optimizer: new ScheduledAdam(LR_MAX),
    loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
    metrics: ['accuracy'],
  });
  return model;
}

// ---------------------------------------------------------------------------------------------
// Faster CPU kernels that compute the very same floats as tfjs's own.
//
// tfjs's pure-JavaScript CPU backend spends most of this model's training time in generic code:
// the convolution filter gradient reads every element through TensorBuffer.get(...), and
// broadcasting arithmetic, transposes and axis reductions turn every flat index into a
// coordinate array and back. That made one epoch take about 140 s. The kernels below do the
// same arithmetic, in the same order of operations and of summation, on the typed arrays
// directly; one epoch takes about 20 s. Before training, installFastKernels() runs each one and
// tfjs's own on random inputs (and shapes beyond the ones this model needs) and refuses to go on
// unless the results are identical, bit for bit. Anything outside their scope (other dtypes)
// goes to tfjs's kernel, so the training result is the one stock tfjs would give, only sooner.
// ---------------------------------------------------------------------------------------------

/** The slice of tfjs's MathBackendCPU that kernels use. */
interface CpuBackend {
  data: { get(id: tf.DataId): { values: Float32Array | Int32Array | Uint8Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array | Int32Array | Uint8Array): tf.TensorInfo;
}
interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}
type Kernel = (args: KernelArgs) => tf.TensorInfo;
const cpu = (args: KernelArgs) => args.backend as CpuBackend;
const valuesOf = (args: KernelArgs, t: tf.TensorInfo) => cpu(args).data.get(t.dataId).values;
const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Conv2DBackpropFilter: tfjs's loop nest, indexing the arrays instead of TensorBuffer.get. */
function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, batchSize: nb } = info;
  const { inHeight: ih, inWidth: iw, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const last = info.dataFormat === 'channelsLast';
  const { left, top } = info.padInfo;
  const xv = valuesOf(args, x);
  const dyv = valuesOf(args, dy);
  const dw = new Float32Array(fh * fw * ci * co);
  for (let wR = 0; wR < fh; ++wR) {
    const yRMin = Math.max(0, Math.ceil((top - wR) / sh));
    const yRMax = Math.min(oh, (ih + top - wR) / sh);
    for (let wC = 0; wC < fw; ++wC) {
      const yCMin = Math.max(0, Math.ceil((left - wC) / sw));
      const yCMax = Math.min(ow, (iw + left - wC) / sw);
      for (let d1 = 0; d1 < ci; ++d1) {
        for (let d2 = 0; d2 < co; ++d2) {
          let dot = 0;
          for (let b = 0; b < nb; ++b) {
            for (let yR = yRMin; yR < yRMax; ++yR) {
              const xR = wR + yR * sh - top;
              for (let yC = yCMin; yC < yCMax; ++yC) {
                const xC = wC + yC * sw - left;
                dot += last
                  ? xv[((b * ih + xR) * iw + xC) * ci + d1]! * dyv[((b * oh + yR) * ow + yC) * co + d2]!
                  : xv[((b * ci + d1) * ih + xR) * iw + xC]! * dyv[((b * co + d2) * oh + yR) * ow + yC]!;
              }
            }
          }
          dw[((wR * fw + wC) * ci + d1) * co + d2] = dot;
        }
      }
    }
  }
  return cpu(args).makeTensorInfo(filterShape, 'float32', dw);
}

/** Row-major strides of `shape` as seen from the broadcast shape `out` (0 along broadcast dims). */
function broadcastStrides(shape: number[], out: number[]): number[] {
  const st = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[out.length - shape.length + i] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return st;
}

type Run = (r: Float32Array, i: number, n: number, av: ArrayLike<number>, aj: number, as: number, bv: ArrayLike<number>, bj: number, bs: number) => void;
// One loop per op, so that each stays monomorphic (a shared loop calling op(a, b) was 3x slower).
const RUNS: Record<'Add' | 'Sub' | 'Multiply' | 'RealDiv', Run> = {
  Add: (r, i, n, av, aj, as, bv, bj, bs) => { for (const e = i + n; i < e; i++, aj += as, bj += bs) r[i] = av[aj]! + bv[bj]!; },
  Sub: (r, i, n, av, aj, as, bv, bj, bs) => { for (const e = i + n; i < e; i++, aj += as, bj += bs) r[i] = av[aj]! - bv[bj]!; },
  Multiply: (r, i, n, av, aj, as, bv, bj, bs) => { for (const e = i + n; i < e; i++, aj += as, bj += bs) r[i] = av[aj]! * bv[bj]!; },
  RealDiv: (r, i, n, av, aj, as, bv, bj, bs) => { for (const e = i + n; i < e; i++, aj += as, bj += bs) r[i] = av[aj]! / bv[bj]!; },
};

/** Broadcasting float32 arithmetic, walking both operands with an odometer of offsets. */
function binary(name: keyof typeof RUNS) {
  const run = RUNS[name];
  return (stock: Kernel): Kernel => (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock(args);
    const av = valuesOf(args, a);
    const bv = valuesOf(args, b);
    const out = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = sizeOf(out);
    const res = new Float32Array(n);
    const r = out.length;
    const as = broadcastStrides(a.shape, out);
    const bs = broadcastStrides(b.shape, out);
    const inner = r ? out[r - 1]! : 1;
    const ain = r ? as[r - 1]! : 0;
    const bin = r ? bs[r - 1]! : 0;
    const idx = new Array<number>(r).fill(0);
    let ai = 0;
    let bi = 0;
    for (let i = 0; i < n; i += inner) {
      run(res, i, inner, av, ai, ain, bv, bi, bin);
      for (let d = r - 2; d >= 0; d--) {
        idx[d]!++;
        ai += as[d]!;
        bi += bs[d]!;
        if (idx[d]! < out[d]!) break;
        ai -= as[d]! * out[d]!;
        bi -= bs[d]! * out[d]!;
        idx[d] = 0;
      }
    }
    return cpu(args).makeTensorInfo(out, 'float32', res);
  };
}

/** Transpose of a numeric tensor: reads in order, writes through an odometer of offsets. */
function transpose(stock: Kernel): Kernel {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return stock(args);
    const { perm } = args.attrs as unknown as tf.TransposeAttrs;
    const xv = valuesOf(args, x);
    const r = x.shape.length;
    const outShape = perm.map((p) => x.shape[p]!);
    const outStrides = [...tf.util.computeStrides(outShape), 1];
    const st = new Array<number>(r);
    for (let i = 0; i < r; i++) st[perm[i]!] = outStrides[i]!;
    const res = x.dtype === 'float32' ? new Float32Array(xv.length) : new Int32Array(xv.length);
    const inner = r ? x.shape[r - 1]! : 1;
    const sin = r ? st[r - 1]! : 0;
    const idx = new Array<number>(r).fill(0);
    let o = 0;
    for (let i = 0; i < xv.length; ) {
      for (let k = 0, oj = o; k < inner; k++, i++, oj += sin) res[oj] = xv[i]!;
      for (let d = r - 2; d >= 0; d--) {
        idx[d]!++;
        o += st[d]!;
        if (idx[d]! < x.shape[d]!) break;
        o -= st[d]! * x.shape[d]!;
        idx[d] = 0;
      }
    }
    return cpu(args).makeTensorInfo(outShape, x.dtype, res);
  };
}

/**
 * Offsets of all elements of `shape` along `axes` (the others held at 0), in row-major order
 * over those axes: the order tfjs sums in after moving the reduced axes innermost.
 */
function offsets(shape: number[], axes: number[]): Int32Array {
  const strides = [...tf.util.computeStrides(shape), 1];
  const out = new Int32Array(sizeOf(axes.map((d) => shape[d]!)));
  const idx = new Array<number>(axes.length).fill(0);
  for (let j = 0, o = 0; j < out.length; j++) {
    out[j] = o;
    for (let k = axes.length - 1; k >= 0; k--) {
      const d = axes[k]!;
      idx[k]!++;
      o += strides[d]!;
      if (idx[k]! < shape[d]!) break;
      o -= strides[d]! * shape[d]!;
      idx[k] = 0;
    }
  }
  return out;
}

/** Sum or Mean of float32 over any axes (Mean = divide each element by the count, then Sum, as tfjs does). */
function reduce(mean: boolean) {
  return (stock: Kernel): Kernel => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== 'float32') return stock(args);
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const kept = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
    const [outShape, reduceShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    let xv = valuesOf(args, x) as Float32Array;
    if (mean) {
      const count = Math.fround(sizeOf(reduceShape));
      const divided = new Float32Array(xv.length);
      for (let i = 0; i < xv.length; i++) divided[i] = xv[i]! / count;
      xv = divided;
    }
    const inner = offsets(x.shape, axes);
    const outer = offsets(x.shape, kept);
    const res = new Float32Array(outer.length);
    for (let i = 0; i < outer.length; i++) {
      const o = outer[i]!;
      let sum = 0;
      for (let j = 0; j < inner.length; j++) sum += xv[o + inner[j]!]!;
      res[i] = sum;
    }
    const shape = keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return cpu(args).makeTensorInfo(shape, 'float32', res);
  };
}

const seeded = (shape: number[], i: number, dtype: 'float32' | 'int32' = 'float32') =>
  dtype === 'float32' ? tf.randomNormal(shape, 0, 1, 'float32', SEED + 100 + i) : tf.randomUniform(shape, -50, 50, 'int32', SEED + 100 + i);
const BROADCAST_CASES = [
  [[64, 26, 26, 4], [1, 1, 1, 4]], [[1, 1, 1, 8], [3, 11, 11, 8]], [[3, 5, 5, 8], [8]], [[4], [2, 3, 4, 4]],
  [[2, 3, 4, 5], [2, 3, 4, 5]], [[2, 3, 4, 5], []], [[], [3]], [[3, 1, 5], [1, 4, 1]], [[2, 1, 3], [2, 4, 1]],
];
const REDUCE_CASES: [number[], number[] | null][] = [
  [[64, 26, 26, 4], [0, 1, 2]], [[3, 11, 11, 8], [0, 1, 2]], [[2, 3, 4, 5], [3]], [[2, 3, 4, 5], [0, 2]],
  [[2, 3, 4, 5], [2, 0]], [[2, 3, 4, 5], [1]], [[2, 3, 4, 5], null], [[7], [0]], [[64, 10], [1]],
];
const binaryProbe = (op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => () => [
  ...BROADCAST_CASES.map(([a, b], i) => op(seeded(a!, 2 * i), seeded(b!, 2 * i + 1))),
  op(seeded([2, 3], 90, 'int32'), seeded([3], 91, 'int32')), // stays with tfjs's kernel
];
const reduceProbe = (op: (x: tf.Tensor, axis: number[] | null, keepDims: boolean) => tf.Tensor) => () =>
  REDUCE_CASES.flatMap(([shape, axes], i) => [op(seeded(shape, i), axes, false), op(seeded(shape, i), axes, true)]);

const FAST_KERNELS: { name: string; make: (stock: Kernel) => Kernel; probe: () => tf.Tensor[] }[] = [
  {
    name: 'Conv2DBackpropFilter',
    make: () => conv2DBackpropFilter,
    probe: () =>
      ([
        [[3, SIDE, SIDE, 1], [K, K, 1, C1], [1, 1], 'valid', 'NHWC'],
        [[3, P1, P1, C1], [K, K, C1, C2], [1, 1], 'valid', 'NHWC'],
        [[2, 9, 10, 3], [3, 2, 3, 2], [2, 1], 'same', 'NHWC'],
        [[2, 3, 9, 10], [3, 2, 3, 2], [2, 3], 'same', 'NCHW'],
      ] as const).map(([xShape, filterShape, strides, pad, dataFormat], i) => {
        const x = seeded([...xShape], 10 + i);
        const y = tf.conv2d(x as tf.Tensor4D, tf.zeros([...filterShape]) as tf.Tensor4D, [...strides], pad, dataFormat);
        const dy = seeded(y.shape, 20 + i);
        const attrs = { strides, pad, dataFormat, filterShape } as unknown as tf.NamedAttrMap;
        return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor;
      }),
  },
  { name: 'Add', make: binary('Add'), probe: binaryProbe(tf.add) },
  { name: 'Sub', make: binary('Sub'), probe: binaryProbe(tf.sub) },
  { name: 'Multiply', make: binary('Multiply'), probe: binaryProbe(tf.mul) },
  { name: 'RealDiv', make: binary('RealDiv'), probe: binaryProbe(tf.div) },
  {
    name: 'Transpose',
    make: transpose,
    probe: () =>
      ([[[2, 3, 4, 5], [3, 0, 1, 2]], [[2, 3, 4, 5], [1, 3, 0, 2]], [[2, 3, 4, 5], [0, 1, 2, 3]], [[6, 7], [1, 0]], [[5], [0]]] as const)
        .flatMap(([shape, perm], i) => [tf.transpose(seeded([...shape], 40 + i), [...perm]), tf.transpose(seeded([...shape], 50 + i, 'int32'), [...perm])]),
  },
  { name: 'Sum', make: reduce(false), probe: reduceProbe((x, a, k) => tf.sum(x, a ?? undefined, k)) },
  { name: 'Mean', make: reduce(true), probe: reduceProbe((x, a, k) => tf.mean(x, a ?? undefined, k)) },
];

/** Swaps in FAST_KERNELS, each only after it reproduced tfjs's kernel bit for bit on its probe. */
function installFastKernels(): void {
  const snapshot = (probe: () => tf.Tensor[]) =>
    tf.tidy(probe).map((t) => {
      const r = { dtype: t.dtype, shape: t.shape.join(','), values: t.dataSync() };
      t.dispose();
      return r;
    });
  for (const { name, make, probe } of FAST_KERNELS) {
    const stock = tf.getKernel(name, 'cpu');
    if (!stock) throw new Error(`tfjs cpu backend has no ${name} kernel`);
    const install = (kernelFunc: tf.KernelFunc) => {
      tf.unregisterKernel(name, 'cpu');
      tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc });
    };
    const expected = snapshot(probe);
    install(make(stock.kernelFunc as unknown as Kernel) as unknown as tf.KernelFunc);
    const got = snapshot(probe);
    const same = expected.length === got.length && expected.every((e, i) => {
      const g = got[i]!;
      return e.dtype === g.dtype && e.shape === g.shape && e.values.length === g.values.length && e.values.every((v, j) => Object.is(v, g.values[j]));
    });
    if (!same) {
      install(stock.kernelFunc);
      throw new Error(`the fast ${name} kernel does not reproduce tfjs's on its probe`);
    }
  }
}

const images = (samples: Sample[]) => tf.tensor4d(toX(samples, N_IN), [samples.length, SIDE, SIDE, 1]);

async function train(model: tf.Sequential, trainSet: Sample[], rand: () => number) {
  let last = { loss: NaN, acc: NaN };
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const t = performance.now();
    const lr = cosineLr(epoch);
    (model.optimizer as ScheduledAdam).setLearningRate(lr);
    // Our own seeded order per epoch: tfjs's `shuffle: true` uses Math.random.
    const order = shuffle(trainSet, rand);
    const xs = images(order);
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(order.map((s) => s.label), 'int32'), N_OUT));
    const h = await model.fit(xs, ys, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 });
    tf.dispose([xs, ys]);
    last = { loss: h.history['loss']![0] as number, acc: (h.history['acc'] ?? h.history['accuracy'])![0] as number };
    const s = ((performance.now() - t) / 1000).toFixed(1);
    console.log(`epoch ${String(epoch + 1).padStart(2)}/${EPOCHS}  lr ${lr.toFixed(5)}  loss ${last.loss.toFixed(4)}  train acc ${last.acc.toFixed(4)}  ${s} s`);
  }
  return last;
}

function predict(model: tf.Sequential, samples: Sample[]): Float32Array {
  return tf.tidy(() => model.predict(images(samples)) as tf.Tensor).dataSync() as Float32Array;
}

function weightsOf(model: tf.Sequential, layer: string): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const w of model.getLayer(layer).weights) {
    // Variable names look like 'bn1/moving_mean' (tfjs may append a suffix to keep them unique).
    const key = w.originalName.split('/').pop()!;
    out[key] = Float32Array.from(w.read().dataSync() as Float32Array);
  }
  return out;
}

/**
 * The trained weights, laid out for an NCHW graph in PyTorch's names and layouts:
 * - Conv: tfjs kernel [kh, kw, in, out] -> ONNX [out, in, kh, kw].
 * - BatchNormalization: gamma, beta, moving mean, moving variance -> scale, B, mean, var.
 * - Gemm (transB=1, weight [out, in]): tfjs flattens NHWC [5,5,8] as (h, w, c); ONNX Flatten of
 *   NCHW [8,5,5] as (c, h, w). Row o, column c*25+h*5+w of the ONNX weight is therefore the tfjs
 *   kernel entry [(h*5+w)*8+c, o].
 */
function onnxInitializers(model: tf.Sequential): InitializerSpec[] {
  const inits: InitializerSpec[] = [];
  for (const [name, cin, cout] of [['conv1', 1, C1], ['conv2', C1, C2]] as const) {
    const { kernel, bias } = weightsOf(model, name);
    if (kernel?.length !== K * K * cin * cout || bias?.length !== cout) throw new Error(`${name}: unexpected weights`);
    const w = new Float32Array(cout * cin * K * K);
    for (let o = 0; o < cout; o++) {
      for (let i = 0; i < cin; i++) {
        for (let y = 0; y < K; y++) {
          for (let x = 0; x < K; x++) w[((o * cin + i) * K + y) * K + x] = kernel[((y * K + x) * cin + i) * cout + o]!;
        }
      }
    }
    inits.push({ name: `${name}.weight`, dims: [cout, cin, K, K], data: w });
    inits.push({ name: `${name}.bias`, dims: [cout], data: bias });
  }
  for (const [name, c] of [['bn1', C1], ['bn2', C2]] as const) {
    const { gamma, beta, moving_mean: mean, moving_variance: variance } = weightsOf(model, name);
    for (const t of [gamma, beta, mean, variance]) if (t?.length !== c) throw new Error(`${name}: unexpected weights`);
    inits.push({ name: `${name}.weight`, dims: [c], data: gamma! });
    inits.push({ name: `${name}.bias`, dims: [c], data: beta! });
    inits.push({ name: `${name}.running_mean`, dims: [c], data: mean! });
    inits.push({ name: `${name}.running_var`, dims: [c], data: variance! });
  }
  const { kernel, bias } = weightsOf(model, 'fc');
  if (kernel?.length !== N_FLAT * N_OUT || bias?.length !== N_OUT) throw new Error('fc: unexpected weights');
  const w = new Float32Array(N_OUT * N_FLAT);
  for (let o = 0; o < N_OUT; o++) {
    for (let c = 0; c < C2; c++) {
      for (let h = 0; h < P2; h++) {
        for (let x = 0; x < P2; x++) {
          w[o * N_FLAT + (c * P2 + h) * P2 + x] = kernel[((h * P2 + x) * C2 + c) * N_OUT + o]!;
        }
      }
    }
  }
  inits.push({ name: 'fc.weight', dims: [N_OUT, N_FLAT], data: w });
  inits.push({ name: 'fc.bias', dims: [N_OUT], data: bias });
  return inits;
}

/** The graph; with `argmax` the output is the digit (int64), without it the logits. */
function onnxSpec(initializers: InitializerSpec[], argmax: boolean): ModelSpec {
  // Attributes as PyTorch's exporter writes them; floats explicit (a whole number would be INT).
  const conv = { dilations: [1, 1], group: 1, kernel_shape: [K, K], pads: [0, 0, 0, 0], strides: [1, 1] };
  const bn = { epsilon: attr.float(BN_EPSILON), momentum: attr.float(BN_MOMENTUM) };
  const pool = { ceil_mode: 0, kernel_shape: [2, 2], pads: [0, 0, 0, 0], strides: [2, 2] };
  const out = (node: string, op: string) => `/${node}/${op}_output_0`;
  const nodes: ModelSpec['nodes'] = [];
  let prev = 'input';
  const add = (node: string, op: string, extra: string[], attrs?: ModelSpec['nodes'][number]['attrs'], output?: string) => {
    const o = output ?? out(node, op);
    nodes.push({ name: `/${node}/${op}`, op, inputs: [prev, ...extra], outputs: [o], ...(attrs ? { attrs } : {}) });
    prev = o;
  };
  for (const i of [1, 2]) {
    add(`conv${i}`, 'Conv', [`conv${i}.weight`, `conv${i}.bias`], conv);
    add(`bn${i}`, 'BatchNormalization', [`bn${i}.weight`, `bn${i}.bias`, `bn${i}.running_mean`, `bn${i}.running_var`], bn);
    add(`relu${i}`, 'Relu', []);
    add(`pool${i}`, 'AveragePool', [], pool);
  }
  add('flatten', 'Flatten', [], { axis: 1 });
  add('fc', 'Gemm', ['fc.weight', 'fc.bias'], { alpha: attr.float(1), beta: attr.float(1), transB: 1 }, 'logits');
  if (argmax) add('argmax', 'ArgMax', [], { axis: 1, keepdims: 0, select_last_index: 0 }, 'digit');
  return {
    graphName: argmax ? 'mnist_cnn' : 'mnist_cnn_logits',
    producer: 'zkonnx models/mnist-cnn/train.ts',
    opset: OPSET,
    inputs: [{ name: 'input', shape: ['batch_size', 1, SIDE, SIDE] }],
    outputs: argmax
      ? [{ name: 'digit', shape: ['batch_size'], type: 'int64' }]
      : [{ name: 'logits', shape: ['batch_size', N_OUT] }],
    initializers,
    nodes,
  };
}

async function runOrt(bytes: Uint8Array, samples: Sample[], output: string) {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(bytes);
  try {
    const input = new ort.Tensor('float32', toX(samples, N_IN), [samples.length, 1, SIDE, SIDE]);
    const out = await session.run({ input });
    const t = out[output];
    if (!t) throw new Error(`onnxruntime-web: no output ${output}`);
    return t;
  } finally {
    await session.release();
  }
}

const ezkl = (s: Sample) => ({ input_data: [s.x] });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function main(): Promise<void> {
  const outDir = resolve(process.argv[2] ?? join(packageRoot(), 'models', 'mnist-cnn'));
  const t0 = performance.now();
  await tf.setBackend('cpu');
  await tf.ready();
  // Set ZKONNX_STOCK_KERNELS=1 to train with tfjs's own kernels only (same result, about 7x slower).
  if (!process.env['ZKONNX_STOCK_KERNELS']) installFastKernels();

  const rand = rng(SEED);
  const all = shuffle(loadDigits((p) => p), rand);
  if (all.length < N_TRAIN + N_HELD_OUT) throw new Error(`mnist package has ${all.length} digits, need ${N_TRAIN + N_HELD_OUT}`);
  const trainSet = all.slice(0, N_TRAIN);
  const heldOut = all.slice(N_TRAIN, N_TRAIN + N_HELD_OUT);
  console.log(`data: ${trainSet.length} train, ${heldOut.length} held out (of ${all.length} digits)`);

  const model = buildCnn();
  const tTrain = performance.now();
  const last = await train(model, trainSet, rand);
  const trainSeconds = (performance.now() - tTrain) / 1000;

  const tfLogits = predict(model, heldOut);
  const tfPred = argmaxRows(tfLogits, heldOut.length, N_OUT);
  const tfAcc = accuracy(tfPred, heldOut);
  console.log(`tfjs float model: held-out accuracy ${(tfAcc * 100).toFixed(2)}% (trained in ${trainSeconds.toFixed(1)} s)`);

  const initializers = onnxInitializers(model);
  const logitsBytes = buildModel(onnxSpec(initializers, false));
  const modelBytes = buildModel(onnxSpec(initializers, true));

  // logits.onnx must reproduce the tfjs logits; model.onnx must give their argmax.
  const ortLogits = (await runOrt(logitsBytes, heldOut, 'logits')).data as Float32Array;
  let maxDiff = 0;
  for (let i = 0; i < tfLogits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(tfLogits[i]! - ortLogits[i]!));
  if (!(ortLogits.length === tfLogits.length && maxDiff < MAX_LOGIT_DIFF)) {
    throw new Error(`logits.onnx disagrees with tfjs: max |logit diff| ${maxDiff} (limit ${MAX_LOGIT_DIFF}), ${ortLogits.length} vs ${tfLogits.length} values`);
  }
  const ortLogitsPred = argmaxRows(ortLogits, heldOut.length, N_OUT);
  const digitTensor = await runOrt(modelBytes, heldOut, 'digit');
  if (digitTensor.type !== 'int64' || digitTensor.dims.join() !== String(heldOut.length)) {
    throw new Error(`model.onnx: output digit is ${digitTensor.type} [${digitTensor.dims.join(', ')}], expected int64 [${heldOut.length}]`);
  }
  const ortPred = Array.from(digitTensor.data as BigInt64Array, Number);
  const argmaxMismatch = ortPred.filter((p, i) => p !== ortLogitsPred[i]).length;
  if (argmaxMismatch) throw new Error(`model.onnx ArgMax disagrees with the argmax of logits.onnx on ${argmaxMismatch} digits`);
  const tfVsOrt = ortPred.filter((p, i) => p !== tfPred[i]).length;
  const ortAcc = accuracy(ortPred, heldOut);
  console.log(`onnxruntime-web: held-out accuracy ${(ortAcc * 100).toFixed(2)}% (model.onnx), max |logit diff| vs tfjs ${maxDiff.toExponential(2)} (logits.onnx), ${tfVsOrt} predictions differ from tfjs`);

  // input.json: the first held-out digit that both runtimes classify correctly.
  const pick = heldOut.findIndex((s, i) => tfPred[i] === s.label && ortPred[i] === s.label);
  if (pick < 0) throw new Error('no held-out digit is classified correctly');
  const chosen = heldOut[pick]!;
  // Calibration: the first held-out digits other than input.json's, so that the scales a
  // quantizer picks are not fitted to the very input we later prove. test.json: the next
  // held-out digits, disjoint from both, for measuring the quantized model's accuracy.
  const rest = heldOut.map((_, i) => i).filter((i) => i !== pick);
  const calPositions = rest.slice(0, N_CALIBRATION);
  const testPositions = rest.slice(N_CALIBRATION, N_CALIBRATION + N_TEST_JSON);
  if (testPositions.length !== N_TEST_JSON) throw new Error('not enough held-out digits for test.json');
  const calibration = calPositions.map((i) => heldOut[i]!);
  const testJson = { inputs: testPositions.map((i) => heldOut[i]!.x), labels: testPositions.map((i) => heldOut[i]!.label) };
  const subsetAcc = (pred: number[]) => testPositions.filter((i) => pred[i] === heldOut[i]!.label).length / testPositions.length;

  const inits = Object.fromEntries(initializers.map((t) => [t.name, t.data.length]));
  const meta = {
    name: 'mnist-cnn',
    architecture: {
      summary: `Conv(3x3, 1->${C1}) -> BatchNorm -> Relu -> AvgPool(2x2) -> Conv(3x3, ${C1}->${C2}) -> BatchNorm -> Relu -> AvgPool(2x2) -> Flatten(${N_FLAT}) -> Gemm(${N_FLAT}->${N_OUT}) -> ArgMax`,
      after: "circomlib-ml's MNIST convnet (test/circuits/mnist_latest_test.circom: Conv2D 3x3x4, BatchNormalization2D, AveragePooling2D, Conv2D 3x3x8, BatchNormalization2D, AveragePooling2D, Dense 200->10, ArgMax), with Relu where that circuit has a polynomial activation (Poly)",
      layout: 'NCHW (channels first, as PyTorch exports); trained channels-last in tfjs and converted',
      input: { name: 'input', shape: ['batch_size', 1, SIDE, SIDE] },
      shapes: [`[1,${SIDE},${SIDE}]`, `conv1 [${C1},${S1},${S1}]`, `pool1 [${C1},${P1},${P1}]`, `conv2 [${C2},${S2},${S2}]`, `pool2 [${C2},${P2},${P2}]`, `flatten [${N_FLAT}]`, `fc [${N_OUT}]`],
      files: {
        'model.onnx': { output: { name: 'digit', type: 'int64', shape: ['batch_size'] }, last_node: '/argmax/ArgMax' },
        'logits.onnx': { output: { name: 'logits', type: 'float32', shape: ['batch_size', N_OUT] }, last_node: '/fc/Gemm', note: 'model.onnx without the ArgMax' },
      },
      nodes: onnxSpec(initializers, true).nodes.map((n) => n.name),
      attributes: {
        conv: 'kernel_shape [3,3], strides [1,1], pads [0,0,0,0], dilations [1,1], group 1, weights [out, in, kh, kw]',
        batch_normalization: `epsilon ${BN_EPSILON}, momentum ${BN_MOMENTUM}; inference form (running mean and variance), not folded into the Conv`,
        average_pool: 'kernel_shape [2,2], strides [2,2], pads 0, ceil_mode 0 (floor: pool2 maps 11 -> 5 and drops the last row and column of the conv2 output)',
        flatten: 'axis 1, features ordered (c, h, w)',
        gemm: 'transB=1, weights [out, in] (PyTorch layout)',
        argmax: 'axis 1, keepdims 0, select_last_index 0 (first maximum wins)',
      },
      initializers: inits,
      parameters: Object.values(inits).reduce((a, b) => a + b, 0),
    },
    preprocessing: 'mnist package digit (28x28, pixels in [0,1] with 3 decimals), used as is, row-major, shape [1,1,28,28]',
    data: { source: 'npm mnist@1.1.0 (10,000 real MNIST digits)', split_seed: SEED, train: trainSet.length, held_out: heldOut.length },
    training: {
      framework: `@tensorflow/tfjs ${tf.version.tfjs} (cpu backend)`,
      optimizer: 'adam', learning_rate: { schedule: 'cosine per epoch', max: LR_MAX, min: LR_MIN }, batch_size: BATCH, epochs: EPOCHS,
      loss: 'softmax cross-entropy on logits', seed: SEED,
      final_train_loss: last.loss, final_train_accuracy: last.acc, train_seconds: Number(trainSeconds.toFixed(1)),
    },
    accuracy: {
      tfjs_float_held_out: tfAcc,
      onnxruntime_web_held_out: ortAcc,
      tfjs_float_test_json: subsetAcc(tfPred),
      onnxruntime_web_test_json: subsetAcc(ortPred),
      predictions_differing_tfjs_vs_ort: tfVsOrt,
      onnxruntime_web_version: ort.env.versions.web,
      max_abs_logit_diff: maxDiff,
    },
    input_json: { label: chosen.label, held_out_position: pick, source: chosen.source },
    calibration_json: { count: calibration.length, held_out_positions: calPositions, labels: calibration.map((s) => s.label) },
    test_json: {
      count: testPositions.length,
      format: '{"inputs": [[784 pixels], ...], "labels": [...]}, pixels as stored in the mnist package (3 decimals)',
      held_out_positions: `the first ${N_TEST_JSON} held-out positions after those of input.json and calibration.json (${testPositions[0]}..${testPositions.at(-1)})`,
    },
    onnx: {
      ir_version: 8, opset: OPSET,
      'model.onnx': { bytes: modelBytes.length, sha256: sha256(modelBytes) },
      'logits.onnx': { bytes: logitsBytes.length, sha256: sha256(logitsBytes) },
    },
    date: new Date().toISOString(),
  };

  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'model.onnx'), modelBytes);
  await writeFile(join(outDir, 'logits.onnx'), logitsBytes);
  await writeFile(join(outDir, 'input.json'), JSON.stringify(ezkl(chosen)) + '\n');
  await writeFile(join(outDir, 'calibration.json'), JSON.stringify(calibration.map(ezkl)) + '\n');
  const testText = JSON.stringify(testJson) + '\n';
  await writeFile(join(outDir, 'test.json'), testText);
  await writeFile(join(outDir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  console.log(`wrote model.onnx (${modelBytes.length} bytes), logits.onnx (${logitsBytes.length} bytes), input.json (label ${chosen.label}), calibration.json, test.json (${testText.length} bytes), meta.json to ${outDir}`);
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
