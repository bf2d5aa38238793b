//! Configuration: a Redis-style config file plus `--<directive> <value...>` overrides, read as
//! redis-server reads them (the options are appended to the file as extra lines), validated with
//! Redis 7.0's rules and messages. Also CONFIG GET's view of the settings and CONFIG REWRITE.
//!
//! Settings CONFIG SET may change at run time live in [`crate::tunables`], the persistence state
//! and [`crate::logging`]; [`Config`] keeps what the server started with and is applied to those
//! at start ([`Config::apply_globals`]).

use crate::tunables::{self, Tunable};
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use std::path::{Path, PathBuf};

/// What `--version` prints after the program name, in the spirit of `redis-server -v`.
pub const VERSION: &str = concat!(
    "v=",
    env!("CARGO_PKG_VERSION"),
    " redis=7.0 (compatible) io=io_uring bits=64"
);

/// Redis 7's default: loopback, IPv6 loopback only if the machine has it (`-` = optional).
pub const DEFAULT_BIND: &str = "127.0.0.1 -::1";

const AFTER_HELP: &str = "\
Examples:
  redis-lite                                  (defaults: 127.0.0.1:6379, one shard per CPU)
  redis-lite /etc/redis-lite.conf
  redis-lite --port 7777 --save \"\"
  redis-lite /etc/redis-lite.conf --loglevel verbose --shards 4
  redis-lite --test-config /etc/redis-lite.conf --port 7000

Every config-file directive is also an option, `--<directive> <value...>`, applied after the
file as redis-server does; deploy/redis-lite.conf lists and explains them all.";

/// The command line: clap handles help/version; the rest is redis-server style.
#[derive(clap::Parser, Debug)]
#[command(
    name = "redis-lite",
    version = VERSION,
    about = "Redis-compatible in-memory data store: one glommio executor per core, each owning a shard.",
    override_usage = "redis-lite [/path/to/redis-lite.conf] [--<directive> <value>...]\n       \
                      redis-lite --test-config [/path/to/redis-lite.conf] [--<directive> <value>...]\n       \
                      redis-lite -v | --version\n       redis-lite -h | --help",
    after_help = AFTER_HELP,
    disable_version_flag = true
)]
pub struct Cli {
    /// Print the version and exit.
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    version: Option<bool>,
    /// Check the config file and options, print OK or the error, and exit (0 or 1).
    #[arg(long)]
    pub test_config: bool,
    /// An optional config file first, then `--<directive> <value...>` overrides.
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        num_args = 0..
    )]
    pub args: Vec<String>,
}

/// One class of `client-output-buffer-limit`: hard bytes, soft bytes, soft seconds.
pub type ObufLimit = [u64; 3];

/// Everything the server is configured with at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file (absolute), if one was given: CONFIG REWRITE writes it back.
    pub config_file: Option<PathBuf>,
    /// The whole `bind` value: space-separated addresses, `-` prefix = optional.
    pub bind: String,
    /// TCP port; 0 picks a free ephemeral port (the ready line says which).
    pub port: u16,
    pub protected_mode: bool,
    /// Redis's `stop-writes-on-bgsave-error` (default yes).
    pub stop_writes_on_bgsave_error: bool,
    /// Empty: no password.
    pub requirepass: String,
    pub databases: usize,
    /// Working directory for snapshot files.
    pub dir: PathBuf,
    /// Snapshot file name (per-shard files derive from it).
    pub dbfilename: String,
    /// Save points as "<seconds> <changes> ..."; "" for none.
    pub save: String,
    /// Whether a `save` line already replaced the defaults during this load (lines accumulate).
    save_loaded: bool,
    pub rdbcompression: bool,
    /// Redis level name: debug, verbose, notice, warning.
    pub loglevel: String,
    /// "" = standard output; else a file appended to.
    pub logfile: String,
    /// "" = none; else written after start-up and removed at exit.
    pub pidfile: String,
    /// Number of shards; default: one per CPU this process may run on (or per listed CPU).
    pub shards: Option<usize>,
    /// CPUs to pin shard executors to, in order (`server_cpulist`); default: all allowed.
    pub server_cpulist: Option<Vec<usize>>,
    /// Do not pin executors to CPUs (tests, shared machines).
    pub unpinned: bool,
    /// `client-output-buffer-limit`: normal, replica, pubsub.
    pub obuf_limits: [ObufLimit; 3],
    /// `notify-keyspace-events` classes (see [`crate::notify`]).
    pub notify_keyspace_events: u32,
    /// Active expiry frequency: sweeps per second per shard.
    pub hz: u32,
    /// Memory each executor locks for io_uring buffers, in KiB (sockets do not use it).
    pub io_memory_kb: usize,
    /// `supervised`: no, upstart, systemd, auto (systemd notification when NOTIFY_SOCKET is set).
    pub supervised: String,
    /// `enable-protected-configs`: no, yes, local: whether CONFIG SET may change `dir` and
    /// `dbfilename` (Redis 7 refuses by default: they decide where the server writes files).
    pub enable_protected_configs: String,
    /// Tunable values given by the file or options, in order (the last one wins).
    pub tunables: Vec<(&'static str, i64)>,
    /// `cluster-config`: the static slot-map file; "" = not in cluster mode (see `cluster.rs`).
    pub cluster_config: String,
    /// `cluster-enabled` as given (redis.conf's switch); cluster mode itself follows
    /// `cluster-config`, and start-up refuses the two disagreeing.
    pub cluster_enabled: Option<bool>,
    /// `cluster-node-id`: this node's id in the map; "" = the node whose port is ours.
    pub cluster_node_id: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            config_file: None,
            bind: DEFAULT_BIND.into(),
            port: 6379,
            protected_mode: true,
            stop_writes_on_bgsave_error: true,
            requirepass: String::new(),
            databases: 16,
            dir: PathBuf::from("."),
            dbfilename: "dump.rdb".into(),
            save: crate::persist::DEFAULT_SAVE.into(),
            save_loaded: false,
            rdbcompression: true,
            loglevel: "notice".into(),
            logfile: String::new(),
            pidfile: String::new(),
            shards: None,
            server_cpulist: None,
            unpinned: false,
            obuf_limits: DEFAULT_OBUF,
            notify_keyspace_events: 0,
            hz: 10,
            io_memory_kb: 256,
            supervised: "auto".into(),
            enable_protected_configs: "no".into(),
            tunables: Vec::new(),
            cluster_config: String::new(),
            cluster_enabled: None,
            cluster_node_id: String::new(),
        }
    }
}

