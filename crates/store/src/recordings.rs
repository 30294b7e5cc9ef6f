//! Recordings, their stages and transcripts in the metadata database.
use crate::{
    db::{Db, db_error, now_ms},
    event::new_event,
    queue::publish,
};
use sokuji_core::{
    Error, Result, Segment, Transcript,
    archive::{Recording, RecordingMeta, RecordingStatus, events::EventData},
    auth::Visibility,
};
use sqlx::{Any, Row, Transaction, any::AnyRow};

/// A stage's state, as the recordings API reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct StageState {
    pub stage: String,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated_at: i64,
}

/// A stored transcript: segments with words, raw and normalized text, and what made it.
#[derive(Clone, Debug)]
pub struct StoredTranscript {
    pub language: String,
    pub duration: f64,
    pub engine: String,
    pub model: String,
    pub segments: Vec<StoredSegment>,
}

#[derive(Clone, Debug)]
pub struct StoredSegment {
    pub segment: Segment,
    /// Normalized text (Vietnamese ITN); absent until NLP-Post has run.
    pub normalized: Option<String>,
}

impl StoredTranscript {
    /// As a domain transcript, raw or normalized text.
    pub fn to_transcript(&self, normalized: bool) -> Transcript {
        let segments: Vec<Segment> = self
            .segments
            .iter()
            .map(|s| {
                let mut seg = s.segment.clone();
                if normalized && let Some(n) = &s.normalized {
                    seg.text = n.clone();
                }
                seg
            })
            .collect();
        let text = segments.iter().map(|s| s.text.trim()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" ");
        let producer = sokuji_core::Producer::new(self.engine.clone(), self.model.clone());
        Transcript {
            language_probability: None,
            text,
            language: self.language.clone(),
            confidence: 0.0,
            duration: self.duration,
            segments,
            producer,
        }
    }
}

/// Filters of `GET /api/v1/recordings`.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub status: Option<RecordingStatus>,
    pub language: Option<String>,
    pub speaker: Option<String>,
    pub tag: Option<String>,
    pub sha256: Option<String>,
    /// Creation time range, ms since the epoch.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: u32,
    pub offset: u32,
    /// Whose recordings are listed.
    pub visibility: Visibility,
}

/// What an insert did.
pub enum Inserted {
    New(Recording),
    /// The same bytes were already stored: the existing recording.
    Existing(Recording),
}

fn recording_from_row(r: &AnyRow) -> Result<Recording> {
    let get_s = |k: &str| r.try_get::<String, _>(k).map_err(db_error);
    let get_o = |k: &str| r.try_get::<Option<String>, _>(k).map_err(db_error);
    let tags: Vec<String> = serde_json::from_str(&get_s("tags")?).unwrap_or_default();
    let attributes = serde_json::from_str(&get_s("attributes")?).unwrap_or_default();
    Ok(Recording {
        id: get_s("id")?,
        sha256: get_s("sha256")?,
        object_key: get_s("object_key")?,
        filename: get_s("filename")?,
        size_bytes: r.try_get::<i64, _>("size_bytes").map_err(db_error)? as u64,
        status: RecordingStatus::parse(&get_s("status")?)?,
        meta: RecordingMeta {
            language: get_o("language")?,
            speaker: get_o("speaker")?,
            source: get_o("source")?,
            tags,
            attributes,
        },
        created_at: r.try_get("created_at").map_err(db_error)?,
        updated_at: r.try_get("updated_at").map_err(db_error)?,
        tenant: get_s("tenant")?,
        owner: get_o("owner")?,
    })
}

/// The two binds of a visibility in `($n = 1 OR tenant = $n+1)`: every tenant, or one.
pub(crate) fn tenant_binds(v: &Visibility) -> (i64, String) {
    match v {
        Visibility::All => (1, String::new()),
        Visibility::Tenant(t) => (0, t.clone()),
    }
}

pub(crate) fn not_found(id: &str) -> Error {
    Error::new(sokuji_core::ErrorCode::NotFound, format!("no recording {id:?}"))
}

