/**
 * The reference trainer of the proof of training: k steps of mini-batch gradient descent in
 * fixed point, in exact BigInt arithmetic, computing the very integers circuits/train.circom
 * computes (it is the circuit's witness hint and its specification), and a float trainer that
 * runs the same schedule in float64 for comparison.
 *
 * Arithmetic (every rescale is circuits/zkonnx.circom's Rescale: floor((v + 2^(k−1)) / 2^k)):
 *   weights   w[0..F−1], bias b = w[F]: integers at scale s_w, in [−2^(wbits−1), 2^(wbits−1))
 *   sample    x[F] at scale s_x, y at scale s_y (the committed dataset's integers)
 *   z         = Σ_j w_j·x_j + b·2^s_x                                   scale s_w + s_x (exact)
 *   linear    e = z − y·2^(s_w + s_x − s_y)                             scale s_e = s_w + s_x (exact)
 *   logistic  zr = Rescale(z, s_w + s_x − s_z); zc = clamp(zr, −2^(D−1), 2^(D−1) − 1)
 *             σ̂ = Rescale(Σ_k C[seg][k]·t^k, shift)  (PiecewisePoly, src/quantize/poly.ts)
 *             e = σ̂ − y·2^(s_p − s_y)                                   scale s_e = s_p
 *   softmax   one z_c per class c < C (weights W[F][C], bias b[C]);
 *             zr_c = Rescale(z_c, s_w + s_x − 8); m = max_c zr_c; t_c = max(zr_c − m, −(2^D − 1))
 *             u_c = exp(t_c) at scale s_p (PiecewisePoly); p_c = round(u_c·2^s_p / Σ_c u_c)
 *             e_c = p_c − [y = c]·2^s_p                                  scale s_e = s_p
 *   gradient  g_j = Σ_i e_i·x_ij,  g_F = Σ_i e_i·2^s_x                   scale s_e + s_x
 *   update    Δ_j = Rescale(g_j·2^up, k)  with k − up = s_e + s_x + lrShift + log2(B) − s_w
 *             w'_j = w_j − Δ_j
 * That is w' = w − 2^−lrShift · (1/B)·Σ_i ∇loss_i in real terms: the squared loss ½(z − y)² for
 * linear regression, the cross-entropy gradient (σ(z) − y)·x for logistic regression and
 * (softmax(z) − onehot(y))·xᵀ for softmax regression (multinomial logistic regression).
 * Weights are listed as the trained ONNX's tensors hold them: W[F][C] row by row, then b[C]
 * (C = 1 for linear and logistic: w_0 … w_{F−1}, b). The
 * learning rate is a power of two, 2^−lrShift, and B must be a power of two (the batch mean is
 * a shift). Step t (0-based) uses the samples at positions start + t·B + i, i < B.
 */
import { ZkonnxError } from '../errors.js';
import { sizeOf, type QPoly } from '../ir/graph.js';
import { bitlen, divRound, rescale } from '../quantize/int.js';
import { evalPoly, fitPiecewise } from '../quantize/poly.js';
import { rng } from '../random.js';

export type TrainModel = 'linear' | 'logistic' | 'softmax' | 'mlp';

export interface TrainParams {
  model: TrainModel;
  /** F: features per sample. */
  features: number;
  /** B: samples per step (a power of two). */
  batch: number;
  /** k: SGD steps in one proof. */
  steps: number;
  /** Merkle tree depth of the committed dataset. */
  depth: number;
  /** Every x and y is a signed integer in [−2^(dataBits−1), 2^(dataBits−1)) (the manifest's bits). */
  dataBits: number;
  /** s_x, s_y: the dataset's scales (real ≈ q / 2^s). */
  featureScale: number;
  labelScale: number;
  /** The dataset's label kind (its manifest's `labels`): with F, dataBits and the scales, the
   * sample header whose IV every leaf is committed under (dataset-format.ts leafHeader). */
  labels: 'class' | 'value';
  /** C: classes of a softmax or mlp model (labels 0 … C − 1); 1 (or absent) for linear and logistic. */
  classes?: number;
  /** H: hidden units of an mlp (one ReLU layer before the softmax). */
  hidden?: number;
  /** s_w: the weights' scale. */
  weightScale: number;
  /** Weights are signed integers of wbits bits (default 16). */
  wbits: number;
  /** Learning rate 2^−lrShift. */
  lrShift: number;
}

/** The sigmoid approximation: input scale s_z, domain |z| < 2^(D−1−s_z), output scale s_p. */
export const SIGMOID = { inScale: 8, domainBits: 13, outScale: 12, tolerance: 2 ** -11 } as const;

/** A residual's function (the sigmoid, or the softmax's exp) as the circuit evaluates it. */
export interface FnPlan {
  /** z at its scale is rescaled by kz to scale inScale; |zr| < 2^bz. */
  kz: number;
  bz: number;
  /** Width of the clamp comparisons (Max2). */
  dc: number;
  inScale: number;
  /** The polynomial's domain: 2^domainBits inputs (the sigmoid's centred on 0, exp's ending at 0). */
  domainBits: number;
  outScale: number;
  poly: QPoly;
  /** PiecewisePoly's final rescale and its quotient bits: outputs in [−2^bo, 2^bo). */
  shift: number;
  bo: number;
  /** Largest |f̂(z) − f(z)| over the domain (exhaustive), in real units. */
  maxError: number;
}