const MB: u64 = 1024 * 1024;
const DEFAULT_OBUF: [ObufLimit; 3] = [[0, 0, 0], [256 * MB, 64 * MB, 60], [32 * MB, 8 * MB, 60]];
const OBUF_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];
const LOGLEVELS: [&str; 4] = ["debug", "verbose", "notice", "warning"];
const POLICIES: [&str; 8] = [
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

/// How a directive's value may change once the server runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum When {
    /// CONFIG SET changes it.
    Runtime,
    /// Fixed at start: CONFIG SET accepts only the current value.
    Start,
}

/// A directive that is not a [`Tunable`].
pub struct Directive {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// Takes several arguments; a single one is split on spaces, as Redis's MULTI_ARG configs.
    pub multi: bool,
    pub when: When,
}

const fn d(name: &'static str, multi: bool, when: When) -> Directive {
    Directive {
        name,
        aliases: &[],
        multi,
        when,
    }
}

/// Every directive besides the tunables, in the order CONFIG GET and CONFIG REWRITE use.
pub const DIRECTIVES: &[Directive] = &[
    d("bind", true, When::Start),
    d("port", false, When::Start),
    d("protected-mode", false, When::Runtime),
    d("requirepass", false, When::Runtime),
    d("databases", false, When::Start),
    d("dir", false, When::Runtime),
    d("dbfilename", false, When::Runtime),
    d("save", true, When::Runtime),
    d("rdbcompression", false, When::Runtime),
    d("stop-writes-on-bgsave-error", false, When::Runtime),
    d("rdbchecksum", false, When::Start),
    d("loglevel", false, When::Runtime),
    d("logfile", false, When::Start),
    d("pidfile", false, When::Start),
    d("shards", false, When::Start),
    Directive {
        name: "server_cpulist",
        aliases: &["cpus"],
        multi: false,
        when: When::Start,
    },
    d("unpinned", false, When::Start),
    d("maxmemory-policy", false, When::Runtime),
    d("client-output-buffer-limit", true, When::Runtime),
    d("notify-keyspace-events", false, When::Runtime),
    d("hz", false, When::Start),
    d("io-memory-kb", false, When::Start),
    d("appendonly", false, When::Start),
    d("daemonize", false, When::Start),
    d("supervised", false, When::Start),
    d("enable-protected-configs", false, When::Start),
    d("cluster-enabled", false, When::Start),
    d("cluster-config", false, When::Start),
    d("cluster-node-id", false, When::Start),
];

/// A directive or tunable, found by name or alias (any case).
#[derive(Clone, Copy)]
pub enum Named {
    Directive(&'static Directive),
    Tunable(&'static Tunable),
}

impl Named {
    pub fn name(&self) -> &'static str {
        match self {
            Named::Directive(d) => d.name,
            Named::Tunable(t) => t.name,
        }
    }
    pub fn multi(&self) -> bool {
        matches!(self, Named::Directive(d) if d.multi)
    }
    pub fn when(&self) -> When {
        match self {
            Named::Directive(d) => d.when,
            Named::Tunable(_) => When::Runtime,
        }
    }
}

/// The directive called `name` (or by an alias).
pub fn lookup(name: &str) -> Option<Named> {
    if let Some(t) = tunables::find(name.as_bytes()) {
        return Some(Named::Tunable(t));
    }
    DIRECTIVES
        .iter()
        .find(|d| {
            d.name.eq_ignore_ascii_case(name)
                || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
        .map(Named::Directive)
}

/// Where a config line came from, for the fatal error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File {
        path: PathBuf,
        line: usize,
    },
    Option {
        index: usize,
    },
    /// Not tied to one line (the log file cannot be opened…).
    None,
}

/// A configuration that cannot be used: printed as redis-server prints it, then exit 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub origin: Origin,
    /// The line as written (`>>> '...'`).
    pub text: String,
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f)?;
        writeln!(
            f,
            "*** FATAL CONFIG FILE ERROR (redis-lite {}) ***",
            env!("CARGO_PKG_VERSION")
        )?;
        match &self.origin {
            Origin::File { path, line } => {
                writeln!(
                    f,
                    "Reading the configuration file {}, at line {line}",
                    path.display()
                )?;
                writeln!(f, ">>> '{}'", self.text)?;
            }
            Origin::Option { index } => {
                writeln!(f, "Reading the command line, at option {index}")?;
                writeln!(f, ">>> '{}'", self.text)?;
            }
            Origin::None => {}
        }
        write!(f, "{}", self.reason)
    }
}

/// A config file that cannot be read at all (redis-server's wording).
#[derive(Debug)]
pub struct ReadError(pub String);

/// What the command line asks for.
#[derive(Debug)]
pub struct Invocation {
    pub config: Config,
    pub test_config: bool,
}

