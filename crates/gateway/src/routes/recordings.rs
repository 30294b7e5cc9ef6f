//! The archive's recordings API: streamed uploads (multipart or raw body), listing with
//! filters, status per stage, transcripts (json, srt, vtt; raw or normalized), audio with range
//! requests, deletion and reprocessing.
use crate::{
    AppState,
    error::{ApiError, ApiResult},
};
use axum::{
    Json, Router,
    body::Body,
    extract::{FromRequest, Multipart, Path, Query, Request, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use sokuji_core::{
    Error, ErrorCode,
    archive::{Recording, RecordingMeta, RecordingStatus, safe_filename},
    subtitle,
};
use sokuji_store::{Db, Inserted, ListFilter, Objects, Staged};
use std::collections::BTreeMap;

/// The archive's stores, when the server runs one.
#[derive(Clone)]
pub struct Archive {
    pub db: Db,
    pub objects: Objects,
    /// The event bus (its dead-letter queue is served here).
    pub bus: std::sync::Arc<dyn sokuji_store::EventBus>,
    /// Largest recording accepted, in bytes.
    pub max_bytes: u64,
    /// An upload that sends nothing for this long is dropped (and nothing of it kept).
    pub upload_idle: std::time::Duration,
    /// Most bytes of audio a recorded live session keeps in memory.
    pub live_record_max: u64,
    /// The search index over the recordings' passages, when this server runs one.
    pub search: Option<std::sync::Arc<dyn sokuji_core::search::SearchIndex>>,
}

impl Archive {
    /// An empty recording for a live session at `rate`.
    /// The most audio a recorded live session keeps.
    pub fn live_record_cap(&self) -> u64 {
        self.live_record_max.min(self.max_bytes)
    }
}

/// `POST /api/v1/recordings`, apart: its body has no size limit but the archive's, and no total
/// time limit (the caller bounds the time between chunks).
pub fn upload_router() -> Router<AppState> {
    Router::new().route("/api/v1/recordings", post(upload))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/recordings", get(list))
        .route("/api/v1/recordings/{id}", get(show).delete(remove))
        .route("/api/v1/recordings/{id}/transcript", get(transcript))
        .route("/api/v1/recordings/{id}/audio", get(audio))
        .route("/api/v1/recordings/{id}/reprocess", post(reprocess))
        .route("/api/v1/recordings/{id}/reindex", post(reindex_one))
        .route("/api/v1/search/reindex", post(reindex_all))
        .route("/api/v1/dlq", get(dlq_list).delete(dlq_purge))
        .route("/api/v1/dlq/replay", post(dlq_replay))
}

fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::new(ErrorCode::InvalidRequest, format!("bad query: {}", e.body_text()))
}

fn archive(s: &AppState) -> ApiResult<&Archive> {
    s.archive.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::EngineUnavailable,
            "this server runs no archive (serve all or serve gateway with an archive)",
        )
    })
}

/// Upload metadata from query parameters or form fields.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct UploadParams {
    filename: Option<String>,
    language: Option<String>,
    speaker: Option<String>,
    source: Option<String>,
    /// Comma-separated.
    tags: Option<String>,
    /// A JSON object of strings.
    attributes: Option<String>,
}

impl UploadParams {
    fn set(&mut self, name: &str, value: String) -> Result<(), Error> {
        let slot = match name {
            "filename" => &mut self.filename,
            "language" => &mut self.language,
            "speaker" => &mut self.speaker,
            "source" => &mut self.source,
            "tags" => &mut self.tags,
            "attributes" => &mut self.attributes,
            other => return Err(Error::invalid_request(format!("unknown field {other:?}"))),
        };
        *slot = Some(value);
        Ok(())
    }

