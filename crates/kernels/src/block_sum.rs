//! Sums of blocks picked from neighbour rows: the group convolution without its dense
//! product.
//!
//! A GConv layer's pre-activation for operation g at site s is
//! `sum_k sum_i Psi[o, i, P[g, k]] h[NN[k, s], i]`. As one dense product (the gathered
//! neighbour inputs times the rotated filters) that is `(z+1) Cin Cout Ng` multiply-adds
//! per site, 39936 for the published default. Grouped the other way it is a small product
//! per site, `Z[t, k', o] = sum_i Psi[o, i, k'] h[t, i]` (`Cin (z+1) Cout`, 832), and then
//! sums of `Cout`-long blocks of Z: `pre[s, g, o] = sum_k Z[NN[k, s], P[g, k], o]` (13 loads
//! and adds of one 8-wide vector per (s, g)). The backward is the same kind of sum with the
//! inverse tables. This module is that sum, for any table of rows and any list of blocks:
//!
//! `out[r, j*C + o] = bias[o] + sum_m src[rows[r, slot(j, m)], block(j, m)*C + o]`.

use tch::{Device, Kind, Tensor};

use crate::slices::{self, Element};
use crate::{activation, parallel};

/// Which source blocks make each output block: output block `j` is the sum of `per_block`
/// terms `(slot, block)`, source block `block` of the row in slot `slot` of the output
/// row's entry in the row table. Checked when made, so the kernel can index without checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTerms {
    slots: usize,
    src_blocks: usize,
    out_blocks: usize,
    per_block: usize,
    /// `(slot, block)`, output block major.
    terms: Vec<(usize, usize)>,
}

impl BlockTerms {
    /// Terms of each output block (`terms[j]`, all of one length) over rows with `slots`
    /// slots and `src_blocks` blocks per source row; an error names the first term out of
    /// range or the block with another number of terms.
    pub fn new(slots: usize, src_blocks: usize, terms: &[Vec<(usize, usize)>]) -> Result<Self, String> {
        let per_block = terms.first().map_or(0, Vec::len);
        for (j, t) in terms.iter().enumerate() {
            if t.len() != per_block {
                return Err(format!("output block {j} has {} terms, block 0 has {per_block}", t.len()));
            }
            if let Some(&(s, b)) = t.iter().find(|&&(s, b)| s >= slots || b >= src_blocks) {
                return Err(format!(
                    "output block {j} reads slot {s}, block {b}: rows have {slots} slots of {src_blocks} blocks"
                ));
            }
        }
        Ok(BlockTerms { slots, src_blocks, out_blocks: terms.len(), per_block, terms: terms.concat() })
    }
}

/// `out (R, out_blocks*width)` from `src (R_src, src_blocks*width)`, the row table `rows
/// (R, slots)` of i64 row numbers of `src` and `terms` (see the module doc); `bias (width)`
/// starts every output block when given. f32 or f64 CPU tensors outside autograd. Every
/// entry of `rows` must be below R_src: checked (a panic names the first bad entry), since
/// the table indexes memory.
pub fn block_sum(src: &Tensor, rows: &Tensor, terms: &BlockTerms, width: i64, bias: Option<&Tensor>) -> Tensor {
    block_sum_split(src, rows, terms, width, bias, 1)
}

/// [`block_sum`] with every output row split into `parts` rows: element `part*w + o` of
/// output block j of row r goes to row `r*parts + part`, column `j*w + o`, where `w =
/// width / parts`. Rows of `parts` samples side by side come back as one row per sample,
/// without another pass over the output.
pub fn block_sum_split(
    src: &Tensor,
    rows: &Tensor,
    terms: &BlockTerms,
    width: i64,
    bias: Option<&Tensor>,
    parts: i64,
) -> Tensor {
    run(src, rows, terms, width, bias, parts, None).0
}

