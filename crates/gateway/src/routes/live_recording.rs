//! The audio of a live session kept for the archive (`"record": true`): written as it comes
//! into a WAV file in memory (mono 16-bit at the client's rate, the bytes that are stored), up
//! to a cap, so that a session left running cannot fill the server's memory.
use sokuji_core::{Error, ErrorCode};

const HEADER: usize = 44;

pub struct LiveRecording {
    wav: Vec<u8>,
    rate: u32,
    cap: usize,
    full: bool,
}

impl LiveRecording {
    /// `cap_bytes`: the most audio data kept (2 bytes a sample).
    pub fn new(rate: u32, cap_bytes: u64) -> Self {
        let mut wav = Vec::with_capacity(HEADER + 64 * 1024);
        wav.resize(HEADER, 0);
        Self { wav, rate, cap: usize::try_from(cap_bytes).unwrap_or(usize::MAX), full: false }
    }

    /// Appends mono samples; the first time the cap is reached, the error to tell the client
    /// (the session goes on, transcribed but no longer recorded).
    pub fn push(&mut self, mono: &[f32]) -> Option<Error> {
        if self.full {
            return None;
        }
        let room = self.cap.saturating_sub(self.wav.len() - HEADER) / 2;
        for s in &mono[..mono.len().min(room)] {
            self.wav.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes());
        }
        if mono.len() <= room {
            return None;
        }
        self.full = true;
        Some(Error::new(
            ErrorCode::UploadTooLarge,
            format!(
                "the recording reached {} MB (SOKUJI_LIVE_RECORD_MAX_BYTES): the session goes on, transcribed \
                 but no longer recorded; what was recorded is kept",
                self.cap / 1_000_000
            ),
        ))
    }

    pub fn is_empty(&self) -> bool {
        self.wav.len() == HEADER
    }

    /// Seconds recorded.
    pub fn duration(&self) -> f64 {
        (self.wav.len() - HEADER) as f64 / 2.0 / f64::from(self.rate.max(1))
    }

    /// The WAV file: a canonical 44-byte PCM header in front of the samples.
    pub fn into_wav(mut self) -> Vec<u8> {
        let data = (self.wav.len() - HEADER) as u32;
        let mut h = Vec::with_capacity(HEADER);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&(36 + data).to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
        h.extend_from_slice(&1u16.to_le_bytes()); // PCM
        h.extend_from_slice(&1u16.to_le_bytes()); // mono
        h.extend_from_slice(&self.rate.to_le_bytes());
        h.extend_from_slice(&(self.rate * 2).to_le_bytes()); // bytes a second
        h.extend_from_slice(&2u16.to_le_bytes()); // bytes a frame
        h.extend_from_slice(&16u16.to_le_bytes()); // bits a sample
        h.extend_from_slice(b"data");
        h.extend_from_slice(&data.to_le_bytes());
        self.wav[..HEADER].copy_from_slice(&h);
        self.wav
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_wav_up_to_the_cap() {
        let tone: Vec<f32> = (0..8_000).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
        let mut r = LiveRecording::new(16_000, 20_000);
        assert!(r.is_empty());
        assert!(r.push(&tone).is_none());
        let err = r.push(&tone).expect("the cap is reached");
        assert_eq!(err.code, ErrorCode::UploadTooLarge);
        assert!(r.push(&tone).is_none(), "told once");
        assert_eq!(r.duration(), 10_000.0 / 16_000.0);
        let wav = r.into_wav();
        assert_eq!(wav.len(), 44 + 20_000);
        // The project's decoder reads it back: the samples kept, in order.
        let audio = sokuji_audio::decode_bytes(wav, Some("wav")).expect("a valid WAV");
        assert_eq!(audio.samples().len(), 10_000);
        let back = audio.samples()[4_000];
        assert!((back - tone[4_000]).abs() < 1e-3, "{back} vs {}", tone[4_000]);
    }
}
