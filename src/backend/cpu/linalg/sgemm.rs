//! Hearth's own f32 GEMM: `C (m × n) = (C or 0) + scale · A · B` for strided A and B, blocked
//! for the caches and computed by a register-blocked micro-kernel.
//!
//! B is packed into panels of [`NR`] = 8 columns, each panel `k` rows of 8 contiguous values
//! (zero-padded past `n`): [`PackedB`]. A weight that is a constant of the model is packed once
//! when the session is built and kept in the plan; any other B is packed per call into a reused
//! buffer, except that for few rows of A (≤ 32) a row-major B is read where it lies (only its
//! last partial panel packed): each panel is then passed over too few times to repay a copy. A is packed per block of [`MC`] rows × [`KC`] depths into micro-panels of up to
//! [`MR`] = 4 rows, depth-major (`[p][r]`). The micro-kernel keeps an `R × 8·P` tile of C in
//! `R·2·P` f32x4 accumulators; each depth step loads the 2·P vectors of B once, broadcasts each
//! of the R values of A, and adds the products (SIMD128 has no FMA: a multiply, then an add).
//! Tiles of 4 × 8 cover the matrix (a last panel of 1 or 2 columns, as H·W of a convolution
//! often leaves, runs column by column over 4 micro-panels at a time); fewer than 4 rows in all (batch-1 layers, RNN steps) take
//! 1 × 32 or 2 × 16 tiles, so a product with one row still has 8 independent accumulators and
//! streams each packed weight once.
//!
//! The loops, outside in: column blocks of [`NC`] (B's block, `KC × NC`, stays in L2), depth
//! blocks of [`KC`], row blocks of [`MC`] (A's block, packed), one B panel (in L1 while every A
//! micro-panel of the block passes over it), one A micro-panel.
//!
//! The scalar twin ([`Kernel::Scalar`]) runs the same blocking and, per output, the same
//! operations in the same order, so the SIMD128 kernel matches it bit for bit
//! ([`check_against_scalar`], run inside wasm by the test hook `sgemmCheckForTest`).

use std::cell::RefCell;

/// Rows of A per micro-panel.
pub const MR: usize = 4;
/// Columns of B per packed panel.
pub const NR: usize = 8;
/// Depth per block (an A micro-panel is `MR × KC` = 4 KB, a B panel slice `KC × NR` = 8 KB).
const KC: usize = 256;
/// Rows of A per packed block (`MC × KC` = 64 KB).
const MC: usize = 64;
/// Columns of B per block (`KC × NC` = 256 KB).
const NC: usize = 256;

/// B (`k × n`) packed into `⌈n / 8⌉` panels of `k × 8` values, zero-padded.
#[derive(Clone, Debug, Default)]
pub struct PackedB {
    k: usize,
    n: usize,
    data: Vec<f32>,
}

impl PackedB {
    /// Packs B from `rhs` with element strides `(rrs, rcs)` (row, column).
    pub fn new(k: usize, n: usize, rhs: &[f32], rs: (usize, usize)) -> PackedB {
        let mut p = PackedB::default();
        p.repack(k, n, rhs, rs);
        p
    }

    /// Packs into this buffer, reusing its allocation.
    fn repack(&mut self, k: usize, n: usize, rhs: &[f32], (rrs, rcs): (usize, usize)) {
        assert!(
            k == 0 || n == 0 || rhs.len() > (k - 1) * rrs + (n - 1) * rcs,
            "sgemm: rhs too small"
        );
        let panels = n.div_ceil(NR);
        self.k = k;
        self.n = n;
        self.data.clear();
        self.data.resize(panels * k * NR, 0.0);
        for q in 0..panels {
            let (j0, w) = (q * NR, NR.min(n - q * NR));
            let panel = &mut self.data[q * k * NR..(q + 1) * k * NR];
            for (p, row) in panel.chunks_exact_mut(NR).enumerate() {
                if rcs == 1 {
                    row[..w].copy_from_slice(&rhs[p * rrs + j0..p * rrs + j0 + w]);
                } else {
                    for (c, x) in row[..w].iter_mut().enumerate() {
                        *x = rhs[p * rrs + (j0 + c) * rcs];
                    }
                }
            }
        }
    }

