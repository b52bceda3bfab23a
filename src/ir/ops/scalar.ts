// Float semantics of the univariate ONNX activations, as onnxruntime computes them. Used to fold
// constants, to calibrate, and as the function the circuit's piecewise polynomials approximate.

/** Abramowitz–Stegun 7.1.26 is too coarse for a reference; this is W. J. Cody's rational erf. */
export function erf(x: number): number {
  // erf via the complementary error function with a continued-fraction-free Chebyshev fit
  // (Numerical Recipes erfc, fractional error < 1.2e-7).
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

const softplus = (x: number) => (x > 30 ? x : Math.log1p(Math.exp(x)));
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** name → (x, params) → f(x). params hold the op's float attributes in a fixed order. */
export const SCALAR_FNS: Record<string, (x: number, p: readonly number[]) => number> = {
  sigmoid: (x) => sigmoid(x),
  tanh: (x) => Math.tanh(x),
  erf: (x) => erf(x),
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  softplus: (x) => softplus(x),
  softsign: (x) => x / (1 + Math.abs(x)),
  /** params [alpha] */
  elu: (x, p) => (x >= 0 ? x : p[0]! * (Math.exp(x) - 1)),
  /** params [alpha] */
  celu: (x, p) => Math.max(0, x) + Math.min(0, p[0]! * (Math.exp(x / p[0]!) - 1)),
  /** params [alpha, gamma] */
  selu: (x, p) => p[1]! * (x > 0 ? x : p[0]! * (Math.exp(x) - 1)),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  /** GELU's distance from ReLU: gelu(x) = relu(x) − h(|x|), h(u) = u·Φ(−u) → 0 on both sides; a kink at 0 */
  gelu_h: (x) => { const u = Math.abs(x); return 0.5 * u * (1 - erf(u / Math.SQRT2)); },
  gelu_tanh_h: (x) => { const u = Math.abs(x); return 0.5 * u * (1 - Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3))); },
  mish: (x) => x * Math.tanh(softplus(x)),
  /** params [alpha, beta] */
  hardsigmoid: (x, p) => Math.max(0, Math.min(1, p[0]! * x + p[1]!)),
  hardswish: (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)),
  /** params [exponent] */
  pow: (x, p) => x ** p[0]!,
  sin: (x) => Math.sin(x),
  cos: (x) => Math.cos(x),
  atan: (x) => Math.atan(x),
  sinh: (x) => Math.sinh(x),
  cosh: (x) => Math.cosh(x),
  asinh: (x) => Math.asinh(x),
};

/**
 * Where a function is constant (to within 2^−32, far below any output scale's half step) or
 * exactly constant: below `lo` and above `hi`, in real units. The circuit clamps the input there
 * (one comparison each) instead of fitting a polynomial over the whole input range, whose
 * coefficients would outgrow the field (exp of x − max over a wide logit range, a GAN's sigmoid).
 */
export const SATURATION: Record<string, (p: readonly number[]) => { lo?: number; hi?: number }> = {
  exp: () => ({ lo: -23 }), // e^−23 ≈ 1.0e−10
  sigmoid: () => ({ lo: -23, hi: 23 }),
  tanh: () => ({ lo: -12, hi: 12 }), // 1 − tanh(12) ≈ 7.6e−11
  erf: () => ({ lo: -5, hi: 5 }), // 1 − erf(5) ≈ 1.5e−12
  softplus: () => ({ lo: -23 }),
  elu: () => ({ lo: -23 }),
  selu: () => ({ lo: -23 }),
  celu: (p) => ({ lo: -23 * Math.abs(p[0]!) }),
  gelu: () => ({ lo: -8 }), // |x·Φ(x)| < 1e−14 below −8
  gelu_tanh: () => ({ lo: -8 }),
  gelu_h: () => ({ lo: -8, hi: 8 }), // 8·Φ(−8) ≈ 5e−15
  gelu_tanh_h: () => ({ lo: -6, hi: 6 }), // 6·(1 − gate(6)) ≈ 1e−11
  mish: () => ({ lo: -30 }), // |x·tanh(softplus(x))| ≈ |x|·e^x < 3e−12 below −30
  hardswish: () => ({ lo: -3 }),
  hardsigmoid: (p) => (p[0]! > 0 ? { lo: -p[1]! / p[0]!, hi: (1 - p[1]!) / p[0]! } : p[0]! < 0 ? { lo: (1 - p[1]!) / p[0]!, hi: -p[1]! / p[0]! } : {}),
};

/** The ONNX unary ops that lower to one `fn`, with how their attributes become params. */
export const UNARY_FNS: Record<string, { fn: string; params?: (attr: (k: string, d: number) => number) => number[] }> = {
  Sigmoid: { fn: 'sigmoid' },
  Tanh: { fn: 'tanh' },
  Erf: { fn: 'erf' },
  Exp: { fn: 'exp' },
  Log: { fn: 'log' },
  Softplus: { fn: 'softplus' },
  Softsign: { fn: 'softsign' },
  Elu: { fn: 'elu', params: (a) => [a('alpha', 1)] },
  Celu: { fn: 'celu', params: (a) => [a('alpha', 1)] },
  Selu: { fn: 'selu', params: (a) => [a('alpha', 1.67326319217681884765625), a('gamma', 1.05070102214813232421875)] },
  Mish: { fn: 'mish' },
  HardSigmoid: { fn: 'hardsigmoid', params: (a) => [a('alpha', 0.2), a('beta', 0.5)] },
  HardSwish: { fn: 'hardswish' },
  Sin: { fn: 'sin' },
  Cos: { fn: 'cos' },
  // smooth everywhere, fitted over the calibrated range like Sin and Cos (Tan, Asin, Acos, Acosh
  // and Atanh, with poles or edges of their domains, are not)
  Atan: { fn: 'atan' },
  Sinh: { fn: 'sinh' },
  Cosh: { fn: 'cosh' },
  Asinh: { fn: 'asinh' },
};
