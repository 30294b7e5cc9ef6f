//! The speech archive's recordings API: uploads, listings, transcripts, reprocessing and the
//! dead-letter queue.
use crate::rest::transcript::Segment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Upload metadata: query parameters of a raw-body upload, or fields of a multipart one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// Shown in listings (default: the multipart file's name, else "upload").
    pub filename: Option<String>,
    /// ISO 639-1 of the speech; absent or "auto" to detect.
    pub language: Option<String>,
    pub speaker: Option<String>,
    pub source: Option<String>,
    /// Comma-separated.
    pub tags: Option<String>,
    /// A JSON object of strings.
    pub attributes: Option<String>,
}

/// The multipart form of an upload (documentation): `file` and the metadata fields in any order.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub filename: Option<String>,
    pub language: Option<String>,
    pub speaker: Option<String>,
    pub source: Option<String>,
    pub tags: Option<String>,
    pub attributes: Option<String>,
}

/// 202: stored before the answer; processing follows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Uploaded {
    pub id: String,
    pub status: String,
    /// The same bytes were stored before: this is that recording.
    pub duplicate: bool,
    pub sha256: String,
    pub size_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// ingested, transcribing, transcribed, processed, completed or failed.
    pub status: Option<String>,
    pub language: Option<String>,
    pub speaker: Option<String>,
    pub tag: Option<String>,
    /// Hex SHA-256 of the bytes: whether a file is already stored (resumable ingestion).
    pub sha256: Option<String>,
    /// Creation time range, ms since the epoch.
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// 1..=1000, default 50.
    #[serde(default = "fifty")]
    #[param(default = 50)]
    pub limit: u32,
    #[serde(default)]
    pub offset: u32,
}

fn fifty() -> u32 {
    50
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecordingList {
    pub items: Vec<RecordingInfo>,
    /// Recordings matching the filters, all pages together.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// A stored recording and what its uploader said of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecordingInfo {
    pub id: String,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub object_key: String,
    pub filename: String,
    pub size_bytes: u64,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&sokuji_core::archive::Recording> for RecordingInfo {
    fn from(r: &sokuji_core::archive::Recording) -> Self {
        Self {
            id: r.id.clone(),
            sha256: r.sha256.clone(),
            object_key: r.object_key.clone(),
            filename: r.filename.clone(),
            size_bytes: r.size_bytes,
            status: r.status.as_str().to_string(),
            language: r.meta.language.clone(),
            speaker: r.meta.speaker.clone(),
            source: r.meta.source.clone(),
            tags: r.meta.tags.clone(),
            attributes: r.meta.attributes.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A recording with the state of each processing stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecordingDetail {
    #[serde(flatten)]
    pub recording: RecordingInfo,
    pub stages: Vec<StageInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StageInfo {
    /// asr, nlp or index.
    pub stage: String,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TranscriptParams {
    /// json (default), srt, vtt or text.
    #[serde(default)]
    pub format: Option<String>,
    /// The normalized text (Vietnamese ITN) instead of the raw transcript.
    #[serde(default)]
    pub normalized: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranscriptResponse {
    pub recording_id: String,
    pub status: String,
    pub language: String,
    pub duration: f64,
    pub engine: String,
    pub model: String,
    /// Whether `text` is the normalized text.
    pub normalized: bool,
    pub text: String,
    pub segments: Vec<TranscriptSegment>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranscriptSegment {
    #[serde(flatten)]
    pub segment: Segment,
    /// Normalized text; absent until NLP-Post has run.
    pub normalized: Option<String>,
    /// The normalized text's tokens, each with the times of the spoken words it came from ("24"
    /// spans "hai mươi tư"): for highlights and the player on the written text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub normalized_words: Vec<crate::rest::transcript::Word>,
}

/// 202: a recording queued again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Requeued {
    pub id: String,
    pub status: String,
}

/// 202: recordings queued for the index stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Queued {
    pub queued: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterParams {
    /// One event's dead letters; all when absent.
    pub event_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeadLetterList {
    pub items: Vec<DeadLetter>,
    pub total: usize,
}

/// A delivery that failed too often and was set aside.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeadLetter {
    pub event: Event,
    pub subscription: String,
    pub attempts: u32,
    pub reason: String,
}

/// An archive event (the CloudEvents-like envelope of proto/events.proto).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub source: String,
    /// The recording it is about.
    pub subject: String,
    /// Milliseconds since the Unix epoch.
    pub time: i64,
    /// W3C traceparent: events caused by one upload share its trace id.
    pub traceparent: String,
    /// What the event type carries (recording_id and more).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<&sokuji_core::archive::events::Event> for Event {
    fn from(e: &sokuji_core::archive::events::Event) -> Self {
        use sokuji_core::archive::events::EventData as D;
        let data = match &e.data {
            D::RecordingIngested { recording_id, object_key, language, reprocess } => serde_json::json!({
                "recording_id": recording_id, "object_key": object_key, "language": language, "reprocess": reprocess,
            }),
            D::TranscriptionCompleted { recording_id, language, segments } => {
                serde_json::json!({"recording_id": recording_id, "language": language, "segments": segments})
            }
            D::NlpPostprocessed { recording_id } => serde_json::json!({ "recording_id": recording_id }),
            D::EmbeddingsIndexed { recording_id, passages } => {
                serde_json::json!({"recording_id": recording_id, "passages": passages})
            }
        };
        Self {
            id: e.id.clone(),
            event_type: e.event_type.clone(),
            source: e.source.clone(),
            subject: e.subject.clone(),
            time: e.time,
            traceparent: e.traceparent.clone(),
            data,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Replayed {
    pub replayed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Purged {
    pub purged: u64,
}