impl Db {
    /// Stores a recording's row and its `recording.ingested` event in one transaction; the same
    /// bytes (SHA-256) already stored in the recording's tenant give back the existing recording
    /// and publish nothing.
    /// `traceparent`: the uploading request's W3C trace context, if it sent one.
    pub async fn insert_recording(&self, rec: &Recording, traceparent: Option<&str>) -> Result<Inserted> {
        let mut tx = self.begin().await?;
        if let Some(existing) = self.by_hash(&mut tx, &rec.tenant, &rec.sha256).await? {
            return Ok(Inserted::Existing(existing));
        }
        let inserted = insert_row(&mut tx, rec).await?;
        if !inserted {
            // A concurrent upload of the same bytes won the race.
            tx.rollback().await.map_err(db_error)?;
            let mut tx = self.begin().await?;
            let existing = self.by_hash(&mut tx, &rec.tenant, &rec.sha256).await?;
            return existing.map(Inserted::Existing).ok_or_else(|| Error::internal("recording vanished during insert"));
        }
        for stage in ["asr", "nlp"] {
            set_stage(&mut tx, &rec.id, stage, "pending", None).await?;
        }
        let data = EventData::RecordingIngested {
            recording_id: rec.id.clone(),
            object_key: rec.object_key.clone(),
            language: rec.meta.language.clone(),
            reprocess: false,
        };
        publish(&mut tx, &new_event("sokuji/gateway", data, traceparent), self.outbox).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Inserted::New(rec.clone()))
    }

    pub(crate) async fn by_hash(
        &self,
        tx: &mut Transaction<'_, Any>,
        tenant: &str,
        sha256: &str,
    ) -> Result<Option<Recording>> {
        let row = sqlx::query("SELECT * FROM recordings WHERE tenant = $1 AND sha256 = $2")
            .bind(tenant)
            .bind(sha256)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_error)?;
        row.as_ref().map(recording_from_row).transpose()
    }

    /// A recording `v` sees; another tenant's is `not_found`, as if it did not exist.
    pub async fn recording(&self, id: &str, v: &Visibility) -> Result<Recording> {
        let (all, tenant) = tenant_binds(v);
        let row = sqlx::query("SELECT * FROM recordings WHERE id = $1 AND ($2 = 1 OR tenant = $3)")
            .bind(id)
            .bind(all)
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        match row {
            Some(r) => recording_from_row(&r),
            None => Err(not_found(id)),
        }
    }

    /// Recordings newest first; the total count ignores limit and offset.
    pub async fn list(&self, f: &ListFilter) -> Result<(Vec<Recording>, u64)> {
        // Every filter is bound; an absent one is '' (or the widest range) and matches all.
        const FILTER: &str = "WHERE ($1 = '' OR status = $1) AND ($2 = '' OR language = $2) AND ($3 = '' OR speaker = $3) \
             AND ($4 = '' OR tags LIKE $4 ESCAPE '\\') AND created_at >= $5 AND created_at <= $6 AND ($7 = '' OR sha256 = $7) \
             AND ($8 = 1 OR tenant = $9)";
        let count_sql = format!("SELECT COUNT(*) AS n FROM recordings {FILTER}");
        let page_sql = format!("SELECT * FROM recordings {FILTER} ORDER BY created_at DESC, id LIMIT $10 OFFSET $11");
        let total: i64 = bind_filter(sqlx::query(&count_sql), f)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?
            .try_get("n")
            .map_err(db_error)?;
        let rows = bind_filter(sqlx::query(&page_sql), f)
            .bind(i64::from(f.limit))
            .bind(i64::from(f.offset))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let recs = rows.iter().map(recording_from_row).collect::<Result<Vec<_>>>()?;
        Ok((recs, total as u64))
    }

    pub async fn stages(&self, id: &str, v: &Visibility) -> Result<Vec<StageState>> {
        let (all, tenant) = tenant_binds(v);
        let rows = sqlx::query(
            "SELECT s.* FROM stages s JOIN recordings r ON r.id = s.recording_id \
             WHERE s.recording_id = $1 AND ($2 = 1 OR r.tenant = $3) ORDER BY s.stage",
        )
        .bind(id)
        .bind(all)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                Ok(StageState {
                    stage: r.try_get("stage").map_err(db_error)?,
                    status: r.try_get("status").map_err(db_error)?,
                    attempts: r.try_get::<i64, _>("attempts").map_err(db_error)? as u32,
                    last_error: r.try_get("last_error").map_err(db_error)?,
                    updated_at: r.try_get("updated_at").map_err(db_error)?,
                })
            })
            .collect()
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

fn bind_filter<'q>(q: AnyQuery<'q>, f: &ListFilter) -> AnyQuery<'q> {
    // Tags are stored as a JSON array: match the quoted tag, its LIKE wildcards escaped.
    let tag = f.tag.as_ref().map(|t| {
        let quoted = serde_json::to_string(t).unwrap_or_default();
        format!("%{}%", quoted.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
    });
    let (all, tenant) = tenant_binds(&f.visibility);
    q.bind(f.status.map(|s| s.as_str().to_string()).unwrap_or_default())
        .bind(f.language.clone().unwrap_or_default())
        .bind(f.speaker.clone().unwrap_or_default())
        .bind(tag.unwrap_or_default())
        .bind(f.from.unwrap_or(i64::MIN))
        .bind(f.to.unwrap_or(i64::MAX))
        .bind(f.sha256.clone().unwrap_or_default())
        .bind(all)
        .bind(tenant)
}

/// Inserts a recording's row unless its bytes are already stored in its tenant; false when they were.
pub(crate) async fn insert_row(tx: &mut Transaction<'_, Any>, rec: &Recording) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO recordings (id, sha256, object_key, filename, size_bytes, status, language, speaker, source, tags, attributes, created_at, updated_at, tenant, owner) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (tenant, sha256) DO NOTHING",
    )
    .bind(&rec.id)
    .bind(&rec.sha256)
    .bind(&rec.object_key)
    .bind(&rec.filename)
    .bind(rec.size_bytes as i64)
    .bind(rec.status.as_str())
    .bind(rec.meta.language.clone())
    .bind(rec.meta.speaker.clone())
    .bind(rec.meta.source.clone())
    .bind(serde_json::to_string(&rec.meta.tags).unwrap_or_else(|_| "[]".into()))
    .bind(serde_json::to_string(&rec.meta.attributes).unwrap_or_else(|_| "{}".into()))
    .bind(rec.created_at)
    .bind(rec.updated_at)
    .bind(&rec.tenant)
    .bind(rec.owner.clone())
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(r.rows_affected() == 1)
}

/// Records a stage's new state inside a transaction (`attempts` counts the tries that ran).
pub(crate) async fn set_stage(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    stage: &str,
    status: &str,
    error: Option<&str>,
) -> Result<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO stages (recording_id, stage, status, attempts, last_error, updated_at) VALUES ($1, $2, $3, 0, $4, $5) \
         ON CONFLICT (recording_id, stage) DO UPDATE SET status = $3, last_error = $4, updated_at = $5, \
         attempts = stages.attempts + CASE WHEN $3 IN ('completed', 'retrying', 'failed') THEN 1 ELSE 0 END",
    )
    .bind(id)
    .bind(stage)
    .bind(status)
    .bind(error)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(())
}