    fn meta(&self) -> Result<RecordingMeta, Error> {
        let nonempty = |v: &Option<String>| v.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let attributes: BTreeMap<String, String> = match nonempty(&self.attributes) {
            None => BTreeMap::new(),
            Some(a) => serde_json::from_str(&a)
                .map_err(|e| Error::invalid_request(format!("attributes must be a JSON object of strings: {e}")))?,
        };
        let meta = RecordingMeta {
            language: nonempty(&self.language).filter(|l| l != "auto"),
            speaker: nonempty(&self.speaker),
            source: nonempty(&self.source),
            tags: nonempty(&self.tags)
                .map(|t| t.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
            attributes,
        };
        meta.validate()?;
        Ok(meta)
    }
}

/// `POST /api/v1/recordings`: multipart (`file` plus metadata fields, in any order) or a raw
/// body with the metadata as query parameters. Stored before the answer (202 with the id).
async fn upload(
    State(s): State<AppState>,
    query: Result<Query<UploadParams>, QueryRejection>,
    headers: HeaderMap,
    request: Request,
) -> ApiResult<Response> {
    let a = archive(&s)?;
    let Query(query) = query.map_err(bad_query)?;
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let (staged, params) = if multipart {
        stage_multipart(a, request).await?
    } else {
        let body = request.into_body().into_data_stream();
        (a.objects.stage(body, a.max_bytes).await?, query)
    };
    // Metadata is checked before anything is kept; a refused upload leaves nothing behind.
    let meta = match params.meta() {
        Ok(m) => m,
        Err(e) => {
            a.objects.discard(&staged).await;
            return Err(e.into());
        }
    };
    let object_key = match a.objects.commit(&staged).await {
        Ok(k) => k,
        Err(e) => {
            a.objects.discard(&staged).await;
            return Err(e.into());
        }
    };
    let now = sokuji_store::now_ms();
    let rec = Recording {
        id: uuid::Uuid::new_v4().to_string(),
        sha256: staged.sha256.clone(),
        object_key,
        filename: safe_filename(params.filename.as_deref().unwrap_or("upload")),
        size_bytes: staged.size,
        status: RecordingStatus::Ingested,
        meta,
        created_at: now,
        updated_at: now,
    };
    let traceparent = headers.get("traceparent").and_then(|v| v.to_str().ok());
    let (rec, duplicate) = match a.db.insert_recording(&rec, traceparent).await? {
        Inserted::New(r) => (r, false),
        Inserted::Existing(r) => (r, true),
    };
    let body = json!({"id": rec.id, "status": rec.status, "duplicate": duplicate, "sha256": rec.sha256, "size_bytes": rec.size_bytes});
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

async fn stage_multipart(a: &Archive, request: Request) -> ApiResult<(Staged, UploadParams)> {
    let mut mp = Multipart::from_request(request, &()).await.map_err(|e| {
        ApiError::new(ErrorCode::InvalidRequest, format!("malformed multipart body: {}", e.body_text()))
    })?;
    let mut params = UploadParams::default();
    let mut staged: Option<Staged> = None;
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(ErrorCode::InvalidRequest, format!("malformed multipart body: {}", e.body_text()))
    };
    let result: ApiResult<()> = async {
        while let Some(field) = mp.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_string();
            if name == "file" {
                if staged.is_some() {
                    return Err(ApiError::new(ErrorCode::InvalidRequest, "more than one file in the upload"));
                }
                if params.filename.is_none() {
                    params.filename = field.file_name().map(String::from);
                }
                let body = field.map_err(|e| e.body_text());
                staged = Some(a.objects.stage(Box::pin(body), a.max_bytes).await?);
            } else {
                let value = field.text().await.map_err(bad)?;
                params.set(&name, value)?;
            }
        }
        Ok(())
    }
    .await;
    match (result, staged) {
        (Ok(()), Some(s)) => Ok((s, params)),
        (Ok(()), None) => Err(ApiError::new(ErrorCode::InvalidRequest, "the upload has no `file` field")),
        (Err(e), Some(s)) => {
            a.objects.discard(&s).await;
            Err(e)
        }
        (Err(e), None) => Err(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    language: Option<String>,
    speaker: Option<String>,
    tag: Option<String>,
    /// Hex SHA-256 of the bytes: whether a file is already stored (resumable ingestion).
    sha256: Option<String>,
    /// Creation time range, ms since the epoch.
    from: Option<i64>,
    to: Option<i64>,
    #[serde(default = "fifty")]
    limit: u32,
    #[serde(default)]
    offset: u32,
}

fn fifty() -> u32 {
    50
}

async fn list(State(s): State<AppState>, p: Result<Query<ListParams>, QueryRejection>) -> ApiResult<Json<Value>> {
    let a = archive(&s)?;
    let Query(p) = p.map_err(bad_query)?;
    if p.limit == 0 || p.limit > 1000 {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "limit must be 1..1000"));
    }
    let filter = ListFilter {
        status: p.status.as_deref().map(RecordingStatus::parse).transpose()?,
        language: p.language,
        speaker: p.speaker,
        tag: p.tag,
        sha256: p.sha256,
        from: p.from,
        to: p.to,
        limit: p.limit,
        offset: p.offset,
    };
    let (items, total) = a.db.list(&filter).await?;
    Ok(Json(json!({"items": items, "total": total, "limit": p.limit, "offset": p.offset})))
}

