//! GGUF weights read in place from a memory map of the file.
//!
//! candle 0.11's x86 kernels repack every Q4_K matrix into interleaved tiles on first use and keep
//! the tiles beside the original storage for good (`quantized/repack.rs`), and this crate packs
//! them into its own where it can (`tiled`, from [`Weights::raw`]); read onto the heap, the
//! originals are a second copy (~0.6 GB for a 1.5B model) that nothing reads again. Mapped from
//! the file they are clean page-cache pages: once a matrix is packed they are handed back
//! ([`Weights::release`], `MADV_DONTNEED`), and if anything reads them again (a kernel that does
//! not pack, such as Q6_K's matrix-vector product, or a CPU without AVX2) they come back from the
//! file. Pages that are never read are never resident: of the token embeddings, only the rows of
//! the tokens seen.
#![allow(unsafe_code)]

use candle_core::{
    CpuStorage, Device, Result, Shape,
    quantized::{
        GgmlDType, QStorage, QTensor, QuantizedType,
        gguf_file::{Content, TensorInfo},
        k_quants::{self, GgmlType},
    },
};
use half::f16;
use memmap2::{Mmap, UncheckedAdvice};
use std::{fs::File, io::Cursor, marker::PhantomData, path::Path, sync::Arc};

/// A GGUF file mapped into memory, with its header.
pub struct Weights {
    map: Arc<Mmap>,
    pub content: Content,
}

