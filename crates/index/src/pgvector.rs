//! PostgreSQL as the search index (the scale-out engine CI exercises): passages with their
//! vectors in a `vector(N)` column under an HNSW index (pgvector, cosine), and their text as two
//! `tsvector`s (as written, and diacritics folded by the same analyzer as the embedded index)
//! under GIN. Any process may write and read it: workers index, gateways search.
use crate::words;
use sokuji_core::{
    Error, ErrorCode, Health, Result,
    search::{Hit, Passage, SearchFilter, SearchIndex},
};
use sqlx::{
    PgPool, Postgres, Row,
    postgres::{PgArguments, PgPoolOptions},
    query::Query,
};
use std::time::Duration;

fn failed(what: &str, e: sqlx::Error) -> Error {
    let code = match &e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => ErrorCode::EngineUnavailable,
        _ => ErrorCode::EngineFailed,
    };
    Error::new(code, format!("search index (PostgreSQL, {what}): {e}"))
}

#[derive(Clone)]
pub struct PgVectorIndex {
    pool: PgPool,
}

/// A vector as pgvector's text form, bound as `$n::vector`.
fn literal(v: &[f32]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(","))
}

/// A tsquery matching any of the words (they are letters and digits only: no syntax to escape).
fn any_of(words: impl Iterator<Item = String>) -> String {
    words.collect::<Vec<_>>().join(" | ")
}

const COLUMNS: &str = "recording_id, idx, start_secs, end_secs, text, speaker, language, tags, created_at, tenant";
const FILTERS: &str = "($2::text IS NULL OR language = $2) AND ($3::text IS NULL OR speaker = $3) \
     AND ($4::text IS NULL OR $4 = ANY(tags)) AND ($5::bigint IS NULL OR created_at >= $5) \
     AND ($6::bigint IS NULL OR created_at <= $6) AND ($8::text IS NULL OR tenant = $8)";

/// Binds the filters as $2..$6 and $8 (see `FILTERS`) and the limit as $7.
fn filtered<'q>(
    q: Query<'q, Postgres, PgArguments>,
    f: &'q SearchFilter,
    limit: usize,
) -> Query<'q, Postgres, PgArguments> {
    q.bind(&f.language).bind(&f.speaker).bind(&f.tag).bind(f.from).bind(f.to).bind(limit as i64).bind(&f.tenant)
}

impl PgVectorIndex {
    /// Connects and creates the extension, table and indexes when missing (`dimensions`: the
    /// embedding model's).
    pub async fn open(url: &str, dimensions: usize) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| failed("connect", e))?;
        let mut tx = pool.begin().await.map_err(|e| failed("schema", e))?;
        // One process at a time creates the schema.
        sqlx::query("SELECT pg_advisory_xact_lock(7051203)")
            .execute(&mut *tx)
            .await
            .map_err(|e| failed("schema", e))?;
        for ddl in [
            "CREATE EXTENSION IF NOT EXISTS vector".to_string(),
            format!(
                "CREATE TABLE IF NOT EXISTS search_passages (\
                 recording_id TEXT NOT NULL, idx INT NOT NULL, start_secs DOUBLE PRECISION NOT NULL, \
                 end_secs DOUBLE PRECISION NOT NULL, text TEXT NOT NULL, folded TEXT NOT NULL, speaker TEXT, \
                 language TEXT NOT NULL, tags TEXT[] NOT NULL, created_at BIGINT NOT NULL, \
                 embedding vector({dimensions}) NOT NULL, \
                 exact_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED, \
                 folded_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', folded)) STORED, \
                 PRIMARY KEY (recording_id, idx))"
            ),
            // Passages indexed before tenants belong to the default tenant.
            "ALTER TABLE search_passages ADD COLUMN IF NOT EXISTS tenant TEXT NOT NULL DEFAULT ''".to_string(),
            "CREATE INDEX IF NOT EXISTS search_passages_hnsw ON search_passages USING hnsw (embedding vector_cosine_ops)"
                .to_string(),
            "CREATE INDEX IF NOT EXISTS search_passages_folded ON search_passages USING gin (folded_tsv)".to_string(),
        ] {
            sqlx::query(&ddl).execute(&mut *tx).await.map_err(|e| failed("schema", e))?;
        }
        tx.commit().await.map_err(|e| failed("schema", e))?;
        Ok(Self { pool })
    }

    fn passage(r: &sqlx::postgres::PgRow) -> std::result::Result<Passage, sqlx::Error> {
        Ok(Passage {
            recording_id: r.try_get("recording_id")?,
            idx: r.try_get::<i32, _>("idx")? as u32,
            start: r.try_get("start_secs")?,
            end: r.try_get("end_secs")?,
            text: r.try_get("text")?,
            speaker: r.try_get("speaker")?,
            language: r.try_get("language")?,
            tags: r.try_get("tags")?,
            created_at: r.try_get("created_at")?,
            tenant: r.try_get("tenant")?,
        })
    }
}

