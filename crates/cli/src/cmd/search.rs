//! `sokuji search "…"`: the archive's search through a running server's API, hits with the
//! recording and the times they span; `sokuji reindex` queues recordings for indexing again.
use super::archive::{answer, unreachable};
use crate::config::Config;
use sokuji_api::rest::{archive::Queued, search::SearchResponse};

#[derive(clap::Args)]
pub struct Args {
    /// Words or a question, in any language the model knows.
    query: String,
    /// semantic, keyword or hybrid.
    #[arg(long, default_value = "hybrid")]
    mode: String,
    #[arg(long)]
    language: Option<String>,
    #[arg(long)]
    speaker: Option<String>,
    #[arg(long)]
    tag: Option<String>,
    #[arg(long, default_value_t = 10)]
    limit: u32,
    /// Print the server's JSON instead of lines.
    #[arg(long)]
    json: bool,
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    server: String,
}

#[derive(clap::Args)]
pub struct ReindexArgs {
    /// Recording ids; every completed recording when none is given.
    ids: Vec<String>,
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    server: String,
}

/// The typed answer of a request, or the server's error message.
async fn send<T: serde::de::DeserializeOwned>(r: reqwest::RequestBuilder, server: &str) -> anyhow::Result<T> {
    answer(r.send().await.map_err(unreachable(server))?).await
}

pub fn reindex(a: ReindexArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let http = reqwest::Client::new();
        let urls: Vec<String> = if a.ids.is_empty() {
            vec![format!("{}/api/v1/search/reindex", a.server)]
        } else {
            a.ids.iter().map(|id| format!("{}/api/v1/recordings/{id}/reindex", a.server)).collect()
        };
        let mut queued = 0;
        for url in urls {
            queued += send::<Queued>(http.post(url), &a.server).await?.queued;
        }
        println!("{queued} recording(s) queued for indexing");
        Ok(())
    })
}

/// Seconds as m:ss (or h:mm:ss).
fn clock(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

pub fn run(_cfg: Config, a: Args) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let mut q = vec![("q", a.query.clone()), ("mode", a.mode.clone()), ("limit", a.limit.to_string())];
        for (k, v) in [("language", a.language), ("speaker", a.speaker), ("tag", a.tag)] {
            if let Some(v) = v {
                q.push((k, v));
            }
        }
        let v: SearchResponse =
            send(reqwest::Client::new().get(format!("{}/api/v1/search", a.server)).query(&q), &a.server).await?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        for h in &v.hits {
            println!("{}  {}–{}  {:.3}  {}", h.recording_id, clock(h.start), clock(h.end), h.score, h.text);
        }
        if v.hits.is_empty() {
            println!("no hits");
        }
        Ok(())
    })
}