impl Weights {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        // SAFETY: the map is read-only and the models directory's files are replaced by rename,
        // never rewritten in place (`sokuji models fetch`), so the mapped bytes do not change.
        let map = unsafe { Mmap::map(&file)? };
        let content = Content::read(&mut Cursor::new(&map[..])).map_err(std::io::Error::other)?;
        Ok(Self { map: Arc::new(map), content })
    }

    fn info(&self, name: &str) -> Result<&TensorInfo> {
        self.content.tensor_infos.get(name).ok_or_else(|| candle_core::Error::Msg(format!("GGUF lacks tensor {name}")))
    }

    /// Where a tensor's bytes lie in the file.
    fn range(&self, name: &str, info: &TensorInfo) -> Result<(usize, usize)> {
        let elems = info.shape.elem_count();
        let dtype = info.ggml_dtype;
        let len = elems / dtype.block_size() * dtype.type_size();
        let start = usize::try_from(self.content.tensor_data_offset + info.offset)
            .map_err(|_| candle_core::Error::Msg(format!("tensor {name} lies beyond the address space")))?;
        if start.checked_add(len).is_none_or(|end| end > self.map.len()) {
            candle_core::bail!("tensor {name} runs past the end of the file");
        }
        Ok((start, len))
    }

    /// A tensor: quantized ones read in place, float ones (norms, biases: small) copied.
    pub fn tensor(&self, name: &str, device: &Device) -> Result<QTensor> {
        let info = self.info(name)?;
        let (start, len) = self.range(name, info)?;
        let mapped = |storage: Box<dyn QuantizedType>| QTensor::new(QStorage::Cpu(storage), info.shape.clone());
        use k_quants::*;
        match info.ggml_dtype {
            GgmlDType::Q4_0 => mapped(Mapped::<BlockQ4_0>::boxed(&self.map, start, len)?),
            GgmlDType::Q5_0 => mapped(Mapped::<BlockQ5_0>::boxed(&self.map, start, len)?),
            GgmlDType::Q8_0 => mapped(Mapped::<BlockQ8_0>::boxed(&self.map, start, len)?),
            GgmlDType::Q2K => mapped(Mapped::<BlockQ2K>::boxed(&self.map, start, len)?),
            GgmlDType::Q3K => mapped(Mapped::<BlockQ3K>::boxed(&self.map, start, len)?),
            GgmlDType::Q4K => mapped(Mapped::<BlockQ4K>::boxed(&self.map, start, len)?),
            GgmlDType::Q5K => mapped(Mapped::<BlockQ5K>::boxed(&self.map, start, len)?),
            GgmlDType::Q6K => mapped(Mapped::<BlockQ6K>::boxed(&self.map, start, len)?),
            _ => self.content.tensor(&mut Cursor::new(&self.map[..]), name, device),
        }
    }

    /// A tensor's bytes as the file holds them, with its type and shape.
    pub fn raw(&self, name: &str) -> Result<(&[u8], GgmlDType, &Shape)> {
        let info = self.info(name)?;
        let (start, len) = self.range(name, info)?;
        Ok((&self.map[start..start + len], info.ggml_dtype, &info.shape))
    }

    /// Matrix `name`'s rows in two matrices of their own, on the heap: the rows `first` marks
    /// (rows past its end are not marked), then the others, each kept in order; `None` for a part
    /// that gets no row. The file's pages are handed back as the rows are copied, so the matrix is
    /// never held twice (the split is the output projection's, `qwen2::Output`).
    pub fn split_rows(&self, name: &str, first: &[bool]) -> Result<[Option<QTensor>; 2]> {
        let info = self.info(name)?;
        let (start, len) = self.range(name, info)?;
        use k_quants::*;
        match info.ggml_dtype {
            GgmlDType::Q4_0 => self.split::<BlockQ4_0>(info, start, len, first),
            GgmlDType::Q5_0 => self.split::<BlockQ5_0>(info, start, len, first),
            GgmlDType::Q8_0 => self.split::<BlockQ8_0>(info, start, len, first),
            GgmlDType::Q2K => self.split::<BlockQ2K>(info, start, len, first),
            GgmlDType::Q3K => self.split::<BlockQ3K>(info, start, len, first),
            GgmlDType::Q4K => self.split::<BlockQ4K>(info, start, len, first),
            GgmlDType::Q5K => self.split::<BlockQ5K>(info, start, len, first),
            GgmlDType::Q6K => self.split::<BlockQ6K>(info, start, len, first),
            other => candle_core::bail!("tensor {name}: splitting {other:?} rows is not supported"),
        }
    }

    fn split<T: GgmlType + Send + Sync + 'static>(
        &self,
        info: &TensorInfo,
        start: usize,
        len: usize,
        first: &[bool],
    ) -> Result<[Option<QTensor>; 2]> {
        let (rows, cols) = info.shape.dims2()?;
        let mapped = Mapped::<T>::new(&self.map, start, len)?;
        let blocks = mapped.slice();
        let per_row = cols / T::BLCK_SIZE;
        if !cols.is_multiple_of(T::BLCK_SIZE) || blocks.len() != rows * per_row {
            candle_core::bail!("a {rows}×{cols} matrix does not fit {} {:?} blocks", blocks.len(), T::DTYPE);
        }
        let marked = (0..rows).filter(|&r| first.get(r).copied().unwrap_or(false)).count();
        let mut parts = [Vec::with_capacity(marked * per_row), Vec::with_capacity((rows - marked) * per_row)];
        // Handed back a few pages at a time behind the copy; `released` is page-aligned.
        let mut released = start.div_ceil(PAGE) * PAGE;
        for (r, row) in blocks.chunks_exact(per_row).enumerate() {
            parts[usize::from(!first.get(r).copied().unwrap_or(false))].extend_from_slice(row);
            let copied = (start + (r + 1) * per_row * std::mem::size_of::<T>()) / PAGE * PAGE;
            if copied >= released + RELEASE_EVERY {
                self.advise_dont_need(released, copied)?;
                released = copied;
            }
        }
        self.advise_dont_need(released, (start + len) / PAGE * PAGE)?;
        let [a, b] = parts.map(|blocks| {
            let n = blocks.len() / per_row;
            (n > 0).then(|| QTensor::new(QStorage::Cpu(Box::new(blocks)), (n, cols)))
        });
        Ok([a.transpose()?, b.transpose()?])
    }

    /// Hands a tensor's pages back to the kernel; read again, they come back from the file.
    pub fn release(&self, name: &str) -> Result<()> {
        let (start, len) = self.range(name, self.info(name)?)?;
        // Whole pages inside the tensor only: a page it shares with a neighbour stays.
        self.advise_dont_need(start.div_ceil(PAGE) * PAGE, (start + len) / PAGE * PAGE)
    }

    /// Hands back the pages from `first` to `end` (page-aligned offsets into the map).
    fn advise_dont_need(&self, first: usize, end: usize) -> Result<()> {
        if end > first {
            // SAFETY: a read-only shared mapping of a file: dropped pages are read again from the
            // file on the next access, with the same bytes.
            unsafe { self.map.unchecked_advise_range(UncheckedAdvice::DontNeed, first, end - first) }
                .map_err(|e| candle_core::Error::Msg(format!("madvise: {e}")))?;
        }
        Ok(())
    }
}

