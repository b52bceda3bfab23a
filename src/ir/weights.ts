// --weights hashed: the weights of the linear layers leave the circuit's constants and become
// private inputs (role 'weight'), committed to by one Poseidon hash that is a public signal. The
// verification key then names an architecture, and the commitment names the weights.
import { ZkonnxError, nodeLabel } from '../errors.js';
import type { Graph, Tensor, ValueInfo } from './graph.js';

export interface LiftedWeight {
  name: string;
  shape: number[];
  data: Float64Array;
}

/** Ops whose constant parameters would stay in the circuit: refused rather than silently baked. */
const BAKED_PARAMS = new Set(['Conv', 'ConvTranspose', 'BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'PRelu']);

/**
 * Moves the weights of Gemm (B, C) and MatMul (the constant operand), and the constant operand of
 * an Add right after one of them (its bias), into graph inputs with role 'weight', in the order
 * the nodes use them. Other constants (scalars of Mul/Div/Clip, shapes, axes) are architecture
 * and stay in the circuit.
 */
export function liftWeights(g: Graph): { graph: Graph; weights: LiftedWeight[] } {
  const lifted = new Map<string, LiftedWeight>();
  const fromLinear = new Set<string>();
  const lift = (name: string, node: Graph['nodes'][number]) => {
    const t: Tensor | undefined = g.constants.get(name);
    if (!t || lifted.has(name)) return;
    if (t.data.length === 0) throw new ZkonnxError('ONNX_SHAPE', `${nodeLabel(node)}: weight '${name}' is empty`, { node: node.name, op: node.op });
    lifted.set(name, { name, shape: t.dims, data: t.data });
  };
  for (const node of g.nodes) {
    const isConst = (i: number) => node.inputs[i] !== undefined && g.constants.has(node.inputs[i]!);
    if (node.op === 'Gemm') {
      [1, 2, 0].filter(isConst).forEach((i) => lift(node.inputs[i]!, node));
      fromLinear.add(node.outputs[0]!);
    } else if (node.op === 'MatMul') {
      [0, 1].filter(isConst).forEach((i) => lift(node.inputs[i]!, node));
      fromLinear.add(node.outputs[0]!);
    } else if ((node.op === 'Add' || node.op === 'Sub') && node.inputs.some((i) => fromLinear.has(i))) {
      [0, 1].filter(isConst).forEach((i) => lift(node.inputs[i]!, node));
    } else if (BAKED_PARAMS.has(node.op) && node.inputs.slice(1).some((n) => n && g.constants.has(n))) {
      throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: --weights hashed supports Gemm and MatMul layers (and their bias Add); this ${node.op}'s parameters would stay in the circuit`, {
        file: g.source, node: node.name, op: node.op, hint: 'use --weights baked for this model',
      });
    }
  }
  if (lifted.size === 0) {
    throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${g.source}: --weights hashed found no Gemm or MatMul weights to commit to`, { file: g.source, hint: 'use --weights baked' });
  }
  const constants = new Map(g.constants);
  const inputs: ValueInfo[] = [...g.inputs];
  for (const w of lifted.values()) {
    constants.delete(w.name);
    inputs.push({ name: w.name, shape: w.shape, dtype: 1, role: 'weight' });
  }
  return { graph: { ...g, constants, inputs }, weights: [...lifted.values()] };
}
