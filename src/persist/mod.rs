//! Snapshots: SAVE/BGSAVE write one RDB file per shard plus a manifest; start-up loads them.
//!
//! # Files
//! In `--dir`, with `stem` = `--dbfilename` without its `.rdb` suffix (default `dump`):
//! - `<stem>-<i>-of-<n>.<id>.rdb`: shard `i`'s keys, a plain Redis 7.0 RDB file (version 10) that
//!   `redis-check-rdb` accepts and `redis-server` loads. AUX fields carry the snapshot id and
//!   the shard index and count.
//! - `<stem>.manifest`: names the current snapshot — id, time, shard count, and each file's
//!   name, size, CRC-64 and key count — and ends with its own checksum.
//!
//! # Never a half-written or mixed snapshot
//! Every file is written as `<name>.tmp`, fsync'd and renamed. Shard files carry the snapshot id
//! in their names, so a new snapshot never overwrites the files of the one on disk; the manifest
//! is renamed over the old one last (then the directory is fsync'd), and only then are the old
//! snapshot's files deleted. A crash at any point leaves the previous manifest and its files
//! intact; start-up removes leftover `.tmp` files and files no manifest names.
//!
//! # Point in time, across shards
//! A save first pauses client commands on every shard and waits until no forwarded command is in
//! flight (so every acknowledged write is in, and none after), then every shard starts its
//! snapshot at that same cut. SAVE writes while paused; BGSAVE resumes clients at once and each
//! shard writes in bounded slices between serving them, copy-before-write keeping its view
//! (see `Keyspace::snapshot_begin`).

pub mod sink;

use crate::config::Config;
use crate::keyspace::{Keyspace, SmallBytes, Value};
use crate::rdb;
use crate::shard::{now_ms, shard_of, Core, Ctrl, ShardStats};
use sink::RdbSink;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

/// Redis's default save points when no configuration says otherwise.
pub const DEFAULT_SAVE: &str = "3600 1 300 100 60 10000";
/// Redis's `CONFIG_BGSAVE_RETRY_DELAY`: after a failed BGSAVE, save points wait this long (s).
const BGSAVE_RETRY_DELAY: i64 = 5;
/// Bytes a background snapshot encodes per slice before it lets clients run again.
const BG_SLICE_BYTES: usize = 256 * 1024;
/// Bytes a foreground snapshot encodes between writes.
const FG_CHUNK_BYTES: usize = 1 << 20;

/// The file names of snapshots, derived from `--dir` and `--dbfilename`.
#[derive(Clone, Debug)]
pub struct Paths {
    pub dir: PathBuf,
    pub dbfilename: String,
    stem: String,
}

impl Paths {
    pub fn new(dir: &Path, dbfilename: &str) -> Paths {
        Paths {
            dir: dir.to_path_buf(),
            dbfilename: dbfilename.to_string(),
            stem: dbfilename
                .strip_suffix(".rdb")
                .unwrap_or(dbfilename)
                .to_string(),
        }
    }

    pub fn from_config(c: &Config) -> Paths {
        Paths::new(&c.dir, &c.dbfilename)
    }

    pub fn manifest(&self) -> PathBuf {
        self.dir.join(format!("{}.manifest", self.stem))
    }

    /// A single Redis-style dump (`dump.rdb`), loaded when there is no manifest.
    pub fn plain(&self) -> PathBuf {
        self.dir.join(&self.dbfilename)
    }

    pub fn shard_file(&self, shard: usize, nshards: usize, id: &str) -> String {
        format!("{}-{shard}-of-{nshards}.{id}.rdb", self.stem)
    }

    /// Whether `name` is one of our shard files (or its `.tmp`), for clean-up.
    fn is_shard_file(&self, name: &str) -> bool {
        let name = name.strip_suffix(".tmp").unwrap_or(name);
        let Some(rest) = name
            .strip_prefix(self.stem.as_str())
            .and_then(|r| r.strip_prefix('-'))
            .and_then(|r| r.strip_suffix(".rdb"))
        else {
            return false;
        };
        let Some((shards, id)) = rest.split_once('.') else {
            return false;
        };
        let Some((i, n)) = shards.split_once("-of-") else {
            return false;
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        digits(i) && digits(n) && id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit())
    }
}

/// What the manifest says about one shard file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestFile {
    pub name: String,
    pub size: u64,
    pub crc: u64,
    pub keys: u64,
}

/// The manifest: which files make up the snapshot on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub id: String,
    pub created_ms: i64,
    pub files: Vec<ManifestFile>,
}

const MANIFEST_MAGIC: &str = "redis-lite-manifest 1";

impl Manifest {
    pub fn render(&self) -> String {
        let mut s = format!(
            "{MANIFEST_MAGIC}\nid {}\ncreated_ms {}\nshards {}\n",
            self.id,
            self.created_ms,
            self.files.len()
        );
        for (i, f) in self.files.iter().enumerate() {
            s.push_str(&format!(
                "file {i} {} {} {:016x} {}\n",
                f.name, f.size, f.crc, f.keys
            ));
        }
        let crc = rdb::crc64(0, s.as_bytes());
        s.push_str(&format!("checksum {crc:016x}\n"));
        s
    }

