//! The speech archive's domain: recordings, their processing stages and the events between
//! stages. Validation and naming rules are pure functions here; storage is `sokuji-store`.
use crate::{Error, Result};
use std::collections::BTreeMap;

/// What an uploader says about a recording. Every field is optional.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordingMeta {
    /// ISO 639-1 of the speech, or absent for detection.
    pub language: Option<String>,
    pub speaker: Option<String>,
    pub source: Option<String>,
    pub tags: Vec<String>,
    pub attributes: BTreeMap<String, String>,
}

const MAX_FIELD_CHARS: usize = 256;
const MAX_TAGS: usize = 32;
const MAX_ATTRIBUTES: usize = 64;

fn check_text(what: &str, s: &str) -> Result<()> {
    if s.chars().count() > MAX_FIELD_CHARS {
        return Err(Error::invalid_request(format!("{what} is longer than {MAX_FIELD_CHARS} characters")));
    }
    if s.chars().any(char::is_control) {
        return Err(Error::invalid_request(format!("{what} contains control characters")));
    }
    Ok(())
}

impl RecordingMeta {
    /// Refuses what would be stored wrong or shown wrong; SQL metacharacters are plain text
    /// (every query binds its values).
    pub fn validate(&self) -> Result<()> {
        if let Some(l) = &self.language
            && crate::translate::language_name(l).is_none()
        {
            return Err(Error::new(crate::ErrorCode::UnsupportedLanguage, format!("language {l:?} is not supported")));
        }
        for (what, v) in [("speaker", &self.speaker), ("source", &self.source)] {
            if let Some(v) = v {
                check_text(what, v)?;
            }
        }
        if self.tags.len() > MAX_TAGS {
            return Err(Error::invalid_request(format!("more than {MAX_TAGS} tags")));
        }
        for t in &self.tags {
            if t.trim().is_empty() {
                return Err(Error::invalid_request("empty tag"));
            }
            check_text("tag", t)?;
        }
        if self.attributes.len() > MAX_ATTRIBUTES {
            return Err(Error::invalid_request(format!("more than {MAX_ATTRIBUTES} attributes")));
        }
        for (k, v) in &self.attributes {
            check_text("attribute name", k)?;
            check_text("attribute value", v)?;
        }
        Ok(())
    }
}

/// Where a recording is in the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordingStatus {
    /// Stored; waiting for speech-to-text.
    Ingested,
    /// Transcribed; waiting for normalization.
    Transcribed,
    /// Every stage done.
    Completed,
    /// A stage gave up after its last delivery (see the dead-letter queue).
    Failed,
}

impl RecordingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingested => "ingested",
            Self::Transcribed => "transcribed",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "ingested" => Self::Ingested,
            "transcribed" => Self::Transcribed,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            other => return Err(Error::invalid_request(format!("unknown status {other:?}"))),
        })
    }
}

/// A stored recording.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    pub id: String,
    /// Hex SHA-256 of the bytes: the same bytes twice are one recording.
    pub sha256: String,
    pub object_key: String,
    pub filename: String,
    pub size_bytes: u64,
    pub status: RecordingStatus,
    pub meta: RecordingMeta,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
    /// Whose recording it is ("": the default tenant's); only principals that see the tenant
    /// find it.
    pub tenant: String,
    /// The key (or token) that stored it: its transcription spends that key's audio quota.
    pub owner: Option<String>,
}

/// The events between the archive's stages, and the stage that consumes each. On the wire they
/// are `sokuji.events.v1.Envelope` (proto/events.proto); this is their domain form.
pub mod events {

    pub const RECORDING_INGESTED: &str = "recording.ingested";
    pub const TRANSCRIPTION_COMPLETED: &str = "transcription.completed";
    pub const NLP_POSTPROCESSED: &str = "nlp.postprocessed";
    pub const EMBEDDINGS_INDEXED: &str = "embeddings.indexed";

    /// Durable subscriptions and the event type each consumes: every event is delivered once to
    /// every subscription of its type.
    pub const SUBSCRIPTIONS: &[(&str, &str)] =
        &[("asr", RECORDING_INGESTED), ("nlp", TRANSCRIPTION_COMPLETED), ("index", NLP_POSTPROCESSED)];

