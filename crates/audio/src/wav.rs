//! WAV encoding (16-bit PCM), for responses and test fixtures.
use std::io::Cursor;

/// Encodes mono f32 samples as a 16-bit PCM WAV file.
pub fn encode_wav(samples: &[f32], sample_rate: u32) -> Vec<u8> {
    let spec =
        hound::WavSpec { channels: 1, sample_rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    // Writing to memory cannot fail; an error here would be a bug in hound.
    if let Ok(mut w) = hound::WavWriter::new(&mut cursor, spec) {
        for s in samples {
            let _ = w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16);
        }
        let _ = w.finalize();
    }
    cursor.into_inner()
}
