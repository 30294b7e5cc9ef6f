//! Q4_K and Q6_K matrices packed for AVX-512 VNNI, and their products.
//!
//! candle 0.11 packs every Q4_K matrix into tiles that hold a weight in 6 bits (its scales
//! widened to f32 per row); its one-row kernel over them reads a third more than the file's
//! blocks, and its kernel over those blocks takes ~3× as long for a prompt's 20 rows (it unpacks
//! each block once per row). Q6_K matrices it keeps twice: the file's blocks for one row, tiles
//! of 10 bits a weight for more. The tiles here keep the file's 4-bit quants and 6-bit scales for
//! Q4_K (4.75 bits a weight) and each Q6_K quant as a whole byte (8.6: none is unpacked per use),
//! one copy for any number of rows, and run on candle's own thread pool. Over the 168 Q4_K
//! matrices of the 1.5B model on two Zen 4 cores (`time_products`): one row 20.6 ms against
//! candle's 38.1, four rows 38.3 against 63.4, 22 rows 143 against 153; a written token ×0.66
//! (bench/results/translation-2026-12-01.md). Its 28 Q6_K matrices: one row 6.4 ms against 5.4
//! (tiles that kept the 6-bit packing took 10–16), 22 rows 30 against 46, in 190 MB less.
//!
//! A tile is 16 rows × 256 columns: the quants of 4 columns side by side per row, 16 rows in a
//! 64-byte vector, so one `vpdpbusd` multiplies 4 columns of 16 rows by one broadcast of the
//! input. The input is quantized per 256 columns to 8 bits (as ggml's Q8_K: the block's largest
//! magnitude maps to −128). Each output row is computed by the same operations whatever the
//! number of input rows, so a position read in a pass of one row and in a pass of many gets the
//! same bits (the KV cache's resume relies on that).
#![allow(unsafe_code)]

use candle_core::{Result, Shape, Tensor, quantized::GgmlDType};
use half::f16;
use rayon::prelude::*;

/// Rows side by side in a tile.
const ROWS: usize = 16;
/// Columns of a Q4_K block (and of a tile).
const BLOCK: usize = 256;
/// Bytes of a Q4_K block in the file: d, dmin (f16), 12 bytes of 6-bit scales and mins, 128 of
/// 4-bit quants.
const Q4K_BYTES: usize = 144;
/// Input rows multiplied against one pass over a row group's tiles (each tile's unpacked quants
/// serve them all; 8 measured faster than 4 from 5 rows up); a pass is one unit of work for the
/// thread pool.
const CHUNK: usize = 8;

/// 16 rows × 256 columns of a Q4_K matrix.
#[repr(C)]
struct Q4Tile {
    /// Each row's block scale and min scale.
    d: [f32; ROWS],
    dmin: [f32; ROWS],
    /// Scale and min of each row's 8 sub-blocks of 32 columns: [sub-block][row].
    sc: [u8; 8 * ROWS],
    mn: [u8; 8 * ROWS],
    /// [8-column group (32)][row (16)][4 bytes]: byte j holds column 8g+j in its low nibble and
    /// 8g+j+4 in its high one.
    qs: [u8; BLOCK / 2 * ROWS],
}

/// Bytes of a Q6_K block: 128 of low 4 bits, 64 of high 2 bits, 16 8-bit scales, d (f16).
const Q6K_BYTES: usize = 210;

/// 16 rows × 256 columns of a Q6_K matrix, each quant a whole byte (plus 32: 0–63), so that none
/// is unpacked per use.
#[repr(C)]
struct Q6Tile {
    d: [f32; ROWS],
    /// Scale of each row's 16 sub-blocks of 16 columns (signed): [sub-block][row].
    sc: [u8; 16 * ROWS],
    /// [4-column group (64)][row (16)][4 bytes].
    qs: [u8; BLOCK * ROWS],
}

enum Tiles {
    Q4(Vec<Q4Tile>),
    Q6(Vec<Q6Tile>),
}

/// A Q4_K or Q6_K matrix (rows × cols) in tiles, row group by row group.
pub struct Tiled {
    tiles: Tiles,
    rows: usize,
    cols: usize,
}

