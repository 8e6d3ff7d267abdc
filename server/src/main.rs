//! `switchboard`: starts the server with a config file (default
//! `config/default.toml`), environment overrides (`SWITCHBOARD_*`) and
//! graceful shutdown on SIGTERM / Ctrl-C. Everything else is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use switchboard_server::config::{Config, LogFormat};
use switchboard_server::{run, Listeners};

#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about = "Switchboard: real-time chat routing server")]
struct Args {
    /// The TOML config file. Keys can be overridden by SWITCHBOARD_* environment variables.
    #[arg(long, env = "SWITCHBOARD_CONFIG", default_value = "config/default.toml")]
    config: PathBuf,
    /// Check the config and exit.
    #[arg(long)]
    check_config: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load(Some(&args.config), std::env::vars()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("switchboard: bad configuration: {e}");
            return ExitCode::from(2);
        }
    };
    if args.check_config {
        println!("{}: ok", args.config.display());
        return ExitCode::SUCCESS;
    }
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
        Err(e) => {
            eprintln!("switchboard: {e:#}");
            ExitCode::FAILURE
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
