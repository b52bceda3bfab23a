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

    var half = k > 0 ? 2 ** (k - 1) : 0;
    var shifted = in + half + 2 ** (b + k);
    var quo = shifted \ (2 ** k);
    var rem = shifted % (2 ** k);

    // k = 0 declares no r: circom's witness generator cannot lay out an array of size 0
    var lcr = 0;
    if (k > 0) {
        signal r[k];
        for (var i = 0; i < k; i++) {
            r[i] <-- (rem >> i) & 1;
            r[i] * (r[i] - 1) === 0;
            lcr += r[i] * 2 ** i;
        }
    }
    signal u[b + 1];
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

/// out = 1 if in ≥ 0 else 0, for in ∈ [−2^b, 2^b) (guaranteed by the compiler's bound analysis).
/// Sound: in + 2^b ∈ [0, 2^(b+1)) has exactly one (b+1)-bit decomposition; its top bit is 1
/// exactly when in ≥ 0. Cost (at --O2): b + 1 constraints.
template SignBit(b) {
    assert(b >= 1 && b + 2 <= 252);
    signal input in;
    signal output out;
    signal u[b + 1];
    var v = in + 2 ** b;
    var lc = 0;
    for (var i = 0; i <= b; i++) {
        u[i] <-- (v >> i) & 1;
        u[i] * (u[i] - 1) === 0;
        lc += u[i] * 2 ** i;
    }
    lc === in + 2 ** b;
    out <== u[b];
}

/// out = max(a, b) for b − a ∈ [−2^d, 2^d). Sound: s = [b − a ≥ 0] is forced by SignBit, and
/// out = a + s·(b − a) is then exactly the larger one. Cost: d + 2.
template Max2(d) {
    signal input a;
    signal input b;
    signal output out;
    component s = SignBit(d);
    s.in <== b - a;
    out <== a + s.out * (b - a);
}

/// out = 1 if a = b else 0 (the IsZero gadget on a − b). Sound: if a ≠ b, then out = 0 by the
/// second constraint and the first forces inv = 1/(a − b); if a = b, the first gives out = 1.
template IsEqual() {
    signal input a;
    signal input b;
    signal output out;
    signal inv;
    var d = a - b;
    inv <-- d != 0 ? 1 / d : 0;
    out <== 1 - inv * d; // inv in A (src/compiler/gadgets.ts nonZero says why)
    d * out === 0;
}

/// out = c ? a : b, where the condition arrives scaled: cs = c·2^s with c ∈ {0, 1} (enforced).
template Select(s) {
    signal input cs;
    signal input a;
    signal input b;
    signal output out;
    cs * (cs - 2 ** s) === 0;
    var c = cs * (1 / 2 ** s);
    out <== b + c * (a - b);
}

/// q = round(a·2^k / b) (half up) for b ∈ [1, 2^bb] and q ∈ [−2^bq, 2^bq).
/// Sound: b − 1, q + 2^bq, r and 2b − 1 − r are range-checked, so b ≥ 1, 0 ≤ r < 2b, and
/// 2·a·2^k + b = 2·b·q + r holds over the integers (the compiler keeps both sides below p/2);
/// that is Euclidean division of 2a·2^k + b by 2b, whose quotient is unique.
/// Cost: bb + (bq + 1) + 2·(bb + 2) + 1.
template DivRound(k, bq, bb) {
    assert(bq >= 0 && bb >= 1 && bq + bb + 3 <= 252);
    signal input a;
    signal input b;
    signal output q;
    signal r;
    signal bqv;

    var num = 2 * a * 2 ** k + b;
    var off = num + 2 * b * 2 ** bq; // ≥ 0 for every admissible q
    q <-- off \ (2 * b) - 2 ** bq;
    r <-- off % (2 * b);

    component rb = RangeCheck(bb, 1);
    rb.in <== b;
    component rq = RangeCheck(bq + 1, -(2 ** bq));
    rq.in <== q;
    component rr = RangeCheck(bb + 2, 0);
    rr.in <== r;
    component rt = RangeCheck(bb + 2, 0);
    rt.in <== 2 * b - 1 - r;
    bqv <== b * q;
    2 * a * 2 ** k + b === 2 * bqv + r;
}

