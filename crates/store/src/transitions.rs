//! The archive's stage transitions. Each one writes its results, the next event and the ack of
//! the delivery that caused it in one transaction: a redelivered event (a worker killed after
//! the work, before the ack) finds its lease gone or its results replaced, never doubled.
use crate::{
    db::{Db, db_error, now_ms},
    event::new_event,
    queue::{Delivery, publish},
    recordings::{Inserted, StoredSegment, StoredTranscript, insert_row, set_stage, tenant_binds},
};
use sokuji_core::{
    Result, Segment, Transcript, Word,
    archive::{Recording, RecordingStatus, events::EventData},
    auth::Visibility,
};
use sqlx::Row;

/// What produced a transcript.
impl Db {
    /// Speech-to-text done: the transcript replaces any earlier one.
    pub async fn complete_asr(&self, d: &Delivery, rec: &Recording, t: &Transcript) -> Result<()> {
        let mut tx = self.begin().await?;
        let next = write_transcript(&mut tx, &rec.id, t).await?;
        publish(&mut tx, &new_event("sokuji/asr", next, Some(&d.event.traceparent)), self.outbox).await?;
        self.ack(&mut tx, d).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }

    /// A recording whose transcript was made while it was captured (live streaming): stored with
    /// it, speech-to-text marked done, and on to NLP-Post. The same bytes already stored give
    /// back the existing recording and change nothing.
    pub async fn insert_with_transcript(&self, rec: &Recording, t: &Transcript) -> Result<Inserted> {
        let mut tx = self.begin().await?;
        if let Some(existing) = self.by_hash(&mut tx, &rec.tenant, &rec.sha256).await? {
            return Ok(Inserted::Existing(existing));
        }
        insert_row(&mut tx, rec).await?;
        set_stage(&mut tx, &rec.id, "nlp", "pending", None).await?;
        let next = write_transcript(&mut tx, &rec.id, t).await?;
        publish(&mut tx, &new_event("sokuji/live", next, None), self.outbox).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Inserted::New(rec.clone()))
    }

    /// Normalization done: one normalized text per segment, in order.
    pub async fn complete_nlp(&self, d: &Delivery, id: &str, normalized: &[String]) -> Result<()> {
        let mut tx = self.begin().await?;
        for (i, n) in normalized.iter().enumerate() {
            sqlx::query("UPDATE segments SET normalized = $1 WHERE recording_id = $2 AND idx = $3")
                .bind(n)
                .bind(id)
                .bind(i as i64)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        set_status(&mut tx, id, RecordingStatus::Completed).await?;
        set_stage(&mut tx, id, "nlp", "completed", None).await?;
        let data = EventData::NlpPostprocessed { recording_id: id.into() };
        publish(&mut tx, &new_event("sokuji/nlp", data, Some(&d.event.traceparent)), self.outbox).await?;
        self.ack(&mut tx, d).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }

    /// Search indexing done: `passages` are in the index.
    pub async fn complete_index(&self, d: &Delivery, id: &str, passages: u32) -> Result<()> {
        let mut tx = self.begin().await?;
        set_stage(&mut tx, id, "index", "completed", None).await?;
        let data = EventData::EmbeddingsIndexed { recording_id: id.into(), passages };
        publish(&mut tx, &new_event("sokuji/index", data, Some(&d.event.traceparent)), self.outbox).await?;
        self.ack(&mut tx, d).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }

    /// A stage's attempt failed: "retrying", or "failed" (and the recording with it, unless
    /// only its search indexing failed) when the delivery was dead-lettered.
    pub async fn stage_failed(&self, id: &str, stage: &str, error: &str, dead: bool) -> Result<()> {
        let mut tx = self.begin().await?;
        set_stage(&mut tx, id, stage, if dead { "failed" } else { "retrying" }, Some(error)).await?;
        if dead && stage != "index" {
            set_status(&mut tx, id, RecordingStatus::Failed).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }

    /// Marks the stage of a delivery dead-lettered by the bus itself (its workers kept dying)
    /// failed with the reason, as a handler's last failure would: the recording says why it
    /// stopped instead of staying pending. The dead letter stands either way.
    pub(crate) async fn stage_died(&self, d: &Delivery, reason: &str) {
        if let Err(e) = self.stage_failed(&d.event.subject, &d.subscription, reason, true).await {
            tracing::warn!(event = %d.event.id, subscription = %d.subscription, "could not record the dead letter on its stage: {e}");
        }
    }

    /// A dead letter of `stage` put back in its queue: a stage that failed is pending again, and
    /// a recording that failed with it is back where that stage starts, so it reads as in
    /// progress until the stage ends. Anything else (a recording deleted or reprocessed since)
    /// is left as it is. The replay stands even when this cannot be written (it is logged).
    pub(crate) async fn revive(&self, id: &str, stage: &str) {
        if let Err(e) = self.set_pending_again(id, stage).await {
            tracing::warn!(recording = id, stage, "a replayed stage could not be marked pending: {e}");
        }
    }

    async fn set_pending_again(&self, id: &str, stage: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "UPDATE stages SET status = 'pending', last_error = NULL, updated_at = $1 \
             WHERE recording_id = $2 AND stage = $3 AND status = 'failed'",
        )
        .bind(now_ms())
        .bind(id)
        .bind(stage)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let before = match stage {
            "asr" => Some(RecordingStatus::Ingested),
            "nlp" => Some(RecordingStatus::Transcribed),
            _ => None,
        };
        if let Some(status) = before.filter(|_| r.rows_affected() == 1) {
            sqlx::query("UPDATE recordings SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
                .bind(status.as_str())
                .bind(now_ms())
                .bind(id)
                .bind(RecordingStatus::Failed.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }

    /// Starts a recording over from speech-to-text.
    pub async fn reprocess(&self, id: &str, v: &Visibility) -> Result<Recording> {
        let rec = self.recording(id, v).await?;
        let mut tx = self.begin().await?;
        set_status(&mut tx, id, RecordingStatus::Ingested).await?;
        for stage in ["asr", "nlp"] {
            set_stage(&mut tx, id, stage, "pending", None).await?;
        }
        let data = EventData::RecordingIngested {
            recording_id: id.into(),
            object_key: rec.object_key.clone(),
            language: rec.meta.language.clone(),
            reprocess: true,
        };
        publish(&mut tx, &new_event("sokuji/gateway", data, None), self.outbox).await?;
        tx.commit().await.map_err(db_error)?;
        self.recording(id, v).await
    }

    /// Indexes completed recordings again, one (`id`) or all: those completed before search was
    /// switched on, or after a change of index engine. The index stage replaces their passages.
    /// Returns how many were queued (of those `v` sees).
    pub async fn reindex(&self, id: Option<&str>, v: &Visibility) -> Result<u64> {
        if let Some(id) = id {
            let rec = self.recording(id, v).await?;
            if rec.status != RecordingStatus::Completed {
                return Err(sokuji_core::Error::invalid_request(format!(
                    "recording {id:?} is {}: it is indexed when its transcript is done",
                    rec.status.as_str()
                )));
            }
        }
        let mut tx = self.begin().await?;
        let (all, tenant) = tenant_binds(v);
        let rows = sqlx::query(
            "SELECT id FROM recordings WHERE status = $1 AND ($2 = '' OR id = $2) AND ($3 = 1 OR tenant = $4) \
             ORDER BY created_at",
        )
        .bind(RecordingStatus::Completed.as_str())
        .bind(id.unwrap_or(""))
        .bind(all)
        .bind(tenant)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        for row in &rows {
            let id: String = row.try_get("id").map_err(db_error)?;
            set_stage(&mut tx, &id, "index", "pending", None).await?;
            let data = EventData::NlpPostprocessed { recording_id: id };
            publish(&mut tx, &new_event("sokuji/gateway", data, None), self.outbox).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(rows.len() as u64)
    }

    /// Removes a recording's metadata, transcript and pending work; the caller removes the object.
    pub async fn delete_recording(&self, id: &str, v: &Visibility) -> Result<Recording> {
        let rec = self.recording(id, v).await?;
        let mut tx = self.begin().await?;
        for sql in [
            "DELETE FROM deliveries WHERE event_id IN (SELECT id FROM events WHERE subject = $1)",
            "DELETE FROM events WHERE subject = $1",
            "DELETE FROM segments WHERE recording_id = $1",
            "DELETE FROM transcripts WHERE recording_id = $1",
            "DELETE FROM stages WHERE recording_id = $1",
            "DELETE FROM recordings WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await.map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(rec)
    }

    /// The stored transcript, if speech-to-text has run (and `v` sees the recording).
    pub async fn transcript(&self, id: &str, v: &Visibility) -> Result<Option<StoredTranscript>> {
        let (all, tenant) = tenant_binds(v);
        let Some(head) = sqlx::query(
            "SELECT t.* FROM transcripts t JOIN recordings r ON r.id = t.recording_id \
             WHERE t.recording_id = $1 AND ($2 = 1 OR r.tenant = $3)",
        )
        .bind(id)
        .bind(all)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        else {
            return Ok(None);
        };
        let rows = sqlx::query("SELECT * FROM segments WHERE recording_id = $1 ORDER BY idx")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let mut segments = Vec::with_capacity(rows.len());
        for r in &rows {
            let words: Vec<Word> =
                serde_json::from_str::<Vec<StoredWord>>(&r.try_get::<String, _>("words").map_err(db_error)?)
                    .unwrap_or_default()
                    .into_iter()
                    .map(Word::from)
                    .collect();
            segments.push(StoredSegment {
                segment: Segment {
                    id: r.try_get::<i64, _>("idx").map_err(db_error)? as u32,
                    start: r.try_get("start_secs").map_err(db_error)?,
                    end: r.try_get("end_secs").map_err(db_error)?,
                    text: r.try_get("text").map_err(db_error)?,
                    words,
                    no_speech_probability: 0.0,
                    language: r.try_get("language").map_err(db_error)?,
                },
                normalized: r.try_get("normalized").map_err(db_error)?,
            });
        }
        Ok(Some(StoredTranscript {
            language: head.try_get("language").map_err(db_error)?,
            duration: head.try_get("duration_secs").map_err(db_error)?,
            engine: head.try_get("engine").map_err(db_error)?,
            model: head.try_get("model").map_err(db_error)?,
            segments,
        }))
    }
}

async fn set_status(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: &str, status: RecordingStatus) -> Result<()> {
    sqlx::query("UPDATE recordings SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Replaces a recording's transcript and marks speech-to-text done; returns what the
/// announcing event carries.
async fn write_transcript(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: &str, t: &Transcript) -> Result<EventData> {
    sqlx::query("DELETE FROM segments WHERE recording_id = $1").bind(id).execute(&mut **tx).await.map_err(db_error)?;
    sqlx::query("DELETE FROM transcripts WHERE recording_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    sqlx::query(
        "INSERT INTO transcripts (recording_id, language, duration_secs, engine, model, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(&t.language)
    .bind(t.duration)
    .bind(&t.producer.engine)
    .bind(&t.producer.model)
    .bind(now_ms())
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    for (i, s) in t.segments.iter().enumerate() {
        sqlx::query(
            "INSERT INTO segments (recording_id, idx, start_secs, end_secs, language, text, normalized, words) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, $7)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(s.start)
        .bind(s.end)
        .bind(&s.language)
        .bind(&s.text)
        .bind(
            serde_json::to_string(&s.words.iter().map(StoredWord::from).collect::<Vec<_>>())
                .unwrap_or_else(|_| "[]".into()),
        )
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    }
    set_status(tx, id, RecordingStatus::Transcribed).await?;
    set_stage(tx, id, "asr", "completed", None).await?;
    Ok(EventData::TranscriptionCompleted {
        recording_id: id.into(),
        language: t.language.clone(),
        segments: t.segments.len() as u32,
    })
}

/// A word as the `segments.words` column holds it (a JSON array of these): the storage format,
/// kept apart from the domain type so the domain can change without migrating rows.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredWord {
    text: String,
    start: f64,
    end: f64,
    probability: f32,
}

impl From<&Word> for StoredWord {
    fn from(w: &Word) -> Self {
        Self { text: w.text.clone(), start: w.start, end: w.end, probability: w.probability }
    }
}

impl From<StoredWord> for Word {
    fn from(w: StoredWord) -> Self {
        Self { text: w.text, start: w.start, end: w.end, probability: w.probability }
    }
}
