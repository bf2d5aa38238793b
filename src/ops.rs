//! The process around the server: open-files limit, CPU list, start-up banner, pidfile and
//! systemd readiness notification.

use crate::config::Config;
use crate::shard::Shared;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Descriptors kept for everything but clients: Redis's 32, plus each executor's io_uring rings,
/// eventfds and listener (thread-per-core needs a few per shard).
pub fn reserved_fds(nshards: usize) -> u64 {
    32 + 8 * nshards as u64
}

fn nofile() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return (1024, 1024);
    }
    (lim.rlim_cur, lim.rlim_max)
}

/// Tries to get `want` descriptors: the soft limit first (anyone may raise it to the hard one),
/// both limits when `want` is above the hard one (needs privilege). Returns the soft limit now
/// and the error of the attempt that fell short.
fn raise_nofile_to(want: u64) -> (u64, Option<std::io::Error>) {
    let (cur, max) = nofile();
    if cur >= want {
        return (cur, None);
    }
    let set = |c: u64, m: u64| {
        let l = libc::rlimit {
            rlim_cur: c,
            rlim_max: m,
        };
        // SAFETY: setrlimit reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &l) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    match set(want, max.max(want)) {
        Ok(()) => (want, None),
        Err(e) => {
            if max > cur {
                let _ = set(max, max);
            }
            (nofile().0, Some(e))
        }
    }
}

/// Redis's start-up adjustment: the open-files limit must fit `maxclients` plus what the server
/// itself uses. Raises it if it can; otherwise lowers maxclients to fit and warns, as Redis does.
/// Returns the limit obtained.
pub fn adjust_open_files(nshards: usize) -> Result<u64, String> {
    let maxclients = crate::tunables::MAXCLIENTS.get().max(1) as u64;
    let reserved = reserved_fds(nshards);
    let want = maxclients.saturating_add(reserved);
    let (before, _) = nofile();
    let (got, err) = raise_nofile_to(want);
    if got >= want {
        if got > before {
            tracing::info!(
                "Increased maximum number of open files to {got} (it was originally set to {before})."
            );
        }
        return Ok(got);
    }
    if got <= reserved {
        return Err(format!(
            "Your current 'ulimit -n' of {got} is not enough for the server to start. Please \
             increase your open file limit to at least {}. Exiting.",
            reserved + 1
        ));
    }
    let fit = got - reserved;
    crate::tunables::MAXCLIENTS.set(fit as i64);
    tracing::warn!(
        "You requested maxclients of {maxclients} requiring at least {want} max file descriptors."
    );
    tracing::warn!(
        "Server can't set maximum open files to {want} because of OS error: {}.",
        err.map(|e| e.to_string())
            .unwrap_or_else(|| "limit too low".into())
    );
    tracing::warn!(
        "Current maximum open files is {got}. maxclients has been reduced to {fit} to compensate \
         for low ulimit. If you need higher maxclients increase 'ulimit -n'."
    );
    Ok(got)
}

/// CONFIG SET maxclients: raises the open-files limit for `requested` clients, or says how many
/// fit (Redis's "try with N").
pub fn fit_maxclients(requested: i64, nshards: usize) -> Result<(), i64> {
    let reserved = reserved_fds(nshards);
    let want = (requested.max(1) as u64).saturating_add(reserved);
    let (got, _) = raise_nofile_to(want);
    if got >= want {
        Ok(())
    } else {
        Err(got.saturating_sub(reserved) as i64)
    }
}

/// The CPUs shard executors are pinned to, in order: `server_cpulist` if set (each must be one
/// this process may run on), else every allowed CPU.
pub fn shard_cpus(config: &Config, allowed: Vec<usize>) -> Result<Vec<usize>, String> {
    let Some(list) = &config.server_cpulist else {
        return Ok(allowed);
    };
    if let Some(c) = list
        .iter()
        .find(|c| !allowed.is_empty() && !allowed.contains(c))
    {
        return Err(format!(
            "server_cpulist names CPU {c}, which this process may not run on (allowed: {}); \
             fix server_cpulist or the process's CPU affinity",
            crate::config::format_cpulist(&allowed)
        ));
    }
    Ok(list.clone())
}

fn limit_text(v: u64) -> String {
    if v >= u64::MAX / 2 {
        "unlimited".into()
    } else if v >= 1024 && v.is_multiple_of(1024) {
        format!("{}KiB", v / 1024)
    } else {
        v.to_string()
    }
}

