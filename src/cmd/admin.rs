//! Connection and server commands: PING, ECHO, SELECT, QUIT, TIME, WAIT, DBSIZE, FLUSHDB,
//! FLUSHALL, CONFIG.
//!
//! Connection-level commands (`Handler::Conn`) touch only the session and settings, so they never
//! borrow a shard. DBSIZE/FLUSHDB/FLUSHALL run on every shard and their replies are merged.
//! WAIT runs on the connection's core and may block (there are never replicas to wait for).

use super::keys::string_match;
use super::string::opt_is;
use super::{
    arity_error, err, flags, parse_i64, CommandSpec, ConnCtx, Handler, Merge, Route, Session,
    ShardCtx,
};
use crate::resp::{Argv, Reply};
use crate::shard::Core;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    let local = |name, arity, flags, f| CommandSpec {
        name,
        arity,
        flags,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Conn(f),
    };
    let all = |name, arity, flags, merge, f| CommandSpec {
        name,
        arity,
        flags,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::All(merge),
        handler: Handler::Shard(f),
    };
    t.push(local("ping", -1, FAST, ping));
    t.push(local("echo", 2, LOADING | STALE | FAST, echo));
    t.push(local("select", 2, LOADING | STALE | FAST, select));
    t.push(local("quit", -1, NOSCRIPT | LOADING | STALE | FAST, quit));
    // Async: CONFIG RESETSTAT reaches every core.
    t.push(CommandSpec {
        handler: Handler::Async(config_async),
        ..local("config", -2, ADMIN | NOSCRIPT | LOADING | STALE, config)
    });
    t.push(local("time", 1, LOADING | STALE | FAST, time));
    t.push(CommandSpec {
        name: "wait",
        arity: 3,
        flags: NOSCRIPT | BLOCKING,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Async(wait),
    });
    t.push(all("dbsize", 1, READONLY | FAST, Merge::Sum, dbsize));
    t.push(all("flushdb", -1, WRITE, Merge::AllOk, flushdb));
    t.push(all("flushall", -1, WRITE, Merge::AllOk, flushall));
}

/// PING [message]: +PONG, or the message as a bulk string.
fn ping(_ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match argv.len() {
        1 => out.simple("PONG"),
        2 => out.bulk(argv.get(1)),
        _ => arity_error("ping", out),
    }
}

fn echo(_ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    out.bulk(argv.get(1));
}

/// SELECT index: the index must be an int (Redis's `getIntFromObjectOrReply`) and a valid DB.
fn select(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(id) = parse_i64(argv.get(1)) else {
        out.error(err::NOT_INTEGER);
        return;
    };
    if i32::try_from(id).is_err() {
        out.error("ERR value is out of range, value must between -2147483648 and 2147483647");
        return;
    }
    if crate::cluster::enabled() && id != 0 {
        return out.error("ERR SELECT is not allowed in cluster mode");
    }
    match usize::try_from(id) {
        Ok(db) if db < ctx.config.databases => {
            ctx.session.db = db;
            out.ok();
        }
        _ => out.error(err::DB_INDEX),
    }
}

/// QUIT: +OK, then the connection closes once the reply is written.
fn quit(ctx: &mut ConnCtx<'_>, _argv: Argv<'_>, out: &mut Reply) {
    ctx.session.close_after_reply = true;
    out.ok();
}

/// TIME: the server's clock as `[unix seconds, microseconds]`, both bulk strings.
fn time(_ctx: &mut ConnCtx<'_>, _argv: Argv<'_>, out: &mut Reply) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    out.array(2);
    out.bulk(itoa::Buffer::new().format(now.as_secs()).as_bytes());
    out.bulk(itoa::Buffer::new().format(now.subsec_micros()).as_bytes());
}

/// How often a blocked WAIT looks at the client and the server state.
const WAIT_CHECK_EVERY: Duration = Duration::from_secs(1);