    /// Sets this buffer's shape to `k × n` and returns its panels for the caller to fill:
    /// panel `q` (columns `8q..8q+8`) at `q·k·8`, its depth `p` at `+ p·8`. Columns past `n` in
    /// the last panel may hold anything: the kernel computes them but never stores them.
    pub fn panels_mut(&mut self, k: usize, n: usize) -> &mut [f32] {
        self.k = k;
        self.n = n;
        self.data.resize(n.div_ceil(NR) * k * NR, 0.0);
        &mut self.data
    }

    /// Depth (B's rows).
    pub fn k(&self) -> usize {
        self.k
    }

    /// B's columns.
    pub fn n(&self) -> usize {
        self.n
    }
}

/// A (`m × k`) packed ahead in the blocks the GEMM reads: per block of [`MC`] rows × [`KC`]
/// depths, micro-panels of [`MR`] rows, depth-major (as [`pack_a`] packs them per call). Block
/// `(ic, pc)` (first row, first depth) starts at `ic·k + mcp·pc`, `mcp` the block's rows rounded
/// up to [`MR`]. A Conv's weight is packed so once, when the session is built.
#[derive(Clone, Debug, Default)]
pub struct PackedA {
    m: usize,
    k: usize,
    data: Vec<f32>,
}

impl PackedA {
    /// Packs A from `lhs` with element strides `(rs, cs)` (row, column).
    pub fn new(m: usize, k: usize, lhs: &[f32], ls: (usize, usize)) -> PackedA {
        assert!(lhs.len() >= extent(m, k, ls), "sgemm: lhs too small");
        let mut data = Vec::with_capacity(m.div_ceil(MR) * MR * k);
        let mut block = Vec::new();
        for ic in (0..m).step_by(MC) {
            let mc = MC.min(m - ic);
            for pc in (0..k).step_by(KC) {
                pack_a(&mut block, lhs, ls, ic, mc, pc, KC.min(k - pc));
                data.extend_from_slice(&block);
            }
        }
        PackedA { m, k, data }
    }

    /// A's rows.
    pub fn m(&self) -> usize {
        self.m
    }

    /// Depth (A's columns).
    pub fn k(&self) -> usize {
        self.k
    }
}

/// `dst = (dst if read_dst else 0) + scale · A · B` for A and B both packed ahead; `dst` holds
/// A's `m` rows of B's `n` columns with row stride `ldc` (so a block of columns of a wider
/// matrix can be written in place).
#[allow(clippy::too_many_arguments)]
pub fn sgemm_prepacked(
    dst: &mut [f32],
    ldc: usize,
    read_dst: bool,
    a: &PackedA,
    b: &PackedB,
    scale: f32,
    kernel: Kernel,
) {
    assert_eq!(a.k, b.k, "sgemm: A's depth differs from B's");
    drive(
        a.m,
        b.n,
        a.k,
        dst,
        ldc,
        read_dst,
        ASrc::Packed(a),
        BSrc::Packed(b),
        scale,
        kernel,
    );
}

/// `dst = (dst if read_dst else 0) + scale · A · B` for A packed ahead and a row-major B of
/// `n` columns (row stride `rrs`) read where it lies (its last partial panel packed).
#[allow(clippy::too_many_arguments)]
pub fn sgemm_a_packed(
    dst: &mut [f32],
    ldc: usize,
    read_dst: bool,
    a: &PackedA,
    n: usize,
    rhs: &[f32],
    rrs: usize,
    scale: f32,
    kernel: Kernel,
) {
    let mut b = SCRATCH.with(|s| std::mem::take(&mut s.borrow_mut().0));
    let full = n / NR;
    b.repack(a.k, n - full * NR, &rhs[full * NR..], (rrs, 1));
    let src = BSrc::Direct {
        rhs,
        rrs,
        full,
        tail: &b,
    };
    drive(
        a.m,
        n,
        a.k,
        dst,
        ldc,
        read_dst,
        ASrc::Packed(a),
        src,
        scale,
        kernel,
    );
    SCRATCH.with(|s| s.borrow_mut().0 = b);
}

