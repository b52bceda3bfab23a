pragma circom 2.1.6;

// Sound building blocks for quantized ML circuits. Every value computed with `<--` is bound by
// `===` constraints below it; soundness arguments are in the comment above each template.
// Signed integers live in the field as x mod p; the compiler's bound analysis guarantees that
// every `in` below satisfies |in| + 2^(b+k+1) < p/2, so no equation can hold by wrap-around.

/// Constrains in ∈ [lo, lo + 2^n) by decomposing in − lo into n boolean signals.
/// Sound: the bits are boolean and sum to in − lo, and Σ bits·2^i < 2^n < p.
template RangeCheck(n, lo) {
    assert(n >= 1 && n <= 252); // Σ bits·2^i < 2^n must stay below p
    signal input in;
    signal bits[n];
    var v = in - lo;
    var lc = 0;
    for (var i = 0; i < n; i++) {
        bits[i] <-- (v >> i) & 1;
        bits[i] * (bits[i] - 1) === 0;
        lc += bits[i] * 2 ** i;
    }
    lc === in - lo;
}

/// out = floor((in + 2^(k-1)) / 2^k): in / 2^k rounded half up (k = 0: out = in), with the
/// quotient q constrained to [-2^b, 2^b) and the remainder to [0, 2^k).
/// relu = 1 gives out = max(0, q), reusing the quotient's bits: u[b] is 1 exactly when q ≥ 0.
/// Sound: u·2^k + r = in + 2^(k-1) + 2^(b+k) with boolean u (b+1 bits) and r (k bits) has at
/// most one solution, because both sides are integers below 2^(b+k+1) < p/2 (no wrap-around),
/// so (u − 2^b, r) is exactly the Euclidean quotient and remainder. Cost: b + k + 3 constraints.
template Rescale(k, b, relu) {
    // Uniqueness needs 2^(b+k+1) < p/2; past it a second decomposition can exist (tested).
    assert(k >= 0 && b >= 0 && b + k + 1 <= 252);
    assert(relu == 0 || relu == 1);
    signal input in;
    signal output out;
    signal r[k];
    signal u[b + 1];

    var half = k > 0 ? 2 ** (k - 1) : 0;
    var shifted = in + half + 2 ** (b + k);
    var quo = shifted \ (2 ** k);
    var rem = shifted % (2 ** k);

    var lcr = 0;
    for (var i = 0; i < k; i++) {
        r[i] <-- (rem >> i) & 1;
        r[i] * (r[i] - 1) === 0;
        lcr += r[i] * 2 ** i;
    }
    var lcu = 0;
    for (var i = 0; i <= b; i++) {
        u[i] <-- (quo >> i) & 1;
        u[i] * (u[i] - 1) === 0;
        lcu += u[i] * 2 ** i;
    }
    lcu * 2 ** k + lcr === in + half + 2 ** (b + k);

    if (relu == 1) {
        // q ≥ 0 ⇔ u[b] = 1, and then q = Σ_{i<b} u[i]·2^i.
        out <== u[b] * (lcu - u[b] * 2 ** b);
    } else {
        out <== lcu - 2 ** b;
    }
}
