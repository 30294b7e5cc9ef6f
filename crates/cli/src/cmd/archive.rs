//! The archive from the terminal, through a running server's API: `ingest` (files and
//! directories, streamed, with a progress bar, resumable: files already stored are recognised by
//! their SHA-256 and skipped), `recordings ls|show|rm` and `dlq ls|replay|purge`.
use crate::config::Config;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use sokuji_api::rest::{
    ErrorBody,
    archive::{DeadLetterList, Purged, RecordingDetail, RecordingList, Replayed, Uploaded},
};
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

const AUDIO_EXTENSIONS: &[&str] = &["wav", "mp3", "flac", "ogg", "opus", "m4a", "mp4", "aac", "webm"];

#[derive(clap::Args)]
pub struct IngestArgs {
    /// Audio files or directories (searched recursively for audio files).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Spoken language (ISO 639-1); detected when absent.
    #[arg(long)]
    language: Option<String>,
    #[arg(long)]
    speaker: Option<String>,
    #[arg(long)]
    source: Option<String>,
    /// Comma-separated tags.
    #[arg(long)]
    tags: Option<String>,
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    server: String,
}

#[derive(clap::Subcommand)]
pub enum RecordingsCommand {
    /// List recordings, newest first.
    Ls {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        language: Option<String>,
        #[arg(long)]
        speaker: Option<String>,
        #[arg(long)]
        tag: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        server: String,
    },
    /// One recording with its stages, as JSON.
    Show {
        id: String,
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        server: String,
    },
    /// Delete a recording: audio, metadata, transcript.
    Rm {
        id: String,
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        server: String,
    },
}

#[derive(clap::Subcommand)]
pub enum DlqCommand {
    /// Dead letters with their reasons.
    Ls {
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        server: String,
    },
    /// Put dead letters back in their queues (all, or one event's).
    Replay {
        event_id: Option<String>,
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        server: String,
    },
    /// Drop dead letters for good (all, or one event's).
    Purge {
        event_id: Option<String>,
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        server: String,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// The typed body of a response, or the server's error message. An answer of another shape is
/// an error naming the type (a server of another version), never a silent default.
pub(crate) async fn answer<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> anyhow::Result<T> {
    let status = r.status();
    let body = r.bytes().await?;
    if !status.is_success() {
        let message = serde_json::from_slice::<ErrorBody>(&body)
            .map(|e| format!("{} ({})", e.error.message, e.error.code))
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).chars().take(200).collect());
        anyhow::bail!("{status}: {message}");
    }
    serde_json::from_slice(&body)
        .map_err(|e| anyhow::anyhow!("unexpected answer (not a {}): {e}", std::any::type_name::<T>()))
}

pub(crate) fn unreachable(server: &str) -> impl Fn(reqwest::Error) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("cannot reach {server}: {e} (is `sokuji serve` running?)")
}

