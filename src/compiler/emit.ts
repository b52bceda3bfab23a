// QuantGraph → circom source. Affine maps become linear combinations inside the constraint of the
// next rescale (zero constraints of their own); constants live in var arrays returned by functions
// and are read in loops, because circom overflows its stack on long single expressions.
import { inputHeader, modelIvs, outputHeader, plainIv, weightsHeader } from '../commit/headers.js';
import type { QAct, QAffine, QuantGraph, Visibility, WeightVisibility } from '../ir/graph.js';
import { bitlen, ROUND_MODES } from '../quantize/int.js';
import { freivaldsPlan, uaInB, type FreivaldsPlan } from './freivalds.js';
import { maxOf } from '../arrays.js';

export interface CircuitVisibility {
  input: Visibility;
  output: Visibility;
  /** 'hashed' when the graph's weights were lifted into inputs (role 'weight'). */
  weights?: WeightVisibility;
  /**
   * compile --salt: each hashed input and output commitment, and a split chunk's link commitments,
   * is Poseidon(commitment, salt), the salts private inputs.
   */
  salt?: boolean;
}

/**
 * The private salt signals of a salted build, in declaration order: hashed inputs, hashed outputs,
 * then a split chunk's received and handed-on links (the two chunks of a link share its salt).
 */
export function saltSignals(qg: QuantGraph, vis: CircuitVisibility, links: ChunkLinks = {}): string[] {
  if (!vis.salt) return [];
  return [
    ...(vis.input === 'hashed' ? qg.inputs.flatMap((inp, i) => (inp.role ? [] : [`${inputSignal(i)}_salt`])) : []),
    ...(vis.output === 'hashed' ? qg.outputs.map((_, j) => `${outputSignal(j)}_salt`) : []),
    ...(links.in ? ['link_in_salt'] : []),
    ...(links.out ? ['link_out_salt'] : []),
  ];
}

/** One run of public signals, in snarkjs's order (main's outputs as declared, then public inputs). */
export interface PublicRun {
  /** The circuit signal: out0, out0_commit, in0_commit, weights_commit, link_in_commit, link_out_commit, in0. */
  signal: string;
  kind: 'output' | 'output-commit' | 'input-commit' | 'weights-commit' | 'link-in-commit' | 'link-out-commit' | 'input';
  /** Index of the model output or input it stands for (-1 for weights). */
  index: number;
  start: number;
  count: number;
}

/**
 * Hashed parts are PackedCommit(n, bits) of values shifted into [0, 2^bits) (circuits/commit.circom):
 * inputs in − lo (their RangeCheck), weights w + 2^(wb−1) (the same, so it equals SignedCommit),
 * outputs out + bound (the bound analysis proves |out| ≤ bound for every admissible witness).
 */
export const outputCommitBits = (bound: bigint) => Math.max(1, bitlen(2n * bound));

/**
 * The links of one chunk of a split model (src/split.ts): the values it receives from the chunk
 * before it and those it hands on, each with the interval [lo, lo + 2^bits) the sender's
 * constraints guarantee. Both sides commit with PackedCommit(n, commitBits) to value − lo.
 */
export interface ChunkLinks {
  /** Received: private inputs `link_in`, range-checked, copied to v[offset …]; `link_in_commit` public. */
  in?: { offset: number; lo: bigint[]; bits: number[]; commitBits: number };
  /** Handed on: `link_out_commit` (public) over v[idx[i]] − lo[i]. */
  out?: { idx: number[]; lo: bigint[]; commitBits: number };
}

export function publicLayout(qg: QuantGraph, vis: CircuitVisibility, links: ChunkLinks = {}): PublicRun[] {
  const runs: PublicRun[] = [];
  let start = 0;
  const push = (signal: string, kind: PublicRun['kind'], index: number, count: number) => { runs.push({ signal, kind, index, start, count }); start += count; };
  qg.outputs.forEach((o, j) => {
    if (vis.output === 'public') push(outputSignal(j), 'output', j, o.affine.bias.length);
    if (vis.output === 'hashed') push(`${outputSignal(j)}_commit`, 'output-commit', j, 1);
  });
  if (vis.input === 'hashed') qg.inputs.forEach((inp, i) => { if (!inp.role) push(`${inputSignal(i)}_commit`, 'input-commit', i, 1); });
  if (qg.inputs.some((i) => i.role === 'weight')) push('weights_commit', 'weights-commit', -1, 1);
  if (links.in) push('link_in_commit', 'link-in-commit', -1, 1);
  if (links.out) push('link_out_commit', 'link-out-commit', -1, 1);
  if (vis.input === 'public') qg.inputs.forEach((inp, i) => { if (!inp.role) push(inputSignal(i), 'input', i, inp.size); });
  return runs;
}

