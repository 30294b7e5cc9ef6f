//! OpenAI's realtime events, as far as Sokuji serves them: transcription sessions
//! (`/v1/realtime?intent=transcription`, in the GA shape `session.update` and the beta shape
//! `transcription_session.update`) and speech translation sessions (`/v1/realtime/translations`).
//! Field names and types follow the official SDK's event models; unknown fields a client sends
//! are ignored, as OpenAI's own server does.
use crate::double_option;
use serde::{Deserialize, Serialize};

/// A client event.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type")]
pub enum ClientEvent {
    #[serde(rename = "session.update")]
    SessionUpdate {
        #[serde(default)]
        event_id: Option<String>,
        session: SessionUpdate,
    },
    #[serde(rename = "transcription_session.update")]
    TranscriptionSessionUpdate {
        #[serde(default)]
        event_id: Option<String>,
        session: BetaSessionUpdate,
    },
    /// Base64 PCM16, mono, little-endian, at the session's input rate (24 kHz by default).
    #[serde(rename = "input_audio_buffer.append")]
    InputAudioBufferAppend {
        #[serde(default)]
        event_id: Option<String>,
        audio: String,
    },
    #[serde(rename = "input_audio_buffer.commit")]
    InputAudioBufferCommit {
        #[serde(default)]
        event_id: Option<String>,
    },
    #[serde(rename = "input_audio_buffer.clear")]
    InputAudioBufferClear {
        #[serde(default)]
        event_id: Option<String>,
    },
    /// Translation sessions: base64 PCM16 at 24 kHz.
    #[serde(rename = "session.input_audio_buffer.append")]
    SessionInputAudioBufferAppend {
        #[serde(default)]
        event_id: Option<String>,
        audio: String,
    },
    /// Translation sessions: flush what was sent, then close.
    #[serde(rename = "session.close")]
    SessionClose {
        #[serde(default)]
        event_id: Option<String>,
    },
}

impl ClientEvent {
    pub fn event_id(&self) -> Option<&str> {
        match self {
            Self::SessionUpdate { event_id, .. }
            | Self::TranscriptionSessionUpdate { event_id, .. }
            | Self::InputAudioBufferAppend { event_id, .. }
            | Self::InputAudioBufferCommit { event_id }
            | Self::InputAudioBufferClear { event_id }
            | Self::SessionInputAudioBufferAppend { event_id, .. }
            | Self::SessionClose { event_id } => event_id.as_deref(),
        }
    }
}

