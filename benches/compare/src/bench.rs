//! Running redis-benchmark (`--csv`, output to files in the temp dir) and reading its output.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One redis-benchmark run in progress; stdout and stderr go to `bench.out` / `bench.err`
/// in the temp dir.
pub struct BenchProcess {
    pub child: Child,
    out_path: PathBuf,
    err_path: PathBuf,
    killed_at: Option<Instant>,
}

impl BenchProcess {
    /// Spawns `prog args...`; the error is the message for the report.
    pub fn spawn(prog: &str, args: &[String], tmp: &Path) -> Result<BenchProcess, String> {
        let out_path = tmp.join("bench.out");
        let err_path = tmp.join("bench.err");
        let (Ok(out), Ok(err)) = (File::create(&out_path), File::create(&err_path)) else {
            return Err("cannot create output files in the temp dir".into());
        };
        let child = Command::new(prog)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| format!("cannot run {prog}: {e}"))?;
        Ok(BenchProcess {
            child,
            out_path,
            err_path,
            killed_at: None,
        })
    }

    /// Stops the run: SIGTERM by PID on the first call (returns true then), SIGKILL on a call
    /// more than 3 s later.
    pub fn terminate(&mut self) -> bool {
        match self.killed_at {
            None => {
                // SAFETY: kill(2) on our own child's PID.
                unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
                self.killed_at = Some(Instant::now());
                true
            }
            Some(k) => {
                if k.elapsed() > Duration::from_secs(3) {
                    let _ = self.child.kill();
                }
                false
            }
        }
    }

    /// What it printed: its CSV result lines and the other lines (warnings, errors).
    pub fn output(&self) -> BenchOutput {
        let stdout = fs::read_to_string(&self.out_path).unwrap_or_default();
        let stderr = fs::read_to_string(&self.err_path).unwrap_or_default();
        parse_output(&stdout, &stderr)
    }
}

/// One CSV result line of redis-benchmark: the test, its rps and latencies in ms.
#[derive(Clone, Debug, Default)]
pub struct TestLat {
    pub test: String,
    pub rps: f64,
    pub avg: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Clone, Debug, Default)]
pub struct BenchOutput {
    pub tests: Vec<TestLat>,
    /// The non-CSV lines, in order (duplicates kept).
    pub notes: Vec<String>,
}

pub fn parse_csv_line(l: &str) -> Vec<String> {
    l.trim()
        .trim_matches('"')
        .split("\",\"")
        .map(String::from)
        .collect()
}

pub fn parse_output(stdout: &str, stderr: &str) -> BenchOutput {
    let mut o = BenchOutput::default();
    for l in stdout.lines().chain(stderr.lines()) {
        // Progress lines are \r-separated; keep the last segment.
        let l = l.rsplit('\r').next().unwrap_or("").trim();
        if l.is_empty() || l.starts_with("\"test\"") {
            continue;
        }
        if l.starts_with('"') {
            let f = parse_csv_line(l);
            if f.len() >= 8 {
                let p = |i: usize| f[i].parse::<f64>().unwrap_or(f64::NAN);
                o.tests.push(TestLat {
                    test: f[0].clone(),
                    rps: p(1),
                    avg: p(2),
                    p50: p(4),
                    p95: p(5),
                    p99: p(6),
                    max: p(7),
                });
                continue;
            }
        }
        o.notes.push(l.to_string());
    }
    o
}
