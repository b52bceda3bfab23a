// Control flow that a circuit can prove: an If whose condition is known at compile time (it
// depends only on constants, shapes, or inputs fixed with --fix-input) is replaced by the branch
// it takes; one whose condition is computed from the input computes both branches and selects
// each output (Where), where both branches give it the same shape. A Scan runs its body once per slice of its scan inputs, a
// number fixed by their shapes: it is unrolled (sklearn-onnx writes cdist, the distances of k-NN
// and Gaussian-process models, as a Scan over the training rows).
import type { Node, SubGraph, Tensor } from '../ir/graph.js';
import { nums } from './rewrite.js';

/** A one-output default-domain node. */
const node0 = (name: string, op: string, inputs: string[], output: string, attrs: Node['attrs'] = {}): Node => ({ name, op, domain: '', inputs, outputs: [output], attrs });

/** Adds a constant the unrolled nodes read (and its shape); returns its name. */
function addConstant(constants: Map<string, Tensor>, shapes: Map<string, number[]>, name: string, dims: number[], data: number[]): string {
  constants.set(name, { dims, data: Float64Array.from(data) });
  shapes.set(name, dims);
  return name;
}

const isSubgraph = (v: unknown): v is SubGraph => typeof v === 'object' && v !== null && (v as SubGraph).subgraph === true;

/** Renames the values a branch defines (outputs of its nodes, its initializers), in nested subgraphs too. */
function renameNodes(nodes: Node[], rename: (n: string) => string): Node[] {
  return nodes.map((n) => ({
    ...n,
    inputs: n.inputs.map((x) => (x ? rename(x) : x)),
    outputs: n.outputs.map((x) => (x ? rename(x) : x)),
    attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, isSubgraph(v) ? renameSubgraph(v, rename) : v])),
  }));
}

function renameSubgraph(g: SubGraph, rename: (n: string) => string): SubGraph {
  return { ...g, nodes: renameNodes(g.nodes, rename), constants: new Map([...g.constants].map(([k, t]) => [rename(k), t])), outputs: g.outputs.map(rename) };
}

/**
 * One copy of a subgraph: its formal inputs bound to `bound`, the values it defines (node outputs,
 * initializers, other inputs) prefixed with `prefix`, its initializers added to `constants`, and
 * its node names prefixed too (a body node that is rewritten names its new values after itself).
 * Names it reads from the outer scope stay as they are.
 */
function instantiate(g: SubGraph, prefix: string, bound: Map<string, string>, constants: Map<string, Tensor>, shapes: Map<string, number[]>): { nodes: Node[]; outputs: string[] } {
  const defined = new Set<string>([...g.constants.keys(), ...g.inputs]);
  g.nodes.forEach((n) => n.outputs.forEach((o) => o && defined.add(o)));
  const r = renameSubgraph(g, (n) => bound.get(n) ?? (defined.has(n) ? prefix + n : n));
  for (const [k, t] of r.constants) { constants.set(k, t); shapes.set(k, t.dims); }
  return { nodes: r.nodes.map((n, i) => ({ ...n, name: `${prefix}${n.name || `${n.op}${i}`}` })), outputs: r.outputs };
}

/** The nodes of one If branch, prefixed `<if>/then/` or `<if>/else/`, and its outputs' new names. */
function inlineBranch(node: Node, then: boolean, constants: Map<string, Tensor>, shapes: Map<string, number[]>, fail: (msg: string) => never): { nodes: Node[]; outputs: string[] } {
  const key = then ? 'then_branch' : 'else_branch';
  const branch = node.attrs[key];
  if (!isSubgraph(branch)) fail(`If has no ${key} graph`);
  if (branch.outputs.length !== node.outputs.length) fail(`the ${key} has ${branch.outputs.length} outputs, the If ${node.outputs.length}`);
  return instantiate(branch, `${node.name}/${then ? 'then' : 'else'}/`, new Map(), constants, shapes);
}

/**
 * The nodes that replace `node` (an If whose condition is `cond`): the taken branch's nodes, its
 * values prefixed with the If's name (a branch may reuse names of the outer graph's scope), its
 * initializers added to `constants`, and one Identity per If output.
 */
