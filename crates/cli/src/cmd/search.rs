//! `sokuji search "…"`: the archive's search through a running server's API, hits with the
//! recording and the times they span.
use crate::config::Config;

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
        let r = reqwest::Client::new()
            .get(format!("{}/api/v1/search", a.server))
            .query(&q)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach {}: {e} (is `sokuji serve` running?)", a.server))?;
        let status = r.status();
        let v: serde_json::Value = r.json().await.unwrap_or_default();
        if !status.is_success() {
            anyhow::bail!("{status}: {}", v["error"]["message"].as_str().unwrap_or("no details"));
        }
        if a.json {
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        let hits = v["hits"].as_array().cloned().unwrap_or_default();
        for h in &hits {
            println!(
                "{}  {}–{}  {:.3}  {}",
                h["recording_id"].as_str().unwrap_or(""),
                clock(h["start"].as_f64().unwrap_or(0.0)),
                clock(h["end"].as_f64().unwrap_or(0.0)),
                h["score"].as_f64().unwrap_or(0.0),
                h["text"].as_str().unwrap_or("")
            );
        }
        if hits.is_empty() {
            println!("no hits");
        }
        Ok(())
    })
}
