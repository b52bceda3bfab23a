pragma circom 2.1.6;

// Poseidon commitments: packed vector hashes and Merkle trees. The TypeScript side that computes
// the same values is src/commit/ (circomlibjs's Poseidon, the same constants as circomlib's).
// Compile with circomlib's circuits/ folder on the include path (circom -l).
include "poseidon_constants.circom";

/// circomlib's Poseidon(nInputs): the same permutation, constants and output (circomlibjs's
/// poseidon, which src/commit/ computes with), with its linear layers written as linear
/// combinations. Only the S-boxes x^5 are signals, three constraints each (x2 = x·x, x4 = x2·x2,
/// x5 = x4·x): circomlib's template states every round's state as signals of their own, which
/// circom --O2 substitutes away again; here nothing is left to substitute.
/// Rounds as in circomlib's PoseidonEx (initial state 0, one output): 4 full rounds (the last of
/// them mixed with P), nRoundsP partial rounds (S-box on state[0], sparse mix S), 4 full rounds,
/// the last one mixed into out by M's first column. Cost: 3·(8t + nRoundsP) for t = nInputs + 1.
template PoseidonHash(nInputs) {
    signal input inputs[nInputs];
    signal output out;

    var N_ROUNDS_P[16] = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];
    var t = nInputs + 1;
    var nRoundsF = 8;
    var nRoundsP = N_ROUNDS_P[t - 2];
    var C[t * nRoundsF + nRoundsP] = POSEIDON_C(t);
    var S[N_ROUNDS_P[t - 2] * (t * 2 - 1)] = POSEIDON_S(t);
    var M[t][t] = POSEIDON_M(t);
    var P[t][t] = POSEIDON_P(t);
    signal x2[t * nRoundsF + nRoundsP];
    signal x4[t * nRoundsF + nRoundsP];
    signal x5[t * nRoundsF + nRoundsP];
    var k = 0; // the next S-box

    var state[t];
    var next[t];
    for (var j = 0; j < t; j++) state[j] = (j == 0 ? 0 : inputs[j - 1]) + C[j];

    for (var r = 0; r < nRoundsF; r++) {
        for (var j = 0; j < t; j++) {
            x2[k] <== state[j] * state[j];
            x4[k] <== x2[k] * x2[k];
            x5[k] <== x4[k] * state[j];
            state[j] = x5[k];
            k++;
        }
        if (r < nRoundsF - 1) {
            // round constants of the next round, then the mix (P before the partial rounds)
            var base = r < nRoundsF \ 2 ? (r + 1) * t : (nRoundsF \ 2 + 1) * t + nRoundsP + (r - nRoundsF \ 2) * t;
            for (var j = 0; j < t; j++) state[j] += C[base + j];
            for (var i = 0; i < t; i++) {
                next[i] = 0;
                for (var j = 0; j < t; j++) next[i] += (r == nRoundsF \ 2 - 1 ? P[j][i] : M[j][i]) * state[j];
            }
            for (var i = 0; i < t; i++) state[i] = next[i];
        }
        if (r == nRoundsF \ 2 - 1) {
            for (var q = 0; q < nRoundsP; q++) {
                x2[k] <== state[0] * state[0];
                x4[k] <== x2[k] * x2[k];
                x5[k] <== x4[k] * state[0];
                var s0 = x5[k] + C[(nRoundsF \ 2 + 1) * t + q];
                k++;
                var first = S[(t * 2 - 1) * q] * s0;
                for (var i = 1; i < t; i++) first += S[(t * 2 - 1) * q + i] * state[i];
                for (var i = 1; i < t; i++) state[i] += s0 * S[(t * 2 - 1) * q + t + i - 1];
                state[0] = first;
            }
        }
    }
    var lc = 0;
    for (var j = 0; j < t; j++) lc += M[j][0] * state[j];
    out <== lc;
}

/// How many n-bit values PackedCommit packs into one field element: k·n ≤ 253 < log2(p).
function packPerElement(bits) {
    return 253 \ bits;
}

