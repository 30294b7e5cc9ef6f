//! The BERT encoder of multilingual-e5-small on candle, mean pooled. The file's 4-bit (Q4_0)
//! linear weights are expanded to f32 at load (85 MB): candle's f32 matrix product runs this
//! small model about three times faster on a 2-core CPU than its Q4_0 kernel, with the same
//! weights. Several windows go through together: their rows share each matrix product,
//! attention stays within each window.
use crate::format::{DType, ModelFile, Shape, dequantize_q4_0};
use candle_core::{
    Device, Module, Tensor,
    quantized::{GgmlDType, QMatMul, ggml_file::qtensor_from_ggml},
};
use candle_nn::LayerNorm;
use sokuji_core::{Error, ErrorCode, Result};

fn engine(e: candle_core::Error) -> Error {
    Error::new(ErrorCode::EngineFailed, format!("embedding model: {e}"))
}

/// A linear layer: weight [out, in] (from 4 bits) and f32 bias.
struct Linear {
    w: QMatMul,
    b: Tensor,
}

impl Linear {
    fn load(f: &ModelFile, name: &str, out: usize, inp: usize, dev: &Device) -> Result<Self> {
        let raw = f.raw(&format!("{name}.w"), DType::Q4_0, out * inp)?;
        let q = qtensor_from_ggml(GgmlDType::Q4_0, raw, vec![out, inp], dev).map_err(engine)?;
        let b = Tensor::from_vec(f.f32s(&format!("{name}.b"), out)?, out, dev).map_err(engine)?;
        Ok(Self { w: QMatMul::Tensor(q.dequantize(dev).map_err(engine)?), b })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.w.forward(x)?.broadcast_add(&self.b)
    }
}

fn layer_norm(f: &ModelFile, name: &str, h: usize, eps: f64, dev: &Device) -> Result<LayerNorm> {
    let w = Tensor::from_vec(f.f32s(&format!("{name}.w"), h)?, h, dev).map_err(engine)?;
    let b = Tensor::from_vec(f.f32s(&format!("{name}.b"), h)?, h, dev).map_err(engine)?;
    Ok(LayerNorm::new(w, b, eps))
}

struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    attn_norm: LayerNorm,
    up: Linear,
    down: Linear,
    ffn_norm: LayerNorm,
}

pub struct Encoder {
    pub shape: Shape,
    /// Word embeddings stay 4-bit (250k rows); rows are dequantized as tokens need them.
    words: Vec<u8>,
    positions: Tensor,
    token_type: Tensor,
    norm: LayerNorm,
    layers: Vec<Layer>,
    dev: Device,
}

impl Encoder {
    pub fn load(f: &ModelFile) -> Result<Self> {
        let dev = Device::Cpu;
        let s = f.shape.clone();
        let (h, ff) = (s.hidden, s.ffn);
        let words = f.raw("emb.word", DType::Q4_0, s.vocab * h)?.to_vec();
        let positions =
            Tensor::from_vec(f.f32s("emb.pos", s.max_positions * h)?, (s.max_positions, h), &dev).map_err(engine)?;
        let token_type =
            Tensor::from_vec(f.f32s("emb.type", 2 * h)?, (2, h), &dev).and_then(|t| t.get(0)).map_err(engine)?;
        let norm = layer_norm(f, "emb.ln", h, s.eps, &dev)?;
        let mut layers = Vec::with_capacity(s.layers);
        for l in 0..s.layers {
            let p = |n: &str| format!("l{l}.{n}");
            layers.push(Layer {
                q: Linear::load(f, &p("q"), h, h, &dev)?,
                k: Linear::load(f, &p("k"), h, h, &dev)?,
                v: Linear::load(f, &p("v"), h, h, &dev)?,
                out: Linear::load(f, &p("ao"), h, h, &dev)?,
                attn_norm: layer_norm(f, &p("aln"), h, s.eps, &dev)?,
                up: Linear::load(f, &p("fi"), ff, h, &dev)?,
                down: Linear::load(f, &p("fo"), h, ff, &dev)?,
                ffn_norm: layer_norm(f, &p("oln"), h, s.eps, &dev)?,
            });
        }
        Ok(Self { shape: s, words, positions, token_type, norm, layers, dev })
    }

    /// The mean of the last hidden states of each window of ids (`<s>` … `</s>`, at most
    /// `max_positions`), before normalization.
    pub fn mean_pooled(&self, windows: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let pooled = self.forward(windows).map_err(engine)?;
        pooled.into_iter().map(|t| t.to_vec1::<f32>().map_err(engine)).collect()
    }

    fn forward(&self, windows: &[&[u32]]) -> candle_core::Result<Vec<Tensor>> {
        let (h, heads) = (self.shape.hidden, self.shape.heads);
        let hd = h / heads;
        let spans: Vec<(usize, usize)> = windows
            .iter()
            .scan(0, |start, w| {
                let span = (*start, w.len());
                *start += w.len();
                Some(span)
            })
            .collect();
        let total: usize = windows.iter().map(|w| w.len()).sum();
        let row = h / 32 * 18;
        let mut emb = vec![0f32; total * h];
        for (i, id) in windows.iter().flat_map(|w| w.iter()).enumerate() {
            let id = (*id as usize).min(self.shape.vocab - 1);
            dequantize_q4_0(&self.words[id * row..(id + 1) * row], &mut emb[i * h..(i + 1) * h]);
        }
        let positions: Vec<Tensor> =
            spans.iter().map(|&(_, t)| self.positions.narrow(0, 0, t)).collect::<candle_core::Result<_>>()?;
        let x = Tensor::from_vec(emb, (total, h), &self.dev)?;
        let x = x.add(&Tensor::cat(&positions, 0)?)?.broadcast_add(&self.token_type)?;
        let mut x = self.norm.forward(&x)?;
        let scale = 1.0 / (hd as f64).sqrt();
        for l in &self.layers {
            let (q, k, v) = (l.q.forward(&x)?, l.k.forward(&x)?, l.v.forward(&x)?);
            let mut ctx = Vec::with_capacity(spans.len());
            for &(start, t) in &spans {
                let split = |y: &Tensor| y.narrow(0, start, t)?.reshape((t, heads, hd))?.transpose(0, 1)?.contiguous();
                let att = (split(&q)?.matmul(&split(&k)?.t()?)? * scale)?;
                let att = candle_nn::ops::softmax_last_dim(&att)?;
                ctx.push(att.matmul(&split(&v)?)?.transpose(0, 1)?.reshape((t, h))?);
            }
            let ctx = Tensor::cat(&ctx, 0)?;
            x = l.attn_norm.forward(&(x + l.out.forward(&ctx)?)?)?;
            let mid = l.up.forward(&x)?.gelu_erf()?;
            x = l.ffn_norm.forward(&(x + l.down.forward(&mid)?)?)?;
        }
        spans.iter().map(|&(start, t)| x.narrow(0, start, t)?.mean(0)).collect()
    }
}
