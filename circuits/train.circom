pragma circom 2.1.6;

// Proof of training: k steps of mini-batch gradient descent in fixed point, for linear regression
// (squared loss), logistic regression (cross-entropy gradient, sigmoid as a PiecewisePoly) and
// softmax regression over NC classes (cross-entropy gradient, exp as a PiecewisePoly),
// from weights with commitment h0 to weights with commitment h1, on samples that are proven
// leaves of the dataset root at the scheduled positions start + t·B + i.
// The TypeScript twin that computes the same integers is src/commit/train.ts; the generator of
// the main component (and of every width below, from a bound analysis) is
// src/commit/train-circuit.ts. Needs circomlib's circuits/ folder on the include path.
//
// Conventions (shared with the inference side and the registry):
//   weights   W[F][NC] row by row (W[j][c] at j·NC + c), then the biases b[NC] (at F·NC + c),
//             signed integers at scale s_w in wbits bits (NC = 1: w[0..F−1], then the bias w[F]);
//             commitment SignedCommit((F + 1)·NC, wbits, wIv)(w), wIv = headerIv(weightsHeader of
//             the trained ONNX's tensors W[F,NC], C[NC] at scale s_w): a model compiled from that
//             ONNX with --weights hashed has this very commitment
//   sample    x[F] at scale s_x, label y at scale s_y, each in dataBits signed bits;
//             leaf SignedCommit(F + 1, dataBits, leafIv)([x..., y]), leafIv = the dataset's
//             sample header's (src/commit/dataset-format.ts)
//   The IVs bind the integers to their meaning: the same integers at another scale give another
//   root, h0 and h1, so a proof for one scale says nothing about another.
//   public    [root, h0, h1, start], in this order
include "zkonnx.circom";
include "commit.circom";

/// z = Σ_j w[j]·x[j] + w[F]·2^sx: the prediction at scale s_w + s_x. Cost: F (one product each).
template TrainAffine(F, sx) {
    signal input w[F + 1];
    signal input x[F];
    signal output z;
    signal p[F];
    var acc = w[F] * 2 ** sx;
    for (var j = 0; j < F; j++) {
        p[j] <== w[j] * x[j];
        acc += p[j];
    }
    z <== acc;
}

/// The logistic residual e = σ̂(z) − y·2^ty at scale s_p, with
///   zr = Rescale(z, kz, bz)                       z at scale s_z (quotient range-checked)
///   zc = min(max(zr, −2^(D−1)), 2^(D−1) − 1)      clamped into the polynomial's domain (proven)
///   σ̂ = PiecewisePoly(D, …, lo = −2^(D−1), C)(zc) at scale s_p
/// Sound: Rescale and PiecewisePoly are sound by themselves; the two Max2 compare numbers whose
/// difference lies in [−2^dc, 2^dc): |zr| < 2^bz, so dc = max(bz, D) + 1 covers both. Every
/// admissible z therefore lands in the evaluated domain: the clamp is proven, not assumed.
/// The label is a class, 0 or 1 (y·(y − 1) = 0): a committed dataset may hold any integer there.
template SigmoidResidual(kz, bz, dc, D, segBits, deg, pshift, bo, ty, C) {
    signal input z;
    signal input y;
    signal output e;
    signal output sigma;
    y * (y - 1) === 0;
    component r = Rescale(kz, bz, 0);
    r.in <== z;
    component lo = Max2(dc);
    lo.a <== r.out;
    lo.b <== -(2 ** (D - 1));
    // min(v, hi) = −max(−v, −hi)
    component hi = Max2(dc);
    hi.a <== -lo.out;
    hi.b <== -(2 ** (D - 1) - 1);
    component s = PiecewisePoly(D, segBits, 0, deg, pshift, bo, -(2 ** (D - 1)), C);
    s.in <== -hi.out;
    sigma <== s.out;
    e <== s.out - y * 2 ** ty;
}