export interface SigmoidPlan extends FnPlan {
  /** Largest |σ(z) − σ(clamp(z))| for z outside the domain: σ(−2^(D−1−s_z)). */
  clampError: number;
}

/**
 * The softmax: logits rescaled to scale inScale (|zr| < 2^bz), shifted by their maximum (whose
 * comparisons take bz + 1 bits), clamped at lo = −(2^D − 1) (exp(lo / 2^inScale) ≈ 1.1e-7), exp
 * as a piecewise polynomial over [lo, 0] at scale outScale (exactly [outLo, outHi]), and
 * p_c = round(u_c·2^outScale / Σu) (DivRound: Σu ∈ [1, 2^bb], p ∈ [−2^bq, 2^bq)).
 */
export interface SoftmaxPlan extends FnPlan {
  outLo: bigint;
  outHi: bigint;
  bq: number;
  bb: number;
}

/**
 * An mlp's hidden layer and backward pass (scales and widths):
 *   a_k  = ReLU(Rescale(h_k, k1)), h_k = Σ_j W1[j][k]·x_j + B1[k]·2^s_x   a at scale actScale, in [0, 2^ba)
 *   d_k  = Rescale(Σ_c W2[k][c]·e_c, kd)·[a_k > 0]                       scale s_e, in [−2^bd, 2^bd)
 *   W2, B2 updates: Δ = Rescale(g·2^up2, k2), g = Σ_i e_{i,c}·a_{i,k} (or e_{i,c}·2^actScale)
 * (W1, B1's update is the plan's k and up.)
 */
export interface MlpPlan {
  hidden: number;
  actScale: number;
  k1: number;
  ba: number;
  kd: number;
  bd: number;
  k2: number;
  up2: number;
}

export interface TrainPlan {
  params: TrainParams;
  /** s_e, the residual's scale. */
  residualScale: number;
  /** e = (z or σ̂) − y·2^ty. */
  ty: number;
  /** Update rescale: Δ = Rescale(g·2^up, k). */
  k: number;
  up: number;
  sigmoid?: SigmoidPlan;
  softmax?: SoftmaxPlan;
  mlp?: MlpPlan;
  /** The bound analysis (absolute values), for circuit.json and the comments. */
  bounds: { x: string; w: string; z: string; e: string; g: string; rescaleIn: string };
}

/** Every |integer| an equation of the circuit handles stays below 2^250 < p/2 (p ≈ 2^253.6). */
const SAFE_BITS = 250;

const bad = (msg: string, hint?: string) => new ZkonnxError('BAD_ARGUMENT', msg, hint ? { hint } : {});
const pow2 = (n: number) => 1n << BigInt(n);

let sigmoidCache: { key: string; fit: ReturnType<typeof fitPiecewise> } | undefined;

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** The circuit's sigmoid polynomial: fitted once (deterministically) per process. */
export function sigmoidFit(): ReturnType<typeof fitPiecewise> {
  const key = JSON.stringify(SIGMOID);
  if (!sigmoidCache || sigmoidCache.key !== key) {
    const D = SIGMOID.domainBits;
    const fit = fitPiecewise({ f: sigmoid, lo: -pow2(D - 1), domainBits: D, inScale: SIGMOID.inScale, outScale: SIGMOID.outScale, tolerance: SIGMOID.tolerance });
    if (!fit.exhaustive) throw new Error('sigmoid fit: the domain must be small enough to be evaluated exhaustively');
    sigmoidCache = { key, fit };
  }
  return sigmoidCache.fit;
}

/** The softmax's exp: t at scale 2^8 in [−(2^12 − 1), 0] (down to −16), exp(t) at scale 2^12. */
export const SOFTMAX_EXP = { inScale: 8, domainBits: 12, outScale: 12, tolerance: 2 ** -11 } as const;

let expCache: { key: string; fit: ReturnType<typeof fitPiecewise> } | undefined;

/** The circuit's exp polynomial: fitted once (deterministically) per process. */
export function softmaxExpFit(): ReturnType<typeof fitPiecewise> {
  const key = JSON.stringify(SOFTMAX_EXP);
  if (!expCache || expCache.key !== key) {
    const D = SOFTMAX_EXP.domainBits;
    const fit = fitPiecewise({ f: Math.exp, lo: -(pow2(D) - 1n), domainBits: D, inScale: SOFTMAX_EXP.inScale, outScale: SOFTMAX_EXP.outScale, tolerance: SOFTMAX_EXP.tolerance });
    if (!fit.exhaustive) throw new Error('exp fit: the domain must be small enough to be evaluated exhaustively');
    expCache = { key, fit };
  }
  return expCache.fit;
}

