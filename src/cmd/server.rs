//! Server-wide commands that coordinate every shard and wait for them: SAVE, BGSAVE, SHUTDOWN,
//! INFO. Each runs on the connection's core after the replies of everything before it in the
//! batch, so a pipelined `SET k v` + `SAVE` always saves `k`.

use super::string::opt_is;
use super::{err, flags, CommandSpec, ConnCtx, Handler, Route};
use crate::persist::{self, SaveError};
use crate::resp::{Argv, Reply};
use crate::router::Flow;
use crate::shard::{now_ms, Core};
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::atomic::Ordering;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerCmd {
    Save,
    Bgsave,
    Shutdown,
    Info,
}

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    let server = |name, arity, flags, c| CommandSpec {
        name,
        arity,
        flags,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Server(c),
    };
    t.push(server(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_MULTI,
        ServerCmd::Save,
    ));
    t.push(server("bgsave", -1, ADMIN | NOSCRIPT, ServerCmd::Bgsave));
    t.push(server(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI,
        ServerCmd::Shutdown,
    ));
    t.push(server("info", -1, LOADING | STALE, ServerCmd::Info));
    t.push(CommandSpec {
        name: "swapdb",
        arity: 3,
        flags: WRITE | FAST,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Async(swapdb),
    });
    t.push(CommandSpec::single_key(
        SWAPDB_STEP,
        4,
        INTERNAL,
        swapdb_step,
    ));
    t.push(CommandSpec {
        name: "lastsave",
        arity: 1,
        flags: LOADING | STALE | FAST,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Conn(lastsave),
    });
}

/// LASTSAVE: unix time of the last successful save (start-up time before any).
fn lastsave(ctx: &mut ConnCtx<'_>, _argv: Argv<'_>, out: &mut Reply) {
    out.int(ctx.shared.persist().lastsave);
}

/// Runs one server command; its reply goes to `out`.
pub async fn run(
    core: &Rc<Core>,
    _session: &mut super::Session,
    cmd: ServerCmd,
    argv: Argv<'_>,
    out: &mut Reply,
) -> Flow {
    match cmd {
        ServerCmd::Save => match persist::save(core, false).await {
            Ok(()) => out.ok(),
            Err(e) => out.error(&e.reply_text()),
        },
        ServerCmd::Bgsave => {
            if argv.len() > 2 || (argv.len() == 2 && !opt_is(argv.get(1), "schedule")) {
                out.error(err::SYNTAX);
                return Flow::Continue;
            }
            match persist::save(core, true).await {
                Ok(()) => out.simple("Background saving started"),
                Err(e) => out.error(&e.reply_text()),
            }
        }
        ServerCmd::Shutdown => return shutdown_cmd(core, argv, out).await,
        ServerCmd::Info => {
            let text = info(core, argv).await;
            out.verbatim(text.as_bytes(), "txt");
        }
    }
    Flow::Continue
}

/// What SHUTDOWN (or a signal) asks for.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShutdownFlags {
    pub save: bool,
    pub nosave: bool,
    pub force: bool,
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], with Redis 7.0's argument rules.
async fn shutdown_cmd(core: &Rc<Core>, argv: Argv<'_>, out: &mut Reply) -> Flow {
    let mut f = ShutdownFlags::default();
    let (mut now, mut abort) = (false, false);
    for a in argv.tail(1) {
        if opt_is(a, "nosave") {
            f.nosave = true;
        } else if opt_is(a, "save") {
            f.save = true;
        } else if opt_is(a, "now") {
            now = true;
        } else if opt_is(a, "force") {
            f.force = true;
        } else if opt_is(a, "abort") {
            abort = true;
        } else {
            out.error(err::SYNTAX);
            return Flow::Continue;
        }
    }
    if (abort && (f.save || f.nosave || now || f.force)) || (f.save && f.nosave) {
        out.error(err::SYNTAX);
        return Flow::Continue;
    }
    if abort {
        // Shutdowns never wait for replicas here, so none is ever pending.
        out.error("ERR No shutdown in progress.");
        return Flow::Continue;
    }
    match shutdown(core, f).await {
        Ok(()) => Flow::Close,
        Err(()) => {
            out.error("ERR Errors trying to SHUTDOWN. Check logs.");
            Flow::Continue
        }
    }
}