fn wait<'a>(
    core: &'a Rc<Core>,
    session: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
    Box::pin(wait_async(core, session, argv, out))
}

/// WAIT numreplicas timeout: the number of replicas that acknowledged this client's writes —
/// always 0, as on a Redis primary without replicas. Like Redis, it answers at once when that
/// already reaches `numreplicas` (0 or less) or inside EXEC; otherwise the client blocks until
/// the timeout (ms, 0 = forever) or CLIENT UNBLOCK, and then gets 0.
async fn wait_async(core: &Rc<Core>, s: &mut Session, argv: Argv<'_>, out: &mut Reply) {
    let Some(numreplicas) = parse_i64(argv.get(1)) else {
        return out.error(err::NOT_INTEGER);
    };
    let Some(timeout_ms) = parse_i64(argv.get(2)) else {
        return out.error("ERR timeout is not an integer or out of range");
    };
    if timeout_ms < 0 {
        return out.error("ERR timeout is negative");
    }
    if timeout_ms > 0 && timeout_ms > i64::MAX - crate::shard::now_ms() {
        return out.error("ERR timeout is out of range");
    }
    const ACKED: i64 = 0;
    if ACKED >= numreplicas || s.in_exec {
        return out.int(ACKED);
    }
    let deadline =
        (timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
    let client = s.client.clone();
    let gone = s.gone.clone();
    core.blocked.set(core.blocked.get() + 1);
    let mut unblocked_error = false;
    loop {
        let gone_now = gone.get() || core.shared.is_stopping();
        let unblocked = client.unblock.get();
        let expired = deadline.is_some_and(|d| Instant::now() >= d);
        if gone_now || unblocked || expired {
            if gone_now {
                s.close_after_reply = true;
            } else if unblocked && !expired {
                unblocked_error = client.unblock_error.get();
            }
            break;
        }
        let tick = match deadline {
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .min(WAIT_CHECK_EVERY),
            None => WAIT_CHECK_EVERY,
        };
        futures_lite::future::or(
            futures_lite::future::or(gone.wait(), client.unblock.wait()),
            glommio::timer::sleep(tick),
        )
        .await;
    }
    core.blocked.set(core.blocked.get() - 1);
    if s.close_after_reply {
        return;
    }
    if unblocked_error {
        out.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
    } else {
        out.int(ACKED);
    }
}

fn dbsize(ctx: &mut ShardCtx<'_>, _argv: Argv<'_>, out: &mut Reply) {
    out.int(ctx.ks.len(ctx.db) as i64);
}

/// FLUSHDB/FLUSHALL [ASYNC|SYNC]. Both modes free synchronously here (on this shard).
fn flush_mode_ok(argv: Argv<'_>) -> bool {
    match argv.len() {
        1 => true,
        2 => opt_is(argv.get(1), "sync") || opt_is(argv.get(1), "async"),
        _ => false,
    }
}

fn flushdb(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    if !flush_mode_ok(argv) {
        out.error(err::SYNTAX);
        return;
    }
    let n = ctx.ks.clear(ctx.db);
    ctx.ks.add_dirty(n as u64);
    out.ok();
}

fn flushall(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    if !flush_mode_ok(argv) {
        out.error(err::SYNTAX);
        return;
    }
    let n = ctx.ks.clear_all();
    ctx.ks.add_dirty(n as u64);
    out.ok();
}

/// CONFIG: RESETSTAT here, the rest in [`config`].
fn config_async<'a>(
    core: &'a Rc<Core>,
    session: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
    Box::pin(async move {
        if argv.len() == 2 && opt_is(argv.get(1), "resetstat") {
            reset_stats(core).await;
            return out.ok();
        }
        let mut ctx = ConnCtx {
            session,
            config: &core.config,
            shared: &core.shared,
            port: core.port.get(),
            nshards: core.nshards,
        };
        config(&mut ctx, argv, out);
    })
}