/** C: the classes of a plan's model (1 for linear and logistic: one output). */
export const classesOf = (p: Pick<TrainParams, 'model' | 'classes'>): number => (p.model === 'softmax' || p.model === 'mlp' ? p.classes ?? 0 : 1);

/** An mlp's activations' scale: a = ReLU(h) at 2^8. */
export const MLP_ACT_SCALE = 8;

/** Where weight (j, c) of a dense layer sits in its part of the list: W[j][c] for j < F, b[c] for j = F. */
export const weightIndex = (F: number, C: number, j: number, c: number): number => (j < F ? j * C + c : F * C + c);

/**
 * The weights list in the trained ONNX's tensors' order: W[F][C], C[C] (one layer), or an mlp's
 * W1[F][H], B1[H], W2[H][C], B2[C]; each tensor row by row.
 */
export function weightTensors(p: WeightsLayout): Array<{ name: string; shape: number[] }> {
  const F = p.features;
  const C = classesOf(p);
  if (p.model !== 'mlp') return [{ name: 'W', shape: [F, C] }, { name: 'C', shape: [C] }];
  const H = p.hidden ?? 0;
  return [{ name: 'W1', shape: [F, H] }, { name: 'B1', shape: [H] }, { name: 'W2', shape: [H, C] }, { name: 'B2', shape: [C] }];
}

/** How many weights a model has: the sum of its tensors' sizes. */
export const weightCount = (p: WeightsLayout): number => weightTensors(p).reduce((n, t) => n + sizeOf(t.shape), 0);

/** The dense layers of the weights list (each a W[nIn][nOut] then its nOut biases), from weightTensors. */
function denseLayers(p: WeightsLayout): Dense[] {
  const ts = weightTensors(p);
  const layers: Dense[] = [];
  for (let i = 0, offset = 0; i < ts.length; i += 2) {
    const [nIn, nOut] = ts[i]!.shape as [number, number];
    layers.push({ offset, nIn, nOut });
    offset += (nIn + 1) * nOut;
  }
  return layers;
}

/** Bits b with v ∈ [−2^b, 2^b) for every |v| ≤ m: b = bitlen(m). */
const signedWidth = (m: bigint) => Math.max(1, bitlen(m));

/** The softmax's widths for logits |z| ≤ logits at scale 2^logitScale over C classes. */
function softmaxPlan(logits: bigint, logitScale: number, C: bigint, what: string): SoftmaxPlan {
  const fit = softmaxExpFit();
  const inScale = SOFTMAX_EXP.inScale;
  if (logitScale < inScale) throw bad(`${what} needs weight scale + input scale ≥ ${inScale}, got ${logitScale}`, 'raise --weight-scale');
  const kz = logitScale - inScale;
  const bz = signedWidth((logits >> BigInt(kz)) + 1n);
  const D = SOFTMAX_EXP.domainBits;
  const dc = Math.max(bz + 1, D) + 1;
  const shift = fit.poly.polyScale - SOFTMAX_EXP.outScale;
  const bo = Math.max(1, bitlen(fit.outLo < 0n ? -fit.outLo - 1n : 0n), bitlen(fit.outHi));
  // Σu ≥ u(0) + (C − 1)·min(0, outLo) ≥ 1: the maximum's own t is 0
  const atZero = rescale(evalPoly(fit.poly, 0n), shift);
  const sumLo = atZero + (C - 1n) * (fit.outLo < 0n ? fit.outLo : 0n);
  if (sumLo < 1n) throw new Error(`exp fit: Σu can reach ${sumLo} with ${C} classes`);
  const uAbs = fit.outHi > -fit.outLo ? fit.outHi : -fit.outLo;
  const bb = bitlen(C * fit.outHi);
  const bq = signedWidth((uAbs << BigInt(SOFTMAX_EXP.outScale)) / sumLo + 1n);
  if (bz + kz + 1 > SAFE_BITS || bitlen(logits) + 1 > SAFE_BITS || dc + 2 > SAFE_BITS) throw bad(`${what}: the logits need ${bitlen(logits)} bits, too many for the field`);
  return { kz, bz, dc, inScale, domainBits: D, outScale: SOFTMAX_EXP.outScale, poly: fit.poly, shift, bo, outLo: fit.outLo, outHi: fit.outHi, bq, bb, maxError: fit.poly.maxError };
}

/**
 * Checks the parameters and derives every width from the bound analysis:
 *   |x|, |y| ≤ X = 2^(dataBits−1)            (range-checked by the leaf's SignedCommit)
 *   |w_j|    ≤ W = 2^(wbits−1)               (SignedCommit for h0, RangeCheck after each step)
 *   |z|      ≤ Z = F·W·X + W·2^s_x
 *   linear:   |e| ≤ E = Z + X·2^ty
 *   logistic: |zr| ≤ Z/2^kz + 1 < 2^bz; σ̂ ∈ [outLo, outHi] ⊂ [−2^bo, 2^bo); |e| ≤ E = 2^bo + X·2^ty
 *   |g_j|    ≤ G = B·E·max(X, 2^s_x);  the update rescale's input |g·2^up| ≤ G·2^up
 *   Rescale(k, b) is sound when |in| + 2^(b+k+1) < p/2: we require both below 2^250.
 */
