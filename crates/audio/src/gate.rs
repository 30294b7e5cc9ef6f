//! The energy gate before decoding: audio that is (nearly) silent, or whose loudness barely
//! moves, holds no speech and is not decoded at all. Speech rises and falls with every
//! syllable; hiss, hum and fans stay within a few dB. The VAD lets the onset of steady noise
//! through (the case of a CI run that got a sentence from 3 s of silence and 3 s of hiss); this
//! gate catches it, deterministically, from the samples alone.
//!
//! Measured on 20 ms frames (`bench/gate.py`, bench/results/gate-2026-11-30.md): between the
//! 90th and the 10th percentile of frame energy, white noise spreads 0.6 dB, pink 4.5, mains hum
//! 0; the twelve test recordings 14.2 dB and more (their first second alone too), 13.2 and more
//! with white noise at 10 dB SNR, 8.8 at 5 dB, 5.0–6.5 at 0 dB (refused about half the time:
//! Whisper makes little of those anyway). Rumble (brown noise) spreads about 11 dB and passes:
//! the VAD and the decoder's own guards (`core::guard`) are the lines of defence there.
use sokuji_core::guard::Rejection;

/// 20 ms frames at 16 kHz.
const FRAME: usize = 320;
/// Frames quieter than this (dBFS) are silence and ignored (digital silence, a muted microphone).
const SILENCE_DB: f32 = -60.0;
/// Least audio above the silence floor that can hold a word.
const MIN_ACTIVE_FRAMES: usize = 8;
/// Least spread (dB) between the loud (90th percentile) and quiet (10th) active frames.
const MIN_SPREAD_DB: f32 = 6.0;

/// What the gate measured, for tuning and tests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measure {
    /// Frames above the silence floor.
    pub active_frames: usize,
    /// dB between the 90th and 10th percentile of active frames' energy.
    pub spread_db: f32,
}

/// Frame energies of 16 kHz mono samples (dBFS), the partial tail frame included.
fn frame_db(samples: &[f32]) -> impl Iterator<Item = f32> + '_ {
    samples.chunks(FRAME).filter(|f| f.len() >= FRAME / 2).map(|f| {
        let power = f.iter().map(|s| s * s).sum::<f32>() / f.len() as f32;
        10.0 * (power + 1e-12).log10()
    })
}

pub fn measure(samples: &[f32]) -> Measure {
    let mut active: Vec<f32> = frame_db(samples).filter(|db| *db > SILENCE_DB).collect();
    active.sort_by(f32::total_cmp);
    let pct = |p: usize| active.get((active.len().saturating_sub(1)) * p / 100).copied().unwrap_or(SILENCE_DB);
    Measure { active_frames: active.len(), spread_db: pct(90) - pct(10) }
}

/// `None` when the audio may hold speech; otherwise why it does not.
pub fn judge(samples: &[f32]) -> Option<Rejection> {
    let m = measure(samples);
    if m.active_frames < MIN_ACTIVE_FRAMES {
        Some(Rejection::Quiet)
    } else if m.spread_db < MIN_SPREAD_DB {
        Some(Rejection::Steady)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise in [-1, 1].
    fn white(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.max(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                s as f32 / u32::MAX as f32 * 2.0 - 1.0
            })
            .collect()
    }

    fn at_db(x: Vec<f32>, db: f32) -> Vec<f32> {
        let rms = (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt().max(1e-9);
        let g = 10f32.powf(db / 20.0) / rms;
        x.into_iter().map(|v| v * g).collect()
    }

    /// Pink-ish noise: white through Paul Kellet's economy filter.
    fn pink(n: usize) -> Vec<f32> {
        let (mut b0, mut b1, mut b2) = (0f32, 0f32, 0f32);
        white(n, 7)
            .into_iter()
            .map(|w| {
                b0 = 0.99765 * b0 + w * 0.0990460;
                b1 = 0.96300 * b1 + w * 0.2965164;
                b2 = 0.57000 * b2 + w * 1.0526913;
                b0 + b1 + b2 + w * 0.1848
            })
            .collect()
    }

    fn hum(n: usize) -> Vec<f32> {
        let t = |i: usize, f: f32| (2.0 * std::f32::consts::PI * f * i as f32 / 16_000.0).sin();
        (0..n).map(|i| 0.5 * t(i, 50.0) + 0.3 * t(i, 100.0) + 0.2 * t(i, 150.0)).collect()
    }

    /// Syllables: a harmonic tone swelling and fading four times a second, with pauses.
    fn syllables(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                let envelope = (std::f32::consts::PI * 4.0 * t).sin().max(0.0).powi(2);
                envelope
                    * ((2.0 * std::f32::consts::PI * 140.0 * t).sin()
                        + 0.5 * (2.0 * std::f32::consts::PI * 280.0 * t).sin())
            })
            .collect()
    }

    #[test]
    fn steady_noise_and_silence_are_refused_syllables_pass() {
        let n = 48_000;
        let cases: Vec<(&str, Vec<f32>, Option<Rejection>)> = vec![
            ("digital silence", vec![0.0; n], Some(Rejection::Quiet)),
            ("a muted microphone", at_db(white(n, 3), -70.0), Some(Rejection::Quiet)),
            ("white noise, quiet", at_db(white(n, 3), -45.0), Some(Rejection::Steady)),
            ("white noise, loud", at_db(white(n, 3), -15.0), Some(Rejection::Steady)),
            ("pink noise", at_db(pink(n), -30.0), Some(Rejection::Steady)),
            ("mains hum", at_db(hum(n), -25.0), Some(Rejection::Steady)),
            (
                "hiss after a second of silence",
                [vec![0.0; 16_000], at_db(white(n, 5), -39.0)].concat(),
                Some(Rejection::Steady),
            ),
            ("a word", at_db(syllables(8_000), -20.0), None),
            ("syllables", at_db(syllables(n), -20.0), None),
            ("quiet syllables", at_db(syllables(n), -45.0), None),
            ("syllables in hiss at 10 dB", mix(at_db(syllables(n), -20.0), at_db(white(n, 9), -30.0)), None),
        ];
        for (name, audio, expected) in cases {
            assert_eq!(judge(&audio), expected, "{name}: {:?}", measure(&audio));
        }
    }

    fn mix(a: Vec<f32>, b: Vec<f32>) -> Vec<f32> {
        a.into_iter().zip(b).map(|(x, y)| x + y).collect()
    }
}