async fn show(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let a = archive(&s)?;
    let rec = a.db.recording(&id).await?;
    let stages = a.db.stages(&id).await?;
    let mut v = serde_json::to_value(&rec).map_err(|e| Error::internal(e.to_string()))?;
    v["stages"] = json!(stages);
    Ok(Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TranscriptParams {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    normalized: bool,
}

async fn transcript(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Result<Query<TranscriptParams>, QueryRejection>,
) -> ApiResult<Response> {
    let a = archive(&s)?;
    let Query(p) = p.map_err(bad_query)?;
    let rec = a.db.recording(&id).await?;
    let Some(stored) = a.db.transcript(&id).await? else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("recording {id} has no transcript yet (status {})", rec.status.as_str()),
        ));
    };
    let t = stored.to_transcript(p.normalized);
    let text = |body: String, ct: &'static str| ([(header::CONTENT_TYPE, ct)], body).into_response();
    Ok(match p.format.as_deref().unwrap_or("json") {
        "json" => Json(json!({
            "recording_id": id, "status": rec.status, "language": stored.language, "duration": stored.duration,
            "engine": stored.engine, "model": stored.model, "normalized": p.normalized, "text": t.text,
            "segments": stored.segments,
        }))
        .into_response(),
        "srt" => text(subtitle::to_srt(&t), "application/x-subrip; charset=utf-8"),
        "vtt" => text(subtitle::to_vtt(&t), "text/vtt; charset=utf-8"),
        "text" => text(t.text, "text/plain; charset=utf-8"),
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("format {other:?}: use json, srt, vtt or text"),
            ));
        }
    })
}

/// Parses one `bytes=a-b` / `bytes=a-` / `bytes=-n` range against a size.
fn parse_range(h: &str, size: u64) -> Option<std::ops::Range<u64>> {
    let spec = h.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (size.saturating_sub(n), size)
        }
        (a, "") => (a.parse().ok()?, size),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.saturating_add(1).min(size)),
    };
    (start < end && start < size).then_some(start..end)
}

async fn audio(State(s): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    let a = archive(&s)?;
    let rec = a.db.recording(&id).await?;
    let size = a.objects.size(&rec.object_key).await?;
    let ct = match std::path::Path::new(&rec.filename)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("wav") => "audio/wav",
        Some("mp3") => "audio/mpeg",
        Some("flac") => "audio/flac",
        Some("ogg" | "opus") => "audio/ogg",
        Some("m4a" | "mp4") => "audio/mp4",
        _ => "application/octet-stream",
    };
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let mut response = match range {
        Some(r) => match parse_range(r, size) {
            Some(range) => {
                let bytes = a.objects.get_range(&rec.object_key, range.clone()).await?;
                let mut resp = (StatusCode::PARTIAL_CONTENT, Body::from(bytes)).into_response();
                let cr = format!("bytes {}-{}/{size}", range.start, range.end - 1);
                resp.headers_mut().insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&cr).map_err(|e| Error::internal(e.to_string()))?,
                );
                resp
            }
            None => {
                let mut resp = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                resp.headers_mut().insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes */{size}")).map_err(|e| Error::internal(e.to_string()))?,
                );
                return Ok(resp);
            }
        },
        None => Body::from(a.objects.get(&rec.object_key).await?).into_response(),
    };
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    response.headers_mut().insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    Ok(response)
}

