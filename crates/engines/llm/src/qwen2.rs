//! Qwen2's forward pass over GGUF weights, with the KV cache held by the caller.
//!
//! candle-transformers' `quantized_qwen2` keeps its cache inside the weights, where it can only be
//! cleared; a translation server needs to keep the attention state of a prompt's fixed part and
//! resume from any point of it. Here a [`Cache`] is a plain value: cloned cheaply (tensors are
//! shared), cut back to a prefix, and fed more tokens. The token embeddings stay quantized (rows
//! are dequantized as they are looked up) and double as the output projection: the f32 copy
//! candle's model makes costs ~0.9 GB for a 1.5B model.
use candle_core::{
    D, DType, Device, Module, Result, Tensor,
    quantized::{QMatMul, QTensor},
};
use candle_transformers::quantized_nn::RmsNorm;
use std::sync::Arc;

use crate::{mapped::Weights, tiled::Tiled};

struct Layer {
    wq: Linear,
    wk: Linear,
    wv: Linear,
    bq: Tensor,
    bk: Tensor,
    bv: Tensor,
    wo: Linear,
    attn_norm: RmsNorm,
    ffn_norm: RmsNorm,
    gate: Linear,
    up: Linear,
    down: Linear,
}

/// A layer's weight matrix: a Q4_K or Q6_K one in this crate's tiles where the CPU runs their
/// kernels (`tiled`), any other through candle.
enum Linear {
    Tiled(Tiled),
    Candle(QMatMul),
}

impl Linear {
    /// Matrix `name`, its mapped pages handed back once it is packed (by this crate, or by candle
    /// on a first product): at no point do the packed and the original copies of all the weights
    /// live side by side.
    fn load(weights: &Weights, name: &str, device: &Device) -> Result<Self> {
        let (bytes, dtype, shape) = weights.raw(name)?;
        let linear = match Tiled::pack(bytes, dtype, shape)? {
            Some(t) => Self::Tiled(t),
            None => {
                let w = weights.tensor(name, device)?;
                let k = w.shape().dims().last().copied().unwrap_or(0);
                let m = QMatMul::from_qtensor(w)?;
                // Two rows: candle packs Q6_K only for products of more than one (one reads the
                // file's blocks), and the first prompt would pay for it.
                m.forward(&Tensor::zeros((2, k), DType::F32, device)?)?;
                Self::Candle(m)
            }
        };
        weights.release(name)?;
        Ok(linear)
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Self::Tiled(t) => t.forward(x),
            Self::Candle(m) => m.forward(x),
        }
    }
}

/// The attention state of a token sequence: per layer the keys and values, shape
/// (1, kv heads, tokens, head dim), and the tokens they came from.
#[derive(Clone, Default)]
pub struct Cache {
    kv: Vec<Option<(Tensor, Tensor)>>,
    tokens: Vec<u32>,
    /// A pass given up between two layers: its layers before `layer` hold its tokens' keys and
    /// values too, and a pass over the same tokens goes on from there.
    given_up: Option<GivenUp>,
}

/// Where a pass was given up: its tokens, and their states as input to `layer`.
#[derive(Clone)]
struct GivenUp {
    tokens: Vec<u32>,
    x: Tensor,
    layer: usize,
}

impl Cache {
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Keeps the first `len` tokens' state (and a pass given up after them).
    pub fn truncate(&mut self, len: usize) -> Result<()> {
        if len >= self.tokens.len() {
            return Ok(());
        }
        self.tokens.truncate(len);
        self.cut_layers(len)
    }

    /// Cuts every layer's keys and values longer than `len` back to it (those of a pass given up
    /// are longer in the layers it went through), and forgets that pass.
    fn cut_layers(&mut self, len: usize) -> Result<()> {
        self.given_up = None;
        for kv in &mut self.kv {
            *kv = match kv.take() {
                Some((k, v)) if len > 0 && k.dim(2)? > len => Some((k.narrow(2, 0, len)?, v.narrow(2, 0, len)?)),
                Some(kv) if len > 0 => Some(kv),
                _ => None,
            };
        }
        Ok(())
    }

    /// How many leading tokens `tokens` shares with this cache.
    pub fn common_prefix(&self, tokens: &[u32]) -> usize {
        self.tokens.iter().zip(tokens).take_while(|(a, b)| a == b).count()
    }
}

/// Asked between layers whether to give up the pass under way: a pass of a few dozen tokens takes
/// a few hundred milliseconds, and a live session's pause needs the cores at once (a decode that
/// shared them with the rest of a pass took up to 350 ms instead of 190: both engines' threads
/// wait for each other's).
pub type Interrupt<'a> = &'a dyn Fn() -> bool;

