//! `tanh` for the hidden layers: bit-reproducible on every platform and
//! several times faster than the `libm` port it replaces, because it is the hot
//! spot of training (a 64×64 tanh network spends more time in `tanh` than in
//! its matrix products: 57 % of a TRPO run on hopper was `libm::tanh`).
//!
//! Method: `tanh |x| = m / (m + 2)` with `m = e^{2|x|} − 1`, and `m` from
//! Cody–Waite range reduction `2|x| = k ln 2 + r`, `|r| ≤ ln 2 / 2`:
//!
//! `m = 2ᵏ · r q(r) + (2ᵏ − 1)`, `q(r) = Σ_{j=0}^{12} r^j / (j+1)!` (by Estrin's scheme),
//!
//! so `r q(r) = e^r − 1` is formed without cancellation (the `k = 0` case is
//! what keeps small arguments accurate). The Taylor tail is below
//! `(ln 2 / 2)^{14} / 14! ≈ 4·10⁻¹⁸`, and the result is within about one ulp
//! of `libm::tanh` (tested). Only `+ − × ÷`, comparisons and exponent-bit
//! arithmetic are used — no platform math library, no fused multiply-add — so
//! every machine rounds every step identically, and the loop has no
//! data-dependent branches. `|x|` is capped at 20, where `tanh` is 1 in f64.
//!
//! [`tanh_in_place`] runs the same operations in AVX2 registers when the
//! CPU has them (checked at run time), four independent chains of four
//! lanes at a time. The results are the same bits: every lane does the same
//! IEEE operations in the same order (the polynomial is written once,
//! [`estrin`], for both), and neither path uses an FMA, so AVX2 changes
//! speed only (tested).

/// `ln 2` split so that `k · LN2_HI` is exact for the `k` that occur.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 0.693147180369…
/// The rest of `ln 2`.
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // 1.9082149…e-10
/// Adding `1.5 · 2⁵²` rounds a small float to an integer and leaves that
/// integer in the low mantissa bits, where the exponent bits can be built.
const ROUND_SHIFT: f64 = 6_755_399_441_055_744.0;

/// `1/(j+1)!` for `j = 0, 1, …, 12`: the coefficients of `q(r)`.
const INV_FACTORIALS: [f64; 13] = [
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// `q(r) = Σ_{j=0}^{12} r^j / (j+1)!` by Estrin's scheme: pairs `c₂ᵢ + c₂ᵢ₊₁ r`
/// combined with `r²`, `r⁴`, `r⁸`. Its longest chain of dependent operations
/// is 7 long where Horner's is 24, which is what limits the vectorised loop
/// (each operation waits on the previous one's latency). Written once over
/// the arithmetic (`mul`, `add`, `constant`) so that the scalar and the
/// vector paths round identically.
#[inline(always)]
fn estrin<T: Copy>(
    r: T,
    mul: impl Fn(T, T) -> T,
    add: impl Fn(T, T) -> T,
    constant: impl Fn(f64) -> T,
) -> T {
    let c = |j: usize| constant(INV_FACTORIALS[j]);
    let pair = |j: usize| add(c(j), mul(c(j + 1), r));
    let r2 = mul(r, r);
    let r4 = mul(r2, r2);
    let r8 = mul(r4, r4);
    let low = add(
        add(pair(0), mul(pair(2), r2)),
        mul(add(pair(4), mul(pair(6), r2)), r4),
    );
    let high = add(add(pair(8), mul(pair(10), r2)), mul(c(12), r4));
    add(low, mul(high, r8))
}

/// `v ← tanh v` for every element, vectorised where the CPU allows.
pub(crate) fn tanh_in_place(values: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { avx2::tanh_in_place(values) };
    }
    values.iter_mut().for_each(|v| *v = tanh(*v));
}

/// The hyperbolic tangent (see the module docs); NaN stays NaN.
#[inline(always)]
fn tanh(x: f64) -> f64 {
    let y = 2.0 * x.abs().min(20.0);
    let shifted = y * std::f64::consts::LOG2_E + ROUND_SHIFT;
    let k = shifted - ROUND_SHIFT;
    let r = (y - k * LN2_HI) - k * LN2_LO;
    let q = estrin(r, |a, b| a * b, |a, b| a + b, |c| c);
    // 2ᵏ from k's bits (0 ≤ k ≤ 58, so the biased exponent is in range).
    let two_k = f64::from_bits(shifted.to_bits().wrapping_add(1023) << 52);
    let m = two_k * (r * q) + (two_k - 1.0);
    let t = (m / (m + 2.0)).copysign(x);
    // A select rather than an early return keeps the loop vectorisable.
    if x.is_nan() { x } else { t }
}