/// [`block_sum`] of a GCNet layer's pre-activations, the output blocks being the `Ng`
/// group operations of `width` channels, then on each part of rows while it is in cache
/// the layer's activation (`crate::activation::softplus_group_mean_interleaved`): returns
/// the group means of the softplus `(R, width)` and the pre-activations, replaced by the
/// softplus slopes with `keep_slope`. The same bits as the two calls one after the other.
pub fn block_sum_activate(
    src: &Tensor,
    rows: &Tensor,
    terms: &BlockTerms,
    width: i64,
    bias: Option<&Tensor>,
    keep_slope: bool,
) -> (Tensor, Tensor) {
    let (pre, h) = run(src, rows, terms, width, bias, 1, Some(keep_slope));
    (h.expect("activation asked for"), pre)
}

/// The block sums, split into `parts` rows, or followed by the activation with
/// `activate = Some(keep_slope)`.
fn run(
    src: &Tensor,
    rows: &Tensor,
    terms: &BlockTerms,
    width: i64,
    bias: Option<&Tensor>,
    parts: i64,
    activate: Option<bool>,
) -> (Tensor, Option<Tensor>) {
    assert!(parts > 0 && width % parts == 0, "block_sum: {parts} parts of blocks of width {width}");
    let (src_rows, src_cols) = src.size2().expect("block_sum: the source is a matrix");
    let (out_rows, slots) = rows.size2().expect("block_sum: the row table is a matrix");
    let kind = src.kind();
    assert!(
        width > 0 && src_cols == terms.src_blocks as i64 * width && slots == terms.slots as i64,
        "block_sum: source {:?} and table {:?}, expected {} columns ({} blocks of {width}) and {} slots",
        src.size(),
        rows.size(),
        terms.src_blocks as i64 * width,
        terms.src_blocks,
        terms.slots
    );
    assert!(
        src.device() == Device::Cpu && !src.requires_grad() && matches!(kind, Kind::Double | Kind::Float),
        "block_sum: f32 or f64 CPU tensors outside autograd, got {kind:?} on {:?}",
        src.device()
    );
    let src = src.contiguous();
    let table = rows.to_kind(Kind::Int64).to_device(Device::Cpu).contiguous();
    let table = slices::row_numbers(&table, src_rows, "block_sum: row table", "source rows");
    let bias = bias.map(|b| b.to_kind(kind).to_device(Device::Cpu).contiguous());
    if let Some(b) = &bias {
        assert_eq!(b.numel() as i64, width, "block_sum: the bias has one value per block element");
    }
    let mut out = Tensor::empty([out_rows * parts, terms.out_blocks as i64 * width / parts], (kind, Device::Cpu));
    let mut means = activate.map(|_| Tensor::empty([out_rows, width], (kind, Device::Cpu)));
    let (w, parts) = (width as usize, parts as usize);
    let act = activate.zip(means.as_mut());
    match kind {
        Kind::Double => sized::<f64>(&src, table, terms, &mut out, w, bias.as_ref(), parts, act),
        _ => sized::<f32>(&src, table, terms, &mut out, w, bias.as_ref(), parts, act),
    }
    (out, means)
}

/// The block widths of GCNet layers (channels) get a kernel with the width fixed at
/// compile time, whose accumulators stay in vector registers; others the general one.
#[allow(clippy::too_many_arguments)]
fn sized<T: Num>(
    src: &Tensor,
    table: &[i64],
    terms: &BlockTerms,
    out: &mut Tensor,
    w: usize,
    bias: Option<&Tensor>,
    parts: usize,
    act: Option<(bool, &mut Tensor)>,
) {
    let src: &[T] = slices::elements(src, "block_sum: source");
    let bias: Option<&[T]> = bias.map(|b| slices::elements(b, "block_sum: bias"));
    let out: &mut [T] = slices::elements_mut(out, "block_sum: output");
    let act = act.map(|(keep, m)| (keep, slices::elements_mut::<T>(m, "block_sum: group means")));
    match w {
        1 => split::<T, 1>(src, table, terms, out, w, bias, parts, act),
        2 => split::<T, 2>(src, table, terms, out, w, bias, parts, act),
        4 => split::<T, 4>(src, table, terms, out, w, bias, parts, act),
        8 => split::<T, 8>(src, table, terms, out, w, bias, parts, act),
        16 => split::<T, 16>(src, table, terms, out, w, bias, parts, act),
        _ => split::<T, 0>(src, table, terms, out, w, bias, parts, act),
    }
}

