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

/// Runs one server command; its reply goes to `out`. Counted in INFO commandstats once done
/// (so an INFO does not see itself, as in Redis, whose `call()` counts after the command), for
/// the time its polls take on this core.
pub async fn run(
    core: &Rc<Core>,
    session: &mut super::Session,
    cmd: ServerCmd,
    argv: Argv<'_>,
    out: &mut Reply,
) -> Flow {
    let at = out.len();
    let (flow, ticks) = crate::router::Timed::new(Box::pin(run_uncounted(
        core,
        &mut *session,
        cmd,
        argv,
        &mut *out,
    )))
    .await;
    if let Some(idx) = super::lookup(argv.get(0)) {
        let stats = &core.cmdstats;
        stats.call(stats.resolve(idx, argv), ticks, &out.buf[at..]);
    }
    flow
}

async fn run_uncounted(
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

/// Redis 7.0's INFO sections, in its order.
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// What INFO with no argument (or `default`) shows.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Keeps [`crate::shard::Shared::stats_detail`] raised while an INFO gathers (also if the INFO
/// is dropped half-way).
struct DetailWanted<'a>(&'a crate::shard::Shared);

impl<'a> DetailWanted<'a> {
    fn new(shared: &'a crate::shard::Shared) -> Self {
        shared.stats_detail.fetch_add(1, Ordering::Relaxed);
        DetailWanted(shared)
    }
}

impl Drop for DetailWanted<'_> {
    fn drop(&mut self) {
        self.0.stats_detail.fetch_sub(1, Ordering::Relaxed);
    }
}