/// Whether the tiles are used: where the CPU runs their kernels (AVX-512 with VNNI: Zen 4, Ice
/// Lake and later Xeons), unless `SOKUJI_LLM_TILES=0` leaves every product to candle (for
/// side-by-side comparisons).
pub fn supported() -> bool {
    use std::sync::OnceLock;
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("SOKUJI_LLM_TILES").as_deref() != Ok("0") && cpu_runs_kernel())
}

fn cpu_runs_kernel() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// ggml's 6-bit scale and min of sub-block `j` of a Q4_K block.
fn scale_min(j: usize, s: &[u8]) -> (u8, u8) {
    if j < 4 {
        (s[j] & 63, s[j + 4] & 63)
    } else {
        ((s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4))
    }
}

impl Tiled {
    /// Packs a matrix from its blocks as the file holds them; `None` where the kernels do not
    /// run (this CPU, a type other than Q4_K and Q6_K, a shape that is not whole tiles).
    pub fn pack(blocks: &[u8], dtype: GgmlDType, shape: &Shape) -> Result<Option<Self>> {
        let (rows, cols) = shape.dims2()?;
        let fits = rows > 0 && rows.is_multiple_of(ROWS) && cols > 0 && cols.is_multiple_of(BLOCK);
        let block_bytes = match dtype {
            GgmlDType::Q4K => Q4K_BYTES,
            GgmlDType::Q6K => Q6K_BYTES,
            _ => return Ok(None),
        };
        if !fits || !supported() {
            return Ok(None);
        }
        let per_row = cols / BLOCK;
        if blocks.len() != rows * per_row * block_bytes {
            candle_core::bail!("a {rows}×{cols} {dtype:?} matrix does not fit {} bytes", blocks.len());
        }
        // Block `b` of the 16 rows of group `g`, for tile `g · per_row + b`.
        let group = |i: usize| {
            let (group, b) = (i / per_row, i % per_row);
            (0..ROWS).map(move |r| {
                let at = ((group * ROWS + r) * per_row + b) * block_bytes;
                &blocks[at..at + block_bytes]
            })
        };
        let count = rows / ROWS * per_row;
        let tiles = candle_core::utils::with_threadpool(|| match dtype {
            GgmlDType::Q4K => Tiles::Q4((0..count).into_par_iter().map(|i| q4_tile(group(i))).collect()),
            _ => Tiles::Q6((0..count).into_par_iter().map(|i| q6_tile(group(i))).collect()),
        });
        Ok(Some(Self { tiles, rows, cols }))
    }

    /// `x` (…, cols) times the matrix transposed: (…, rows).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims();
        let Some((&cols, batch)) = dims.split_last() else { candle_core::bail!("a product of a scalar") };
        if cols != self.cols {
            candle_core::bail!("a product of {cols} columns with a {}×{} matrix", self.rows, self.cols);
        }
        let m: usize = batch.iter().product();
        let xs = x.flatten_all()?.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?;
        let out = self.product(&xs, m);
        let mut shape = dims.to_vec();
        if let Some(last) = shape.last_mut() {
            *last = self.rows;
        }
        Tensor::from_vec(out, shape, x.device())
    }

    /// `xs` (m rows of `cols`) times the matrix transposed, row-major (m, rows).
    fn product(&self, xs: &[f32], m: usize) -> Vec<f32> {
        thread_local! {
            // Reused from product to product: a prompt's buffers are ~1 MB, and glibc hands
            // buffers that large back to the system when freed, so each new one was paged in
            // again (measured: 22 rows through the 1.5B model's matrices took 1.5× as long).
            static SCRATCH: std::cell::RefCell<(Input, Vec<f32>)> = std::cell::RefCell::default();
        }
        SCRATCH.with_borrow_mut(|(input, units)| {
            let per_row = self.cols / BLOCK;
            input.quantize(xs);
            let input = &*input;
            // Units of one row group and up to `CHUNK` input rows, each writing (CHUNK, 16)
            // outputs; scattered into (m, rows) after.
            let chunks = m.div_ceil(CHUNK);
            units.resize(self.rows / ROWS * chunks * CHUNK * ROWS, 0.0);
            // On candle's own pool of spinning workers, which its kernels before and after this
            // one use: a second pool's threads would spin beside them on the same cores.
            let slots: Vec<std::sync::Mutex<&mut [f32]>> = units.chunks_mut(CHUNK * ROWS).map(Into::into).collect();
            candle_core::utils::barrier_pool().execute_chunked(slots.len(), |range| {
                for unit in range {
                    let (group, first) = (unit / chunks, unit % chunks * CHUNK);
                    let tiles = group * per_row..(group + 1) * per_row;
                    let mut out = slots[unit].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let n = (m - first).min(CHUNK);
                    match &self.tiles {
                        Tiles::Q4(t) => kernel::q4(&t[tiles], input, first, n, &mut out),
                        Tiles::Q6(t) => kernel::q6(&t[tiles], input, first, n, &mut out),
                    }
                }
            });
            drop(slots);
            let mut out = vec![0f32; self.rows * m];
            for (unit, part) in units.chunks_exact(CHUNK * ROWS).enumerate() {
                let (group, first) = (unit / chunks, unit % chunks * CHUNK);
                for (r, row) in part.chunks_exact(ROWS).take(m - first).enumerate() {
                    out[(first + r) * self.rows + group * ROWS..][..ROWS].copy_from_slice(row);
                }
            }
            out
        })
    }
}

