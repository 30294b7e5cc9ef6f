//! Writes whisper.cpp's ggml model file from a CTranslate2 Whisper checkpoint.
//!
//! Layout: magic, 11 i32 hyper-parameters, the mel filter bank, the regular vocabulary, then
//! tensors (n_dims, name length, type, dims innermost-first, name, data). Matrices are f16 or
//! ggml's Q8_0 ([`Weights`]); the convolutions stay f16 and biases, norms and positional
//! embeddings f32, as whisper.cpp allocates them for either.
use super::ct2::{Ct2Error, DType, Model, Variable};
use std::io::{self, Write};

const MAGIC: u32 = 0x6767_6d6c;
const GGML_F32: i32 = 0;
const GGML_F16: i32 = 1;
const GGML_Q8_0: i32 = 8;
/// ggml's file type "mostly Q8_0", tagged with its quantization version (2) as whisper.cpp reads it.
const FTYPE_Q8_0: usize = 7 + 2 * 1000;
/// Weights per Q8_0 block: an f16 scale, then 32 signed bytes.
const Q8_BLOCK: usize = 32;

/// How the converted file stores the matrices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    F16,
    /// 8 bits a weight in blocks of 32 with an f16 scale: on a 2-core x86 CPU whisper.cpp
    /// decodes in ×0.85–0.93 the time of f16, from a file 55% the size, at about the same word
    /// error rate (bench/results/stt-2026-12-02.md).
    Q8_0,
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error(transparent)]
    Ct2(#[from] Ct2Error),
    #[error("write failed: {0}")]
    Io(#[from] io::Error),
    #[error("not a Whisper model: spec {0:?}")]
    NotWhisper(String),
    #[error("{0} is quantized to integers; convert a float16 or float32 CTranslate2 model")]
    Quantized(String),
    #[error("{0} has rows of {1} values, not a whole number of {Q8_BLOCK}-value blocks")]
    Blocks(String, usize),
}

/// Hyper-parameters read off the checkpoint's shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HParams {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
}

fn count_layers(m: &Model, prefix: &str) -> usize {
    (0..).take_while(|i| m.variables.contains_key(&format!("{prefix}/layer_{i}/ffn/linear_0/weight"))).count()
}

fn heads(m: &Model, name: &str) -> Result<usize, Ct2Error> {
    m.get(name)?.scalar_int().filter(|h| *h > 0).map(|h| h as usize).ok_or_else(|| Ct2Error::Shape {
        name: name.into(),
        shape: vec![],
        want: "a positive integer".into(),
    })
}

fn dims2(m: &Model, name: &str) -> Result<(usize, usize), Ct2Error> {
    match m.get(name)?.shape.as_slice() {
        [a, b] => Ok((*a, *b)),
        s => Err(Ct2Error::Shape { name: name.into(), shape: s.to_vec(), want: "2 dimensions".into() }),
    }
}

pub fn hparams(m: &Model) -> Result<HParams, ConvertError> {
    if m.spec != "WhisperSpec" {
        return Err(ConvertError::NotWhisper(m.spec.clone()));
    }
    let (n_vocab, n_text_state) = dims2(m, "decoder/embeddings/weight")?;
    let (n_audio_ctx, n_audio_state) = dims2(m, "encoder/position_encodings/encodings")?;
    let (n_text_ctx, _) = dims2(m, "decoder/position_encodings/encodings")?;
    let conv = m.get("encoder/conv1/weight")?;
    let n_mels = *conv.shape.get(1).ok_or_else(|| Ct2Error::Shape {
        name: "encoder/conv1/weight".into(),
        shape: conv.shape.clone(),
        want: "[state, mels, 3]".into(),
    })?;
    Ok(HParams {
        n_vocab,
        n_audio_ctx,
        n_audio_state,
        n_audio_head: heads(m, "encoder/num_heads")?,
        n_audio_layer: count_layers(m, "encoder"),
        n_text_ctx,
        n_text_state,
        n_text_head: heads(m, "decoder/num_heads")?,
        n_text_layer: count_layers(m, "decoder"),
        n_mels,
    })
}