    /// Parses a manifest; the error names the line and what is wrong with it.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let body_end = text
            .rfind("checksum ")
            .ok_or("no checksum line (truncated?)")?;
        let (body, tail) = text.split_at(body_end);
        let want = tail
            .trim_end()
            .strip_prefix("checksum ")
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .ok_or("malformed checksum line")?;
        let got = rdb::crc64(0, body.as_bytes());
        if got != want {
            return Err(format!(
                "checksum mismatch: file says {want:016x}, computed {got:016x}"
            ));
        }
        let mut lines = body.lines().enumerate();
        let mut next = |what: &str| -> Result<(usize, Vec<String>), String> {
            let (n, l) = lines.next().ok_or_else(|| format!("missing {what} line"))?;
            Ok((n + 1, l.split(' ').map(str::to_string).collect()))
        };
        let (n, magic) = next("header")?;
        if magic.join(" ") != MANIFEST_MAGIC {
            return Err(format!("line {n}: not a redis-lite manifest"));
        }
        let field = |v: (usize, Vec<String>), name: &str| -> Result<String, String> {
            match v.1.as_slice() {
                [k, val] if k == name => Ok(val.clone()),
                _ => Err(format!("line {}: expected `{name} <value>`", v.0)),
            }
        };
        let id = field(next("id")?, "id")?;
        let created_ms = field(next("created_ms")?, "created_ms")?
            .parse()
            .map_err(|_| "bad created_ms".to_string())?;
        let shards: usize = field(next("shards")?, "shards")?
            .parse()
            .map_err(|_| "bad shard count".to_string())?;
        if shards == 0 || shards > 1024 {
            return Err(format!("bad shard count {shards}"));
        }
        let mut files = Vec::with_capacity(shards);
        for i in 0..shards {
            let (n, v) = next("file")?;
            let bad = || format!("line {n}: expected `file {i} <name> <size> <crc64> <keys>`");
            if v.len() != 6 || v[0] != "file" || v[1] != i.to_string() {
                return Err(bad());
            }
            if v[2].contains('/') || v[2].starts_with('.') {
                return Err(format!("line {n}: file name must be a plain name"));
            }
            files.push(ManifestFile {
                name: v[2].clone(),
                size: v[3].parse().map_err(|_| bad())?,
                crc: u64::from_str_radix(&v[4], 16).map_err(|_| bad())?,
                keys: v[5].parse().map_err(|_| bad())?,
            });
        }
        if let Ok((n, _)) = next("") {
            return Err(format!("line {n}: unexpected extra line"));
        }
        Ok(Manifest {
            id,
            created_ms,
            files,
        })
    }
}

/// Save points, status and history: everything SAVE/BGSAVE, LASTSAVE and INFO persistence need.
#[derive(Debug)]
pub struct PersistState {
    pub paths: Paths,
    /// `save` points: (seconds, changes).
    pub save_params: Vec<(i64, i64)>,
    pub compress: bool,
    /// A save in progress: whether in the background, and since when.
    pub running: Option<(bool, Instant)>,
    /// Unix seconds of the last successful save (start-up time until then, as Redis).
    pub lastsave: i64,
    pub last_bgsave_ok: bool,
    pub last_bgsave_secs: i64,
    /// Unix seconds of the last BGSAVE attempt.
    pub last_try: i64,
    pub saves: u64,
    /// Per shard: the change counter its last saved snapshot captured.
    pub dirty_saved: Vec<u64>,
    pub last_error: Option<String>,
    /// The snapshot on disk now.
    pub current: Option<Manifest>,
    pub loaded_keys: u64,
    pub loaded_expired: u64,
    /// How long the last save held client commands (its cut; all of a SAVE), in µs.
    pub last_pause_us: u64,
}

impl PersistState {
    pub fn new(config: &Config, nshards: usize, start_unix: i64) -> PersistState {
        PersistState {
            paths: Paths::from_config(config),
            save_params: parse_save_params(&config.save).unwrap_or_default(),
            compress: config.rdbcompression,
            running: None,
            lastsave: start_unix,
            last_bgsave_ok: true,
            last_bgsave_secs: -1,
            last_try: 0,
            saves: 0,
            dirty_saved: vec![0; nshards],
            last_error: None,
            current: None,
            loaded_keys: 0,
            loaded_expired: 0,
            last_pause_us: 0,
        }
    }

    /// The last background save failed while save points are set (Redis's condition for MISCONF;
    /// `stop-writes-on-bgsave-error` is checked by the caller).
    pub fn disk_error(&self) -> bool {
        !self.save_params.is_empty() && !self.last_bgsave_ok
    }

