//! `sokuji keys create|ls|revoke`: API keys in the metadata database (the server's, by
//! `SOKUJI_METADATA_URL` / `SOKUJI_DATA_DIR`); a running server sees a change at its next request.
use crate::config::Config;
use sokuji_core::auth::Scope;
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
        /// The tenant whose data the key sees.
        #[arg(long)]
        tenant: Option<String>,
        /// Requests a minute (unlimited when absent); past it, 429 with Retry-After.
        #[arg(long)]
        rate: Option<u32>,
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
    format!(
        "{}  {:<7}  {:<20}  {:<10}  {}",
        k.id,
        state,
        k.name,
        k.tenant.as_deref().unwrap_or("-"),
        Scope::join(&k.scopes, ",")
    )
}

pub fn run(cfg: Config, c: Command) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let db = Db::open(&cfg.metadata_url).await?;
        match c {
            Command::Create { name, scopes, tenant, rate } => {
                let scopes = Scope::parse_list(&scopes)?;
                let new = NewKey { name, scopes, tenant, rate_per_minute: rate };
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
