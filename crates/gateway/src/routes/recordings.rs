//! The archive's recordings API: streamed uploads (multipart or raw body), listing with
//! filters, status per stage, transcripts (json, srt, vtt; raw or normalized), audio with range
//! requests, deletion and reprocessing.
use crate::{
    AppState,
    error::{ApiError, ApiResult},
};
use axum::{
    Extension, Json,
    body::Body,
    extract::{FromRequest, Multipart, Path, Query, Request, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures::TryStreamExt;
use sokuji_api::rest::{
    ErrorBody,
    archive::{
        DeadLetter, DeadLetterList, DeadLetterParams, Event, ListParams, Purged, Queued, RecordingDetail,
        RecordingInfo, RecordingList, Replayed, Requeued, StageInfo, TranscriptParams, TranscriptResponse,
        TranscriptSegment, UploadForm, UploadParams, Uploaded,
    },
    transcript::Segment,
};
use sokuji_core::{
    Error, ErrorCode,
    archive::{Recording, RecordingMeta, RecordingStatus, safe_filename},
    auth::{Principal, Visibility, visibility},
    subtitle,
};
use sokuji_store::{Db, Inserted, ListFilter, Objects, Staged};
use std::collections::BTreeMap;
use utoipa_axum::{router::OpenApiRouter, routes};

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
pub fn upload_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show, remove))
        .routes(routes!(transcript))
        .routes(routes!(audio))
        .routes(routes!(reprocess))
        .routes(routes!(reindex_one))
        .routes(routes!(reindex_all))
        .routes(routes!(dlq_list, dlq_purge))
        .routes(routes!(dlq_replay))
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

/// Sets an upload's metadata field from a multipart field.
fn set_param(params: &mut UploadParams, name: &str, value: String) -> Result<(), Error> {
    let slot = match name {
        "filename" => &mut params.filename,
        "language" => &mut params.language,
        "speaker" => &mut params.speaker,
        "source" => &mut params.source,
        "tags" => &mut params.tags,
        "attributes" => &mut params.attributes,
        other => return Err(Error::invalid_request(format!("unknown field {other:?}"))),
    };
    *slot = Some(value);
    Ok(())
}

/// The domain's metadata from an upload's fields, checked.
fn meta(params: &UploadParams) -> Result<RecordingMeta, Error> {
    let nonempty = |v: &Option<String>| v.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let attributes: BTreeMap<String, String> = match nonempty(&params.attributes) {
        None => BTreeMap::new(),
        Some(a) => serde_json::from_str(&a)
            .map_err(|e| Error::invalid_request(format!("attributes must be a JSON object of strings: {e}")))?,
    };
    let meta = RecordingMeta {
        language: nonempty(&params.language).filter(|l| l != "auto"),
        speaker: nonempty(&params.speaker),
        source: nonempty(&params.source),
        tags: nonempty(&params.tags)
            .map(|t| t.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default(),
        attributes,
    };
    meta.validate()?;
    Ok(meta)
}

/// `POST /api/v1/recordings`: multipart (`file` plus metadata fields, in any order) or a raw
/// body with the metadata as query parameters. Stored before the answer (202 with the id).
#[utoipa::path(post, path = "/api/v1/recordings", tag = "archive", params(UploadParams),
    request_body(content((UploadForm = "multipart/form-data"), (Vec<u8> = "application/octet-stream"))),
    responses((status = 202, description = "Accepted: the work is queued", body = Uploaded), (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody), (status = 413, description = "The upload is larger than this server accepts", body = ErrorBody)))]