/// The softmax residual e[c] = p[c] − [y = c]·2^ty over NC ≥ 2 classes, p at scale 2^ty, with
///   zr[c] = Rescale(z[c], kz, bz)                   the logits at scale 2^8 (quotients range-checked)
///   m     = max_c zr[c]                             NC − 1 Max2(bz + 1)
///   tc[c] = max(zr[c] − m, lo), lo = −(2^D − 1)     into exp's domain [lo, 0] (zr[c] − m ≤ 0)
///   u[c]  = PiecewisePoly(D, …, lo, C)(tc[c])       exp at scale 2^ty
///   p[c]  = DivRound(ty, bq, bb)(u[c], Σ_c u[c])    round(u[c]·2^ty / Σu)
/// and h, the label's one-hot: h[c]·(h[c] − 1) = 0, Σ h = 1, Σ c·h[c] = y, so the label is a
/// class 0 … NC − 1 (a committed dataset may hold any integer there) and h[c] = [y = c].
/// Sound: each step is a sound template or a linear equation. |zr| < 2^bz, so any two differ by
/// less than 2^(bz+1) (Max2's width) and zr[c] − m ∈ (−2^(bz+1), 0]; lo − (zr[c] − m) lies in
/// [−2^dc, 2^dc) with dc = max(bz + 1, D) + 1; tc ∈ [lo, 0] is PiecewisePoly's domain. The maximum
/// is exact (not merely an upper bound), so the u are unique; Σu ≥ u(0) + (NC − 1)·min(0, outLo) ≥ 1
/// and Σu ≤ 2^bb, and |p| < 2^bq, from the generator's bound analysis (train.ts planTraining).
template SoftmaxResidual(NC, kz, bz, dc, D, segBits, deg, pshift, bo, ty, bq, bb, C) {
    assert(NC >= 2);
    signal input z[NC];
    signal input y;
    signal output e[NC];
    signal output p[NC];
    signal h[NC];
    var hs = 0;
    var hy = 0;
    for (var c = 0; c < NC; c++) {
        h[c] <-- y == c ? 1 : 0;
        h[c] * (h[c] - 1) === 0;
        hs += h[c];
        hy += c * h[c];
    }
    hs === 1;
    hy === y;

    component r[NC];
    component mx[NC - 1];
    for (var c = 0; c < NC; c++) {
        r[c] = Rescale(kz, bz, 0);
        r[c].in <== z[c];
    }
    mx[0] = Max2(bz + 1);
    mx[0].a <== r[0].out;
    mx[0].b <== r[1].out;
    for (var c = 2; c < NC; c++) {
        mx[c - 1] = Max2(bz + 1);
        mx[c - 1].a <== mx[c - 2].out;
        mx[c - 1].b <== r[c].out;
    }
    var lo = -(2 ** D - 1);
    component cl[NC];
    component u[NC];
    component q[NC];
    var sum = 0;
    for (var c = 0; c < NC; c++) {
        cl[c] = Max2(dc);
        cl[c].a <== r[c].out - mx[NC - 2].out;
        cl[c].b <== lo;
        u[c] = PiecewisePoly(D, segBits, 0, deg, pshift, bo, lo, C);
        u[c].in <== cl[c].out;
        sum += u[c].out;
    }
    for (var c = 0; c < NC; c++) {
        q[c] = DivRound(ty, bq, bb);
        q[c].a <== u[c].out;
        q[c].b <== sum;
        p[c] <== q[c].q;
        e[c] <== q[c].q - h[c] * 2 ** ty;
    }
}

/// The sample (x, y) is the leaf at position `pos` of the tree with root `root`.
/// index[d] are the bits of pos: boolean (constrained in MerkleRoot) and Σ index[d]·2^d = pos.
/// Sound: Σ index[d]·2^d < 2^depth ≤ 2^32 cannot wrap, so pos is that integer and the Merkle
/// path is the one of that position; SignedCommit range-checks x and y to dataBits signed bits.
/// A position of the zero padding cannot be proven (a leaf is a Poseidon hash, never 0 in practice).
/// leafIv: the IV of the dataset's leaves (its sample header's digest).
template ScheduledSample(F, dataBits, depth, leafIv) {
    signal input x[F];
    signal input y;
    signal input siblings[depth];
    signal input pos;
    signal input root;
    component leaf = SignedCommit(F + 1, dataBits, leafIv);
    for (var j = 0; j < F; j++) leaf.in[j] <== x[j];
    leaf.in[F] <== y;
    signal index[depth];
    var lc = 0;
    for (var d = 0; d < depth; d++) {
        index[d] <-- (pos >> d) & 1;
        lc += index[d] * 2 ** d;
    }
    lc === pos;
    component m = MerkleRoot(depth); // constrains index[d]·(index[d] − 1) = 0
    m.leaf <== leaf.out;
    for (var d = 0; d < depth; d++) {
        m.siblings[d] <== siblings[d];
        m.index[d] <== index[d];
    }
    m.root === root;
}