async fn remove(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let a = archive(&s)?;
    let rec = a.db.delete_recording(&id).await?;
    if let Some(index) = &a.search {
        index.delete(&id).await?;
    }
    a.objects.delete(&rec.object_key).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reprocess(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let a = archive(&s)?;
    let rec = a.db.reprocess(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"id": rec.id, "status": rec.status}))).into_response())
}

/// Queues completed recordings for the index stage again (`search` must be on).
async fn reindex(s: &AppState, id: Option<&str>) -> ApiResult<Response> {
    let a = archive(s)?;
    if a.search.is_none() {
        return Err(ApiError::new(ErrorCode::EngineUnavailable, "search is off here (no embedding model or index)"));
    }
    let queued = a.db.reindex(id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"queued": queued}))).into_response())
}

async fn reindex_one(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    reindex(&s, Some(&id)).await
}

async fn reindex_all(State(s): State<AppState>) -> ApiResult<Response> {
    reindex(&s, None).await
}

/// Stores a recorded live session (its audio and the transcript made while it was heard): ASR
/// is done, NLP-Post follows. The answer is the client's `recording` message.
pub async fn store_live(
    archive: &Archive,
    recorded: sokuji_live::Recorded,
    mut meta: RecordingMeta,
) -> Result<sokuji_api::live::RecordingMessage, Error> {
    let sokuji_live::Recorded { wav, duration, segments, producer } = recorded;
    let body = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(wav))]);
    let staged = archive.objects.stage(body, archive.max_bytes).await?;
    let object_key = archive.objects.commit(&staged).await?;
    let transcript = sokuji_core::Transcript::assemble(segments, 0.0, duration, None, producer);
    let now = sokuji_store::now_ms();
    meta.source = meta.source.or(Some("live".into()));
    let rec = Recording {
        id: uuid::Uuid::new_v4().to_string(),
        sha256: staged.sha256.clone(),
        object_key,
        filename: format!("live-{now}.wav"),
        size_bytes: staged.size,
        status: RecordingStatus::Transcribed,
        meta,
        created_at: now,
        updated_at: now,
    };
    let (rec, duplicate) = match archive.db.insert_with_transcript(&rec, &transcript).await? {
        Inserted::New(r) => (r, false),
        Inserted::Existing(r) => (r, true),
    };
    Ok(sokuji_api::live::RecordingMessage {
        id: rec.id,
        status: rec.status.as_str().to_string(),
        duplicate,
        duration,
        segments: transcript.segments.len(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DlqParams {
    /// One event's dead letters; all when absent.
    event_id: Option<String>,
}

async fn dlq_list(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let items = archive(&s)?.bus.dead_letters().await?;
    Ok(Json(json!({"items": items, "total": items.len()})))
}

async fn dlq_replay(State(s): State<AppState>, p: Result<Query<DlqParams>, QueryRejection>) -> ApiResult<Json<Value>> {
    let Query(p) = p.map_err(bad_query)?;
    let n = archive(&s)?.bus.replay(p.event_id.as_deref()).await?;
    Ok(Json(json!({"replayed": n})))
}

async fn dlq_purge(State(s): State<AppState>, p: Result<Query<DlqParams>, QueryRejection>) -> ApiResult<Json<Value>> {
    let Query(p) = p.map_err(bad_query)?;
    let n = archive(&s)?.bus.purge(p.event_id.as_deref()).await?;
    Ok(Json(json!({"purged": n})))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some(0..100));
        assert_eq!(parse_range("bytes=900-", 1000), Some(900..1000));
        assert_eq!(parse_range("bytes=-100", 1000), Some(900..1000));
        assert_eq!(parse_range("bytes=990-2000", 1000), Some(990..1000));
        for bad in ["bytes=1000-", "bytes=5-2", "items=0-1", "bytes=0-1,5-6", "bytes=x-"] {
            assert_eq!(parse_range(bad, 1000), None, "{bad}");
        }
    }
}
