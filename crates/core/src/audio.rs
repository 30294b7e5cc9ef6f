//! The one audio shape engines see: mono f32 samples at 16 kHz.
use std::sync::Arc;

/// Sample rate of every [`Audio`]; decoders and resamplers convert to it at the edge.
pub const SAMPLE_RATE: u32 = 16_000;

/// Mono PCM at [`SAMPLE_RATE`], samples in [-1, 1]. Cheap to clone (shared buffer).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Audio {
    samples: Arc<[f32]>,
}

impl Audio {
    pub fn new(samples: impl Into<Arc<[f32]>>) -> Self {
        Self { samples: samples.into() }
    }

    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(SAMPLE_RATE)
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// A copy of the samples between two times (seconds), clamped to the audio.
    pub fn slice_secs(&self, start: f64, end: f64) -> Audio {
        let at = |t: f64| ((t.max(0.0) * f64::from(SAMPLE_RATE)) as usize).min(self.samples.len());
        let (a, b) = (at(start), at(end));
        Audio::new(&self.samples[a..b.max(a)])
    }
}