/// Audio files under the given paths, sorted, each once.
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        if p.is_dir() {
            for entry in std::fs::read_dir(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))? {
                walk(&entry?.path(), out)?;
            }
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(p.to_path_buf());
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        anyhow::ensure!(p.exists(), "{} does not exist", p.display());
        if p.is_file() {
            out.push(p.clone());
        } else {
            walk(p, &mut out)?;
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

async fn sha256_of(path: &Path) -> anyhow::Result<String> {
    let mut f = tokio::fs::File::open(path).await?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

pub fn ingest(_cfg: Config, a: IngestArgs) -> anyhow::Result<()> {
    let files = collect(&a.paths)?;
    anyhow::ensure!(!files.is_empty(), "no audio files ({}) under the given paths", AUDIO_EXTENSIONS.join(", "));
    let total: u64 = files.iter().filter_map(|f| f.metadata().ok()).map(|m| m.len()).sum();
    runtime()?.block_on(async move {
        let http = reqwest::Client::new();
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{msg:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let (mut uploaded, mut skipped, mut failed) = (0, 0, Vec::new());
        for file in &files {
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("audio").to_string();
            bar.set_message(name.clone());
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            match upload(&http, &a, file, &name, &bar).await {
                Ok(Some(id)) => {
                    uploaded += 1;
                    bar.println(format!("{id}  {}", file.display()));
                }
                Ok(None) => {
                    skipped += 1;
                    bar.inc(size);
                    bar.println(format!("already stored  {}", file.display()));
                }
                Err(e) => {
                    bar.println(format!("failed  {}: {e}", file.display()));
                    failed.push(file.clone());
                }
            }
        }
        bar.finish_and_clear();
        println!("{uploaded} uploaded, {skipped} already stored, {} failed", failed.len());
        anyhow::ensure!(failed.is_empty(), "{} files failed; run the same command again to retry them", failed.len());
        Ok(())
    })
}

/// Uploads one file unless its bytes are already stored; the new recording's id.
async fn upload(
    http: &reqwest::Client,
    a: &IngestArgs,
    file: &Path,
    name: &str,
    bar: &ProgressBar,
) -> anyhow::Result<Option<String>> {
    let sha = sha256_of(file).await?;
    let known = answer(
        http.get(format!("{}/api/v1/recordings", a.server))
            .query(&[("sha256", sha.as_str()), ("limit", "1")])
            .send()
            .await
            .map_err(unreachable(&a.server))?,
    )
    .await?;
    let known: RecordingList = known;
    if known.total > 0 {
        return Ok(None);
    }
    let mut query = vec![("filename", name.to_string())];
    for (k, v) in [("language", &a.language), ("speaker", &a.speaker), ("source", &a.source), ("tags", &a.tags)] {
        if let Some(v) = v {
            query.push((k, v.clone()));
        }
    }
    let mut f = tokio::fs::File::open(file).await?;
    let progress = bar.clone();
    let body = async_stream::stream! {
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match f.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => {
                    progress.inc(n as u64);
                    yield Ok::<_, std::io::Error>(buf[..n].to_vec());
                }
                Err(e) => {
                    yield Err(e);
                    break;
                }
            }
        }
    };
    let r = http
        .post(format!("{}/api/v1/recordings", a.server))
        .query(&query)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .map_err(unreachable(&a.server))?;
    let v: Uploaded = answer(r).await?;
    Ok(Some(v.id))
}

pub fn recordings(_cfg: Config, c: RecordingsCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async move {
        let http = reqwest::Client::new();
        match c {
            RecordingsCommand::Ls { status, language, speaker, tag, limit, server } => {
                let mut q = vec![("limit", limit.to_string())];
                for (k, v) in [("status", status), ("language", language), ("speaker", speaker), ("tag", tag)] {
                    if let Some(v) = v {
                        q.push((k, v));
                    }
                }
                let r = http
                    .get(format!("{server}/api/v1/recordings"))
                    .query(&q)
                    .send()
                    .await
                    .map_err(unreachable(&server))?;
                let v: RecordingList = answer(r).await?;
                for item in &v.items {
                    println!(
                        "{}  {:<11}  {:<4}  {:>10}  {}",
                        item.id,
                        item.status,
                        item.language.as_deref().unwrap_or("-"),
                        item.size_bytes,
                        item.filename
                    );
                }
                println!("{} of {}", v.items.len(), v.total);
            }
            RecordingsCommand::Show { id, server } => {
                let r =
                    http.get(format!("{server}/api/v1/recordings/{id}")).send().await.map_err(unreachable(&server))?;
                let detail: RecordingDetail = answer(r).await?;
                println!("{}", serde_json::to_string_pretty(&detail)?);
            }
            RecordingsCommand::Rm { id, server } => {
                let r = http
                    .delete(format!("{server}/api/v1/recordings/{id}"))
                    .send()
                    .await
                    .map_err(unreachable(&server))?;
                if !r.status().is_success() {
                    answer::<serde::de::IgnoredAny>(r).await?;
                }
                println!("deleted {id}");
            }
        }
        Ok(())
    })
}

pub fn dlq(_cfg: Config, c: DlqCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async move {
        let http = reqwest::Client::new();
        match c {
            DlqCommand::Ls { server } => {
                let v: DeadLetterList =
                    answer(http.get(format!("{server}/api/v1/dlq")).send().await.map_err(unreachable(&server))?)
                        .await?;
                for d in &v.items {
                    println!(
                        "{}  {:<4}  {}  attempts={}  {}",
                        d.event.id, d.subscription, d.event.subject, d.attempts, d.reason
                    );
                }
                println!("{} dead letters", v.total);
            }
            DlqCommand::Replay { event_id, server } => {
                let q: Vec<_> = event_id.map(|e| ("event_id", e)).into_iter().collect();
                let v: Replayed = answer(
                    http.post(format!("{server}/api/v1/dlq/replay"))
                        .query(&q)
                        .send()
                        .await
                        .map_err(unreachable(&server))?,
                )
                .await?;
                println!("{} replayed", v.replayed);
            }
            DlqCommand::Purge { event_id, server } => {
                let q: Vec<_> = event_id.map(|e| ("event_id", e)).into_iter().collect();
                let v: Purged = answer(
                    http.delete(format!("{server}/api/v1/dlq")).query(&q).send().await.map_err(unreachable(&server))?,
                )
                .await?;
                println!("{} purged", v.purged);
            }
        }
        Ok(())
    })
}
