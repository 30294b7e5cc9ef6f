use crate::config::Config;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Print the effective configuration as JSON, secrets masked.
    Show,
}

pub fn run(cfg: Config, c: Command) -> anyhow::Result<()> {
    match c {
        Command::Show => println!("{}", serde_json::to_string_pretty(&cfg)?),
    }
    Ok(())
}