export function inlineIf(node: Node, cond: Tensor, constants: Map<string, Tensor>, shapes: Map<string, number[]>, fail: (msg: string) => never): Node[] {
  if (cond.data.length !== 1) fail(`If's condition must hold one value, it holds ${cond.data.length}`);
  const b = inlineBranch(node, cond.data[0] !== 0, constants, shapes, fail);
  return [
    ...b.nodes,
    ...node.outputs.map((out, i) => ({ name: `${node.name}/out${i}`, op: 'Identity', domain: '', inputs: [b.outputs[i]!], outputs: [out], attrs: {} })),
  ];
}

/** The domain of zkonnx's own nodes in a graph being folded (LoopNext, IfSelect: fold.ts runs them). */
export const CONTROL_DOMAIN = 'zkonnx';
export const IF_SELECT = 'IfSelect';

/**
 * An If whose condition `cond` is computed from the input: both branches, then per output an
 * IfSelect node (cond, then's value, else's value) that fold.ts turns into a Where once it has
 * checked that both values have the same shape (a branch-dependent shape cannot be proven).
 * Both branches are computed for every input: each must be defined on any admissible input.
 */
export function selectIf(node: Node, cond: string, constants: Map<string, Tensor>, shapes: Map<string, number[]>, fail: (msg: string) => never): Node[] {
  const t = inlineBranch(node, true, constants, shapes, fail);
  const e = inlineBranch(node, false, constants, shapes, fail);
  return [
    ...t.nodes, ...e.nodes,
    ...node.outputs.map((out, i) => ({ name: `${node.name}/select${i}`, op: IF_SELECT, domain: CONTROL_DOMAIN, inputs: [cond, t.outputs[i]!, e.outputs[i]!], outputs: [out], attrs: {} })),
  ];
}

/**
 * The nodes that replace a Scan (opset 9 on): for t = 0 … T − 1 the body's nodes, its values
 * prefixed with `<scan>/scan<t>/`, its state inputs bound to the previous step's state outputs
 * (the Scan's initial values at t = 0) and each scan input to its slice t along its axis (T − 1 − t
 * in reverse); then the final states, and each scan output's T slices stacked along its axis
 * (Unsqueeze, Concat; reversed where its direction is 1). T is the scan inputs' common length
 * along their axes, known from their shapes.
 */
export function unrollScan(node: Node, opset: number, shapeOf: (n: string) => number[], constants: Map<string, Tensor>, shapes: Map<string, number[]>, fail: (msg: string) => never): Node[] {
  const body = node.attrs.body;
  if (!isSubgraph(body)) fail('Scan has no body graph');
  if (opset < 9) fail(`Scan of opset ${opset} (a batch axis and sequence_lens) is not supported: export with opset 9 or later`);
  const M = typeof node.attrs.num_scan_inputs === 'number' ? node.attrs.num_scan_inputs : 0;
  const N = node.inputs.length - M;
  if (M < 1 || N < 0) fail(`num_scan_inputs=${M} for ${node.inputs.length} inputs`);
  if (body.inputs.length !== N + M) fail(`the body takes ${body.inputs.length} inputs, the Scan gives it ${N + M} (${N} states, ${M} scan inputs)`);
  const K = body.outputs.length - N;
  if (K < 0 || node.outputs.length > N + K) fail(`the body has ${body.outputs.length} outputs for ${N} states and the Scan's ${node.outputs.length} outputs`);
  const list = (key: string, n: number) => { const v = nums(node.attrs[key]); return v.length ? v : new Array<number>(n).fill(0); };
  const [inAxes, inDirs, outAxes, outDirs] = [list('scan_input_axes', M), list('scan_input_directions', M), list('scan_output_axes', K), list('scan_output_directions', K)];
  const scanIns = node.inputs.slice(N);
  const axes = scanIns.map((x, j) => {
    const r = shapeOf(x).length;
    const a = inAxes[j]! < 0 ? inAxes[j]! + r : inAxes[j]!;
    if (a < 0 || a >= r) fail(`scan_input_axes[${j}]=${inAxes[j]} is out of range for scan input '${x}' of rank ${r}`);
    return a;
  });
  const lengths = scanIns.map((x, j) => shapeOf(x)[axes[j]!]!);
  const T = lengths[0]!;
  if (lengths.some((l) => l !== T)) fail(`the scan inputs have lengths [${lengths}] along their scan axes: they must be equal`);
  if (T < 1) fail('the scan inputs are empty');

  const out: Node[] = [];
  const constant = (name: string, dims: number[], data: number[]) => addConstant(constants, shapes, name, dims, data);
  let state = node.inputs.slice(0, N);
  const slices: string[][] = Array.from({ length: K }, () => []);
  for (let t = 0; t < T; t++) {
    const prefix = `${node.name}/scan${t}/`;
    const bound = new Map<string, string>(body.inputs.slice(0, N).map((b, i) => [b, state[i]!]));
    scanIns.forEach((x, j) => {
      const at = constant(`${prefix}at${j}`, [], [inDirs[j] ? T - 1 - t : t]);
      out.push(node0(`${prefix}slice${j}`, 'Gather', [x, at], `${prefix}in${j}`, { axis: axes[j]! }));
      bound.set(body.inputs[N + j]!, `${prefix}in${j}`);
    });
    const g = instantiate(body, prefix, bound, constants, shapes);
    out.push(...g.nodes);
    state = g.outputs.slice(0, N);
    g.outputs.slice(N).forEach((o, k) => slices[k]!.push(o));
  }
  node.outputs.slice(0, N).forEach((o, i) => { if (o) out.push(node0(`${node.name}/state${i}`, 'Identity', [state[i]!], o)); });
  node.outputs.slice(N).forEach((o, k) => {
    if (!o) return;
    const axis = outAxes[k]!;
    const at = constant(`${node.name}/axis${k}`, [1], [axis]);
    const parts = slices[k]!.map((v, t) => { const u = `${node.name}/out${k}/${t}`; out.push(node0(`${u}/unsqueeze`, 'Unsqueeze', [v, at], u)); return u; });
    out.push(node0(`${node.name}/out${k}`, 'Concat', outDirs[k] ? parts.reverse() : parts, o, { axis }));
  });
  return out;
}

