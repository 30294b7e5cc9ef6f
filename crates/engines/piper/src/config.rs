//! A Piper voice's `.onnx.json`: sample rate, espeak voice, inference scales, phoneme ids.
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Deserialize)]
pub struct PiperConfig {
    pub audio: Audio,
    pub espeak: Espeak,
    #[serde(default)]
    pub inference: Inference,
    pub phoneme_id_map: HashMap<String, Vec<i64>>,
    #[serde(default)]
    pub num_speakers: u32,
    #[serde(default)]
    pub language: Option<Language>,
    #[serde(default)]
    pub dataset: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Audio {
    pub sample_rate: u32,
    #[serde(default)]
    pub quality: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Espeak {
    pub voice: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Inference {
    pub noise_scale: f32,
    pub length_scale: f32,
    pub noise_w: f32,
}

impl Default for Inference {
    fn default() -> Self {
        Self { noise_scale: 0.667, length_scale: 1.0, noise_w: 0.8 }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Language {
    pub code: String,
    #[serde(default)]
    pub family: Option<String>,
}

/// Phoneme ids as Piper was trained: BOS, then each phoneme followed by the pad id, then EOS.
/// Characters the voice does not know are skipped.
pub fn phoneme_ids(phonemes: &str, map: &HashMap<String, Vec<i64>>) -> Vec<i64> {
    let id = |s: &str| map.get(s).and_then(|v| v.first().copied());
    let (pad, bos, eos) = (id("_").unwrap_or(0), id("^").unwrap_or(1), id("$").unwrap_or(2));
    let mut ids = vec![bos, pad];
    let mut buf = [0u8; 4];
    for c in phonemes.chars() {
        if let Some(v) = map.get(c.encode_utf8(&mut buf) as &str) {
            ids.extend_from_slice(v);
            ids.push(pad);
        }
    }
    ids.push(eos);
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_interleave_pad_and_skip_unknown() {
        let map: HashMap<String, Vec<i64>> = [("_", 0), ("^", 1), ("$", 2), (" ", 3), ("h", 20), ("ə", 59)]
            .map(|(k, v)| (k.to_string(), vec![v]))
            .into();
        assert_eq!(phoneme_ids("hə h", &map), [1, 0, 20, 0, 59, 0, 3, 0, 20, 0, 2]);
        assert_eq!(phoneme_ids("h☃", &map), [1, 0, 20, 0, 2]);
    }
}