/// The tokens a pass's logits are for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Vocab {
    #[default]
    All,
    /// Those that text in the Latin alphabet holds; the others' logits are −∞ (see [`Output`]).
    Latin,
}

/// The output projection with its rows in two matrices: the tokens that text in the Latin
/// alphabet holds, and the others (Han, kana, Hangul, Cyrillic, …: a third of Qwen2's
/// vocabulary). An answer in a Latin-script language reads only the first: one row of logits is a
/// pass over the whole (vocabulary-sized) matrix, ~7 ms of a ~75 ms token on two cores, and the
/// model can no longer slip a word of another script into it. The parts are copies on the heap
/// (the mapped file's pages are handed back): as large together as the matrix, unless it is the
/// embedding table, whose rows lookups still read from the file.
struct Output {
    parts: Vec<OutputPart>,
    vocab: usize,
}

struct OutputPart {
    matrix: QMatMul,
    /// The token of each row.
    ids: Vec<u32>,
    latin: bool,
}

impl Output {
    /// Splits matrix `name`; `latin[id]` marks the tokens of Latin-alphabet text.
    fn split(weights: &Weights, name: &str, latin: &[bool], device: &Device) -> Result<Self> {
        let [marked, others] = weights.split_rows(name, latin)?;
        let vocab = [&marked, &others].into_iter().flatten().map(|p| p.shape().dims()[0]).sum::<usize>();
        let mut parts = Vec::new();
        for (part, is_latin) in [(marked, true), (others, false)] {
            let Some(part) = part else { continue };
            let cols = part.shape().dims2()?.1;
            let matrix = QMatMul::from_arc(Arc::new(part))?;
            // Packed now (where candle packs this type), not by the first answer.
            matrix.forward(&Tensor::zeros((1, cols), DType::F32, device)?)?;
            let ids =
                (0..vocab as u32).filter(|&i| latin.get(i as usize).copied().unwrap_or(false) == is_latin).collect();
            parts.push(OutputPart { matrix, ids, latin: is_latin });
        }
        Ok(Self { parts, vocab })
    }

    /// The logits of `h` (one row of hidden states) over the whole vocabulary, (vocab,): −∞ for the
    /// tokens `vocab` leaves out.
    fn logits(&self, h: &Tensor, vocab: Vocab) -> Result<Tensor> {
        let mut out = vec![f32::NEG_INFINITY; self.vocab];
        for part in self.parts.iter().filter(|p| p.latin || vocab == Vocab::All) {
            let row = part.matrix.forward(h)?.flatten_all()?.to_vec1::<f32>()?;
            for (&id, x) in part.ids.iter().zip(row) {
                out[id as usize] = x;
            }
        }
        Tensor::from_vec(out, self.vocab, h.device())
    }
}

pub struct Qwen2 {
    embeddings: Arc<QTensor>,
    layers: Vec<Layer>,
    norm: RmsNorm,
    output: Output,
    cos: Tensor,
    sin: Tensor,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    device: Device,
}

impl Qwen2 {
    /// The network of a mapped GGUF file. Each matrix is multiplied once as it is loaded, so that
    /// candle packs it, and its mapped pages are then released: at no point do the packed and the
    /// original copies of all the weights live side by side. `latin[id]` marks the tokens that
    /// text in the Latin alphabet holds ([`Vocab::Latin`]).
    pub fn from_gguf(weights: &Weights, device: &Device, latin: &[bool]) -> Result<Self> {
        let ct = &weights.content;
        let md = |k: &str| ct.metadata.get(k).ok_or_else(|| candle_core::Error::Msg(format!("GGUF lacks {k}")));
        let heads = md("qwen2.attention.head_count")?.to_u32()? as usize;
        let kv_heads = md("qwen2.attention.head_count_kv")?.to_u32()? as usize;
        let hidden = md("qwen2.embedding_length")?.to_u32()? as usize;
        let blocks = md("qwen2.block_count")?.to_u32()? as usize;
        let context = md("qwen2.context_length")?.to_u32()? as usize;
        let eps = f64::from(md("qwen2.attention.layer_norm_rms_epsilon")?.to_f32()?);
        let base = md("qwen2.rope.freq_base").and_then(|v| v.to_f32()).unwrap_or(10_000.0);
        let head_dim = hidden / heads;
        let q = |name: &str| weights.tensor(name, device);
        let mm = |name: &str| Linear::load(weights, name, device);
        let embeddings = Arc::new(q("token_embd.weight")?);
        // Tied: the table doubles as the output projection.
        let tied = !ct.tensor_infos.contains_key("output.weight");
        let output = Output::split(weights, if tied { "token_embd.weight" } else { "output.weight" }, latin, device)?;
        let norm = RmsNorm::from_qtensor(q("output_norm.weight")?, eps)?;
        let mut layers = Vec::with_capacity(blocks);
        for i in 0..blocks {
            let n = |n: &str| format!("blk.{i}.{n}");
            let bias = |b: &str| q(&n(b))?.dequantize(device);
            layers.push(Layer {
                wq: mm(&n("attn_q.weight"))?,
                wk: mm(&n("attn_k.weight"))?,
                wv: mm(&n("attn_v.weight"))?,
                bq: bias("attn_q.bias")?,
                bk: bias("attn_k.bias")?,
                bv: bias("attn_v.bias")?,
                wo: mm(&n("attn_output.weight"))?,
                attn_norm: RmsNorm::from_qtensor(q(&n("attn_norm.weight"))?, eps)?,
                ffn_norm: RmsNorm::from_qtensor(q(&n("ffn_norm.weight"))?, eps)?,
                gate: mm(&n("ffn_gate.weight"))?,
                up: mm(&n("ffn_up.weight"))?,
                down: mm(&n("ffn_down.weight"))?,
            });
        }
        // Rotary tables for the whole context: (positions, head_dim / 2).
        let inv: Vec<f32> = (0..head_dim).step_by(2).map(|i| 1.0 / base.powf(i as f32 / head_dim as f32)).collect();
        let inv = Tensor::new(inv.as_slice(), device)?.reshape((1, head_dim / 2))?;
        let pos = Tensor::arange(0u32, context as u32, device)?.to_dtype(DType::F32)?.reshape((context, 1))?;
        let angles = pos.matmul(&inv)?;
        Ok(Self {
            embeddings,
            layers,
            norm,
            output,
            cos: angles.cos()?,
            sin: angles.sin()?,
            heads,
            kv_heads,
            head_dim,
            device: device.clone(),
        })
    }

