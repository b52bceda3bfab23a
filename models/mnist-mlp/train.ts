// Trains the bundled example model on real MNIST digits and writes it as ONNX with our own
// writer (src/onnx/write.ts). Run: `npm run train:mnist` (optional argument: output folder).
//
// Deterministic by construction: a seeded split and a seeded per-epoch order of the data,
// seeded Glorot initializers, and tfjs's single-threaded CPU backend. Rerunning gives the
// same model.onnx byte for byte; meta.json records its sha256 so a rerun can be checked.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { packageRoot } from '../../src/paths.js';
import { accuracy, argmaxRows, loadDigits, rng, ScheduledAdam, shuffle, toX, type Sample } from '../mnist-data.js';
import { attr, buildModel, type ModelSpec } from '../../src/onnx/write.js';

const SEED = 20240601;
const N_TRAIN = 8000;
const N_TEST = 2000;
const SIDE = 14; // 28x28 pooled 2x2
const N_IN = SIDE * SIDE;
const N_HIDDEN = 32;
const N_OUT = 10;
const EPOCHS = 20;
const BATCH = 64;
// Adam with a cosine-decayed learning rate: a fixed rate either learns slowly (1e-3) or ends
// noisy (1e-2); decaying from 1e-2 gave the best and the most stable held-out accuracy.
const LR_MAX = 0.01;
const LR_MIN = 0.0002;
const N_CALIBRATION = 32;
const MAX_LOGIT_DIFF = 1e-4;


/**
 * 2x2 average pooling, 28x28 -> 14x14. The package stores pixels with 3 decimals, so we sum
 * integer thousandths and divide once: every feature is k/4000 exactly, and the JSON files
 * hold the very value (as a double; float32 of it is what the model sees) that we trained on.
 */
function pool(pixels: ArrayLike<number>): number[] {
  const out: number[] = new Array(N_IN);
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      let k = 0;
      for (const [dr, dc] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
        k += Math.round(pixels[(2 * r + dr) * 28 + 2 * c + dc]! * 1000);
      }
      out[r * SIDE + c] = k / 4000;
    }
  }
  return out;
}







const cosineLr = (epoch: number) => LR_MIN + 0.5 * (LR_MAX - LR_MIN) * (1 + Math.cos((Math.PI * epoch) / EPOCHS));

function buildMlp(): tf.Sequential {
  // Seeded initializers: each layer its own seed, or both would draw the same stream.
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        name: 'fc1', inputShape: [N_IN], units: N_HIDDEN, activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 1 }),
      }),
      tf.layers.dense({
        name: 'fc2', units: N_OUT, activation: 'linear',
        kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 2 }),
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

async function train(model: tf.Sequential, trainSet: Sample[], rand: () => number) {
  let last = { loss: NaN, acc: NaN };
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const lr = cosineLr(epoch);
    (model.optimizer as ScheduledAdam).setLearningRate(lr);
    // Our own seeded order per epoch: tfjs's `shuffle: true` uses Math.random.
    const order = shuffle(trainSet, rand);
    const xs = tf.tensor2d(toX(order, N_IN), [order.length, N_IN]);
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(order.map((s) => s.label), 'int32'), N_OUT));
    const h = await model.fit(xs, ys, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 });
    tf.dispose([xs, ys]);
    last = { loss: h.history['loss']![0] as number, acc: (h.history['acc'] ?? h.history['accuracy'])![0] as number };
    console.log(`epoch ${String(epoch + 1).padStart(2)}/${EPOCHS}  lr ${lr.toFixed(5)}  loss ${last.loss.toFixed(4)}  train acc ${last.acc.toFixed(4)}`);
  }
  return last;
}

function predict(model: tf.Sequential, samples: Sample[]): Float32Array {
  return tf.tidy(() => model.predict(tf.tensor2d(toX(samples, N_IN), [samples.length, N_IN])) as tf.Tensor).dataSync() as Float32Array;
}

/** Gemm with transB=1 and weights [out, in], the layout PyTorch exporters write. */
function onnxSpec(model: tf.Sequential): ModelSpec {
  const initializers: ModelSpec['initializers'] = [];
  for (const name of ['fc1', 'fc2']) {
    const [kernel, bias] = model.getLayer(name).getWeights();
    const [nIn, nOut] = kernel!.shape as [number, number];
    const k = kernel!.dataSync() as Float32Array; // tfjs Dense kernel is [in, out]
    const w = new Float32Array(nIn * nOut);
    for (let i = 0; i < nIn; i++) for (let o = 0; o < nOut; o++) w[o * nIn + i] = k[i * nOut + o]!;
    initializers.push({ name: `${name}.weight`, dims: [nOut, nIn], data: w });
    initializers.push({ name: `${name}.bias`, dims: [nOut], data: Float32Array.from(bias!.dataSync()) });
  }
  // alpha/beta as explicit floats: a bare 1 would be written as an INT attribute.
  const gemm = { alpha: attr.float(1), beta: attr.float(1), transB: 1 };
  return {
    graphName: 'mnist_mlp',
    producer: 'zkonnx models/mnist-mlp/train.ts',
    inputs: [{ name: 'input', shape: ['batch_size', N_IN] }],
    outputs: [{ name: 'output', shape: ['batch_size', N_OUT] }],
    initializers,
    nodes: [
      { name: '/fc1/Gemm', op: 'Gemm', inputs: ['input', 'fc1.weight', 'fc1.bias'], outputs: ['/fc1/Gemm_output_0'], attrs: gemm },
      { name: '/relu1/Relu', op: 'Relu', inputs: ['/fc1/Gemm_output_0'], outputs: ['/relu1/Relu_output_0'] },
      { name: '/fc2/Gemm', op: 'Gemm', inputs: ['/relu1/Relu_output_0', 'fc2.weight', 'fc2.bias'], outputs: ['output'], attrs: gemm },
    ],
  };
}