/** Circuit signal names of the model's inputs and outputs, in order. */
export const inputSignal = (i: number) => `in${i}`;
export const outputSignal = (i: number) => `out${i}`;

function varArray(fn: string, values: readonly (bigint | number)[]): string {
  const n = Math.max(1, values.length); // circom has no empty arrays
  const lines: string[] = [`function ${fn}() {`, `    var a[${n}];`];
  if (values.length === 0) lines.push('    a[0] = 0;');
  for (let i = 0; i < values.length; i += 8) {
    const chunk = values.slice(i, i + 8).map((v, j) => `a[${i + j}] = ${v};`);
    lines.push(`    ${chunk.join(' ')}`);
  }
  lines.push('    return a;', '}');
  return lines.join('\n');
}

function affineFunctions(prefix: string, a: QAffine): string[] {
  return [
    varArray(`${prefix}_row`, a.rowStart),
    varArray(`${prefix}_idx`, a.index),
    varArray(`${prefix}_coef`, a.coef),
    varArray(`${prefix}_bias`, a.bias),
  ];
}

function affineVars(prefix: string, a: QAffine, indent: string): string[] {
  const len = (x: readonly unknown[]) => Math.max(1, x.length);
  return [
    `${indent}var ${prefix}_row[${len(a.rowStart)}] = ${prefix.toUpperCase()}_row();`,
    `${indent}var ${prefix}_idx[${len(a.index)}] = ${prefix.toUpperCase()}_idx();`,
    `${indent}var ${prefix}_coef[${len(a.coef)}] = ${prefix.toUpperCase()}_coef();`,
    `${indent}var ${prefix}_bias[${len(a.bias)}] = ${prefix.toUpperCase()}_bias();`,
  ];
}

const accLoop = (p: string, indent: string) => [
  `${indent}var acc = ${p}_bias[i];`,
  `${indent}for (var t = ${p}_row[i]; t < ${p}_row[i + 1]; t++) acc += ${p}_coef[t] * v[${p}_idx[t]];`,
];

/**
 * The circuit of a whole model, or of one chunk of a split model when `links` are given (the
 * whole model is the chunk without links: the same templates, the same code).
 */
export function emitCircuit(qg: QuantGraph, vis: CircuitVisibility, includeName = 'zkonnx.circom', links: ChunkLinks = {}): string {
  return emitCircuitLines(qg, vis, includeName, links).join('\n');
}

/**
 * emitCircuit as its lines, each at most one act's array: a large model's source (ResNet-20's
 * 41M coefficients: about 1.5 GB) is past the longest string V8 makes, so it is written a line at a time.
 */