/// Every Linux target Sokuji builds for has 4 KiB pages or a multiple; a larger real page only
/// makes `release` hand back fewer pages than it could.
const PAGE: usize = 4096;
/// Bytes copied between two hand-backs while a matrix is split.
const RELEASE_EVERY: usize = 1 << 20;

/// Blocks of one quantized type, in place in the map.
struct Mapped<T> {
    map: Arc<Mmap>,
    start: usize,
    blocks: usize,
    _type: PhantomData<T>,
}

impl<T: GgmlType + Send + Sync + 'static> Mapped<T> {
    fn boxed(map: &Arc<Mmap>, start: usize, len: usize) -> Result<Box<dyn QuantizedType>> {
        Ok(Box::new(Self::new(map, start, len)?))
    }

    fn new(map: &Arc<Mmap>, start: usize, len: usize) -> Result<Self> {
        let size = std::mem::size_of::<T>();
        if !len.is_multiple_of(size) || !(map.as_ptr() as usize + start).is_multiple_of(std::mem::align_of::<T>()) {
            candle_core::bail!("{:?} tensor at byte {start} is misaligned or cut short", T::DTYPE);
        }
        Ok(Self { map: map.clone(), start, blocks: len / size, _type: PhantomData })
    }

    fn slice(&self) -> &[T] {
        // SAFETY: `boxed` checked that the range lies in the map, is aligned for `T` and holds
        // whole blocks; GGML blocks are plain data (integers and halves), valid for any bytes.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(self.start).cast::<T>(), self.blocks) }
    }
}