    pub fn subscribers(event_type: &str) -> impl Iterator<Item = &'static str> + '_ {
        SUBSCRIPTIONS.iter().filter(move |(_, t)| *t == event_type).map(|(s, _)| *s)
    }

    /// The event type a subscription consumes.
    pub fn consumed_by(subscription: &str) -> Option<&'static str> {
        SUBSCRIPTIONS.iter().find(|(s, _)| *s == subscription).map(|(_, t)| *t)
    }

    /// An event with its envelope.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Event {
        pub id: String,
        pub event_type: String,
        pub source: String,
        /// What the event is about (a recording id).
        pub subject: String,
        /// Milliseconds since the Unix epoch.
        pub time: i64,
        /// W3C `traceparent`: events caused by one upload share its trace id.
        pub traceparent: String,
        pub data: EventData,
    }

    impl Event {
        /// The trace id of `traceparent` (32 hex digits), or "" when there is none.
        pub fn trace_id(&self) -> &str {
            self.traceparent.split('-').nth(1).unwrap_or_default()
        }
    }

    /// What each event type carries.
    #[derive(Clone, Debug, PartialEq)]
    pub enum EventData {
        RecordingIngested { recording_id: String, object_key: String, language: Option<String>, reprocess: bool },
        TranscriptionCompleted { recording_id: String, language: String, segments: u32 },
        NlpPostprocessed { recording_id: String },
        EmbeddingsIndexed { recording_id: String, passages: u32 },
    }

    impl EventData {
        pub fn event_type(&self) -> &'static str {
            match self {
                Self::RecordingIngested { .. } => RECORDING_INGESTED,
                Self::TranscriptionCompleted { .. } => TRANSCRIPTION_COMPLETED,
                Self::NlpPostprocessed { .. } => NLP_POSTPROCESSED,
                Self::EmbeddingsIndexed { .. } => EMBEDDINGS_INDEXED,
            }
        }

        pub fn recording_id(&self) -> &str {
            match self {
                Self::RecordingIngested { recording_id, .. }
                | Self::TranscriptionCompleted { recording_id, .. }
                | Self::NlpPostprocessed { recording_id }
                | Self::EmbeddingsIndexed { recording_id, .. } => recording_id,
            }
        }
    }
}

/// The last path component of an uploaded file name, without control characters: a name like
/// `../../etc/passwd` or `C:\x\y.wav` is kept as a label only, never used as a path.
pub fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    match clean.trim() {
        "" | "." | ".." => "upload".to_string(),
        s => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_paths() {
        for (given, kept) in [
            ("talk.wav", "talk.wav"),
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\a\\b.mp3", "b.mp3"),
            ("..", "upload"),
            ("dir/", "upload"),
            ("a\u{0}b\nc.wav", "abc.wav"),
            ("", "upload"),
        ] {
            assert_eq!(safe_filename(given), kept, "{given:?}");
        }
    }

    #[test]
    fn metadata_is_validated() {
        let ok = RecordingMeta {
            language: Some("vi".into()),
            speaker: Some("Robert'); DROP TABLE recordings;--".into()),
            tags: vec!["news".into()],
            ..Default::default()
        };
        assert!(ok.validate().is_ok(), "SQL metacharacters are text");
        let bad = [
            RecordingMeta { language: Some("xx".into()), ..Default::default() },
            RecordingMeta { speaker: Some("a".repeat(300)), ..Default::default() },
            RecordingMeta { tags: vec![" ".into()], ..Default::default() },
            RecordingMeta { source: Some("a\u{7}".into()), ..Default::default() },
            RecordingMeta { tags: vec!["t".into(); 40], ..Default::default() },
        ];
        for m in bad {
            assert!(m.validate().is_err(), "{m:?}");
        }
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            RecordingStatus::Ingested,
            RecordingStatus::Transcribed,
            RecordingStatus::Completed,
            RecordingStatus::Failed,
        ] {
            assert_eq!(RecordingStatus::parse(s.as_str()).ok(), Some(s));
        }
        assert!(RecordingStatus::parse("done").is_err());
    }
}