    /// The `save` parameter as CONFIG GET shows it.
    pub fn save_string(&self) -> String {
        self.save_params
            .iter()
            .map(|(s, c)| format!("{s} {c}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Changes since the last successful save, given each shard's counter now.
    pub fn changes_since_save(&self, dirty: &[u64]) -> u64 {
        dirty
            .iter()
            .zip(&self.dirty_saved)
            .map(|(d, s)| d.saturating_sub(*s))
            .sum()
    }
}

/// Parses `save` as Redis does: `""` for none, else pairs of seconds (≥ 1) and changes (≥ 0).
pub fn parse_save_params(s: &str) -> Result<Vec<(i64, i64)>, String> {
    let args: Vec<&str> = s.split_ascii_whitespace().collect();
    if args.len() % 2 == 1 {
        return Err("Invalid save parameters".into());
    }
    let mut out = Vec::new();
    for pair in args.chunks(2) {
        let secs: i64 = pair[0].parse().map_err(|_| "Invalid save parameters")?;
        let changes: i64 = pair[1].parse().map_err(|_| "Invalid save parameters")?;
        if secs < 1 || changes < 0 {
            return Err("Invalid save parameters".into());
        }
        out.push((secs, changes));
    }
    Ok(out)
}

/// One shard's part of a snapshot.
#[derive(Clone, Debug)]
pub struct SnapJob {
    pub id: String,
    pub nshards: usize,
    pub dir: PathBuf,
    pub name: String,
    pub background: bool,
    pub compress: bool,
}

/// What a shard wrote.
#[derive(Clone, Debug)]
pub struct ShardFile {
    pub size: u64,
    pub crc: u64,
    pub keys: u64,
    /// The shard's change counter at the snapshot's cut.
    pub dirty: u64,
    /// Entries saved ahead of the scan because a write reached them first (BGSAVE).
    pub early: u64,
}

/// Why a save did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum SaveError {
    /// Another SAVE/BGSAVE is running.
    InProgress,
    /// The save ran and failed; the previous snapshot is untouched.
    Failed(String),
}

impl SaveError {
    /// The error reply, as Redis words it where Redis has words for it.
    pub fn reply_text(&self) -> String {
        match self {
            SaveError::InProgress => "ERR Background save already in progress".into(),
            SaveError::Failed(why) => format!("ERR {why}"),
        }
    }
}

fn snapshot_id() -> String {
    let mut rng = fastrand::Rng::with_seed(
        (now_ms() as u64) ^ (std::process::id() as u64).rotate_left(32) ^ fastrand::u64(..),
    );
    format!("{:016x}", rng.u64(..))
}

/// Pauses client commands on every shard and waits until no forwarded command is in flight.
pub async fn pause_all(core: &Rc<Core>) {
    let mut waits = Vec::new();
    for shard in 0..core.nshards {
        if shard != core.id {
            let (tx, rx) = futures_channel::oneshot::channel();
            if core.send_ctrl(shard, Ctrl::Pause(tx)).await {
                waits.push(rx);
            }
        }
    }
    core.pause().await;
    for rx in waits {
        let _ = rx.await;
    }
}

pub async fn resume_all(core: &Rc<Core>) {
    for shard in 0..core.nshards {
        if shard != core.id {
            core.send_ctrl(shard, Ctrl::Resume).await;
        }
    }
    core.resume();
}

/// Every shard's counters, in shard order.
pub async fn gather_stats(core: &Rc<Core>) -> Vec<ShardStats> {
    let mut waits = Vec::new();
    for shard in 0..core.nshards {
        if shard != core.id {
            let (tx, rx) = futures_channel::oneshot::channel();
            core.send_ctrl(shard, Ctrl::Stats(tx)).await;
            waits.push((shard, Some(rx)));
        } else {
            waits.push((shard, None));
        }
    }
    let mut out = Vec::with_capacity(core.nshards);
    for (_, rx) in waits {
        out.push(match rx {
            None => core.stats(),
            Some(rx) => rx.await.unwrap_or_default(),
        });
    }
    out
}

/// SAVE (`background = false`: returns when the snapshot is on disk) or BGSAVE (returns once
/// every shard has taken its cut; the files are written and committed by a background task).
pub async fn save(core: &Rc<Core>, background: bool) -> Result<(), SaveError> {
    let (paths, compress) = {
        let mut st = core.shared.persist();
        if st.running.is_some() {
            return Err(SaveError::InProgress);
        }
        st.running = Some((background, Instant::now()));
        if background {
            st.last_try = now_ms() / 1000;
        }
        (st.paths.clone(), st.compress)
    };
    let id = snapshot_id();
    let n = core.nshards;
    let jobs: Vec<SnapJob> = (0..n)
        .map(|i| SnapJob {
            id: id.clone(),
            nshards: n,
            dir: paths.dir.clone(),
            name: paths.shard_file(i, n, &id),
            background,
            compress,
        })
        .collect();

    let paused_at = Instant::now();
    pause_all(core).await;
    // No transaction may be half-way through its shards at the cut: take every shard's lock
    // (ascending, like a transaction) until each shard has begun its snapshot.
    let all: Vec<usize> = (0..n).collect();
    let locks = crate::tx::Locks::acquire(core, &all).await;
    let mut waits = Vec::with_capacity(n);
    for (shard, job) in jobs.iter().enumerate() {
        let (tx, rx) = futures_channel::oneshot::channel();
        if shard == core.id {
            // Ours last, so the other shards' foreground writes run in parallel with it.
            waits.push((shard, rx, Some((job.clone(), tx))));
            continue;
        }
        let msg = Ctrl::Snapshot {
            job: job.clone(),
            reply: tx,
        };
        // If the shard is gone, its reply is cancelled and the save fails below.
        core.send_ctrl(shard, msg).await;
        waits.push((shard, rx, None));
    }
    for (_, _, own) in waits.iter_mut() {
        if let Some((job, tx)) = own.take() {
            start_shard_snapshot(core, job, tx);
        }
    }
    // Every shard has taken its cut once it handles the snapshot message, which comes before
    // the unlock on the same control channel.
    drop(locks);
    // Background snapshots have all taken their cut once the messages are handled (each shard
    // begins synchronously on receipt, and the resume arrives after it on the same channel).
    if background {
        resume_all(core).await;
        core.shared.persist().last_pause_us = paused_at.elapsed().as_micros() as u64;
        let core2 = core.clone();
        glommio::spawn_local(crate::shard::critical("bgsave", async move {
            let res = finish_save(&core2, &paths, &id, waits).await;
            report(&core2, true, &res);
        }))
        .detach();
        Ok(())
    } else {
        let res = finish_save(core, &paths, &id, waits).await;
        resume_all(core).await;
        core.shared.persist().last_pause_us = paused_at.elapsed().as_micros() as u64;
        report(core, false, &res);
        res.map_err(SaveError::Failed)
    }
}

type ShardWait = (
    usize,
    futures_channel::oneshot::Receiver<Result<ShardFile, String>>,
    Option<(
        SnapJob,
        futures_channel::oneshot::Sender<Result<ShardFile, String>>,
    )>,
);

/// Waits for every shard's file, then commits the manifest (or removes the new files).
async fn finish_save(
    core: &Rc<Core>,
    paths: &Paths,
    id: &str,
    waits: Vec<ShardWait>,
) -> Result<(), String> {
    let n = core.nshards;
    let mut results = Vec::with_capacity(n);
    for (shard, rx, _) in waits {
        results.push(
            rx.await
                .unwrap_or_else(|_| Err(format!("shard {shard} did not answer"))),
        );
    }
    let names: Vec<String> = (0..n).map(|i| paths.shard_file(i, n, id)).collect();
    let failed = results.iter().find_map(|r| r.as_ref().err().cloned());
    if let Some(why) = failed {
        // Shards remove their own .tmp; remove what the successful ones renamed.
        remove_files(&paths.dir, names).await;
        return Err(why);
    }
    let files: Vec<ShardFile> = results.into_iter().map(|r| r.unwrap()).collect();
    let manifest = Manifest {
        id: id.to_string(),
        created_ms: now_ms(),
        files: names
            .iter()
            .zip(&files)
            .map(|(name, f)| ManifestFile {
                name: name.clone(),
                size: f.size,
                crc: f.crc,
                keys: f.keys,
            })
            .collect(),
    };
    let old = core.shared.persist().current.clone();
    let path = paths.manifest();
    let m2 = manifest.clone();
    let committed = glommio::executor()
        .spawn_blocking(move || commit_manifest(&path, &m2, old.as_ref()))
        .await;
    if let Err(e) = committed {
        remove_files(&paths.dir, names).await;
        return Err(e);
    }
    let mut st = core.shared.persist();
    for (i, f) in files.iter().enumerate() {
        st.dirty_saved[i] = f.dirty;
    }
    st.current = Some(manifest);
    Ok(())
}

/// Deletes the files of a snapshot that will not be committed, off the executor thread.
async fn remove_files(dir: &Path, names: Vec<String>) {
    let dir = dir.to_path_buf();
    glommio::executor()
        .spawn_blocking(move || {
            for name in names {
                let _ = std::fs::remove_file(dir.join(name));
            }
        })
        .await;
}

/// Writes the manifest (tmp, fsync, rename, fsync dir), then deletes the old snapshot's files.
fn commit_manifest(path: &Path, m: &Manifest, old: Option<&Manifest>) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("manifest.tmp");
    let res = (|| -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(m.render().as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    if let Some(old) = old {
        for f in &old.files {
            if !m.files.iter().any(|n| n.name == f.name) {
                let _ = std::fs::remove_file(dir.join(&f.name));
            }
        }
    }
    Ok(())
}

/// Records a finished save in the shared state and the log.
fn report(core: &Rc<Core>, background: bool, res: &Result<(), String>) {
    let mut st = core.shared.persist();
    let started = st.running.take().map(|(_, t)| t);
    let secs = started.map_or(0, |t| t.elapsed().as_secs() as i64);
    match res {
        Ok(()) => {
            st.lastsave = now_ms() / 1000;
            st.saves += 1;
            st.last_error = None;
            // A good SAVE clears a failed BGSAVE's status too, as Redis's rdbSave does.
            st.last_bgsave_ok = true;
            if background {
                st.last_bgsave_secs = secs;
            }
            let keys: u64 = st
                .current
                .as_ref()
                .map_or(0, |m| m.files.iter().map(|f| f.keys).sum());
            tracing::info!(
                "{} saved: {} keys in {} shard files, {} ms (clients held {} us)",
                if background { "Background" } else { "DB" },
                keys,
                core.nshards,
                started.map_or(0, |t| t.elapsed().as_millis()),
                st.last_pause_us
            );
        }
        Err(e) => {
            if background {
                st.last_bgsave_ok = false;
                st.last_bgsave_secs = secs;
            }
            st.last_error = Some(e.clone());
            tracing::warn!(
                "{} failed: {e}",
                if background {
                    "Background saving"
                } else {
                    "SAVE"
                }
            );
        }
    }
    core.shared.sync_disk_error(&st);
}

/// Handles a snapshot job on this shard: a foreground one runs to completion now (clients are
/// paused); a background one takes its cut now and writes from a task.
pub fn start_shard_snapshot(
    core: &Rc<Core>,
    job: SnapJob,
    reply: futures_channel::oneshot::Sender<Result<ShardFile, String>>,
) {
    if !job.background {
        let _ = reply.send(write_foreground(core, &job));
        return;
    }
    let dirty = {
        let mut ks = core.ks.borrow_mut();
        if ks.snapshot_active() {
            let _ = reply.send(Err("a snapshot is already being written".into()));
            return;
        }
        let used = 0;
        ks.snapshot_begin(Box::new(RdbSink::new(
            &job.id,
            core.id,
            job.nshards,
            job.compress,
            used,
        )));
        ks.dirty()
    };
    let core = core.clone();
    glommio::spawn_local(crate::shard::critical("bgsave writer", async move {
        let res = write_background(&core, &job, dirty).await;
        if res.is_err() {
            core.ks.borrow_mut().snapshot_end();
        }
        let _ = reply.send(res);
    }))
    .detach();
}

fn io_err(path: &Path, e: std::io::Error) -> String {
    format!("cannot write {}: {e}", path.display())
}

/// Writes this shard's whole snapshot now, blocking the executor (clients are paused anyway).
fn write_foreground(core: &Core, job: &SnapJob) -> Result<ShardFile, String> {
    let fin = job.dir.join(&job.name);
    let tmp = job.dir.join(format!("{}.tmp", job.name));
    let mut ks = core.ks.borrow_mut();
    if ks.snapshot_active() {
        return Err("a background save is writing this shard".into());
    }
    let dirty = ks.dirty();
    let mut file = match File::create(&tmp) {
        Ok(f) => f,
        Err(e) => return Err(io_err(&tmp, e)),
    };
    ks.snapshot_begin(Box::new(RdbSink::new(
        &job.id,
        core.id,
        job.nshards,
        job.compress,
        0,
    )));
    let (mut crc, mut size) = (0u64, 0u64);
    let res = loop {
        let done = ks.snapshot_step(FG_CHUNK_BYTES);
        let buf = ks.snapshot_output().expect("snapshot running");
        if done {
            rdb::write_eof(buf);
        }
        crc = rdb::crc64(crc, buf);
        if done {
            buf.extend_from_slice(&crc.to_le_bytes());
        }
        size += buf.len() as u64;
        let w = file.write_all(buf);
        buf.clear();
        if let Err(e) = w {
            break Err(io_err(&tmp, e));
        }
        if done {
            break Ok(());
        }
    };
    let sink = ks.snapshot_end();
    drop(ks);
    let res = res
        .and_then(|()| file.sync_all().map_err(|e| io_err(&tmp, e)))
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, &fin).map_err(|e| io_err(&fin, e))
        });
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(ShardFile {
        size,
        crc,
        keys: sink.map_or(0, |s| s.entries()),
        dirty,
        early: 0,
    })
}

