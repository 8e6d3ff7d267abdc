//! `switchboard`: starts the server with a config file (default
//! `config/default.toml`), environment overrides (`SWITCHBOARD_*`) and
//! graceful shutdown on SIGTERM / Ctrl-C; `switchboard log ...` are the
//! operators' tools on a `data_dir`. Everything else is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use switchboard_server::config::{Config, LogFormat};
use switchboard_server::journal::recovery::RecoveryError;
use switchboard_server::journal::tools::{self, InspectOptions, ReplayOptions, Until};
use switchboard_server::performance::fees::{self, Format, ReportError};
use switchboard_server::{run, Listeners};

#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about = "Switchboard: real-time chat routing server")]
struct Args {
    /// The TOML config file. Keys can be overridden by SWITCHBOARD_* environment variables.
    #[arg(long, env = "SWITCHBOARD_CONFIG", default_value = "config/default.toml", global = true)]
    config: PathBuf,
    /// The directory of the input log and snapshots (overrides storage.data_dir and
    /// SWITCHBOARD_STORAGE__DATA_DIR).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Check the config and exit.
    #[arg(long)]
    check_config: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Operators' tools on a data_dir's input log (read-only: safe on a copy or beside a running server).
    #[command(subcommand)]
    Log(LogCommand),
    /// Reads a password (without echo on a terminal, else one line of stdin) and
    /// prints its argon2id hash for a roster entry's `password_hash`.
    HashPassword,
    /// Reports from the config and the records store (the server need not run).
    #[command(subcommand)]
    Report(ReportCommand),
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Each agent's labor fee for a month (docs/fees.md).
    Fees {
        /// The month, as YYYY-MM (on the business calendar's time zone).
        #[arg(long)]
        month: String,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
enum LogCommand {
    /// Lists the snapshots, segments and logged inputs (time, kind, session or agent).
    Inspect {
        /// Only inputs about this session.
        #[arg(long)]
        session: Option<u64>,
        /// Only inputs about this agent.
        #[arg(long)]
        agent: Option<String>,
        /// Start at this log sequence number.
        #[arg(long)]
        from: Option<u64>,
        /// At most this many inputs.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Replays the log into a fresh core and prints one session's decisions:
    /// where it was assigned and why, flags, timers.
    Replay {
        /// The session to follow.
        #[arg(long)]
        session: u64,
        /// Stop after this time (RFC 3339, e.g. 2026-11-26T10:15:00Z, as `inspect` shows) or lsn:N.
        #[arg(long)]
        until: Option<Until>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Command::HashPassword) = args.command {
        return hash_password();
    }
    if let Some(Command::Report(ReportCommand::Fees { month, format })) = &args.command {
        return fee_report(&args.config, args.data_dir.clone(), month, *format);
    }
    if let Some(Command::Log(command)) = args.command {
        // The tools read the config only to find the data_dir.
        let data_dir = match args.data_dir {
            Some(dir) => dir,
            None => match load_config(&args.config) {
                Ok(config) => config.storage.data_dir,
                Err(code) => return code,
            },
        };
        return log_tool(command, data_dir);
    }
    let mut config = match load_config(&args.config) {
        Ok(config) => config,
        Err(code) => return code,
    };
    if let Some(dir) = args.data_dir {
        config.storage.data_dir = dir;
    }
    if args.check_config {
        println!("{}: ok", args.config.display());
        return ExitCode::SUCCESS;
    }
    serve(config)
}

fn load_config(path: &std::path::Path) -> Result<Config, ExitCode> {
    Config::load(Some(path), std::env::vars()).map_err(|e| {
        eprintln!("switchboard: bad configuration: {e}");
        ExitCode::from(2)
    })
}

fn serve(config: Config) -> ExitCode {
    init_tracing(&config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchboard: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let listeners = Listeners::bind(&config)?;
        run(config, listeners, shutdown_signal()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A data_dir that cannot be used or resumed is a set-up problem, like a bad config.
        Err(e) if e.downcast_ref::<RecoveryError>().is_some() => {
            eprintln!("switchboard: cannot start from the data_dir: {e:#}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("switchboard: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn log_tool(command: LogCommand, data_dir: PathBuf) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let result = match command {
        LogCommand::Inspect { session, agent, from, limit } => {
            tools::inspect(&InspectOptions { data_dir, session, agent, from, limit }, &mut out)
        }
        LogCommand::Replay { session, until } => {
            tools::replay(&ReplayOptions { data_dir, session, until: until.unwrap_or(Until::End) }, &mut out)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard log: {e}");
            ExitCode::from(2)
        }
    }
}

fn fee_report(config: &std::path::Path, data_dir: Option<PathBuf>, month: &str, format: Format) -> ExitCode {
    let mut config = match load_config(config) {
        Ok(config) => config,
        Err(code) => return code,
    };
    if let Some(dir) = data_dir {
        config.storage.data_dir = dir;
    }
    match fees::report(&config, month, format) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(ReportError::Usage(e)) => {
            eprintln!("switchboard report fees: {e}");
            ExitCode::from(2)
        }
        Err(ReportError::Failed(e)) => {
            eprintln!("switchboard report fees: {e}");
            ExitCode::FAILURE
        }
    }
}

fn hash_password() -> ExitCode {
    use std::io::IsTerminal;
    let read = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("password: ")
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line.trim_end_matches(['\r', '\n']).to_owned())
    };
    match read {
        Ok(password) if !password.is_empty() => {
            println!("{}", switchboard_server::auth::password::hash(&password));
            ExitCode::SUCCESS
        }
        Ok(_) => {
            eprintln!("switchboard hash-password: the password is empty");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("switchboard hash-password: cannot read the password: {e}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