/// The commitment to n values, each in [0, 2^bits) — the caller's duty: every user of this
/// template feeds values that a RangeCheck (or the bound analysis) already confines there.
///   packing:  e_j = Σ_i in[j·k + i] · 2^(bits·i), k = 253 \ bits values per element (linear: free)
///   chaining: s = iv; for each run of up to 15 elements: s = Poseidon(s, e_…)
///   out = s
/// Injective on [0, 2^bits)^n: each e_j < 2^253 < p is the base-2^bits number of its values.
/// Binding then rests on Poseidon's collision resistance. The IV is the digest of the commitment's
/// header (kind, n, bits, shapes, scales, offset, layout: src/commit/poseidon.ts headerIv), or
/// n·256 + bits where the meaning is fixed otherwise (a split build's chunk links): vectors of other
/// lengths or widths, or the same integers read at another scale or shape, never share a commitment.
template PackedCommit(n, bits, iv) {
    assert(n >= 1 && bits >= 1 && bits <= 253);
    signal input in[n];
    signal output out;

    var k = packPerElement(bits);
    var m = (n + k - 1) \ k;
    var e[m];
    for (var j = 0; j < m; j++) {
        e[j] = 0;
        for (var i = 0; i < k && j * k + i < n; i++) e[j] += in[j * k + i] * 2 ** (bits * i);
    }

    var runs = (m + 14) \ 15;
    component h[runs];
    var s = iv;
    for (var r = 0; r < runs; r++) {
        var len = m - r * 15 < 15 ? m - r * 15 : 15;
        h[r] = PoseidonHash(len + 1);
        h[r].inputs[0] <== s;
        for (var i = 0; i < len; i++) h[r].inputs[i + 1] <== e[r * 15 + i];
        s = h[r].out;
    }
    out <== s;
}

/// PackedCommit of signed values in [-2^(bits-1), 2^(bits-1)), range-checked here, committed as
/// v + 2^(bits-1). Use it where nothing else confines the values (weights, training updates).
/// Cost: n·(bits + 1) range-check constraints plus the hash.
template SignedCommit(n, bits, iv) {
    signal input in[n];
    signal output out;
    component c = PackedCommit(n, bits, iv);
    signal b[n][bits];
    for (var i = 0; i < n; i++) {
        var u = in[i] + 2 ** (bits - 1);
        var lc = 0;
        for (var t = 0; t < bits; t++) {
            b[i][t] <-- (u >> t) & 1;
            b[i][t] * (b[i][t] - 1) === 0;
            lc += b[i][t] * 2 ** t;
        }
        lc === in[i] + 2 ** (bits - 1);
        c.in[i] <== lc;
    }
    out <== c.out;
}

/// The root of a depth-`depth` Poseidon Merkle tree over `leaf` at the position whose bits,
/// least significant first, are `index` (bit 0: the leaf is the left child at the bottom level).
/// node = Poseidon(left, right). Sound: index bits are boolean-constrained, and each level's
/// (left, right) is a pair of quadratic selections of (cur, sibling).
template MerkleRoot(depth) {
    signal input leaf;
    signal input siblings[depth];
    signal input index[depth];
    signal output root;

    component h[depth];
    signal left[depth];
    signal right[depth];
    var cur = leaf;
    for (var d = 0; d < depth; d++) {
        index[d] * (index[d] - 1) === 0;
        // index 0: (cur, sibling); index 1: (sibling, cur)
        left[d] <== cur + index[d] * (siblings[d] - cur);
        right[d] <== cur + siblings[d] - left[d];
        h[d] = PoseidonHash(2);
        h[d].inputs[0] <== left[d];
        h[d].inputs[1] <== right[d];
        cur = h[d].out;
    }
    root <== cur;
}

/// The position of a Merkle leaf as a number: Σ index[d]·2^d (linear, free), for circuits that
/// make the position public or compare it.
template MerkleIndex(depth) {
    signal input index[depth];
    signal output out;
    var lc = 0;
    for (var d = 0; d < depth; d++) lc += index[d] * 2 ** d;
    out <== lc;
}
