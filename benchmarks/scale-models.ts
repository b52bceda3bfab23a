// The scale series of bench:compile, written with zkonnx's own ONNX writer: MLPs by weight count,
// the 28×28 CNN that circom2 cannot compile (5×5 "same" convolutions of 8 and 16 channels, two
// max-pools), LeNet-5, a CIFAR-10-sized ResNet with three residual blocks, and ResNet-20. Weights are
// seeded Glorot-uniform draws (the bench measures the compiler, not accuracy); each model comes
// with a seeded input in [0, 1] of its declared shape.
import { buildModel, type InitializerSpec, type ModelSpec, type NodeSpec } from '../src/onnx/write.js';
import { rng } from '../src/random.js';

export interface ScaleModel {
  name: string;
  description: string;
  onnx: Uint8Array;
  /** EZKL input.json content */
  input: { input_data: number[][] };
  weights: number;
}

class Builder {
  readonly nodes: NodeSpec[] = [];
  readonly inits: InitializerSpec[] = [];
  private n = 0;
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }

  private uniform(count: number, limit: number): Float32Array {
    return Float32Array.from({ length: count }, () => (2 * this.next() - 1) * limit);
  }

  private init(name: string, dims: number[], data: Float32Array): string {
    this.inits.push({ name, dims, data });
    return name;
  }

  node(op: string, inputs: string[], attrs?: NodeSpec['attrs']): string {
    const out = `t${this.n++}`;
    this.nodes.push({ name: `/${op.toLowerCase()}${this.n}/${op}`, op, inputs, outputs: [out], ...(attrs ? { attrs } : {}) });
    return out;
  }

  conv(x: string, cin: number, cout: number, k: number, pad: number, stride = 1): string {
    const fan = cin * k * k;
    const w = this.init(`conv${this.n}.weight`, [cout, cin, k, k], this.uniform(cout * fan, Math.sqrt(6 / (fan + cout * k * k))));
    const b = this.init(`conv${this.n}.bias`, [cout], this.uniform(cout, 0.05));
    return this.node('Conv', [x, w, b], { kernel_shape: [k, k], pads: [pad, pad, pad, pad], strides: [stride, stride] });
  }

  gemm(x: string, nin: number, nout: number): string {
    const w = this.init(`fc${this.n}.weight`, [nout, nin], this.uniform(nout * nin, Math.sqrt(6 / (nin + nout))));
    const b = this.init(`fc${this.n}.bias`, [nout], this.uniform(nout, 0.05));
    return this.node('Gemm', [x, w, b], { transB: 1 });
  }

  relu(x: string): string { return this.node('Relu', [x]); }
  maxPool(x: string): string { return this.node('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] }); }
  avgPool(x: string): string { return this.node('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2] }); }
  flatten(x: string): string { return this.node('Flatten', [x], { axis: 1 }); }
  add(a: string, b: string): string { return this.node('Add', [a, b]); }

  model(name: string, input: number[], out: string, outShape: number[]): { onnx: Uint8Array; weights: number } {
    const spec: ModelSpec = {
      graphName: name,
      inputs: [{ name: 'input', shape: input }],
      outputs: [{ name: out, shape: outShape }],
      initializers: this.inits,
      nodes: this.nodes,
    };
    return { onnx: buildModel(spec), weights: this.inits.reduce((s, i) => s + i.data.length, 0) };
  }

  sample(size: number): { input_data: number[][] } {
    return { input_data: [Array.from({ length: size }, () => Math.round(this.next() * 1000) / 1000)] };
  }
}

/** An MLP 784 → hidden… → 10 with ReLU between the layers. */
export function mlp(name: string, hidden: number[]): ScaleModel {
  const b = new Builder(hidden.reduce((s, h) => s * 31 + h, 7));
  let x = 'input';
  let n = 784;
  for (const h of hidden) { x = b.relu(b.gemm(x, n, h)); n = h; }
  x = b.gemm(x, n, 10);
  const m = b.model(name, [1, 784], x, [1, 10]);
  return { name, description: `MLP 784-${hidden.join('-')}-10`, ...m, input: b.sample(784) };
}

/** 28×28 CNN: Conv 5×5 same 1→8, ReLU, MaxPool 2 → Conv 5×5 same 8→16, ReLU, MaxPool 2 → Gemm 784→10. */
export function cnn28(): ScaleModel {
  const b = new Builder(28);
  let x = b.maxPool(b.relu(b.conv('input', 1, 8, 5, 2)));
  x = b.maxPool(b.relu(b.conv(x, 8, 16, 5, 2)));
  x = b.gemm(b.flatten(x), 16 * 7 * 7, 10);
  const m = b.model('cnn28', [1, 1, 28, 28], x, [1, 10]);
  return { name: 'cnn28', description: 'CNN 28×28: conv 5×5 same 8, maxpool, conv 5×5 same 16, maxpool, dense 10', ...m, input: b.sample(784) };
}

/** LeNet-5 on 28×28: Conv 5×5 pad 2 1→6, ReLU, AvgPool → Conv 5×5 6→16, ReLU, AvgPool → 120 → 84 → 10. */
export function lenet5(): ScaleModel {
  const b = new Builder(5);
  let x = b.avgPool(b.relu(b.conv('input', 1, 6, 5, 2)));
  x = b.avgPool(b.relu(b.conv(x, 6, 16, 5, 0)));
  x = b.relu(b.gemm(b.flatten(x), 16 * 5 * 5, 120));
  x = b.relu(b.gemm(x, 120, 84));
  x = b.gemm(x, 84, 10);
  const m = b.model('lenet5', [1, 1, 28, 28], x, [1, 10]);
  return { name: 'lenet5', description: 'LeNet-5: conv 5×5 6, avgpool, conv 5×5 16, avgpool, dense 120-84-10', ...m, input: b.sample(784) };
}

/**
 * A CIFAR-10 ResNet: 3×32×32 in, a 3×3 stem of 16 channels, three stages of `blocks` basic blocks
 * (16 channels at 32×32, 32 at 16×16, 64 at 8×8; the first block of the last two stages
 * downsamples with stride 2 and a 1×1 projection on the skip), global average pooling, dense 10.
 */
function cifarResNet(name: string, seed: number, blocks: number, description: string): ScaleModel {
  const b = new Builder(seed);
  let x = b.relu(b.conv('input', 3, 16, 3, 1));
  let c = 16;
  for (const [cout, stride] of [[16, 1], [32, 2], [64, 2]] as const) {
    for (let block = 0; block < blocks; block++) {
      const s = block === 0 ? stride : 1;
      const y = b.conv(b.relu(b.conv(x, c, cout, 3, 1, s)), cout, cout, 3, 1);
      const skip = s === 1 && cout === c ? x : b.conv(x, c, cout, 1, 0, s);
      x = b.relu(b.add(y, skip));
      c = cout;
    }
  }
  x = b.gemm(b.flatten(b.node('GlobalAveragePool', [x])), c, 10);
  const m = b.model(name, [1, 3, 32, 32], x, [1, 10]);
  return { name, description, ...m, input: b.sample(3 * 32 * 32) };
}

/** A CIFAR-10-sized ResNet with one residual block a stage. */
export const resnet = (): ScaleModel => cifarResNet('resnet', 10, 1, 'ResNet (CIFAR-10 sized): stem 16, blocks 16@32², 32@16², 64@8², dense 10');

/**
 * ResNet-20 for CIFAR-10 (He et al. 2016, §4.2): three blocks a stage, 19 convolutions, 41M
 * multiply-accumulates, the standard zkML benchmark network.
 */
export const resnet20 = (): ScaleModel => cifarResNet('resnet20', 20, 3, 'ResNet-20 (CIFAR-10): stem 16, 3×3 blocks 16@32², 32@16², 64@8², dense 10');

/** The series in bench order: MLPs of about 10k, 100k, 1M and 4M weights, then the CNNs. */
export function scaleSeries(): ScaleModel[] {
  return [
    mlp('mlp-10k', [12]),
    mlp('mlp-100k', [120]),
    mlp('mlp-1m', [1024, 256]),
    mlp('mlp-4m', [2048, 1280, 512]),
    cnn28(),
    lenet5(),
    resnet(),
    resnet20(),
  ];
}
