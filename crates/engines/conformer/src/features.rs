//! The model's input features, reproduced exactly (they are not Kaldi fbank): samples at int16
//! scale, no dither, no DC removal; pre-emphasis 0.97 once over the whole stream (`y[0] = x[0]`);
//! 400-sample frames every 160 with a Povey window; a 512-point power spectrum; 80 triangular mel
//! filters placed on FFT bin indices (mel = 1127·ln(1 + f/700), 20–7600 Hz; two come out empty);
//! `ln(max(e, 1e-10))`, no normalization.
//!
//! Streaming: samples go in as they come and whole frames come out; feeding a clip in pieces
//! gives the same frames as feeding it at once.
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

pub const MEL_BINS: usize = 80;
const FRAME: usize = 400;
const HOP: usize = 160;
const FFT: usize = 512;
const SAMPLE_RATE: f32 = 16_000.0;
const PREEMPHASIS: f32 = 0.97;
const LOW_HZ: f32 = 20.0;
const HIGH_HZ: f32 = 7600.0;
const FLOOR: f32 = 1e-10;

pub type Frame = [f32; MEL_BINS];

/// The fixed parts (window, filters, FFT plan), shared by every stream.
pub struct FeatureBank {
    window: Vec<f32>,
    /// Per filter: first FFT bin and the weights from there.
    filters: Vec<(usize, Vec<f32>)>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl Default for FeatureBank {
    fn default() -> Self {
        Self::new()
    }
}

fn mel(hz: f32) -> f32 {
    1127.0 * (1.0 + hz / 700.0).ln()
}

fn hz(mel: f32) -> f32 {
    700.0 * ((mel / 1127.0).exp() - 1.0)
}

/// FFT bin index of each of the 82 mel points (80 filters share their edges).
fn mel_points() -> Vec<usize> {
    let (lo, hi) = (mel(LOW_HZ), mel(HIGH_HZ));
    let n = MEL_BINS + 2;
    (0..n)
        .map(|i| {
            let m = lo + (hi - lo) * i as f32 / (n - 1) as f32;
            ((FFT + 1) as f32 * hz(m) / SAMPLE_RATE).floor() as usize
        })
        .collect()
}

impl FeatureBank {
    pub fn new() -> Self {
        let window = (0..FRAME)
            .map(|n| {
                let hann = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / (FRAME - 1) as f64).cos();
                hann.powf(0.85) as f32
            })
            .collect();
        let points = mel_points();
        let filters = (1..=MEL_BINS)
            .map(|m| {
                let (l, c, r) = (points[m - 1], points[m], points[m + 1]);
                let rise = (l..c).map(|k| (k - l) as f32 / (c - l) as f32);
                let fall = (c..r).map(|k| (r - k) as f32 / (r - c) as f32);
                (l, rise.chain(fall).collect())
            })
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT);
        Self { window, filters, fft }
    }

    /// One frame of pre-emphasized samples to its log-mel energies.
    fn frame(&self, samples: &[f32], scratch: &mut Scratch) -> Frame {
        for (o, (s, w)) in scratch.input.iter_mut().zip(samples.iter().zip(&self.window)) {
            *o = s * w;
        }
        scratch.input[FRAME..].fill(0.0);
        // Lengths are fixed by construction; the FFT cannot fail on them.
        let _ = self.fft.process_with_scratch(&mut scratch.input, &mut scratch.spectrum, &mut scratch.fft);
        let mut out = [0.0; MEL_BINS];
        for (o, (start, weights)) in out.iter_mut().zip(&self.filters) {
            let e: f32 = weights.iter().zip(&scratch.spectrum[*start..]).map(|(w, c)| w * c.norm_sqr()).sum();
            *o = e.max(FLOOR).ln();
        }
        out
    }
}

struct Scratch {
    input: Vec<f32>,
    spectrum: Vec<realfft::num_complex::Complex<f32>>,
    fft: Vec<realfft::num_complex::Complex<f32>>,
}

/// The features of one stream of audio.
pub struct Features {
    bank: Arc<FeatureBank>,
    scratch: Scratch,
    /// The last raw sample seen (pre-emphasis reaches back one sample across pushes).
    previous: Option<f32>,
    /// Pre-emphasized samples not yet consumed by a whole frame.
    pending: Vec<f32>,
}

impl Features {
    pub fn new(bank: Arc<FeatureBank>) -> Self {
        let scratch = Scratch {
            input: bank.fft.make_input_vec(),
            spectrum: bank.fft.make_output_vec(),
            fft: bank.fft.make_scratch_vec(),
        };
        Self { bank, scratch, previous: None, pending: Vec::new() }
    }

    /// Takes 16 kHz samples in [-1, 1] and appends every frame now complete to `out`.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<Frame>) {
        self.pending.reserve(samples.len());
        for &s in samples {
            let x = s * 32768.0;
            let y = match self.previous {
                Some(p) => x - PREEMPHASIS * p,
                None => x,
            };
            self.previous = Some(x);
            self.pending.push(y);
        }
        let mut start = 0;
        while self.pending.len() - start >= FRAME {
            let frame = self.bank.frame(&self.pending[start..start + FRAME], &mut self.scratch);
            out.push(frame);
            start += HOP;
        }
        self.pending.drain(..start);
    }
}