async fn upload(
    State(s): State<AppState>,
    who: Option<Extension<Principal>>,
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
    let meta = match meta(&params) {
        Ok(m) => m,
        Err(e) => {
            a.objects.discard(&staged).await;
            return Err(e.into());
        }
    };
    let tenant = who.as_deref().map_or("", Principal::home_tenant).to_string();
    // The archive worker meters the transcription against the uploader's audio quota.
    let owner = who.as_deref().filter(|p| p.limits.audio_seconds_per_day.is_some()).map(|p| p.id.clone());
    let object_key = match a.objects.commit(&staged, &tenant).await {
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
        tenant,
        owner,
    };
    let traceparent = headers.get("traceparent").and_then(|v| v.to_str().ok());
    let (rec, duplicate) = match a.db.insert_recording(&rec, traceparent).await? {
        Inserted::New(r) => (r, false),
        Inserted::Existing(r) => (r, true),
    };
    let body = Uploaded {
        id: rec.id,
        status: rec.status.as_str().to_string(),
        duplicate,
        sha256: rec.sha256,
        size_bytes: rec.size_bytes,
    };
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
                set_param(&mut params, &name, value)?;
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

#[utoipa::path(get, path = "/api/v1/recordings", tag = "archive", params(ListParams),
    responses((status = 200, description = "Done", body = RecordingList), (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    who: Option<Extension<Principal>>,
    p: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Json<RecordingList>> {
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
        visibility: visibility(who.as_deref()),
    };
    let (items, total) = a.db.list(&filter).await?;
    let items = items.iter().map(RecordingInfo::from).collect();
    Ok(Json(RecordingList { items, total, limit: p.limit, offset: p.offset }))
}

#[utoipa::path(get, path = "/api/v1/recordings/{id}", tag = "archive", params(("id" = String, Path)),
    responses((status = 200, description = "Done", body = RecordingDetail), (status = 404, description = "Not found", body = ErrorBody)))]
async fn show(
    State(s): State<AppState>,
    who: Option<Extension<Principal>>,
    Path(id): Path<String>,
) -> ApiResult<Json<RecordingDetail>> {
    let a = archive(&s)?;
    let v = visibility(who.as_deref());
    let rec = a.db.recording(&id, &v).await?;
    let stages = a.db.stages(&id, &v).await?;
    let stages = stages
        .into_iter()
        .map(|st| StageInfo {
            stage: st.stage,
            status: st.status,
            attempts: st.attempts,
            last_error: st.last_error,
            updated_at: st.updated_at,
        })
        .collect();
    Ok(Json(RecordingDetail { recording: RecordingInfo::from(&rec), stages }))
}

/// The transcript as JSON (segments with words and times), SRT, WebVTT or plain text.
#[utoipa::path(get, path = "/api/v1/recordings/{id}/transcript", tag = "archive",
    params(("id" = String, Path), TranscriptParams),
    responses((status = 200, description = "Done", content((TranscriptResponse = "application/json"), (String = "application/x-subrip"),
        (String = "text/vtt"), (String = "text/plain"))), (status = 404, description = "Not found", body = ErrorBody)))]
