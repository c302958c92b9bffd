//! The matrix product every layer reduces to, summed in one fixed order:
//!
//! `C[i, j] ← C₀[i, j] + A[i, 0]·B[0, j] + A[i, 1]·B[1, j] + … + A[i, k−1]·B[k−1, j]`,
//!
//! left to right, each product rounded, then each sum rounded (no fused
//! multiply-add), with `C₀ = C` when accumulating and `0` otherwise.
//!
//! Why: a general matrix library (faer) picks its blocking and its
//! reduction tree from the shape and the instruction set, so one state's
//! output depended on the batch it was in and the bits on the CPU (AVX-512,
//! AVX2 and SSE-only machines disagreed in the 13th digit after one TRPO
//! iteration). Here every output element is one chain of scalar operations
//! whose order depends on nothing but `k`; vectorisation only runs
//! *independent* chains (different `i`) side by side in SIMD lanes, which
//! cannot change a bit. So the result is the same for any batch size, any
//! split of the batch (threads, chunks) and any CPU, and it equals the naive
//! triple loop (tested against it, on the SIMD and the baseline paths).
//!
//! Speed comes from the usual register tiling, not from reordering sums: a
//! tile of `MR × NR` outputs (`MR` = 16 `f32` or 8 `f64` rows: two AVX
//! registers; `NR` = 4 columns) stays in registers while `t` runs over a
//! block of `KC` steps; an `MR`-row panel of `A` is reused by every column
//! tile; accumulating across `t` blocks through `C` rounds nothing extra.
//! The tile's loop reads without bounds checks (its index range is checked
//! once per tile): with a check per read it ran ≈ 40 instructions per step
//! for 16 of arithmetic and spilled the tile to the stack; without, the
//! Atari net's forward + VJP went from ≈ 195 to ≈ 136 µs per state.
//! The same source is compiled twice — for the x86-64 baseline (SSE2) and
//! with AVX2 enabled, chosen at run time — and Rust never contracts `a·b + c`
//! into an FMA on its own, so both give the same bits.

use crate::real::Real;

/// Steps of `t` per block: an `MR × KC` panel of `A` is 16 KiB, an L1's share.
const KC: usize = 256;
/// Columns of `C` per register tile.
const NR: usize = 4;
/// Columns of `C` per cache block: a `KC × NC` block of `B` is at most
/// 128 KiB (`f64`), an L2's share.
const NC: usize = 64;

/// Where `B[t, j]` lives: `data[t · t_stride + j · j_stride]`. `B` is read one
/// scalar at a time (broadcast to a row of lanes), so any layout is as fast.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Strided<'a, T> {
    pub data: &'a [T],
    pub t_stride: usize,
    pub j_stride: usize,
}

/// `C ← C₀ + A B` in the fixed order of the module docs. `A` is `m × k`
/// column-major (column `t` is `a[t·m .. t·m + m]`), `C` is `m × n`
/// column-major, `B` is `k × n` as described by `b`.
pub(crate) fn gemm<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: Strided<'_, T>,
    c: &mut [T],
    accumulate: bool,
) {
    assert!(
        a.len() >= m * k,
        "gemm: A has {} of {m}×{k} values",
        a.len()
    );
    assert!(
        c.len() >= m * n,
        "gemm: C has {} of {m}×{n} values",
        c.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(T::ZERO);
        }
        return;
    }
    let last = (k - 1) * b.t_stride + (n - 1) * b.j_stride;
    assert!(last < b.data.len(), "gemm: B has {} values", b.data.len());
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { gemm_avx2(m, n, k, a, b, c, accumulate) };
    }
    gemm_rows(m, n, k, a, b, c, accumulate);
}

/// [`gemm_rows`] compiled with AVX2 (same operations, wider registers).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn gemm_avx2<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: Strided<'_, T>,
    c: &mut [T],
    accumulate: bool,
) {
    gemm_rows(m, n, k, a, b, c, accumulate);
}

/// Picks the panel height for the element type: two 256-bit registers.
#[inline(always)]
fn gemm_rows<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: Strided<'_, T>,
    c: &mut [T],
    accumulate: bool,
) {
    if size_of::<T>() == 4 {
        blocked::<T, 16>(m, n, k, a, b, c, accumulate);
    } else {
        blocked::<T, 8>(m, n, k, a, b, c, accumulate);
    }
}