    /// The longest sequence the rotary tables cover.
    pub fn context(&self) -> usize {
        self.cos.dim(0).unwrap_or(0)
    }

    pub fn new_cache(&self) -> Cache {
        Cache { kv: vec![None; self.layers.len()], tokens: Vec::new(), given_up: None }
    }

    /// Rows of the quantized embedding table, dequantized: (1, tokens, hidden).
    fn embed(&self, tokens: &[u32]) -> Result<Tensor> {
        self.embeddings.embedding(&Tensor::new(tokens, &self.device)?)?.unsqueeze(0)
    }

    /// Feeds `tokens` after what `cache` holds; returns the logits of the last one over `vocab`,
    /// (vocabulary,), or `None` when `stop` gave the pass up (the cache then holds it where it
    /// stopped; see `read`).
    pub fn forward(&self, tokens: &[u32], cache: &mut Cache, stop: Interrupt, vocab: Vocab) -> Result<Option<Tensor>> {
        let Some(x) = self.read(tokens, cache, stop)? else { return Ok(None) };
        let last = self.norm.forward(&x.narrow(1, tokens.len() - 1, 1)?)?;
        self.output.logits(&last, vocab).map(Some)
    }

    /// Feeds `tokens` like [`Self::forward`] without logits, for a prompt's passes before its
    /// last; `false` when `stop` gave the pass up.
    pub fn feed(&self, tokens: &[u32], cache: &mut Cache, stop: Interrupt) -> Result<bool> {
        Ok(self.read(tokens, cache, stop)?.is_some())
    }

    /// Feeds `tokens` like [`Self::forward`]; returns the logits of every one, (tokens,
    /// vocabulary): what the model would write after each, for checking a draft in one pass. The
    /// output projection is applied row by row, as when writing: a product of several rows would
    /// have candle pack the (vocabulary-sized) matrix a second time, ~0.3 GB kept for good.
    pub fn forward_all(
        &self,
        tokens: &[u32],
        cache: &mut Cache,
        stop: Interrupt,
        vocab: Vocab,
    ) -> Result<Option<Tensor>> {
        let Some(x) = self.read(tokens, cache, stop)? else { return Ok(None) };
        let h = self.norm.forward(&x)?;
        let rows = (0..tokens.len()).map(|i| self.output.logits(&h.narrow(1, i, 1)?, vocab));
        Tensor::stack(&rows.collect::<Result<Vec<_>>>()?, 0).map(Some)
    }