/// One SGD update from the residuals e[i] (scale s_e):
///   g[j] = Σ_i e[i]·x[i][j]      (j < F)    g[F] = Σ_i e[i]·2^sx    (scale s_e + s_x)
///   Δ[j] = Rescale(g[j]·2^up, k, wbits)      wn[j] = w[j] − Δ[j]
/// where k − up = s_e + s_x + lrShift + log2(B) − s_w (one of k, up is 0): the learning rate
/// 2^−lrShift times the batch mean of the gradient of the loss, in weight units, rounded half up.
/// check = 1 range-checks wn to wbits signed bits (the last step leaves that to SignedCommit).
/// Sound: |Δ| < 2^wbits is forced by Rescale; the generator proves |g·2^up| + 2^(wbits+k+1) < 2^250.
template SgdUpdate(F, B, sx, k, up, wbits, check) {
    signal input w[F + 1];
    signal input x[B][F];
    signal input e[B];
    signal output wn[F + 1];
    signal output delta[F + 1];
    signal ex[B][F];
    component d[F + 1];
    component rc[F + 1];
    for (var j = 0; j <= F; j++) {
        var acc = 0;
        for (var i = 0; i < B; i++) {
            if (j < F) {
                ex[i][j] <== e[i] * x[i][j];
                acc += ex[i][j];
            } else {
                acc += e[i] * 2 ** sx;
            }
        }
        d[j] = Rescale(k, wbits, 0);
        d[j].in <== acc * 2 ** up;
        delta[j] <== d[j].out;
        wn[j] <== w[j] - delta[j];
        if (check == 1) {
            rc[j] = RangeCheck(wbits, -(2 ** (wbits - 1)));
            rc[j].in <== wn[j];
        }
    }
}

/// K steps of mini-batch SGD: public [root, h0, h1, start].
///   model 0 (linear):   e = z − y·2^ty                     (ty = s_w + s_x − s_y; e at scale s_w + s_x)
///   model 1 (logistic): e = SigmoidResidual(z, y)          (ty = s_p − s_y; e at scale s_p)
///   model 2 (softmax):  e[c] = SoftmaxResidual(z[·], y)[c] (ty = s_p; e at scale s_p; NC ≥ 2 classes)
/// Models 0 and 1 have NC = 1 output. Each class c has its own weight column W[·][c], b[c], logit
/// and residual, and its own SgdUpdate of that column.
/// Step t uses the samples at positions start + t·B + i (i < B); start + K·B ≤ 2^depth is
/// range-checked, and the first position's bit decomposition forces start ∈ [0, 2^depth).
/// h0 and h1 are SignedCommit((F + 1)·NC, wbits, wIv) of the first and last weights (range checks
/// included); every sample's leaf is SignedCommit(F + 1, dataBits, leafIv).
/// The widths (bz, dc, k, up, bq, bb, the polynomial's) come from the generator's bound analysis.
template TrainSGD(F, B, K, NC, depth, dataBits, wbits, leafIv, wIv, model, sx, ty, kz, bz, dc, D, segBits, deg, pshift, bo, C, k, up, bq, bb) {
    assert(model == 2 ? NC >= 2 : NC == 1);
    var NW = (F + 1) * NC;
    signal input root;
    signal input h0;
    signal input h1;
    signal input start;
    signal input w0[NW];
    signal input x[K][B][F];
    signal input y[K][B];
    signal input siblings[K][B][depth];

    component c0 = SignedCommit(NW, wbits, wIv);
    for (var j = 0; j < NW; j++) c0.in[j] <== w0[j];
    c0.out === h0;

    // the schedule fits the tree: 2^depth − start − K·B ∈ [0, 2^(depth+1)). The last position's
    // bit decomposition implies it too; kept explicit (depth + 2 constraints) as the stated rule.
    component fits = RangeCheck(depth + 1, 0);
    fits.in <== 2 ** depth - start - K * B;

    signal w[K + 1][NW];
    for (var j = 0; j < NW; j++) w[0][j] <== w0[j];

    component sample[K][B];
    component aff[K][B][NC];
    component sig[K][B];
    component soft[K][B];
    component upd[K][NC];
    signal e[K][B][NC];
    for (var t = 0; t < K; t++) {
        for (var i = 0; i < B; i++) {
            sample[t][i] = ScheduledSample(F, dataBits, depth, leafIv);
            for (var j = 0; j < F; j++) sample[t][i].x[j] <== x[t][i][j];
            sample[t][i].y <== y[t][i];
            for (var d = 0; d < depth; d++) sample[t][i].siblings[d] <== siblings[t][i][d];
            sample[t][i].pos <== start + t * B + i;
            sample[t][i].root <== root;

            for (var c = 0; c < NC; c++) {
                aff[t][i][c] = TrainAffine(F, sx);
                for (var j = 0; j < F; j++) aff[t][i][c].w[j] <== w[t][j * NC + c];
                aff[t][i][c].w[F] <== w[t][F * NC + c];
                for (var j = 0; j < F; j++) aff[t][i][c].x[j] <== x[t][i][j];
            }

            if (model == 2) {
                soft[t][i] = SoftmaxResidual(NC, kz, bz, dc, D, segBits, deg, pshift, bo, ty, bq, bb, C);
                for (var c = 0; c < NC; c++) soft[t][i].z[c] <== aff[t][i][c].z;
                soft[t][i].y <== y[t][i];
                for (var c = 0; c < NC; c++) e[t][i][c] <== soft[t][i].e[c];
            } else if (model == 1) {
                sig[t][i] = SigmoidResidual(kz, bz, dc, D, segBits, deg, pshift, bo, ty, C);
                sig[t][i].z <== aff[t][i][0].z;
                sig[t][i].y <== y[t][i];
                e[t][i][0] <== sig[t][i].e;
            } else {
                e[t][i][0] <== aff[t][i][0].z - y[t][i] * 2 ** ty;
            }
        }
        for (var c = 0; c < NC; c++) {
            upd[t][c] = SgdUpdate(F, B, sx, k, up, wbits, t < K - 1 ? 1 : 0);
            for (var j = 0; j < F; j++) upd[t][c].w[j] <== w[t][j * NC + c];
            upd[t][c].w[F] <== w[t][F * NC + c];
            for (var i = 0; i < B; i++) {
                for (var j = 0; j < F; j++) upd[t][c].x[i][j] <== x[t][i][j];
                upd[t][c].e[i] <== e[t][i][c];
            }
            for (var j = 0; j < F; j++) w[t + 1][j * NC + c] <== upd[t][c].wn[j];
            w[t + 1][F * NC + c] <== upd[t][c].wn[F];
        }
    }

    component c1 = SignedCommit(NW, wbits, wIv);
    for (var j = 0; j < NW; j++) c1.in[j] <== w[K][j];
    c1.out === h1;
}