/// Element types of the sums, with the activation of [`block_sum_activate`].
trait Num: Element + Default + std::ops::AddAssign {
    fn activate(pre: &mut [Self], means: &mut [Self], c: usize, ng: usize, keep_slope: bool);
}
impl Num for f64 {
    fn activate(pre: &mut [f64], means: &mut [f64], c: usize, ng: usize, keep_slope: bool) {
        activation::group_mean_rows_f64(pre, means, c, ng, keep_slope)
    }
}
impl Num for f32 {
    fn activate(pre: &mut [f32], means: &mut [f32], c: usize, ng: usize, keep_slope: bool) {
        activation::group_mean_rows_f32(pre, means, c, ng, keep_slope)
    }
}

/// Splits the output rows over the kernels' threads. Each output element is one sum in a
/// fixed order whatever the split, so results do not depend on the thread count. An output
/// row split into `parts` rows occupies the same elements as the unsplit row would.
#[allow(clippy::too_many_arguments)]
fn split<T: Num, const C: usize>(
    src: &[T],
    table: &[i64],
    terms: &BlockTerms,
    out: &mut [T],
    w: usize,
    bias: Option<&[T]>,
    parts: usize,
    act: Option<(bool, &mut [T])>,
) {
    let out_w = terms.out_blocks * w;
    if out_w == 0 || out.is_empty() {
        return;
    }
    let rows = out.len() / out_w;
    assert_eq!(src.len() % (terms.src_blocks * w), 0, "block_sum: source rows");
    // slot and element offset of every term in one word
    let packed: Vec<u64> = terms.terms.iter().map(|&(s, b)| s as u64 | ((b * w) as u64) << 32).collect();
    let zeros = vec![T::default(); w];
    let bias = bias.unwrap_or(&zeros);
    let slot_is_term = terms.per_block == terms.slots
        && terms.terms.iter().enumerate().all(|(i, &(s, _))| s == i % terms.per_block.max(1));
    let job = Job {
        src,
        table,
        terms: &packed,
        per_block: terms.per_block,
        slots: terms.slots,
        src_w: terms.src_blocks * w,
        w,
        bias,
        slot_is_term,
        parts,
    };
    let per = rows.div_ceil(parallel::parts(rows.div_ceil(64))).max(1);
    let ng = terms.out_blocks;
    match act {
        None => {
            let parts: Vec<(usize, &mut [T])> = out.chunks_mut(per * out_w).enumerate().collect();
            parallel::for_each_part(parts, |(part, dst)| job.dispatch::<C>(part * per, dst));
        }
        Some((keep_slope, means)) => {
            let parts: Vec<_> = out.chunks_mut(per * out_w).zip(means.chunks_mut(per * w)).enumerate().collect();
            parallel::for_each_part(parts, |(part, (dst, m))| {
                job.dispatch::<C>(part * per, dst);
                T::activate(dst, m, w, ng, keep_slope);
            });
        }
    }
}

/// Output rows and output blocks summed together: `ROWS * BLOCKS` independent chains of
/// adds (one chain is latency-bound, about 4 cycles an add), and each term's slot and
/// offset read once for `ROWS` rows. Loads limit the sums (a term costs its source block,
/// the row's start in its slot and the term itself): 4 loads an add one row at a time,
/// 2.25 here, 1.5 where the slot of term m is m (the forward of a layer).
const ROWS: usize = 4;
const BLOCKS: usize = 4;

