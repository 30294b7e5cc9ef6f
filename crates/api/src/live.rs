//! The live WebSocket protocol (`/api/v1/ws/translate`, `/api/v1/ws/asr`).
//!
//! A client sends a `config` (or starts sending audio: the original system's defaults apply),
//! PCM as binary frames or `audio` messages, optionally more `config`s (languages and voice
//! change mid-session), `commit` (end the utterance now) and `end` (flush, then a clean close).
//! The server sends `transcription`, `translation`, `audio`, `error` and, for recorded sessions,
//! `recording`, in session order. Every field the original system's clients send and read is
//! here with its original name and type (`timestamp` in integer milliseconds).
use crate::rest::transcript::Word;
use serde::{Deserialize, Serialize};

/// A message from the client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Config(Config),
    /// Base64 PCM in the configured format.
    Audio {
        data: String,
        /// Sent by the original clients; not used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timestamp: Option<serde_json::Value>,
    },
    /// Close the open utterance now (push-to-talk release) instead of waiting for silence.
    Commit,
    End,
}

/// A session's settings. The first `config` starts the session (defaults: source "auto",
/// target "en", the target's default voice, 16 kHz int16 mono); a later one changes languages
/// and voice for the utterances that follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// ISO 639-1 or "auto"; `/ws/asr` clients call it `language`.
    #[serde(default = "auto", alias = "language")]
    pub source_language: String,
    #[serde(default = "english")]
    pub target_language: String,
    /// A voice id, "default" (the target language's), or "" for no speech.
    #[serde(default = "default_voice")]
    pub voice_id: String,
    #[serde(default = "rate")]
    pub sample_rate: i64,
    #[serde(default = "one")]
    pub channels: i64,
    /// "int16" (default) or "float32" PCM; or "webm" / "ogg": the pieces of one container stream
    /// with Opus (a browser's MediaRecorder), whose rate and channels the stream itself says.
    #[serde(default = "int16")]
    pub format: String,
    /// Translate interim transcripts too.
    #[serde(default = "yes")]
    pub interim_translations: bool,
    /// Every final translation is the translator's own of the whole sentence (interim
    /// translations only draft it); by default it continues the interim translation its text
    /// begins with, sooner for long sentences.
    #[serde(default)]
    pub whole_sentences: bool,
    /// When the target is English and the speech is not: Whisper's translate task makes the
    /// English from the speech itself (faster than translating the transcript; rougher wording).
    #[serde(default)]
    pub speech_translation: bool,
    /// Terms every translation of the session keeps verbatim (names, product terms): a glossary
    /// of things not to translate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub do_not_translate: Vec<String>,
    /// Store the session in the archive when it ends (audio and the transcript made live).
    #[serde(default)]
    pub record: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            source_language: auto(),
            target_language: english(),
            voice_id: default_voice(),
            sample_rate: rate(),
            channels: one(),
            format: int16(),
            interim_translations: true,
            whole_sentences: false,
            speech_translation: false,
            do_not_translate: Vec::new(),
            record: false,
            speaker: None,
            source: None,
            tags: Vec::new(),
        }
    }
}

fn auto() -> String {
    "auto".into()
}
fn english() -> String {
    "en".into()
}
fn default_voice() -> String {
    "default".into()
}
fn rate() -> i64 {
    16_000
}
fn one() -> i64 {
    1
}
fn int16() -> String {
    "int16".into()
}
fn yes() -> bool {
    true
}