/// CONFIG RESETSTAT: what Redis's `resetServerStats`, `resetCommandTableStats` and
/// `resetErrorTableStats` reset, on every core: command and error stats, keyspace hits and
/// misses, expiry stats, connections received and rejected, RDB saves, the ops/sec samples.
async fn reset_stats(core: &Rc<Core>) {
    core.shared
        .stats_epoch
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Each core resets when it next reports its counters (see `Core::stats`): now, for all.
    crate::persist::gather_stats(core).await;
    core.shared
        .rejected
        .store(0, std::sync::atomic::Ordering::Relaxed);
    core.shared.persist().saves = 0;
}

/// CONFIG GET|SET|REWRITE|HELP (RESETSTAT: [`config_async`]). Subcommand arity errors name
/// `config|<sub>` as Redis 7.
fn config(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let sub = argv.get(1);
    let argc = argv.len();
    if opt_is(sub, "get") {
        if argc < 3 {
            arity_error("config|get", out);
        } else {
            config_get(ctx, argv, out);
        }
    } else if opt_is(sub, "set") {
        if argc < 4 {
            arity_error("config|set", out);
        } else {
            config_set(ctx, argv, out);
        }
    } else if opt_is(sub, "resetstat") {
        // The right number of arguments never gets here (see `config_async`).
        arity_error("config|resetstat", out);
    } else if opt_is(sub, "rewrite") {
        if argc != 2 {
            arity_error("config|rewrite", out);
        } else {
            config_rewrite(ctx, out);
        }
    } else if opt_is(sub, "help") && argc != 2 {
        arity_error("config|help", out);
    } else if opt_is(sub, "help") {
        const HELP: &[&str] = &[
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern> [<pattern> ...]",
            "    Return parameters matching the glob-like <pattern>s and their values.",
            "SET <directive> <value> [<directive> <value> ...]",
            "    Set the configuration <directive> to <value> (settings fixed at start accept only their current value).",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
            "HELP",
            "    Prints this help.",
        ];
        out.array(HELP.len());
        for line in HELP {
            out.simple(line);
        }
    } else {
        super::unknown_subcommand(argv, out);
    }
}

/// CONFIG GET pattern [pattern ...]: name/value pairs (a map in RESP3), each parameter once.
/// A pattern without glob characters is an exact, case-insensitive name and is echoed as the
/// client spelled it; glob patterns match case-insensitively and report the canonical name.
fn config_get(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let params = all_params(ctx);
    // (reported name, index into params)
    let mut found: Vec<(Vec<u8>, usize)> = Vec::new();
    for pat in argv.tail(2) {
        let end = pat.iter().position(|&b| b == 0).unwrap_or(pat.len());
        let pat = &pat[..end];
        let seen = |found: &Vec<(Vec<u8>, usize)>, i: usize| found.iter().any(|&(_, j)| j == i);
        if !pat.iter().any(|c| matches!(c, b'[' | b'*' | b'?')) {
            if let Some(i) = params
                .iter()
                .position(|(n, _)| n.as_bytes().eq_ignore_ascii_case(pat))
            {
                if !seen(&found, i) {
                    found.push((pat.to_vec(), i));
                }
            }
            continue;
        }
        for (i, (n, _)) in params.iter().enumerate() {
            if !seen(&found, i) && string_match(pat, n.as_bytes(), true) {
                found.push((n.as_bytes().to_vec(), i));
            }
        }
    }
    out.map(found.len());
    for (name, i) in found {
        out.bulk(&name);
        out.bulk(params[i].1.as_bytes());
    }
}

/// The settings that live in the persistence state, as [`crate::config`] reads them.
fn live(ctx: &ConnCtx<'_>) -> crate::config::Live {
    let st = ctx.shared.persist();
    crate::config::Live {
        port: ctx.port,
        nshards: ctx.nshards,
        save: st.save_string(),
        compress: st.compress,
        dir: st.paths.dir.clone(),
        dbfilename: st.paths.dbfilename.clone(),
    }
}