/// The loop nest: `t` blocks, then blocks of [`NC`] columns, then `MR`-row
/// panels of `A`, then `NR`-column tiles of `C`. A column block of `B` is
/// reused by every panel while it is in cache (with the panels outside, a
/// small-`k` layer re-read its whole input once per panel). A last partial
/// panel is copied into a zero-padded stack buffer, once per `t` block, so
/// every tile runs the full-width code; its padding rows compute zeros that
/// are never stored.
#[inline(always)]
fn blocked<T: Real, const MR: usize>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: Strided<'_, T>,
    c: &mut [T],
    accumulate: bool,
) {
    let mut padded = [[T::ZERO; MR]; KC];
    let full_rows = m - m % MR;
    for t0 in (0..k).step_by(KC) {
        let kc = KC.min(k - t0);
        let load = accumulate || t0 > 0;
        let b_block = &b.data[t0 * b.t_stride..];
        let rest = m - full_rows;
        for (t, row) in padded[..kc].iter_mut().enumerate().filter(|_| rest > 0) {
            copy_short(&a[(t0 + t) * m + full_rows..][..rest], &mut row[..rest]);
            row[rest..].fill(T::ZERO);
        }
        for j_start in (0..n).step_by(NC) {
            let j_end = (j_start + NC).min(n);
            for i0 in (0..m).step_by(MR) {
                let rows = MR.min(m - i0);
                let panel = if rows == MR {
                    Panel {
                        data: &a[t0 * m + i0..],
                        stride: m,
                    }
                } else {
                    Panel {
                        data: padded.as_flattened(),
                        stride: MR,
                    }
                };
                let mut j0 = j_start;
                while j0 + NR <= j_end {
                    tile::<T, MR, NR>(kc, panel, b_block, b, j0, c, m, i0, rows, load);
                    j0 += NR;
                }
                for j in j0..j_end {
                    tile::<T, MR, 1>(kc, panel, b_block, b, j, c, m, i0, rows, load);
                }
            }
        }
    }
}

/// `MR` rows of `A` for a block of `t`: row `i` of step `t` at
/// `data[t · stride + i]`.
#[derive(Clone, Copy)]
struct Panel<'a, T> {
    data: &'a [T],
    stride: usize,
}

/// One `MR × COLS` tile of `C` (rows `i0..i0+rows`, columns `j0..j0+COLS`)
/// over `kc` steps of `t`, kept in registers.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn tile<T: Real, const MR: usize, const COLS: usize>(
    kc: usize,
    panel: Panel<'_, T>,
    b_block: &[T],
    b: Strided<'_, T>,
    j0: usize,
    c: &mut [T],
    m: usize,
    i0: usize,
    rows: usize,
    load: bool,
) {
    let mut acc = [[T::ZERO; MR]; COLS];
    if load {
        for (j, acc) in acc.iter_mut().enumerate() {
            copy_short(&c[(j0 + j) * m + i0..][..rows], &mut acc[..rows]);
        }
    }
    // Every index the loop reads, checked once here, so that the loop
    // itself has no bounds checks: they cost more instructions than the
    // arithmetic, and kept LLVM from holding the tile in registers.
    let b_last = (kc - 1) * b.t_stride;
    let b_columns: [&[T]; COLS] =
        std::array::from_fn(|j| &b_block[(j0 + j) * b.j_stride..][..=b_last]);
    let a_end = (kc - 1) * panel.stride + MR;
    let a_panel = &panel.data[..a_end];
    for t in 0..kc {
        // SAFETY: `t < kc`, so `t·stride + MR ≤ a_end = a_panel.len()`.
        let a_t: &[T; MR] = unsafe { &*a_panel.as_ptr().add(t * panel.stride).cast::<[T; MR]>() };
        for (acc, column) in acc.iter_mut().zip(&b_columns) {
            // SAFETY: `t·t_stride ≤ b_last < column.len()`.
            let b_tj = unsafe { *column.get_unchecked(t * b.t_stride) };
            for (acc, a) in acc.iter_mut().zip(a_t) {
                *acc = *acc + *a * b_tj;
            }
        }
    }
    for (j, acc) in acc.iter().enumerate() {
        copy_short(&acc[..rows], &mut c[(j0 + j) * m + i0..][..rows]);
    }
}

/// `dst.copy_from_slice(src)` for the short runs of a tile or an im2col
/// patch row, as inline vector moves of 8 values: `copy_from_slice` with a
/// run-time length is a call to `memcpy`, which cost more than the copy (a
/// fifth of a conv gradient's time went into such calls).
#[inline(always)]
pub(crate) fn copy_short<T: Copy>(src: &[T], dst: &mut [T]) {
    assert_eq!(src.len(), dst.len(), "copy_short: length mismatch");
    let mut dst_blocks = dst.chunks_exact_mut(8);
    let mut src_blocks = src.chunks_exact(8);
    for (d, s) in (&mut dst_blocks).zip(&mut src_blocks) {
        let block: [T; 8] = s.try_into().expect("block of 8");
        let d: &mut [T; 8] = d.try_into().expect("block of 8");
        *d = block;
    }
    for (d, s) in dst_blocks
        .into_remainder()
        .iter_mut()
        .zip(src_blocks.remainder())
    {
        *d = *s;
    }
}