export function planTraining(p: TrainParams): TrainPlan {
  const ints: (keyof TrainParams)[] = ['features', 'batch', 'steps', 'depth', 'dataBits', 'featureScale', 'labelScale', 'weightScale', 'wbits', 'lrShift'];
  for (const k of ints) {
    const v = p[k] as number;
    if (!Number.isInteger(v) || v < 0) throw bad(`training parameter ${k} must be a non-negative integer, got ${v}`);
  }
  if (!['linear', 'logistic', 'softmax', 'mlp'].includes(p.model)) throw bad(`model must be linear, logistic, softmax or mlp, got ${JSON.stringify(p.model)}`);
  const multi = p.model === 'softmax' || p.model === 'mlp';
  if (multi ? !Number.isInteger(p.classes) || p.classes! < 2 || p.classes! > 256 : p.classes !== undefined && p.classes !== 1) {
    throw bad(multi ? `${p.model === 'mlp' ? 'the mlp' : 'softmax regression'} needs 2 … 256 classes, got ${p.classes}` : `${p.model} regression has one output; classes ${p.classes} is for --model softmax or mlp`, multi ? 'commit the dataset with --labels class (its manifest counts the classes)' : undefined);
  }
  if (p.model === 'mlp' ? !Number.isInteger(p.hidden) || p.hidden! < 1 || p.hidden! > 1024 : p.hidden !== undefined) {
    throw bad(p.model === 'mlp' ? `the mlp needs 1 … 1024 hidden units, got ${p.hidden}` : `hidden units are for --model mlp, not ${p.model}`);
  }
  if (p.labels !== 'class' && p.labels !== 'value') throw bad(`labels must be class or value (the dataset's label kind), got ${JSON.stringify(p.labels)}`);
  if (p.features < 1) throw bad('a model needs at least one feature');
  if (p.steps < 1) throw bad(`steps must be ≥ 1, got ${p.steps}`);
  if (p.batch < 1 || (p.batch & (p.batch - 1)) !== 0) throw bad(`batch must be a power of two (the batch mean is a shift), got ${p.batch}`, 'use 1, 2, 4, 8, 16, …');
  if (p.depth < 1 || p.depth > 32) throw bad(`tree depth must be 1…32, got ${p.depth}`);
  if (p.steps * p.batch > 2 ** p.depth) throw bad(`${p.steps} steps of ${p.batch} samples need ${p.steps * p.batch} positions; the tree has ${2 ** p.depth}`);
  if (p.dataBits < 2 || p.dataBits > 64) throw bad(`dataBits must be 2…64, got ${p.dataBits}`);
  if (p.wbits < 2 || p.wbits > 64) throw bad(`wbits must be 2…64, got ${p.wbits}`);
  const F = BigInt(p.features);
  const B = BigInt(p.batch);
  const X = pow2(p.dataBits - 1);
  const W = pow2(p.wbits - 1);
  const Z = F * W * X + W * pow2(p.featureScale);
  const logB = Math.log2(p.batch);
  let residualScale: number;
  let ty: number;
  let E: bigint;
  let sig: SigmoidPlan | undefined;
  let sm: SoftmaxPlan | undefined;
  let mlp: MlpPlan | undefined;
  if (p.model === 'linear') {
    residualScale = p.weightScale + p.featureScale;
    ty = residualScale - p.labelScale;
    if (ty < 0) throw bad(`linear regression: the label scale ${p.labelScale} exceeds weight scale + feature scale (${residualScale})`, 'raise --weight-scale');
    E = Z + X * pow2(ty);
  } else if (p.model === 'softmax' || p.model === 'mlp') {
    const what = p.model === 'mlp' ? 'the mlp' : 'softmax regression';
    if (p.labelScale !== 0) throw bad(`${what}: labels are classes 0 … C − 1 (label scale 0), got label scale ${p.labelScale}`, 'commit the dataset with --labels class');
    const C = BigInt(p.classes!);
    let logits = Z;
    let logitScale = p.weightScale + p.featureScale;
    let hiddenBits = 0;
    if (p.model === 'mlp') {
      // a = ReLU(Rescale(h, k1)) at scale 2^8: |h| ≤ Z (a linear layer's bound), a ∈ [0, 2^ba)
      const H = BigInt(p.hidden!);
      const k1 = p.weightScale + p.featureScale - MLP_ACT_SCALE;
      if (k1 < 0) throw bad(`the mlp needs weight scale + feature scale ≥ ${MLP_ACT_SCALE}, got ${p.weightScale + p.featureScale}`, 'raise --weight-scale');
      hiddenBits = signedWidth((Z >> BigInt(k1)) + 1n);
      if (hiddenBits + k1 + 1 > SAFE_BITS) throw bad(`the mlp: the hidden layer needs ${bitlen(Z)} bits, too many for the field`);
      logits = H * W * pow2(hiddenBits) + W * pow2(MLP_ACT_SCALE);
      logitScale = p.weightScale + MLP_ACT_SCALE;
      mlp = { hidden: p.hidden!, actScale: MLP_ACT_SCALE, k1, ba: hiddenBits, kd: 0, bd: 0, k2: 0, up2: 0 };
    }
    sm = softmaxPlan(logits, logitScale, C, what);
    residualScale = SOFTMAX_EXP.outScale;
    ty = residualScale;
    E = pow2(sm.bq) + pow2(ty);
    if (mlp) {
      // backward: d = Σ_c W2[k][c]·e_c at scale s_w + s_e, |d| ≤ C·W·E, rescaled by s_w to s_e
      mlp.kd = p.weightScale;
      mlp.bd = signedWidth(((C * W * E) >> BigInt(mlp.kd)) + 1n);
      if (mlp.bd + mlp.kd + 1 > SAFE_BITS || bitlen(C * W * E) + 1 > SAFE_BITS) throw bad('the mlp: the backward pass needs too many bits for the field');
      // W2, B2: g = Σ_i e·a (or e·2^s_a), scale s_e + s_a
      const G2 = B * E * (hiddenBits > MLP_ACT_SCALE ? pow2(hiddenBits) : pow2(MLP_ACT_SCALE));
      const shift2 = residualScale + MLP_ACT_SCALE + p.lrShift + logB - p.weightScale;
      mlp.k2 = Math.max(0, shift2);
      mlp.up2 = Math.max(0, -shift2);
      if (bitlen(G2 << BigInt(mlp.up2)) + 1 > SAFE_BITS || p.wbits + mlp.k2 + 1 > SAFE_BITS) throw bad('the mlp: the output layer\'s gradient needs too many bits for the field', 'lower dataBits, wbits or the scales');
      // W1, B1 are updated from d (scale s_e) as a one-layer model is from e: the plan's k, up below
      E = pow2(mlp.bd);
    }
  } else {
    const fit = sigmoidFit();
    const inScale = Math.min(SIGMOID.inScale, p.weightScale + p.featureScale);
    if (inScale !== SIGMOID.inScale) throw bad(`logistic regression needs weight scale + feature scale ≥ ${SIGMOID.inScale}, got ${p.weightScale + p.featureScale}`, 'raise --weight-scale');
    const kz = p.weightScale + p.featureScale - inScale;
    const bz = signedWidth((Z >> BigInt(kz)) + 1n);
    const D = SIGMOID.domainBits;
    const dc = Math.max(bz, D) + 1;
    const shift = fit.poly.polyScale - SIGMOID.outScale;
    const bo = Math.max(1, bitlen(fit.outLo < 0n ? -fit.outLo - 1n : 0n), bitlen(fit.outHi));
    if (bz + kz + 1 > SAFE_BITS || bitlen(Z) + 1 > SAFE_BITS || dc + 2 > SAFE_BITS) throw bad(`logistic regression: the prediction needs ${bitlen(Z)} bits, too many for the field`);
    if (bitlen(fit.accBound) + 2 > SAFE_BITS || bo + shift + 2 > SAFE_BITS) throw new Error('sigmoid polynomial too wide');
    const clampZ = 2 ** (D - 1 - inScale);
    sig = {
      kz, bz, dc, inScale, domainBits: D, outScale: SIGMOID.outScale, poly: fit.poly, shift, bo,
      maxError: fit.poly.maxError, clampError: sigmoid(-clampZ),
    };
    residualScale = SIGMOID.outScale;
    if (p.labelScale !== 0) throw bad(`logistic regression: labels are classes 0 or 1 (label scale 0), got label scale ${p.labelScale}`, 'commit the dataset with --labels class');
    ty = residualScale - p.labelScale;
    E = pow2(bo) + X * pow2(ty);
  }
  const G = B * E * (X > pow2(p.featureScale) ? X : pow2(p.featureScale));
  const shiftTotal = residualScale + p.featureScale + p.lrShift + logB - p.weightScale;
  const k = Math.max(0, shiftTotal);
  const up = Math.max(0, -shiftTotal);
  const rin = G << BigInt(up);
  if (bitlen(rin) + 1 > SAFE_BITS || p.wbits + k + 1 > SAFE_BITS) {
    throw bad(`the gradient needs ${bitlen(rin)} bits and its rescale ${p.wbits + k + 1}: above the ${SAFE_BITS} a field element holds safely`, 'lower dataBits, wbits or the scales');
  }
  return {
    params: { ...p }, residualScale, ty, k, up, sigmoid: sig, ...(sm ? { softmax: sm } : {}), ...(mlp ? { mlp } : {}),
    bounds: { x: X.toString(), w: W.toString(), z: Z.toString(), e: E.toString(), g: G.toString(), rescaleIn: rin.toString() },
  };
}