async fn transcript(
    State(s): State<AppState>,
    who: Option<Extension<Principal>>,
    Path(id): Path<String>,
    p: Result<Query<TranscriptParams>, QueryRejection>,
) -> ApiResult<Response> {
    let a = archive(&s)?;
    let Query(p) = p.map_err(bad_query)?;
    let v = visibility(who.as_deref());
    let rec = a.db.recording(&id, &v).await?;
    let Some(stored) = a.db.transcript(&id, &v).await? else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("recording {id} has no transcript yet (status {})", rec.status.as_str()),
        ));
    };
    let t = stored.to_transcript(p.normalized);
    let text = |body: String, ct: &'static str| ([(header::CONTENT_TYPE, ct)], body).into_response();
    Ok(match p.format.as_deref().unwrap_or("json") {
        "json" => Json(TranscriptResponse {
            recording_id: id,
            status: rec.status.as_str().to_string(),
            language: stored.language.clone(),
            duration: stored.duration,
            engine: stored.engine.clone(),
            model: stored.model.clone(),
            normalized: p.normalized,
            text: t.text,
            segments: stored
                .segments
                .iter()
                .map(|s| TranscriptSegment {
                    segment: Segment::from(&s.segment),
                    normalized: s.normalized.clone(),
                    normalized_words: s
                        .normalized
                        .as_deref()
                        .map(|n| sokuji_core::aligned::align_words(&s.segment.words, n))
                        .unwrap_or_default()
                        .iter()
                        .map(sokuji_api::rest::transcript::Word::from)
                        .collect(),
                })
                .collect(),
        })
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

/// `Content-Disposition: attachment` with the file's name: ASCII for every client, and the exact
/// UTF-8 name (RFC 6266 / 5987) for those that read it.
fn attachment(name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let exact: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
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

/// The stored bytes as uploaded; `Range` requests for seeking.
#[utoipa::path(get, path = "/api/v1/recordings/{id}/audio", tag = "archive", params(("id" = String, Path)),
    responses((status = 200, description = "Done", content((Vec<u8> = "application/octet-stream"))), (status = 206, description = "The requested range of the bytes", content((Vec<u8> = "application/octet-stream"))),
        (status = 404, description = "Not found", body = ErrorBody), (status = 416, description = "The range is outside the bytes")))]
async fn audio(
    State(s): State<AppState>,
    who: Option<Extension<Principal>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let a = archive(&s)?;
    let rec = a.db.recording(&id, &visibility(who.as_deref())).await?;
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
        Some("ogg" | "opus" | "oga") => "audio/ogg",
        Some("webm" | "weba") => "audio/webm",
        Some("mka" | "mkv") => "audio/x-matroska",
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
    // Stored bytes are the uploader's: a browser saves them, never renders them as a page (an
    // <audio> element plays them all the same).
    if let Ok(v) = HeaderValue::from_str(&attachment(&rec.filename)) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// The recording, its transcript, passages and bytes.
#[utoipa::path(delete, path = "/api/v1/recordings/{id}", tag = "archive", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Not found", body = ErrorBody)))]
async fn remove(
    State(s): State<AppState>,
    who: Option<Extension<Principal>>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let a = archive(&s)?;
    let rec = a.db.delete_recording(&id, &visibility(who.as_deref())).await?;
    crate::auth::audit(&a.db, who.as_deref(), "recording.delete", &id, &rec.filename).await;
    if let Some(index) = &a.search {
        index.delete(&id).await?;
    }
    a.objects.delete(&rec.object_key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Runs every stage again from the stored bytes.
#[utoipa::path(post, path = "/api/v1/recordings/{id}/reprocess", tag = "archive", params(("id" = String, Path)),
    responses((status = 202, description = "Accepted: the work is queued", body = Requeued), (status = 404, description = "Not found", body = ErrorBody)))]
async fn reprocess(
    State(s): State<AppState>,
    who: Option<Extension<Principal>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let a = archive(&s)?;
    let rec = a.db.reprocess(&id, &visibility(who.as_deref())).await?;
    Ok((StatusCode::ACCEPTED, Json(Requeued { id: rec.id, status: rec.status.as_str().to_string() })).into_response())
}

/// Queues completed recordings for the index stage again (`search` must be on).
async fn reindex(s: &AppState, id: Option<&str>, v: &Visibility) -> ApiResult<Response> {
    let a = archive(s)?;
    if a.search.is_none() {
        return Err(ApiError::new(ErrorCode::EngineUnavailable, "search is off here (no embedding model or index)"));
    }
    let queued = a.db.reindex(id, v).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { queued })).into_response())
}

#[utoipa::path(post, path = "/api/v1/recordings/{id}/reindex", tag = "archive", params(("id" = String, Path)),
    responses((status = 202, description = "Accepted: the work is queued", body = Queued), (status = 404, description = "Not found", body = ErrorBody), (status = 503, description = "The engine is switched off or busy: retry after Retry-After", body = ErrorBody)))]
async fn reindex_one(
    State(s): State<AppState>,
    who: Option<Extension<Principal>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    reindex(&s, Some(&id), &visibility(who.as_deref())).await
}

/// Every completed recording to the index stage again (after a change of embedding model).
#[utoipa::path(post, path = "/api/v1/search/reindex", tag = "archive",
    responses((status = 202, description = "Accepted: the work is queued", body = Queued), (status = 503, description = "The engine is switched off or busy: retry after Retry-After", body = ErrorBody)))]
async fn reindex_all(State(s): State<AppState>, who: Option<Extension<Principal>>) -> ApiResult<Response> {
    reindex(&s, None, &visibility(who.as_deref())).await
}