#[cfg(test)]
mod tests {
    use trustbench_plugin::rng::Rng;

    use super::*;

    /// The definition: one left-to-right chain per element.
    fn naive<T: Real>(
        m: usize,
        n: usize,
        k: usize,
        a: &[T],
        b: Strided<'_, T>,
        c: &mut [T],
        accumulate: bool,
    ) {
        for j in 0..n {
            for i in 0..m {
                let mut sum = if accumulate { c[j * m + i] } else { T::ZERO };
                for t in 0..k {
                    sum = sum + a[t * m + i] * b.data[t * b.t_stride + j * b.j_stride];
                }
                c[j * m + i] = sum;
            }
        }
    }

    fn random<T: Real>(rng: &mut Rng, len: usize) -> Vec<T> {
        (0..len).map(|_| T::from_f64(rng.normal())).collect()
    }

    fn bits<T: Real>(v: &[T]) -> Vec<u64> {
        v.iter().map(|x| x.to_f64().to_bits()).collect()
    }

    /// Shapes around every edge: partial panels, partial tiles, several
    /// `t` blocks, and both `B` layouts.
    fn every_path_equals_the_naive_loop<T: Real>() {
        let mut rng = Rng::new(17);
        for (m, n, k) in [
            (1, 1, 1),
            (3, 5, 7),
            (16, 4, 256),
            (17, 9, 257),
            (20, 6, 1408),
            (8, 3, 600),
            (33, 13, 64),
        ] {
            let a = random::<T>(&mut rng, m * k);
            let b_data = random::<T>(&mut rng, k * n);
            let c0 = random::<T>(&mut rng, m * n);
            for (t_stride, j_stride) in [(1, k), (n, 1)] {
                let b = Strided {
                    data: &b_data,
                    t_stride,
                    j_stride,
                };
                for accumulate in [false, true] {
                    let mut expected = c0.clone();
                    naive(m, n, k, &a, b, &mut expected, accumulate);
                    let mut dispatched = c0.clone();
                    gemm(m, n, k, &a, b, &mut dispatched, accumulate);
                    let mut baseline = c0.clone();
                    gemm_rows(m, n, k, &a, b, &mut baseline, accumulate);
                    let shape = format!("{m}×{n}×{k} strides ({t_stride}, {j_stride})");
                    assert_eq!(bits(&dispatched), bits(&expected), "dispatched {shape}");
                    assert_eq!(bits(&baseline), bits(&expected), "baseline {shape}");
                }
            }
        }
    }

    #[test]
    fn f32_paths_give_the_naive_bits() {
        every_path_equals_the_naive_loop::<f32>();
    }

    #[test]
    fn f64_paths_give_the_naive_bits() {
        every_path_equals_the_naive_loop::<f64>();
    }

    #[test]
    fn a_column_does_not_depend_on_the_others() {
        // One column of B alone, or inside any batch: the same bits.
        let (m, k) = (20, 300);
        let mut rng = Rng::new(3);
        let a = random::<f32>(&mut rng, m * k);
        let b_data = random::<f32>(&mut rng, k * 11);
        let mut all = vec![0.0f32; m * 11];
        let whole = Strided {
            data: &b_data,
            t_stride: 1,
            j_stride: k,
        };
        gemm(m, 11, k, &a, whole, &mut all, false);
        for j in 0..11 {
            let alone = Strided {
                data: &b_data[j * k..(j + 1) * k],
                t_stride: 1,
                j_stride: k,
            };
            let mut one = vec![0.0f32; m];
            gemm(m, 1, k, &a, alone, &mut one, false);
            assert_eq!(bits(&one), bits(&all[j * m..(j + 1) * m]), "column {j}");
        }
    }

    #[test]
    fn empty_sums_are_zero_or_untouched() {
        let mut c = vec![5.0f64; 6];
        let b = Strided {
            data: &[],
            t_stride: 1,
            j_stride: 0,
        };
        gemm(2, 3, 0, &[], b, &mut c, true);
        assert_eq!(c, vec![5.0; 6]);
        gemm(2, 3, 0, &[], b, &mut c, false);
        assert_eq!(c, vec![0.0; 6]);
    }
}
