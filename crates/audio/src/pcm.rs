//! Raw little-endian PCM as it arrives on the wire.
use sokuji_core::{Error, Result};

/// Sample encodings the seed contract names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PcmFormat {
    Int16,
    Float32,
}

impl PcmFormat {
    /// Parses the contract's `format` string; empty means int16, the original default.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "int16" | "s16le" | "pcm16" | "pcm_s16le" => Ok(Self::Int16),
            "float32" | "f32le" | "pcm_f32le" => Ok(Self::Float32),
            other => {
                Err(Error::invalid_audio(format!("unsupported PCM format {other:?}: use \"int16\" or \"float32\"")))
            }
        }
    }

    pub fn bytes_per_sample(self) -> usize {
        match self {
            Self::Int16 => 2,
            Self::Float32 => 4,
        }
    }
}

/// What a client claims about its PCM; checked before any byte is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcmSpec {
    pub format: PcmFormat,
    pub sample_rate: u32,
    pub channels: u16,
}

/// Highest rate accepted; anything above is a wrong claim, not audio.
pub const MAX_SAMPLE_RATE: i64 = 384_000;
pub const MAX_CHANNELS: i64 = 32;

impl PcmSpec {
    /// Validates the contract's fields; 0 channels means mono (the seed's default).
    pub fn new(format: &str, sample_rate: i64, channels: i64) -> Result<Self> {
        let format = PcmFormat::parse(format)?;
        if !(8_000..=MAX_SAMPLE_RATE).contains(&sample_rate) {
            return Err(Error::invalid_audio(format!(
                "sample_rate {sample_rate} is out of range (8000..={MAX_SAMPLE_RATE})"
            )));
        }
        let channels = if channels == 0 { 1 } else { channels };
        if !(1..=MAX_CHANNELS).contains(&channels) {
            return Err(Error::invalid_audio(format!("channels {channels} is out of range (1..={MAX_CHANNELS})")));
        }
        Ok(Self { format, sample_rate: sample_rate as u32, channels: channels as u16 })
    }

    /// Decodes bytes to mono f32, averaging channels. Rejects partial frames and non-finite floats.
    pub fn to_mono(&self, data: &[u8]) -> Result<Vec<f32>> {
        let frame = self.format.bytes_per_sample() * usize::from(self.channels);
        if !data.len().is_multiple_of(frame) {
            return Err(Error::invalid_audio(format!(
                "{} bytes is not a whole number of {}-byte frames ({:?}, {} channels)",
                data.len(),
                frame,
                self.format,
                self.channels
            )));
        }
        let samples: Vec<f32> = match self.format {
            PcmFormat::Int16 => {
                data.chunks_exact(2).map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0).collect()
            }
            PcmFormat::Float32 => {
                let v: Vec<f32> = data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                    return Err(Error::invalid_audio(format!("sample {i} is not a finite number")));
                }
                v.into_iter().map(|x| x.clamp(-1.0, 1.0)).collect()
            }
        };
        Ok(mix_to_mono(&samples, usize::from(self.channels)))
    }
}

/// Averages interleaved channels into one.
pub fn mix_to_mono(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    let scale = 1.0 / channels as f32;
    interleaved.chunks_exact(channels).map(|f| f.iter().sum::<f32>() * scale).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sokuji_core::ErrorCode;

    #[test]
    fn int16_stereo_to_mono() {
        let spec = PcmSpec::new("int16", 48_000, 2).expect("valid");
        let bytes: Vec<u8> = [16384i16, -16384, 32767, 32767].iter().flat_map(|s| s.to_le_bytes()).collect();
        let mono = spec.to_mono(&bytes).expect("decodes");
        assert_eq!(mono.len(), 2);
        assert!(mono[0].abs() < 1e-6);
        assert!((mono[1] - 32767.0 / 32768.0).abs() < 1e-6);
    }

    #[test]
    fn rejects_bad_claims() {
        let bad = |f: &str, r: i64, c: i64| PcmSpec::new(f, r, c).expect_err("must fail").code;
        assert_eq!(bad("mp3", 16000, 1), ErrorCode::InvalidAudio);
        assert_eq!(bad("int16", 0, 1), ErrorCode::InvalidAudio);
        assert_eq!(bad("int16", -16000, 1), ErrorCode::InvalidAudio);
        assert_eq!(bad("int16", 10_000_000, 1), ErrorCode::InvalidAudio);
        assert_eq!(bad("int16", 16000, 99), ErrorCode::InvalidAudio);
        assert_eq!(PcmSpec::new("", 16000, 0).expect("defaults").channels, 1);
    }

    #[test]
    fn rejects_partial_frames_and_nan() {
        let spec = PcmSpec::new("float32", 16000, 1).expect("valid");
        assert!(spec.to_mono(&[0, 0, 0]).is_err());
        let nan: Vec<u8> = [0.5f32, f32::NAN].iter().flat_map(|s| s.to_le_bytes()).collect();
        let err = spec.to_mono(&nan).expect_err("NaN");
        assert!(err.message.contains("sample 1"), "{err}");
        let inf: Vec<u8> = f32::INFINITY.to_le_bytes().to_vec();
        assert!(spec.to_mono(&inf).is_err());
        let stereo = PcmSpec::new("int16", 16000, 2).expect("valid");
        assert!(stereo.to_mono(&[0, 0]).is_err(), "half a stereo frame");
    }
}
