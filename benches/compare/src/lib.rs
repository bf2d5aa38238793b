//! What redis-lite-compare (`src/main.rs`), redis-lite-persist (`src/bin/persist.rs`) and
//! redis-lite-txpub (`src/bin/txpub.rs`) share: starting and stopping the servers ([`server`]),
//! a minimal RESP client and reply parser ([`resp`]), running redis-benchmark and parsing its CSV
//! ([`bench`]), /proc readings and the machine ([`sys`]), report formatting ([`report`]), Redis
//! Cluster key slots ([`slot`]), and here the command line, signal, time-budget and temp-dir
//! plumbing.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub mod bench;
pub mod report;
pub mod resp;
pub mod server;
pub mod slot;
pub mod sys;

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

/// Parses an option's value.
pub fn num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{what}: not a number: {s:?}"))
}

/// The parsed options, or exit: an empty error (`--help`) prints `usage` and exits 0, any other
/// prints the error and `usage` and exits 2.
pub fn opts_or_exit<T>(parsed: Result<T, String>, usage: &str) -> T {
    match parsed {
        Ok(o) => o,
        Err(e) => {
            if e.is_empty() {
                print!("{usage}");
                std::process::exit(0);
            }
            eprintln!("error: {e}\n\n{usage}");
            std::process::exit(2);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Signals: Ctrl-C / SIGTERM / SIGHUP set a flag; the tools stop starting work, stop the servers
// and clean up.
// ---------------------------------------------------------------------------------------------

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

pub fn install_signal_handlers() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let h = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, h);
        libc::signal(libc::SIGTERM, h);
        libc::signal(libc::SIGHUP, h);
    }
}

pub fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}

// ---------------------------------------------------------------------------------------------
// The time budget of a whole run
// ---------------------------------------------------------------------------------------------

pub struct Budget {
    pub start: Instant,
    pub total: Duration,
}

impl Budget {
    /// A budget of `total` starting now.
    pub fn new(total: Duration) -> Budget {
        Budget {
            start: Instant::now(),
            total,
        }
    }
    pub fn left(&self) -> Duration {
        self.total.saturating_sub(self.start.elapsed())
    }
    /// Why no new step may start, if one may not.
    pub fn refuse(&self) -> Option<String> {
        if stopping() {
            Some("interrupted".into())
        } else if self.left().is_zero() {
            Some(format!(
                "time budget of {} s exhausted",
                self.total.as_secs()
            ))
        } else {
            None
        }
    }
    /// A step's deadline: at most `max` from now, and not much past the budget.
    pub fn deadline(&self, max: Duration) -> Instant {
        Instant::now() + max.min(self.left() + Duration::from_secs(10))
    }
}

// ---------------------------------------------------------------------------------------------
// Temp dir
// ---------------------------------------------------------------------------------------------

/// A directory removed (with everything in it) when dropped.
pub struct TmpDir {
    pub path: PathBuf,
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// A new dir `<prefix>-<pid>-<nanos>` under `base` (created if missing) or under $TMPDIR.
pub fn make_tmp(base: Option<&Path>, prefix: &str) -> io::Result<TmpDir> {
    let base = match base {
        Some(p) => {
            fs::create_dir_all(p)?;
            p.to_path_buf()
        }
        None => std::env::temp_dir(),
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let path = base.join(format!("{prefix}-{}-{nanos:x}", std::process::id()));
    fs::create_dir(&path)?;
    Ok(TmpDir { path })
}
