//! Renders transcripts as SRT and WebVTT.
use crate::Transcript;
use std::fmt::Write;

fn stamp(secs: f64, decimal: char) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    let (h, m, s, ms) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("{h:02}:{m:02}:{s:02}{decimal}{ms:03}")
}

pub fn to_srt(t: &Transcript) -> String {
    let mut out = String::new();
    for (i, s) in t.segments.iter().enumerate() {
        let _ = write!(out, "{}\n{} --> {}\n{}\n\n", i + 1, stamp(s.start, ','), stamp(s.end, ','), s.text.trim());
    }
    out
}

pub fn to_vtt(t: &Transcript) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for s in &t.segments {
        let _ = write!(out, "{} --> {}\n{}\n\n", stamp(s.start, '.'), stamp(s.end, '.'), s.text.trim());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Segment;

    fn sample() -> Transcript {
        let seg = |id, start, end, text: &str| Segment { id, start, end, text: text.into(), ..Default::default() };
        Transcript {
            segments: vec![seg(0, 0.0, 1.5, " Xin chào"), seg(1, 61.25, 3723.004, "hello")],
            ..Default::default()
        }
    }

    #[test]
    fn srt() {
        assert_eq!(
            to_srt(&sample()),
            "1\n00:00:00,000 --> 00:00:01,500\nXin chào\n\n2\n00:01:01,250 --> 01:02:03,004\nhello\n\n"
        );
    }

    #[test]
    fn vtt() {
        assert_eq!(
            to_vtt(&sample()),
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nXin chào\n\n00:01:01.250 --> 01:02:03.004\nhello\n\n"
        );
    }
}