export function emitCircuitLines(qg: QuantGraph, vis: CircuitVisibility, includeName = 'zkonnx.circom', links: ChunkLinks = {}): string[] {
  const fns: string[] = [];
  const body: string[] = [];
  const I = '    ';
  const layout = publicLayout(qg, vis, links);
  const weights = qg.inputs.flatMap((inp, i) => (inp.role === 'weight' ? [{ inp, i }] : []));
  const plan = freivaldsPlan(qg);
  const checked = new Set(plan?.acts.map((c) => c.j));
  for (const [i, inp] of qg.inputs.entries()) body.push(`${I}signal input ${inputSignal(i)}[${inp.size}];`);
  for (const [i, out] of qg.outputs.entries()) {
    body.push(`${I}signal ${vis.output === 'public' ? 'output ' : ''}${outputSignal(i)}[${out.affine.bias.length}];`);
  }
  // commitments are main's outputs, declared in the order publicLayout gives them
  for (const r of layout) if (r.kind.endsWith('-commit')) body.push(`${I}signal output ${r.signal};`);
  if (links.in) body.push(`${I}signal input link_in[${links.in.lo.length}];`);
  for (const s of saltSignals(qg, vis, links)) body.push(`${I}signal input ${s};`);
  body.push(`${I}signal v[${qg.totalValues}];`, '');
  // a salted commitment: one more Poseidon(commitment, salt), the salt a private input
  const commitOut = (c: string, sig: string): string[] => (vis.salt
    ? [`${I}component ${c}_s = PoseidonHash(2);`, `${I}${c}_s.inputs[0] <== ${c}.out;`, `${I}${c}_s.inputs[1] <== ${sig}_salt;`, `${I}${sig}_commit <== ${c}_s.out;`, '']
    : [`${I}${sig}_commit <== ${c}.out;`, '']);
  if (links.in) {
    const n = links.in.lo.length;
    fns.push(varArray('LINK_IN_lo', links.in.lo), varArray('LINK_IN_bits', links.in.bits));
    body.push(
      `${I}// the values received from the previous chunk: each range-checked to the interval [lo, lo + 2^bits) its sender's`,
      `${I}// constraints guarantee (the premise of this chunk's bound analysis, and what makes the packing injective)`,
      `${I}var li_lo[${n}] = LINK_IN_lo();`,
      `${I}var li_bits[${n}] = LINK_IN_bits();`,
      `${I}component lrc[${n}];`,
      `${I}component link_in_c = PackedCommit(${n}, ${links.in.commitBits}, ${plainIv(n, links.in.commitBits)});`,
      `${I}for (var i = 0; i < ${n}; i++) {`,
      `${I}${I}lrc[i] = RangeCheck(li_bits[i], li_lo[i]);`,
      `${I}${I}lrc[i].in <== link_in[i];`,
      `${I}${I}link_in_c.in[i] <== link_in[i] - li_lo[i];`,
      `${I}${I}v[${links.in.offset} + i] <== link_in[i];`,
      `${I}}`,
      ...commitOut('link_in_c', 'link_in'),
    );
  }

  for (const [i, inp] of qg.inputs.entries()) {
    body.push(
      `${I}// input '${inp.name}' [${inp.shape}], scale 2^${inp.scale}: range-checked to [${inp.lo}, ${inp.lo} + 2^${inp.bits})`,
      `${I}component rc${i}[${inp.size}];`,
      `${I}for (var i = 0; i < ${inp.size}; i++) {`,
      `${I}${I}rc${i}[i] = RangeCheck(${inp.bits}, ${inp.lo});`,
      `${I}${I}rc${i}[i].in <== ${inputSignal(i)}[i];`,
      `${I}${I}v[${inp.offset} + i] <== ${inputSignal(i)}[i];`,
      `${I}}`, '',
    );
    if (vis.input === 'hashed' && !inp.role) {
      body.push(
        `${I}// the commitment to input '${inp.name}': PackedCommit of in − lo ∈ [0, 2^${inp.bits}) (range-checked above),`,
        `${I}// from the IV of its header ${JSON.stringify(inputHeader(inp, inp.bits)).replace(/"/g, '')}`,
        `${I}component ${inputSignal(i)}_c = PackedCommit(${inp.size}, ${inp.bits}, ${modelIvs.input(inp)});`,
        `${I}for (var i = 0; i < ${inp.size}; i++) ${inputSignal(i)}_c.in[i] <== ${inputSignal(i)}[i] - (${inp.lo});`,
        ...commitOut(`${inputSignal(i)}_c`, inputSignal(i)),
      );
    }
  }
  if (weights.length) {
    const wb = weights[0]!.inp.bits;
    if (weights.some((w) => w.inp.bits !== wb || w.inp.lo !== -(1n << BigInt(wb - 1)))) throw new Error('committed weights must share one signed width');
    const total = weights.reduce((n, w) => n + w.inp.size, 0);
    body.push(
      `${I}// the weights commitment: SignedCommit(${total}, ${wb}) of ${weights.map((w) => `'${w.inp.name}'`).join(', ')} (= PackedCommit of w + 2^${wb - 1}, range-checked above)`,
      `${I}// from the IV of its header ${JSON.stringify(weightsHeader(weights.map((w) => w.inp), wb)).replace(/"/g, '')}`,
      `${I}component weights_c = PackedCommit(${total}, ${wb}, ${modelIvs.weights(weights.map((w) => w.inp))});`,
    );
    let off = 0;
    for (const { inp, i } of weights) {
      body.push(`${I}for (var i = 0; i < ${inp.size}; i++) weights_c.in[${off} + i] <== ${inputSignal(i)}[i] + ${1n << BigInt(wb - 1)};`);
      off += inp.size;
    }
    body.push(`${I}weights_commit <== weights_c.out;`, '');
  }
  for (const [j, a] of qg.acts.entries()) {
    const p = `a${j}`;
    const P = p.toUpperCase();
    fns.push(...affineFunctions(P, a.args), varArray(`${P}_start`, a.argStart), varArray(`${P}_bits`, a.bits), varArray(`${P}_aux`, a.aux));
    if (a.poly) fns.push(varArray(`${P}_poly`, a.poly.coef));
    if (a.clamp) fns.push(varArray(`${P}_cb`, a.clamp.bits));
    const nargs = Math.max(1, maxOf(a.argStart.slice(1).map((s, i) => s - a.argStart[i]!)));
    const { head, comps, inner, decl } = actBody(a, p, nargs, checked.has(j));
    body.push(
      `${I}// '${a.name}' ← ${a.nodes.join(', ')}: ${head}, scale 2^${a.scale}`,
      ...affineVars(p, a.args, I),
      `${I}var ${p}_start[${a.argStart.length}] = ${P}_start();`,
      `${I}var ${p}_bits[${Math.max(1, a.bits.length)}] = ${P}_bits();`,
      `${I}var ${p}_aux[${Math.max(1, a.aux.length)}] = ${P}_aux();`,
      ...(a.poly ? [`${I}var ${p}_poly[${a.poly.coef.length}] = ${P}_poly();`] : []),
      ...(a.clamp ? [`${I}var ${p}_cb[${a.clamp.bits.length}] = ${P}_cb();`] : []),
      ...(decl ?? []).map((d) => `${I}${d}`),
      `${I}component ${p}[${comps}];`,
      `${I}var ${p}_n = 0;`,
      `${I}for (var i = 0; i < ${a.size}; i++) {`,
      `${I}${I}var x[${nargs}];`,
      `${I}${I}for (var r = ${p}_start[i]; r < ${p}_start[i + 1]; r++) {`,
      `${I}${I}${I}var acc = ${p}_bias[r];`,
      `${I}${I}${I}for (var t = ${p}_row[r]; t < ${p}_row[r + 1]; t++) acc += ${p}_coef[t] * v[${p}_idx[t]];`,
      `${I}${I}${I}x[r - ${p}_start[i]] = acc;`,
      `${I}${I}}`,
      ...inner.map((l) => `${I}${I}${l}`),
      `${I}}`, '',
    );
  }
  if (plan) {
    const commits = [...(weights.length ? ['weights_c.out'] : []), ...(links.in ? ['link_in_c.out'] : [])];
    freivaldsLines(qg, plan, commits, fns, body);
  }
  for (const [j, o] of qg.outputs.entries()) {
    const p = `o${j}`;
    fns.push(...affineFunctions(p.toUpperCase(), o.affine));
    body.push(
      `${I}// output '${o.name}' [${o.shape}], scale 2^${o.scale}`,
      ...affineVars(p, o.affine, I),
      `${I}for (var i = 0; i < ${o.affine.bias.length}; i++) {`,
      ...accLoop(p, I + I),
      `${I}${I}${outputSignal(j)}[i] <== acc;`,
      `${I}}`, '',
    );
    if (vis.output === 'hashed') {
      const n = o.affine.bias.length;
      body.push(
        `${I}// the commitment to output '${o.name}': PackedCommit of out + ${o.bound} ∈ [0, 2^${outputCommitBits(o.bound)}) (|out| ≤ ${o.bound} for every admissible witness)`,
        `${I}// from the IV of its header ${JSON.stringify(outputHeader(o, outputCommitBits(o.bound))).replace(/"/g, '')}`,
        `${I}component ${p}_c = PackedCommit(${n}, ${outputCommitBits(o.bound)}, ${modelIvs.output(o, outputCommitBits(o.bound))});`,
        `${I}for (var i = 0; i < ${n}; i++) ${p}_c.in[i] <== ${outputSignal(j)}[i] + ${o.bound};`,
        ...commitOut(`${p}_c`, outputSignal(j)),
      );
    }
  }
  if (links.out) {
    const n = links.out.idx.length;
    fns.push(varArray('LINK_OUT_idx', links.out.idx), varArray('LINK_OUT_lo', links.out.lo));
    body.push(
      `${I}// the values handed to the next chunk: PackedCommit of v − lo ∈ [0, 2^${links.out.commitBits}) (the bound analysis)`,
      `${I}var lo_idx[${n}] = LINK_OUT_idx();`,
      `${I}var lo_lo[${n}] = LINK_OUT_lo();`,
      `${I}component link_out_c = PackedCommit(${n}, ${links.out.commitBits}, ${plainIv(n, links.out.commitBits)});`,
      `${I}for (var i = 0; i < ${n}; i++) link_out_c.in[i] <== v[lo_idx[i]] - lo_lo[i];`,
      ...commitOut('link_out_c', 'link_out'),
    );
  }
  const pubIn = layout.filter((r) => r.kind === 'input').map((r) => r.signal);
  const pub = pubIn.length ? ` {public [${pubIn.join(', ')}]}` : '';
  const hashed = layout.some((r) => r.kind.endsWith('-commit'));
  return [
    '// Generated by zkonnx from the quantized graph; do not edit.',
    `// model: ${qg.name}`,
    'pragma circom 2.1.6;',
    '',
    `include "${includeName}";`,
    ...(hashed ? ['include "commit.circom"; // Poseidon commitments (needs circomlib on the include path)'] : []),
    '',
    ...fns,
    '',
    'template Model() {',
    ...body,
    '}',
    '',
    `component main${pub} = Model();`,
    '',
  ];
}