/// Writes this shard's snapshot in slices: encode up to [`BG_SLICE_BYTES`], hand the bytes to
/// the blocking pool, serve clients meanwhile, repeat.
async fn write_background(core: &Rc<Core>, job: &SnapJob, dirty: u64) -> Result<ShardFile, String> {
    let fin = job.dir.join(&job.name);
    let tmp = job.dir.join(format!("{}.tmp", job.name));
    let ex = glommio::executor();
    let tmp2 = tmp.clone();
    let mut file = ex
        .spawn_blocking(move || File::create(&tmp2))
        .await
        .map_err(|e| io_err(&tmp, e))?;
    let (mut crc, mut size) = (0u64, 0u64);
    let mut spare: Vec<u8> = Vec::with_capacity(BG_SLICE_BYTES * 2);
    let (keys, early) = loop {
        let (done, mut chunk, counts) = {
            let mut ks = core.ks.borrow_mut();
            let done = ks.snapshot_step(BG_SLICE_BYTES);
            let out = ks.snapshot_output().expect("snapshot running");
            std::mem::swap(out, &mut spare);
            let mut chunk = std::mem::take(&mut spare);
            let counts = if done {
                let early = ks.snapshot_early();
                let keys = ks.snapshot_end().map_or(0, |s| s.entries());
                rdb::write_eof(&mut chunk);
                Some((keys, early))
            } else {
                None
            };
            (done, chunk, counts)
        };
        let tmp2 = tmp.clone();
        let (f, buf, res, c) = ex
            .spawn_blocking(move || {
                let c = rdb::crc64(crc, &chunk);
                if done {
                    chunk.extend_from_slice(&c.to_le_bytes());
                }
                let r = file.write_all(&chunk);
                let r = r.and_then(|()| if done { file.sync_all() } else { Ok(()) });
                (file, chunk, r.map_err(|e| io_err(&tmp2, e)), c)
            })
            .await;
        file = f;
        size += buf.len() as u64;
        crc = c;
        spare = buf;
        spare.clear();
        if let Err(e) = res {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        if done {
            break counts.unwrap_or((0, 0));
        }
    };
    let (tmp2, fin2) = (tmp.clone(), fin.clone());
    let renamed = ex
        .spawn_blocking(move || {
            drop(file);
            std::fs::rename(&tmp2, &fin2)
        })
        .await;
    if let Err(e) = renamed {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(&fin, e));
    }
    Ok(ShardFile {
        size,
        crc,
        keys,
        dirty,
        early,
    })
}