    /// The last layer's states of `tokens` read after what `cache` holds, (1, tokens, hidden), or
    /// `None` when `stop` said so between two layers. A pass given up is kept where it stopped,
    /// and a pass over the same tokens goes on from there (the same computation, only later): a
    /// live session's interim translation stopped by the pause has usually read part of the prompt
    /// its final translation reads again.
    fn read(&self, tokens: &[u32], cache: &mut Cache, stop: Interrupt) -> Result<Option<Tensor>> {
        let seq = tokens.len();
        let start = cache.tokens.len();
        if seq == 0 {
            candle_core::bail!("nothing to feed");
        }
        if start + seq > self.context() {
            candle_core::bail!("{} tokens exceed the {}-token context", start + seq, self.context());
        }
        let cos = self.cos.narrow(0, start, seq)?;
        let sin = self.sin.narrow(0, start, seq)?;
        let mask = causal_mask(seq, start, &self.device)?;
        let (mut x, first) = match cache.given_up.take() {
            Some(g) if g.tokens == tokens => (g.x, g.layer),
            other => {
                if other.is_some() {
                    cache.cut_layers(start)?;
                }
                (self.embed(tokens)?, 0)
            }
        };
        for i in first..self.layers.len() {
            if stop() {
                cache.given_up = Some(GivenUp { tokens: tokens.to_vec(), x, layer: i });
                return Ok(None);
            }
            let (layer, kv) = (&self.layers[i], &mut cache.kv[i]);
            let h = layer.attn_norm.forward(&x)?;
            let h = self.attention(layer, &h, &cos, &sin, &mask, kv)?;
            x = (x + h)?;
            let h = layer.ffn_norm.forward(&x)?;
            let h = (candle_nn::ops::silu(&layer.gate.forward(&h)?)? * layer.up.forward(&h)?)?;
            x = (x + layer.down.forward(&h)?)?;
        }
        cache.tokens.extend_from_slice(tokens);
        Ok(Some(x))
    }

    fn attention(
        &self,
        l: &Layer,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: &Tensor,
        kv: &mut Option<(Tensor, Tensor)>,
    ) -> Result<Tensor> {
        let (_, seq, _) = x.dims3()?;
        let split = |t: Tensor, heads: usize| t.reshape((1, seq, heads, self.head_dim))?.transpose(1, 2)?.contiguous();
        let q = split(l.wq.forward(x)?.broadcast_add(&l.bq)?, self.heads)?;
        let k = split(l.wk.forward(x)?.broadcast_add(&l.bk)?, self.kv_heads)?;
        let v = split(l.wv.forward(x)?.broadcast_add(&l.bv)?, self.kv_heads)?;
        let q = candle_nn::rotary_emb::rope(&q, cos, sin)?;
        let k = candle_nn::rotary_emb::rope(&k, cos, sin)?;
        let (k, v) = match kv.take() {
            Some((pk, pv)) => (Tensor::cat(&[&pk, &k], 2)?, Tensor::cat(&[&pv, &v], 2)?),
            None => (k, v),
        };
        *kv = Some((k.clone(), v.clone()));
        // Grouped-query attention without copying the cache per head: the query heads that share a
        // key/value head are stacked as extra rows of that head.
        let group = self.heads / self.kv_heads;
        let kv_len = k.dim(2)?;
        let padded = mask.dim(1)?;
        let (k, v) = if padded > kv_len {
            let zeros = Tensor::zeros((1, self.kv_heads, padded - kv_len, self.head_dim), DType::F32, &self.device)?;
            (Tensor::cat(&[&k, &zeros], 2)?, Tensor::cat(&[&v, &zeros], 2)?)
        } else {
            (k, v)
        };
        let q = q.reshape((1, self.kv_heads, group * seq, self.head_dim))?;
        let att = (q.matmul(&k.t()?)? / (self.head_dim as f64).sqrt())?;
        let att = att.reshape((1, self.kv_heads, group, seq, padded))?.broadcast_add(mask)?.reshape((
            1,
            self.kv_heads,
            group * seq,
            padded,
        ))?;
        let att = candle_nn::ops::softmax_last_dim(&att)?;
        let y = att.matmul(&v)?.reshape((1, self.heads, seq, self.head_dim))?;
        let y = y.transpose(1, 2)?.reshape((1, seq, self.heads * self.head_dim))?;
        l.wo.forward(&y)
    }
}

/// Attention runs over keys and values padded with zeros (masked) to a multiple of this many
/// positions. A softmax or a product summing a row of another length rounds differently (its
/// tail falls in other lanes of the vector kernels), so without the padding a position read in
/// one pass differed in its last bits from the same position read in another, and from the
/// second layer on every later position with it: a resumed prompt's answer could then depend on
/// where the kept state ended. Padded, the terms of a row sit in the same lanes whatever its
/// length, and the extra terms are exact zeros (a unit test on a four-layer model checks the bits).
const ATTENTION_BLOCK: usize = 64;

/// Additive mask: position `i` of the new tokens (at `start + i`) sees cached and new positions
/// up to itself, and none of the padding. Shape (seq, padded length).
fn causal_mask(seq: usize, start: usize, device: &Device) -> Result<Tensor> {
    let total = (start + seq).div_ceil(ATTENTION_BLOCK) * ATTENTION_BLOCK;
    let m: Vec<f32> =
        (0..seq).flat_map(|i| (0..total).map(move |j| if j > start + i { f32::NEG_INFINITY } else { 0.0 })).collect();
    Tensor::from_vec(m, (seq, total), device)
}

