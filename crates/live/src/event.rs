//! The one vocabulary of a live session, whatever wire it runs on: what a client sends
//! ([`LiveInput`]) and what the session sends back ([`LiveEvent`]). Every front end (the JSON
//! WebSockets, OpenAI's realtime protocols, the gRPC streams) only converts to and from these.
use sokuji_audio::PcmSpec;
use sokuji_core::{Error, ErrorCode, Producer, Segment, Word};

/// What a client sends into a session.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveInput {
    /// Raw PCM as the client claims it; decoded to mono once, by the session.
    Pcm { spec: PcmSpec, data: Vec<u8> },
    /// A piece of a container stream (WebM or Ogg, as a browser's MediaRecorder sends it): the
    /// pieces of a session are one file, cut anywhere.
    Media(Vec<u8>),
    /// Close the open utterance now and decode it (manual turns, or a push-to-talk release).
    Commit,
    /// Drop the open utterance's audio undecoded.
    Clear,
    /// Change languages or voice mid-session; applies to utterances closed from now on.
    Update(LiveUpdate),
    /// Flush: finalize the open utterance, finish every stage, then end.
    End,
}

/// Settings a client may change mid-session (`None` keeps the current one).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveUpdate {
    /// ISO 639-1 or "auto".
    pub source: Option<String>,
    pub target: Option<String>,
    /// Voice id, "default", or "" for no speech.
    pub voice: Option<String>,
    pub turns: Option<crate::Turns>,
    /// A new do-not-translate list for the session.
    pub keep: Option<Vec<String>>,
}

/// An interim or final transcript of one utterance. Times are seconds from the start of the
/// stream.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transcription {
    pub segment_id: u64,
    pub is_final: bool,
    /// Empty for a final when nothing was said (the utterance was noise).
    pub text: String,
    /// The prefix that will not change any more (all of the text, for a final).
    pub committed: String,
    /// Share of the words that are committed.
    pub stability: f32,
    pub language: String,
    pub confidence: f32,
    pub start: f64,
    pub end: f64,
    /// Word times and probabilities (finals).
    pub words: Vec<Word>,
    /// Engine time of the decode.
    pub stt_ms: f64,
    /// From the arrival of the audio that ended the utterance (finals of live sessions).
    pub e2e_ms: Option<f64>,
    /// The engine and model that decoded it (empty for the cut of an over-long utterance).
    pub producer: Producer,
    /// An interim decoded because the speaker paused: most likely the utterance's final text,
    /// so its translation is started before the utterance closes.
    pub at_pause: bool,
    /// Of an interim, the part worth translating while the speaker talks (its translation is the
    /// draft of the utterance's later ones, or the final's own when the words stay the same):
    /// when the engine streams, all but the last word (the last one may still be cut off); when
    /// it decodes the whole utterance again each time, all of it from the utterance's second
    /// decode on (empty for the first, a guess from about a second of speech).
    pub ahead: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Translated {
    pub segment_id: u64,
    pub text: String,
    pub source_text: String,
    pub source_language: String,
    pub target_language: String,
    /// False for a translation of an interim transcript's `ahead` part.
    pub is_final: bool,
    /// What translated it (`Translation::engine` and `model`).
    pub engine: String,
    pub model: String,
    pub mt_ms: f64,
    pub e2e_ms: Option<f64>,
}

/// One sentence of translated speech.
#[derive(Clone, Debug, PartialEq)]
pub struct Spoken {
    pub segment_id: u64,
    /// Mono f32 samples; the front end encodes them.
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    pub text: String,
    pub tts_ms: f64,
    pub e2e_ms: Option<f64>,
}

/// A non-fatal error: the session goes on.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveError {
    /// The utterance it concerns, when it concerns one.
    pub segment_id: Option<u64>,
    pub code: ErrorCode,
    pub message: String,
}

impl LiveError {
    pub fn new(e: Error) -> Self {
        Self { segment_id: None, code: e.code, message: e.message }
    }

    pub fn of_segment(segment_id: u64, e: Error) -> Self {
        Self { segment_id: Some(segment_id), code: e.code, message: e.message }
    }
}

/// What a session recorded, given once at its end when recording was asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// Mono 16-bit WAV at the client's rate.
    pub wav: Vec<u8>,
    pub duration: f64,
    /// The final transcripts with words, as segments.
    pub segments: Vec<Segment>,
    /// The engines and models that decoded them.
    pub producer: Producer,
}

/// What a session sends back, in session order: an utterance's events come in the order
/// started, stopped, committed, transcription, translation, audio.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveEvent {
    /// The VAD heard speech begin (server turns only); `at` is stream seconds.
    SpeechStarted {
        segment_id: u64,
        at: f64,
    },
    SpeechStopped {
        segment_id: u64,
        at: f64,
    },
    /// The utterance is closed and being decoded as final.
    Committed {
        segment_id: u64,
        start: f64,
        end: f64,
    },
    /// The open utterance was dropped on the client's request.
    Cleared,
    Transcription(Transcription),
    Translation(Translated),
    Audio(Spoken),
    Error(LiveError),
    /// The last event of a recorded session.
    Recorded(Recorded),
}

impl LiveEvent {
    /// Interim events may be dropped when the client is behind; the others never are.
    pub fn is_interim(&self) -> bool {
        matches!(
            self,
            Self::Transcription(Transcription { is_final: false, .. })
                | Self::Translation(Translated { is_final: false, .. })
        )
    }

    pub fn error(e: Error) -> Self {
        Self::Error(LiveError::new(e))
    }
}
