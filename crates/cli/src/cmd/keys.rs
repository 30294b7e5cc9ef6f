//! `sokuji keys create|ls|revoke`: API keys in the metadata database (the server's, by
//! `SOKUJI_METADATA_URL` / `SOKUJI_DATA_DIR`); a running server sees a change at its next request.
use crate::config::Config;
use sokuji_core::{auth::Scope, quota::Limits};
use sokuji_store::{Db, KeyInfo, NewKey};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a key and print it (the only time it is shown).
    Create {
        #[arg(long)]
        name: String,
        /// Comma-separated: stt, translate, tts, live, search, archive:read, archive:write,
        /// archive:admin, datasets, training, metrics, admin; or all.
        #[arg(long)]
        scopes: String,
        /// The tenant whose recordings the key stores and sees (without one: the default
        /// tenant's, or every tenant's for an `admin` key).
        #[arg(long)]
        tenant: Option<String>,
        /// Requests a minute (unlimited when absent); past it, 429 with Retry-After.
        #[arg(long)]
        rate: Option<u32>,
        /// Seconds of audio transcribed or synthesized a UTC day (unlimited when absent).
        #[arg(long, value_name = "SECONDS")]
        audio_quota: Option<u32>,
        /// Live sessions open at once (unlimited when absent).
        #[arg(long, value_name = "N")]
        live_sessions: Option<u32>,
    },
    /// List the keys (never their secrets).
    Ls,
    /// Revoke a key by its id: its next request is refused.
    Revoke { id: String },
}

/// Who acts from the command line, for the audit log.
fn actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}

fn line(k: &KeyInfo) -> String {
    let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
    let limit = |v: Option<u32>, unit: &str| v.map_or(String::new(), |n| format!("  {n}{unit}"));
    format!(
        "{}  {:<7}  {:<20}  {:<10}  {}{}{}{}",
        k.id,
        state,
        k.name,
        k.tenant.as_deref().unwrap_or("-"),
        Scope::join(&k.scopes, ","),
        limit(k.limits.requests_per_minute, " req/min"),
        limit(k.limits.audio_seconds_per_day, " audio s/day"),
        limit(k.limits.live_sessions, " live"),
    )
}

pub fn run(cfg: Config, c: Command) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let db = Db::open(&cfg.metadata_url).await?;
        match c {
            Command::Create { name, scopes, tenant, rate, audio_quota, live_sessions } => {
                let scopes = Scope::parse_list(&scopes)?;
                let limits = Limits { requests_per_minute: rate, audio_seconds_per_day: audio_quota, live_sessions };
                let new = NewKey { name, scopes, tenant, limits };
                let (key, info) = db.create_key(&new, &actor()).await?;
                eprintln!("{}", line(&info));
                eprintln!("the key (shown once; only its hash is kept):");
                println!("{key}");
            }
            Command::Ls => {
                for k in db.keys().await? {
                    println!("{}", line(&k));
                }
            }
            Command::Revoke { id } => {
                println!("{}", line(&db.revoke_key(&id, &actor()).await?));
            }
        }
        Ok(())
    })
}

/// `sokuji audit`: the newest entries of the audit log.
pub fn audit(cfg: Config, limit: u32) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let db = Db::open(&cfg.metadata_url).await?;
        for e in db.audit_log(limit.clamp(1, 100_000)).await? {
            let secs = e.at / 1000;
            println!("{}.{:03}  {:<20}  {:<16}  {:<36}  {}", secs, e.at % 1000, e.actor, e.action, e.target, e.detail);
        }
        Ok(())
    })
}
