// A circuit of a chosen size for prover benchmarks and tests: a chain of multiplications with a
// public input, whose domain is exactly 2^k (the prover test and bench:prove share it).

/** 2^k − 16 multiplications c[i] = c[i−1]·x + i; public: out, x. Domain 2^k. */
export function chainSource(power: number): string {
  return `pragma circom 2.1.6;
template Chain(n) {
  signal input x; signal input y; signal output out;
  signal c[n];
  c[0] <== x * y;
  for (var i = 1; i < n; i++) c[i] <== c[i - 1] * x + i;
  out <== c[n - 1];
}
component main {public [x]} = Chain(${2 ** power - 16});
`;
}
