//! Long recordings in windows. The ASR worker decodes a stored file piece by piece and
//! transcribes it a window at a time (10 minutes by default), each window cut at the quietest
//! moment near its end so that words are rarely split; the windows' transcripts are joined with
//! their times shifted. Memory stays bounded by one window whatever the file's length.
use sokuji_core::{Producer, Segment, Transcript};

const RATE: usize = 16_000;
/// Frames compared when looking for the quietest cut (100 ms).
const FRAME: usize = RATE / 10;

/// Splits a stream of 16 kHz samples into windows of at most `len` samples.
pub struct Windower {
    buf: Vec<f32>,
    len: usize,
    /// How far back from a window's end the cut may move to find quiet.
    slack: usize,
}

impl Windower {
    pub fn new(len_secs: f64) -> Self {
        let len = ((len_secs * RATE as f64) as usize).max(2 * FRAME);
        Self { buf: Vec::new(), len, slack: (len / 4).min(10 * RATE) }
    }

    /// Adds samples; returns the windows completed by them.
    pub fn push(&mut self, samples: &[f32]) -> Vec<Vec<f32>> {
        self.buf.extend_from_slice(samples);
        let mut out = Vec::new();
        while self.buf.len() >= self.len {
            let cut = quietest_cut(&self.buf[..self.len], self.slack);
            let rest = self.buf.split_off(cut);
            out.push(std::mem::replace(&mut self.buf, rest));
        }
        out
    }

    /// The last window, if any samples are left.
    pub fn finish(self) -> Option<Vec<f32>> {
        (!self.buf.is_empty()).then_some(self.buf)
    }
}

/// The end of the quietest 100 ms frame among the last `slack` samples of `window`, stepping
/// back frame by frame from its end; a frame must be clearly quieter (by a tenth) to move the
/// cut earlier, so steady sound keeps full windows.
fn quietest_cut(window: &[f32], slack: usize) -> usize {
    let energy = |end: usize| window[end - FRAME..end].iter().map(|x| x * x).sum::<f32>();
    let earliest = window.len().saturating_sub(slack).max(FRAME);
    let mut best = (window.len(), energy(window.len()));
    let mut end = window.len();
    while end >= earliest + FRAME {
        end -= FRAME;
        let e = energy(end);
        if e < best.1 * 0.9 {
            best = (end, e);
        }
    }
    best.0
}

/// Joins windows' transcripts in order.
#[derive(Default)]
pub struct Joined {
    t: Transcript,
    /// Seconds of audio before the next window.
    offset: f64,
    weighted_confidence: f64,
    producers: Vec<Producer>,
}

impl Joined {
    /// Appends the transcript of the next window, `secs` long.
    pub fn add(&mut self, part: Transcript, secs: f64) {
        for s in part.segments {
            let id = self.t.segments.len() as u32;
            self.t.segments.push(Segment { id, ..s.shifted(self.offset) });
        }
        self.producers.push(part.producer);
        let text = part.text.trim();
        if !text.is_empty() {
            if !self.t.text.is_empty() {
                self.t.text.push(' ');
            }
            self.t.text.push_str(text);
            self.weighted_confidence += f64::from(part.confidence) * secs;
        }
        if self.t.language.is_empty() {
            self.t.language = part.language;
        }
        self.offset += secs;
    }

    pub fn finish(mut self) -> Transcript {
        self.t.duration = self.offset;
        self.t.producer = Producer::join(self.producers);
        if self.offset > 0.0 {
            self.t.confidence = (self.weighted_confidence / self.offset) as f32;
        }
        self.t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sokuji_core::Word;

    fn tone(secs: f64, amplitude: f32) -> Vec<f32> {
        (0..(secs * RATE as f64) as usize).map(|i| (i as f32 * 0.1).sin() * amplitude).collect()
    }

    #[test]
    fn windows_cut_in_the_quiet_and_lose_no_sample() {
        // 3.5 s of sound, 0.3 s of silence, more sound: a 4 s window cuts inside the silence.
        let mut audio = tone(3.5, 0.5);
        audio.extend(vec![0.0; (0.3 * RATE as f64) as usize]);
        audio.extend(tone(6.0, 0.5));
        let mut w = Windower::new(4.0);
        let mut windows = Vec::new();
        for chunk in audio.chunks(1234) {
            windows.extend(w.push(chunk));
        }
        windows.extend(w.finish());
        let first = windows[0].len() as f64 / RATE as f64;
        assert!((3.5..=3.8).contains(&first), "cut at {first} s");
        assert!(windows.iter().all(|w| w.len() <= 4 * RATE));
        assert_eq!(windows.concat(), audio, "every sample once, in order");
        // Uniform sound: windows are full length.
        let mut w = Windower::new(1.0);
        let n: Vec<usize> = w.push(&tone(2.5, 0.5)).iter().map(Vec::len).collect();
        assert_eq!(n, [RATE, RATE]);
        assert_eq!(w.finish().map(|r| r.len()), Some(RATE / 2));
        assert!(Windower::new(1.0).finish().is_none());
    }

    fn part(text: &str, start: f64, end: f64) -> Transcript {
        Transcript {
            language_probability: None,
            text: text.into(),
            language: "vi".into(),
            confidence: 0.5,
            duration: end,
            segments: vec![Segment {
                id: 0,
                start,
                end,
                text: text.into(),
                words: vec![Word { text: text.into(), start, end, probability: 0.9 }],
                ..Default::default()
            }],
            producer: Producer::new("conformer-ctc", "vi-conformer"),
        }
    }

    #[test]
    fn joined_times_are_shifted_and_ids_renumbered() {
        let mut j = Joined::default();
        j.add(part("một", 1.0, 2.0), 10.0);
        j.add(Transcript { language: "vi".into(), ..Default::default() }, 5.0);
        j.add(part("hai", 0.5, 1.5), 10.0);
        let t = j.finish();
        assert_eq!(t.text, "một hai");
        assert_eq!(t.duration, 25.0);
        assert_eq!(
            t.segments.iter().map(|s| (s.id, s.start, s.end)).collect::<Vec<_>>(),
            [(0, 1.0, 2.0), (1, 15.5, 16.5)]
        );
        assert_eq!((t.segments[1].words[0].start, t.segments[1].words[0].end), (15.5, 16.5));
        assert!((t.confidence - 0.4).abs() < 1e-6, "{}", t.confidence);
        assert_eq!(t.producer, Producer::new("conformer-ctc", "vi-conformer"), "empty parts add no producer");
    }
}