/// All frames of a whole clip.
pub fn features(bank: &Arc<FeatureBank>, samples: &[f32]) -> Vec<Frame> {
    let mut out = Vec::with_capacity(samples.len() / HOP + 1);
    Features::new(bank.clone()).push(samples, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_filters_are_empty_and_the_others_are_triangles() {
        let bank = FeatureBank::new();
        let empty: Vec<usize> =
            bank.filters.iter().enumerate().filter(|(_, f)| f.1.iter().sum::<f32>() == 0.0).map(|(i, _)| i).collect();
        assert_eq!(empty, vec![1, 6]);
        for (start, w) in &bank.filters {
            assert!(w.iter().all(|x| (0.0..=1.0).contains(x)), "filter at {start}: {w:?}");
        }
        // The last filter ends below bin floor(513 * 7600 / 16000) = 243.
        let (start, w) = bank.filters.last().expect("80 filters");
        assert!(start + w.len() <= 243);
        assert_eq!(mel_points().last(), Some(&243));
    }

    #[test]
    fn frame_count_and_the_empty_filters_read_the_floor() {
        let bank = Arc::new(FeatureBank::new());
        assert!(features(&bank, &[0.1; 399]).is_empty());
        assert_eq!(features(&bank, &[0.1; 400]).len(), 1);
        assert_eq!(features(&bank, &[0.1; 16_000]).len(), 1 + (16_000 - 400) / 160);
        let tone: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.3).sin() * 0.5).collect();
        for f in features(&bank, &tone) {
            assert_eq!(f[1], FLOOR.ln());
            assert_eq!(f[6], FLOOR.ln());
        }
    }

    /// Hand-computed: a constant signal c is, after pre-emphasis, c at sample 0 and 0.03·c after.
    /// A frame away from the start is then 0.03·c times the window; its spectrum at DC is
    /// (0.03·c·Σw)², and the first filter (bins 0..2, weights 0 then 1 on bin 1) sees bin 1 only.
    #[test]
    fn constant_signal_matches_hand_computed_energies() {
        let bank = Arc::new(FeatureBank::new());
        let c = 1000.0 / 32768.0;
        let frames = features(&bank, &vec![c; 800]);
        let w = &bank.window;
        let y = 0.03 * 1000.0_f64;
        // Bin 1 of the windowed constant: |Σ y·w[n]·e^{-2πi n/512}|².
        let (re, im) = w.iter().enumerate().fold((0.0f64, 0.0f64), |(re, im), (n, &wn)| {
            let a = -2.0 * std::f64::consts::PI * n as f64 / 512.0;
            (re + y * wn as f64 * a.cos(), im + y * wn as f64 * a.sin())
        });
        let points = mel_points();
        assert_eq!(&points[..3], &[0, 1, 2], "first filter spans bins 0..2");
        let expected = (re * re + im * im).ln() as f32;
        assert!((frames[1][0] - expected).abs() < 1e-3, "{} vs {expected}", frames[1][0]);
    }

    /// Values from an independent NumPy implementation of the same recipe, which reproduces the
    /// vietasr package's own transcripts exactly: two tones at int16 scale, frames 0 and 3.
    #[test]
    fn two_tones_match_the_reference_implementation() {
        let bank = Arc::new(FeatureBank::new());
        let x: Vec<f32> = (0..1000)
            .map(|n| {
                let t = n as f64 / 16_000.0;
                let v = 8000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                    + 3000.0 * (2.0 * std::f64::consts::PI * 1234.0 * t).sin();
                (v.round() / 32768.0) as f32
            })
            .collect();
        let frames = features(&bank, &x);
        assert_eq!(frames.len(), 4);
        let bins = [0, 1, 5, 20, 40, 79];
        let reference: [(usize, [f32; 6]); 2] = [
            (0, [8.195, -23.0259, 9.8968, 12.5668, 7.3171, 5.4534]),
            (3, [8.5516, -23.0259, 9.8489, 12.6746, 7.2593, 5.2798]),
        ];
        for (frame, want) in reference {
            for (b, w) in bins.iter().zip(want) {
                let got = frames[frame][*b];
                assert!((got - w).abs() < 2e-3, "frame {frame} bin {b}: {got} vs {w}");
            }
        }
    }

    #[test]
    fn streaming_in_pieces_equals_one_push() {
        let bank = Arc::new(FeatureBank::new());
        let x: Vec<f32> = (0..9_000).map(|i| ((i * 7919) % 2001) as f32 / 2001.0 - 0.5).collect();
        let whole = features(&bank, &x);
        let mut f = Features::new(bank.clone());
        let mut pieces = Vec::new();
        for chunk in x.chunks(337) {
            f.push(chunk, &mut pieces);
        }
        assert_eq!(whole, pieces);
    }
}
