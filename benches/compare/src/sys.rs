//! /proc readings (CPU time, RSS, threads, load), the machine's description and the date.

use std::fs;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// (utime + stime of the process, all its threads live and exited; cutime + cstime of its
/// reaped children, e.g. redis-server's BGSAVE fork), in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<(u64, u64)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state); utime/stime are fields 14/15, cutime/cstime 16/17.
    let g = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    Some((g(11)? + g(12)?, g(13)? + g(14)?))
}

/// [`cpu_ticks`] in seconds.
pub fn cpu_secs(pid: u32) -> Option<(f64, f64)> {
    let (own, children) = cpu_ticks(pid)?;
    let tck = clk_tck();
    Some((own as f64 / tck, children as f64 / tck))
}

/// CPU time of all threads of a process in ns (/proc/PID/task/*/schedstat, first field).
pub fn task_cpu_ns(pid: u32) -> Option<u64> {
    let mut sum = 0u64;
    let mut any = false;
    for t in fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        if let Ok(s) = fs::read_to_string(t.path().join("schedstat")) {
            if let Some(ns) = s
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
            {
                sum += ns;
                any = true;
            }
        }
    }
    any.then_some(sum)
}

pub fn rss_kb(pid: u32) -> Option<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn threads(pid: u32) -> Option<usize> {
    Some(fs::read_dir(format!("/proc/{pid}/task")).ok()?.count())
}

pub fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// A command's trimmed stdout, if it ran and succeeded.
pub fn cmd_output(prog: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `prog --version`, or "?".
pub fn version(prog: &str) -> String {
    cmd_output(prog, &["--version"]).unwrap_or_else(|| "?".into())
}

/// What both reports say about the machine.
pub struct Host {
    /// `nproc`'s answer, if it gave a number.
    pub nproc: Option<usize>,
    pub cpu_model: String,
    pub kernel: String,
    pub mem_total: String,
}

pub fn host() -> Host {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let nproc = cmd_output("nproc", &[]).and_then(|s| s.parse().ok());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    let mem_total = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with("MemTotal:"))?.to_string();
            let kb: f64 = l.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        })
        .unwrap_or_else(|| "?".into());
    Host {
        nproc,
        cpu_model,
        kernel,
        mem_total,
    }
}

/// (year, month, day, hour, minute, second) in UTC.
pub fn utc_now() -> (i64, u32, u32, u32, u32, u32) {
    let secs = unix_now();
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (
        y,
        m,
        d,
        (sod / 3600) as u32,
        (sod % 3600 / 60) as u32,
        (sod % 60) as u32,
    )
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The run's date for file names (`2026-11-28T081843Z`) and for the report
/// (`2026-11-28 08:18 UTC`).
pub fn run_dates() -> (String, String) {
    let (y, mo, d, h, mi, s) = utc_now();
    (
        format!("{y:04}-{mo:02}-{d:02}T{h:02}{mi:02}{s:02}Z"),
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02} UTC"),
    )
}