/// Every parameter CONFIG GET reports, with its value now.
fn all_params(ctx: &ConnCtx<'_>) -> Vec<(&'static str, String)> {
    crate::config::get_params(ctx.config, &live(ctx))
}

/// A validated new value for a parameter that can change at run time.
enum Settable {
    Save(Vec<(i64, i64)>),
    Compression(bool),
    Tunable(&'static crate::tunables::Tunable, i64),
    Loglevel(String),
    ProtectedMode(bool),
    StopWrites(bool),
    Requirepass(String),
    Obuf([crate::config::ObufLimit; 3]),
    Notify(u32),
    Dir(std::path::PathBuf),
    Dbfilename(String),
}

/// CONFIG SET name value [name value ...]. Settings marked run-time in [`crate::config`] change
/// at once; the others are fixed at start-up, so setting one succeeds only when the value already
/// is the current one (clients and benchmarks commonly re-assert `appendonly no`). Values are
/// checked by the config file's own rules. All or nothing: every pair is checked before any is
/// applied, with Redis's error shapes.
fn config_set(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    use crate::config::{Mode, Named, When};
    if argv.len() % 2 == 1 {
        out.error(err::SYNTAX);
        return;
    }
    let failed = |name: &[u8], why: &str, out: &mut Reply| {
        out.error(&format!(
            "ERR CONFIG SET failed (possibly related to argument '{}') - {why}",
            String::from_utf8_lossy(name)
        ));
    };
    let live = live(ctx);
    let fixed_now = crate::config::current(ctx.config, &live, true);
    let mut changes: Vec<Settable> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for j in (2..argv.len()).step_by(2) {
        let (name, value) = (argv.get(j), argv.get(j + 1));
        let name_text = String::from_utf8_lossy(name).to_ascii_lowercase();
        let text = String::from_utf8_lossy(value).into_owned();
        let named = crate::config::lookup(&name_text);
        if named.is_none() && name_text == "io-threads" {
            // Reported (the shard count), never settable.
            if text != ctx.nshards.to_string() {
                failed(name, "changing it at run time is not supported", out);
                return;
            }
            continue;
        }
        let Some(named) = named else {
            out.error(&format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                String::from_utf8_lossy(name)
            ));
            return;
        };
        // As Redis 7.0: a name and its alias may both appear (the last one wins).
        if seen.contains(&name_text) {
            failed(name, "duplicate parameter", out);
            return;
        }
        seen.push(name_text.clone());
        // Check the value with the config file's rules, on a copy holding the live values.
        let mut scratch = ctx.config.clone();
        scratch.obuf_limits = crate::config::obuf_limits_now();
        if let Err(why) = scratch.apply_line(&name_text, vec![text], Mode::Set) {
            failed(name, &why, out);
            return;
        }
        let canonical = named.name();
        // As Redis 7: where files are written is protected unless the config allows it.
        if matches!(canonical, "dir" | "dbfilename") {
            let addr = &ctx.session.client.addr;
            let local = addr.starts_with("127.") || addr.starts_with("[::1]");
            let allowed = match ctx.config.enable_protected_configs.as_str() {
                "yes" => true,
                "local" => local,
                _ => false,
            };
            if !allowed {
                failed(name, "can't set protected config", out);
                return;
            }
        }
        if named.when() == When::Start {
            let now = crate::config::current(&scratch, &live, true);
            let pick = |v: &[crate::config::Setting]| {
                v.iter()
                    .find(|(n, _)| *n == canonical)
                    .map(|(_, l)| l.clone())
            };
            if pick(&now) != pick(&fixed_now) {
                failed(name, "changing it at run time is not supported", out);
                return;
            }
            continue;
        }
        let change = match named {
            Named::Tunable(t) => {
                let v = scratch
                    .tunables
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == t.name)
                    .map(|(_, v)| *v)
                    .unwrap_or(t.default);
                if std::ptr::eq(t, &crate::tunables::MAXCLIENTS)
                    && v > crate::tunables::MAXCLIENTS.get()
                {
                    if let Err(fit) = crate::ops::fit_maxclients(v, ctx.nshards) {
                        failed(
                            name,
                            &format!(
                                "The operating system is not able to handle the specified \
                                 number of clients, try with {fit}"
                            ),
                            out,
                        );
                        return;
                    }
                }
                Settable::Tunable(t, v)
            }
            Named::Directive(_) => match canonical {
                "save" => match crate::persist::parse_save_params(&scratch.save) {
                    Ok(p) => Settable::Save(p),
                    Err(why) => {
                        failed(name, &why, out);
                        return;
                    }
                },
                "rdbcompression" => Settable::Compression(scratch.rdbcompression),
                "loglevel" => Settable::Loglevel(scratch.loglevel),
                "protected-mode" => Settable::ProtectedMode(scratch.protected_mode),
                "stop-writes-on-bgsave-error" => {
                    Settable::StopWrites(scratch.stop_writes_on_bgsave_error)
                }
                "requirepass" => Settable::Requirepass(scratch.requirepass),
                "client-output-buffer-limit" => Settable::Obuf(scratch.obuf_limits),
                "notify-keyspace-events" => Settable::Notify(scratch.notify_keyspace_events),
                "dir" => Settable::Dir(
                    std::fs::canonicalize(&scratch.dir).unwrap_or(scratch.dir.clone()),
                ),
                "dbfilename" => Settable::Dbfilename(scratch.dbfilename),
                // maxmemory-policy: only noeviction passes the check above.
                _ => continue,
            },
        };
        changes.push(change);
    }
    let mut st = ctx.shared.persist();
    for c in changes {
        match c {
            Settable::Save(p) => st.save_params = p,
            Settable::Compression(b) => st.compress = b,
            Settable::Tunable(t, v) => t.set(v),
            Settable::Loglevel(l) => crate::logging::set_level(&l),
            Settable::ProtectedMode(b) => {
                crate::tunables::PROTECTED_MODE.store(b, std::sync::atomic::Ordering::Relaxed)
            }
            Settable::StopWrites(b) => crate::tunables::STOP_WRITES_ON_BGSAVE_ERROR
                .store(b, std::sync::atomic::Ordering::Relaxed),
            Settable::Requirepass(p) => crate::tunables::set_requirepass(p.as_bytes()),
            Settable::Obuf(l) => crate::config::set_obuf_limits(&l),
            Settable::Notify(f) => crate::notify::set_flags(f),
            // The snapshot on disk stays where it is; the next save writes to the new place.
            Settable::Dir(d) => {
                st.paths = crate::persist::Paths::new(&d, &st.paths.dbfilename.clone());
                st.current = None;
            }
            Settable::Dbfilename(n) => {
                st.paths = crate::persist::Paths::new(&st.paths.dir.clone(), &n);
                st.current = None;
            }
        }
    }
    ctx.shared.sync_disk_error(&st);
    out.ok();
}