#[async_trait::async_trait]
impl SearchIndex for PgVectorIndex {
    fn name(&self) -> &'static str {
        "pgvector"
    }

    async fn replace(&self, recording_id: &str, passages: Vec<(Passage, Vec<f32>)>) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(|e| failed("replace", e))?;
        sqlx::query("DELETE FROM search_passages WHERE recording_id = $1")
            .bind(recording_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| failed("replace", e))?;
        for (p, v) in &passages {
            sqlx::query(
                "INSERT INTO search_passages (recording_id, idx, start_secs, end_secs, text, folded, speaker, language, \
                 tags, created_at, embedding, tenant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::vector, $12)",
            )
            .bind(recording_id)
            .bind(p.idx as i32)
            .bind(p.start)
            .bind(p.end)
            .bind(&p.text)
            .bind(words::folded(&p.text))
            .bind(&p.speaker)
            .bind(&p.language)
            .bind(&p.tags)
            .bind(p.created_at)
            .bind(literal(v))
            .bind(&p.tenant)
            .execute(&mut *tx)
            .await
            .map_err(|e| failed("replace", e))?;
        }
        tx.commit().await.map_err(|e| failed("replace", e))
    }

    async fn health(&self) -> Health {
        match sqlx::query("SELECT 1").execute(&self.pool).await {
            Ok(_) => Health::ready("pgvector"),
            Err(e) => Health::failing("pgvector", &failed("health", e)),
        }
    }

    async fn delete(&self, recording_id: &str) -> Result<()> {
        self.replace(recording_id, Vec::new()).await
    }

    async fn semantic(&self, vector: Vec<f32>, filter: &SearchFilter, limit: usize) -> Result<Vec<Hit>> {
        let mut tx = self.pool.begin().await.map_err(|e| failed("search", e))?;
        // Filters inside the graph walk (pgvector 0.8's iterative scans), a wider beam.
        for set in [
            "SET LOCAL hnsw.iterative_scan = relaxed_order".to_string(),
            format!("SET LOCAL hnsw.ef_search = {}", crate::SEARCH_EF),
        ] {
            sqlx::query(&set).execute(&mut *tx).await.map_err(|e| failed("search", e))?;
        }
        let sql = format!(
            "SELECT {COLUMNS}, (1 - (embedding <=> $1::vector))::real AS score FROM search_passages \
             WHERE {FILTERS} ORDER BY embedding <=> $1::vector LIMIT $7"
        );
        let rows = filtered(sqlx::query(&sql).bind(literal(&vector)), filter, limit)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| failed("search", e))?;
        let mut hits: Vec<Hit> = Vec::with_capacity(rows.len());
        for r in &rows {
            let passage = Self::passage(r).map_err(|e| failed("search", e))?;
            hits.push(Hit { passage, score: r.try_get("score").map_err(|e| failed("search", e))?, highlights: vec![] });
        }
        // relaxed_order: nearly ordered; put it straight.
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(hits)
    }

    async fn keyword(&self, query: &str, filter: &SearchFilter, limit: usize) -> Result<Vec<Hit>> {
        let terms = words::words(query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let exact = any_of(terms.iter().map(|w| w.0.clone()));
        let folded = any_of(terms.iter().map(|w| w.1.clone()));
        // Words as written rank above words that only fold to them.
        let sql = format!(
            "SELECT {COLUMNS}, (2 * ts_rank(exact_tsv, to_tsquery('simple', $9)) \
             + ts_rank(folded_tsv, to_tsquery('simple', $1)))::real AS score FROM search_passages \
             WHERE folded_tsv @@ to_tsquery('simple', $1) AND {FILTERS} ORDER BY score DESC, recording_id, idx LIMIT $7"
        );
        let rows = filtered(sqlx::query(&sql).bind(&folded), filter, limit)
            .bind(&exact)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| failed("search", e))?;
        let mut hits = Vec::with_capacity(rows.len());
        for r in &rows {
            let passage = Self::passage(r).map_err(|e| failed("search", e))?;
            let highlights = words::highlights(&passage.text, &terms);
            hits.push(Hit { passage, score: r.try_get("score").map_err(|e| failed("search", e))?, highlights });
        }
        Ok(hits)
    }
}