/// One Q4_K tile from the same block of 16 rows.
fn q4_tile<'a>(blocks: impl Iterator<Item = &'a [u8]>) -> Q4Tile {
    let mut t =
        Q4Tile { d: [0.0; ROWS], dmin: [0.0; ROWS], sc: [0; 8 * ROWS], mn: [0; 8 * ROWS], qs: [0; BLOCK / 2 * ROWS] };
    for (r, blk) in blocks.enumerate() {
        t.d[r] = f16::from_le_bytes([blk[0], blk[1]]).to_f32();
        t.dmin[r] = f16::from_le_bytes([blk[2], blk[3]]).to_f32();
        let (scales, qs) = (&blk[4..16], &blk[16..]);
        for s in 0..8 {
            (t.sc[s * ROWS + r], t.mn[s * ROWS + r]) = scale_min(s, scales);
        }
        // 32-byte chunk c holds columns 64c..64c+32 in its low nibbles, 64c+32..64c+64 in its high.
        let q = |col: usize| {
            let byte = qs[col / 64 * 32 + col % 32];
            if col % 64 < 32 { byte & 0x0F } else { byte >> 4 }
        };
        for g in 0..BLOCK / 8 {
            for j in 0..4 {
                t.qs[(g * ROWS + r) * 4 + j] = q(8 * g + j) | (q(8 * g + j + 4) << 4);
            }
        }
    }
    t
}

/// One Q6_K tile from the same block of 16 rows.
fn q6_tile<'a>(blocks: impl Iterator<Item = &'a [u8]>) -> Q6Tile {
    let mut t = Q6Tile { d: [0.0; ROWS], sc: [0; 16 * ROWS], qs: [0; BLOCK * ROWS] };
    for (r, blk) in blocks.enumerate() {
        let (ql, qh, scales) = (&blk[..128], &blk[128..192], &blk[192..208]);
        t.d[r] = f16::from_le_bytes([blk[208], blk[209]]).to_f32();
        for (s, &sc) in scales.iter().enumerate() {
            t.sc[s * ROWS + r] = sc;
        }
        // ggml's layout: per half of 128 columns, quarter q of 32 columns: low bits in byte
        // l + 32·(q mod 2) of the half's 64 (high nibble for q ≥ 2), high bits at 2q of byte l.
        for col in 0..BLOCK {
            let (half, q, l) = (col / 128, col % 128 / 32, col % 32);
            let low = ql[half * 64 + l + 32 * (q % 2)];
            let low = if q < 2 { low & 0x0F } else { low >> 4 };
            t.qs[(col / 4 * ROWS + r) * 4 + col % 4] = low | (((qh[half * 32 + l] >> (2 * q)) & 3) << 4);
        }
    }
    t
}

/// Input rows quantized per 256 columns, block by block (row-major).
#[derive(Default)]
struct Input {
    /// The 8-bit values, four to an `i32` (little-endian).
    q: Vec<[i32; BLOCK / 4]>,
    /// Each block's scale, and the scaled sum of each of its 32-column sub-blocks (for the mins).
    d: Vec<f32>,
    sums: Vec<[f32; 8]>,
    /// The sum of each 16 values (Q6_K's offset of 32).
    sums16: Vec<[i32; 16]>,
}

