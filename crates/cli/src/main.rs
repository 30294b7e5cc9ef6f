//! `sokuji`: the one binary. It alone knows about processes, ports, environment variables and
//! terminals; the crates below take plain values.
mod cmd;
mod config;
mod original;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "sokuji", version, about = "Speech platform: live translation and a speech archive")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: everything in one process, or one service alone.
    Serve(cmd::serve::Args),
    /// Transcribe audio files.
    Transcribe(cmd::transcribe::Args),
    /// Stream a file through a running server's live translation, printing events and latencies.
    Live(cmd::live::Args),
    /// Translate text (arguments, or stdin line by line).
    Translate(cmd::translate::Args),
    /// Synthesize speech to a file.
    Speak(cmd::speak::Args),
    /// List the voices.
    Voices(cmd::speak::VoicesArgs),
    /// Vietnamese text normalization of stdin, line by line.
    #[command(subcommand)]
    Text(cmd::text::Command),
    /// Fetch, convert and list models.
    #[command(subcommand)]
    Models(cmd::models::Command),
    /// Show the effective configuration.
    #[command(subcommand)]
    Config(cmd::config::Command),
    /// Upload audio files and directories to a running server's archive (resumable).
    Ingest(cmd::archive::IngestArgs),
    /// The archive's recordings.
    #[command(subcommand)]
    Recordings(cmd::archive::RecordingsCommand),
    /// The archive's dead-letter queue.
    #[command(subcommand)]
    Dlq(cmd::archive::DlqCommand),
    /// Search the archive by meaning or by words; hits with their times.
    Search(cmd::search::Args),
    /// Index completed recordings again (all, or the ones named): after switching the search
    /// index, or for recordings completed before search was on.
    Reindex(cmd::search::ReindexArgs),
    /// API keys: create (printed once), list, revoke.
    #[command(subcommand)]
    Keys(cmd::keys::Command),
    /// The audit log, newest first: keys created and revoked, deletions, dead-letter purges and replays.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Print the HTTP API's OpenAPI 3.1 document (what `/openapi.json` serves).
    Openapi,
    /// Measure the cost of a gRPC hop per engine (bench/hops.sh).
    #[command(hide = true)]
    BenchHops(cmd::bench_hops::Args),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            // The original system's LOG_LEVEL (Python's names) when SOKUJI_LOG is not set.
            tracing_subscriber::EnvFilter::try_from_env("SOKUJI_LOG").unwrap_or_else(|_| {
                std::env::var("LOG_LEVEL")
                    .ok()
                    .and_then(|l| original::log_filter(&l))
                    .unwrap_or("info,whisper_rs=warn")
                    .into()
            }),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in files or log collectors.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = config::Config::from_env().and_then(|cfg| match cli.command {
        Command::Serve(a) => cmd::serve::run(cfg, a),
        Command::Transcribe(a) => cmd::transcribe::run(cfg, a),
        Command::Live(a) => cmd::live::run(cfg, a),
        Command::Translate(a) => cmd::translate::run(cfg, a),
        Command::Speak(a) => cmd::speak::run(cfg, a),
        Command::Voices(a) => cmd::speak::voices(cfg, a),
        Command::Models(c) => cmd::models::run(cfg, c),
        Command::Text(c) => cmd::text::run(c),
        Command::Config(c) => cmd::config::run(cfg, c),
        Command::BenchHops(a) => cmd::bench_hops::run(cfg, a),
        Command::Ingest(a) => cmd::archive::ingest(cfg, a),
        Command::Recordings(c) => cmd::archive::recordings(cfg, c),
        Command::Dlq(c) => cmd::archive::dlq(cfg, c),
        Command::Search(a) => cmd::search::run(cfg, a),
        Command::Reindex(a) => cmd::search::reindex(a),
        Command::Keys(c) => cmd::keys::run(cfg, c),
        Command::Audit { limit } => cmd::keys::audit(cfg, limit),
        Command::Openapi => {
            serde_json::to_string_pretty(&sokuji_gateway::openapi()).map(|doc| println!("{doc}")).map_err(Into::into)
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
