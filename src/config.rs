//! Command-line configuration, named and defaulted like `redis-server`'s own settings.

use clap::Parser;
use std::path::PathBuf;

/// Redis-compatible in-memory data store: one glommio executor per core, each owning a shard.
#[derive(Parser, Debug, Clone)]
#[command(name = "redis-lite", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,

    /// TCP port; 0 picks a free ephemeral port (the ready line says which).
    #[arg(long, default_value_t = 6379)]
    pub port: u16,

    /// Number of shards (one executor thread each). Default: the CPUs this process may run on.
    #[arg(long)]
    pub shards: Option<usize>,

    /// Do not pin executors to CPUs (tests, shared machines).
    #[arg(long, default_value_t = false)]
    pub unpinned: bool,

    /// Working directory for snapshot files.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,

    /// Snapshot file name (per-shard files derive from it).
    #[arg(long, default_value = "dump.rdb")]
    pub dbfilename: String,

    /// Log level: debug, verbose, notice, warning (Redis names) or a tracing filter.
    #[arg(long, default_value = "notice")]
    pub loglevel: String,

    /// Number of logical databases (SELECT 0..N-1).
    #[arg(long, default_value_t = 16)]
    pub databases: usize,

    /// Memory each executor locks for io_uring buffers, in KiB (sockets do not use it).
    #[arg(long, default_value_t = 256)]
    pub io_memory_kb: usize,

    /// Save points, as Redis's `save`: "<seconds> <changes> ..." pairs; BGSAVE runs when at
    /// least <changes> writes happened and <seconds> passed since the last save. "" disables
    /// them (SAVE/BGSAVE still work); when set, SIGTERM/SHUTDOWN save before exiting.
    #[arg(long, default_value = crate::persist::DEFAULT_SAVE)]
    pub save: String,

    /// Compress strings longer than 20 bytes with LZF in snapshots (Redis's `rdbcompression`).
    #[arg(long, default_value = "yes", value_parser = parse_yes_no, action = clap::ArgAction::Set)]
    pub rdbcompression: bool,

    /// Active expiry frequency (Redis's `hz`): sweeps per second per shard.
    #[arg(long, default_value_t = 10)]
    pub hz: u32,
}

/// Redis's boolean settings are spelled yes/no.
fn parse_yes_no(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

impl Config {
    /// The `tracing` filter matching a Redis log level name.
    pub fn tracing_filter(&self) -> String {
        match self.loglevel.as_str() {
            "debug" => "debug".into(),
            "verbose" => "info".into(),
            "notice" => "info".into(),
            "warning" => "warn".into(),
            other => other.into(),
        }
    }

    /// The parameters CONFIG GET reports, with their current values, as Redis names them.
    pub fn params(&self, port: u16, nshards: usize) -> Vec<(&'static str, String)> {
        vec![
            ("bind", self.bind.clone()),
            ("port", port.to_string()),
            ("dir", self.dir.display().to_string()),
            ("dbfilename", self.dbfilename.clone()),
            ("databases", self.databases.to_string()),
            ("loglevel", self.loglevel.clone()),
            ("hz", self.hz.to_string()),
            ("appendonly", "no".into()),
            ("maxmemory", "0".into()),
            ("maxmemory-policy", "noeviction".into()),
            ("io-threads", nshards.to_string()),
            ("daemonize", "no".into()),
        ]
    }
}