/// Which micro-kernel runs: the SIMD128 one (on wasm with `simd128`; elsewhere the scalar twin,
/// which LLVM vectorises for the host) or the scalar twin.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kernel {
    Simd,
    Scalar,
}

thread_local! {
    /// Packing buffers reused across calls: B's panels (for a B not packed at load), A's block.
    static SCRATCH: RefCell<(PackedB, Vec<f32>)> = RefCell::default();
}

/// `dst[m×n] = (dst if read_dst else 0) + scale · lhs · rhs`, element strides (row, column).
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    read_dst: bool,
    lhs: &[f32],
    ls: (usize, usize),
    rhs: &[f32],
    rs: (usize, usize),
    scale: f32,
    kernel: Kernel,
) {
    // taken out of the thread-local (not borrowed) so a nested call cannot conflict
    let (mut b, mut a) = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    if rs.1 == 1 && m <= DIRECT_ROWS && k > 0 && n > 0 {
        // few rows of A: B's full panels are read where they lie (each is passed over only
        // ⌈m / 4⌉ times, so packing would cost as much as it saves); the last partial panel
        // is packed
        let full = n / NR;
        b.repack(k, n - full * NR, &rhs[full * NR..], rs);
        let src = BSrc::Direct {
            rhs,
            rrs: rs.0,
            full,
            tail: &b,
        };
        let a_src = ASrc::Strided {
            lhs,
            ls,
            buf: &mut a,
        };
        drive(m, n, k, dst, n, read_dst, a_src, src, scale, kernel);
    } else {
        b.repack(k, n, rhs, rs);
        let a_src = ASrc::Strided {
            lhs,
            ls,
            buf: &mut a,
        };
        drive(
            m,
            n,
            k,
            dst,
            n,
            read_dst,
            a_src,
            BSrc::Packed(&b),
            scale,
            kernel,
        );
    }
    SCRATCH.with(|s| *s.borrow_mut() = (b, a));
}

/// [`sgemm`] with B packed ahead ([`PackedB`]).
#[allow(clippy::too_many_arguments)]
pub fn sgemm_packed(
    m: usize,
    dst: &mut [f32],
    read_dst: bool,
    lhs: &[f32],
    ls: (usize, usize),
    b: &PackedB,
    scale: f32,
    kernel: Kernel,
) {
    // one contiguous row is its own micro-panel (`[p][r]` with one r): read in place, no copy
    // and no scratch (a batch-1 layer, an RNN step)
    let row = m == 1 && ls.1 == 1;
    let mut a = if row {
        Vec::new()
    } else {
        SCRATCH.with(|s| std::mem::take(&mut s.borrow_mut().1))
    };
    let a_src = if row {
        ASrc::Row(lhs)
    } else {
        ASrc::Strided {
            lhs,
            ls,
            buf: &mut a,
        }
    };
    drive(
        m,
        b.n,
        b.k,
        dst,
        b.n,
        read_dst,
        a_src,
        BSrc::Packed(b),
        scale,
        kernel,
    );
    if !row {
        SCRATCH.with(|s| s.borrow_mut().1 = a);
    }
}

/// Packs rows `i0..i0+mc`, depths `p0..p0+kc` of A into micro-panels of up to [`MR`] rows,
/// each `[p][r]`, micro-panel `t` at `t·MR·kc`.
#[allow(clippy::too_many_arguments)]
fn pack_a(
    buf: &mut Vec<f32>,
    lhs: &[f32],
    (lrs, lcs): (usize, usize),
    i0: usize,
    mc: usize,
    p0: usize,
    kc: usize,
) {
    buf.clear();
    buf.resize(mc.div_ceil(MR) * MR * kc, 0.0);
    for t in 0..mc.div_ceil(MR) {
        let r0 = t * MR;
        let rows = MR.min(mc - r0);
        let panel = &mut buf[t * MR * kc..t * MR * kc + rows * kc];
        for r in 0..rows {
            let base = (i0 + r0 + r) * lrs + p0 * lcs;
            for p in 0..kc {
                panel[p * rows + r] = lhs[base + p * lcs];
            }
        }
    }
}