/** The per-element circom of one non-linear value: a comment head, component count, loop body. */
function actBody(a: QAct, p: string, nargs: number, checked: boolean): { head: string; comps: number; inner: string[]; decl?: string[] } {
  const out = `v[${a.offset} + i]`;
  const one = (tmpl: string, wire: string[], res = 'out') => ({
    comps: a.size,
    inner: [`${p}[i] = ${tmpl};`, ...wire, `${out} <== ${p}[i].${res};`],
  });
  switch (a.op.kind) {
    case 'rescale':
      return { head: `${a.op.relu ? 'relu(' : ''}rescale by 2^${a.shift}${a.op.relu ? ')' : ''}`, ...one(`Rescale(${a.shift}, ${p}_bits[i], ${a.op.relu ? 1 : 0})`, [`${p}[i].in <== x[0];`]) };
    case 'mul': {
      // Σ x[2r]·x[2r+1] (+ x[last]·2^argScale): one product signal per pair but the last, whose
      // product goes into the Rescale's own constraint
      const extra = a.argStart.reduce((n, s, i) => (i ? n + Math.floor((s - a.argStart[i - 1]!) / 2) - 1 : 0), 0);
      const relu = a.op.relu ? 1 : 0;
      if (checked) {
        // a matrix product checked at once (freivaldsLines): the accumulator is a hint that the
        // Rescale's digits fix and the block's identity checks
        return {
          head: `${relu ? 'relu(' : ''}dot product rescaled by 2^${a.shift}${relu ? ')' : ''}, its products checked with its matrix block`,
          comps: a.size,
          decl: [`signal ${p}_acc[${a.size}];`],
          inner: [
            `var len = ${p}_start[i + 1] - ${p}_start[i];`,
            `var s = len % 2 == 1 ? x[len - 1] * ${1n << BigInt(a.argScale)} : 0;`,
            'for (var r = 0; r + 1 < len; r += 2) s += x[r] * x[r + 1];',
            `${p}_acc[i] <-- s;`,
            `${p}[i] = Rescale(${a.shift}, ${p}_bits[i], ${relu});`,
            `${p}[i].in <== ${p}_acc[i];`,
            `${out} <== ${p}[i].out;`,
          ],
        };
      }
      if (a.plain) {
        // exact and within the interval its operands imply: the product is the value (QAct.plain)
        const lift = `len % 2 == 1 ? x[len - 1] * ${1n << BigInt(a.argScale)} : 0`;
        return {
          head: 'product (exact, in the interval of its operands)',
          comps: 0,
          ...(extra ? { decl: [`signal ${p}_prod[${extra}];`] } : {}),
          inner: [
            `var len = ${p}_start[i + 1] - ${p}_start[i];`,
            'var np = len \\ 2;',
            `var s = ${lift};`,
            ...(extra ? [
              'for (var r = 0; r + 1 < np; r++) {',
              `    ${p}_prod[${p}_n] <== x[2 * r] * x[2 * r + 1];`,
              `    s += ${p}_prod[${p}_n];`,
              `    ${p}_n++;`,
              '}',
            ] : []),
            `${out} <== s + x[2 * np - 2] * x[2 * np - 1];`,
          ],
        };
      }
      if (extra === 0) {
        const add = nargs === 3 ? ` + x[2] * ${1n << BigInt(a.argScale)}` : '';
        return { head: `${relu ? 'relu(' : ''}product rescaled by 2^${a.shift}${relu ? ')' : ''}`, ...one(`Rescale(${a.shift}, ${p}_bits[i], ${relu})`, [`${p}[i].in <== x[0] * x[1]${add};`]) };
      }
      return {
        head: `${relu ? 'relu(' : ''}dot product rescaled by 2^${a.shift}${relu ? ')' : ''}`,
        comps: a.size,
        decl: [`signal ${p}_prod[${extra}];`],
        inner: [
          `var len = ${p}_start[i + 1] - ${p}_start[i];`,
          'var np = len \\ 2;',
          `var s = len % 2 == 1 ? x[len - 1] * ${1n << BigInt(a.argScale)} : 0;`,
          'for (var r = 0; r + 1 < np; r++) {',
          `    ${p}_prod[${p}_n] <== x[2 * r] * x[2 * r + 1];`,
          `    s += ${p}_prod[${p}_n];`,
          `    ${p}_n++;`,
          '}',
          `${p}[i] = Rescale(${a.shift}, ${p}_bits[i], ${relu});`,
          `${p}[i].in <== s + x[2 * np - 2] * x[2 * np - 1];`,
          `${out} <== ${p}[i].out;`,
        ],
      };
    }
    case 'max': {
      const comps = Math.max(1, a.argStart[a.size]! - a.size);
      return {
        head: 'max of the operands', comps,
        inner: [
          'var m = x[0];',
          `for (var r = 1; r < ${p}_start[i + 1] - ${p}_start[i]; r++) {`,
          `    ${p}[${p}_n] = Max2(${p}_aux[i]);`,
          `    ${p}[${p}_n].a <== m;`,
          `    ${p}[${p}_n].b <== x[r];`,
          `    m = ${p}[${p}_n].out;`,
          `    ${p}_n++;`,
          '}',
          `${out} <== m;`,
        ],
      };
    }
    case 'argmax': {
      if (a.argStart.some((s, i) => i > 0 && s - a.argStart[i - 1]! !== nargs)) throw new Error(`argmax '${a.name}': groups of unequal size`);
      return { head: `argmax of ${nargs}`, ...one(`ArgMax(${nargs}, ${p}_aux[i])`, [`for (var r = 0; r < ${nargs}; r++) { ${p}[i].x[r] <== x[r]; }`], 'idx') };
    }
    case 'less':
      return { head: 'a < b', ...one(`SignBit(${p}_aux[i])`, [`${p}[i].in <== x[1] - x[0] - 1;`]) };
    case 'equal':
      return { head: 'a == b', ...one('IsEqual()', [`${p}[i].a <== x[0];`, `${p}[i].b <== x[1];`]) };
    case 'select':
      return { head: 'c ? a : b', ...one(`Select(${a.argScale})`, [`${p}[i].cs <== x[0];`, `${p}[i].a <== x[1];`, `${p}[i].b <== x[2];`]) };
    case 'div':
      return { head: 'a / b rounded', ...one(`DivRound(${a.scale}, ${p}_bits[i], ${p}_aux[i])`, [`${p}[i].a <== x[0];`, `${p}[i].b <== x[1];`], 'q') };
    case 'round': {
      // the divisor D is the constant operand x[1]: its row's bias, a compile-time constant
      const what = a.op.rem ? `remainder of ${a.op.mode} division` : `${a.op.mode} of the quotient`;
      return { head: `${what} by a constant`, ...one(`DivConst(${p}_bias[${p}_start[i] + 1], ${p}_aux[i], ${p}_bits[i], ${ROUND_MODES.indexOf(a.op.mode)}, ${a.op.rem ? 1 : 0})`, [`${p}[i].in <== x[0];`]) };
    }
    case 'sqrt':
      return { head: 'floor(sqrt)', ...one(`FloorSqrt(${p}_bits[i])`, [`${p}[i].n <== x[0] * ${1n << BigInt(a.shift)};`], 'y') };
    case 'fn': {
      const q = a.poly!;
      const c = a.clamp;
      if (c?.fused) {
        // both ends: one decomposition clamps x to [lo, lo + 2^B − 1] and feeds the polynomial
        const body = one(`ClampedPoly(${p}_cb[i], ${p}_aux[i], ${q.segBits}, ${q.dropBits ?? 0}, ${q.degree}, ${a.shift}, ${p}_bits[i], ${q.lo}, ${p}_poly, ${c.relu === undefined ? 0 : c.relu + 1})`, [`${p}[i].in <== x[0];`]);
        return {
          head: `${c.relu !== undefined ? 'relu minus ' : ''}${a.op.fn} clamped to [${c.lo}, ${c.hi}] as ${2 ** q.segBits} polynomial pieces of degree ${q.degree} (max error ${q.maxError.toExponential(2)})`,
          comps: body.comps, decl: [], inner: body.inner,
        };
      }
      // clamped on one side: where f is constant, x is clamped first: max(x, lo), then min(·, hi) = −max(−·, −hi)
      const clampLines = !c ? [] : [
        'var xc = x[0];',
        ...(c.lo !== undefined ? [`${p}_lo[i] = Max2(${p}_cb[i]);`, `${p}_lo[i].a <== xc;`, `${p}_lo[i].b <== ${c.lo};`, `xc = ${p}_lo[i].out;`] : []),
        ...(c.hi !== undefined ? [`${p}_hi[i] = Max2(${p}_cb[i]);`, `${p}_hi[i].a <== -xc;`, `${p}_hi[i].b <== ${-c.hi};`, `xc = -${p}_hi[i].out;`] : []),
      ];
      const clampDecl = !c ? [] : [
        ...(c.lo !== undefined ? [`component ${p}_lo[${a.size}];`] : []),
        ...(c.hi !== undefined ? [`component ${p}_hi[${a.size}];`] : []),
      ];
      const body = one(`PiecewisePoly(${p}_aux[i], ${q.segBits}, ${q.dropBits ?? 0}, ${q.degree}, ${a.shift}, ${p}_bits[i], ${q.lo}, ${p}_poly)`, [`${p}[i].in <== ${c ? 'xc' : 'x[0]'};`]);
      return {
        head: `${a.op.fn}${c ? ` clamped to [${c.lo ?? '−∞'}, ${c.hi ?? '∞'}]` : ''} as ${2 ** q.segBits} polynomial pieces of degree ${q.degree} (max error ${q.maxError.toExponential(2)})`,
        comps: body.comps, decl: clampDecl, inner: [...clampLines, ...body.inner],
      };
    }
  }
}