/// A failure to build the configuration.
#[derive(Debug)]
pub enum LoadError {
    Read(String),
    Config(ConfigError),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Read(s) => f.write_str(s),
            LoadError::Config(e) => e.fmt(f),
        }
    }
}

impl Config {
    /// Builds the configuration from clap's result: the file (if the first argument is not an
    /// option), then the options in order, as redis-server does.
    pub fn from_cli(cli: &Cli) -> Result<Invocation, LoadError> {
        let mut args: &[String] = &cli.args;
        let mut test_config = cli.test_config;
        let mut cfg = Config::default();
        if let Some(first) = args.first() {
            if !first.starts_with('-') {
                let path = absolute(Path::new(first));
                let text = std::fs::read(&path).map_err(|e| {
                    LoadError::Read(format!(
                        "Fatal error, can't open config file '{}': {}",
                        path.display(),
                        io_reason(&e)
                    ))
                })?;
                let text = String::from_utf8_lossy(&text);
                cfg.config_file = Some(path.clone());
                cfg.load_text(&text, &path).map_err(LoadError::Config)?;
                args = &args[1..];
            }
        }
        // `--name v1 v2 ...` per option; as redis-server, values run until the next `--`.
        let mut lines: Vec<(usize, String, Vec<String>)> = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if let Some(name) = a.strip_prefix("--") {
                if name.eq_ignore_ascii_case("test-config") {
                    test_config = true;
                    continue;
                }
                lines.push((i + 1, name.to_string(), Vec::new()));
            } else if let Some(last) = lines.last_mut() {
                last.2.push(a.clone());
            } else {
                return Err(LoadError::Config(ConfigError {
                    origin: Origin::Option { index: i + 1 },
                    text: repr(a),
                    reason: "Invalid option: expected --<directive> <value...> (a config file \
                             may only come first)"
                        .into(),
                }));
            }
        }
        for (index, name, mut values) in lines {
            // `--save` alone means `save ""`; `--unpinned` alone means `unpinned yes`.
            if values.is_empty() {
                if name.eq_ignore_ascii_case("save") {
                    values.push(String::new());
                } else if name.eq_ignore_ascii_case("unpinned") {
                    values.push("yes".into());
                }
            }
            let text = std::iter::once(name.clone())
                .chain(values.iter().map(|v| repr(v)))
                .collect::<Vec<_>>()
                .join(" ");
            cfg.apply_line(&name, values, Mode::Load)
                .map_err(|reason| {
                    LoadError::Config(ConfigError {
                        origin: Origin::Option { index },
                        text,
                        reason,
                    })
                })?;
        }
        Ok(Invocation {
            config: cfg,
            test_config,
        })
    }

    /// Applies a config file's text: comments, blank lines, quoted arguments, last one wins.
    pub fn load_text(&mut self, text: &str, path: &Path) -> Result<(), ConfigError> {
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fail = |reason: String| ConfigError {
                origin: Origin::File {
                    path: path.to_path_buf(),
                    line: i + 1,
                },
                text: line.to_string(),
                reason,
            };
            let Some(mut argv) = split_args(line) else {
                return Err(fail("Unbalanced quotes in configuration line".into()));
            };
            if argv.is_empty() {
                continue;
            }
            let name = argv.remove(0);
            self.apply_line(&name, argv, Mode::Load).map_err(fail)?;
        }
        Ok(())
    }

    /// One directive with its arguments. The error is Redis's reason text.
    pub fn apply_line(
        &mut self,
        name: &str,
        mut args: Vec<String>,
        mode: Mode,
    ) -> Result<(), String> {
        let Some(named) = lookup(name) else {
            return Err("Bad directive or wrong number of arguments".into());
        };
        if named.multi() && args.len() == 1 && !args[0].is_empty() {
            args = args[0].split_ascii_whitespace().map(String::from).collect();
        }
        if named.name() == "unpinned" && args.is_empty() {
            args.push("yes".into());
        }
        if !named.multi() && args.len() != 1 {
            return Err("wrong number of arguments".into());
        }
        if args.is_empty() {
            return Err("wrong number of arguments".into());
        }
        match named {
            Named::Tunable(t) => {
                let v = t.parse(args[0].as_bytes())?;
                self.tunables.retain(|(n, _)| *n != t.name);
                self.tunables.push((t.name, v));
                Ok(())
            }
            Named::Directive(d) => self.apply_directive(d.name, &args, mode),
        }
    }

    fn apply_directive(&mut self, name: &str, args: &[String], mode: Mode) -> Result<(), String> {
        let a = args[0].as_str();
        match name {
            "bind" => {
                if args.len() > 16 {
                    return Err("Too many bind addresses specified.".into());
                }
                self.bind = args.join(" ");
            }
            "port" => self.port = int(a, 0, 65535)? as u16,
            "protected-mode" => self.protected_mode = yes_no(a)?,
            "stop-writes-on-bgsave-error" => self.stop_writes_on_bgsave_error = yes_no(a)?,
            "requirepass" => self.requirepass = a.to_string(),
            "databases" => self.databases = int(a, 1, 65535)? as usize,
            "dir" => {
                let p = Path::new(a);
                match std::fs::metadata(p) {
                    Ok(m) if m.is_dir() => self.dir = p.to_path_buf(),
                    Ok(_) => return Err("Not a directory".into()),
                    Err(e) => return Err(io_reason(&e)),
                }
            }
            "dbfilename" => {
                if a.contains('/') {
                    return Err("dbfilename can't be a path, just a filename".into());
                }
                if a.is_empty() {
                    return Err("dbfilename can't be empty".into());
                }
                self.dbfilename = a.to_string();
            }
            "save" => {
                let text = if args.len() == 1 && a.is_empty() {
                    String::new()
                } else {
                    if !args.len().is_multiple_of(2) {
                        return Err("Invalid save parameters".into());
                    }
                    args.join(" ")
                };
                if !text.is_empty() {
                    crate::persist::parse_save_params(&text)?;
                }
                // In a file, save lines accumulate (the first one replaces the defaults);
                // `save ""` and CONFIG SET replace.
                if mode == Mode::Load && self.save_loaded && !text.is_empty() {
                    if !self.save.is_empty() {
                        self.save.push(' ');
                    }
                    self.save.push_str(&text);
                } else {
                    self.save = text;
                }
                self.save_loaded = true;
            }
            "rdbcompression" => self.rdbcompression = yes_no(a)?,
            "rdbchecksum" => {
                if !yes_no(a)? {
                    return Err(
                        "rdbchecksum no is not supported: snapshots always carry a checksum".into(),
                    );
                }
            }
            "loglevel" => {
                let l = one_of(a, &LOGLEVELS)?;
                self.loglevel = l.to_string();
            }
            "logfile" => self.logfile = a.to_string(),
            "pidfile" => self.pidfile = a.to_string(),
            "shards" => self.shards = Some(int(a, 1, 1024)? as usize),
            "server_cpulist" => {
                self.server_cpulist = if a.is_empty() {
                    None
                } else {
                    Some(parse_cpulist(a).ok_or_else(|| {
                        "argument must be a CPU list such as 0-3,6 or 0-7:2".to_string()
                    })?)
                }
            }
            "unpinned" => self.unpinned = yes_no(a)?,
            "maxmemory-policy" => {
                if one_of(a, &POLICIES)? != "noeviction" {
                    return Err(
                        "only noeviction is supported: redis-lite does not evict keys yet".into(),
                    );
                }
            }
            "client-output-buffer-limit" => self.obuf_limits = parse_obuf(args, self.obuf_limits)?,
            "notify-keyspace-events" => {
                self.notify_keyspace_events =
                    crate::notify::parse(a.as_bytes()).ok_or_else(|| {
                        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string()
                    })?
            }
            "hz" => self.hz = int(a, 0, i32::MAX as i64)? as u32,
            "io-memory-kb" => self.io_memory_kb = int(a, 64, 1 << 30)? as usize,
            "appendonly" => {
                if yes_no(a)? {
                    return Err(
                        "appendonly yes is not supported: redis-lite has no AOF, only \
                                snapshots"
                            .into(),
                    );
                }
            }
            "daemonize" => {
                if yes_no(a)? {
                    return Err("daemonize yes is not supported: run it under systemd or a \
                                container (see deploy/)"
                        .into());
                }
            }
            "supervised" => {
                self.supervised = one_of(a, &["upstart", "systemd", "auto", "no"])?.to_string()
            }
            "enable-protected-configs" => {
                self.enable_protected_configs = one_of(a, &["no", "yes", "local"])?.to_string()
            }
            "cluster-enabled" => self.cluster_enabled = Some(yes_no(a)?),
            "cluster-config" => self.cluster_config = a.to_string(),
            "cluster-node-id" => self.cluster_node_id = a.to_string(),
            _ => return Err("Bad directive or wrong number of arguments".into()),
        }
        Ok(())
    }

    /// Pushes the run-time settings into the process-wide state every core reads.
    pub fn apply_globals(&self) {
        for (name, v) in &self.tunables {
            if let Some(t) = tunables::find(name.as_bytes()) {
                t.set(*v);
            }
        }
        tunables::PROTECTED_MODE.store(self.protected_mode, std::sync::atomic::Ordering::Relaxed);
        tunables::STOP_WRITES_ON_BGSAVE_ERROR.store(
            self.stop_writes_on_bgsave_error,
            std::sync::atomic::Ordering::Relaxed,
        );
        tunables::set_requirepass(self.requirepass.as_bytes());
        set_obuf_limits(&self.obuf_limits);
        crate::notify::set_flags(self.notify_keyspace_events);
    }

    /// The `tracing` filter matching a Redis log level name.
    pub fn tracing_filter(&self) -> String {
        tracing_filter(&self.loglevel)
    }

    /// The CPUs given by `server_cpulist`, rendered back as a list.
    pub fn cpulist_text(&self) -> String {
        self.server_cpulist
            .as_ref()
            .map(|l| format_cpulist(l))
            .unwrap_or_default()
    }
}