async function runOrt(bytes: Uint8Array, samples: Sample[]): Promise<Float32Array> {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(bytes);
  try {
    const input = new ort.Tensor('float32', toX(samples, N_IN), [samples.length, N_IN]);
    const out = await session.run({ input });
    return out['output']!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const ezkl = (s: Sample) => ({ input_data: [s.x] });

async function main(): Promise<void> {
  const outDir = resolve(process.argv[2] ?? join(packageRoot(), 'models', 'mnist-mlp'));
  const t0 = performance.now();
  await tf.setBackend('cpu');
  await tf.ready();

  const rand = rng(SEED);
  const all = shuffle(loadDigits(pool), rand);
  if (all.length < N_TRAIN + N_TEST) throw new Error(`mnist package has ${all.length} digits, need ${N_TRAIN + N_TEST}`);
  const trainSet = all.slice(0, N_TRAIN);
  const testSet = all.slice(N_TRAIN, N_TRAIN + N_TEST);
  console.log(`data: ${trainSet.length} train, ${testSet.length} held out (of ${all.length} digits)`);

  const model = buildMlp();
  const tTrain = performance.now();
  const last = await train(model, trainSet, rand);
  const trainSeconds = (performance.now() - tTrain) / 1000;

  const tfLogits = predict(model, testSet);
  const tfPred = argmaxRows(tfLogits, testSet.length, N_OUT);
  const tfAcc = accuracy(tfPred, testSet);
  console.log(`tfjs float model: held-out accuracy ${(tfAcc * 100).toFixed(2)}% (trained in ${trainSeconds.toFixed(1)} s)`);

  const bytes = buildModel(onnxSpec(model));
  const ortLogits = await runOrt(bytes, testSet);
  let maxDiff = 0;
  for (let i = 0; i < tfLogits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(tfLogits[i]! - ortLogits[i]!));
  if (!(ortLogits.length === tfLogits.length && maxDiff < MAX_LOGIT_DIFF)) {
    throw new Error(`ONNX model disagrees with tfjs: max |logit diff| ${maxDiff} (limit ${MAX_LOGIT_DIFF}), ${ortLogits.length} vs ${tfLogits.length} values`);
  }
  const ortPred = argmaxRows(ortLogits, testSet.length, N_OUT);
  const ortAcc = accuracy(ortPred, testSet);
  console.log(`onnxruntime-web on model.onnx: held-out accuracy ${(ortAcc * 100).toFixed(2)}%, max |logit diff| vs tfjs ${maxDiff.toExponential(2)}`);

  // input.json: the first held-out digit that both runtimes classify correctly.
  const pick = testSet.findIndex((s, i) => tfPred[i] === s.label && ortPred[i] === s.label);
  if (pick < 0) throw new Error('no held-out digit is classified correctly');
  const chosen = testSet[pick]!;
  // Calibration: the first held-out digits other than input.json's, so that the scales a
  // quantizer picks are not fitted to the very input we later prove.
  const calPositions = testSet.map((_, i) => i).filter((i) => i !== pick).slice(0, N_CALIBRATION);
  const calibration = calPositions.map((i) => testSet[i]!);

  const meta = {
    name: 'mnist-mlp',
    architecture: {
      summary: `Gemm(${N_IN}->${N_HIDDEN}) -> Relu -> Gemm(${N_HIDDEN}->${N_OUT}), logits out (no softmax)`,
      input: { name: 'input', shape: ['batch_size', N_IN] },
      output: { name: 'output', shape: ['batch_size', N_OUT] },
      nodes: ['/fc1/Gemm', '/relu1/Relu', '/fc2/Gemm'],
      gemm_layout: 'transB=1, weights [out, in] (PyTorch layout)',
      parameters: N_IN * N_HIDDEN + N_HIDDEN + N_HIDDEN * N_OUT + N_OUT,
    },
    preprocessing: 'mnist package digit (28x28, pixels in [0,1] with 3 decimals), 2x2 average pooled to 14x14, flattened row-major to 196',
    data: { source: 'npm mnist@1.1.0 (10,000 real MNIST digits)', split_seed: SEED, train: trainSet.length, test: testSet.length },
    training: {
      framework: `@tensorflow/tfjs ${tf.version.tfjs} (cpu backend)`,
      optimizer: 'adam', learning_rate: { schedule: 'cosine per epoch', max: LR_MAX, min: LR_MIN }, batch_size: BATCH, epochs: EPOCHS,
      loss: 'softmax cross-entropy on logits', seed: SEED,
      final_train_loss: last.loss, final_train_accuracy: last.acc, train_seconds: Number(trainSeconds.toFixed(1)),
    },
    accuracy: {
      tfjs_float_test: tfAcc,
      onnxruntime_web_test: ortAcc,
      onnxruntime_web_version: ort.env.versions.web,
      max_abs_logit_diff: maxDiff,
    },
    input_json: { label: chosen.label, test_position: pick, source: chosen.source },
    calibration_json: { count: calibration.length, test_positions: calPositions, labels: calibration.map((s) => s.label) },
    onnx: { file: 'model.onnx', ir_version: 8, opset: 13, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
    date: new Date().toISOString(),
  };

  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'model.onnx'), bytes);
  await writeFile(join(outDir, 'input.json'), JSON.stringify(ezkl(chosen)) + '\n');
  await writeFile(join(outDir, 'calibration.json'), JSON.stringify(calibration.map(ezkl)) + '\n');
  await writeFile(join(outDir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  console.log(`wrote model.onnx (${bytes.length} bytes), input.json (label ${chosen.label}), calibration.json, meta.json to ${outDir}`);
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