/// Handles one control message on this shard.
pub fn handle_ctrl(core: &Rc<Core>, msg: Ctrl) {
    match msg {
        Ctrl::Pause(reply) => {
            let core = core.clone();
            glommio::spawn_local(async move {
                core.pause().await;
                let _ = reply.send(());
            })
            .detach();
        }
        Ctrl::Resume => core.resume(),
        Ctrl::Snapshot { job, reply } => start_shard_snapshot(core, job, reply),
        Ctrl::Stats(reply) => {
            let _ = reply.send(core.stats());
        }
        Ctrl::Clients(query, reply) => {
            let _ = reply.send(crate::clients::answer(core, query));
        }
        Ctrl::Tx(msg) => crate::tx::handle(core, msg),
        Ctrl::Adopt(c) => {
            // Without a taker (shutting down) the connection's descriptor closes here.
            if let Some(tx) = core.adopt_tx.borrow().as_ref() {
                let _ = tx.unbounded_send(c);
            }
        }
    }
}

/// Serves control messages from every peer, one task each.
pub fn spawn_ctrl_loops(
    core: &Rc<Core>,
    mut receivers: glommio::channels::channel_mesh::Receivers<Ctrl>,
) {
    for (_peer, rx) in receivers.streams() {
        let core = core.clone();
        glommio::spawn_local(crate::shard::critical("control loop", async move {
            while let Some(msg) = rx.recv().await {
                handle_ctrl(&core, msg);
            }
        }))
        .detach();
    }
}