/// The `tracing` filter for a Redis log level name.
pub fn tracing_filter(level: &str) -> String {
    match level {
        "debug" => "debug",
        "verbose" | "notice" => "info",
        _ => "warn",
    }
    .into()
}

/// Loading a file/options, or CONFIG SET (`save` accumulates only while loading).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Load,
    Set,
}

fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    // "No such file or directory (os error 2)" -> Redis's strerror text.
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

fn int(s: &str, min: i64, max: i64) -> Result<i64, String> {
    let v = crate::resp::string2ll(s.as_bytes())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    if v < min || v > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(v)
}

fn yes_no(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn one_of<'a>(s: &str, names: &[&'a str]) -> Result<&'a str, String> {
    names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(s))
        .copied()
        .ok_or_else(|| {
            format!(
                "argument(s) must be one of the following: {}",
                names.join(", ")
            )
        })
}

/// `client-output-buffer-limit <class> <hard> <soft> <seconds> ...`, onto `cur`.
pub fn parse_obuf(args: &[String], mut cur: [ObufLimit; 3]) -> Result<[ObufLimit; 3], String> {
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    for chunk in args.chunks(4) {
        let class = match chunk[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        let hard = tunables::parse_memory(chunk[1].as_bytes()).ok_or_else(bad)?;
        let soft = tunables::parse_memory(chunk[2].as_bytes()).ok_or_else(bad)?;
        let secs = crate::resp::string2ll(chunk[3].as_bytes())
            .filter(|s| *s >= 0)
            .ok_or_else(bad)?;
        cur[class] = [hard as u64, soft as u64, secs as u64];
    }
    Ok(cur)
}

/// Sets every class's output-buffer limits in the process-wide state.
pub fn set_obuf_limits(l: &[ObufLimit; 3]) {
    use std::sync::atomic::Ordering::Relaxed;
    for (class, limits) in [
        &tunables::NORMAL_OUTPUT_LIMITS,
        &tunables::REPLICA_OUTPUT_LIMITS,
        &tunables::PUBSUB_OUTPUT_LIMITS,
    ]
    .into_iter()
    .enumerate()
    {
        for (slot, v) in limits.iter().zip(l[class]) {
            slot.store(v, Relaxed);
        }
    }
}

/// The output-buffer limits in force now.
pub fn obuf_limits_now() -> [ObufLimit; 3] {
    let (a, b, c) = tunables::normal_output_limits();
    let (d, e, f) = tunables::replica_output_limits();
    let (g, h, i) = tunables::pubsub_output_limits();
    [[a, b, c], [d, e, f], [g, h, i]]
}

/// Redis's rendering: "normal 0 0 0 slave 268435456 67108864 60 pubsub ..." (bytes), or with
/// memory units for CONFIG REWRITE.
pub fn format_obuf(l: &[ObufLimit; 3], human: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (i, class) in OBUF_CLASSES.iter().enumerate() {
        out.push(if human && i == 1 { "replica" } else { class }.to_string());
        out.push(mem(l[i][0] as i64, human));
        out.push(mem(l[i][1] as i64, human));
        out.push(l[i][2].to_string());
    }
    out
}

/// A byte count as CONFIG GET (plain) or CONFIG REWRITE (`512mb` when exact) shows it.
pub fn mem(v: i64, human: bool) -> String {
    const K: i64 = 1024;
    if human && v != 0 {
        for (unit, size) in [("gb", K * K * K), ("mb", K * K), ("kb", K)] {
            if v % size == 0 {
                return format!("{}{unit}", v / size);
            }
        }
    }
    v.to_string()
}

/// Redis's `server_cpulist` syntax: `0-3,6`, `0-7:2` (every second CPU).
pub fn parse_cpulist(s: &str) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let (range, step) = match part.split_once(':') {
            Some((r, st)) => (r, st.trim().parse::<usize>().ok().filter(|&x| x > 0)?),
            None => (part, 1),
        };
        let (lo, hi) = match range.split_once('-') {
            Some((a, b)) => (
                a.trim().parse::<usize>().ok()?,
                b.trim().parse::<usize>().ok()?,
            ),
            None => {
                let a = range.trim().parse::<usize>().ok()?;
                (a, a)
            }
        };
        if lo > hi || hi >= 1024 {
            return None;
        }
        for c in (lo..=hi).step_by(step) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A CPU list as `0-3,6`.
pub fn format_cpulist(cpus: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        parts.push(if j > i + 1 {
            format!("{}-{}", cpus[i], cpus[j])
        } else if j == i + 1 {
            format!("{},{}", cpus[i], cpus[j])
        } else {
            cpus[i].to_string()
        });
        i = j + 1;
    }
    parts.join(",")
}