/// INFO [section ...]: Redis's text format, `# Section` headers and `field:value` lines. Every
/// field is measured or is Redis's own value for a feature we do not have (no replicas, no
/// forks, no Lua, no defrag…); fields we cannot measure are left out.
async fn info(core: &Rc<Core>, argv: Argv<'_>) -> String {
    let mut want: std::collections::HashSet<String> = Default::default();
    let mut all = false;
    if argv.len() == 1 {
        want.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    for a in argv.tail(1) {
        match String::from_utf8_lossy(a).to_ascii_lowercase().as_str() {
            "default" => want.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
            // No modules, so "everything" adds nothing to "all".
            "all" | "everything" => all = true,
            other => {
                want.insert(other.to_string());
            }
        }
    }
    let shards = {
        let _detail = DetailWanted::new(&core.shared);
        persist::gather_stats(core).await
    };
    let details: Vec<&crate::shard::StatsDetail> =
        shards.iter().filter_map(|x| x.detail.as_deref()).collect();
    let sum = |f: &dyn Fn(&crate::shard::ShardStats) -> u64| -> u64 { shards.iter().map(f).sum() };
    let mut s = String::new();
    for &sec in SECTIONS {
        let shown = all || want.contains(sec) || (sec == "modules" && want.contains("module_list"));
        if !shown {
            continue;
        }
        if !s.is_empty() {
            s.push_str("\r\n");
        }
        match sec {
            "server" => server_section(core, &mut s),
            "clients" => {
                let _ = write!(
                    s,
                    "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\n\
                     maxclients:{}\r\nblocked_clients:{}\r\ntracking_clients:0\r\n",
                    sum(&|x| x.connected_clients),
                    crate::tunables::MAXCLIENTS.get(),
                    sum(&|x| x.blocked_clients),
                );
            }
            "memory" => memory_section(&mut s),
            "persistence" => persistence_section(core, &shards, &mut s),
            "stats" => stats_section(core, &shards, &details, &mut s),
            "replication" => {
                // A master with no replicas and no replication backlog.
                let _ = write!(
                    s,
                    "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\
                     master_failover_state:no-failover\r\nmaster_replid:{}\r\n\
                     master_replid2:0000000000000000000000000000000000000000\r\n\
                     master_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n\
                     repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
                    core.shared.replid
                );
            }
            "cpu" => {
                let (user, sys) = cpu_times(libc::RUSAGE_SELF);
                let (cuser, csys) = cpu_times(libc::RUSAGE_CHILDREN);
                let _ = write!(
                    s,
                    "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\n\
                     used_cpu_sys_children:{csys:.6}\r\nused_cpu_user_children:{cuser:.6}\r\n"
                );
            }
            "modules" => s.push_str("# Modules\r\n"),
            "commandstats" => commandstats_section(core, &details, &mut s),
            "errorstats" => {
                s.push_str("# Errorstats\r\n");
                // By code, in byte order (Redis keeps them in a radix tree).
                let mut errors: std::collections::BTreeMap<&[u8], u64> = Default::default();
                for d in &details {
                    for (code, n) in &d.errors {
                        *errors.entry(code).or_default() += n;
                    }
                }
                for (code, n) in errors {
                    let _ = write!(s, "errorstat_{}:count={n}\r\n", info_safe(code));
                }
            }
            // Latency histograms are not tracked: the section is empty, as Redis's with
            // `latency-tracking no`.
            "latencystats" => s.push_str("# Latencystats\r\n"),
            "cluster" => {
                let _ = write!(
                    s,
                    "# Cluster\r\ncluster_enabled:{}\r\n",
                    u8::from(crate::cluster::enabled())
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

/// Redis's `getSafeInfoString`: `#`, `:`, CR and LF become `_` in names INFO prints.
fn info_safe(name: &[u8]) -> String {
    String::from_utf8_lossy(name).replace(['#', ':', '\r', '\n'], "_")
}

fn server_section(core: &Rc<Core>, s: &mut String) {
    let sh = &core.shared;
    let uptime = sh.started.elapsed().as_secs();
    let (sysname, release, machine) = uname();
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    // As Redis's `redisIsSupervised`: systemd when asked (or `auto`) and it is there to tell.
    let supervised = match core.config.supervised.as_str() {
        "auto" | "systemd" if std::env::var_os("NOTIFY_SOCKET").is_some() => "systemd",
        _ => "no",
    };
    let now = now_ms();
    // `gcc_version` is 0.0.0 for a server not built by GCC, as Redis prints it then;
    // `monotonic_clock`: Rust's `Instant` is `clock_gettime(CLOCK_MONOTONIC)`.
    let _ = write!(
        s,
        "# Server\r\nredis_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n\
         redis_mode:{}\r\nredis_lite_version:{}\r\nos:{sysname} {release} {machine}\r\n\
         arch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:io_uring\r\n\
         gcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:{supervised}\r\nrun_id:{}\r\n\
         tcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{uptime}\r\n\
         uptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nshards:{}\r\n\
         executable:{exe}\r\nconfig_file:{}\r\nio_threads_active:0\r\n",
        persist::sink::REDIS_VERSION,
        if crate::cluster::enabled() {
            "cluster"
        } else {
            "standalone"
        },
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        sh.run_id,
        core.port.get(),
        now * 1000,
        uptime / 86400,
        core.config.hz,
        core.config.hz,
        crate::keyspace::lru_clock(now),
        core.nshards,
        core.config
            .config_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    );
}

/// Bytes the allocator has handed out and not taken back (Redis's `used_memory` is its
/// allocator's count too): glibc's `mallinfo2`, in-use chunks of every arena plus mmapped
/// blocks. Without glibc, the resident set size.
pub fn used_memory() -> u64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 has no preconditions; it only reads the allocator's statistics.
        let m = unsafe { libc::mallinfo2() };
        (m.uordblks + m.hblkhd) as u64
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        rss_bytes()
    }
}

static MEMORY_PEAK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Raises the recorded peak of [`used_memory`] to now's; returns now's.
pub fn sample_memory_peak() -> u64 {
    let used = used_memory();
    MEMORY_PEAK.fetch_max(used, Ordering::Relaxed);
    used
}

fn memory_section(s: &mut String) {
    let used = sample_memory_peak();
    let peak = MEMORY_PEAK.load(Ordering::Relaxed).max(used);
    let rss = rss_bytes();
    let total = total_system_memory();
    // Reported only: nothing is evicted (noeviction).
    let maxmemory = crate::tunables::MAXMEMORY.get().max(0) as u64;
    let _ = write!(
        s,
        "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\n\
         used_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\n\
         used_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\n\
         used_memory_peak_perc:{:.2}%\r\n\
         total_system_memory:{total}\r\ntotal_system_memory_human:{}\r\n\
         used_memory_scripts_eval:0\r\nnumber_of_cached_scripts:0\r\nnumber_of_functions:0\r\n\
         number_of_libraries:0\r\n\
         maxmemory:{maxmemory}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:noeviction\r\n\
         mem_not_counted_for_evict:0\r\nmem_replication_backlog:0\r\n\
         mem_total_replication_buffers:0\r\nmem_clients_slaves:0\r\nmem_cluster_links:0\r\n\
         mem_aof_buffer:0\r\nmem_allocator:libc\r\nactive_defrag_running:0\r\n\
         lazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\n",
        human(used),
        human(rss),
        human(peak),
        if peak == 0 {
            0.0
        } else {
            used as f64 * 100.0 / peak as f64
        },
        human(total),
        human(maxmemory)
    );
}

fn stats_section(
    core: &Rc<Core>,
    shards: &[crate::shard::ShardStats],
    details: &[&crate::shard::StatsDetail],
    s: &mut String,
) {
    let sum = |f: &dyn Fn(&crate::shard::ShardStats) -> u64| -> u64 { shards.iter().map(f).sum() };
    let dsum = |f: &dyn Fn(&crate::shard::StatsDetail) -> u64| -> u64 {
        details.iter().map(|d| f(d)).sum()
    };
    // A channel or pattern subscribed on several cores counts once.
    let distinct = |f: &dyn Fn(&crate::shard::StatsDetail) -> &Vec<Vec<u8>>| -> usize {
        let mut all: std::collections::HashSet<&[u8]> = Default::default();
        for d in details {
            all.extend(f(d).iter().map(Vec::as_slice));
        }
        all.len()
    };
    let stale = shards
        .iter()
        .map(|x| x.stats.expired_stale_perc)
        .fold(0.0, f64::max);
    // Replication, forks, eviction, MIGRATE, defrag, client tracking and I/O threads do not
    // exist here: their counters are Redis's zero.
    let _ = write!(
        s,
        "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\n\
         instantaneous_ops_per_sec:{}\r\ntotal_net_repl_input_bytes:0\r\n\
         total_net_repl_output_bytes:0\r\ninstantaneous_input_repl_kbps:0.00\r\n\
         instantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:0\r\n\
         sync_partial_ok:0\r\nsync_partial_err:0\r\nexpired_keys:{}\r\n\
         expired_stale_perc:{:.2}\r\nexpired_time_cap_reached_count:{}\r\n\
         expire_cycle_cpu_milliseconds:{}\r\nevicted_keys:0\r\nevicted_clients:0\r\n\
         total_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\n\
         keyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\n\
         pubsubshard_channels:{}\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\n\
         migrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\n\
         active_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\n\
         total_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\n\
         tracking_total_keys:0\r\ntracking_total_items:0\r\ntracking_total_prefixes:0\r\n\
         unexpected_error_replies:0\r\ntotal_error_replies:{}\r\n\
         io_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\n\
         moved_connections:{}\r\n",
        sum(&|x| x.total_connections),
        dsum(&|d| d.cmds.iter().map(|(_, c)| c[0]).sum()),
        dsum(&|d| d.ops_per_sec),
        core.shared.rejected.load(Ordering::Relaxed),
        sum(&|x| x.stats.expired_keys),
        stale * 100.0,
        sum(&|x| x.stats.expired_time_cap_reached_count),
        sum(&|x| x.stats.expire_cycle_time_used_us) / 1000,
        sum(&|x| x.stats.keyspace_hits),
        sum(&|x| x.stats.keyspace_misses),
        distinct(&|d| &d.channels),
        distinct(&|d| &d.patterns),
        distinct(&|d| &d.shard_channels),
        dsum(&|d| d.error_replies),
        sum(&|x| x.moved_out),
    );
}

/// `cmdstat_<name>:calls=…,usec=…,usec_per_call=…,rejected_calls=…,failed_calls=…` for every
/// command or subcommand counted on any core, by name.
fn commandstats_section(core: &Rc<Core>, details: &[&crate::shard::StatsDetail], s: &mut String) {
    s.push_str("# Commandstats\r\n");
    let names = &core.cmdstats.table.names;
    let mut by_slot: std::collections::BTreeMap<u16, [u64; 4]> = Default::default();
    for d in details {
        for (slot, c) in &d.cmds {
            let t = by_slot.entry(*slot).or_default();
            for (a, b) in t.iter_mut().zip(c) {
                *a += b;
            }
        }
    }
    let mut rows: Vec<(&str, [u64; 4])> = by_slot
        .into_iter()
        .filter(|(_, c)| c[0] > 0 || c[2] > 0 || c[3] > 0)
        .map(|(slot, c)| (names[slot as usize], c))
        .collect();
    rows.sort_unstable_by_key(|(name, _)| *name);
    for (name, [calls, ticks, rejected, failed]) in rows {
        let usec = crate::shard::clock::micros(ticks);
        // Redis divides in single precision.
        let per_call = if calls == 0 {
            0.0
        } else {
            f64::from(usec as f32 / calls as f32)
        };
        let _ = write!(
            s,
            "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per_call:.2},\
             rejected_calls={rejected},failed_calls={failed}\r\n",
            info_safe(name.as_bytes())
        );
    }
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

/// The machine's RAM, as Redis's `total_system_memory`.
fn total_system_memory() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages <= 0 || size <= 0 {
        return 0;
    }
    pages as u64 * size as u64
}

/// User and system CPU seconds of `who` (`RUSAGE_SELF`, `RUSAGE_CHILDREN`).
fn cpu_times(who: libc::c_int) -> (f64, f64) {
    // SAFETY: getrusage fills the zeroed struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
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