/// `session.update` (GA shape), for transcription and translation sessions alike.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct SessionUpdate {
    /// "transcription" or "translation"; a conversation ("realtime") is refused.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioConfig>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct AudioConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<AudioInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<AudioOutput>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct AudioInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<AudioFormat>,
    /// `null` switches source transcription off (translation sessions).
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    pub transcription: Option<Option<InputTranscription>>,
    /// `null` switches server VAD off: the client commits.
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    pub turn_detection: Option<Option<TurnDetection>>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct AudioFormat {
    /// "audio/pcm" (or the beta "pcm16").
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct InputTranscription {
    #[serde(default)]
    pub model: Option<String>,
    /// ISO 639-1; absent means detected per utterance.
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub prompt: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct TurnDetection {
    /// "server_vad" ("semantic_vad" is served as server VAD).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub threshold: Option<f32>,
    #[serde(default)]
    pub prefix_padding_ms: Option<u32>,
    #[serde(default)]
    pub silence_duration_ms: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct AudioOutput {
    /// Translation sessions: the language to translate into.
    #[serde(default)]
    pub language: Option<String>,
}

/// `transcription_session.update` (beta shape).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct BetaSessionUpdate {
    /// "pcm16" (24 kHz).
    #[serde(default)]
    pub input_audio_format: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub input_audio_transcription: Option<Option<InputTranscription>>,
    #[serde(default, deserialize_with = "double_option")]
    pub turn_detection: Option<Option<TurnDetection>>,
}

/// A transcription session as the server describes it (GA shape).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranscriptionSession {
    pub id: String,
    pub object: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub audio: TranscriptionAudio,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranscriptionAudio {
    pub input: TranscriptionInput,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranscriptionInput {
    pub format: AudioFormat,
    pub transcription: InputTranscription,
    pub turn_detection: Option<TurnDetection>,
}

/// The same session in the beta shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BetaTranscriptionSession {
    pub id: String,
    pub object: String,
    pub input_audio_format: String,
    pub input_audio_transcription: InputTranscription,
    pub turn_detection: Option<TurnDetection>,
}

/// A translation session as the server describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranslationSession {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub model: String,
    /// Seconds since the epoch.
    pub expires_at: i64,
    pub audio: TranslationAudio,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranslationAudio {
    pub input: TranslationInput,
    pub output: AudioOutput,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranslationInput {
    pub transcription: Option<InputTranscription>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Session {
    Transcription(TranscriptionSession),
    BetaTranscription(BetaTranscriptionSession),
    Translation(TranslationSession),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// "invalid_request_error" or "server_error".
    #[serde(rename = "type")]
    pub kind: String,
    /// A code of Sokuji's error table.
    pub code: Option<String>,
    pub message: String,
    pub param: Option<String>,
    /// The client event that caused it, when one did.
    pub event_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// "duration": billed by audio seconds.
    #[serde(rename = "type")]
    pub kind: String,
    pub seconds: f64,
}

/// A server event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerEvent {
    #[serde(rename = "session.created")]
    SessionCreated { event_id: String, session: Session },
    #[serde(rename = "session.updated")]
    SessionUpdated { event_id: String, session: Session },
    #[serde(rename = "transcription_session.created")]
    TranscriptionSessionCreated { event_id: String, session: Session },
    #[serde(rename = "transcription_session.updated")]
    TranscriptionSessionUpdated { event_id: String, session: Session },
    #[serde(rename = "input_audio_buffer.speech_started")]
    SpeechStarted { event_id: String, audio_start_ms: u64, item_id: String },
    #[serde(rename = "input_audio_buffer.speech_stopped")]
    SpeechStopped { event_id: String, audio_end_ms: u64, item_id: String },
    #[serde(rename = "input_audio_buffer.committed")]
    Committed { event_id: String, item_id: String, previous_item_id: Option<String> },
    #[serde(rename = "input_audio_buffer.cleared")]
    Cleared { event_id: String },
    #[serde(rename = "conversation.item.input_audio_transcription.delta")]
    TranscriptionDelta { event_id: String, item_id: String, content_index: u32, delta: String },
    #[serde(rename = "conversation.item.input_audio_transcription.completed")]
    TranscriptionCompleted { event_id: String, item_id: String, content_index: u32, transcript: String, usage: Usage },
    #[serde(rename = "conversation.item.input_audio_transcription.failed")]
    TranscriptionFailed { event_id: String, item_id: String, content_index: u32, error: ErrorDetail },
    #[serde(rename = "session.input_transcript.delta")]
    InputTranscriptDelta { event_id: String, delta: String, elapsed_ms: u64 },
    #[serde(rename = "session.output_transcript.delta")]
    OutputTranscriptDelta { event_id: String, delta: String, elapsed_ms: u64 },
    /// Base64 PCM16 mono.
    #[serde(rename = "session.output_audio.delta")]
    OutputAudioDelta {
        event_id: String,
        delta: String,
        sample_rate: u32,
        channels: u32,
        format: String,
        elapsed_ms: u64,
    },
    #[serde(rename = "session.closed")]
    SessionClosed { event_id: String },
    #[serde(rename = "error")]
    Error { event_id: String, error: ErrorDetail },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_events_as_the_sdk_sends_them() {
        let ga = r#"{"type":"session.update","session":{"type":"transcription","audio":{"input":{
            "format":{"type":"audio/pcm","rate":24000},"transcription":{"model":"whisper-1","language":"vi"},
            "turn_detection":null}}}}"#;
        let ClientEvent::SessionUpdate { session, .. } = serde_json::from_str(ga).expect("GA update") else {
            panic!("not a session.update")
        };
        let input = session.audio.and_then(|a| a.input).expect("input");
        assert_eq!(input.turn_detection, Some(None), "null switches server VAD off");
        assert_eq!(input.transcription.flatten().and_then(|t| t.language).as_deref(), Some("vi"));
        assert_eq!(input.format.and_then(|f| f.rate), Some(24_000));

        let beta = r#"{"type":"transcription_session.update","session":{"input_audio_format":"pcm16",
            "input_audio_transcription":{"model":"gpt-4o-transcribe","prompt":""},
            "turn_detection":{"type":"server_vad","silence_duration_ms":400}}}"#;
        let ClientEvent::TranscriptionSessionUpdate { session, .. } = serde_json::from_str(beta).expect("beta") else {
            panic!("not a transcription_session.update")
        };
        assert_eq!(session.turn_detection.flatten().and_then(|t| t.silence_duration_ms), Some(400));

        let tr = r#"{"type":"session.update","event_id":"e1","session":{"audio":{"output":{"language":"es"}}}}"#;
        let e: ClientEvent = serde_json::from_str(tr).expect("translation update");
        assert_eq!(e.event_id(), Some("e1"));
        for ok in [
            r#"{"type":"input_audio_buffer.append","audio":"AAA="}"#,
            r#"{"type":"input_audio_buffer.commit"}"#,
            r#"{"type":"input_audio_buffer.clear","event_id":"x"}"#,
            r#"{"type":"session.input_audio_buffer.append","audio":"AAA="}"#,
            r#"{"type":"session.close"}"#,
        ] {
            assert!(serde_json::from_str::<ClientEvent>(ok).is_ok(), "{ok}");
        }
        assert!(serde_json::from_str::<ClientEvent>(r#"{"type":"response.create"}"#).is_err());
    }

    #[test]
    fn server_events_have_the_sdks_shape() {
        let e = ServerEvent::TranscriptionCompleted {
            event_id: "event_1".into(),
            item_id: "item_1".into(),
            content_index: 0,
            transcript: "xin chào".into(),
            usage: Usage { kind: "duration".into(), seconds: 1.5 },
        };
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["type"], "conversation.item.input_audio_transcription.completed");
        assert_eq!(v["usage"]["type"], "duration");
        let e = ServerEvent::OutputAudioDelta {
            event_id: "event_2".into(),
            delta: "AAA=".into(),
            sample_rate: 24_000,
            channels: 1,
            format: "pcm16".into(),
            elapsed_ms: 200,
        };
        assert_eq!(serde_json::to_value(&e).expect("json")["type"], "session.output_audio.delta");
    }
}
