//! One loaded Piper voice: an ONNX Runtime session and its config.
use crate::config::{PiperConfig, phoneme_ids};
use sokuji_espeak::{espeak, join_clauses};
use sokuji_onnx::ort::{self, session::Session, value::Tensor};
use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

#[derive(Debug, thiserror::Error)]
pub enum PiperError {
    #[error("cannot read {path}: {detail}")]
    Config { path: PathBuf, detail: String },
    #[error("ONNX Runtime could not be loaded from {path}: {detail}")]
    Runtime { path: PathBuf, detail: String },
    #[error("cannot load voice {path}: {detail}")]
    Model { path: PathBuf, detail: String },
    #[error("phonemization failed: {0}")]
    Phonemes(String),
    #[error("inference failed: {0}")]
    Inference(String),
}

fn runtime(lib: &Path) -> Result<&'static ort::environment::Environment, PiperError> {
    sokuji_onnx::runtime(lib).map_err(|detail| PiperError::Runtime { path: lib.into(), detail })
}

pub struct PiperVoice {
    pub config: PiperConfig,
    /// File stem, e.g. "en_US-joe-medium".
    pub name: String,
    /// `Session::run` takes `&mut self`: one inference at a time per voice.
    session: Mutex<Session>,
}

impl PiperVoice {
    /// Loads `model` (.onnx) with its `model.json` (or `.onnx.json`) beside it; `spin` as in
    /// [`sokuji_onnx::session`].
    pub fn load(model: &Path, runtime_lib: &Path, threads: usize, spin: bool) -> Result<Self, PiperError> {
        let mut json = model.as_os_str().to_owned();
        json.push(".json");
        let json = PathBuf::from(json);
        let raw = std::fs::read(&json).map_err(|e| PiperError::Config { path: json.clone(), detail: e.to_string() })?;
        let config: PiperConfig = serde_json::from_slice(&raw)
            .map_err(|e| PiperError::Config { path: json.clone(), detail: e.to_string() })?;
        runtime(runtime_lib)?;
        let session = sokuji_onnx::session(runtime_lib, model, threads, spin)
            .map_err(|detail| PiperError::Model { path: model.into(), detail })?;
        let name = model.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        tracing::info!(voice = %name, sample_rate = config.audio.sample_rate, "piper voice loaded");
        Ok(Self { config, name, session: Mutex::new(session) })
    }

    pub fn sample_rate(&self) -> u32 {
        self.config.audio.sample_rate
    }

    /// The phoneme string Piper reads for `text`.
    pub fn phonemes(&self, text: &str) -> Result<String, PiperError> {
        let mut e = espeak().map_err(|e| PiperError::Phonemes(e.to_string()))?;
        let clauses = e.phonemize(&self.config.espeak.voice, text).map_err(|e| PiperError::Phonemes(e.to_string()))?;
        Ok(join_clauses(&clauses))
    }

    /// Mono f32 samples at `sample_rate()`. `speed` > 1 speaks faster.
    pub fn synthesize(&self, text: &str, speed: f32) -> Result<Vec<f32>, PiperError> {
        let phonemes = self.phonemes(text)?;
        let ids = phoneme_ids(&phonemes, &self.config.phoneme_id_map);
        if ids.len() <= 3 {
            return Ok(Vec::new());
        }
        let inf = &self.config.inference;
        let scales = vec![inf.noise_scale, inf.length_scale / speed.max(0.1), inf.noise_w];
        let ie = |e: ort::Error| PiperError::Inference(e.to_string());
        let n = ids.len();
        let input = Tensor::from_array(([1, n], ids)).map_err(ie)?;
        let lengths = Tensor::from_array(([1], vec![n as i64])).map_err(ie)?;
        let scales = Tensor::from_array(([3], scales)).map_err(ie)?;
        let mut session = self.session.lock().map_err(|_| PiperError::Inference("session poisoned".into()))?;
        let outputs = if self.config.num_speakers > 1 {
            let sid = Tensor::from_array(([1], vec![0i64])).map_err(ie)?;
            session.run(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales, "sid" => sid])
        } else {
            session.run(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales])
        }
        .map_err(ie)?;
        let (_, audio) = outputs[0].try_extract_tensor::<f32>().map_err(ie)?;
        Ok(audio.to_vec())
    }
}