impl<T: GgmlType + Send + Sync + 'static> QuantizedType for Mapped<T> {
    fn dtype(&self) -> GgmlDType {
        T::DTYPE
    }

    fn matmul_t(&self, mkn: (usize, usize, usize), lhs: &[f32], dst: &mut [f32]) -> Result<()> {
        k_quants::matmul(mkn, lhs, self.slice(), dst)
    }

    fn matmul_t_f16(&self, mkn: (usize, usize, usize), lhs: &[f16], dst: &mut [f16]) -> Result<()> {
        k_quants::matmul_f16(mkn, lhs, self.slice(), dst)
    }

    fn embedding(&self, ids: &[u32], rows: usize, hidden: usize) -> Result<CpuStorage> {
        let row_blocks = hidden / T::BLCK_SIZE;
        if !hidden.is_multiple_of(T::BLCK_SIZE) || self.blocks != rows * row_blocks {
            candle_core::bail!("embedding of {rows}×{hidden} does not fit {} {:?} blocks", self.blocks, T::DTYPE);
        }
        let mut out = vec![0f32; ids.len() * hidden];
        for (dst, &id) in out.chunks_exact_mut(hidden).zip(ids) {
            let row = id as usize;
            if row >= rows {
                candle_core::bail!("embedding id {row} is out of range for {rows} rows");
            }
            T::to_float(&self.slice()[row * row_blocks..(row + 1) * row_blocks], dst);
        }
        Ok(CpuStorage::F32(out))
    }

    fn dequantize(&self, elem_count: usize) -> Result<CpuStorage> {
        let mut ys = vec![0f32; elem_count];
        T::to_float(self.slice(), &mut ys);
        Ok(CpuStorage::F32(ys))
    }

    fn storage_size_in_bytes(&self) -> usize {
        self.blocks * std::mem::size_of::<T>()
    }

    fn as_ptr(&self) -> *const u8 {
        self.slice().as_ptr().cast()
    }

    fn block_size(&self) -> usize {
        T::BLCK_SIZE
    }

    /// Mapped weights are read-only; candle quantizes only into storage it allocates itself.
    fn from_float(&mut self, _xs: &[f32]) {
        tracing::error!("quantizing into read-only mapped GGUF weights: ignored");
    }

    fn from_float_imatrix(&mut self, _xs: &[f32], _imatrix_weights: &[f32], _n_per_row: usize) {
        tracing::error!("quantizing into read-only mapped GGUF weights: ignored");
    }

    fn size(&self) -> usize {
        self.storage_size_in_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Module, Tensor, quantized::QMatMul};

    /// A GGUF file of two matrices written by candle, read back mapped.
    fn weights(dir: &Path) -> (Weights, Vec<QTensor>) {
        let dev = Device::Cpu;
        let made: Vec<QTensor> = [(GgmlDType::Q4K, 7u64), (GgmlDType::Q6K, 11)]
            .into_iter()
            .map(|(dtype, seed)| {
                let xs: Vec<f32> = (0..64 * 512).map(|i| ((i as u64 * seed % 97) as f32 / 48.5) - 1.0).collect();
                QTensor::quantize(&Tensor::from_vec(xs, (64, 512), &dev).expect("tensor"), dtype).expect("quantize")
            })
            .collect();
        let path = dir.join("m.gguf");
        let mut f = File::create(&path).expect("create");
        candle_core::quantized::gguf_file::write(&mut f, &[], &[("a", &made[0]), ("b", &made[1])]).expect("write");
        drop(f);
        (Weights::open(&path).expect("open"), made)
    }

    #[test]
    fn mapped_weights_multiply_like_loaded_ones_and_survive_release() {
        let dir = tempfile::tempdir().expect("tmp");
        let (w, made) = weights(dir.path());
        let dev = Device::Cpu;
        let lhs = Tensor::from_vec((0..3 * 512).map(|i| (i % 13) as f32 / 13.0).collect::<Vec<f32>>(), (3, 512), &dev)
            .expect("lhs");
        let row = lhs.narrow(0, 1, 1).expect("row");
        let run = |m: &QMatMul, x: &Tensor| m.forward(x).expect("fwd").to_vec2::<f32>().expect("vec");
        for (name, heap) in ["a", "b"].into_iter().zip(made) {
            // A product of one row and one of three rows take different kernels: each is compared
            // with the same product on the weights read onto the heap.
            let heap = QMatMul::from_qtensor(heap).expect("mm");
            let (want, want_row) = (run(&heap, &lhs), run(&heap, &row));
            let mapped = QMatMul::from_qtensor(w.tensor(name, &dev).expect("tensor")).expect("mm");
            assert_eq!((run(&mapped, &lhs), run(&mapped, &row)), (want.clone(), want_row.clone()), "{name}");
            // The pages handed back come again from the file, the same bytes.
            w.release(name).expect("release");
            assert_eq!((run(&mapped, &row), run(&mapped, &lhs)), (want_row, want), "{name} after release");
        }
    }

    /// Resident kilobytes of this process's mappings of `path` (Linux's smaps).
    fn resident_kb(path: &Path) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
        let path = path.to_string_lossy();
        let mut ours = false;
        let mut kb = 0;
        for line in smaps.lines() {
            if line.contains('-') && line.split_whitespace().count() >= 5 && !line.ends_with(" kB") {
                ours = line.ends_with(path.as_ref());
            } else if ours && let Some(v) = line.strip_prefix("Rss:") {
                kb += v.trim().trim_end_matches(" kB").trim().parse::<u64>().expect("Rss");
            }
        }
        kb
    }

    /// Released pages leave the process: that is the whole point of mapping the file.
    #[test]
    fn released_tensors_are_no_longer_resident() {
        let dir = tempfile::tempdir().expect("tmp");
        let (w, _) = weights(dir.path());
        let dev = Device::Cpu;
        let path = dir.path().join("m.gguf");
        for name in ["a", "b"] {
            w.tensor(name, &dev).expect("tensor").dequantize(&dev).expect("read every page");
        }
        let before = resident_kb(&path);
        assert!(before >= 40, "the two tensors (~44 KiB) were read: {before} KiB resident");
        for name in ["a", "b"] {
            w.release(name).expect("release");
        }
        let after = resident_kb(&path);
        assert!(after + 24 <= before, "released: {before} KiB resident before, {after} KiB after");
    }

    #[test]
    fn rows_and_whole_tensors_dequantize_in_place() {
        let dir = tempfile::tempdir().expect("tmp");
        let (w, made) = weights(dir.path());
        let dev = Device::Cpu;
        let t = w.tensor("a", &dev).expect("tensor");
        let whole = made[0].dequantize(&dev).expect("deq").to_vec2::<f32>().expect("vec");
        w.release("a").expect("release");
        assert_eq!(t.dequantize(&dev).expect("deq").to_vec2::<f32>().expect("vec"), whole);
        let ids = Tensor::new(&[5u32, 63, 0], &dev).expect("ids");
        let rows = t.embedding(&ids).expect("embedding").to_vec2::<f32>().expect("vec");
        assert_eq!(rows, vec![whole[5].clone(), whole[63].clone(), whole[0].clone()]);
        assert!(t.embedding(&Tensor::new(&[64u32], &dev).expect("ids")).is_err(), "a row past the table is an error");
        assert!(w.tensor("nope", &dev).is_err());
    }
}
