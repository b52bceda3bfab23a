// How large a model's circuit will be, known before the expensive steps, so that a model too
// large for this machine fails at once with a message that names its size (and, where it helps,
// --split) instead of running out of memory minutes later.
import { freemem, totalmem } from 'node:os';
import { ZkonnxError } from '../errors.js';
import type { Graph, QuantGraph } from '../ir/graph.js';
import { sizeOf } from '../ir/graph.js';
import { estimateConstraints } from '../split.js';
import { packPerElement, POSEIDON16_CONSTRAINTS } from '../commit/poseidon.js';
import { challengeCost, freivaldsPlan } from './freivalds.js';

/**
 * Bytes of compile-time memory per term of the affine maps (linearization, quantization and the
 * constraint store together): about 380 at the peak on MLPs of 1M and 5.5M weights, about 175 on
 * CNNs of 12.6M and 41M (bench:compile's resnet and resnet20: 2.3 and 7.1 GB), whose terms reuse
 * a kernel's few weights; both with a margin, on top of the process's own ~300 MB.
 */
const BYTES_PER_TERM = 400;
const BYTES_PER_CONV_TERM = 240;
const BASE_BYTES = 512 * 2 ** 20;
/** Bytes of setup/prove memory per constraint or wire: the key's points (A, B1, B2, C, H) and the FFT buffers. */
const BYTES_PER_ROW = 640;

/** Multiply-accumulates of the model's linear layers on signals (the terms of its affine maps), convolutions' apart. */
export function affineTermsByKind(g: Graph): { conv: number; other: number } {
  let conv = 0;
  let other = 0;
  for (const n of g.nodes) {
    const out = g.shapes.get(n.outputs[0] ?? '');
    if (!out) continue;
    const outSize = sizeOf(out);
    const w = n.inputs[1] ? (g.constants.get(n.inputs[1]) ?? { dims: g.shapes.get(n.inputs[1]) ?? [] }) : undefined;
    const wd = w && 'dims' in w ? w.dims : [];
    switch (n.op) {
      case 'Conv': case 'ConvTranspose': {
        // each output (or input, transposed) element: (C_in / group) · kernel taps
        const group = typeof n.attrs.group === 'number' ? n.attrs.group : 1;
        const taps = wd.length > 2 ? sizeOf(wd.slice(2)) : 1;
        const cin = n.op === 'Conv' ? (wd[1] ?? 1) : (wd[0] ?? 1) / group;
        conv += n.op === 'Conv' ? outSize * cin * taps : sizeOf(g.shapes.get(n.inputs[0]!) ?? out) * (wd[1] ?? 1) * taps;
        break;
      }
      case 'Gemm': case 'MatMul': {
        const a = g.shapes.get(n.inputs[0]!) ?? [];
        const k = n.op === 'Gemm' && n.attrs.transA === 1 ? a[0] ?? 1 : a[a.length - 1] ?? 1;
        other += outSize * k;
        break;
      }
      default:
        other += outSize;
    }
  }
  return { conv, other };
}

/** Multiply-accumulates of the model's linear layers on signals: the terms of its affine maps. */
export function affineTerms(g: Graph): number {
  const t = affineTermsByKind(g);
  return t.conv + t.other;
}

/**
 * Compile-time memory the model's affine maps need. Committed weights make a convolution's terms
 * products of two signals, each its own pair of operands: priced as any other term.
 */
export function compileMemoryNeed(g: Graph, committedWeights = false): number {
  return memoryFor(affineTermsByKind(g), committedWeights);
}

function memoryFor(t: { conv: number; other: number }, committedWeights: boolean): number {
  return BASE_BYTES + t.conv * (committedWeights ? BYTES_PER_TERM : BYTES_PER_CONV_TERM) + t.other * BYTES_PER_TERM;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
const human = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(1)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : String(n));

/** Refuses, before linearization, a model whose affine maps alone cannot fit in this machine's memory. */
export function checkCompileMemory(g: Graph, memory = Math.max(totalmem() * 0.75, freemem()), committedWeights = false): void {
  const t = affineTermsByKind(g);
  const terms = t.conv + t.other;
  const need = memoryFor(t, committedWeights);
  if (need > memory) {
    throw new ZkonnxError('CIRCUIT_TOO_LARGE', `${g.source}: the model's linear layers are about ${human(terms)} multiply-accumulates on signals; compiling them needs about ${gib(need)}, this machine has ${gib(memory)}`, {
      file: g.source,
      hint: 'the constraint system cannot be smaller than its linear layers: use a smaller input (resolution, sequence length) or fewer channels; --split divides setup and proving, not this step',
    });
  }
}

/** Estimated constraints of a quantized graph (the templates' costs, circuits/zkonnx.circom). */
export function estimateGraphConstraints(qg: QuantGraph): number {
  let n = 0;
  for (const i of qg.inputs) n += i.size * (i.bits + 1);
  // committed weights: packed ⌊253 / bits⌋ to a field element, 15 elements to a Poseidon of ~600 constraints
  const weights = qg.inputs.filter((i) => i.role === 'weight');
  if (weights.length) {
    const total = weights.reduce((t, w) => t + w.size, 0);
    n += Math.ceil(total / packPerElement(weights[0]!.bits) / 15) * POSEIDON16_CONSTRAINTS;
  }
  for (const a of qg.acts) for (let i = 0; i < a.size; i++) n += estimateConstraints(a, i);
  const plan = freivaldsPlan(qg);
  return plan ? n + challengeCost(qg, plan) : n;
}

/**
 * Refuses, before the constraint system is built, one circuit whose Groth16 key would not fit in
 * memory at setup and proving time; --split makes chunks that do.
 */
export function checkCircuitMemory(qg: QuantGraph, source: string, memory = Math.max(totalmem() * 0.75, freemem())): void {
  const constraints = estimateGraphConstraints(qg);
  // the estimate runs up to ~6% under the real count (an unrolled LSTM's functions): 8% margin
  const domain = 2 ** Math.ceil(Math.log2(constraints * 1.08 + 1));
  const need = 2 * domain * BYTES_PER_ROW;
  if (need > memory) {
    const per = Math.max(1, Math.floor(memory / (2 * BYTES_PER_ROW) / 2));
    throw new ZkonnxError('CIRCUIT_TOO_LARGE', `${source}: about ${human(constraints)} constraints (a 2^${Math.log2(domain)} domain); its keys would need about ${gib(need)} at setup and proving, this machine has ${gib(memory)}`, {
      file: source,
      hint: `split it into circuits that fit: --split ${Math.ceil(constraints / per)} or --max-constraints ${per}`,
    });
  }
}