/// `acc += ` the `C` elements at `v`.
///
/// # Safety
/// `v` must point to `C` readable elements.
#[inline(always)]
unsafe fn add_block<T: Num, const C: usize>(acc: &mut [T; C], v: *const T) {
    // SAFETY: the caller's promise
    let x: [T; C] = unsafe { std::ptr::read_unaligned(v as *const [T; C]) };
    for j in 0..C {
        acc[j] += x[j];
    }
}

/// Output block `j` of one row split into `parts` rows (`dst_row`: the split row's
/// elements): part p of the block goes to `p * dst_row.len() / parts + j * w`. Inlined, so
/// a compile-time `parts` (the fixed-width kernels) keeps the accumulators in registers.
#[inline(always)]
fn store_split<T: Copy>(dst_row: &mut [T], j: usize, block: &[T], parts: usize) {
    let (w, part_w) = (block.len() / parts, dst_row.len() / parts);
    for (part, piece) in block.chunks_exact(w).enumerate() {
        dst_row[part * part_w + j * w..part * part_w + (j + 1) * w].copy_from_slice(piece);
    }
}

/// One call's inputs, all checked: every table entry is a row of `src`, every term's slot
/// below `slots` and its offset plus `w` within a source row of `src_w` elements.
struct Job<'a, T> {
    src: &'a [T],
    table: &'a [i64],
    /// Every term as `slot | offset << 32`, output block major.
    terms: &'a [u64],
    per_block: usize,
    slots: usize,
    src_w: usize,
    w: usize,
    bias: &'a [T],
    /// Term m of every block reads slot m.
    slot_is_term: bool,
    /// Rows each output row is split into ([`block_sum_split`]).
    parts: usize,
}

