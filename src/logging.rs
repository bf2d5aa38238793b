//! Logging: `tracing` to standard output or the `logfile`, at a Redis `loglevel` that CONFIG SET
//! can change while the server runs (through a reload handle on the filter).

use std::io::IsTerminal;
use std::sync::{Mutex, OnceLock};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{reload, EnvFilter, Registry};

static HANDLE: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();
/// The Redis level name in force (CONFIG GET shows it).
static LEVEL: Mutex<String> = Mutex::new(String::new());

/// Starts logging at `level` (a Redis level name) to stdout (`logfile` "") or appending to the
/// file. The error is Redis's reason text when the file cannot be opened.
pub fn init(level: &str, logfile: &str) -> Result<(), String> {
    let (writer, ansi): (BoxMakeWriter, bool) = if logfile.is_empty() {
        (
            BoxMakeWriter::new(std::io::stdout),
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        )
    } else {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)
            .map_err(|e| {
                let s = e.to_string();
                let s = s.split(" (os error").next().unwrap_or(&s).to_string();
                format!("Can't open the log file: {s}")
            })?;
        (BoxMakeWriter::new(Mutex::new(f)), false)
    };
    let (filter, handle) = reload::Layer::new(EnvFilter::new(crate::config::tracing_filter(level)));
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(writer);
    // A second init (tests that run main twice) keeps the first subscriber.
    if tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .try_init()
        .is_ok()
    {
        let _ = HANDLE.set(handle);
    }
    *LEVEL.lock().unwrap_or_else(|e| e.into_inner()) = level.to_string();
    Ok(())
}

/// The Redis level name in force ("notice" before [`init`]).
pub fn level() -> String {
    let l = LEVEL.lock().unwrap_or_else(|e| e.into_inner());
    if l.is_empty() {
        "notice".into()
    } else {
        l.clone()
    }
}

/// CONFIG SET loglevel: takes effect for every core's next log line.
pub fn set_level(level: &str) {
    if let Some(h) = HANDLE.get() {
        let _ = h.reload(EnvFilter::new(crate::config::tracing_filter(level)));
    }
    *LEVEL.lock().unwrap_or_else(|e| e.into_inner()) = level.to_string();
}