/// Save points (Redis's serverCron check): on shard 0, once per `1/hz`, start a BGSAVE when
/// some `save <seconds> <changes>` point is reached.
pub fn spawn_save_cron(core: &Rc<Core>) {
    let core = core.clone();
    let hz = core.config.hz.clamp(1, 500);
    let period = std::time::Duration::from_micros(1_000_000 / hz as u64);
    glommio::spawn_local(crate::shard::critical("save cron", async move {
        loop {
            glommio::timer::sleep(period).await;
            if core.shared.is_stopping() {
                return;
            }
            let (params, lastsave, last_try, ok, running) = {
                let st = core.shared.persist();
                (
                    st.save_params.clone(),
                    st.lastsave,
                    st.last_try,
                    st.last_bgsave_ok,
                    st.running.is_some(),
                )
            };
            if params.is_empty() || running {
                continue;
            }
            let dirty: Vec<u64> = gather_stats(&core).await.iter().map(|s| s.dirty).collect();
            let changes = core.shared.persist().changes_since_save(&dirty) as i64;
            let now = now_ms() / 1000;
            if let Some((secs, ch)) = params.iter().find(|(secs, ch)| {
                changes >= *ch
                    && now - lastsave > *secs
                    && (now - last_try > BGSAVE_RETRY_DELAY || ok)
            }) {
                tracing::info!("{ch} changes in {secs} seconds. Saving...");
                if let Err(e) = save(&core, true).await {
                    tracing::warn!("scheduled save not started: {}", e.reply_text());
                }
            }
        }
    }))
    .detach();
}

/// Waits for a running BGSAVE to finish (shutdown saves after it, never alongside).
pub async fn wait_idle(core: &Rc<Core>) {
    while core.shared.persist().running.is_some() {
        glommio::timer::sleep(std::time::Duration::from_millis(5)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Start-up load

/// What start-up found on disk.
pub struct Loaded {
    pub keyspaces: Vec<Keyspace>,
    pub keys: u64,
    pub expired: u64,
    pub manifest: Option<Manifest>,
    /// What was loaded, for the log ("nothing", a manifest, a dump file).
    pub source: String,
    pub millis: u128,
}

/// One key on its way to its owner.
pub(crate) type Moved = (u16, Vec<u8>, Value, Option<i64>);

/// Loads the snapshot in `--dir` (the manifest's files, or else a Redis `dump.rdb`) into one
/// keyspace per shard, re-routing every key with [`shard_of`] so a different shard count is fine.
/// Any problem is an error naming the file, the offset and what is wrong: never start empty over
/// a user's data.
pub fn load(config: &Config, nshards: usize) -> Result<Loaded, String> {
    let t0 = Instant::now();
    let paths = Paths::from_config(config);
    remove_leftovers(&paths);
    let mpath = paths.manifest();
    let (files, manifest, source): (Vec<(PathBuf, Option<ManifestFile>)>, _, _) =
        match std::fs::read(&mpath) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("{}: not a text file", mpath.display()))?;
                let m = Manifest::parse(&text).map_err(|e| format!("{}: {e}", mpath.display()))?;
                let files = m
                    .files
                    .iter()
                    .map(|f| (paths.dir.join(&f.name), Some(f.clone())))
                    .collect();
                let source = format!("snapshot {} ({} shard files)", m.id, m.files.len());
                (files, Some(m), source)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let plain = paths.plain();
                if plain.exists() {
                    let s = plain.display().to_string();
                    (vec![(plain, None)], None, s)
                } else {
                    (Vec::new(), None, "nothing".to_string())
                }
            }
            Err(e) => return Err(format!("cannot read {}: {e}", mpath.display())),
        };
    let databases = config.databases;
    let now = now_ms();
    let id = manifest.as_ref().map(|m| m.id.clone());
    let nfiles = files.len();

    // Phase 1: builder b parses the files with index ≡ b (mod nshards), keeps its own keys and
    // sets the others aside for their owners. Phase 2: each owner takes what was set aside.
    type Built = Result<(Keyspace, Vec<Vec<Moved>>, u64, u64), String>;
    let built: Vec<Built> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..nshards)
            .map(|b| {
                let files = &files;
                let id = id.as_deref();
                s.spawn(move || -> Built {
                    let mut ks = Keyspace::new(databases);
                    let mut away: Vec<Vec<Moved>> = (0..nshards).map(|_| Vec::new()).collect();
                    let (mut keys, mut expired) = (0, 0);
                    for (j, (path, mf)) in files.iter().enumerate() {
                        if j % nshards != b {
                            continue;
                        }
                        let (k, e) = load_file(
                            path,
                            mf.as_ref(),
                            id.map(|id| (id, j, nfiles)),
                            b,
                            nshards,
                            databases,
                            now,
                            &mut ks,
                            &mut away,
                        )?;
                        keys += k;
                        expired += e;
                    }
                    Ok((ks, away, keys, expired))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("loader thread panicked".into()))
            })
            .collect()
    });
    let mut keyspaces = Vec::with_capacity(nshards);
    let mut aways = Vec::with_capacity(nshards);
    let (mut keys, mut expired) = (0, 0);
    for b in built {
        let (ks, away, k, e) = b?;
        keyspaces.push(ks);
        aways.push(away);
        keys += k;
        expired += e;
    }
    let mut inboxes: Vec<Vec<Vec<Moved>>> = (0..nshards).map(|_| Vec::new()).collect();
    for away in aways {
        for (dest, v) in away.into_iter().enumerate() {
            if !v.is_empty() {
                inboxes[dest].push(v);
            }
        }
    }
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = keyspaces
            .iter_mut()
            .zip(inboxes)
            .map(|(ks, inbox)| {
                s.spawn(move || {
                    for v in inbox {
                        for (db, key, val, exp) in v {
                            if !ks.load_insert(db as usize, &key, val, exp) {
                                return Err(duplicate_key(&key, db as u64));
                            }
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("loader thread panicked".into()))
            })
            .collect()
    });
    for r in results {
        r?;
    }
    if let Some(m) = &manifest {
        remove_strays(&paths, m);
    }
    Ok(Loaded {
        keyspaces,
        keys,
        expired,
        manifest,
        source,
        millis: t0.elapsed().as_millis(),
    })
}