/**
 * The challenge and the identity of each checked matrix block (freivalds.ts; its buildFreivalds
 * states the same, statement for statement). `commits`: the commitments made already that the
 * challenge hashes (weights, a chunk's received values).
 */
function freivaldsLines(qg: QuantGraph, plan: FreivaldsPlan, commits: string[], fns: string[], body: string[]): void {
  const I = '    ';
  const parts: string[] = [];
  body.push(
    `${I}// Freivalds' check of the matrix products of ${plan.acts.map((c) => `'${qg.acts[c.j]!.name}'`).join(', ')} (compiler/freivalds.ts): the`,
    `${I}// challenge r hashes the model's inputs, the commitments and every checked accumulator (acc + 2^(b+k) + 2^(k−1) ∈ [0, 2^(b+k+1)) by its Rescale)`,
  );
  for (const [i, inp] of qg.inputs.entries()) {
    if (inp.role === 'weight') continue;
    body.push(
      `${I}component fs_in${i} = PackedCommit(${inp.size}, ${inp.bits}, ${plainIv(inp.size, inp.bits)});`,
      `${I}for (var i = 0; i < ${inp.size}; i++) fs_in${i}.in[i] <== ${inputSignal(i)}[i] - (${inp.lo});`,
    );
    parts.push(`fs_in${i}.out`);
  }
  parts.push(...commits);
  for (const c of plan.acts) {
    const a = qg.acts[c.j]!;
    const half = a.shift > 0 ? 1n << BigInt(a.shift - 1) : 0n;
    body.push(
      `${I}component fs_a${c.j} = PackedCommit(${a.size}, ${c.width}, ${plainIv(a.size, c.width)});`,
      `${I}for (var i = 0; i < ${a.size}; i++) fs_a${c.j}.in[i] <== a${c.j}_acc[i] + 2 ** (a${c.j}_bits[i] + ${a.shift}) + ${half};`,
    );
    parts.push(`fs_a${c.j}.out`);
  }
  body.push(
    `${I}component fs = PackedCommit(${parts.length}, 253, ${plainIv(parts.length, 253)});`,
    ...parts.map((x, t) => `${I}fs.in[${t}] <== ${x};`),
    `${I}signal fs_pow[${plan.nmax}]; // r^1 … r^${plan.nmax}`,
    `${I}fs_pow[0] <== fs.out;`,
    `${I}for (var t = 1; t < ${plan.nmax}; t++) fs_pow[t] <== fs_pow[t - 1] * fs.out;`, '',
  );
  for (const c of plan.acts) {
    const a = qg.acts[c.j]!;
    const p = `a${c.j}`;
    const rowVal = (r: string, x: string) => `var ${x} = ${p}_bias[${r}]; for (var t = ${p}_row[${r}]; t < ${p}_row[${r} + 1]; t++) ${x} += ${p}_coef[t] * v[${p}_idx[t]];`;
    c.blocks.forEach((b, g) => {
      const f = `f${c.j}_${g}`;
      const F = f.toUpperCase();
      const { M, K, N } = b;
      fns.push(varArray(`${F}_a`, Array.from(b.a)), varArray(`${F}_b`, Array.from(b.b)), varArray(`${F}_e`, b.elem), varArray(`${F}_k`, Array.from(b.both)));
      const sig = (name: string, n: number) => (n > 0 ? [`${I}signal ${f}_${name}[${n}];`] : []);
      body.push(
        `${I}// '${a.name}' block ${g}: Z (${M}×${N}) = A (${M}×${K}) · B (${K}×${N}): Σ u_m·v_n·Z[m,n] = Σ_k (Σ_m u_m·A[m,k])·(Σ_n v_n·B[k,n]), v_n = r^n, u_m = r^(${N}·m)`,
        `${I}var ${f}_a[${Math.max(1, M * K)}] = ${F}_a();`,
        `${I}var ${f}_b[${Math.max(1, K * N)}] = ${F}_b();`,
        `${I}var ${f}_e[${Math.max(1, M * N)}] = ${F}_e();`,
        `${I}var ${f}_k[${Math.max(1, K)}] = ${F}_k();`,
        ...sig('u', M - 1), ...sig('pa', b.nA), ...sig('pb', b.nB), ...sig('pz', b.nZ), ...sig('pq', b.nQ), ...sig('pk', b.nK),
        ...(M > 1 ? [`${I}${f}_u[0] <== fs_pow[${N - 1}];`, `${I}for (var m = 2; m < ${M}; m++) ${f}_u[m - 1] <== ${f}_u[m - 2] * fs_pow[${N - 1}];`] : []),
        `${I}var ${f}_ua[${K}];`,
        `${I}var ${f}_bv[${K}];`,
        `${I}for (var k = 0; k < ${K}; k++) { ${f}_ua[k] = 0; ${f}_bv[k] = 0; }`,
        `${I}var ${f}_n = 0;`,
        `${I}for (var m = 0; m < ${M}; m++) {`,
        `${I}${I}for (var k = 0; k < ${K}; k++) {`,
        `${I}${I}${I}var r = ${f}_a[m * ${K} + k];`,
        `${I}${I}${I}if (r >= 0) {`,
        `${I}${I}${I}${I}${rowVal('r', 'x')}`,
        `${I}${I}${I}${I}if (m == 0) { ${f}_ua[k] += x; } else { ${f}_pa[${f}_n] <== x * ${f}_u[m - 1]; ${f}_ua[k] += ${f}_pa[${f}_n]; ${f}_n++; }`,
        `${I}${I}${I}}`,
        `${I}${I}}`,
        `${I}}`,
        `${I}${f}_n = 0;`,
        `${I}for (var k = 0; k < ${K}; k++) {`,
        `${I}${I}for (var n = 0; n < ${N}; n++) {`,
        `${I}${I}${I}var r = ${f}_b[k * ${N} + n];`,
        `${I}${I}${I}if (r >= 0) {`,
        `${I}${I}${I}${I}${rowVal('r', 'x')}`,
        `${I}${I}${I}${I}if (n == 0) { ${f}_bv[k] += x; } else { ${f}_pb[${f}_n] <== x * fs_pow[n - 1]; ${f}_bv[k] += ${f}_pb[${f}_n]; ${f}_n++; }`,
        `${I}${I}${I}}`,
        `${I}${I}}`,
        `${I}}`,
        `${I}// Z[m,n]: the accumulator less its lifted odd operand (a bias)`,
        `${I}var ${f}_rhs = 0;`,
        `${I}${f}_n = 0;`,
        `${I}for (var m = 0; m < ${M}; m++) {`,
        `${I}${I}var zv = 0;`,
        `${I}${I}for (var n = 0; n < ${N}; n++) {`,
        `${I}${I}${I}var e = ${f}_e[m * ${N} + n];`,
        `${I}${I}${I}var z = ${p}_acc[e];`,
        `${I}${I}${I}if ((${p}_start[e + 1] - ${p}_start[e]) % 2 == 1) {`,
        `${I}${I}${I}${I}var r = ${p}_start[e + 1] - 1;`,
        `${I}${I}${I}${I}${rowVal('r', 'x')}`,
        `${I}${I}${I}${I}z -= ${1n << BigInt(a.argScale)} * x;`,
        `${I}${I}${I}}`,
        `${I}${I}${I}if (n == 0) { zv += z; } else { ${f}_pz[${f}_n] <== z * fs_pow[n - 1]; zv += ${f}_pz[${f}_n]; ${f}_n++; }`,
        `${I}${I}}`,
        `${I}${I}if (m == 0) { ${f}_rhs += zv; } else { ${f}_pq[m - 1] <== zv * ${f}_u[m - 1]; ${f}_rhs += ${f}_pq[m - 1]; }`,
        `${I}}`,
        `${I}var ${f}_lhs = 0;`,
        `${I}${f}_n = 0;`,
        `${I}for (var k = 0; k < ${K}; k++) {`,
        `${I}${I}if (${f}_k[k] == 1) { ${f}_pk[${f}_n] <== ${uaInB(b) ? `${f}_bv[k] * ${f}_ua[k]` : `${f}_ua[k] * ${f}_bv[k]`}; ${f}_lhs += ${f}_pk[${f}_n]; ${f}_n++; }`,
        `${I}}`,
        `${I}${f}_lhs === ${f}_rhs;`, '',
      );
    });
  }
}