/// in / D rounded to an integer q by `mode` (0 floor, 1 ceil, 2 trunc: toward zero, 3 even: to
/// nearest, ties to even), D ≥ 1 a constant; out = q, or the remainder in − q·D when rem = 1.
/// f = floor((in + off) / D), off = 0 (floor, trunc), D − 1 (ceil) or ⌊D/2⌋ (even), with
/// f ∈ [−2^b, 2^b) and the remainder r ∈ [0, D): r's m bits, and D − 1 − r's when D ≠ 2^m. Then
/// trunc adds 1 where in < 0 (u[b] = 0) and r ≠ 0; even (D even) takes 1 off an odd f (u[0] = 1)
/// at a tie (r = 0: in/D is f − 1/2, which half up took to f); an odd D has no ties.
/// Sound: u·D + r = in + off + D·2^b with boolean u (b+1 bits), boolean r digits and r < D has
/// at most one solution, because both sides are integers below D·2^(b+1) < p/2 (the compiler's
/// bound analysis), so (u − 2^b, r) is the Euclidean quotient and remainder of in + off by D.
/// nz = r·inv with r·(1 − nz) = 0 forces nz = [r ≠ 0], and t is a product of forced booleans.
/// Cost (--O1): m + b + 3 (the Rescale's), + m + 2 when D ≠ 2^m, + 3 for a correction (trunc, even).
template DivConst(D, m, b, mode, rem) {
    assert(D >= 1 && m >= 0 && D <= 2 ** m && b >= 1 && b + m + 3 <= 252);
    assert(mode >= 0 && mode <= 3 && (rem == 0 || rem == 1));
    signal input in;
    signal output out;
    signal r[m];
    signal u[b + 1];

    var off = 0;
    if (mode == 1) { off = D - 1; }
    if (mode == 3) { off = D \ 2; }
    var fix = 0;
    if (mode == 2 && D != 1) { fix = 1; }
    if (mode == 3 && D % 2 == 0) { fix = 2; }
    var shifted = in + off + D * 2 ** b;
    var quo = shifted \ D;
    var rv = shifted % D;

    var lcr = 0;
    for (var i = 0; i < m; i++) {
        r[i] <-- (rv >> i) & 1;
        r[i] * (r[i] - 1) === 0;
        lcr += r[i] * 2 ** i;
    }
    var lcu = 0;
    for (var i = 0; i <= b; i++) {
        u[i] <-- (quo >> i) & 1;
        u[i] * (u[i] - 1) === 0;
        lcu += u[i] * 2 ** i;
    }
    lcu * D + lcr === in + off + D * 2 ** b;
    if (D != 2 ** m) {
        // r < D
        component rt = RangeCheck(m, 0);
        rt.in <== D - 1 - lcr;
    }

    var q = lcu - 2 ** b;
    if (fix != 0) {
        signal inv;
        signal nz;
        signal t;
        inv <-- lcr != 0 ? 1 / lcr : 0;
        nz <== inv * lcr;
        lcr * (1 - nz) === 0;
        if (fix == 1) {
            t <== (1 - u[b]) * nz;
            q += t;
        } else {
            t <== (1 - nz) * u[0];
            q -= t;
        }
    }
    if (rem == 1) {
        out <== in - q * D;
    } else {
        out <== q;
    }
}

/// y = floor(√n) for n ≥ 0 and y ∈ [0, 2^by). Sound: with y ≥ 0, e = n − y² ∈ [0, 2^(by+1)) and
/// 2y − e ≥ 0 give y² ≤ n ≤ y² + 2y < (y + 1)², which only floor(√n) satisfies.
/// Cost: by + 2·(by + 1) + 1.
template FloorSqrt(by) {
    assert(by >= 1 && 2 * by + 3 <= 252);
    signal input n;
    signal output y;
    signal y2;
    var v = 0;
    for (var i = by - 1; i >= 0; i--) {
        var c = v + 2 ** i;
        if (c * c <= n) { v = c; }
    }
    y <-- v;
    component ry = RangeCheck(by, 0);
    ry.in <== y;
    y2 <== y * y;
    component re = RangeCheck(by + 1, 0);
    re.in <== n - y2;
    component rt = RangeCheck(by + 1, 0);
    rt.in <== 2 * y - (n - y2);
}

/// idx = the first index of the largest x[i], for x[i] − x[j] ∈ [−2^d, 2^d).
/// Sound: sel is one-hot (boolean, sums to 1), m = x[idx]; m − x[j] ≥ 0 for every j, and > 0 for
/// j < idx (the range check is on m − x[j] − [j < idx]), so idx is the first maximum.
/// Cost (at --O2, the default): n·(d + 3) for n ≥ 2.
template ArgMax(n, d) {
    signal input x[n];
    signal output idx;
    signal sel[n];
    signal prod[n];
    var best = 0;
    for (var i = 1; i < n; i++) {
        if (x[i] > x[best]) { best = i; }
    }
    var total = 0;
    var m = 0;
    var id = 0;
    for (var i = 0; i < n; i++) {
        sel[i] <-- i == best ? 1 : 0;
        sel[i] * (sel[i] - 1) === 0;
        total += sel[i];
        prod[i] <== sel[i] * x[i];
        m += prod[i];
        id += i * sel[i];
    }
    total === 1;
    idx <== id;
    component rc[n];
    var after = 1; // Σ_{i > j} sel[i], i.e. [idx > j]
    for (var j = 0; j < n; j++) {
        after -= sel[j];
        rc[j] = RangeCheck(d + 1, 0);
        rc[j].in <== m - x[j] - after;
    }
}