/** The node that follows each unrolled Loop iteration (domain CONTROL_DOMAIN; fold.ts runs it). */
export const LOOP_NEXT = 'LoopNext';
/** Given the iteration's condition_out (a constant, or undefined for a signal): the nodes after it. */
export type LoopContinuation = (cond: Tensor | undefined) => Node[];
/** More iterations than this is taken for a loop that does not end at compile time. */
const MAX_LOOP_ITERATIONS = 10_000;

/**
 * A Loop unrolled one iteration at a time: the body's nodes with its values prefixed `<loop>/iter<t>/`, iteration_num bound to the
 * constant t, condition_in to the previous condition, the carried values to the previous
 * iteration's; then a LoopNext node that fold.ts runs once the iteration's nodes are folded: with
 * condition_out a constant it continues (the next iteration, or the Loop's outputs: the final
 * carried values and each scan output's iterations stacked along a new axis 0); with
 * condition_out computed from the input (a data-dependent exit) the rest runs masked (below).
 */
export function unrollLoop(node: Node, constants: Map<string, Tensor>, shapes: Map<string, number[]>, continuations: Map<string, LoopContinuation>, fail: (msg: string) => never): Node[] {
  const body = node.attrs.body;
  if (!isSubgraph(body)) fail('Loop has no body graph');
  const [tripName, condName, ...init] = node.inputs;
  const N = init.length;
  if (body.inputs.length !== N + 2) fail(`the body takes ${body.inputs.length} inputs, the Loop gives it ${N + 2} (iteration number, condition and ${N} carried values)`);
  const K = body.outputs.length - 1 - N;
  if (K < 0 || node.outputs.length > N + K) fail(`the body has ${body.outputs.length} outputs for a condition, ${N} carried values and the Loop's ${node.outputs.length} outputs`);
  const known = (name: string | undefined, what: string): Tensor | undefined => {
    if (!name) return undefined;
    const t = constants.get(name);
    if (!t) fail(`the ${what} '${name}' depends on the model's input: zkonnx unrolls only loops whose iterations are known at compile time`);
    if (t.data.length !== 1) fail(`the ${what} must hold one value, it holds ${t.data.length}`);
    return t;
  };
  const trip = known(tripName, 'trip count');
  const M = trip ? trip.data[0]! : Infinity;
  const constant = (name: string, data: number) => addConstant(constants, shapes, name, [], [data]);
  /** The body's nodes for iteration t on the carried values `state` (prefixed `<loop>/iter<t>/`), and its outputs' names. */
  const iteration = (t: number, state: string[]): { nodes: Node[]; outputs: string[] } => {
    const prefix = `${node.name}/iter${t}/`;
    const bound = new Map<string, string>([
      [body.inputs[0]!, constant(`${prefix}iteration_num`, t)],
      [body.inputs[1]!, constant(`${prefix}condition_in`, 1)],
      ...body.inputs.slice(2).map((b, i): [string, string] => [b, state[i]!]),
    ]);
    return instantiate(body, prefix, bound, constants, shapes);
  };
  /** The final carried values into the Loop's outputs. */
  const finals = (state: string[]): Node[] => node.outputs.slice(0, N).flatMap((o, i) => (o ? [node0(`${node.name}/final${i}`, 'Identity', [state[i]!], o)] : []));

  const step = (t: number, state: string[], cond: boolean, parts: string[][]): Node[] => {
    if (!cond || t >= M) {
      const out = finals(state);
      node.outputs.slice(N).forEach((o, k) => {
        if (!o) return;
        if (!t) fail(`the loop runs no iteration, so scan output '${o}' would be empty`);
        const axis = constant(`${node.name}/axis${k}`, 0);
        const stacked = parts[k]!.map((v, i) => { const u = `${node.name}/out${k}/${i}`; out.push(node0(`${u}/unsqueeze`, 'Unsqueeze', [v, axis], u)); return u; });
        out.push(node0(`${node.name}/out${k}`, 'Concat', stacked, o, { axis: 0 }));
      });
      return out;
    }
    if (t >= MAX_LOOP_ITERATIONS) fail(`the loop runs more than ${MAX_LOOP_ITERATIONS} iterations`);
    const g = iteration(t, state);
    const next: Node = { name: `${node.name}/iter${t}/next`, op: LOOP_NEXT, domain: CONTROL_DOMAIN, inputs: [g.outputs[0]!], outputs: [], attrs: {} };
    continuations.set(next.name, (c) => (c
      ? step(t + 1, g.outputs.slice(1, 1 + N), c.data[0] !== 0, parts.map((p, k) => [...p, g.outputs[1 + N + k]!]))
      : masked(t + 1, g.outputs.slice(1, 1 + N), g.outputs[0]!, `computed in iteration ${t}`)));
    return [...g.nodes, next];
  };

  /**
   * A condition computed from the input (a data-dependent exit): with a constant trip count and
   * no scan outputs (whose length would depend on the input), iterations t … M − 1 run masked: the
   * body on the carried values, each kept only while the running flag (the conditions so far,
   * And-ed) holds (IfSelect: a Where once fold has checked the shapes agree).
   */
  const masked = (t: number, state: string[], running: string, where: string): Node[] => {
    const reason = `the condition ${where} depends on the model's input`;
    if (M === Infinity) fail(`${reason} and the loop has no trip count: zkonnx unrolls a loop with a data-dependent exit only up to a constant trip count`);
    const scans = node.outputs.slice(N).find((o) => o);
    if (scans) fail(`${reason}: scan output '${scans}' would have a length that depends on the input`);
    if (M - t > MAX_LOOP_ITERATIONS) fail(`the loop runs more than ${MAX_LOOP_ITERATIONS} iterations`);
    const out: Node[] = [];
    for (; t < M; t++) {
      const prefix = `${node.name}/iter${t}/`;
      const g = iteration(t, state);
      out.push(...g.nodes);
      state = state.map((old, i) => {
        const kept = `${prefix}kept${i}`;
        out.push({ name: kept, op: IF_SELECT, domain: CONTROL_DOMAIN, inputs: [running, g.outputs[1 + i]!, old], outputs: [kept], attrs: {} });
        return kept;
      });
      out.push(node0(`${prefix}running`, 'And', [running, g.outputs[0]!], `${prefix}running`));
      running = `${prefix}running`;
    }
    return [...out, ...finals(state)];
  };

  const cond = condName ? constants.get(condName) : undefined;
  if (condName && !cond) return masked(0, init, condName, `'${condName}'`);
  if (cond && cond.data.length !== 1) fail(`the condition must hold one value, it holds ${cond.data.length}`);
  return step(0, init, cond ? cond.data[0] !== 0 : true, Array.from({ length: K }, () => []));
}
