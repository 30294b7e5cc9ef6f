//! The audio and final transcript of a live session kept for the archive (`"record": true`).
//! It tees from the session's own mono decode (no second decode of the client's bytes), keeps
//! 16-bit samples at the client's first rate (a client that changes rate mid-session is
//! resampled to it), up to a cap, so that a session left running cannot fill the server's memory.
use crate::event::{Recorded, Transcription};
use sokuji_audio::{
    StreamResampler,
    wav::{encode_wav_i16, to_i16},
};
use sokuji_core::{Error, ErrorCode, Producer, Segment};

pub struct Recorder {
    samples: Vec<i16>,
    rate: u32,
    /// From a later rate of the client to `rate`.
    convert: Option<(u32, StreamResampler)>,
    cap_samples: usize,
    full: bool,
    segments: Vec<Segment>,
    producers: Vec<Producer>,
}

impl Recorder {
    /// `cap_bytes`: the most audio data kept (2 bytes a sample). The rate is the client's
    /// first.
    pub fn new(cap_bytes: u64) -> Self {
        let cap_samples = usize::try_from(cap_bytes / 2).unwrap_or(usize::MAX);
        Self {
            samples: Vec::new(),
            rate: 0,
            convert: None,
            cap_samples,
            full: false,
            segments: Vec::new(),
            producers: Vec::new(),
        }
    }

    /// Appends mono samples; the first time the cap is reached, the error to tell the client
    /// (the session goes on, transcribed but no longer recorded).
    pub fn push(&mut self, rate: u32, mono: &[f32]) -> Option<Error> {
        if self.full {
            return None;
        }
        if self.samples.is_empty() {
            self.rate = rate;
        }
        let converted;
        let mono = if rate == self.rate {
            mono
        } else {
            if self.convert.as_ref().map(|(r, _)| *r) != Some(rate) {
                self.convert = StreamResampler::between(rate, self.rate).ok().map(|c| (rate, c));
            }
            converted = self.convert.as_mut().map(|(_, c)| c.push(mono)).unwrap_or_default();
            &converted[..]
        };
        let room = self.cap_samples.saturating_sub(self.samples.len());
        self.samples.extend(mono.iter().take(room).map(|s| to_i16(*s)));
        if mono.len() <= room {
            return None;
        }
        self.full = true;
        Some(Error::new(
            ErrorCode::UploadTooLarge,
            format!(
                "the recording reached {} MB (SOKUJI_LIVE_RECORD_MAX_BYTES): the session goes on, transcribed \
                 but no longer recorded; what was recorded is kept",
                self.cap_samples * 2 / 1_000_000
            ),
        ))
    }

    /// Keeps a final transcript (with its words) as a segment; empty ones are not kept.
    pub fn add(&mut self, t: &Transcription) {
        if !t.is_final || t.text.trim().is_empty() {
            return;
        }
        self.segments.push(Segment {
            id: self.segments.len() as u32,
            start: t.start,
            end: t.end,
            text: t.text.clone(),
            words: t.words.clone(),
            no_speech_probability: 0.0,
            language: t.language.clone(),
        });
        self.producers.push(t.producer.clone());
    }

    /// The WAV and the segments; `None` when no audio came.
    pub fn finish(self) -> Option<Recorded> {
        if self.samples.is_empty() {
            return None;
        }
        let duration = self.samples.len() as f64 / f64::from(self.rate.max(1));
        let producer = Producer::join(self.producers);
        Some(Recorded { wav: encode_wav_i16(&self.samples, self.rate), duration, segments: self.segments, producer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_wav_up_to_the_cap() {
        let tone: Vec<f32> = (0..8_000).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
        let mut r = Recorder::new(20_000);
        assert!(r.push(16_000, &tone).is_none());
        let err = r.push(16_000, &tone).expect("the cap is reached");
        assert_eq!(err.code, ErrorCode::UploadTooLarge);
        assert!(r.push(16_000, &tone).is_none(), "told once");
        let rec = r.finish().expect("audio");
        assert_eq!(rec.duration, 10_000.0 / 16_000.0);
        assert_eq!(rec.wav.len(), 44 + 20_000);
        // The project's decoder reads it back: the samples kept, in order.
        let audio = sokuji_audio::decode_bytes(rec.wav, Some("wav")).expect("a valid WAV");
        assert_eq!(audio.samples().len(), 10_000);
        let back = audio.samples()[4_000];
        assert!((back - tone[4_000]).abs() < 1e-3, "{back} vs {}", tone[4_000]);
    }

    #[test]
    fn a_change_of_rate_is_resampled_to_the_first() {
        let second = |rate: u32| vec![0.1f32; rate as usize];
        let mut r = Recorder::new(1 << 20);
        assert!(r.push(16_000, &second(16_000)).is_none());
        assert!(r.push(48_000, &second(48_000)).is_none());
        let rec = r.finish().expect("audio");
        // The resampler holds back its filter's delay; the rest of the second is there.
        assert!((rec.duration - 2.0).abs() < 0.1, "{} s", rec.duration);
    }

    #[test]
    fn nothing_recorded_is_nothing_stored() {
        assert!(Recorder::new(1_000).finish().is_none());
    }
}