/// Parses one file into `ks` (keys this builder owns) and `away` (everyone else's).
#[allow(clippy::too_many_arguments)]
fn load_file(
    path: &Path,
    mf: Option<&ManifestFile>,
    snapshot: Option<(&str, usize, usize)>,
    me: usize,
    nshards: usize,
    databases: usize,
    now: i64,
    ks: &mut Keyspace,
    away: &mut [Vec<Moved>],
) -> Result<(u64, u64), String> {
    let name = path.display().to_string();
    let data = std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    load_bytes(
        &name, &data, mf, snapshot, me, nshards, databases, now, ks, away,
    )
}

/// [`load_file`] on bytes already in memory (`name` only labels errors). Separate so the
/// snapshot-loader fuzz target (`crate::fuzzing`) runs the real loader without touching disk.
#[allow(clippy::too_many_arguments)]
pub(crate) fn load_bytes(
    name: &str,
    data: &[u8],
    mf: Option<&ManifestFile>,
    snapshot: Option<(&str, usize, usize)>,
    me: usize,
    nshards: usize,
    databases: usize,
    now: i64,
    ks: &mut Keyspace,
    away: &mut [Vec<Moved>],
) -> Result<(u64, u64), String> {
    if let Some(mf) = mf {
        if data.len() as u64 != mf.size {
            return Err(format!(
                "{name}: offset {}: file is {} bytes but the manifest says {} (truncated or \
                 replaced)",
                data.len().min(mf.size as usize),
                data.len(),
                mf.size
            ));
        }
        if data.len() >= 8 {
            let stored = u64::from_le_bytes(data[data.len() - 8..].try_into().unwrap());
            if stored != mf.crc {
                return Err(format!(
                    "{name}: offset {}: checksum {stored:016x} does not match the manifest's \
                     {:016x}",
                    data.len() - 8,
                    mf.crc
                ));
            }
        }
    }
    let err = |off: u64, msg: String| format!("{name}: offset {off}: {msg}");
    let mut r = rdb::Reader::new(data).map_err(|e| err(e.offset, e.msg))?;
    let (mut keys, mut expired) = (0u64, 0u64);
    let mut seen_id = false;
    let mut cur_db = 0usize;
    // With the saving server's shard count, a file's size hints are exactly this shard's share.
    let same_sharding = snapshot.is_some_and(|(_, _, n)| n == nshards);
    loop {
        let at = r.offset();
        let rec = match r.next() {
            Ok(Some(rec)) => rec,
            Ok(None) => break,
            Err(e) => return Err(err(e.offset, e.msg)),
        };
        match rec {
            rdb::Record::Aux { key, val } => {
                if let Some((id, shard, n)) = snapshot {
                    let val = String::from_utf8_lossy(&val);
                    let want = match &key[..] {
                        sink::AUX_SNAPSHOT => {
                            seen_id = true;
                            id.to_string()
                        }
                        sink::AUX_SHARD => shard.to_string(),
                        sink::AUX_SHARDS => n.to_string(),
                        _ => continue,
                    };
                    if val != want {
                        return Err(err(
                            at,
                            format!(
                                "{} is {val} but the manifest says {want} (files of different \
                                 snapshots)",
                                String::from_utf8_lossy(&key)
                            ),
                        ));
                    }
                }
            }
            rdb::Record::SelectDb(db) => {
                if db as usize >= databases {
                    return Err(err(
                        at,
                        format!("database {db} but the server has {databases} (raise --databases)"),
                    ));
                }
                cur_db = db as usize;
            }
            rdb::Record::ResizeDb { db_size, .. } => {
                if same_sharding || nshards == 1 {
                    // A hint, capped so a hostile file cannot make us allocate much up front.
                    let cap = (data.len() / 8).min(db_size as usize);
                    ks.reserve(cur_db, cap);
                }
            }
            rdb::Record::Key {
                db,
                key,
                expire_ms,
                value,
            } => {
                if db as usize >= databases {
                    return Err(err(
                        at,
                        format!("database {db} but the server has {databases} (raise --databases)"),
                    ));
                }
                if matches!(expire_ms, Some(w) if w < now) {
                    expired += 1;
                    continue;
                }
                let val = match value {
                    rdb::RdbValue::Str(b) => Value::string(&b),
                    rdb::RdbValue::Int(v) => Value::int(v),
                    rdb::RdbValue::List(items) => {
                        if items.is_empty() {
                            continue;
                        }
                        let l: crate::keyspace::List = items
                            .iter()
                            .map(|e| crate::keyspace::SmallBytes::new(e))
                            .collect();
                        Value::list(l)
                    }
                    rdb::RdbValue::Hash(pairs) => {
                        if pairs.is_empty() {
                            continue;
                        }
                        let mut h = crate::keyspace::Hash::with_capacity_and_hasher(
                            pairs.len(),
                            ahash::RandomState::new(),
                        );
                        for (f, v) in &pairs {
                            h.insert(SmallBytes::new(f), SmallBytes::new(v));
                        }
                        Value::hash(h)
                    }
                    rdb::RdbValue::Set(members) => {
                        if members.is_empty() {
                            continue;
                        }
                        let mut set = crate::keyspace::Set::with_capacity_and_hasher(
                            members.len(),
                            ahash::RandomState::new(),
                        );
                        for m in &members {
                            set.insert(SmallBytes::new(m));
                        }
                        Value::set(set)
                    }
                    rdb::RdbValue::ZSet(items) => {
                        if items.is_empty() {
                            continue;
                        }
                        let mut z = crate::keyspace::Zset::with_capacity(items.len());
                        for (m, score) in &items {
                            if z.insert(m, *score).is_some() {
                                return Err(err(
                                    at,
                                    format!(
                                        "sorted set {:?} holds member {:?} twice",
                                        String::from_utf8_lossy(&key),
                                        String::from_utf8_lossy(m)
                                    ),
                                ));
                            }
                        }
                        Value::zset(z)
                    }
                };
                keys += 1;
                let owner = shard_of(&key, nshards);
                if owner == me {
                    if !ks.load_insert(db as usize, &key, val, expire_ms) {
                        return Err(err(at, duplicate_key(&key, db)));
                    }
                } else {
                    away[owner].push((db as u16, key.into_owned(), val, expire_ms));
                }
            }
        }
    }
    if snapshot.is_some() && !seen_id {
        return Err(err(0, "no snapshot id: not a file of this snapshot".into()));
    }
    Ok((keys, expired))
}