/// K steps of mini-batch SGD of an mlp over NC classes: public [root, h0, h1, start].
///   hidden   a[k] = Rescale(Σ_j W1[j][k]·x[j] + B1[k]·2^sx, k1, ba, relu)    a at scale 2^sa, in [0, 2^ba)
///   output   z[c] = Σ_k W2[k][c]·a[k] + B2[c]·2^sa;  e = SoftmaxResidual(z, y)  (scale 2^ty)
///   backward d[k] = Rescale(Σ_c W2[k][c]·e[c], kd, bd)·[a[k] ≠ 0]           (scale 2^ty)
///   updates  W2, B2 from (a, e): SgdUpdate(H, B, sa, k2, up2, …) per class
///            W1, B1 from (x, d): SgdUpdate(F, B, sx, k, up, …) per hidden unit
/// Weights, in the trained ONNX's order: W1[F][H], B1[H], W2[H][NC], B2[NC], each row by row;
/// h0 and h1 are SignedCommit of all of them. The schedule, the samples and the commitments are
/// TrainSGD's. ReLU's derivative is [a ≠ 0] (a ≥ 0): 0 where the rescaled pre-activation is 0,
/// as the TypeScript twin (train.ts) defines it; d uses the weights W2 before the step's update.
/// Sound: every value is a sound template's output, a product (one constraint) or a linear
/// combination; the mask is IsEqual's forced bit; the widths come from the generator's bounds.
template TrainMLP(F, H, NC, B, K, depth, dataBits, wbits, leafIv, wIv, sx, k1, ba, sa, kz, bz, dc, D, segBits, deg, pshift, bo, ty, bq, bb, C, kd, bd, k, up, k2, up2) {
    var NW = (F + 1) * H + (H + 1) * NC;
    var o2 = (F + 1) * H; // W2's first weight
    signal input root;
    signal input h0;
    signal input h1;
    signal input start;
    signal input w0[NW];
    signal input x[K][B][F];
    signal input y[K][B];
    signal input siblings[K][B][depth];

    component c0 = SignedCommit(NW, wbits, wIv);
    for (var j = 0; j < NW; j++) c0.in[j] <== w0[j];
    c0.out === h0;
    component fits = RangeCheck(depth + 1, 0);
    fits.in <== 2 ** depth - start - K * B;

    signal w[K + 1][NW];
    for (var j = 0; j < NW; j++) w[0][j] <== w0[j];

    component sample[K][B];
    component hid[K][B][H];
    component act[K][B][H];
    component out[K][B][NC];
    component soft[K][B];
    component back[K][B][H];
    component zero[K][B][H];
    signal we[K][B][H][NC];
    signal d[K][B][H];
    component upd2[K][NC];
    component upd1[K][H];
    for (var t = 0; t < K; t++) {
        for (var i = 0; i < B; i++) {
            sample[t][i] = ScheduledSample(F, dataBits, depth, leafIv);
            for (var j = 0; j < F; j++) sample[t][i].x[j] <== x[t][i][j];
            sample[t][i].y <== y[t][i];
            for (var l = 0; l < depth; l++) sample[t][i].siblings[l] <== siblings[t][i][l];
            sample[t][i].pos <== start + t * B + i;
            sample[t][i].root <== root;

            for (var u = 0; u < H; u++) {
                hid[t][i][u] = TrainAffine(F, sx);
                for (var j = 0; j < F; j++) hid[t][i][u].w[j] <== w[t][j * H + u];
                hid[t][i][u].w[F] <== w[t][F * H + u];
                for (var j = 0; j < F; j++) hid[t][i][u].x[j] <== x[t][i][j];
                act[t][i][u] = Rescale(k1, ba, 1);
                act[t][i][u].in <== hid[t][i][u].z;
            }
            for (var c = 0; c < NC; c++) {
                out[t][i][c] = TrainAffine(H, sa);
                for (var u = 0; u < H; u++) out[t][i][c].w[u] <== w[t][o2 + u * NC + c];
                out[t][i][c].w[H] <== w[t][o2 + H * NC + c];
                for (var u = 0; u < H; u++) out[t][i][c].x[u] <== act[t][i][u].out;
            }
            soft[t][i] = SoftmaxResidual(NC, kz, bz, dc, D, segBits, deg, pshift, bo, ty, bq, bb, C);
            for (var c = 0; c < NC; c++) soft[t][i].z[c] <== out[t][i][c].z;
            soft[t][i].y <== y[t][i];

            for (var u = 0; u < H; u++) {
                var acc = 0;
                for (var c = 0; c < NC; c++) {
                    we[t][i][u][c] <== w[t][o2 + u * NC + c] * soft[t][i].e[c];
                    acc += we[t][i][u][c];
                }
                back[t][i][u] = Rescale(kd, bd, 0);
                back[t][i][u].in <== acc;
                zero[t][i][u] = IsEqual();
                zero[t][i][u].a <== act[t][i][u].out;
                zero[t][i][u].b <== 0;
                d[t][i][u] <== back[t][i][u].out * (1 - zero[t][i][u].out);
            }
        }
        for (var c = 0; c < NC; c++) {
            upd2[t][c] = SgdUpdate(H, B, sa, k2, up2, wbits, t < K - 1 ? 1 : 0);
            for (var u = 0; u < H; u++) upd2[t][c].w[u] <== w[t][o2 + u * NC + c];
            upd2[t][c].w[H] <== w[t][o2 + H * NC + c];
            for (var i = 0; i < B; i++) {
                for (var u = 0; u < H; u++) upd2[t][c].x[i][u] <== act[t][i][u].out;
                upd2[t][c].e[i] <== soft[t][i].e[c];
            }
            for (var u = 0; u < H; u++) w[t + 1][o2 + u * NC + c] <== upd2[t][c].wn[u];
            w[t + 1][o2 + H * NC + c] <== upd2[t][c].wn[H];
        }
        for (var u = 0; u < H; u++) {
            upd1[t][u] = SgdUpdate(F, B, sx, k, up, wbits, t < K - 1 ? 1 : 0);
            for (var j = 0; j < F; j++) upd1[t][u].w[j] <== w[t][j * H + u];
            upd1[t][u].w[F] <== w[t][F * H + u];
            for (var i = 0; i < B; i++) {
                for (var j = 0; j < F; j++) upd1[t][u].x[i][j] <== x[t][i][j];
                upd1[t][u].e[i] <== d[t][i][u];
            }
            for (var j = 0; j < F; j++) w[t + 1][j * H + u] <== upd1[t][u].wn[j];
            w[t + 1][F * H + u] <== upd1[t][u].wn[F];
        }
    }

    component c1 = SignedCommit(NW, wbits, wIv);
    for (var j = 0; j < NW; j++) c1.in[j] <== w[K][j];
    c1.out === h1;
}