/// One tensor to write: ggml name, PyTorch-order shape, element type, and its values.
struct Out {
    name: String,
    shape: Vec<usize>,
    f16: bool,
    values: Vec<f32>,
}

fn values(name: &str, v: &Variable) -> Result<Vec<f32>, ConvertError> {
    match v.dtype {
        DType::F32 | DType::F16 | DType::BF16 => Ok(v.to_f32().unwrap_or_default()),
        _ => Err(ConvertError::Quantized(name.into())),
    }
}

struct Builder<'m, 'a> {
    m: &'m Model<'a>,
    out: Vec<Out>,
}

impl Builder<'_, '_> {
    /// Copies `src` whole; `f16` for matrices, f32 for everything else.
    fn copy(&mut self, src: &str, dst: &str, f16: bool) -> Result<(), ConvertError> {
        let v = self.m.get(src)?;
        self.out.push(Out { name: dst.into(), shape: v.shape.clone(), f16, values: values(src, v)? });
        Ok(())
    }

    /// Splits a fused projection along its first dimension into equal parts; `None` drops a part
    /// (Whisper's key projections have no bias).
    fn split(&mut self, src: &str, parts: &[Option<&str>], f16: bool) -> Result<(), ConvertError> {
        let v = self.m.get(src)?;
        let all = values(src, v)?;
        let rows = v.shape.first().copied().unwrap_or(0) / parts.len();
        let cols: usize = v.shape.iter().skip(1).product();
        for (i, dst) in parts.iter().enumerate() {
            let Some(dst) = dst else { continue };
            let mut shape = v.shape.clone();
            shape[0] = rows;
            let chunk = all[i * rows * cols..(i + 1) * rows * cols].to_vec();
            self.out.push(Out { name: (*dst).into(), shape, f16, values: chunk });
        }
        Ok(())
    }

    fn norm(&mut self, src: &str, dst: &str) -> Result<(), ConvertError> {
        self.copy(&format!("{src}/gamma"), &format!("{dst}.weight"), false)?;
        self.copy(&format!("{src}/beta"), &format!("{dst}.bias"), false)
    }

    fn linear(&mut self, src: &str, dst: &str) -> Result<(), ConvertError> {
        self.copy(&format!("{src}/weight"), &format!("{dst}.weight"), true)?;
        self.copy(&format!("{src}/bias"), &format!("{dst}.bias"), false)
    }

    fn ffn(&mut self, src: &str, dst: &str) -> Result<(), ConvertError> {
        self.norm(&format!("{src}/ffn/layer_norm"), &format!("{dst}.mlp_ln"))?;
        self.linear(&format!("{src}/ffn/linear_0"), &format!("{dst}.mlp.0"))?;
        self.linear(&format!("{src}/ffn/linear_1"), &format!("{dst}.mlp.2"))
    }

    fn self_attention(&mut self, src: &str, dst: &str) -> Result<(), ConvertError> {
        let (s, a) = (format!("{src}/self_attention"), format!("{dst}.attn"));
        self.norm(&format!("{s}/layer_norm"), &format!("{dst}.attn_ln"))?;
        let (q, k, v) = (format!("{a}.query"), format!("{a}.key"), format!("{a}.value"));
        self.split(
            &format!("{s}/linear_0/weight"),
            &[Some(&format!("{q}.weight")), Some(&format!("{k}.weight")), Some(&format!("{v}.weight"))],
            true,
        )?;
        self.split(
            &format!("{s}/linear_0/bias"),
            &[Some(&format!("{q}.bias")), None, Some(&format!("{v}.bias"))],
            false,
        )?;
        self.linear(&format!("{s}/linear_1"), &format!("{a}.out"))
    }

