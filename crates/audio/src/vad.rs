//! Voice activity detection with earshot (pure Rust, streaming, 16 ms frames at 16 kHz).
use earshot::Detector;
use sokuji_core::stream::endpoint::{EndpointConfig, speech_regions};

/// Samples per VAD frame (16 ms at 16 kHz).
pub const FRAME: usize = 256;

/// Anything that scores a stream of 16 kHz samples frame by frame (`FRAME` samples a score,
/// partial frames kept between calls) with the probability that the frame is voice.
pub trait FrameScorer: Send {
    fn push(&mut self, samples: &[f32]) -> Vec<f32>;
}

/// Scores a stream of 16 kHz samples frame by frame, keeping partial frames between calls.
pub struct VoiceDetector {
    detector: Detector,
    pending: Vec<f32>,
}

impl Default for VoiceDetector {
    fn default() -> Self {
        Self { detector: Detector::default(), pending: Vec::with_capacity(FRAME) }
    }
}

impl FrameScorer for VoiceDetector {
    /// Voice probability of every whole frame completed by `samples`.
    fn push(&mut self, samples: &[f32]) -> Vec<f32> {
        self.pending.extend_from_slice(samples);
        let whole = self.pending.len() / FRAME * FRAME;
        let scores = self.pending[..whole].chunks_exact(FRAME).map(|f| self.detector.predict_f32(f)).collect();
        self.pending.drain(..whole);
        scores
    }
}

/// Merges speech regions into windows of at most `max_secs` for decoding (a longer region
/// stands alone).
pub fn group_regions(regions: &[(f64, f64)], max_secs: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for &(a, b) in regions {
        match out.last_mut() {
            Some(w) if b - w.0 <= max_secs => w.1 = b,
            _ => out.push((a, b)),
        }
    }
    out
}

/// Speech regions of a whole 16 kHz buffer, in seconds.
pub fn detect_speech(samples: &[f32], cfg: &EndpointConfig, pad: f64) -> Vec<(f64, f64)> {
    let scores = VoiceDetector::default().push(samples);
    speech_regions(&scores, cfg, pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_group_into_windows() {
        assert_eq!(group_regions(&[], 28.0), vec![]);
        assert_eq!(group_regions(&[(0.0, 5.0), (6.0, 20.0), (21.0, 27.0)], 28.0), vec![(0.0, 27.0)]);
        assert_eq!(group_regions(&[(0.0, 5.0), (6.0, 20.0), (21.0, 30.0)], 28.0), vec![(0.0, 20.0), (21.0, 30.0)]);
        assert_eq!(group_regions(&[(0.0, 45.0), (46.0, 50.0)], 28.0), vec![(0.0, 45.0), (46.0, 50.0)]);
    }

    #[test]
    fn silence_and_noise_have_no_speech() {
        let cfg = EndpointConfig::default();
        assert!(detect_speech(&vec![0.0; 16_000 * 3], &cfg, 0.1).is_empty());
        let mut seed = 12345u32;
        let noise: Vec<f32> = (0..48_000)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1u32 << 24) as f32 * 0.1 - 0.05
            })
            .collect();
        // earshot adapts to steady noise within a few hundred ms; only its onset may pass.
        let voiced: f64 = detect_speech(&noise, &cfg, 0.0).iter().map(|(a, b)| b - a).sum();
        assert!(voiced < 0.5, "{voiced} s of 3 s of white noise taken for speech");
    }
}