/// Redis's `sdssplitargs` (the request parser's, [`crate::resp::split_line`]), as text.
/// `None` on unbalanced quotes.
pub fn split_args(line: &str) -> Option<Vec<String>> {
    let args = crate::resp::split_line(line.as_bytes())?;
    Some(
        args.into_iter()
            .map(|a| String::from_utf8_lossy(&a).into_owned())
            .collect(),
    )
}

/// An argument as a config line shows it: bare when that reads back the same, else quoted
/// with escapes (Redis's `sdscatrepr`).
pub fn repr(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_graphic() && !matches!(c, b'"' | b'\'' | b'\\'));
    if plain {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.bytes() {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

/// A setting's canonical name and its value as config lines (each a list of arguments).
pub type Setting = (&'static str, Vec<Vec<String>>);

/// The settings that live outside [`Config`] once the server runs.
pub struct Live {
    /// The port actually bound (CONFIG GET shows it; REWRITE keeps the configured one).
    pub port: u16,
    pub nshards: usize,
    pub save: String,
    pub compress: bool,
    pub dir: PathBuf,
    pub dbfilename: String,
}

/// Every setting's current value as config-line arguments (one `Vec` per line), canonical names
/// in [`DIRECTIVES`] order then the tunables. `human`: memory values with units (REWRITE).
pub fn current(config: &Config, live: &Live, human: bool) -> Vec<Setting> {
    let one = |v: String| vec![vec![v]];
    let yn = |b: bool| one(if b { "yes" } else { "no" }.into());
    let mut out: Vec<Setting> = Vec::new();
    for d in DIRECTIVES {
        let v = match d.name {
            "bind" => vec![config
                .bind
                .split_ascii_whitespace()
                .map(String::from)
                .collect()],
            "port" => one(if human { config.port } else { live.port }.to_string()),
            "protected-mode" => {
                yn(tunables::PROTECTED_MODE.load(std::sync::atomic::Ordering::Relaxed))
            }
            "requirepass" => one(tunables::requirepass()
                .map(|p| String::from_utf8_lossy(&p).into_owned())
                .unwrap_or_default()),
            "databases" => one(config.databases.to_string()),
            "dir" => one(std::fs::canonicalize(&live.dir)
                .unwrap_or_else(|_| live.dir.clone())
                .display()
                .to_string()),
            "dbfilename" => one(live.dbfilename.clone()),
            "save" => {
                if human {
                    // One line per save point, as redis.conf writes them.
                    let w: Vec<&str> = live.save.split_ascii_whitespace().collect();
                    if w.is_empty() {
                        one(String::new())
                    } else {
                        w.chunks(2)
                            .map(|c| c.iter().map(|s| s.to_string()).collect())
                            .collect()
                    }
                } else {
                    one(live.save.clone())
                }
            }
            "rdbcompression" => yn(live.compress),
            "stop-writes-on-bgsave-error" => yn(
                tunables::STOP_WRITES_ON_BGSAVE_ERROR.load(std::sync::atomic::Ordering::Relaxed)
            ),
            "rdbchecksum" => yn(true),
            "loglevel" => one(crate::logging::level()),
            "logfile" => one(config.logfile.clone()),
            "pidfile" => one(config.pidfile.clone()),
            "shards" => one(if human {
                config.shards.map(|s| s.to_string()).unwrap_or_default()
            } else {
                live.nshards.to_string()
            }),
            "server_cpulist" => one(config.cpulist_text()),
            "unpinned" => yn(config.unpinned),
            "maxmemory-policy" => one("noeviction".into()),
            "client-output-buffer-limit" => {
                let v = format_obuf(&obuf_limits_now(), human);
                if human {
                    // One line per class, as Redis writes them.
                    v.chunks(4).map(|c| c.to_vec()).collect()
                } else {
                    vec![v]
                }
            }
            "notify-keyspace-events" => one(crate::notify::format(crate::notify::flags())),
            "hz" => one(config.hz.to_string()),
            "io-memory-kb" => one(config.io_memory_kb.to_string()),
            "appendonly" => yn(false),
            "daemonize" => yn(false),
            "supervised" => one(config.supervised.clone()),
            "enable-protected-configs" => one(config.enable_protected_configs.clone()),
            "cluster-enabled" => yn(!config.cluster_config.is_empty()),
            "cluster-config" => one(config.cluster_config.clone()),
            "cluster-node-id" => one(config.cluster_node_id.clone()),
            _ => continue,
        };
        out.push((d.name, v));
    }
    for t in tunables::all() {
        let v = match t.kind {
            tunables::Kind::Memory => mem(t.get(), human),
            tunables::Kind::Int => t.get().to_string(),
        };
        out.push((t.name, one(v)));
    }
    out
}

/// CONFIG GET's name/value pairs: every setting (aliases too) plus `io-threads` (the shards).
pub fn get_params(config: &Config, live: &Live) -> Vec<(&'static str, String)> {
    let mut params = Vec::new();
    for (name, lines) in current(config, live, false) {
        let value = lines
            .iter()
            .map(|l| l.join(" "))
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(named) = lookup(name) {
            let aliases: Vec<&'static str> = match named {
                Named::Directive(d) => d.aliases.to_vec(),
                Named::Tunable(t) => t.alias.into_iter().collect(),
            };
            for a in aliases {
                params.push((a, value.clone()));
            }
        }
        params.push((name, value));
    }
    params.push(("io-threads", live.nshards.to_string()));
    params
}

/// The settings' values when nothing configures them, for CONFIG REWRITE (only settings that
/// differ are added to the file).
fn defaults(live: &Live) -> Vec<Setting> {
    let d = Config::default();
    let dl = Live {
        port: d.port,
        nshards: live.nshards,
        save: d.save.clone(),
        compress: d.rdbcompression,
        dir: live.dir.clone(),
        dbfilename: d.dbfilename.clone(),
    };
    let mut out = current(&d, &dl, true);
    // These come from process-wide state; their defaults are fixed.
    for (name, v) in out.iter_mut() {
        *v = match *name {
            "protected-mode" | "stop-writes-on-bgsave-error" => vec![vec!["yes".into()]],
            "requirepass" | "notify-keyspace-events" => vec![vec![String::new()]],
            "loglevel" => vec![vec!["notice".into()]],
            "client-output-buffer-limit" => format_obuf(&DEFAULT_OBUF, true)
                .chunks(4)
                .map(|c| c.to_vec())
                .collect(),
            _ => match tunables::find(name.as_bytes()) {
                Some(t) => vec![vec![match t.kind {
                    tunables::Kind::Memory => mem(t.default, true),
                    tunables::Kind::Int => t.default.to_string(),
                }]],
                None => continue,
            },
        };
    }
    out
}

/// The line CONFIG REWRITE puts before the directives it appends.
const SIGNATURE: &str = "# Generated by CONFIG REWRITE";

/// CONFIG REWRITE, as Redis does it: each setting's first line is rewritten in place (its other
/// lines blanked), comments and everything else are kept, settings not in the file that differ
/// from their default are appended after a signature line. Written to a temporary file, synced
/// and renamed over the old one, so a crash never leaves half a config.
pub fn rewrite(path: &Path, config: &Config, live: &Live) -> Result<(), String> {
    let old = match std::fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("Rewriting config file: {}", io_reason(&e))),
    };
    let new = rewrite_text(&old, &current(config, live, true), &defaults(live));
    let tmp = path.with_file_name(format!(
        ".{}.rewrite.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("config")
    ));
    let res = (|| -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(new.as_bytes())?;
        if let Ok(m) = std::fs::metadata(path) {
            f.set_permissions(m.permissions())?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    res.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("Rewriting config file: {}", io_reason(&e))
    })
}