/// CONFIG REWRITE: the config file with the values in force now (see [`crate::config::rewrite`]).
fn config_rewrite(ctx: &mut ConnCtx<'_>, out: &mut Reply) {
    let Some(path) = ctx.config.config_file.clone() else {
        out.error("ERR The server is running without a config file");
        return;
    };
    match crate::config::rewrite(&path, ctx.config, &live(ctx)) {
        Ok(()) => {
            tracing::info!("CONFIG REWRITE executed with success.");
            out.ok();
        }
        Err(e) => {
            tracing::warn!("CONFIG REWRITE failed: {e}");
            out.error(&format!("ERR {e}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cmd::string::tests::run;
    use crate::cmd::{ConnCtx, Handler, Session};
    use crate::config::Config;
    use crate::keyspace::Keyspace;
    use crate::resp::{CmdBatch, Proto, Reply};
    use clap::Parser;

    fn conn(session: &mut Session, args: &[&str]) -> String {
        let config = Config::parse_from(["redis-lite", "--save", ""]);
        let batch = CmdBatch::from_args(args.iter().copied());
        let argv = batch.get(0);
        let spec = &crate::cmd::table()[crate::cmd::lookup(argv.get(0)).unwrap()];
        let mut out = Reply::new(session.proto);
        if !spec.arity_ok(argv.len()) {
            crate::cmd::arity_error(spec.name, &mut out);
        } else {
            let f = match spec.handler {
                Handler::Conn(f) => f,
                // RESETSTAT aside (it needs cores), CONFIG is connection-level.
                _ if spec.name == "config" => super::config,
                _ => panic!("not a connection command"),
            };
            let shared = crate::shard::Shared::new(
                2,
                &config,
                std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
            );
            let mut ctx = ConnCtx {
                session,
                config: &config,
                shared: &shared,
                port: 6380,
                nshards: 2,
            };
            f(&mut ctx, argv, &mut out);
        }
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    fn c(args: &[&str]) -> String {
        conn(&mut Session::default(), args)
    }

    #[test]
    fn ping_echo_quit() {
        assert_eq!(c(&["PING"]), "+PONG\r\n");
        assert_eq!(c(&["ping", "hello world"]), "$11\r\nhello world\r\n");
        assert_eq!(
            c(&["PING", "a", "b"]),
            "-ERR wrong number of arguments for 'ping' command\r\n"
        );
        assert_eq!(c(&["ECHO", ""]), "$0\r\n\r\n");
        assert_eq!(
            c(&["ECHO"]),
            "-ERR wrong number of arguments for 'echo' command\r\n"
        );
        let mut s = Session::default();
        assert_eq!(conn(&mut s, &["QUIT"]), "+OK\r\n");
        assert!(s.close_after_reply);
    }

    #[test]
    fn select() {
        let mut s = Session::default();
        assert_eq!(conn(&mut s, &["SELECT", "15"]), "+OK\r\n");
        assert_eq!(s.db, 15);
        assert_eq!(
            conn(&mut s, &["SELECT", "16"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            conn(&mut s, &["SELECT", "-1"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            conn(&mut s, &["SELECT", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            conn(&mut s, &["SELECT", "1.0"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            conn(&mut s, &["SELECT", "99999999999"]),
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
        );
        assert_eq!(s.db, 15);
    }

    #[test]
    fn config_get_set() {
        assert_eq!(
            c(&["CONFIG", "GET", "save"]),
            "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
        );
        assert_eq!(
            c(&["CONFIG", "GET", "appendonly"]),
            "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
        );
        assert_eq!(
            c(&["config", "get", "SAVE"]),
            "*2\r\n$4\r\nSAVE\r\n$0\r\n\r\n"
        );
        assert_eq!(
            c(&["CONFIG", "GET", "save", "SAVE", "sav*"]),
            "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
        );
        assert_eq!(
            c(&["CONFIG", "GET", "PORT"]),
            "*2\r\n$4\r\nPORT\r\n$4\r\n6380\r\n"
        );
        assert_eq!(c(&["CONFIG", "GET", "nonexistent"]), "*0\r\n");
        let all = c(&["CONFIG", "GET", "*"]);
        // 29 directives, 14 tunables, 6 old names or aliases, io-threads.
        assert!(all.starts_with("*100\r\n"), "{all}");
        let db = c(&["CONFIG", "GET", "data*"]);
        assert_eq!(db, "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n");
        let mut s = Session {
            proto: Proto::Resp3,
            ..Session::default()
        };
        assert_eq!(
            conn(&mut s, &["CONFIG", "GET", "save"]),
            "%1\r\n$4\r\nsave\r\n$0\r\n\r\n"
        );

        assert_eq!(
            c(&["CONFIG"]),
            "-ERR wrong number of arguments for 'config' command\r\n"
        );
        assert_eq!(
            c(&["CONFIG", "GET"]),
            "-ERR wrong number of arguments for 'config|get' command\r\n"
        );
        assert_eq!(
            c(&["CONFIG", "SET", "foo"]),
            "-ERR wrong number of arguments for 'config|set' command\r\n"
        );
        assert_eq!(
            c(&["CONFIG", "foo"]),
            "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n"
        );
        assert_eq!(
            c(&["config", "foo"]),
            "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n"
        );
        assert_eq!(
            c(&["CONFIG", "SET", "foo", "bar"]),
            "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n"
        );
        assert_eq!(
            c(&["CONFIG", "SET", "save", "", "x"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(c(&["CONFIG", "SET", "save", ""]), "+OK\r\n");
        assert_eq!(
            c(&["CONFIG", "SET", "appendonly", "no", "save", ""]),
            "+OK\r\n"
        );
        assert_eq!(c(&["CONFIG", "SET", "save", "3600 1 300 100"]), "+OK\r\n");
        assert_eq!(
            c(&["CONFIG", "SET", "save", "10"]),
            "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n"
        );
        assert_eq!(
            c(&["CONFIG", "SET", "save", "", "save", ""]),
            "-ERR CONFIG SET failed (possibly related to argument 'save') - duplicate parameter\r\n"
        );
        assert_eq!(c(&["CONFIG", "SET", "rdbcompression", "NO"]), "+OK\r\n");
        assert_eq!(
            c(&["CONFIG", "SET", "rdbcompression", "maybe"]),
            "-ERR CONFIG SET failed (possibly related to argument 'rdbcompression') - argument must be 'yes' or 'no'\r\n"
        );
        assert!(c(&["CONFIG", "SET", "appendonly", "yes"])
            .starts_with("-ERR CONFIG SET failed (possibly related to argument 'appendonly')"));
        assert_eq!(
            c(&["CONFIG", "RESETSTAT", "x"]),
            "-ERR wrong number of arguments for 'config|resetstat' command\r\n"
        );
        assert_eq!(
            c(&["CONFIG", "REWRITE"]),
            "-ERR The server is running without a config file\r\n"
        );
        assert!(c(&["CONFIG", "HELP"]).starts_with("*11\r\n+CONFIG <subcommand>"));
    }

    #[test]
    fn dbsize_flush() {
        let ks = &mut Keyspace::new(16);
        const NOW: i64 = 1_000;
        assert_eq!(run(ks, NOW, &[b"DBSIZE"]), ":0\r\n");
        run(ks, NOW, &[b"MSET", b"a", b"1", b"b", b"2"]);
        assert_eq!(run(ks, NOW, &[b"DBSIZE"]), ":2\r\n");
        assert_eq!(
            run(ks, NOW, &[b"DBSIZE", b"x"]),
            "-ERR wrong number of arguments for 'dbsize' command\r\n"
        );
        assert_eq!(run(ks, NOW, &[b"FLUSHDB", b"x"]), "-ERR syntax error\r\n");
        assert_eq!(
            run(ks, NOW, &[b"FLUSHALL", b"async", b"x"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(run(ks, NOW, &[b"FLUSHDB", b"SYNC"]), "+OK\r\n");
        assert_eq!(run(ks, NOW, &[b"DBSIZE"]), ":0\r\n");
        run(ks, NOW, &[b"SET", b"a", b"1"]);
        assert_eq!(run(ks, NOW, &[b"FLUSHALL", b"ASYNC"]), "+OK\r\n");
        assert_eq!(run(ks, NOW, &[b"FLUSHALL"]), "+OK\r\n");
        assert!(ks.is_empty());
    }
}