/// The start-up line with what the server got: shards and their CPUs, memlock, open files.
pub fn banner(
    config: &Config,
    nshards: usize,
    cpus: &[usize],
    pinned: bool,
    memlock: u64,
    nofile: u64,
) {
    let placement = if pinned {
        let used: Vec<usize> = (0..nshards).map(|i| cpus[i % cpus.len()]).collect();
        format!("pinned to CPUs {}", crate::config::format_cpulist(&used))
    } else {
        "unpinned".to_string()
    };
    tracing::info!(
        "Running mode={}, port={}, shards={nshards} ({placement}), memlock={}, \
         nofile={nofile} (maxclients {}), databases={}, dir={}",
        if config.cluster_config.is_empty() {
            "standalone"
        } else {
            "cluster"
        },
        config.port,
        limit_text(memlock),
        crate::tunables::MAXCLIENTS.get(),
        config.databases,
        config.dir.display()
    );
    if pinned && nshards > cpus.len() {
        tracing::warn!(
            "{nshards} shards on {} CPUs: some CPUs run several executors, which adds latency",
            cpus.len()
        );
    }
}

static PIDFILE: Mutex<Option<PathBuf>> = Mutex::new(None);
/// READY=1 went to systemd, so STOPPING=1 must follow (once).
static NOTIFIED: AtomicBool = AtomicBool::new(false);
static STOPPING_SENT: AtomicBool = AtomicBool::new(false);

/// Called once clients can connect: writes the pidfile and tells systemd (Type=notify) we are
/// ready, then tells it when shutdown starts.
pub fn ready(config: &Config, shared: &Arc<Shared>) {
    if !config.pidfile.is_empty() {
        let path = PathBuf::from(&config.pidfile);
        match std::fs::write(&path, format!("{}\n", std::process::id())) {
            Ok(()) => *PIDFILE.lock().unwrap_or_else(|e| e.into_inner()) = Some(path),
            Err(e) => tracing::warn!("Failed to write PID file {}: {e}", path.display()),
        }
    }
    if !matches!(config.supervised.as_str(), "auto" | "systemd") {
        return;
    }
    if sd_notify(&format!(
        "READY=1\nSTATUS=Ready to accept connections\nMAINPID={}\n",
        std::process::id()
    )) {
        NOTIFIED.store(true, Ordering::SeqCst);
        let shared = shared.clone();
        let _ = std::thread::Builder::new()
            .name("sd-notify".into())
            .spawn(move || {
                while !shared.is_stopping() {
                    std::thread::sleep(Duration::from_millis(50));
                }
                notify_stopping();
            });
    }
}

fn notify_stopping() {
    if NOTIFIED.load(Ordering::SeqCst) && !STOPPING_SENT.swap(true, Ordering::SeqCst) {
        sd_notify("STOPPING=1\nSTATUS=Shutting down\n");
    }
}

/// At exit: tells systemd we are stopping (if the watcher has not yet) and removes the pidfile
/// this process wrote.
pub fn exiting() {
    notify_stopping();
    if let Some(p) = PIDFILE.lock().unwrap_or_else(|e| e.into_inner()).take() {
        if let Err(e) = std::fs::remove_file(&p) {
            tracing::warn!("cannot remove PID file {}: {e}", p.display());
        }
    }
}

/// systemd's notification protocol: one datagram to $NOTIFY_SOCKET (a path, or an abstract
/// name when it starts with '@'). Returns whether it was sent.
pub fn sd_notify(msg: &str) -> bool {
    use std::os::unix::net::UnixDatagram;
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return false;
    };
    let Ok(sock) = UnixDatagram::unbound() else {
        return false;
    };
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|a| sock.send_to_addr(msg.as_bytes(), &a))
    } else {
        sock.send_to(msg.as_bytes(), &path)
    };
    if let Err(e) = &sent {
        tracing::warn!("cannot notify systemd ({}): {e}", path.to_string_lossy());
    }
    sent.is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn limits_read_well() {
        assert_eq!(super::limit_text(u64::MAX / 2), "unlimited");
        assert_eq!(super::limit_text(8 << 20), "8192KiB");
        assert_eq!(super::limit_text(1000), "1000");
    }
}