/// y = rescale(Σ_k C[seg·(deg+1) + k]·t^k, shift) where x − lo = seg·2^m + t·2^drop + r, m = B − s,
/// r < 2^drop: a piecewise polynomial over 2^s segments of the domain [lo, lo + 2^B), evaluated
/// at the top m − drop bits of each segment's offset (the low drop bits are range-checked, unused).
/// Sound: x − lo is decomposed into B boolean bits (so seg and t are the unique digits), the
/// one-hot selector of seg is built from its bits by products (each a constraint), coefficients
/// are linear in the selector, each of Horner's products (…)·t is a constraint, and the final
/// Rescale is sound by itself. Cost (at --O2): B + max(0, 2^s − 2) + (s = 0 ? max(0, deg − 1) : deg) + shift + bo + 1.
template PiecewisePoly(B, s, drop, deg, shift, bo, lo, C) {
    assert(s <= B && drop <= B - s && B + 1 <= 252);
    signal input in;
    signal output out;
    var m = B - s;
    signal bits[B];
    var v = in - lo;
    var lc = 0;
    for (var i = 0; i < B; i++) {
        bits[i] <-- (v >> i) & 1;
        bits[i] * (bits[i] - 1) === 0;
        lc += bits[i] * 2 ** i;
    }
    lc === in - lo;

    var t = 0;
    for (var i = drop; i < m; i++) { t += bits[i] * 2 ** (i - drop); }

    // one-hot selector of the segment, most significant bit first
    var nseg = 2 ** s;
    var sel[256];
    sel[0] = 1;
    signal prod[nseg > 2 ? nseg - 2 : 1];
    if (nseg <= 2) { prod[0] <== 0; }
    var width = 1;
    var np = 0;
    for (var j = s - 1; j >= 0; j--) {
        var next[256];
        for (var k = 0; k < width; k++) {
            if (width == 1) {
                next[0] = 1 - bits[m + j];
                next[1] = bits[m + j];
            } else {
                prod[np] <== sel[k] * bits[m + j];
                next[2 * k] = sel[k] - prod[np];
                next[2 * k + 1] = prod[np];
                np++;
            }
        }
        width *= 2;
        for (var k = 0; k < width; k++) { sel[k] = next[k]; }
    }

    // Horner: (…(C_deg·t + C_{deg−1})·t + …)·t + C_0, one product a degree
    signal hp[deg > 0 ? deg : 1];
    if (deg == 0) { hp[0] <== 0; }
    var acc = 0;
    for (var g = 0; g < nseg; g++) { acc += sel[g] * C[g * (deg + 1) + deg]; }
    for (var k = deg - 1; k >= 0; k--) {
        hp[k] <== acc * t;
        var ck = 0;
        for (var g = 0; g < nseg; g++) { ck += sel[g] * C[g * (deg + 1) + k]; }
        acc = hp[k] + ck;
    }
    component r = Rescale(shift, bo, 0);
    r.in <== acc;
    out <== r.out;
}