/** σ̂ at scale s_p of z at scale s_w + s_x, and the integers on the way (the circuit's). */
export function sigmoidQ(s: SigmoidPlan, z: bigint): { zr: bigint; zc: bigint; sigma: bigint } {
  const zr = rescale(z, s.kz);
  const lo = -pow2(s.domainBits - 1);
  const hi = pow2(s.domainBits - 1) - 1n;
  const zc = zr < lo ? lo : zr > hi ? hi : zr;
  return { zr, zc, sigma: rescale(evalPoly(s.poly, zc), s.shift) };
}

/** The softmax residual's integers for one sample's logits z (scale s_w + s_x) and label y. */
export function softmaxQ(s: SoftmaxPlan, z: readonly bigint[], y: bigint): { zr: bigint[]; tc: bigint[]; u: bigint[]; p: bigint[]; e: bigint[] } {
  const zr = z.map((v) => rescale(v, s.kz));
  const m = zr.reduce((a, b) => (b > a ? b : a));
  const lo = -(pow2(s.domainBits) - 1n);
  const tc = zr.map((v) => (v - m < lo ? lo : v - m));
  const u = tc.map((t) => rescale(evalPoly(s.poly, t), s.shift));
  const sum = u.reduce((a, b) => a + b, 0n);
  const p = u.map((v) => divRound(v << BigInt(s.outScale), sum));
  return { zr, tc, u, p, e: p.map((v, c) => v - (BigInt(c) === y ? pow2(s.outScale) : 0n)) };
}

