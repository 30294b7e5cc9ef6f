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
    use sokuji_testkit::noise::{at_dbfs, hum, mix, pink, syllables, white};

    #[test]
    fn steady_noise_and_silence_are_refused_syllables_pass() {
        let cases: Vec<(&str, Vec<f32>, Option<Rejection>)> = vec![
            ("digital silence", vec![0.0; 48_000], Some(Rejection::Quiet)),
            ("a muted microphone", at_dbfs(white(3.0, 3), -70.0), Some(Rejection::Quiet)),
            ("white noise, quiet", at_dbfs(white(3.0, 3), -45.0), Some(Rejection::Steady)),
            ("white noise, loud", at_dbfs(white(3.0, 3), -15.0), Some(Rejection::Steady)),
            ("pink noise", at_dbfs(pink(3.0), -30.0), Some(Rejection::Steady)),
            ("mains hum", at_dbfs(hum(3.0), -25.0), Some(Rejection::Steady)),
            (
                "hiss after a second of silence",
                [vec![0.0; 16_000], at_dbfs(white(3.0, 5), -39.0)].concat(),
                Some(Rejection::Steady),
            ),
            ("a word", at_dbfs(syllables(0.5), -20.0), None),
            ("syllables", at_dbfs(syllables(3.0), -20.0), None),
            ("quiet syllables", at_dbfs(syllables(3.0), -45.0), None),
            ("syllables in hiss at 10 dB", mix(&at_dbfs(syllables(3.0), -20.0), &at_dbfs(white(3.0, 9), -30.0)), None),
        ];
        for (name, audio, expected) in cases {
            assert_eq!(judge(&audio), expected, "{name}: {:?}", measure(&audio));
        }
    }
}
