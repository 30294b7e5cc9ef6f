//! Endpointing: turns per-frame voice probabilities into utterance starts and ends, with
//! hysteresis so that a cough does not start an utterance and a breath does not end one.

/// Tuning of the endpointer; frames are whatever the VAD scores (16 ms for earshot).
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointConfig {
    pub frame_secs: f64,
    /// Score a frame needs to count toward starting an utterance: higher than `end_threshold`,
    /// so the onset of steady noise (which VADs briefly score as voice) does not start one.
    pub start_threshold: f32,
    /// Inside an utterance, a frame below this score counts toward ending it.
    pub end_threshold: f32,
    /// Voiced frames in a row that start an utterance.
    pub min_speech_frames: u32,
    /// Unvoiced frames in a row that end one.
    pub min_silence_frames: u32,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            frame_secs: 0.016,
            start_threshold: 0.7,
            end_threshold: 0.5,
            min_speech_frames: 6,
            min_silence_frames: 40,
        }
    }
}

/// An utterance boundary, as the index of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VadEvent {
    /// The first voiced frame of the utterance.
    SpeechStart(u64),
    /// The first unvoiced frame after it.
    SpeechEnd(u64),
}

#[derive(Clone, Debug)]
pub struct Endpointer {
    cfg: EndpointConfig,
    frame: u64,
    in_speech: bool,
    run: u32,
    run_start: u64,
}

impl Endpointer {
    pub fn new(cfg: EndpointConfig) -> Self {
        Self { cfg, frame: 0, in_speech: false, run: 0, run_start: 0 }
    }

    pub fn config(&self) -> &EndpointConfig {
        &self.cfg
    }

    pub fn in_speech(&self) -> bool {
        self.in_speech
    }

    /// Unvoiced frames in a row at the end of speech still open (0 outside speech): how long the
    /// speaker has paused so far.
    pub fn trailing_silence(&self) -> u32 {
        if self.in_speech { self.run } else { 0 }
    }

    /// Feeds one frame's voice probability; NaN counts as unvoiced.
    pub fn push(&mut self, score: f32) -> Option<VadEvent> {
        let threshold = if self.in_speech { self.cfg.end_threshold } else { self.cfg.start_threshold };
        let voiced = score >= threshold;
        let frame = self.frame;
        self.frame += 1;
        // A run counts frames of the kind that would flip the state.
        if voiced != self.in_speech {
            if self.run == 0 {
                self.run_start = frame;
            }
            self.run += 1;
        } else {
            self.run = 0;
        }
        let needed = if self.in_speech { self.cfg.min_silence_frames } else { self.cfg.min_speech_frames };
        if self.run < needed {
            return None;
        }
        self.in_speech = !self.in_speech;
        self.run = 0;
        Some(if self.in_speech { VadEvent::SpeechStart(self.run_start) } else { VadEvent::SpeechEnd(self.run_start) })
    }

    /// Ends an open utterance at the current frame (end of input).
    pub fn finish(&mut self) -> Option<VadEvent> {
        if !self.in_speech {
            return None;
        }
        self.in_speech = false;
        self.run = 0;
        Some(VadEvent::SpeechEnd(self.frame))
    }
}

/// Speech regions (start, end) in seconds over a whole file's frame scores, each widened by
/// `pad` seconds and merged with its neighbour when they then touch.
pub fn speech_regions(scores: &[f32], cfg: &EndpointConfig, pad: f64) -> Vec<(f64, f64)> {
    let mut ep = Endpointer::new(cfg.clone());
    let mut regions: Vec<(f64, f64)> = Vec::new();
    let mut start = 0u64;
    let total = scores.len() as f64 * cfg.frame_secs;
    let events = scores.iter().filter_map(|&s| ep.push(s)).collect::<Vec<_>>();
    for ev in events.into_iter().chain(ep.finish()) {
        match ev {
            VadEvent::SpeechStart(f) => start = f,
            VadEvent::SpeechEnd(f) => {
                let a = (start as f64 * cfg.frame_secs - pad).max(0.0);
                let b = (f as f64 * cfg.frame_secs + pad).min(total);
                match regions.last_mut() {
                    Some(last) if last.1 >= a => last.1 = b,
                    _ => regions.push((a, b)),
                }
            }
        }
    }
    regions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> EndpointConfig {
        EndpointConfig {
            frame_secs: 0.1,
            start_threshold: 0.7,
            end_threshold: 0.5,
            min_speech_frames: 2,
            min_silence_frames: 3,
        }
    }

    /// Scores written as a string: '#' voiced, '.' silent.
    fn scores(s: &str) -> Vec<f32> {
        // '#' voiced, '~' in between (keeps speech going, cannot start it), '.' silent.
        s.chars()
            .map(|c| match c {
                '#' => 0.9,
                '~' => 0.6,
                _ => 0.1,
            })
            .collect()
    }

    fn events(s: &str) -> Vec<VadEvent> {
        let mut ep = Endpointer::new(cfg());
        let mut out: Vec<_> = scores(s).into_iter().filter_map(|x| ep.push(x)).collect();
        out.extend(ep.finish());
        out
    }

    #[test]
    fn endpoint_cases() {
        use VadEvent::*;
        assert_eq!(events("...."), vec![]);
        assert_eq!(events("..#..#.."), vec![], "single voiced frames are noise");
        assert_eq!(events("..####....."), vec![SpeechStart(2), SpeechEnd(6)]);
        assert_eq!(events("..##.##.##...."), vec![SpeechStart(2), SpeechEnd(10)], "short gaps stay inside");
        assert_eq!(events("###"), vec![SpeechStart(0), SpeechEnd(3)], "finish closes an open utterance");
        assert_eq!(events("..~~~~~~..."), vec![], "middling scores do not start speech");
        assert_eq!(events("..##~~~~~..."), vec![SpeechStart(2), SpeechEnd(9)], "but keep it going");
        assert_eq!(events("##...##..."), vec![SpeechStart(0), SpeechEnd(2), SpeechStart(5), SpeechEnd(7)]);
    }

    #[test]
    fn nan_is_silence() {
        let mut ep = Endpointer::new(cfg());
        assert_eq!(ep.push(f32::NAN), None);
        assert!(!ep.in_speech());
    }

    #[test]
    fn regions_pad_and_merge() {
        let r = speech_regions(&scores("..##......##......"), &cfg(), 0.1);
        assert_eq!(r.len(), 2);
        assert!((r[0].0 - 0.1).abs() < 1e-9 && (r[0].1 - 0.5).abs() < 1e-9, "{r:?}");
        let merged = speech_regions(&scores("..##......##......"), &cfg(), 0.3);
        assert_eq!(merged.len(), 1, "{merged:?}");
    }
}