export interface StepTrace {
  /** Sample positions used by this step. */
  positions: number[];
  /** Weights before the step (W[F][C] row by row, then b[C]). */
  weights: bigint[];
  /** Per sample i and class c, at i·C + c (C = 1: per sample). */
  z: bigint[];
  /** Logistic only. */
  zr?: bigint[];
  zc?: bigint[];
  sigma?: bigint[];
  /** Softmax and mlp (i·C + c): the probabilities at scale s_p. */
  p?: bigint[];
  /** Mlp only (i·H + k): the hidden activations and the backward pass's d. */
  a?: bigint[];
  d?: bigint[];
  /** Per sample and class (i·C + c). */
  e: bigint[];
  /** Per weight, in the weights' order. */
  g: bigint[];
  delta: bigint[];
}

export interface TrainResult {
  weights: bigint[];
  trace: StepTrace[];
}

/** The name of weight k of the list: w[j] and bias (one output), else its tensor's element (W[j][c], C[c], W1[j][k], …). */
export function weightName(p: WeightsLayout, k: number): string {
  if (classesOf(p) === 1) return k === p.features ? 'bias' : `w[${k}]`;
  let at = k;
  for (const t of weightTensors(p)) {
    const n = sizeOf(t.shape);
    if (at < n) return t.shape.length === 2 ? `${t.name}[${Math.floor(at / t.shape[1]!)}][${at % t.shape[1]!}]` : `${t.name}[${at}]`;
    at -= n;
  }
  return `weight ${k}`;
}

/** The weights a model takes, for messages. */
export function weightsWanted(p: WeightsLayout): string {
  if (classesOf(p) === 1) return `${p.features} weights and a bias (${p.features + 1} values)`;
  return `${weightTensors(p).map((t) => `${t.name}[${t.shape.join('][')}]`).join(', ')} (${weightCount(p)} values)`;
}

/** What fixes a model's weights list: its kind, F, C and H. */
export type WeightsLayout = Pick<TrainParams, 'model' | 'features' | 'classes' | 'hidden'>;

/** Checks that weights are weightCount(p) integers in the wbits range. */
export function checkWeights(plan: TrainPlan, w: readonly bigint[], what = 'weights'): void {
  const p = plan.params;
  if (w.length !== weightCount(p)) throw new ZkonnxError('INPUT_INVALID', `${what}: expected ${weightsWanted(p)}, got ${w.length}`);
  const half = pow2(p.wbits - 1);
  w.forEach((v, k) => {
    if (v < -half || v >= half) throw new ZkonnxError('INPUT_OUT_OF_RANGE', `${what}: ${weightName(p, k)} = ${v} is outside the ${p.wbits}-bit range [−2^${p.wbits - 1}, 2^${p.wbits - 1})`);
  });
}

/** One dense layer of the weights list: nIn inputs to nOut outputs, from `offset`. */
interface Dense { offset: number; nIn: number; nOut: number }
/** A dense layer whose inputs are at scale 2^inScale. */
interface Layer extends Dense { inScale: number }

/** out_c = Σ_j W[j][c]·in_j + b[c]·2^inScale: the layer's exact integers. */
function dense(w: readonly bigint[], l: Layer, input: readonly bigint[]): bigint[] {
  return Array.from({ length: l.nOut }, (_, c) => {
    let v = w[l.offset + weightIndex(l.nIn, l.nOut, l.nIn, c)]! << BigInt(l.inScale);
    for (let j = 0; j < l.nIn; j++) v += w[l.offset + weightIndex(l.nIn, l.nOut, j, c)]! * input[j]!;
    return v;
  });
}

/** The layers of a plan's model, in the weights list's order (an mlp: hidden, then output), with their inputs' scales. */
function layersOf(plan: TrainPlan): Layer[] {
  return denseLayers(plan.params).map((l, i) => ({ ...l, inScale: i === 0 ? plan.params.featureScale : plan.mlp!.actScale }));
}