    fn cross_attention(&mut self, src: &str, dst: &str) -> Result<(), ConvertError> {
        let (s, a) = (format!("{src}/attention"), format!("{dst}.cross_attn"));
        self.norm(&format!("{s}/layer_norm"), &format!("{dst}.cross_attn_ln"))?;
        self.linear(&format!("{s}/linear_0"), &format!("{a}.query"))?;
        let (k, v) = (format!("{a}.key"), format!("{a}.value"));
        self.split(
            &format!("{s}/linear_1/weight"),
            &[Some(&format!("{k}.weight")), Some(&format!("{v}.weight"))],
            true,
        )?;
        self.split(&format!("{s}/linear_1/bias"), &[None, Some(&format!("{v}.bias"))], false)?;
        self.linear(&format!("{s}/linear_2"), &format!("{a}.out"))
    }
}

fn tensors(m: &Model, hp: &HParams) -> Result<Vec<Out>, ConvertError> {
    let mut b = Builder { m, out: Vec::new() };
    b.copy("encoder/position_encodings/encodings", "encoder.positional_embedding", false)?;
    for conv in ["conv1", "conv2"] {
        b.copy(&format!("encoder/{conv}/weight"), &format!("encoder.{conv}.weight"), true)?;
        b.copy(&format!("encoder/{conv}/bias"), &format!("encoder.{conv}.bias"), false)?;
        // whisper.cpp adds conv biases as [1, state] tensors.
        if let Some(last) = b.out.last_mut() {
            last.shape = vec![last.shape[0], 1];
        }
    }
    b.norm("encoder/layer_norm", "encoder.ln_post")?;
    for i in 0..hp.n_audio_layer {
        let (src, dst) = (format!("encoder/layer_{i}"), format!("encoder.blocks.{i}"));
        b.self_attention(&src, &dst)?;
        b.ffn(&src, &dst)?;
    }
    b.copy("decoder/position_encodings/encodings", "decoder.positional_embedding", false)?;
    b.copy("decoder/embeddings/weight", "decoder.token_embedding.weight", true)?;
    b.norm("decoder/layer_norm", "decoder.ln")?;
    for i in 0..hp.n_text_layer {
        let (src, dst) = (format!("decoder/layer_{i}"), format!("decoder.blocks.{i}"));
        b.self_attention(&src, &dst)?;
        b.cross_attention(&src, &dst)?;
        b.ffn(&src, &dst)?;
    }
    Ok(b.out)
}

fn i32le(w: &mut impl Write, v: usize) -> io::Result<()> {
    w.write_all(&(v as i32).to_le_bytes())
}

/// ggml's reference Q8_0 quantization of `values` (whole blocks): per block, the scale is the
/// largest magnitude over 127 and each weight its rounded quotient.
fn q8_0(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() / Q8_BLOCK * (2 + Q8_BLOCK));
    for block in values.chunks_exact(Q8_BLOCK) {
        let d = block.iter().fold(0f32, |m, x| m.max(x.abs())) / 127.0;
        let inv = if d == 0.0 { 0.0 } else { 1.0 / d };
        out.extend(half::f16::from_f32(d).to_le_bytes());
        // `round` rounds halves away from zero, as C's roundf; the quotient is within ±127.
        out.extend(block.iter().map(|x| (x * inv).round() as i8 as u8));
    }
    out
}