/// Up to this many rows of A, a row-major B is read in place instead of packed.
const DIRECT_ROWS: usize = 256;

/// Where the kernel reads B.
#[derive(Clone, Copy)]
enum BSrc<'a> {
    Packed(&'a PackedB),
    /// Row-major B (row stride `rrs`): its first `full` panels read in place, the rest
    /// (fewer than 8 columns) from `tail`.
    Direct {
        rhs: &'a [f32],
        rrs: usize,
        full: usize,
        tail: &'a PackedB,
    },
}

impl BSrc<'_> {
    /// Panel `q` at depth `p`: its address, the step between depths, the step between panels.
    fn at(&self, q: usize, p: usize) -> (*const f32, usize, usize) {
        match *self {
            BSrc::Packed(b) => (b.data[q * b.k * NR + p * NR..].as_ptr(), NR, b.k * NR),
            BSrc::Direct { rhs, rrs, full, .. } if q < full => {
                (rhs[p * rrs + q * NR..].as_ptr(), rrs, NR)
            }
            BSrc::Direct { tail, .. } => (tail.data[p * NR..].as_ptr(), NR, 0),
        }
    }
}

/// Where the kernel reads A.
enum ASrc<'a> {
    /// Strided A, packed per block into `buf`.
    Strided {
        lhs: &'a [f32],
        ls: (usize, usize),
        buf: &'a mut Vec<f32>,
    },
    Packed(&'a PackedA),
    /// One contiguous row (`m` = 1, column stride 1): its depths `pc..pc+kc` are the block.
    Row(&'a [f32]),
}

impl ASrc<'_> {
    /// Block `(ic, pc)` (`mc` rows × `kc` depths) as micro-panels, packing it if need be.
    fn block(&mut self, ic: usize, mc: usize, pc: usize, kc: usize) -> &[f32] {
        match self {
            ASrc::Strided { lhs, ls, buf } => {
                pack_a(buf, lhs, *ls, ic, mc, pc, kc);
                buf
            }
            ASrc::Packed(a) => {
                let mcp = mc.div_ceil(MR) * MR;
                &a.data[ic * a.k + mcp * pc..][..mcp * kc]
            }
            ASrc::Row(lhs) => &lhs[pc..pc + kc],
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn drive(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    ldc: usize,
    read_dst: bool,
    mut a: ASrc<'_>,
    b: BSrc<'_>,
    scale: f32,
    kernel: Kernel,
) {
    assert!(ldc >= n, "sgemm: row stride below the columns");
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst.len() >= (m - 1) * ldc + n, "sgemm: dst too small");
    match &a {
        ASrc::Strided { lhs, ls, .. } => {
            assert!(lhs.len() >= extent(m, k, *ls), "sgemm: lhs too small")
        }
        ASrc::Packed(p) => assert!(p.m == m && p.k == k, "sgemm: packed A's shape"),
        ASrc::Row(lhs) => assert!(m == 1 && lhs.len() >= k, "sgemm: lhs too small"),
    }
    if k == 0 {
        if !read_dst {
            for row in dst.chunks_mut(ldc).take(m) {
                row[..n].fill(0.0);
            }
        }
        return;
    }
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            let load = read_dst || pc > 0;
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                let ablock = a.block(ic, mc, pc, kc).as_ptr();
                let mut jr = 0;
                while jr < nc {
                    let q = (jc + jr) / NR;
                    let cols_left = nc - jr;
                    let (bp, bstep, bstride) = b.at(q, pc);
                    // few rows in all: wide tiles over several panels
                    let wide = match mc {
                        1 => 4,
                        2 => 2,
                        _ => 1,
                    };
                    // (a wide tile never reaches a partial panel: its panels are all full)
                    let panels = if cols_left >= wide * NR { wide } else { 1 };
                    let cols = cols_left.min(panels * NR);
                    let mut t = 0;
                    if cols <= 2 && mc >= MR && kernel == Kernel::Simd {
                        // a last panel of 1 or 2 columns (N = H·W of a convolution is rarely a
                        // multiple of 8): column by column over the block's full micro-panels
                        // instead of 4 × 8 tiles that compute 6 or 7 columns for nothing
                        let tile = Tile {
                            kc,
                            a: ablock,
                            b: bp,
                            bstep,
                            bstride,
                            // SAFETY: row ic, column jc+jr of dst (checked above)
                            c: unsafe { dst.as_mut_ptr().add(ic * ldc + jc + jr) },
                            ldc,
                            cols,
                            load,
                            scale,
                        };
                        t = mc / MR;
                        // SAFETY: the block's first t full micro-panels, B's panel q and dst's
                        // rows ic..ic+4t, columns jc+jr.. (cols), as checked above
                        unsafe { simd_columns(&tile, t) };
                    }
                    while t * MR < mc {
                        let rows = MR.min(mc - t * MR);
                        // SAFETY: micro-panel t of the block (rows × kc of its MR × kc)
                        let ap = unsafe { ablock.add(t * MR * kc) };
                        let c0 = (ic + t * MR) * ldc + jc + jr;
                        // SAFETY: the tile's rows ic+t·MR.. (rows of them) and columns
                        // jc+jr.. (cols) lie inside dst (m rows of stride ldc, checked above)
                        let cp = unsafe { dst.as_mut_ptr().add(c0) };
                        let tile = Tile {
                            kc,
                            a: ap,
                            b: bp,
                            bstep,
                            bstride,
                            c: cp,
                            ldc,
                            cols,
                            load,
                            scale,
                        };
                        // SAFETY: `tile` points into A's block (rows × kc), B's panels and dst as
                        // checked above
                        unsafe {
                            match (rows, panels, kernel) {
                                (4, _, Kernel::Simd) => simd_tile::<4, 1>(&tile),
                                (3, _, Kernel::Simd) => simd_tile::<3, 1>(&tile),
                                (2, 2, Kernel::Simd) => simd_tile::<2, 2>(&tile),
                                (2, _, Kernel::Simd) => simd_tile::<2, 1>(&tile),
                                (1, 4, Kernel::Simd) => simd_tile::<1, 4>(&tile),
                                (1, _, Kernel::Simd) => simd_tile::<1, 1>(&tile),
                                (4, _, Kernel::Scalar) => scalar_tile::<4, 1>(&tile),
                                (3, _, Kernel::Scalar) => scalar_tile::<3, 1>(&tile),
                                (2, 2, Kernel::Scalar) => scalar_tile::<2, 2>(&tile),
                                (2, _, Kernel::Scalar) => scalar_tile::<2, 1>(&tile),
                                (1, 4, Kernel::Scalar) => scalar_tile::<1, 4>(&tile),
                                _ => scalar_tile::<1, 1>(&tile),
                            }
                        }
                        t += 1;
                    }
                    jr += cols;
                }
            }
        }
    }
}