/**
 * k SGD steps from `weights` on the samples at positions start + t·B + i: the integers the
 * circuit computes. Throws (naming the step and the weight) when an update leaves the wbits range.
 */
export function trainSteps(plan: TrainPlan, weights: readonly bigint[], x: readonly (readonly bigint[])[], y: readonly bigint[], start: number): TrainResult {
  const p = plan.params;
  const F = p.features;
  checkWeights(plan, weights, 'initial weights');
  if (!Number.isInteger(start) || start < 0) throw bad(`start must be a non-negative integer, got ${start}`);
  const end = start + p.steps * p.batch;
  if (end > x.length) {
    throw new ZkonnxError('INPUT_OUT_OF_RANGE', `${p.steps} steps of ${p.batch} samples from position ${start} need samples up to ${end - 1}; the dataset has ${x.length}`, { hint: 'lower --steps or --start' });
  }
  const X = pow2(p.dataBits - 1);
  const half = pow2(p.wbits - 1);
  const full = pow2(p.wbits);
  const C = classesOf(p);
  const layers = layersOf(plan);
  const last = layers[layers.length - 1]!;
  let w = [...weights];
  const trace: StepTrace[] = [];
  for (let t = 0; t < p.steps; t++) {
    const positions = Array.from({ length: p.batch }, (_, i) => start + t * p.batch + i);
    const st: StepTrace = { positions, weights: [...w], z: [], e: [], g: [], delta: [] };
    if (plan.sigmoid) { st.zr = []; st.zc = []; st.sigma = []; }
    if (plan.softmax) { st.zr = []; st.zc = []; st.p = []; }
    if (plan.mlp) { st.a = []; st.d = []; }
    // each layer's inputs and residuals per sample, for its update
    const ins: bigint[][][] = layers.map(() => []);
    const res: bigint[][][] = layers.map(() => []);
    for (const pos of positions) {
      const xi = x[pos]!;
      const yi = y[pos]!;
      if (xi.length !== F) throw new ZkonnxError('INPUT_INVALID', `sample ${pos} has ${xi.length} features, expected ${F}`);
      for (const v of [...xi, yi]) if (v < -X || v >= X) throw new ZkonnxError('INPUT_OUT_OF_RANGE', `sample ${pos}: value ${v} is outside ${p.dataBits} signed bits`);
      if (plan.sigmoid && yi !== 0n && yi !== 1n) throw new ZkonnxError('INPUT_INVALID', `sample ${pos}: label ${yi} is not a class of logistic regression (0 or 1)`);
      if (plan.softmax && (yi < 0n || yi >= BigInt(C))) throw new ZkonnxError('INPUT_INVALID', `sample ${pos}: label ${yi} is not a class of this ${p.model === 'mlp' ? 'mlp' : 'softmax regression'} (0 … ${C - 1})`, { hint: `the dataset's classes must be 0 … C − 1 with C = ${C}` });
      ins[0]!.push([...xi]);
      // an mlp's hidden layer: a = ReLU(Rescale(h, k1))
      const a = plan.mlp ? dense(w, layers[0]!, xi).map((h) => { const q = rescale(h, plan.mlp!.k1); return q > 0n ? q : 0n; }) : undefined;
      if (a) { st.a!.push(...a); ins[1]!.push(a); }
      const z = dense(w, last, a ?? xi);
      st.z.push(...z);
      let e: bigint[];
      if (plan.softmax) {
        const s = softmaxQ(plan.softmax, z, yi);
        st.zr!.push(...s.zr); st.zc!.push(...s.tc); st.p!.push(...s.p);
        e = s.e;
      } else if (plan.sigmoid) {
        const s = sigmoidQ(plan.sigmoid, z[0]!);
        st.zr!.push(s.zr); st.zc!.push(s.zc); st.sigma!.push(s.sigma);
        e = [s.sigma - (yi << BigInt(plan.ty))];
      } else {
        e = [z[0]! - (yi << BigInt(plan.ty))];
      }
      st.e.push(...e);
      res[layers.length - 1]!.push(e);
      if (plan.mlp && a) {
        // backward: d_k = Rescale(Σ_c W2[k][c]·e_c, kd), where a_k > 0 (ReLU's derivative), else 0
        const d = a.map((ak, k) => {
          let v = 0n;
          for (let c = 0; c < C; c++) v += w[last.offset + weightIndex(last.nIn, C, k, c)]! * e[c]!;
          return ak > 0n ? rescale(v, plan.mlp!.kd) : 0n;
        });
        st.d!.push(...d);
        res[0]!.push(d);
      }
    }
    const next = new Array<bigint>(w.length);
    layers.forEach((l, li) => {
      const [shift, up] = plan.mlp && li === 1 ? [plan.mlp.k2, plan.mlp.up2] : [plan.k, plan.up];
      for (let k = l.offset; k < l.offset + (l.nIn + 1) * l.nOut; k++) {
        // weight k is W[j][c] (or b[c]): its gradient sums r_{i,c}·in_{i,j} (or r_{i,c}·2^inScale)
        const r = k - l.offset;
        const [j, c] = r < l.nIn * l.nOut ? [Math.floor(r / l.nOut), r % l.nOut] : [l.nIn, r - l.nIn * l.nOut];
        let g = 0n;
        res[li]!.forEach((ri, i) => { g += j < l.nIn ? ri[c]! * ins[li]![i]![j]! : ri[c]! << BigInt(l.inScale); });
        st.g.push(g);
        const d = rescale(g << BigInt(up), shift);
        if (d < -full || d >= full) throw new ZkonnxError('INPUT_OUT_OF_RANGE', `step ${t}: the update of ${weightName(p, k)} is ${d}, beyond ${p.wbits} bits`, { hint: 'raise --lr-shift (a smaller learning rate)' });
        st.delta.push(d);
        const nw = w[k]! - d;
        if (nw < -half || nw >= half) {
          throw new ZkonnxError('INPUT_OUT_OF_RANGE', `step ${t}: ${weightName(p, k)} would become ${nw}, outside the ${p.wbits}-bit range [−2^${p.wbits - 1}, 2^${p.wbits - 1})`, { hint: 'raise --lr-shift (a smaller learning rate) or lower --weight-scale' });
        }
        next[k] = nw;
      }
    });
    trace.push(st);
    w = next;
  }
  return { weights: w, trace };
}

