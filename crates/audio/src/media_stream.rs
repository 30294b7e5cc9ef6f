//! A container stream decoded as its bytes arrive: a browser's MediaRecorder sends WebM (or Ogg)
//! with Opus in pieces cut anywhere, and each piece's complete packets should be heard at once.
//!
//! Symphonia's demuxers pull from a reader, so the decode runs on its own thread, reading from a
//! channel; [`MediaStream::push`] hands a piece over and waits until the decoder has used all of
//! it (it asks for more), then returns the 16 kHz mono samples decoded so far.
use crate::decode::decode_source;
use sokuji_core::{Error, Result};
use std::{
    io::{Read, Seek, SeekFrom},
    sync::{
        Mutex,
        mpsc::{Receiver, Sender, channel},
    },
    thread::JoinHandle,
};
use symphonia::core::io::MediaSource;

/// What the decoding thread reports.
enum Out {
    Samples(Vec<f32>),
    /// It has read every piece up to this count and waits for the next.
    Starved(u64),
    /// The stream ended (or failed): nothing more comes.
    Done(Result<()>),
}

/// A container stream being decoded; see the module docs.
pub struct MediaStream {
    pieces: Option<Sender<Vec<u8>>>,
    out: Receiver<Out>,
    sent: u64,
    /// Set once the decoder has stopped; later pushes fail with it.
    ended: Option<Result<()>>,
    worker: Option<JoinHandle<()>>,
}

/// The decoder's side of the channel: a reader that blocks for the next piece, saying so first.
struct PieceReader {
    /// In a mutex only because symphonia wants its sources `Sync`; one thread reads.
    pieces: Mutex<Receiver<Vec<u8>>>,
    out: Sender<Out>,
    piece: Vec<u8>,
    at: usize,
    read: u64,
}