/// Index of the largest logit.
pub fn argmax(logits: &Tensor) -> Result<u32> {
    logits.argmax(D::Minus1)?.to_scalar::<u32>()
}

/// Index of the largest logit of each row of (rows, vocab).
pub fn argmax_rows(logits: &Tensor) -> Result<Vec<u32>> {
    logits.argmax(D::Minus1)?.to_vec1::<u32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::{GenerateError, Hooks, Limits, passes, resume_at, write};
    use candle_core::quantized::{GgmlDType, gguf_file};

    /// A four-layer Qwen2 of random weights (4- and 6-bit as the shipped model's), written as GGUF.
    fn tiny(dir: &std::path::Path) -> Weights {
        let dev = Device::Cpu;
        let (hidden, kv, ffn, vocab) = (1024usize, 128usize, 1024usize, 256usize);
        let mut seed = 1u64;
        let mut t = |shape: &[usize], dtype: GgmlDType| {
            let n: usize = shape.iter().product();
            let xs: Vec<f32> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.4
                })
                .collect();
            QTensor::quantize(&Tensor::from_vec(xs, shape, &dev).expect("tensor"), dtype).expect("quantize")
        };
        let (q4, q6, f) = (GgmlDType::Q4K, GgmlDType::Q6K, GgmlDType::F32);
        let mut tensors = vec![
            ("token_embd.weight".to_string(), t(&[vocab, hidden], q4)),
            ("output.weight".to_string(), t(&[vocab, hidden], q6)),
            ("output_norm.weight".to_string(), t(&[hidden], f)),
        ];
        for b in 0..4 {
            let layer = [
                ("attn_q.weight", t(&[hidden, hidden], q4)),
                ("attn_k.weight", t(&[kv, hidden], q4)),
                ("attn_v.weight", t(&[kv, hidden], q6)),
                ("attn_q.bias", t(&[hidden], f)),
                ("attn_k.bias", t(&[kv], f)),
                ("attn_v.bias", t(&[kv], f)),
                ("attn_output.weight", t(&[hidden, hidden], q4)),
                ("attn_norm.weight", t(&[hidden], f)),
                ("ffn_norm.weight", t(&[hidden], f)),
                ("ffn_gate.weight", t(&[ffn, hidden], q4)),
                ("ffn_up.weight", t(&[ffn, hidden], q4)),
                ("ffn_down.weight", t(&[hidden, ffn], q6)),
            ];
            tensors.extend(layer.into_iter().map(|(n, w)| (format!("blk.{b}.{n}"), w)));
        }
        use gguf_file::Value::{F32, U32};
        let md = [
            ("qwen2.attention.head_count", U32(8)),
            ("qwen2.attention.head_count_kv", U32(1)),
            ("qwen2.embedding_length", U32(hidden as u32)),
            ("qwen2.block_count", U32(4)),
            ("qwen2.context_length", U32(128)),
            ("qwen2.attention.layer_norm_rms_epsilon", F32(1e-6)),
        ];
        let path = dir.join("tiny.gguf");
        let mut file = std::fs::File::create(&path).expect("create");
        let md: Vec<(&str, &gguf_file::Value)> = md.iter().map(|(k, v)| (*k, v)).collect();
        let tensors: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
        gguf_file::write(&mut file, &md, &tensors).expect("write");
        Weights::open(&path).expect("open")
    }

    /// The tiny model's tokens marked as Latin-alphabet text's: two in three.
    fn tiny_latin() -> Vec<bool> {
        (0..256).map(|i| i % 3 != 1).collect()
    }

    /// The tiny model loaded, with the directory of its file.
    fn tiny_net() -> (tempfile::TempDir, Qwen2) {
        let dir = tempfile::tempdir().expect("tmp");
        let net = Qwen2::from_gguf(&tiny(dir.path()), &Device::Cpu, &tiny_latin()).expect("load");
        (dir, net)
    }

    /// The Q4_K and Q6_K matrices go to this crate's tiles where their kernels run.
    #[test]
    fn k_quant_matrices_take_the_tiles_where_they_run() {
        let (_dir, net) = tiny_net();
        let tiled = |l: &Linear| matches!(l, Linear::Tiled(_));
        let layer = &net.layers[0];
        for (name, l) in
            [("q", &layer.wq), ("k", &layer.wk), ("o", &layer.wo), ("gate", &layer.gate), ("up", &layer.up)]
        {
            assert_eq!(tiled(l), crate::tiled::supported(), "{name} (Q4_K)");
        }
        assert_eq!(tiled(&layer.wv) && tiled(&layer.down), crate::tiled::supported(), "Q6_K");
    }

    /// The split output projection gives the whole matrix's logits, and for an answer in the
    /// Latin alphabet those of its tokens only (the others −∞), so a greedy answer never holds
    /// another script's token.
    #[test]
    fn the_output_projection_is_split_by_script() {
        let dir = tempfile::tempdir().expect("tmp");
        let weights = tiny(dir.path());
        let dev = Device::Cpu;
        let whole = QMatMul::from_qtensor(weights.tensor("output.weight", &dev).expect("tensor")).expect("mm");
        let latin = tiny_latin();
        let out = Output::split(&weights, "output.weight", &latin, &dev).expect("split");
        assert_eq!((out.parts.len(), out.vocab), (2, 256));
        for seed in [1u32, 7, 42] {
            let h: Vec<f32> = (0..1024u32).map(|i| ((i * seed + 3) % 101) as f32 / 50.0 - 1.0).collect();
            let h = Tensor::from_vec(h, (1, 1, 1024), &dev).expect("h");
            let want = whole.forward(&h).expect("fwd").flatten_all().expect("flat").to_vec1::<f32>().expect("vec");
            let all = out.logits(&h, Vocab::All).expect("all").to_vec1::<f32>().expect("vec");
            assert_eq!(all, want, "every row, each where its token is");
            let only = out.logits(&h, Vocab::Latin).expect("latin").to_vec1::<f32>().expect("vec");
            for (id, (x, w)) in only.iter().zip(&want).enumerate() {
                assert_eq!(*x, if latin[id] { *w } else { f32::NEG_INFINITY }, "token {id}");
            }
        }
        // Written through the network: Latin tokens only, where the whole vocabulary's answer
        // takes others.
        let net = Qwen2::from_gguf(&weights, &dev, &latin).expect("load");
        let prompt: Vec<u32> = (0..40u32).map(|i| (i * 37 + 11) % 256).collect();
        let write_with = |vocab| {
            let mut cache = net.new_cache();
            let mut next = argmax(&net.forward(&prompt, &mut cache, &|| false, vocab).expect("fwd").expect("logits"));
            let mut out = Vec::new();
            for _ in 0..16 {
                let t = next.expect("argmax");
                out.push(t);
                next = argmax(&net.forward(&[t], &mut cache, &|| false, vocab).expect("fwd").expect("logits"));
            }
            out
        };
        let (free, kept) = (write_with(Vocab::All), write_with(Vocab::Latin));
        assert!(free.iter().any(|&t| !latin[t as usize]), "the test needs an answer that leaves the script: {free:?}");
        assert!(kept.iter().all(|&t| latin[t as usize]), "{kept:?}");
    }

    /// Logits after reading `tokens[from..]` in `sizes` passes onto `cache`.
    fn read(net: &Qwen2, cache: &mut Cache, tokens: &[u32], sizes: impl IntoIterator<Item = usize>) -> Vec<f32> {
        let mut at = cache.tokens().len();
        let mut logits = None;
        for n in sizes {
            logits = net.forward(&tokens[at..at + n], cache, &|| false, Vocab::All).expect("forward");
            at += n;
        }
        assert_eq!(at, tokens.len());
        logits.expect("logits").to_vec1().expect("vec")
    }

    /// A prompt resumed from any token it shares with an earlier one and read on in `passes`
    /// gives the logits of reading it fresh, bit for bit, through several layers (each reads
    /// states the one before made in other passes: unpadded attention failed this from the first
    /// resumed position). A one-token pass takes candle's one-row kernels, which round
    /// differently (so the comparison can see a difference), unless the CPU runs this crate's
    /// tiles, which compute a row alike in passes of any size.
    #[test]
    fn a_resumed_prompt_reads_like_a_fresh_one() {
        let (_dir, net) = tiny_net();
        let prompt: Vec<u32> = (0..75u32).map(|i| (i * 37 + 11) % 256).collect();
        let fresh = read(&net, &mut net.new_cache(), &prompt, passes(prompt.len()));
        for shared in [2, 17, 31, 32, 33, 50, 64, 73] {
            // An earlier prompt with the first `shared` tokens, then others.
            let other: Vec<u32> = prompt[..shared].iter().copied().chain((0..20).map(|i| (i * 5 + 3) % 256)).collect();
            let mut cache = net.new_cache();
            read(&net, &mut cache, &other, passes(other.len()));
            cache.truncate(shared).expect("truncate");
            let resumed = read(&net, &mut cache, &prompt, passes(prompt.len() - shared));
            assert!(resumed == fresh, "resumed at {shared}");
        }
        let mut cache = net.new_cache();
        let one = read(&net, &mut cache, &prompt, [74, 1]);
        if crate::tiled::supported() {
            assert!(one == fresh, "a one-token pass over the tiles reads like any other");
        } else {
            assert!(one != fresh, "a one-token pass rounds differently");
        }
        assert_eq!(passes(75).collect::<Vec<_>>(), [25, 25, 25]);
        // A prompt seen whole before is not resumed whole: its last two tokens are read again,
        // never one alone; one sharing less resumes all it shares.
        assert_eq!((resume_at(75, 75), resume_at(90, 75), resume_at(40, 75), resume_at(1, 1)), (73, 73, 40, 0));
        assert_eq!(passes(32).collect::<Vec<_>>(), [16, 16]);
        assert_eq!(passes(2).collect::<Vec<_>>(), [2]);
    }

    /// A cache that has read `prompt`, and the token its last logits choose.
    fn primed(net: &Qwen2, prompt: &[u32]) -> (Cache, u32) {
        let mut cache = net.new_cache();
        let logits = read(net, &mut cache, prompt, passes(prompt.len()));
        let next = logits.iter().enumerate().fold(0, |m, (i, x)| if *x > logits[m] { i } else { m }) as u32;
        (cache, next)
    }

    /// Writes up to 24 tokens after `prompt` checking `draft`: (tokens, drafted, passes made).
    fn answer(net: &Qwen2, prompt: &[u32], draft: &[u32]) -> (Vec<u32>, usize, usize) {
        let (mut cache, next) = primed(net, prompt);
        let limits = Limits { max_new: 24, stops: &[], close: &[u32::MAX], vocab: Vocab::All };
        let mut steps = 0;
        let hooks = Hooks {
            step: &mut |_| {
                steps += 1;
                Ok::<(), GenerateError>(())
            },
            wrote: &mut |_| Ok(false),
            stop: &|| false,
        };
        let (out, drafted) = write(net, &mut cache, next, draft, &limits, hooks).expect("write");
        assert_eq!(cache.tokens().len(), prompt.len() + out.len(), "the cache holds what was read");
        (out, drafted, steps)
    }

    /// A draft changes how an answer is made, never what it is: a right one is read in a few
    /// passes, a wrong one from the point where it goes wrong is written token by token, as
    /// without a draft, until the answer is on the draft again. (The tiny model's answers repeat
    /// themselves, so the draft may also be taken up at a pair that recurs: at least as many
    /// tokens are read from it, in at most as many steps, as each case says.)
    #[test]
    fn a_draft_is_checked_not_imposed() {
        let (_dir, net) = tiny_net();
        let prompt: Vec<u32> = (0..40u32).map(|i| (i * 29 + 7) % 256).collect();
        let (plain, none, steps) = answer(&net, &prompt, &[]);
        assert_eq!((plain.len(), none, steps), (24, 0, 24));
        // A token the answer never holds: a draft's wrong part never pairs with the answer.
        let wrong = (0..256u32).find(|t| !plain.contains(t)).expect("an unused token");
        let wrong_from =
            |n: usize| -> Vec<u32> { plain.iter().enumerate().map(|(i, &t)| if i < n { t } else { wrong }).collect() };
        let wrong_at =
            |n: usize| -> Vec<u32> { plain.iter().enumerate().map(|(i, &t)| if i == n { wrong } else { t }).collect() };
        // (draft, tokens read from it, passes and steps taken)
        let cases: Vec<(Vec<u32>, usize, usize)> = vec![
            // Right throughout: one pass of 4, one of the other 20.
            (plain.clone(), 24, 2),
            // Right for 5: read in two passes; the rest written.
            (wrong_from(5), 5, 2 + 19),
            // Right for 12: the first pass, then a second up to the error.
            (wrong_from(12), 12, 2 + 12),
            // Wrong from its first token: not followed at all.
            (wrong_from(0), 0, 24),
            // Shorter than the answer.
            (plain[..10].to_vec(), 10, 2 + 14),
            // One token wrong (a retry rewriting a word of the first answer): two passes up to
            // it, two tokens written (the wrong one's and the next, whose pair the draft lacks),
            // then taken up again in two passes.
            (wrong_at(5), 22, 2 + 2 + 2),
            // Another answer's words before the ones it shares: written up to the shared pair.
            ([&[wrong; 3][..], &plain[10..]].concat(), 13, 11 + 2),
        ];
        for (draft, want_drafted, want_steps) in cases {
            let (out, drafted, steps) = answer(&net, &prompt, &draft);
            assert_eq!(out, plain, "the answer with the draft {draft:?}");
            assert!(drafted >= want_drafted && steps <= want_steps, "{draft:?}: {drafted} drafted in {steps} steps");
        }
        // Exactly so where nothing recurs: right throughout, wrong throughout.
        for (draft, want) in [(plain.clone(), (24, 2)), (wrong_from(0), (0, 24))] {
            let (_, drafted, steps) = answer(&net, &prompt, &draft);
            assert_eq!((drafted, steps), want);
        }
    }

    /// Asked before each layer: the `n`th answer is "stop" (before layer n - 1 of four).
    fn counting(asked: &std::cell::Cell<usize>, n: usize) -> impl Fn() -> bool + '_ {
        move || {
            asked.set(asked.get() + 1);
            asked.get() == n
        }
    }

    /// A pass given up between two layers goes on from where it stopped when the same tokens are
    /// read next, and is forgotten when others are: either way reading on gives what reading
    /// without giving up does. Given up while writing, the answer ends with the ticket's error and
    /// the cache holds what was written.
    #[test]
    fn a_pass_given_up_changes_nothing() {
        let (_dir, net) = tiny_net();
        let prompt: Vec<u32> = (0..40u32).map(|i| (i * 13 + 5) % 256).collect();
        let fresh = read(&net, &mut net.new_cache(), &prompt, passes(prompt.len()));
        for n in 1..=4 {
            let given_up = || {
                let mut cache = net.new_cache();
                read(&net, &mut cache, &prompt[..20], [20]);
                let asked = std::cell::Cell::new(0);
                assert!(
                    net.forward(&prompt[20..28], &mut cache, &counting(&asked, n), Vocab::All)
                        .expect("forward")
                        .is_none()
                );
                assert_eq!((asked.get(), cache.tokens().len()), (n, 20), "given up before layer {n}");
                cache
            };
            // The same tokens again: the layers from the one it stopped at, then reading on.
            let mut cache = given_up();
            let asked = std::cell::Cell::new(0);
            assert!(
                net.forward(&prompt[20..28], &mut cache, &counting(&asked, 0), Vocab::All).expect("forward").is_some()
            );
            assert_eq!(asked.get(), 4 - (n - 1), "layers read when going on from layer {n}");
            assert!(read(&net, &mut cache, &prompt, [12]) == fresh, "read on after going on from layer {n}");
            // Other tokens: read afresh.
            let mut cache = given_up();
            assert!(read(&net, &mut cache, &prompt, [20]) == fresh, "read on after giving up before layer {n}");
        }

        let (mut cache, next) = primed(&net, &prompt);
        let limits = Limits { max_new: 24, stops: &[], close: &[u32::MAX], vocab: Vocab::All };
        // The ticket is cancelled once the sixth token's pass is under way.
        let cancelled = std::cell::Cell::new(false);
        let hooks = Hooks {
            step: &mut |n| match n {
                5 => {
                    cancelled.set(true);
                    Ok(())
                }
                _ if cancelled.get() => {
                    Err(GenerateError::Stopped(sokuji_core::Error::new(sokuji_core::ErrorCode::Cancelled, "gone"), n))
                }
                _ => Ok(()),
            },
            wrote: &mut |_| Ok(false),
            stop: &|| cancelled.get(),
        };
        let got = write(&net, &mut cache, next, &[], &limits, hooks);
        assert!(matches!(got, Err(GenerateError::Stopped(_, 6))), "{got:?}");
        assert_eq!(cache.tokens().len(), prompt.len() + 5, "the five tokens whose passes were read");
    }

    /// The shipped model's load, prompt passes and written tokens, timed (a benchmark, not a
    /// check; `SOKUJI_LLM_TILES=0` for candle's kernels alone):
    /// `cargo test --release -p sokuji-llm --lib time_tokens -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn time_tokens() {
        let dir = std::env::var("SOKUJI_MODEL_DIR").unwrap_or_else(|_| "models".into());
        let w = Weights::open(&std::path::Path::new(&dir).join("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"))
            .expect("the shipped model");
        let started = std::time::Instant::now();
        let latin: Vec<bool> = vec![true; 100_000];
        let net = Qwen2::from_gguf(&w, &Device::Cpu, &latin).expect("load");
        eprintln!("load {:?}", started.elapsed());
        let mut cache = net.new_cache();
        for n in [20u32, 22, 22, 10, 10] {
            let tokens: Vec<u32> = (0..n).map(|i| 1000 + cache.tokens().len() as u32 + i * 7).collect();
            let started = std::time::Instant::now();
            net.feed(&tokens, &mut cache, &|| false).expect("feed");
            eprintln!("a pass of {n} tokens: {:?}", started.elapsed());
        }
        let mut times: Vec<f64> = (0..60u32)
            .map(|i| {
                let started = std::time::Instant::now();
                net.forward(&[2000 + i], &mut cache, &|| false, Vocab::Latin).expect("forward");
                started.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        eprintln!("a written token: p50 {:.1} ms, fastest {:.1} ms (60)", times[30], times[0]);
    }
}
