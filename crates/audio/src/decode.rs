//! Decodes audio files (wav, mp3, flac, Ogg with Vorbis or Opus, WebM/Matroska with Opus,
//! m4a/aac) to 16 kHz mono, streaming: the source is read packet by packet and resampled as it
//! goes, never held whole at its own rate. Opus is libopus (through symphonia's adapter).
use crate::{pcm::mix_to_mono, resample::StreamResampler};
use sokuji_core::{Audio, Error, Result};
use std::{fs::File, io::Cursor, path::Path, sync::OnceLock};
use symphonia::core::{
    audio::SampleBuffer,
    codecs::{CODEC_TYPE_NULL, CodecRegistry, DecoderOptions},
    errors::Error as SymError,
    formats::FormatOptions,
    io::{MediaSource, MediaSourceStream},
    meta::MetadataOptions,
    probe::Hint,
};

/// Decodes an in-memory file; `extension` (e.g. "mp3") helps the probe but is not required.
pub fn decode_bytes(bytes: Vec<u8>, extension: Option<&str>) -> Result<Audio> {
    if bytes.is_empty() {
        return Err(Error::invalid_audio("the audio is empty (0 bytes)"));
    }
    collect(Box::new(Cursor::new(bytes)), extension, &mut |_| {})
}

/// Decodes a file from disk; `progress` gets the fraction of bytes read.
pub fn decode_file(path: &Path, progress: &mut dyn FnMut(f32)) -> Result<Audio> {
    let ext = path.extension().and_then(|e| e.to_str());
    collect(Box::new(open(path)?), ext, progress)
}

/// Decodes a file from disk piece by piece: `sink` gets the 16 kHz mono samples as they are
/// decoded (and may stop the decode with an error), so a file of any length needs memory only
/// for one packet. `extension` as for [`decode_bytes`]; the file's own is used when absent.
pub fn decode_file_streaming(
    path: &Path,
    extension: Option<&str>,
    sink: &mut dyn FnMut(Vec<f32>) -> Result<()>,
) -> Result<()> {
    let ext = extension.or_else(|| path.extension().and_then(|e| e.to_str()));
    decode_source(Box::new(open(path)?), ext, &mut |_| {}, sink)
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::invalid_request(format!("cannot open {}: {e}", path.display())))
}

fn collect(source: Box<dyn MediaSource>, ext: Option<&str>, progress: &mut dyn FnMut(f32)) -> Result<Audio> {
    let mut out = Vec::new();
    decode_source(source, ext, progress, &mut |chunk| {
        out.extend(chunk);
        Ok(())
    })?;
    Ok(Audio::new(out))
}

/// Symphonia's codecs and libopus.
fn codecs() -> &'static CodecRegistry {
    static CODECS: OnceLock<CodecRegistry> = OnceLock::new();
    CODECS.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_all::<symphonia_adapter_libopus::OpusDecoder>();
        registry
    })
}

fn invalid(e: SymError) -> Error {
    Error::invalid_audio(format!("not a decodable audio file: {e}"))
}

pub(crate) fn decode_source(
    source: Box<dyn MediaSource>,
    ext: Option<&str>,
    progress: &mut dyn FnMut(f32),
    sink: &mut dyn FnMut(Vec<f32>) -> Result<()>,
) -> Result<()> {
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = ext {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(&hint, mss, &FormatOptions::default(), &MetadataOptions::default())
        .map_err(invalid)?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| Error::invalid_audio("the file has no audio track"))?;
    let track_id = track.id;
    let n_frames = track.codec_params.n_frames;
    let mut decoder = codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| Error::invalid_audio(format!("unsupported codec: {e}")))?;

    let mut resampler: Option<StreamResampler> = None;
    let mut decoded_frames = 0u64;
    // Non-finite samples anywhere refuse the file (checked as they pass).
    let mut emit = |chunk: Vec<f32>| -> Result<()> {
        if chunk.iter().any(|x| !x.is_finite()) {
            return Err(Error::invalid_audio("the audio contains non-finite samples"));
        }
        if chunk.is_empty() { Ok(()) } else { sink(chunk) }
    };
    let mut bad_packets = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            // End of stream, or a truncated file: keep what decoded.
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(e) => return Err(invalid(e)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let buf = match decoder.decode(&packet) {
            Ok(b) => b,
            Err(SymError::DecodeError(_)) => {
                bad_packets += 1;
                continue;
            }
            Err(SymError::IoError(_)) => break,
            Err(e) => return Err(invalid(e)),
        };
        let spec = *buf.spec();
        if spec.rate == 0 {
            return Err(Error::invalid_audio("the file claims a sample rate of 0"));
        }
        let r = match resampler.as_mut() {
            Some(r) => r,
            None => resampler.insert(StreamResampler::new(spec.rate)?),
        };
        let mut sb = SampleBuffer::<f32>::new(buf.capacity() as u64, spec);
        sb.copy_interleaved_ref(buf);
        let mono = mix_to_mono(sb.samples(), spec.channels.count());
        decoded_frames += mono.len() as u64;
        emit(r.push(&mono))?;
        if let Some(n) = n_frames.filter(|n| *n > 0) {
            progress((decoded_frames as f32 / n as f32).min(1.0));
        }
    }
    let Some(mut r) = resampler else {
        return Err(Error::invalid_audio(format!("no audio could be decoded ({bad_packets} damaged packets)")));
    };
    emit(r.finish())?;
    progress(1.0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sokuji_core::ErrorCode;

    #[test]
    fn wav_round_trip_at_other_rate() {
        let samples: Vec<f32> = (0..22_050).map(|i| ((i as f32) * 0.05).sin() * 0.3).collect();
        let wav = crate::wav::encode_wav(&samples, 22_050);
        let audio = decode_bytes(wav, Some("wav")).expect("decodes");
        assert_eq!(audio.samples().len(), 16_000);
    }

    #[test]
    fn rejects_garbage_empty_and_truncated() {
        let err = |b: Vec<u8>| decode_bytes(b, None).expect_err("must fail").code;
        assert_eq!(err(Vec::new()), ErrorCode::InvalidAudio);
        assert_eq!(err(b"this is not audio at all, just text".repeat(50)), ErrorCode::InvalidAudio);
        let wav = crate::wav::encode_wav(&[0.1; 1000], 16_000);
        assert_eq!(err(wav[..30].to_vec()), ErrorCode::InvalidAudio, "header cut short");
        // Cut in the data: what is there decodes.
        let cut = decode_bytes(wav[..44 + 1000].to_vec(), Some("wav")).expect("partial data decodes");
        assert_eq!(cut.samples().len(), 500);
    }
}