/// One micro-kernel call: an `R × cols` tile of C (cols ≤ 8·P) over `kc` depths.
#[derive(Clone, Copy)]
struct Tile {
    kc: usize,
    /// A's micro-panel, `[p][r]` (R values per depth)
    a: *const f32,
    /// B's first panel at this depth; the next depth is `bstep` further, panel `i` is
    /// `i · bstride` further
    b: *const f32,
    bstep: usize,
    bstride: usize,
    /// C's tile, row stride `ldc`
    c: *mut f32,
    ldc: usize,
    cols: usize,
    /// add to C (else overwrite)
    load: bool,
    scale: f32,
}

/// The scalar twin: per output, `acc += a·b` over the depths in order, then
/// `c = c + scale·acc` (or `scale·acc`).
///
/// # Safety
/// `t` must point at valid memory as [`Tile`] describes.
#[inline(never)]
unsafe fn scalar_tile<const R: usize, const P: usize>(t: &Tile) {
    let mut acc = [[[0.0f32; NR]; P]; R];
    for p in 0..t.kc {
        for (r, ar) in acc.iter_mut().enumerate() {
            let x = *t.a.add(p * R + r);
            for (i, acc) in ar.iter_mut().enumerate() {
                let b = t.b.add(i * t.bstride + p * t.bstep);
                for (l, s) in acc.iter_mut().enumerate() {
                    *s += x * *b.add(l);
                }
            }
        }
    }
    for (r, ar) in acc.iter().enumerate() {
        for j in 0..t.cols {
            let v = t.scale * ar[j / NR][j % NR];
            let c = t.c.add(r * t.ldc + j);
            *c = if t.load { *c + v } else { v };
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd::{columns as simd_columns, tile as simd_tile};

/// Off wasm the SIMD kernel is the scalar twin (LLVM vectorises it for the host).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use scalar_tile as simd_tile;

/// Off wasm the column kernel is the scalar twin's 4-row tiles.
///
/// # Safety
/// As [`simd::columns`] (on wasm).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
unsafe fn simd_columns(t: &Tile, panels: usize) {
    for q in 0..panels {
        let tile = Tile {
            a: t.a.add(q * MR * t.kc),
            c: t.c.add(q * MR * t.ldc),
            ..*t
        };
        scalar_tile::<MR, 1>(&tile);
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{Tile, MR, NR};
    use core::arch::wasm32::*;

    /// `c + a·b`: a multiply and an add (rounded twice, as the scalar twin does).
    #[cfg(not(target_feature = "relaxed-simd"))]
    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        f32x4_add(c, f32x4_mul(a, b))
    }

    /// `c + a·b` in the relaxed-SIMD build: one fused multiply-add where the CPU has it (the
    /// engine may also round twice), so results may differ from the scalar twin in the last
    /// bits (bench-only build, `scripts/build-wasm.sh hearth-cpu-relaxed`).
    #[cfg(target_feature = "relaxed-simd")]
    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        f32x4_relaxed_madd(a, b, c)
    }

    /// The first `panels` (full) micro-panels of A's block times `t.cols` (1 or 2) columns of
    /// one B panel, for a last panel of few columns: per column, G = 4 micro-panels at a time
    /// in G f32x4 accumulators (a micro-panel's 4 values at one depth are one load), each
    /// output's sum in the scalar twin's order.
    ///
    /// # Safety
    /// `t.a` must hold `panels` micro-panels of `MR × t.kc`, `t.c` their `MR · panels` rows.
    #[inline(never)]
    pub(super) unsafe fn columns(t: &Tile, panels: usize) {
        let mut q = 0;
        while q < panels {
            if panels - q >= 4 {
                column_group::<4>(t, q);
                q += 4;
            } else {
                column_group::<1>(t, q);
                q += 1;
            }
        }
    }

    /// [`columns`] for micro-panels `q..q+G`.
    #[inline(always)]
    unsafe fn column_group<const G: usize>(t: &Tile, q: usize) {
        let a0 = t.a.add(q * MR * t.kc);
        for j in 0..t.cols {
            let mut acc = [f32x4_splat(0.0); G];
            let (mut a, mut b) = (a0, t.b.add(j));
            for _ in 0..t.kc {
                let x = v128_load32_splat(b as *const u32);
                for (i, acc) in acc.iter_mut().enumerate() {
                    *acc = madd(v128_load(a.add(i * MR * t.kc) as *const v128), x, *acc);
                }
                a = a.add(MR);
                b = b.add(t.bstep);
            }
            for (i, acc) in acc.iter().enumerate() {
                let mut v = [0.0f32; MR];
                v128_store(v.as_mut_ptr() as *mut v128, *acc);
                for (r, &x) in v.iter().enumerate() {
                    let v = t.scale * x;
                    let c = t.c.add(((q + i) * MR + r) * t.ldc + j);
                    *c = if t.load { *c + v } else { v };
                }
            }
        }
    }

    /// The SIMD128 micro-kernel: `R × 2·P` f32x4 accumulators.
    ///
    /// Each shape is its own wasm function (not inlined into `drive`): V8 optimises a hot
    /// function in one piece, and with every shape inlined `drive` took 60-550 ms to optimise
    /// (measured in Node, `--trace-wasm-compilation-times`), while the runs before that used the
    /// baseline code at about twice the time.
    ///
    /// # Safety
    /// `t` must point at valid memory as [`Tile`] describes.
    #[inline(never)]
    pub(super) unsafe fn tile<const R: usize, const P: usize>(t: &Tile) {
        let mut acc = [[[f32x4_splat(0.0); 2]; P]; R];
        let mut a = t.a;
        let mut b = t.b;
        for _ in 0..t.kc {
            let bv: [[v128; 2]; P] = core::array::from_fn(|i| {
                let q = b.add(i * t.bstride);
                [
                    v128_load(q as *const v128),
                    v128_load(q.add(4) as *const v128),
                ]
            });
            for (r, ar) in acc.iter_mut().enumerate() {
                let x = v128_load32_splat(a.add(r) as *const u32);
                for (i, ai) in ar.iter_mut().enumerate() {
                    ai[0] = madd(x, bv[i][0], ai[0]);
                    ai[1] = madd(x, bv[i][1], ai[1]);
                }
            }
            a = a.add(R);
            b = b.add(t.bstep);
        }
        let s = f32x4_splat(t.scale);
        if t.cols == P * NR {
            for (r, ar) in acc.iter().enumerate() {
                for (i, ai) in ar.iter().enumerate() {
                    for (h, v) in ai.iter().enumerate() {
                        let c = t.c.add(r * t.ldc + i * NR + h * 4) as *mut v128;
                        let v = f32x4_mul(s, *v);
                        v128_store(
                            c,
                            if t.load {
                                f32x4_add(v128_load(c), v)
                            } else {
                                v
                            },
                        );
                    }
                }
            }
        } else {
            for (r, ar) in acc.iter().enumerate() {
                let mut row = [0.0f32; 32];
                for (i, ai) in ar.iter().enumerate() {
                    for (h, v) in ai.iter().enumerate() {
                        v128_store(row[i * NR + h * 4..].as_mut_ptr() as *mut v128, *v);
                    }
                }
                for (j, &x) in row[..t.cols].iter().enumerate() {
                    let v = t.scale * x;
                    let c = t.c.add(r * t.ldc + j);
                    *c = if t.load { *c + v } else { v };
                }
            }
        }
    }
}

/// Runs the SIMD128 kernel against its scalar twin over edge tiles (every row and column
/// remainder, the column kernel of 1- and 2-column last panels), odd sizes, depths across block edges, transposed operands, `scale` and an added
/// C, with B packed per call and ahead and with both operands packed ahead (into a C of a
/// wider row stride); returns how many outputs are not bit-identical
/// (0 expected). Inside wasm this is the test hook `sgemmCheckForTest`.
#[cfg(any(test, feature = "test-api"))]
pub fn check_against_scalar() -> usize {
    let mut rng = crate::testing::Rng::new(16);
    let mut bad = 0;
    for &(m, n, k) in &[
        (1, 1, 1),
        (1, 40, 19),
        (2, 17, 33),
        (3, 9, 5),
        (4, 8, 8),
        (5, 13, 7),
        (7, 31, 300),
        (8, 16, 256),
        (9, 33, 257),
        // last panels of 1 and 2 columns over groups of 4 micro-panels and a single one
        (20, 17, 40),
        (64, 10, 300),
        (66, 70, 65),
        (67, 263, 520),
        (0, 3, 4),
        (3, 0, 4),
        (2, 2, 0),
    ] {
        for (case, &(ta, tb)) in [(false, false), (true, false), (false, true), (true, true)]
            .iter()
            .enumerate()
        {
            let lhs = rng.f32s(m * k, -1.0, 1.0);
            let rhs = rng.f32s(k * n, -1.0, 1.0);
            let ls = if ta { (1, m) } else { (k, 1) };
            let rs = if tb { (1, k) } else { (n, 1) };
            let c0 = rng.f32s(m * n, -1.0, 1.0);
            let (read, scale) = (case % 2 == 1, [1.0, 0.5, -2.0, 1.0][case]);
            let run = |kern: Kernel, packed: bool| {
                let mut c = c0.clone();
                if packed {
                    let b = PackedB::new(k, n, &rhs, rs);
                    sgemm_packed(m, &mut c, read, &lhs, ls, &b, scale, kern);
                } else {
                    sgemm(m, n, k, &mut c, read, &lhs, ls, &rhs, rs, scale, kern);
                }
                c
            };
            let want = run(Kernel::Scalar, false);
            // both operands packed ahead, into every other column of a wider C (row stride
            // 2n + 1)
            let ldc = 2 * n + 1;
            let both = |kern: Kernel| {
                let mut c = vec![0.0f32; m * ldc];
                for i in 0..m {
                    c[i * ldc..i * ldc + n].copy_from_slice(&c0[i * n..(i + 1) * n]);
                }
                let (a, b) = (PackedA::new(m, k, &lhs, ls), PackedB::new(k, n, &rhs, rs));
                sgemm_prepacked(&mut c, ldc, read, &a, &b, scale, kern);
                (0..m * n)
                    .map(|x| c[x / n * ldc + x % n])
                    .collect::<Vec<f32>>()
            };
            let outs = [
                run(Kernel::Simd, false),
                run(Kernel::Simd, true),
                both(Kernel::Simd),
                both(Kernel::Scalar),
            ];
            for got in outs {
                bad += crate::testing::bit_mismatches(&got, &want);
            }
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel (scalar twin off wasm) against f64 sums, including every tile remainder and
    /// block edge, transposed operands, scale and an added C.
    #[test]
    fn matches_f64_reference() {
        let mut rng = crate::testing::Rng::new(5);
        for &(m, n, k) in &[
            (1, 1, 1),
            (1, 33, 70),
            (2, 18, 9),
            (3, 5, 2),
            (5, 9, 300),
            (13, 270, 17),
            (70, 8, 513),
            (0, 3, 3),
            (2, 2, 0),
        ] {
            for (ta, tb) in [(false, false), (true, true), (true, false), (false, true)] {
                let lhs = rng.f32s(m * k, -1.0, 1.0);
                let rhs = rng.f32s(k * n, -1.0, 1.0);
                let ls = if ta { (1, m) } else { (k, 1) };
                let rs = if tb { (1, k) } else { (n, 1) };
                let c0 = rng.f32s(m * n, -1.0, 1.0);
                for (read, scale) in [(false, 1.0f32), (true, -0.5)] {
                    let mut got = c0.clone();
                    sgemm(
                        m,
                        n,
                        k,
                        &mut got,
                        read,
                        &lhs,
                        ls,
                        &rhs,
                        rs,
                        scale,
                        Kernel::Simd,
                    );
                    let mut packed = c0.clone();
                    let b = PackedB::new(k, n, &rhs, rs);
                    sgemm_packed(m, &mut packed, read, &lhs, ls, &b, scale, Kernel::Simd);
                    for i in 0..m {
                        for j in 0..n {
                            let s: f64 = (0..k)
                                .map(|p| {
                                    lhs[i * ls.0 + p * ls.1] as f64
                                        * rhs[p * rs.0 + j * rs.1] as f64
                                })
                                .sum();
                            let want =
                                if read { c0[i * n + j] as f64 } else { 0.0 } + scale as f64 * s;
                            let g = got[i * n + j] as f64;
                            assert!(
                                (g - want).abs()
                                    <= 1e-5 * (1.0 + k as f64).sqrt() * (1.0 + want.abs()),
                                "{m}×{n}×{k} ta={ta} tb={tb} read={read} at {i},{j}: {g} vs {want}"
                            );
                            assert_eq!(got[i * n + j].to_bits(), packed[i * n + j].to_bits());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn simd_matches_scalar_twin() {
        assert_eq!(check_against_scalar(), 0);
    }
}

/// Elements a `rows × cols` operand with element strides `(rs, cs)` spans in its slice.
pub(super) fn extent(rows: usize, cols: usize, (rs, cs): (usize, usize)) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * rs + (cols - 1) * cs + 1
    }
}