impl<T: Num> Job<'_, T> {
    /// Runs [`Job::rows`] compiled for AVX-512 where the CPU has it (the 8-wide f64 blocks of
    /// the published network are one register there), else for the baseline target.
    fn dispatch<const C: usize>(&self, first: usize, dst: &mut [T]) {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
            fn avx512<T: Num, const C: usize>(job: &Job<'_, T>, first: usize, dst: &mut [T]) {
                job.rows::<C>(first, dst)
            }
            if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vl") {
                // SAFETY: the CPU has the features the function is compiled for.
                return unsafe { avx512::<T, C>(self, first, dst) };
            }
        }
        self.rows::<C>(first, dst)
    }

    /// Output rows `first..` into `dst` (whole rows). `C` is the block width when fixed at
    /// compile time, else 0.
    #[inline(always)]
    fn rows<const C: usize>(&self, first: usize, dst: &mut [T]) {
        let w = if C > 0 { C } else { self.w };
        let out_w = self.terms.len() / self.per_block.max(1) * w;
        let mut base = vec![0usize; ROWS * self.slots];
        let mut groups = dst.chunks_exact_mut(ROWS * out_w);
        let mut r = first;
        for group in &mut groups {
            self.bases(r, &mut base);
            if C == 0 {
                for (i, row) in group.chunks_exact_mut(out_w).enumerate() {
                    self.row_general(&base[i * self.slots..(i + 1) * self.slots], row);
                }
            } else {
                match (self.slot_is_term, self.parts) {
                    (true, 1) => self.blocks::<C, true, 1>(&base, group, out_w),
                    (false, 1) => self.blocks::<C, false, 1>(&base, group, out_w),
                    (true, 2) => self.blocks::<C, true, 2>(&base, group, out_w),
                    (false, 2) => self.blocks::<C, false, 2>(&base, group, out_w),
                    _ => {
                        for (i, row) in group.chunks_exact_mut(out_w).enumerate() {
                            self.row_general(&base[i * self.slots..(i + 1) * self.slots], row);
                        }
                    }
                }
            }
            r += ROWS;
        }
        for row in groups.into_remainder().chunks_exact_mut(out_w) {
            self.bases(r, &mut base[..self.slots]);
            self.row_general(&base[..self.slots], row);
            r += 1;
        }
    }

    /// The element offsets of the source rows in the slots of rows `r..`, one row after
    /// another (as many rows as `base` holds).
    #[inline(always)]
    fn bases(&self, r: usize, base: &mut [usize]) {
        let n = base.len();
        for (b, &t) in base.iter_mut().zip(&self.table[r * self.slots..r * self.slots + n]) {
            // checked in `block_sum`: 0 <= t < source rows
            *b = t as usize * self.src_w;
        }
    }

    /// `ROWS` output rows (`dst`, each `out_w` long), `BLOCKS` output blocks at a time.
    #[inline(always)]
    fn blocks<const C: usize, const SLOT_IS_TERM: bool, const P: usize>(
        &self,
        base: &[usize],
        dst: &mut [T],
        out_w: usize,
    ) {
        let blocks = out_w / C;
        let full = blocks / BLOCKS * BLOCKS;
        for j0 in (0..full).step_by(BLOCKS) {
            self.group::<C, SLOT_IS_TERM, BLOCKS, P>(base, dst, out_w, j0);
        }
        match blocks - full {
            1 => self.group::<C, SLOT_IS_TERM, 1, P>(base, dst, out_w, full),
            2 => self.group::<C, SLOT_IS_TERM, 2, P>(base, dst, out_w, full),
            3 => self.group::<C, SLOT_IS_TERM, 3, P>(base, dst, out_w, full),
            _ => {}
        }
    }

    /// Output blocks `j0..j0 + NB` of `ROWS` rows, each row split into `P` rows.
    #[inline(always)]
    fn group<const C: usize, const SLOT_IS_TERM: bool, const NB: usize, const P: usize>(
        &self,
        base: &[usize],
        dst: &mut [T],
        out_w: usize,
        j0: usize,
    ) {
        let per = self.per_block;
        let mut acc = [[[T::default(); C]; NB]; ROWS];
        for row in acc.iter_mut() {
            for a in row.iter_mut() {
                a.copy_from_slice(&self.bias[..C]);
            }
        }
        for m in 0..per {
            let mut at = [0usize; ROWS];
            if SLOT_IS_TERM {
                for (i, a) in at.iter_mut().enumerate() {
                    // SAFETY: m < per = slots here (BlockTerms::new), i < ROWS
                    *a = unsafe { *base.get_unchecked(i * self.slots + m) };
                }
            }
            for b in 0..NB {
                // SAFETY: (j0 + b) * per + m < out_blocks * per = terms.len()
                let t = unsafe { *self.terms.get_unchecked((j0 + b) * per + m) };
                let (slot, off) = ((t & 0xffff_ffff) as usize, (t >> 32) as usize);
                for (i, row) in acc.iter_mut().enumerate() {
                    let start = if SLOT_IS_TERM {
                        at[i] + off
                    } else {
                        // SAFETY: slot < slots (BlockTerms::new), i < ROWS
                        unsafe { *base.get_unchecked(i * self.slots + slot) + off }
                    };
                    // SAFETY: `start` is a checked row's start plus an offset with
                    // `off + C <= src_w`, so the block lies in `src`.
                    unsafe { add_block(&mut row[b], self.src.as_ptr().add(start)) };
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            let dst_row = &mut dst[i * out_w..(i + 1) * out_w];
            if P == 1 {
                for (o, a) in dst_row[j0 * C..(j0 + NB) * C].chunks_exact_mut(C).zip(row) {
                    o.copy_from_slice(a);
                }
            } else {
                for (b, a) in row.iter().enumerate() {
                    store_split(dst_row, j0 + b, a, P);
                }
            }
        }
    }

    /// One output row, any block width, with checked indexing.
    fn row_general(&self, base: &[usize], row: &mut [T]) {
        let w = row.len() / (self.terms.len() / self.per_block.max(1)).max(1);
        let mut split = vec![T::default(); if self.parts > 1 { w } else { 0 }];
        for (j, terms) in self.terms.chunks_exact(self.per_block.max(1)).enumerate() {
            let out = if self.parts == 1 { &mut row[j * w..(j + 1) * w] } else { &mut split[..] };
            out.copy_from_slice(&self.bias[..w]);
            for &t in terms {
                let at = base[(t & 0xffff_ffff) as usize] + (t >> 32) as usize;
                for (a, &v) in out.iter_mut().zip(&self.src[at..at + w]) {
                    *a += v;
                }
            }
            if self.parts > 1 {
                store_split(row, j, &split, self.parts);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An explicit loop over the definition, in f64.
    fn reference(src: &Tensor, rows: &[Vec<usize>], terms: &[Vec<(usize, usize)>], w: usize, bias: &[f64]) -> Tensor {
        let s = Vec::<f64>::try_from(src.to_kind(Kind::Double).contiguous().view([-1])).unwrap();
        let src_w = src.size()[1] as usize;
        let mut out = vec![0.0; rows.len() * terms.len() * w];
        for (r, slots) in rows.iter().enumerate() {
            for (j, t) in terms.iter().enumerate() {
                for o in 0..w {
                    let mut acc = bias[o];
                    for &(slot, block) in t {
                        acc += s[slots[slot] * src_w + block * w + o];
                    }
                    out[(r * terms.len() + j) * w + o] = acc;
                }
            }
        }
        Tensor::from_slice(&out).view([rows.len() as i64, (terms.len() * w) as i64])
    }

    /// Equals the explicit loop for fixed and general widths, both kinds, with and without a
    /// bias, on one and two threads (the same bits on both).
    #[test]
    fn equals_explicit_loop() {
        let _guard = crate::THREADS.lock().unwrap_or_else(|e| e.into_inner());
        let saved = tch::get_num_threads();
        tch::manual_seed(3);
        let (src_rows, out_rows, slots, src_blocks) = (23usize, 300usize, 4usize, 5usize);
        let mut x = 12345u64;
        let mut next = |n: usize| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as usize % n
        };
        let rows: Vec<Vec<usize>> = (0..out_rows).map(|_| (0..slots).map(|_| next(src_rows)).collect()).collect();
        let terms: Vec<Vec<(usize, usize)>> =
            (0..3).map(|_| (0..7).map(|_| (next(slots), next(src_blocks))).collect()).collect();
        let bt = BlockTerms::new(slots, src_blocks, &terms).unwrap();
        let flat: Vec<i64> = rows.iter().flatten().map(|&r| r as i64).collect();
        let table = Tensor::from_slice(&flat).view([out_rows as i64, slots as i64]);
        for w in [1usize, 3, 8] {
            for (kind, tol) in [(Kind::Double, 1e-13), (Kind::Float, 1e-5)] {
                let src = Tensor::randn([src_rows as i64, (src_blocks * w) as i64], (kind, Device::Cpu));
                let bias = Tensor::randn([w as i64], (kind, Device::Cpu));
                let b64 = Vec::<f64>::try_from(bias.to_kind(Kind::Double)).unwrap();
                for (with_bias, b) in [(false, vec![0.0; w]), (true, b64)] {
                    let want = reference(&src, &rows, &terms, w, &b);
                    let mut got = Vec::new();
                    for threads in [1, 2] {
                        tch::set_num_threads(threads);
                        got.push(block_sum(&src, &table, &bt, w as i64, with_bias.then_some(&bias)));
                    }
                    let d = (got[0].to_kind(Kind::Double) - &want).abs().max().double_value(&[]);
                    assert!(d < tol, "{kind:?}, width {w}, bias {with_bias}: differs by {d}");
                    assert!(got[0].equal(&got[1]), "{kind:?}, width {w}: thread counts differ");
                }
            }
        }
        tch::set_num_threads(saved);
    }

    /// Split rows hold the same bits as the unsplit sum rearranged, for fixed and general
    /// widths and row counts with and without a remainder of the row groups.
    #[test]
    fn split_rows_rearrange_the_sum() {
        let _guard = crate::THREADS.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(4);
        let (src_rows, slots, src_blocks) = (19i64, 3usize, 4usize);
        let terms: Vec<Vec<(usize, usize)>> =
            (0..5).map(|j| (0..6).map(|m| ((j + m) % slots, (j * m + 1) % src_blocks)).collect()).collect();
        let bt = BlockTerms::new(slots, src_blocks, &terms).unwrap();
        for out_rows in [301i64, 8] {
            let table = Tensor::randint(src_rows, [out_rows, slots as i64], (Kind::Int64, Device::Cpu));
            for (w, parts) in [(16i64, 2i64), (6, 2), (8, 4), (8, 1)] {
                for kind in [Kind::Double, Kind::Float] {
                    let src = Tensor::randn([src_rows, src_blocks as i64 * w], (kind, Device::Cpu));
                    let bias = Tensor::randn([w], (kind, Device::Cpu));
                    let whole = block_sum(&src, &table, &bt, w, Some(&bias));
                    let got = block_sum_split(&src, &table, &bt, w, Some(&bias), parts);
                    let want = whole.view([out_rows, 5, parts, w / parts]).transpose(1, 2).reshape([-1, 5 * w / parts]);
                    assert!(got.equal(&want), "{kind:?} {out_rows} rows, width {w} in {parts} parts");
                }
            }
        }
    }

    /// The fused activation gives the same bits as the block sums and then the activation,
    /// for fixed and general widths, both kinds, with and without the slopes.
    #[test]
    fn activate_equals_the_two_calls() {
        let _guard = crate::THREADS.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(5);
        let (src_rows, slots, src_blocks, ng) = (29i64, 4usize, 5usize, 48usize);
        let terms: Vec<Vec<(usize, usize)>> =
            (0..ng).map(|g| (0..slots).map(|m| (m, (g + 3 * m) % src_blocks)).collect()).collect();
        let bt = BlockTerms::new(slots, src_blocks, &terms).unwrap();
        for out_rows in [257i64, 3] {
            let table = Tensor::randint(src_rows, [out_rows, slots as i64], (Kind::Int64, Device::Cpu));
            for w in [16i64, 8, 3, 1] {
                for kind in [Kind::Double, Kind::Float] {
                    let src = Tensor::randn([src_rows, src_blocks as i64 * w], (kind, Device::Cpu)) * 3.0;
                    let bias = Tensor::randn([w], (kind, Device::Cpu));
                    for keep in [false, true] {
                        let mut pre = block_sum(&src, &table, &bt, w, Some(&bias));
                        let h = activation::softplus_group_mean_interleaved(&mut pre, w, ng as i64, keep);
                        let (h2, pre2) = block_sum_activate(&src, &table, &bt, w, Some(&bias), keep);
                        assert!(h2.equal(&h) && pre2.equal(&pre), "{kind:?} {out_rows} rows, width {w}, slopes {keep}");
                    }
                }
            }
        }
    }

    /// Terms and table entries out of range are refused.
    #[test]
    fn bad_terms_and_rows_are_refused() {
        let e = BlockTerms::new(2, 3, &[vec![(0, 1), (1, 3)]]).unwrap_err();
        assert!(e.contains("slot 1, block 3"), "{e}");
        let e = BlockTerms::new(2, 3, &[vec![(0, 1)], vec![]]).unwrap_err();
        assert!(e.contains("block 1 has 0 terms"), "{e}");
        let bt = BlockTerms::new(2, 3, &[vec![(0, 1), (1, 2)]]).unwrap();
        let src = Tensor::zeros([4, 6], (Kind::Double, Device::Cpu));
        let table = Tensor::from_slice(&[0i64, 1, 2, 4]).view([2, 2]);
        let r = std::panic::catch_unwind(|| block_sum(&src, &table, &bt, 2, None));
        let msg = *r.unwrap_err().downcast::<String>().unwrap();
        assert!(msg.contains("entry 3 is 4, outside the 4 source rows"), "{msg}");
    }
}