/// [`tanh`] four lanes at a time, sixteen values per loop turn: the
/// polynomial is a chain of dependent multiply-adds, and four independent
/// chains keep the FPU busy where one would wait on each step's latency
/// (the compiler's own vectorisation of the scalar loop runs one chain).
/// Every lane performs [`tanh`]'s IEEE operations in the same order — no
/// FMA, no reassociation — so the bits are the same (tested).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{LN2_HI, LN2_LO, ROUND_SHIFT, estrin, tanh};
    use std::arch::x86_64::*;

    /// Chains per loop turn.
    const CHAINS: usize = 4;

    #[target_feature(enable = "avx2")]
    pub(super) fn tanh_in_place(values: &mut [f64]) {
        let mut blocks = values.chunks_exact_mut(4 * CHAINS);
        for block in &mut blocks {
            let p = block.as_mut_ptr();
            // SAFETY: the block holds 4·CHAINS values; unaligned loads and
            // stores of four of them at offsets 0, 4, 8, 12 stay inside it.
            unsafe {
                let x: [__m256d; CHAINS] = std::array::from_fn(|c| _mm256_loadu_pd(p.add(4 * c)));
                let t = lanes(x);
                for (c, t) in t.iter().enumerate() {
                    _mm256_storeu_pd(p.add(4 * c), *t);
                }
            }
        }
        for v in blocks.into_remainder() {
            *v = tanh(*v);
        }
    }

    /// One vector operation per chain.
    #[inline(always)]
    fn each(f: impl Fn(usize) -> __m256d) -> [__m256d; CHAINS] {
        std::array::from_fn(f)
    }

    /// [`tanh`] of `CHAINS` registers, stage by stage.
    #[target_feature(enable = "avx2")]
    fn lanes(x: [__m256d; CHAINS]) -> [__m256d; CHAINS] {
        let splat = _mm256_set1_pd;
        let sign = splat(-0.0);
        // y = 2·min(|x|, 20); Rust's min and minpd agree: |x| is NaN only
        // for NaN x, whose result is replaced at the end.
        let y = each(|c| {
            _mm256_mul_pd(
                splat(2.0),
                _mm256_min_pd(_mm256_andnot_pd(sign, x[c]), splat(20.0)),
            )
        });
        let shifted = each(|c| {
            _mm256_add_pd(
                _mm256_mul_pd(y[c], splat(std::f64::consts::LOG2_E)),
                splat(ROUND_SHIFT),
            )
        });
        let r = each(|c| {
            let k = _mm256_sub_pd(shifted[c], splat(ROUND_SHIFT));
            _mm256_sub_pd(
                _mm256_sub_pd(y[c], _mm256_mul_pd(k, splat(LN2_HI))),
                _mm256_mul_pd(k, splat(LN2_LO)),
            )
        });
        let q = each(|c| {
            estrin(
                r[c],
                |a, b| _mm256_mul_pd(a, b),
                |a, b| _mm256_add_pd(a, b),
                |v| splat(v),
            )
        });
        each(|c| {
            let bits = _mm256_add_epi64(_mm256_castpd_si256(shifted[c]), _mm256_set1_epi64x(1023));
            let two_k = _mm256_castsi256_pd(_mm256_slli_epi64::<52>(bits));
            let m = _mm256_add_pd(
                _mm256_mul_pd(two_k, _mm256_mul_pd(r[c], q[c])),
                _mm256_sub_pd(two_k, splat(1.0)),
            );
            let magnitude = _mm256_div_pd(m, _mm256_add_pd(m, splat(2.0)));
            // copysign(magnitude, x): magnitude is non-negative.
            let t = _mm256_or_pd(_mm256_andnot_pd(sign, magnitude), _mm256_and_pd(sign, x[c]));
            let nan = _mm256_cmp_pd::<_CMP_UNORD_Q>(x[c], x[c]);
            _mm256_blendv_pd(t, x[c], nan)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_libm_to_about_one_ulp_and_keeps_special_values() {
        let mut worst = 0.0f64;
        let mut x = -30.0;
        while x < 30.0 {
            let (ours, reference) = (tanh(x), libm::tanh(x));
            let ulp = f64::EPSILON * reference.abs().max(f64::MIN_POSITIVE);
            worst = worst.max((ours - reference).abs() / ulp);
            x += 0.000_731;
        }
        assert!(worst <= 2.5, "worst error {worst} ulp");
        for x in [1e-300, 1e-12, 3e-9, 0.125, 0.346, 0.347, 19.9, 20.0, 700.0] {
            for x in [x, -x] {
                let (ours, reference) = (tanh(x), libm::tanh(x));
                assert!((ours - reference).abs() <= 2.0 * f64::EPSILON * reference.abs());
            }
        }
        assert_eq!(tanh(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(tanh(f64::INFINITY), 1.0);
        assert_eq!(tanh(f64::NEG_INFINITY), -1.0);
        assert!(tanh(f64::NAN).is_nan());
    }

    #[test]
    fn the_vectorised_loop_gives_the_same_bits() {
        let mut rng = trustbench_plugin::rng::Rng::new(7);
        let inputs: Vec<f64> = (0..1003)
            .map(|i| match i % 7 {
                0 => f64::NAN,
                1 => 1e-9 * rng.normal(),
                _ => 4.0 * rng.normal(),
            })
            .collect();
        let mut vectorised = inputs.clone();
        tanh_in_place(&mut vectorised);
        for (x, v) in inputs.iter().zip(&vectorised) {
            assert_eq!(tanh(*x).to_bits(), v.to_bits(), "tanh({x})");
        }
    }
}
