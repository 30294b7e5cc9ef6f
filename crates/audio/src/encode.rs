//! Output formats for synthesized speech: WAV and raw PCM (s16le) for streaming, FLAC (pure Rust,
//! flacenc) for compact lossless files.
use crate::wav::{encode_wav, to_i16};
use sokuji_core::{Error, ErrorCode, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Wav,
    /// Headerless 16-bit little-endian mono.
    Pcm,
    Flac,
}

impl OutputFormat {
    /// Names as the seed API and OpenAI's `response_format` spell them. mp3, opus and aac are
    /// refused with a clear error: no maintained pure-Rust encoder exists for them.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "wav" => Ok(Self::Wav),
            "pcm" | "s16le" => Ok(Self::Pcm),
            "flac" => Ok(Self::Flac),
            other => Err(Error::new(
                ErrorCode::UnsupportedFormat,
                format!("audio format {other:?} is not supported; use wav, pcm or flac"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wav => "wav",
            Self::Pcm => "pcm",
            Self::Flac => "flac",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Wav => "audio/wav",
            Self::Pcm => "audio/L16",
            Self::Flac => "audio/flac",
        }
    }
}

/// Encodes mono f32 samples.
pub fn encode(samples: &[f32], sample_rate: u32, format: OutputFormat) -> Result<Vec<u8>> {
    match format {
        OutputFormat::Wav => Ok(encode_wav(samples, sample_rate)),
        OutputFormat::Pcm => Ok(samples.iter().flat_map(|&s| to_i16(s).to_le_bytes()).collect()),
        OutputFormat::Flac => encode_flac(samples, sample_rate),
    }
}

fn encode_flac(samples: &[f32], sample_rate: u32) -> Result<Vec<u8>> {
    use flacenc::{component::BitRepr, error::Verify};
    let fail = |m: String| Error::new(ErrorCode::EngineFailed, format!("flac encoding failed: {m}"));
    let ints: Vec<i32> = samples.iter().map(|&s| i32::from(to_i16(s))).collect();
    let config = flacenc::config::Encoder::default().into_verified().map_err(|(_, e)| fail(e.to_string()))?;
    let source = flacenc::source::MemSource::from_samples(&ints, 1, 16, sample_rate as usize);
    let stream =
        flacenc::encode_with_fixed_block_size(&config, source, config.block_size).map_err(|e| fail(e.to_string()))?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).map_err(|e| fail(e.to_string()))?;
    Ok(sink.as_slice().to_vec())
}

/// Decodes 16-bit little-endian PCM back to f32 (the inverse of `Pcm`).
pub fn pcm_s16le_to_f32(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(2).map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0).collect()
}

/// A WAV header for a stream of unknown length (16-bit mono): sizes set to the maximum, as
/// streaming servers do; players read until the connection ends.
pub fn streaming_wav_header(sample_rate: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&u32::MAX.to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes()); // PCM
    h.extend_from_slice(&1u16.to_le_bytes()); // mono
    h.extend_from_slice(&sample_rate.to_le_bytes());
    h.extend_from_slice(&(sample_rate * 2).to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(b"data");
    // The largest length that fits inside the RIFF chunk and is a whole number of samples, as
    // strict readers (hound, symphonia) require.
    h.extend_from_slice(&((u32::MAX - 36) & !1).to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone() -> Vec<f32> {
        (0..22050).map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / 22050.0).sin() * 0.5).collect()
    }

    #[test]
    fn every_format_decodes_back() {
        let s = tone();
        let wav = encode(&s, 22050, OutputFormat::Wav).expect("wav");
        let audio = crate::decode_bytes(wav, Some("wav")).expect("decodes");
        assert!((audio.duration_secs() - 1.0).abs() < 0.01, "{}", audio.duration_secs());
        // FLAC is checked with claxon: symphonia 0.5's FLAC reader stops with "end of stream" on
        // flacenc's streams, which libFLAC (sox) decodes fine.
        let flac = encode(&s, 22050, OutputFormat::Flac).expect("flac");
        let mut reader = claxon::FlacReader::new(std::io::Cursor::new(flac)).expect("flac header");
        assert_eq!(reader.streaminfo().sample_rate, 22050);
        let back: Vec<i32> = reader.samples().map(|x| x.expect("sample")).collect();
        assert_eq!(back.len(), s.len());
        assert!(s.iter().zip(&back).all(|(a, &b)| i32::from(to_i16(*a)) == b), "lossless");
        let pcm = encode(&s, 22050, OutputFormat::Pcm).expect("pcm");
        assert_eq!(pcm.len(), s.len() * 2);
        let back = pcm_s16le_to_f32(&pcm);
        assert!(s.iter().zip(&back).all(|(a, b)| (a - b).abs() < 1e-3));
    }

    #[test]
    fn formats_parse() {
        assert_eq!(OutputFormat::parse("FLAC").expect("flac"), OutputFormat::Flac);
        assert_eq!(OutputFormat::parse("").expect("default"), OutputFormat::Wav);
        assert_eq!(OutputFormat::parse("mp3").expect_err("mp3").code, ErrorCode::UnsupportedFormat);
    }

    #[test]
    fn streaming_header_then_pcm_is_a_readable_wav() {
        // What /v1/audio/speech streams: players (and hound) read it until the data ends.
        let s = tone();
        let mut bytes = streaming_wav_header(22050);
        bytes.extend(encode(&s, 22050, OutputFormat::Pcm).expect("pcm"));
        let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("header");
        assert_eq!((reader.spec().sample_rate, reader.spec().channels, reader.spec().bits_per_sample), (22050, 1, 16));
        // And the project's own decoder reads it back (the STT endpoints get such files).
        let mut bytes = streaming_wav_header(22050);
        bytes.extend(encode(&s, 22050, OutputFormat::Pcm).expect("pcm"));
        let audio = crate::decode_bytes(bytes, Some("wav")).expect("symphonia");
        assert!((audio.duration_secs() - 1.0).abs() < 0.01);
    }
}