/// The rewritten text of a config file (see [`rewrite`]).
pub fn rewrite_text(old: &str, current: &[Setting], defaults: &[Setting]) -> String {
    let mut lines: Vec<String> = Vec::new();
    // canonical name -> indexes of its lines in `lines`
    let mut at: Vec<(&'static str, Vec<usize>)> = Vec::new();
    let mut signed = false;
    for raw in old.lines() {
        let t = raw.trim();
        signed |= t == SIGNATURE;
        if !t.is_empty() && !t.starts_with('#') {
            if let Some(named) = split_args(t)
                .and_then(|a| a.into_iter().next())
                .and_then(|n| lookup(&n))
            {
                let name = named.name();
                match at.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, v)) => v.push(lines.len()),
                    None => at.push((name, vec![lines.len()])),
                }
            }
        }
        lines.push(raw.to_string());
    }
    let render = |name: &str, args: &Vec<String>| {
        std::iter::once(name.to_string())
            .chain(args.iter().map(|a| repr(a)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut appended: Vec<String> = Vec::new();
    for (name, values) in current {
        let existing = at.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        match existing {
            Some(idx) => {
                for (k, i) in idx.iter().enumerate() {
                    lines[*i] = values.get(k).map(|v| render(name, v)).unwrap_or_default();
                }
                for v in values.iter().skip(idx.len()) {
                    appended.push(render(name, v));
                }
            }
            None => {
                let default = defaults.iter().find(|(n, _)| n == name).map(|(_, v)| v);
                if default != Some(values) {
                    appended.extend(values.iter().map(|v| render(name, v)));
                }
            }
        }
    }
    // Appended lines go after the signature: an earlier rewrite's, or a new one.
    if !appended.is_empty() && !signed {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(SIGNATURE.to_string());
    }
    lines.extend(appended);
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// clap integration: `Config::parse_from([...])` (tests) reads options as the binary does.
impl CommandFactory for Config {
    fn command() -> clap::Command {
        Cli::command()
    }
    fn command_for_update() -> clap::Command {
        Cli::command_for_update()
    }
}

impl FromArgMatches for Config {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let cli = Cli::from_arg_matches(m)?;
        Config::from_cli(&cli)
            .map(|i| i.config)
            .map_err(|e| clap::Error::raw(clap::error::ErrorKind::ValueValidation, e.to_string()))
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Parser for Config {}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn load(text: &str) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        c.load_text(text, Path::new("/etc/t.conf")).map(|_| c)
    }

    #[test]
    fn split_args_like_redis() {
        let s = |l: &str| split_args(l);
        assert_eq!(s("port 6379"), Some(vec!["port".into(), "6379".into()]));
        assert_eq!(s("  save \"\"  "), Some(vec!["save".into(), "".into()]));
        assert_eq!(
            s(r#"requirepass "a b\x41\n" 'it\'s'"#),
            Some(vec!["requirepass".into(), "a bA\n".into(), "it's".into()])
        );
        assert_eq!(s("port \"12"), None);
        assert_eq!(s("port \"12\"x"), None);
        assert_eq!(s("a 'b"), None);
        assert_eq!(s("   "), Some(vec![]));
        for v in ["", "a b", "q\"uote", "x\\y", "\t", "\u{1}"] {
            assert_eq!(
                split_args(&format!("k {}", repr(v))),
                Some(vec!["k".into(), v.into()])
            );
        }
    }

    #[test]
    fn good_file() {
        let c = load(
            "# comment\n\n  PORT 7000\r\nbind 0.0.0.0 -::1\nsave 900 1\nsave 300 10\n\
             maxmemory 1gb\nhash-max-ziplist-entries 100\nhash-max-listpack-entries 200\n\
             client-output-buffer-limit pubsub 64mb 16mb 90 normal 1mb 0 0\n\
             server_cpulist 0-3,6\nloglevel WARNING\nunpinned yes\nrequirepass \"s p\"\n",
        )
        .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.bind, "0.0.0.0 -::1");
        assert_eq!(c.save, "900 1 300 10");
        assert_eq!(c.loglevel, "warning");
        assert!(c.unpinned);
        assert_eq!(c.requirepass, "s p");
        assert_eq!(c.server_cpulist, Some(vec![0, 1, 2, 3, 6]));
        assert_eq!(
            c.tunables,
            vec![("maxmemory", 1 << 30), ("hash-max-listpack-entries", 200)]
        );
        assert_eq!(c.obuf_limits[2], [64 * MB, 16 * MB, 90]);
        assert_eq!(c.obuf_limits[0], [MB, 0, 0]);
        assert_eq!(c.obuf_limits[1], DEFAULT_OBUF[1]);
        // `save ""` resets; later lines accumulate again.
        assert_eq!(load("save 1 1\nsave \"\"\nsave 2 2").unwrap().save, "2 2");
        assert_eq!(load("save \"\"").unwrap().save, "");
        assert_eq!(load("").unwrap().save, crate::persist::DEFAULT_SAVE);
    }

    #[test]
    fn bad_files_name_the_line() {
        let e = load("port 1\n\nbogus 1\n").unwrap_err();
        assert_eq!(
            e.origin,
            Origin::File {
                path: "/etc/t.conf".into(),
                line: 3
            }
        );
        assert_eq!(e.text, "bogus 1");
        assert_eq!(e.reason, "Bad directive or wrong number of arguments");
        let shown = e.to_string();
        assert!(
            shown.contains("*** FATAL CONFIG FILE ERROR (redis-lite "),
            "{shown}"
        );
        assert!(shown.contains(
            "Reading the configuration file /etc/t.conf, at line 3\n>>> 'bogus 1'\nBad directive"
        ));
        let reason = |t: &str| load(t).unwrap_err().reason;
        assert_eq!(
            reason("port 70000"),
            "argument must be between 0 and 65535 inclusive"
        );
        assert_eq!(
            reason("port x"),
            "argument couldn't be parsed into an integer"
        );
        assert_eq!(reason("port 1 2"), "wrong number of arguments");
        assert_eq!(
            reason("port \"1"),
            "Unbalanced quotes in configuration line"
        );
        assert_eq!(
            reason("loglevel loud"),
            "argument(s) must be one of the following: debug, verbose, notice, warning"
        );
        assert_eq!(
            reason("protected-mode maybe"),
            "argument must be 'yes' or 'no'"
        );
        assert_eq!(reason("maxmemory 1x"), "argument must be a memory value");
        assert_eq!(reason("save 10"), "Invalid save parameters");
        assert_eq!(
            reason("dir /nonexistent-dir-xyz"),
            "No such file or directory"
        );
        assert_eq!(
            reason("dbfilename a/b"),
            "dbfilename can't be a path, just a filename"
        );
        assert_eq!(
            reason("maxclients 0"),
            "argument must be between 1 and 9223372036854775807 inclusive"
        );
        assert_eq!(
            reason("client-output-buffer-limit foo 0 0 0"),
            "Invalid client class specified in buffer limit configuration."
        );
        assert_eq!(
            reason("client-output-buffer-limit normal 0 0"),
            "Wrong number of arguments in buffer limit configuration."
        );
        assert!(reason("maxmemory-policy allkeys-lru").contains("only noeviction"));
        assert!(reason("appendonly yes").contains("no AOF"));
        assert!(reason("cpus 3-1").contains("CPU list"));
    }

    #[test]
    fn options_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("r.conf");
        std::fs::write(&f, "port 7000\nsave 900 1\nloglevel verbose\n").unwrap();
        let args = |v: &[&str]| Cli {
            version: None,
            test_config: false,
            args: v.iter().map(|s| s.to_string()).collect(),
        };
        let fs = f.to_str().unwrap();
        let c = Config::from_cli(&args(&[fs, "--port", "7001", "--save", "60", "5"]))
            .unwrap()
            .config;
        assert_eq!(c.port, 7001);
        // As redis-server: option lines are appended to the file, so save points accumulate.
        assert_eq!(c.save, "900 1 60 5");
        assert_eq!(c.loglevel, "verbose");
        assert_eq!(c.config_file.as_deref(), Some(f.as_path()));
        let c = Config::from_cli(&args(&[
            "--save",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--unpinned",
            "--client-output-buffer-limit",
            "normal 1mb 1mb 1",
            "--test-config",
        ]))
        .unwrap();
        assert!(c.test_config);
        assert_eq!(c.config.save, "");
        assert_eq!(c.config.bind, "127.0.0.1 -::1");
        assert!(c.config.unpinned);
        assert_eq!(c.config.obuf_limits[0], [MB, MB, 1]);
        let Err(LoadError::Config(e)) = Config::from_cli(&args(&["--port", "70000"])) else {
            panic!()
        };
        assert_eq!(e.origin, Origin::Option { index: 1 });
        assert_eq!(e.text, "port 70000");
        let Err(LoadError::Read(e)) = Config::from_cli(&args(&["/nonexistent/x.conf"])) else {
            panic!()
        };
        assert!(
            e.contains("can't open config file '/nonexistent/x.conf'"),
            "{e}"
        );
        // What the unit tests elsewhere use.
        let c = Config::parse_from(["redis-lite", "--save", "", "--appendonly", "no"]);
        assert_eq!(c.save, "");
        assert_eq!(c.bind, DEFAULT_BIND);
    }

    #[test]
    fn cpulists() {
        assert_eq!(parse_cpulist("0-7:2"), Some(vec![0, 2, 4, 6]));
        assert_eq!(parse_cpulist("1,0"), Some(vec![1, 0]));
        assert_eq!(parse_cpulist("x"), None);
        assert_eq!(parse_cpulist("2-1"), None);
        assert_eq!(format_cpulist(&[0, 1, 2, 3, 6]), "0-3,6");
        assert_eq!(format_cpulist(&[0, 1, 5]), "0,1,5");
    }

    #[test]
    fn rewrite_keeps_comments() {
        let cur: Vec<Setting> = vec![
            ("port", vec![vec!["7000".into()]]),
            ("loglevel", vec![vec!["warning".into()]]),
            ("save", vec![vec!["60".into(), "5".into()]]),
            ("maxmemory", vec![vec!["100mb".into()]]),
            ("hash-max-listpack-entries", vec![vec!["512".into()]]),
            ("dir", vec![vec!["/tmp/a b".into()]]),
        ];
        let def: Vec<Setting> = vec![
            ("hash-max-listpack-entries", vec![vec!["512".into()]]),
            ("maxmemory", vec![vec!["0".into()]]),
            ("dir", vec![vec!["/tmp/a b".into()]]),
        ];
        let old = "# top\nport 7000\n# level\nloglevel notice\nsave 900 1\nsave 300 10\n";
        let new = rewrite_text(old, &cur, &def);
        assert_eq!(
            new,
            "# top\nport 7000\n# level\nloglevel warning\nsave 60 5\n\n\n\
             # Generated by CONFIG REWRITE\nmaxmemory 100mb\n"
        );
        // Idempotent: a second rewrite finds its own lines.
        assert_eq!(rewrite_text(&new, &cur, &def), new);
    }
}