/**
 * The same schedule and update in float64 with the exact sigmoid or softmax (an mlp: ReLU, its
 * derivative [h > 0]): what fixed point approximates.
 */
export function trainFloat(params: TrainParams, weights: readonly number[], x: readonly (readonly number[])[], y: readonly number[], start: number): number[] {
  const C = classesOf(params);
  const mlp = params.model === 'mlp';
  const layers = denseLayers(params);
  const last = layers[layers.length - 1]!;
  const at = (l: Dense, j: number, c: number) => l.offset + weightIndex(l.nIn, l.nOut, j, c);
  const denseF = (w: readonly number[], l: Dense, input: readonly number[]) => Array.from({ length: l.nOut }, (_, c) => {
    let v = w[at(l, l.nIn, c)]!;
    for (let j = 0; j < l.nIn; j++) v += w[at(l, j, c)]! * input[j]!;
    return v;
  });
  const lr = 2 ** -params.lrShift;
  let w = [...weights];
  for (let t = 0; t < params.steps; t++) {
    const g = new Array<number>(w.length).fill(0);
    // gradient of one layer: r_c·in_j into W[j][c], r_c into b[c]
    const acc = (l: Dense, r: readonly number[], input: readonly number[]) => {
      for (let c = 0; c < l.nOut; c++) {
        for (let j = 0; j < l.nIn; j++) g[at(l, j, c)]! += r[c]! * input[j]!;
        g[at(l, l.nIn, c)]! += r[c]!;
      }
    };
    for (let i = 0; i < params.batch; i++) {
      const pos = start + t * params.batch + i;
      const xi = x[pos]!;
      const h = mlp ? denseF(w, layers[0]!, xi) : undefined;
      const a = h?.map((v) => Math.max(0, v));
      const z = denseF(w, last, a ?? xi);
      let e: number[];
      if (params.model === 'softmax' || mlp) {
        const m = Math.max(...z);
        const u = z.map((v) => Math.exp(v - m));
        const sum = u.reduce((s, v) => s + v, 0);
        e = u.map((v, c) => v / sum - (c === y[pos] ? 1 : 0));
      } else {
        e = [(params.model === 'logistic' ? sigmoid(z[0]!) : z[0]!) - y[pos]!];
      }
      acc(last, e, a ?? xi);
      if (mlp) {
        const d = h!.map((hk, k) => (hk > 0 ? e.reduce((s, ec, c) => s + w[at(last, k, c)]! * ec, 0) : 0));
        acc(layers[0]!, d, xi);
      }
    }
    w = w.map((v, k) => v - (lr * g[k]!) / params.batch);
  }
  return w;
}

/**
 * Seeded initial weights for an mlp (zeros would never move its hidden layer: every unit the
 * same, ReLU's derivative 0): W1 and W2 uniform in ±√(6 / fan-in) (He-uniform), biases 0,
 * quantized to the weight scale. The same seed gives the same weights, so anyone can recompute h0.
 */
export function seededWeights(p: TrainParams, seed: number): bigint[] {
  const r = rng(seed);
  const half = Number(pow2(p.wbits - 1)) - 1;
  return weightTensors(p).flatMap((t) => {
    const n = sizeOf(t.shape);
    if (t.shape.length === 1) return new Array<bigint>(n).fill(0n);
    const limit = Math.sqrt(6 / t.shape[0]!);
    return Array.from({ length: n }, () => BigInt(Math.max(-half, Math.min(half, Math.round((r() * 2 - 1) * limit * 2 ** p.weightScale)))));
  });
}

export const dequantize = (q: bigint, scale: number) => Number(q) / 2 ** scale;
