//! WAV encoding (16-bit PCM), for responses and test fixtures.
use std::io::Cursor;

/// Encodes mono f32 samples as a 16-bit PCM WAV file.
pub fn encode_wav(samples: &[f32], sample_rate: u32) -> Vec<u8> {
    wav_of(samples.iter().map(|s| to_i16(*s)), samples.len(), sample_rate)
}

/// Encodes mono 16-bit samples as a WAV file.
pub fn encode_wav_i16(samples: &[i16], sample_rate: u32) -> Vec<u8> {
    wav_of(samples.iter().copied(), samples.len(), sample_rate)
}

/// A sample as 16-bit PCM (clamped).
pub fn to_i16(s: f32) -> i16 {
    (s.clamp(-1.0, 1.0) * 32767.0) as i16
}

fn wav_of(samples: impl Iterator<Item = i16>, len: usize, sample_rate: u32) -> Vec<u8> {
    let spec =
        hound::WavSpec { channels: 1, sample_rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + len * 2));
    // Writing to memory cannot fail; an error here would be a bug in hound.
    if let Ok(mut w) = hound::WavWriter::new(&mut cursor, spec) {
        for s in samples {
            let _ = w.write_sample(s);
        }
        let _ = w.finalize();
    }
    cursor.into_inner()
}
