//! Writes whisper.cpp's ggml model file from a CTranslate2 Whisper checkpoint.
//!
//! Layout: magic, 11 i32 hyper-parameters, the mel filter bank, the regular vocabulary, then
//! tensors (n_dims, name length, type, dims innermost-first, name, data). Matrices stay f16;
//! biases, norms and positional embeddings are f32, as whisper.cpp allocates them.
use super::ct2::{Ct2Error, DType, Model, Variable};
use std::io::{self, Write};

const MAGIC: u32 = 0x6767_6d6c;
const GGML_F32: i32 = 0;
const GGML_F16: i32 = 1;

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

/// Converts a parsed CTranslate2 Whisper model and its `vocabulary.txt` into ggml, written to `w`.
pub fn convert(m: &Model, vocabulary_txt: &str, w: &mut impl Write) -> Result<HParams, ConvertError> {
    let hp = hparams(m)?;
    let tensors = tensors(m, &hp)?;
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
        1, // ftype: mostly f16
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
        i32le(w, t.shape.len())?;
        i32le(w, t.name.len())?;
        w.write_all(&(if t.f16 { GGML_F16 } else { GGML_F32 }).to_le_bytes())?;
        for d in t.shape.iter().rev() {
            i32le(w, *d)?;
        }
        w.write_all(t.name.as_bytes())?;
        if t.f16 {
            let bytes: Vec<u8> = t.values.iter().flat_map(|x| half::f16::from_f32(*x).to_le_bytes()).collect();
            w.write_all(&bytes)?;
        } else {
            let bytes: Vec<u8> = t.values.iter().flat_map(|x| x.to_le_bytes()).collect();
            w.write_all(&bytes)?;
        }
    }
    Ok(hp)
}