/// Stops the server: holds every client command, saves when asked or when save points are
/// configured, then tells every shard to stop. If the save fails (and not FORCE), clients
/// resume and the server keeps running, as Redis does.
pub async fn shutdown(core: &Rc<Core>, f: ShutdownFlags) -> Result<(), ()> {
    tracing::info!("User requested shutdown...");
    // A background save finishes first; the final save is a fresh one after it.
    persist::wait_idle(core).await;
    persist::pause_all(core).await;
    let configured = !core.shared.persist().save_params.is_empty();
    if f.save || (configured && !f.nosave) {
        tracing::info!("Saving the final RDB snapshot before exiting.");
        match persist::save(core, false).await {
            Ok(()) => tracing::info!("DB saved on disk"),
            Err(e) => {
                let why = match &e {
                    SaveError::InProgress => "a save is in progress".to_string(),
                    SaveError::Failed(w) => w.clone(),
                };
                if f.force {
                    tracing::warn!("Error trying to save the DB ({why}); exiting anyway (FORCE).");
                } else {
                    tracing::warn!("Error trying to save the DB, can't exit: {why}");
                    persist::resume_all(core).await;
                    return Err(());
                }
            }
        }
    }
    core.shared.stopping.store(true, Ordering::SeqCst);
    Ok(())
}

