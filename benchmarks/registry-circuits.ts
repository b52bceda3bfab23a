// Tiny circuits that stand for an inference and a training proof in the registry's test and gas
// benchmark: SignedCommit weights commitments (circuits/commit.circom) and the public-signal
// layouts the registry relies on.

import { headerIv, weightsHeader } from '../src/commit/headers.js';

/** The stand-ins' weights header: one tensor of n integers at scale 0 (what their commitments mean). */
export const standInIv = (n: number, bits: number): bigint => headerIv(weightsHeader([{ shape: [n], scale: 0 }], bits));

/** Private weights w[n], input x[n] (public or private): outputs [commitment, y = Σ w·x] (then x). */
export const inferenceSource = (n: number, xPublic: boolean, bits: number) => `pragma circom 2.1.6;
include "commit.circom";
template Inference(n, bits) {
  signal input w[n];
  signal input x[n];
  signal output commitment;
  signal output y;
  component c = SignedCommit(n, bits, ${standInIv(n, bits)});
  for (var i = 0; i < n; i++) c.in[i] <== w[i];
  commitment <== c.out;
  signal p[n];
  var acc = 0;
  for (var i = 0; i < n; i++) {
    p[i] <== w[i] * x[i];
    acc += p[i];
  }
  y <== acc;
}
component main ${xPublic ? '{public [x]} ' : ''}= Inference(${n}, ${bits});
`;

/** Stand-in for the training circuit: public [root, h0, h1, start], h0/h1 = SignedCommit of private weights w0[3], w1[3]. */
export const trainingStandInSource = (bits: number) => `pragma circom 2.1.6;
include "commit.circom";
template TrainingStandIn(n, bits) {
  signal input root;
  signal input h0;
  signal input h1;
  signal input start;
  signal input w0[n];
  signal input w1[n];
  component c0 = SignedCommit(n, bits, ${standInIv(3, bits)});
  component c1 = SignedCommit(n, bits, ${standInIv(3, bits)});
  for (var i = 0; i < n; i++) {
    c0.in[i] <== w0[i];
    c1.in[i] <== w1[i];
  }
  c0.out === h0;
  c1.out === h1;
  signal bind;
  bind <== root * start;
}
component main {public [root, h0, h1, start]} = TrainingStandIn(3, ${bits});
`;