impl Read for PieceReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.piece.len() {
            let _ = self.out.send(Out::Starved(self.read));
            let next = self.pieces.lock().map_err(|_| std::io::Error::other("poisoned"))?.recv();
            match next {
                Ok(p) => {
                    self.piece = p;
                    self.at = 0;
                    self.read += 1;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.piece.len() - self.at);
        buf[..n].copy_from_slice(&self.piece[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Seek for PieceReader {
    fn seek(&mut self, _: SeekFrom) -> std::io::Result<u64> {
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "a live stream cannot seek"))
    }
}

impl MediaSource for PieceReader {
    fn is_seekable(&self) -> bool {
        false
    }

    fn byte_len(&self) -> Option<u64> {
        None
    }
}

impl MediaStream {
    /// `extension` ("webm", "ogg") helps the probe; the bytes decide.
    pub fn new(extension: Option<&str>) -> Result<Self> {
        let (pieces_tx, pieces) = channel();
        let (out, out_rx) = channel();
        let reader = PieceReader { pieces: Mutex::new(pieces), out: out.clone(), piece: Vec::new(), at: 0, read: 0 };
        let ext = extension.map(str::to_string);
        let worker = std::thread::Builder::new()
            .name("media-stream".into())
            .spawn(move || {
                let result = decode_source(Box::new(reader), ext.as_deref(), &mut |_| {}, &mut |chunk| {
                    out.send(Out::Samples(chunk)).map_err(|_| Error::internal("the stream was dropped"))
                });
                let _ = out.send(Out::Done(result));
            })
            .map_err(|e| Error::internal(format!("cannot start a decoder thread: {e}")))?;
        Ok(Self { pieces: Some(pieces_tx), out: out_rx, sent: 0, ended: None, worker: Some(worker) })
    }

    /// Hands over the next piece and returns the samples decoded once the decoder has used it.
    /// Blocks for the decode of one piece (milliseconds): call it off the async runtime.
    pub fn push(&mut self, piece: Vec<u8>) -> Result<Vec<f32>> {
        if let Some(ended) = &self.ended {
            return Err(match ended {
                Err(e) => e.clone(),
                Ok(()) => Error::invalid_audio("the audio stream has already ended"),
            });
        }
        if piece.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(tx) = &self.pieces
            && tx.send(piece).is_ok()
        {
            self.sent += 1;
        }
        let mut samples = Vec::new();
        self.collect(&mut samples, Some(self.sent))?;
        Ok(samples)
    }

    /// Ends the stream and returns the last samples (the decoder's and resampler's tails).
    pub fn finish(mut self) -> Result<Vec<f32>> {
        self.pieces = None;
        let mut samples = Vec::new();
        if self.ended.is_none() {
            self.collect(&mut samples, None)?;
        }
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
        match self.ended.take() {
            Some(Err(e)) => Err(e),
            _ => Ok(samples),
        }
    }

    /// Gathers samples until the decoder has read `until` pieces (or, with `None`, until it ends).
    fn collect(&mut self, samples: &mut Vec<f32>, until: Option<u64>) -> Result<()> {
        loop {
            match self.out.recv() {
                Ok(Out::Samples(s)) => samples.extend(s),
                Ok(Out::Starved(read)) if until.is_some_and(|u| read >= u) => return Ok(()),
                Ok(Out::Starved(_)) => {}
                Ok(Out::Done(r)) => {
                    let failed = r.as_ref().err().cloned();
                    self.ended = Some(r);
                    return match failed {
                        Some(e) => Err(e),
                        None => Ok(()),
                    };
                }
                Err(_) => {
                    self.ended = Some(Err(Error::internal("the audio decoder stopped")));
                    return Err(Error::internal("the audio decoder stopped"));
                }
            }
        }
    }
}

impl Drop for MediaStream {
    fn drop(&mut self) {
        // Closing the piece channel ends the decoder's read; its thread then exits on its own.
        self.pieces = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sokuji_core::ErrorCode;

    /// A WAV file cut into pieces: each piece's samples come back with it, not one piece late,
    /// and the whole comes back once.
    #[test]
    fn each_piece_is_heard_when_it_arrives() {
        let samples: Vec<f32> = (0..48_000).map(|i| ((i as f32) * 0.03).sin() * 0.3).collect();
        let wav = crate::wav::encode_wav(&samples, 16_000);
        let mut stream = MediaStream::new(Some("wav")).expect("stream");
        let mut heard = 0;
        for (i, piece) in wav.chunks(8_000).enumerate() {
            let got = stream.push(piece.to_vec()).expect("piece");
            if i > 0 && piece.len() == 8_000 {
                // 8000 bytes are 4000 samples; the resampler holds back a little of them.
                assert!(got.len() > 3_000, "piece {i} gave {} samples", got.len());
            }
            heard += got.len();
        }
        heard += stream.finish().expect("finish").len();
        assert!((heard as i64 - 48_000).abs() < 200, "{heard} samples of 48000");
    }

    /// Garbage is refused as audio: at once, or (the probe reads on for a container's marker)
    /// when the stream ends; after a refusal, later pieces are refused too.
    #[test]
    fn garbage_is_an_audio_error() {
        let mut stream = MediaStream::new(None).expect("stream");
        let err = match stream.push(b"not a container at all, only words".repeat(200)) {
            Err(e) => {
                let later = stream.push(b"RIFF".to_vec()).expect_err("the stream has ended");
                assert_eq!(later.code, ErrorCode::InvalidAudio, "{later}");
                e
            }
            Ok(_) => stream.finish().expect_err("garbage never decodes"),
        };
        assert_eq!(err.code, ErrorCode::InvalidAudio, "{err}");
    }

    /// A stream cut short (the client left mid-file) ends with what it held.
    #[test]
    fn a_stream_cut_short_ends_with_what_it_held() {
        let wav = crate::wav::encode_wav(&[0.1; 16_000], 16_000);
        let mut stream = MediaStream::new(Some("wav")).expect("stream");
        let mut heard = stream.push(wav[..20_044].to_vec()).expect("piece").len();
        heard += stream.finish().expect("finish").len();
        assert!((heard as i64 - 10_000).abs() < 200, "{heard} of the 10000 samples sent");
    }
}