/// Stores a recorded live session (its audio and the transcript made while it was heard): ASR
/// is done, NLP-Post follows. The answer is the client's `recording` message.
pub async fn store_live(
    archive: &Archive,
    recorded: sokuji_live::Recorded,
    mut meta: RecordingMeta,
    tenant: &str,
) -> Result<sokuji_api::live::RecordingMessage, Error> {
    let sokuji_live::Recorded { wav, duration, segments, producer } = recorded;
    let body = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(wav))]);
    let staged = archive.objects.stage(body, archive.max_bytes).await?;
    let object_key = archive.objects.commit(&staged, tenant).await?;
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
        tenant: tenant.to_string(),
        // Heard live: metered as it was heard.
        owner: None,
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

/// Dead letters hold every tenant's events: only a principal that sees all tenants (an `admin`
/// key without a tenant) handles them.
fn operators_only(who: Option<&Principal>) -> ApiResult<()> {
    match visibility(who) {
        Visibility::All => Ok(()),
        Visibility::Tenant(_) => Err(ApiError::new(
            ErrorCode::Forbidden,
            "dead letters hold every tenant's events: they need an admin key without a tenant",
        )),
    }
}

/// Deliveries that failed too often, set aside for a person to look at.
#[utoipa::path(get, path = "/api/v1/dlq", tag = "archive", responses((status = 200, description = "Done", body = DeadLetterList)))]
async fn dlq_list(State(s): State<AppState>, who: Option<Extension<Principal>>) -> ApiResult<Json<DeadLetterList>> {
    operators_only(who.as_deref())?;
    let items: Vec<DeadLetter> = archive(&s)?
        .bus
        .dead_letters()
        .await?
        .iter()
        .map(|d| DeadLetter {
            event: Event::from(&d.event),
            subscription: d.subscription.clone(),
            attempts: d.attempts,
            reason: d.reason.clone(),
        })
        .collect();
    Ok(Json(DeadLetterList { total: items.len(), items }))
}

/// Delivers dead letters again (one event's, or all); their failed stages read `pending` again.
#[utoipa::path(post, path = "/api/v1/dlq/replay", tag = "archive", params(DeadLetterParams),
    responses((status = 200, description = "Done", body = Replayed)))]
async fn dlq_replay(
    State(s): State<AppState>,
    who: Option<Extension<Principal>>,
    p: Result<Query<DeadLetterParams>, QueryRejection>,
) -> ApiResult<Json<Replayed>> {
    let Query(p) = p.map_err(bad_query)?;
    operators_only(who.as_deref())?;
    let a = archive(&s)?;
    let replayed = a.bus.replay(p.event_id.as_deref()).await?;
    let target = p.event_id.as_deref().unwrap_or("all");
    crate::auth::audit(&a.db, who.as_deref(), "dlq.replay", target, &format!("{replayed} replayed")).await;
    Ok(Json(Replayed { replayed }))
}

/// Drops dead letters (one event's, or all).
#[utoipa::path(delete, path = "/api/v1/dlq", tag = "archive", params(DeadLetterParams),
    responses((status = 200, description = "Done", body = Purged)))]
async fn dlq_purge(
    State(s): State<AppState>,
    who: Option<Extension<Principal>>,
    p: Result<Query<DeadLetterParams>, QueryRejection>,
) -> ApiResult<Json<Purged>> {
    let Query(p) = p.map_err(bad_query)?;
    operators_only(who.as_deref())?;
    let a = archive(&s)?;
    let purged = a.bus.purge(p.event_id.as_deref()).await?;
    let target = p.event_id.as_deref().unwrap_or("all");
    crate::auth::audit(&a.db, who.as_deref(), "dlq.purge", target, &format!("{purged} purged")).await;
    Ok(Json(Purged { purged }))
}

#[cfg(test)]
mod tests {
    use super::{attachment, parse_range};

    #[test]
    fn attachments_name_the_file_safely() {
        assert_eq!(attachment("a b.wav"), "attachment; filename=\"a b.wav\"; filename*=UTF-8''a%20b.wav");
        assert_eq!(
            attachment("bài \"1\".wav"),
            "attachment; filename=\"b_i _1_.wav\"; filename*=UTF-8''b%C3%A0i%20%221%22.wav"
        );
        assert!(axum::http::HeaderValue::from_str(&attachment("x\u{0}<script>.html")).is_ok());
    }

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
