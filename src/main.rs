//! The `redis-lite` binary: parse the configuration, start logging, run the server.

use clap::Parser;
use redis_lite::config::Config;
use std::io::IsTerminal;

fn main() {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(config.tracing_filter())
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    if let Err(e) = redis_lite::server::run(config) {
        eprintln!("redis-lite: {e}");
        std::process::exit(1);
    }
}