/// INFO [section ...]: Redis's text format, `# Section` headers and `field:value` lines.
async fn info(core: &Rc<Core>, argv: Argv<'_>) -> String {
    const DEFAULT: &[&str] = &[
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "keyspace",
    ];
    let mut want: Vec<String> = argv
        .tail(1)
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    if want.is_empty()
        || want
            .iter()
            .any(|w| w == "default" || w == "all" || w == "everything")
    {
        want = DEFAULT.iter().map(|s| s.to_string()).collect();
    }
    let shards = persist::gather_stats(core).await;
    let mut s = String::new();
    for sec in DEFAULT {
        if !want.iter().any(|w| w == sec) {
            continue;
        }
        if !s.is_empty() {
            s.push_str("\r\n");
        }
        match *sec {
            "server" => server_section(core, &mut s),
            "clients" => {
                let clients: u64 = shards.iter().map(|x| x.connected_clients).sum();
                let blocked: u64 = shards.iter().map(|x| x.blocked_clients).sum();
                let _ = write!(
                    s,
                    "# Clients\r\nconnected_clients:{clients}\r\ncluster_connections:0\r\n\
                     maxclients:{maxclients}\r\nblocked_clients:{blocked}\r\ntracking_clients:0\r\n",
                    maxclients = crate::tunables::MAXCLIENTS.get()
                );
            }
            "memory" => {
                let rss = rss_bytes();
                // Reported only: nothing is evicted yet (noeviction).
                let maxmemory = crate::tunables::MAXMEMORY.get().max(0) as u64;
                let _ = write!(
                    s,
                    "# Memory\r\nused_memory:{rss}\r\nused_memory_human:{}\r\n\
                     used_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\n\
                     maxmemory:{maxmemory}\r\nmaxmemory_human:{}\r\n\
                     maxmemory_policy:noeviction\r\n",
                    human(rss),
                    human(rss),
                    human(maxmemory)
                );
            }
            "persistence" => persistence_section(core, &shards, &mut s),
            "stats" => {
                let sum = |f: &dyn Fn(&crate::shard::ShardStats) -> u64| -> u64 {
                    shards.iter().map(f).sum()
                };
                let conns = sum(&|x| x.total_connections);
                let cmds = sum(&|x| x.total_commands);
                let expired = sum(&|x| x.stats.expired_keys);
                let hits = sum(&|x| x.stats.keyspace_hits);
                let misses = sum(&|x| x.stats.keyspace_misses);
                let cap = sum(&|x| x.stats.expired_time_cap_reached_count);
                let cycle_us = sum(&|x| x.stats.expire_cycle_time_used_us);
                let stale = shards
                    .iter()
                    .map(|x| x.stats.expired_stale_perc)
                    .fold(0.0, f64::max);
                let _ = write!(
                    s,
                    "# Stats\r\ntotal_connections_received:{conns}\r\n\
                     total_commands_processed:{cmds}\r\nrejected_connections:{rejected}\r\n\
                     expired_keys:{expired}\r\nexpired_stale_perc:{:.2}\r\n\
                     expired_time_cap_reached_count:{cap}\r\n\
                     expire_cycle_cpu_milliseconds:{}\r\nevicted_keys:0\r\n\
                     keyspace_hits:{hits}\r\nkeyspace_misses:{misses}\r\n\
                     pubsub_channels:0\r\npubsub_patterns:0\r\n",
                    stale * 100.0,
                    cycle_us / 1000,
                    rejected = core
                        .shared
                        .rejected
                        .load(std::sync::atomic::Ordering::Relaxed)
                );
            }
            "replication" => {
                let _ = write!(
                    s,
                    "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\
                     master_failover_state:no-failover\r\nmaster_repl_offset:0\r\n\
                     repl_backlog_active:0\r\n"
                );
            }
            "cpu" => {
                let (user, sys) = cpu_times();
                let _ = write!(
                    s,
                    "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\n"
                );
            }
            "keyspace" => {
                s.push_str("# Keyspace\r\n");
                let ndb = shards.first().map_or(0, |x| x.dbs.len());
                for db in 0..ndb {
                    let keys: u64 = shards.iter().map(|x| x.dbs[db].0).sum();
                    if keys == 0 {
                        continue;
                    }
                    let expires: u64 = shards.iter().map(|x| x.dbs[db].1).sum();
                    let ttls: Vec<i64> = shards
                        .iter()
                        .map(|x| x.dbs[db].2)
                        .filter(|&t| t > 0)
                        .collect();
                    let avg = if ttls.is_empty() {
                        0
                    } else {
                        ttls.iter().sum::<i64>() / ttls.len() as i64
                    };
                    let _ = write!(s, "db{db}:keys={keys},expires={expires},avg_ttl={avg}\r\n");
                }
            }
            _ => {}
        }
    }
    s
}

fn server_section(core: &Rc<Core>, s: &mut String) {
    let sh = &core.shared;
    let uptime = sh.started.elapsed().as_secs();
    let (sysname, release, machine) = uname();
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let _ = write!(
        s,
        "# Server\r\nredis_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n\
         redis_mode:standalone\r\nredis_lite_version:{}\r\nos:{sysname} {release} {machine}\r\n\
         arch_bits:64\r\nmultiplexing_api:io_uring\r\nprocess_id:{}\r\ntcp_port:{}\r\n\
         server_time_usec:{}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:{}\r\n\
         configured_hz:{}\r\nshards:{}\r\nexecutable:{exe}\r\nconfig_file:{}\r\n",
        persist::sink::REDIS_VERSION,
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        core.port.get(),
        now_ms() * 1000,
        uptime / 86400,
        core.config.hz,
        core.config.hz,
        core.nshards,
        core.config
            .config_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    );
}