/// A message from the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Transcription(TranscriptionMessage),
    Translation(TranslationMessage),
    Audio(AudioMessage),
    Error(ErrorMessage),
    Recording(RecordingMessage),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranscriptionMessage {
    pub text: String,
    pub language: String,
    pub is_final: bool,
    pub confidence: f32,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub segment_id: u64,
    /// The prefix that will not change any more.
    pub committed_text: String,
    /// Seconds from the start of the stream.
    pub start: f64,
    pub end: f64,
    pub stt_ms: f64,
    /// From the arrival of the audio that ended the utterance (finals).
    pub e2e_ms: Option<f64>,
    /// Word times and probabilities (finals).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<Word>,
    /// The engine and model that decoded it (e.g. "conformer-ctc", "vi-conformer").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub engine: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranslationMessage {
    pub text: String,
    pub source_language: String,
    pub target_language: String,
    pub timestamp: i64,
    /// False for the translation of an interim transcript's committed prefix.
    pub is_final: bool,
    pub segment_id: u64,
    pub source_text: String,
    pub mt_ms: f64,
    pub e2e_ms: Option<f64>,
    /// The engine and model that translated it (e.g. "fxtranslate", "marian-en-pt").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub engine: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
}

/// One sentence of translated speech.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioMessage {
    /// Base64 WAV.
    pub data: String,
    pub format: String,
    pub sample_rate: u32,
    pub timestamp: i64,
    pub segment_id: u64,
    pub text: String,
    pub tts_ms: f64,
    pub e2e_ms: Option<f64>,
}

/// Non-fatal: the session goes on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorMessage {
    /// A code of the error table ("invalid_audio", "engine_unavailable"…).
    pub code: String,
    pub message: String,
    pub timestamp: i64,
    /// The utterance it concerns, when it concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_id: Option<u64>,
}

/// A recorded session, stored in the archive after `end`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordingMessage {
    pub id: String,
    pub status: String,
    pub duplicate: bool,
    pub duration: f64,
    pub segments: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_clients_messages_parse() {
        let cases: &[(&str, ClientMessage)] = &[
            (
                r#"{"type":"config","source_language":"zh","target_language":"en","voice_id":"default","sample_rate":16000}"#,
                ClientMessage::Config(Config { source_language: "zh".into(), ..Config::default() }),
            ),
            (r#"{"type":"config"}"#, ClientMessage::Config(Config::default())),
            (
                r#"{"type":"config","language":"vi","record":true,"tags":["a"]}"#,
                ClientMessage::Config(Config {
                    source_language: "vi".into(),
                    record: true,
                    tags: vec!["a".into()],
                    ..Config::default()
                }),
            ),
            (
                r#"{"type":"audio","data":"AAA=","timestamp":1733000000000}"#,
                ClientMessage::Audio { data: "AAA=".into(), timestamp: Some(serde_json::json!(1733000000000u64)) },
            ),
            (
                r#"{"type":"config","target_language":"en","speech_translation":true,"whole_sentences":true,"do_not_translate":["Sokuji"]}"#,
                ClientMessage::Config(Config {
                    speech_translation: true,
                    whole_sentences: true,
                    do_not_translate: vec!["Sokuji".into()],
                    ..Config::default()
                }),
            ),
            (r#"{"type":"end"}"#, ClientMessage::End),
            (r#"{"type":"commit"}"#, ClientMessage::Commit),
        ];
        for (json, expected) in cases {
            let got: ClientMessage = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(&got, expected, "{json}");
        }
        for bad in [r#"{"type":"nope"}"#, r#"{"data":"AAA="}"#, r#"{"type":"audio"}"#, "[]"] {
            assert!(serde_json::from_str::<ClientMessage>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_messages_carry_the_original_keys() {
        let m = ServerMessage::Translation(TranslationMessage {
            text: "Hello".into(),
            source_language: "vi".into(),
            target_language: "en".into(),
            timestamp: 1_733_000_000_123,
            is_final: true,
            segment_id: 2,
            source_text: "Xin chào".into(),
            mt_ms: 12.5,
            e2e_ms: None,
            engine: "fxtranslate".into(),
            model: "marian-vi-en".into(),
        });
        let v = serde_json::to_value(&m).expect("json");
        assert_eq!(v["type"], "translation");
        assert_eq!(v["timestamp"], 1_733_000_000_123i64, "integer milliseconds, as the original");
        for key in ["text", "source_language", "target_language"] {
            assert!(v.get(key).is_some(), "{key}");
        }
        let back: ServerMessage = serde_json::from_value(v).expect("round trip");
        assert_eq!(back, m);
    }
}
