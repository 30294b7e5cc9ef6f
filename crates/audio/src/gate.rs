//! The energy gate before decoding: audio that is (nearly) silent, or whose loudness barely
//! moves, holds no speech and is not decoded at all. Speech rises and falls with every
//! syllable (tens of dB between 20 ms frames); hiss, hum, fans and room tone stay within a few
//! dB. The VAD lets the onset of steady noise through; this gate catches it, deterministically,
//! from the samples alone.
use sokuji_core::guard::Rejection;

/// 20 ms frames at 16 kHz.
const FRAME: usize = 320;
/// Frames quieter than this (dBFS) are silence and ignored (digital silence, a muted microphone).
const SILENCE_DB: f32 = -60.0;
/// Least audio above the silence floor that can hold a word.
const MIN_ACTIVE_FRAMES: usize = 8;
/// Least spread (dB) between the loud (90th percentile) and quiet (10th) active frames.
const MIN_SPREAD_DB: f32 = 9.0;

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