fn duplicate_key(key: &[u8], db: u64) -> String {
    format!(
        "duplicate key {:?} in database {db}",
        String::from_utf8_lossy(key)
    )
}

/// Removes `.tmp` files a crash left behind.
fn remove_leftovers(paths: &Paths) {
    let Ok(rd) = std::fs::read_dir(&paths.dir) else {
        return;
    };
    let manifest_tmp = format!("{}.manifest.tmp", paths.stem);
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if (name.ends_with(".tmp") && paths.is_shard_file(&name)) || name == manifest_tmp {
            match std::fs::remove_file(e.path()) {
                Ok(()) => tracing::info!("removed leftover {}", e.path().display()),
                Err(err) => tracing::warn!("cannot remove {}: {err}", e.path().display()),
            }
        }
    }
}

/// Removes shard files the current manifest does not name (a crash between committing a new
/// manifest and deleting the old files, or an aborted save).
fn remove_strays(paths: &Paths, m: &Manifest) {
    let Ok(rd) = std::fs::read_dir(&paths.dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if paths.is_shard_file(&name) && !m.files.iter().any(|f| f.name == name) {
            match std::fs::remove_file(e.path()) {
                Ok(()) => tracing::info!("removed stale snapshot file {}", e.path().display()),
                Err(err) => tracing::warn!("cannot remove {}: {err}", e.path().display()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trip_and_damage() {
        let m = Manifest {
            id: "0123456789abcdef".into(),
            created_ms: 1_700_000_000_000,
            files: vec![
                ManifestFile {
                    name: "dump-0-of-2.0123456789abcdef.rdb".into(),
                    size: 100,
                    crc: 0xdead_beef,
                    keys: 3,
                },
                ManifestFile {
                    name: "dump-1-of-2.0123456789abcdef.rdb".into(),
                    size: 200,
                    crc: 1,
                    keys: 0,
                },
            ],
        };
        let text = m.render();
        assert_eq!(Manifest::parse(&text).unwrap(), m);
        let damaged = text.replace("size", "siz").replace(" 100 ", " 101 ");
        assert!(Manifest::parse(&damaged)
            .unwrap_err()
            .contains("checksum mismatch"));
        assert!(Manifest::parse(&text[..text.len() - 30]).is_err());
        assert!(Manifest::parse("").is_err());
    }

    #[test]
    fn file_names() {
        let p = Paths::new(Path::new("/d"), "dump.rdb");
        assert_eq!(p.manifest(), Path::new("/d/dump.manifest"));
        let name = p.shard_file(1, 3, "0123456789abcdef");
        assert_eq!(name, "dump-1-of-3.0123456789abcdef.rdb");
        assert!(p.is_shard_file(&name));
        assert!(p.is_shard_file(&format!("{name}.tmp")));
        assert!(!p.is_shard_file("dump.rdb"));
        assert!(!p.is_shard_file("dump-1-of-3.xyz.rdb"));
        assert!(!p.is_shard_file("other-1-of-3.0123456789abcdef.rdb"));
        let q = Paths::new(Path::new("/d"), "data");
        assert_eq!(q.manifest(), Path::new("/d/data.manifest"));
    }

    #[test]
    fn save_params_like_redis() {
        assert_eq!(
            parse_save_params(DEFAULT_SAVE).unwrap(),
            vec![(3600, 1), (300, 100), (60, 10000)]
        );
        assert_eq!(parse_save_params("").unwrap(), vec![]);
        assert!(parse_save_params("10").is_err());
        assert!(parse_save_params("0 1").is_err());
        assert!(parse_save_params("1 -1").is_err());
        assert!(parse_save_params("a 1").is_err());
        assert_eq!(parse_save_params("1 0").unwrap(), vec![(1, 0)]);
    }
}