fn persistence_section(core: &Rc<Core>, shards: &[crate::shard::ShardStats], s: &mut String) {
    let dirty: Vec<u64> = shards.iter().map(|x| x.dirty).collect();
    let st = core.shared.persist();
    let changes = st.changes_since_save(&dirty);
    let (bg, cur_secs) = match st.running {
        Some((true, t)) => (1, t.elapsed().as_secs() as i64),
        _ => (0, -1),
    };
    let _ = write!(
        s,
        "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\n\
         current_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\n\
         current_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\n\
         rdb_changes_since_last_save:{changes}\r\nrdb_bgsave_in_progress:{bg}\r\n\
         rdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\n\
         rdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{cur_secs}\r\n\
         rdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:{}\r\n\
         rdb_last_load_keys_loaded:{}\r\nrdb_last_error:{}\r\naof_enabled:0\r\n\
         aof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n\
         aof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\n\
         aof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\n\
         aof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\n\
         aof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        st.lastsave,
        if st.last_bgsave_ok { "ok" } else { "err" },
        st.last_bgsave_secs,
        st.saves,
        st.loaded_expired,
        st.loaded_keys,
        st.last_error
            .as_deref()
            .unwrap_or("")
            .replace(['\r', '\n'], " "),
    );
}

fn human(b: u64) -> String {
    const UNITS: &[&str] = &["B", "K", "M", "G", "T"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b}B")
    } else {
        format!("{v:.2}{}", UNITS[u])
    }
}

/// Resident set size from /proc (0 where unavailable).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn cpu_times() -> (f64, f64) {
    // SAFETY: getrusage fills the zeroed struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return (0.0, 0.0);
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_utime), t(ru.ru_stime))
}

fn uname() -> (String, String, String) {
    // SAFETY: uname fills the zeroed struct we own; its fields are NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return ("Linux".into(), String::new(), String::new());
        }
        let f = |p: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(p.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        (f(&u.sysname), f(&u.release), f(&u.machine))
    }
}

const SWAPDB_STEP: &str = "__swapdb";

/// SWAPDB a b: every shard swaps the two DBs under the transaction locks of all shards, so no
/// client (or transaction) sees some shards swapped and others not.
fn swapdb<'a>(
    core: &'a Rc<Core>,
    _s: &'a mut super::Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>> {
    Box::pin(async move {
        if crate::cluster::enabled() {
            return out.error("ERR SWAPDB is not allowed in cluster mode");
        }
        // Redis's getIntFromObjectOrReply: a C int, or the given message.
        let index = |a: &[u8]| super::parse_i64(a).and_then(|v| i32::try_from(v).ok());
        let Some(a) = index(argv.get(1)) else {
            return out.error("ERR invalid first DB index");
        };
        let Some(b) = index(argv.get(2)) else {
            return out.error("ERR invalid second DB index");
        };
        let n = core.config.databases as i32;
        if a < 0 || a >= n || b < 0 || b >= n {
            return out.error("ERR DB index is out of range");
        }
        // Inside EXEC the transaction already holds every lock.
        let all: Vec<usize> = (0..core.nshards).collect();
        let locks = if core.current_tx.get() == 0 {
            Some(crate::tx::Locks::acquire(core, &all).await)
        } else {
            None
        };
        let idx = super::lookup(SWAPDB_STEP.as_bytes()).expect("registered");
        let runs = all
            .iter()
            .map(|&shard| {
                let b = crate::resp::CmdBatch::from_args([
                    SWAPDB_STEP.as_bytes(),
                    itoa::Buffer::new().format(a).as_bytes(),
                    itoa::Buffer::new().format(b).as_bytes(),
                    if shard == 0 { b"1" } else { b"0" },
                ]);
                let meta = crate::tx::meta(idx, 0, crate::resp::Proto::Resp2);
                crate::tx::run_on(core, shard, b, vec![meta])
            })
            .collect();
        crate::tx::join_all(runs).await;
        drop(locks);
        out.ok();
    })
}

/// `__swapdb a b counted` on one shard; the change is counted once (`counted` is 1 on one
/// shard), as Redis counts one.
fn swapdb_step(ctx: &mut super::ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let a = super::parse_i64(argv.get(1)).unwrap_or(0) as usize;
    let b = super::parse_i64(argv.get(2)).unwrap_or(0) as usize;
    if a < ctx.ks.databases() && b < ctx.ks.databases() {
        ctx.ks.swap_dbs(a, b, ctx.now_ms);
        if argv.get(3) == b"1" {
            ctx.ks.add_dirty(1);
        }
    }
    out.ok();
}
