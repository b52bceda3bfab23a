// A small circom circuit for the setup tests (fast-zkey, verify-zkey), with coefficients of every
// kind: 1, −1, small positive and negative, 64-bit, 2^200, and a public signal in A, B and C; the
// constant ONE appears in many terms.
export const MIXED_CIRCUIT = `pragma circom 2.1.0;
template T(n) {
  signal input a[n];
  signal input b[n];
  signal output c;
  signal output d;
  signal acc[n + 1];
  acc[0] <== 0;
  for (var i = 0; i < n; i++) acc[i + 1] <== acc[i] + (3 * a[i] - 7 * b[i] + 12345678901234567890) * (a[i] - 1);
  c <== acc[n];
  d <== (a[0] * 5 - b[1]) * (b[0] + 2 ** 200);
}
component main { public [a] } = T(8);
`;

