//! A GGUF instruct model in candle: loading, and greedy generation with stop tokens, stopped
//! early when its caller has gone or its deadline passed (checked between tokens).
use crate::tokenizer::GgufTokenizer;
use candle_core::{Device, Tensor, quantized::gguf_file};
use candle_transformers::models::quantized_qwen2::ModelWeights;
use sokuji_admission::Ticket;
use sokuji_core::prompt::Chat;
use std::{
    path::{Path, PathBuf},
    time::Instant,
};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot open {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a usable GGUF model: {detail}")]
    Format { path: PathBuf, detail: String },
}

/// Why a generation stopped early.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The caller went away or the deadline passed (the ticket's error), after so many tokens.
    #[error("{0} (after {1} tokens)")]
    Stopped(sokuji_core::Error, usize),
    #[error("prompt of {0} tokens is longer than the {1}-token context")]
    TooLong(usize, usize),
    #[error("{0}")]
    Engine(String),
}

/// What one generation produced, with its costs.
#[derive(Debug)]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    pub prompt_ms: f64,
    pub generate_ms: f64,
    /// Set when the answer came from the second, guarded prompt.
    pub retried: bool,
}

pub struct Model {
    weights: ModelWeights,
    tokenizer: GgufTokenizer,
    device: Device,
    im_start: u32,
    im_end: u32,
    stops: Vec<u32>,
    context: usize,
    name: String,
}

impl Model {
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let fmt = |detail: String| LoadError::Format { path: path.into(), detail };
        let mut file = std::fs::File::open(path).map_err(|source| LoadError::Io { path: path.into(), source })?;
        let ct = gguf_file::Content::read(&mut file).map_err(|e| fmt(e.to_string()))?;
        let arch = ct.metadata.get("general.architecture").and_then(|v| v.to_string().ok()).cloned();
        if arch.as_deref() != Some("qwen2") {
            return Err(fmt(format!("architecture {arch:?} is not supported (qwen2 only)")));
        }
        let name = ct
            .metadata
            .get("general.name")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
        // The chat template's window; the model's own context is larger, but CPU attention over
        // tens of thousands of tokens is not a translation workload.
        let context = 4096;
        let tokenizer = GgufTokenizer::from_gguf(&ct).map_err(fmt)?;
        let special = |t: &str| tokenizer.special(t).ok_or_else(|| fmt(format!("vocabulary lacks {t}")));
        let (im_start, im_end) = (special("<|im_start|>")?, special("<|im_end|>")?);
        let stops = ["<|im_end|>", "<|endoftext|>"].iter().filter_map(|t| tokenizer.special(t)).collect();
        let device = Device::Cpu;
        let weights = ModelWeights::from_gguf(ct, &mut file, &device).map_err(|e| fmt(e.to_string()))?;
        Ok(Self { weights, tokenizer, device, im_start, im_end, stops, context, name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn count_tokens(&self, text: &str) -> usize {
        self.tokenizer.encode(text).map(|t| t.len()).unwrap_or(0)
    }

    /// ChatML token ids: special tokens by id, text through the tokenizer.
    fn encode_chat(&self, chat: &Chat) -> Result<Vec<u32>, GenerateError> {
        let enc = |s: &str| self.tokenizer.encode(s).map_err(GenerateError::Engine);
        let mut ids = vec![self.im_start];
        ids.extend(enc(&format!("system\n{}", chat.system))?);
        ids.push(self.im_end);
        ids.extend(enc("\n")?);
        for (user, assistant) in &chat.examples {
            ids.push(self.im_start);
            ids.extend(enc(&format!("user\n{user}"))?);
            ids.push(self.im_end);
            ids.extend(enc("\n")?);
            ids.push(self.im_start);
            ids.extend(enc(&format!("assistant\n{assistant}"))?);
            ids.push(self.im_end);
            ids.extend(enc("\n")?);
        }
        ids.push(self.im_start);
        ids.extend(enc(&format!("user\n{}", chat.user))?);
        ids.push(self.im_end);
        ids.extend(enc("\n")?);
        ids.push(self.im_start);
        ids.extend(enc(&format!("assistant\n{}", chat.answer_prefix))?);
        Ok(ids)
    }

    /// Greedy decoding until a stop token, `max_new` tokens, or the ticket's cancellation.
    pub fn generate(&mut self, chat: &Chat, max_new: usize, ticket: &Ticket) -> Result<Generation, GenerateError> {
        let engine = |e: candle_core::Error| GenerateError::Engine(e.to_string());
        let prompt = self.encode_chat(chat)?;
        if prompt.len() + max_new > self.context {
            return Err(GenerateError::TooLong(prompt.len(), self.context.saturating_sub(max_new)));
        }
        ticket.check().map_err(|e| GenerateError::Stopped(e, 0))?;
        self.weights.clear_kv_cache();
        let started = Instant::now();
        let input = Tensor::new(prompt.as_slice(), &self.device).and_then(|t| t.unsqueeze(0)).map_err(engine)?;
        let logits = self.weights.forward(&input, 0).map_err(engine)?;
        let mut next = argmax(&logits).map_err(engine)?;
        let prompt_ms = started.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        let mut out = Vec::new();
        let close = self.tokenizer.encode("</text>").map_err(GenerateError::Engine)?;
        while !self.stops.contains(&next) && out.len() < max_new && !out.ends_with(&close) {
            ticket.check().map_err(|e| GenerateError::Stopped(e, out.len()))?;
            out.push(next);
            let input = Tensor::new(&[next], &self.device).and_then(|t| t.unsqueeze(0)).map_err(engine)?;
            let logits = self.weights.forward(&input, prompt.len() + out.len() - 1).map_err(engine)?;
            next = argmax(&logits).map_err(engine)?;
        }
        let text = self.tokenizer.decode(&out).map_err(GenerateError::Engine)?;
        Ok(Generation {
            text,
            prompt_tokens: prompt.len(),
            generated_tokens: out.len(),
            prompt_ms,
            generate_ms: started.elapsed().as_secs_f64() * 1000.0,
            retried: false,
        })
    }
}

fn argmax(logits: &Tensor) -> candle_core::Result<u32> {
    // The model returns logits of the last position only: shape (1, vocab).
    logits.squeeze(0)?.argmax(0)?.to_scalar::<u32>()
}