/// y = PiecewisePoly(B, s, drop, deg, shift, bo, lo, C) of x clamped to [lo, lo + 2^B − 1], for
/// x − lo ∈ [−2^W, 2^W) with W > B (the compiler's bound analysis): where f is constant on both
/// sides of an interval, one decomposition both clamps x and feeds the polynomial (two Max2 and
/// PiecewisePoly's own decomposition cost W + 3 more).
/// Sound: x − lo + 2^W ∈ [0, 2^(W+1)) has exactly one (W+1)-bit decomposition, whose top bit is
/// [x ≥ lo] and whose low W bits are x − lo when x ≥ lo. high = Σ bits[B..W) < p is nonzero exactly
/// when x − lo ≥ 2^B (given x ≥ lo); the pair nz = high·inv, high·(1 − nz) = 0 forces nz = [high ≠ 0],
/// so above = nz·bits[W] = [x ≥ lo + 2^B]. With keep = bits[W] − above ∈ {0, 1} (1 exactly when
/// x ∈ [lo, lo + 2^B)), the segment bits sb[j] = keep·bits[m + j] + above and t = keep·raw +
/// above·(2^(m−drop) − 1), raw the offset's bits [drop, m), are the segment and t of the clamped
/// offset: 0 below lo, all ones above lo + 2^B − 1, the offset's own between; each a product of
/// forced values. The segment selector, Horner's products and the Rescale are PiecewisePoly's.
/// rk ≥ 1 (lo = −2^(B−1), k = rk − 1 ≤ B − 1): out = relu − poly, relu = ⌊x / 2^k⌋·[x ≥ 0] from the
/// same bits (GELU as relu(x) − h(x)). Sound: x ≥ 0 exactly when x is above the domain or in it
/// with bits[B−1] set (x − lo ≥ 2^(B−1)), pos = above + keep·bits[B−1] is a sum of forced products,
/// and ⌊x / 2^k⌋ = Σ_{i≥k} bits[i]·2^(i−k) − 2^(W−k) − 2^(B−1−k), x = Σ bits·2^i − 2^W − 2^(B−1)
/// with both constants multiples of 2^k; relu = pos·⌊x / 2^k⌋ is one more product.
/// Cost (at --O2): (W + 1) + 3 + s + 1 + max(0, 2^s − 2) + (s = 0 ? max(0, deg − 1) : deg) + shift + bo + 1,
/// + 2 with rk ≥ 1.
template ClampedPoly(W, B, s, drop, deg, shift, bo, lo, C, rk) {
    assert(B >= 1 && W > B && s <= B && drop <= B - s && W + 2 <= 252);
    assert(rk == 0 || (lo == -(2 ** (B - 1)) && rk <= B));
    signal input in;
    signal output out;
    var m = B - s;
    signal bits[W + 1];
    var v = in - lo + 2 ** W;
    var lc = 0;
    for (var i = 0; i <= W; i++) {
        bits[i] <-- (v >> i) & 1;
        bits[i] * (bits[i] - 1) === 0;
        lc += bits[i] * 2 ** i;
    }
    lc === in - lo + 2 ** W;

    var high = 0;
    for (var i = B; i < W; i++) { high += bits[i]; }
    signal inv;
    signal nz;
    inv <-- high != 0 ? 1 / high : 0;
    nz <== inv * high;
    high * (1 - nz) === 0;
    signal above;
    above <== nz * bits[W];
    // clamped: the segment's bits keep·bit + above, and t as a whole, keep·t + above·(2^(m−drop) − 1)
    signal sb[s > 0 ? s : 1];
    if (s == 0) { sb[0] <== 0; }
    for (var j = 0; j < s; j++) { sb[j] <== (bits[W] - above) * bits[m + j] + above; }
    var raw = 0;
    for (var i = drop; i < m; i++) { raw += bits[i] * 2 ** (i - drop); }
    signal tk;
    tk <== (bits[W] - above) * raw;
    var t = tk + above * (2 ** (m - drop) - 1);

    // one-hot selector of the segment, most significant bit first
    var nseg = 2 ** s;
    var sel[256];
    sel[0] = 1;
    signal prod[nseg > 2 ? nseg - 2 : 1];
    if (nseg <= 2) { prod[0] <== 0; }
    var width = 1;
    var np = 0;
    for (var j = s - 1; j >= 0; j--) {
        var next[256];
        for (var k = 0; k < width; k++) {
            if (width == 1) {
                next[0] = 1 - sb[j];
                next[1] = sb[j];
            } else {
                prod[np] <== sel[k] * sb[j];
                next[2 * k] = sel[k] - prod[np];
                next[2 * k + 1] = prod[np];
                np++;
            }
        }
        width *= 2;
        for (var k = 0; k < width; k++) { sel[k] = next[k]; }
    }

    // Horner: (…(C_deg·t + C_{deg−1})·t + …)·t + C_0, one product a degree
    signal hp[deg > 0 ? deg : 1];
    if (deg == 0) { hp[0] <== 0; }
    var acc = 0;
    for (var g = 0; g < nseg; g++) { acc += sel[g] * C[g * (deg + 1) + deg]; }
    for (var k = deg - 1; k >= 0; k--) {
        hp[k] <== acc * t;
        var ck = 0;
        for (var g = 0; g < nseg; g++) { ck += sel[g] * C[g * (deg + 1) + k]; }
        acc = hp[k] + ck;
    }
    component r = Rescale(shift, bo, 0);
    r.in <== acc;
    if (rk == 0) {
        out <== r.out;
    } else {
        var rs = rk - 1;
        signal kb;
        kb <== (bits[W] - above) * bits[B - 1];
        var fl = -(2 ** (W - rs)) - 2 ** (B - 1 - rs);
        for (var i = rs; i <= W; i++) { fl += bits[i] * 2 ** (i - rs); }
        signal relu;
        relu <== (above + kb) * fl;
        out <== relu - r.out;
    }
}
