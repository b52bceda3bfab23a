pragma circom 2.1.6;

// Poseidon commitments: packed vector hashes and Merkle trees. The TypeScript side that computes
// the same values is src/commit/ (circomlibjs's Poseidon, the same constants as circomlib's).
// Compile with circomlib's circuits/ folder on the include path (circom -l).
include "poseidon.circom";

/// How many n-bit values PackedCommit packs into one field element: k·n ≤ 253 < log2(p).
function packPerElement(bits) {
    return 253 \ bits;
}

/// The commitment to n values, each in [0, 2^bits) — the caller's duty: every user of this
/// template feeds values that a RangeCheck (or the bound analysis) already confines there.
///   packing:  e_j = Σ_i in[j·k + i] · 2^(bits·i), k = 253 \ bits values per element (linear: free)
///   chaining: s = n·256 + bits; for each run of up to 15 elements: s = Poseidon(s, e_…)
///   out = s
/// Injective on [0, 2^bits)^n: each e_j < 2^253 < p is the base-2^bits number of its values.
/// Binding then rests on Poseidon's collision resistance; n and bits are part of the hash, so
/// vectors of different lengths or widths never share a commitment.
template PackedCommit(n, bits) {
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
    var s = n * 256 + bits;
    for (var r = 0; r < runs; r++) {
        var len = m - r * 15 < 15 ? m - r * 15 : 15;
        h[r] = Poseidon(len + 1);
        h[r].inputs[0] <== s;
        for (var i = 0; i < len; i++) h[r].inputs[i + 1] <== e[r * 15 + i];
        s = h[r].out;
    }
    out <== s;
}

/// PackedCommit of signed values in [-2^(bits-1), 2^(bits-1)), range-checked here, committed as
/// v + 2^(bits-1). Use it where nothing else confines the values (weights, training updates).
/// Cost: n·(bits + 1) range-check constraints plus the hash.
template SignedCommit(n, bits) {
    signal input in[n];
    signal output out;
    component c = PackedCommit(n, bits);
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
        h[d] = Poseidon(2);
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