impl Input {
    /// `xs` quantized, in place of what this held.
    fn quantize(&mut self, xs: &[f32]) {
        let blocks = xs.len() / BLOCK;
        self.q.resize(blocks, [0; BLOCK / 4]);
        self.d.resize(blocks, 0.0);
        self.sums.resize(blocks, [0.0; 8]);
        self.sums16.resize(blocks, [0; 16]);
        for (i, x) in xs.chunks_exact(BLOCK).enumerate() {
            let mut q = [0i8; BLOCK];
            let d = kernel::quantize(x, &mut q);
            self.d[i] = d;
            for (s, part) in q.chunks_exact(16).enumerate() {
                self.sums16[i][s] = part.iter().map(|&v| i32::from(v)).sum();
            }
            for s in 0..8 {
                self.sums[i][s] = d * (self.sums16[i][2 * s] + self.sums16[i][2 * s + 1]) as f32;
            }
            for (o, four) in self.q[i].iter_mut().zip(q.chunks_exact(4)) {
                *o = i32::from_le_bytes([four[0] as u8, four[1] as u8, four[2] as u8, four[3] as u8]);
            }
        }
    }
}

/// One block of input in 8 bits, as ggml's Q8_K (the value of largest magnitude maps to −128);
/// returns its scale.
#[inline(always)]
fn quantize_block(x: &[f32], q: &mut [i8; BLOCK]) -> f32 {
    // The largest magnitude first (a reduction the compiler vectorizes), then its first value.
    let amax = x.iter().fold(0f32, |a, v| a.max(v.abs()));
    let Some(&max) = x.iter().find(|v| v.abs() == amax).filter(|_| amax > 0.0) else { return 0.0 };
    let scale = -128.0 / max;
    for (o, &v) in q.iter_mut().zip(x) {
        *o = (scale * v).round_ties_even().min(127.0) as i8;
    }
    1.0 / scale
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use super::{BLOCK, CHUNK, Input, Q4Tile, Q6Tile, ROWS};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn q6_rows<const R: usize>(tiles: &[Q6Tile], input: &Input, first: usize, out: &mut [f32]) {
        let per_row = tiles.len();
        let mut acc = [_mm512_setzero_ps(); R];
        for (b, t) in tiles.iter().enumerate() {
            let at: [usize; R] = std::array::from_fn(|r| (first + r) * per_row + b);
            let (x, sums) = (at.map(|i| &input.q[i]), at.map(|i| &input.sums16[i]));
            // Σ over sub-blocks of scale × (quants · input) in integers: at most 16 × 128 × 16 ×
            // 63 × 128, inside an i32.
            let mut block = [_mm512_setzero_si512(); R];
            for sub in 0..16 {
                let v: [__m512i; 4] = std::array::from_fn(|k| load(&t.qs[(4 * sub + k) * 64..]));
                let bytes = &t.sc[sub * ROWS..][..ROWS];
                // SAFETY: `bytes` holds the 16 bytes read.
                let sc = _mm512_cvtepi8_epi32(unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) });
                for r in 0..R {
                    let mut dots = [_mm512_setzero_si512(); 2];
                    for (k, v) in v.iter().enumerate() {
                        dots[k % 2] = _mm512_dpbusd_epi32(dots[k % 2], *v, _mm512_set1_epi32(x[r][4 * sub + k]));
                    }
                    // The quants are stored plus 32.
                    let dot =
                        _mm512_sub_epi32(_mm512_add_epi32(dots[0], dots[1]), _mm512_set1_epi32(32 * sums[r][sub]));
                    block[r] = _mm512_add_epi32(block[r], _mm512_mullo_epi32(dot, sc));
                }
            }
            let d = load_f32(&t.d);
            for r in 0..R {
                let dx = _mm512_mul_ps(d, _mm512_set1_ps(input.d[at[r]]));
                acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(block[r]), dx, acc[r]);
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let o = &mut out[r * ROWS..][..ROWS];
            // SAFETY: `o` holds the 16 floats written.
            unsafe { _mm512_storeu_ps(o.as_mut_ptr(), *acc) };
        }
    }

    /// [`super::quantize_block`] compiled for AVX-512 (its rounding is one instruction there).
    pub(super) fn quantize(x: &[f32], q: &mut [i8; BLOCK]) -> f32 {
        #[target_feature(enable = "avx512f,avx512bw")]
        fn wide(x: &[f32], q: &mut [i8; BLOCK]) -> f32 {
            super::quantize_block(x, q)
        }
        // SAFETY: `Tiled` is only built where `supported()` found these features.
        unsafe { wide(x, q) }
    }

    /// Calls `$rows::<n>` for the `n` (1 to [`CHUNK`]) rows of a unit: the kernels keep one
    /// accumulator per row in registers, so the count is a constant.
    macro_rules! by_rows {
        ($rows:ident, $n:expr, $($arg:expr),*) => {{
            const _: () = assert!(CHUNK == 8);
            // SAFETY: `Tiled` is only built where `supported()` found the features the kernels
            // enable.
            unsafe {
                match $n {
                    8 => $rows::<8>($($arg),*),
                    7 => $rows::<7>($($arg),*),
                    6 => $rows::<6>($($arg),*),
                    5 => $rows::<5>($($arg),*),
                    4 => $rows::<4>($($arg),*),
                    3 => $rows::<3>($($arg),*),
                    2 => $rows::<2>($($arg),*),
                    _ => $rows::<1>($($arg),*),
                }
            }
        }};
    }

    /// Input rows `first..first + n` (n ≤ [`CHUNK`]) times one row group's Q4_K tiles, into
    /// `out[row - first][0..16]`.
    pub(super) fn q4(tiles: &[Q4Tile], input: &Input, first: usize, n: usize, out: &mut [f32]) {
        by_rows!(q4_rows, n, tiles, input, first, out)
    }

    /// As [`q4`], over Q6_K tiles.
    pub(super) fn q6(tiles: &[Q6Tile], input: &Input, first: usize, n: usize, out: &mut [f32]) {
        by_rows!(q6_rows, n, tiles, input, first, out)
    }

    /// 64 bytes.
    #[target_feature(enable = "avx512f")]
    fn load(bytes: &[u8]) -> __m512i {
        let bytes = &bytes[..64];
        // SAFETY: `bytes` holds the 64 bytes read.
        unsafe { _mm512_loadu_si512(bytes.as_ptr().cast()) }
    }

    /// 16 floats.
    #[target_feature(enable = "avx512f")]
    fn load_f32(xs: &[f32; ROWS]) -> __m512 {
        // SAFETY: `xs` holds the 16 floats read.
        unsafe { _mm512_loadu_ps(xs.as_ptr()) }
    }

    /// 16 bytes as floats.
    #[target_feature(enable = "avx512f")]
    fn widen(bytes: &[u8]) -> __m512 {
        let bytes = &bytes[..ROWS];
        // SAFETY: `bytes` holds the 16 bytes read.
        let v = unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) };
        _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(v))
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn q4_rows<const R: usize>(tiles: &[Q4Tile], input: &Input, first: usize, out: &mut [f32]) {
        let per_row = tiles.len();
        let nibble = _mm512_set1_epi8(0x0F);
        let mut acc = [_mm512_setzero_ps(); R];
        for (b, t) in tiles.iter().enumerate() {
            let (d, dmin) = (load_f32(&t.d), load_f32(&t.dmin));
            let at: [usize; R] = std::array::from_fn(|r| (first + r) * per_row + b);
            let (x, sums) = (at.map(|i| &input.q[i]), at.map(|i| &input.sums[i]));
            let dx = at.map(|i| _mm512_mul_ps(d, _mm512_set1_ps(input.d[i])));
            // Two sub-blocks at a time: independent sums, so that no chain of `vpdpbusd` waits on
            // the one before (as candle's kernel does).
            for pair in 0..4 {
                let mut dots = [[_mm512_setzero_si512(); R]; 2];
                for g4 in 0..4 {
                    for (half, dots) in dots.iter_mut().enumerate() {
                        let g = (2 * pair + half) * 4 + g4;
                        let v = load(&t.qs[g * 64..]);
                        let lo = _mm512_and_si512(v, nibble);
                        let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(v), nibble);
                        for (dot, x) in dots.iter_mut().zip(x) {
                            *dot = _mm512_dpbusd_epi32(*dot, lo, _mm512_set1_epi32(x[2 * g]));
                            *dot = _mm512_dpbusd_epi32(*dot, hi, _mm512_set1_epi32(x[2 * g + 1]));
                        }
                    }
                }
                for (half, dots) in dots.iter().enumerate() {
                    let sub = 2 * pair + half;
                    let sc = widen(&t.sc[sub * ROWS..]);
                    let mn = _mm512_mul_ps(dmin, widen(&t.mn[sub * ROWS..]));
                    for r in 0..R {
                        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dots[r]), _mm512_mul_ps(sc, dx[r]), acc[r]);
                        acc[r] = _mm512_fnmadd_ps(mn, _mm512_set1_ps(sums[r][sub]), acc[r]);
                    }
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let o = &mut out[r * ROWS..][..ROWS];
            // SAFETY: `o` holds the 16 floats written.
            unsafe { _mm512_storeu_ps(o.as_mut_ptr(), *acc) };
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod kernel {
    use super::{BLOCK, Input, Q4Tile, Q6Tile};

    pub(super) fn q6(_: &[Q6Tile], _: &Input, _: usize, _: usize, _: &mut [f32]) {
        unreachable!("tiled products run on x86-64 only")
    }

    pub(super) fn quantize(x: &[f32], q: &mut [i8; BLOCK]) -> f32 {
        super::quantize_block(x, q)
    }

    /// Never called: `Tiled` is only built where `supported()`, which is x86-64 only.
    pub(super) fn q4(_: &[Q4Tile], _: &Input, _: usize, _: usize, _: &mut [f32]) {
        unreachable!("tiled products run on x86-64 only")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{
        Device, Module,
        quantized::{QMatMul, QTensor},
    };

    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0
            })
            .collect()
    }

    /// A matrix quantized by candle, and its bytes as a GGUF file holds them.
    fn matrix(rows: usize, cols: usize, dtype: GgmlDType) -> (QTensor, Vec<u8>) {
        let w = Tensor::from_vec(random(rows * cols, rows as u64), (rows, cols), &Device::Cpu).expect("tensor");
        let q = QTensor::quantize(&w, dtype).expect("quantize");
        let bytes = q.data().expect("data").into_owned();
        (q, bytes)
    }

    /// The input as the kernel reads it: each value its 8-bit code times its block's scale.
    fn dequantized(input: &Input) -> Vec<f32> {
        let bytes = input.q.iter().flatten().flat_map(|q| q.to_le_bytes());
        bytes.enumerate().map(|(i, b)| f32::from(b as i8) * input.d[i / BLOCK]).collect()
    }

    #[test]
    fn products_are_the_dequantized_weights_times_the_quantized_input() {
        if !supported() {
            eprintln!("skipped: the tiles are not used (no AVX-512 VNNI, or SOKUJI_LLM_TILES=0)");
            return;
        }
        let types = [GgmlDType::Q4K, GgmlDType::Q6K];
        for (dtype, (rows, cols)) in types.into_iter().flat_map(|t| [(32, 256), (48, 768), (16, 1536)].map(|s| (t, s)))
        {
            let (q, bytes) = matrix(rows, cols, dtype);
            let tiled = Tiled::pack(&bytes, q.dtype(), q.shape()).expect("pack").expect("fits");
            let w = q.dequantize(&Device::Cpu).expect("deq").flatten_all().expect("f").to_vec1::<f32>().expect("v");
            let candle = QMatMul::from_qtensor(q).expect("mm");
            for m in [1, 2, 3, 4, 5, 9, 20] {
                let xs = random(m * cols, m as u64 + 7);
                let got = tiled.product(&xs, m);
                let mut input = Input::default();
                input.quantize(&xs);
                let x = dequantized(&input);
                let exact: Vec<f32> = (0..m * rows)
                    .map(|i| {
                        let (r, n) = (i / rows, i % rows);
                        let pairs = w[n * cols..][..cols].iter().zip(&x[r * cols..][..cols]);
                        pairs.map(|(a, b)| f64::from(*a) * f64::from(*b)).sum::<f64>() as f32
                    })
                    .collect();
                let what = format!("{dtype:?} {rows}×{cols}, m={m}");
                assert_eq!(got.len(), exact.len(), "{what}");
                let scale = exact.iter().fold(0f32, |a, v| a.max(v.abs()));
                for (i, (g, e)) in got.iter().zip(&exact).enumerate() {
                    assert!((g - e).abs() <= 1e-5 * scale, "{what}, output {i}: {g} against {e}");
                }
                // And candle's own product, which quantizes the input its own way: within the
                // rounding of an 8-bit input.
                let t = Tensor::from_vec(xs, (1, m, cols), &Device::Cpu).expect("x");
                let want = candle.forward(&t).expect("candle").flatten_all().expect("f").to_vec1::<f32>().expect("v");
                for (g, c) in got.iter().zip(&want) {
                    assert!((g - c).abs() <= 0.03 * scale, "{what}: {g} against candle's {c}");
                }
            }
        }
    }

    /// The KV cache resumes a prompt from any position: a row's product must not depend on the
    /// rows beside it.
    #[test]
    fn each_row_gets_the_same_bits_alone_or_among_others() {
        if !supported() {
            eprintln!("skipped: the tiles are not used (no AVX-512 VNNI, or SOKUJI_LLM_TILES=0)");
            return;
        }
        for dtype in [GgmlDType::Q4K, GgmlDType::Q6K] {
            let (q, bytes) = matrix(64, 512, dtype);
            let tiled = Tiled::pack(&bytes, q.dtype(), q.shape()).expect("pack").expect("fits");
            // 11 rows: a unit of 8 and one of 3.
            let xs = random(11 * 512, 3);
            let all = tiled.product(&xs, 11);
            for r in 0..11 {
                assert_eq!(tiled.product(&xs[r * 512..][..512], 1), all[r * 64..][..64], "{dtype:?} row {r}");
            }
            let two = tiled.product(&xs[5 * 512..][..2 * 512], 2);
            assert_eq!(two, all[5 * 64..][..2 * 64], "{dtype:?}");
        }
    }

    #[test]
    fn other_types_and_shapes_stay_with_candle() {
        let (q, bytes) = matrix(32, 256, GgmlDType::Q8_0);
        assert!(Tiled::pack(&bytes, q.dtype(), q.shape()).expect("pack").is_none(), "Q8_0");
        let (q, bytes) = matrix(40, 256, GgmlDType::Q4K);
        assert!(Tiled::pack(&bytes, q.dtype(), q.shape()).expect("pack").is_none(), "40 rows: not whole tiles");
        let (q, bytes) = matrix(32, 256, GgmlDType::Q4K);
        let cut = Tiled::pack(&bytes[..Q4K_BYTES], q.dtype(), q.shape());
        assert!(cut.is_err() || !supported(), "bytes cut short");
    }

    /// The kernels' speed on the real model beside candle's (a benchmark, not a check):
    /// `cargo test --release -p sokuji-llm --lib time_products -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn time_products() {
        let dir = std::env::var("SOKUJI_MODEL_DIR").unwrap_or_else(|_| "models".into());
        let path = std::path::Path::new(&dir).join("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf");
        let w = crate::mapped::Weights::open(&path).expect("the shipped model");
        for kind in [GgmlDType::Q4K, GgmlDType::Q6K] {
            let mut pairs = Vec::new();
            for (name, info) in &w.content.tensor_infos {
                if !name.starts_with("blk.") || info.ggml_dtype != kind {
                    continue;
                }
                let (bytes, dtype, shape) = w.raw(name).expect("raw");
                let tiled = Tiled::pack(bytes, dtype, shape).expect("pack").expect("the tiles run here");
                let candle = QMatMul::from_qtensor(w.tensor(name, &Device::Cpu).expect("tensor")).expect("mm");
                pairs.push((tiled, candle, shape.dims2().expect("matrix").1));
            }
            for m in [1usize, 2, 4, 10, 22] {
                let (mut ours, mut theirs) = (Vec::new(), Vec::new());
                for _ in 0..15 {
                    for (times, tiled) in [(&mut ours, true), (&mut theirs, false)] {
                        let started = std::time::Instant::now();
                        for (t, c, cols) in &pairs {
                            let x = Tensor::ones((m, *cols), candle_core::DType::F32, &Device::Cpu).expect("x");
                            if tiled { t.forward(&x) } else { c.forward(&x) }.expect("product");
                        }
                        times.push(started.elapsed().as_secs_f64() * 1e3);
                    }
                }
                ours.sort_by(f64::total_cmp);
                theirs.sort_by(f64::total_cmp);
                let n = pairs.len();
                eprintln!(
                    "{n} {kind:?} matrices, {m} rows: tiles {:.1} ms, candle {:.1} ms (medians of 15, alternating)",
                    ours[7], theirs[7]
                );
            }
        }
    }
}