/// Converts a parsed CTranslate2 Whisper model and its `vocabulary.txt` into ggml, written to `w`.
pub fn convert(m: &Model, vocabulary_txt: &str, weights: Weights, w: &mut impl Write) -> Result<HParams, ConvertError> {
    let hp = hparams(m)?;
    let tensors = tensors(m, &hp)?;
    // whisper.cpp makes every matrix of the file's type, the convolutions (3 dimensions) f16.
    let quantized = |t: &Out| weights == Weights::Q8_0 && t.f16 && t.shape.len() == 2;
    if let Some(t) = tensors.iter().find(|t| quantized(t) && t.shape[1] % Q8_BLOCK != 0) {
        return Err(ConvertError::Blocks(t.name.clone(), t.shape[1]));
    }
    w.write_all(&MAGIC.to_le_bytes())?;
    for v in [
        hp.n_vocab,
        hp.n_audio_ctx,
        hp.n_audio_state,
        hp.n_audio_head,
        hp.n_audio_layer,
        hp.n_text_ctx,
        hp.n_text_state,
        hp.n_text_head,
        hp.n_text_layer,
        hp.n_mels,
        match weights {
            Weights::F16 => 1,
            Weights::Q8_0 => FTYPE_Q8_0,
        },
    ] {
        i32le(w, v)?;
    }
    let filters = super::mel::filters(16_000.0, 400, hp.n_mels);
    i32le(w, hp.n_mels)?;
    i32le(w, 201)?;
    for f in filters {
        w.write_all(&f.to_le_bytes())?;
    }
    let tokens = super::vocab::regular_tokens(vocabulary_txt);
    i32le(w, tokens.len())?;
    for t in &tokens {
        w.write_all(&(t.len() as u32).to_le_bytes())?;
        w.write_all(t)?;
    }
    for t in tensors {
        let q8 = quantized(&t);
        i32le(w, t.shape.len())?;
        i32le(w, t.name.len())?;
        let ty = match (q8, t.f16) {
            (true, _) => GGML_Q8_0,
            (false, true) => GGML_F16,
            (false, false) => GGML_F32,
        };
        w.write_all(&ty.to_le_bytes())?;
        for d in t.shape.iter().rev() {
            i32le(w, *d)?;
        }
        w.write_all(t.name.as_bytes())?;
        if q8 {
            w.write_all(&q8_0(&t.values))?;
        } else if t.f16 {
            let bytes: Vec<u8> = t.values.iter().flat_map(|x| half::f16::from_f32(*x).to_le_bytes()).collect();
            w.write_all(&bytes)?;
        } else {
            let bytes: Vec<u8> = t.values.iter().flat_map(|x| x.to_le_bytes()).collect();
            w.write_all(&bytes)?;
        }
    }
    Ok(hp)
}

#[cfg(test)]
mod tests {
    use super::q8_0;

    fn dequantize(bytes: &[u8]) -> Vec<f32> {
        bytes
            .chunks_exact(34)
            .flat_map(|b| {
                let d = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
                b[2..].iter().map(move |q| f32::from(*q as i8) * d)
            })
            .collect()
    }

    #[test]
    fn q8_0_blocks_are_ggmls() {
        // 0..31: the scale is 31/127, and 31 itself is +127.
        let ramp: Vec<f32> = (0..32).map(|i| i as f32).collect();
        let b = q8_0(&ramp);
        assert_eq!(b.len(), 34);
        assert_eq!(half::f16::from_le_bytes([b[0], b[1]]), half::f16::from_f32(31.0 / 127.0));
        assert_eq!(
            b[2..].iter().map(|q| *q as i8).collect::<Vec<_>>(),
            (0..32).map(|i| (i as f32 * 127.0 / 31.0).round() as i8).collect::<Vec<_>>()
        );
        assert_eq!(b[33] as i8, 127);
        // Halves round away from zero (C's roundf): -1.5 and 2.5 units of a block whose largest is 127 units.
        let mut halves = vec![0.0f32; 32];
        (halves[0], halves[1], halves[2]) = (-1.5, 2.5, 127.0);
        assert_eq!([q8_0(&halves)[2] as i8, q8_0(&halves)[3] as i8], [-2, 3]);
        // A block of zeros has a zero scale and zero weights, not NaNs.
        assert!(q8_0(&[0.0; 32]).iter().all(|b| *b == 0));
    }

    #[test]
    fn q8_0_keeps_each_weight_within_half_a_step() {
        let values: Vec<f32> =
            (0..32 * 64).map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * (1 + i / 32) as f32).collect();
        let back = dequantize(&q8_0(&values));
        assert_eq!(back.len(), values.len());
        for (block, got) in values.chunks(32).zip(back.chunks(32)) {
            let step = block.iter().fold(0f32, |m, x| m.max(x.abs())) / 127.0;
            for (x, y) in block.iter().zip(got) {
                // Half a step, plus the f16 scale's rounding over up to 127 steps.
                assert!((x - y).abs() <= step * 0.5 + step * 127.0 / 1024.0, "{x} became {y} (step {step})");
            }
        }
    }
}
