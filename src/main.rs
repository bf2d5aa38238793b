//! The `redis-lite` binary: read the configuration (file, then `--directive` options), start
//! logging, run the server, remove the pidfile.

use clap::Parser;
use redis_lite::config::{Cli, Config, LoadError};

fn main() {
    let cli = Cli::parse();
    let inv = match Config::from_cli(&cli) {
        Ok(inv) => inv,
        Err(e) => {
            if cli.test_config || cli.args.iter().any(|a| a == "--test-config") {
                println!("redis-lite: configuration is NOT OK");
            }
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let config = inv.config;
    if inv.test_config {
        match &config.config_file {
            Some(f) => println!("redis-lite: configuration OK ({})", f.display()),
            None => println!("redis-lite: configuration OK (no config file; options only)"),
        }
        return;
    }
    if let Err(reason) = redis_lite::logging::init(&config.loglevel, &config.logfile) {
        eprintln!(
            "{}",
            LoadError::Config(redis_lite::config::ConfigError {
                origin: redis_lite::config::Origin::None,
                text: String::new(),
                reason,
            })
        );
        std::process::exit(1);
    }
    config.apply_globals();
    tracing::info!("oO0OoO0OoO0Oo redis-lite is starting oO0OoO0OoO0Oo");
    tracing::info!(
        "redis-lite version={}, redis=7.0 compatible, bits=64, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    );
    match &config.config_file {
        Some(f) => tracing::info!("Configuration loaded from {}", f.display()),
        None => tracing::info!(
            "No config file specified, using the defaults and options. To use a config file: \
             redis-lite /path/to/redis-lite.conf"
        ),
    }
    let res = redis_lite::server::run(config);
    redis_lite::ops::exiting();
    if let Err(e) = res {
        eprintln!("redis-lite: {e}");
        std::process::exit(1);
    }
}
