//! The connection commands clients send on connect: HELLO, RESET and CLIENT (Redis 7.0
//! `networking.c`; CLIENT SETINFO and NO-TOUCH as Redis 7.2, since client libraries send them).
//!
//! CLIENT runs on the connection's core (`Handler::Async`) because LIST, KILL and UNBLOCK reach
//! the clients of every core (see [`crate::clients`]). HELLO and RESET only touch the session.
//! Client tracking (TRACKING, CACHING) is not implemented: those are unknown subcommands.

use super::string::opt_is;
use super::{arity_error, err, flags, parse_i64, CommandSpec, ConnCtx, Handler, Route, Session};
use crate::access;
use crate::clients::{self, flag, Answer, KillFilter, LastCmd, Query};
use crate::resp::{Argv, Proto, Reply};
use crate::shard::{now_ms, Core};
use std::rc::Rc;

type AsyncOut<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

/// CLIENT's subcommands with Redis's arity (argv[0] included), as its command table has them.
const ARITY: &[(&str, i32)] = &[
    ("help", 2),
    ("id", 2),
    ("info", 2),
    ("list", -2),
    ("reply", 3),
    ("no-evict", 3),
    ("no-touch", 3),
    ("kill", -3),
    ("unblock", -3),
    ("setname", 3),
    ("getname", 2),
    ("setinfo", 4),
    ("unpause", 2),
    ("pause", -3),
    ("getredir", 2),
    ("trackinginfo", 2),
];

/// CLIENT's subcommand names (for `cmd=client|…` in CLIENT LIST).
pub const SUBCOMMANDS: &[&str] = &[
    "help",
    "id",
    "info",
    "list",
    "reply",
    "no-evict",
    "no-touch",
    "kill",
    "unblock",
    "setname",
    "getname",
    "setinfo",
    "unpause",
    "pause",
    "getredir",
    "trackinginfo",
];

const NAME_ERR: &str = "ERR Client names cannot contain spaces, newlines or special characters.";

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    let conn = |name, arity, f| CommandSpec {
        name,
        arity,
        flags: NOSCRIPT | LOADING | STALE | FAST,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Conn(f),
    };
    t.push(conn("auth", -2, auth));
    t.push(conn("hello", -1, hello));
    t.push(conn("reset", 1, reset));
    t.push(CommandSpec {
        name: "client",
        arity: -2,
        flags: LOADING | STALE,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Async(client),
    });
}

/// The bytes of a C string argument (up to its first NUL), at most `max` of them.
fn c_str(a: &[u8], max: usize) -> &[u8] {
    let end = a.iter().position(|&b| b == 0).unwrap_or(a.len());
    &a[..end.min(max)]
}

/// `<prefix><arg><suffix>` as an error (Redis's `addReplyErrorFormat` with a `%s` argument).
fn error_with(out: &mut Reply, prefix: &str, arg: &[u8], suffix: &str) {
    let mut m = Vec::with_capacity(prefix.len() + arg.len() + suffix.len());
    m.extend_from_slice(prefix.as_bytes());
    m.extend_from_slice(arg);
    m.extend_from_slice(suffix.as_bytes());
    out.error_bytes(&m);
}

/// Redis's `validateClientAttr`: printable ASCII without spaces.
fn valid_attr(v: &[u8]) -> bool {
    v.iter().all(|b| (b'!'..=b'~').contains(b))
}

/// CLIENT SETNAME / HELLO SETNAME: false (nothing changed) if the name is invalid; an empty name
/// removes it.
fn set_name(s: &mut Session, name: &[u8]) -> bool {
    if !valid_attr(name) {
        return false;
    }
    let v = (!name.is_empty()).then(|| name.to_vec());
    *s.client.name.borrow_mut() = v.as_deref().map(Into::into);
    s.name = v;
    true
}

/// AUTH [username] password (Redis 7.0 `authCommand`): only the `default` user exists.
fn auth(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    if argv.len() > 3 {
        return out.error(err::SYNTAX);
    }
    let (user, pass): (&[u8], &[u8]) = if argv.len() == 2 {
        if !access::password_set() {
            return out.error(access::AUTH_WITHOUT_PASSWORD);
        }
        (b"default", argv.get(1))
    } else {
        (argv.get(1), argv.get(2))
    };
    if access::check_credentials(user, pass) {
        ctx.session.authenticated = true;
        out.ok();
    } else {
        out.error(access::WRONGPASS);
    }
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]. Options apply in order, as in
/// Redis (a SETNAME before a bad option stays; a failed AUTH stops there).
fn hello(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let mut ver = None;
    let mut j = 1;
    if argv.len() >= 2 {
        let Some(v) = parse_i64(argv.get(1)) else {
            return out.error("ERR Protocol version is not an integer or out of range");
        };
        if !(2..=3).contains(&v) {
            return out.error("NOPROTO unsupported protocol version");
        }
        ver = Some(if v == 3 { Proto::Resp3 } else { Proto::Resp2 });
        j = 2;
    }
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = argv.get(j);
        if opt_is(opt, "auth") && more >= 2 {
            if !access::check_credentials(argv.get(j + 1), argv.get(j + 2)) {
                return out.error(access::WRONGPASS);
            }
            ctx.session.authenticated = true;
            j += 3;
        } else if opt_is(opt, "setname") && more >= 1 {
            if !set_name(ctx.session, argv.get(j + 1)) {
                return out.error(NAME_ERR);
            }
            j += 2;
        } else {
            return error_with(
                out,
                "ERR Syntax error in HELLO option '",
                c_str(opt, usize::MAX),
                "'",
            );
        }
    }
    // Redis checks the flag, not whether a password is set now.
    if !ctx.session.authenticated {
        return out.error(access::HELLO_NOAUTH);
    }
    let s = &mut *ctx.session;
    if let Some(p) = ver {
        s.proto = p;
        out.proto = p;
    }
    s.client.sync(s.db, s.proto);
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(crate::persist::sink::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if s.proto == Proto::Resp3 { 3 } else { 2 });
    out.bulk(b"id");
    out.int(s.id as i64);
    out.bulk(b"mode");
    out.bulk(if crate::cluster::enabled() {
        b"cluster".as_slice()
    } else {
        b"standalone"
    });
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
}

/// RESET: back to a fresh connection's state (RESP2, db 0, no name, replies on), `+RESET`.
fn reset(ctx: &mut ConnCtx<'_>, _argv: Argv<'_>, out: &mut Reply) {
    let s = &mut *ctx.session;
    s.db = 0;
    s.proto = Proto::Resp2;
    out.proto = Proto::Resp2;
    s.name = None;
    *s.client.name.borrow_mut() = None;
    // Redis clears OFF and SKIP_NEXT (a RESET that is itself skipped stays silent).
    s.reply_off = false;
    s.reply_skip_next = false;
    // 7.2 clears NO-TOUCH; NO-EVICT survives RESET in 7.0.
    s.client.set_flag(flag::NO_TOUCH, false);
    s.client.sync(0, Proto::Resp2);
    // Redis's RESET discards the transaction and unwatches.
    s.multi = None;
    crate::cmd::multi::forget_watch(s);
    crate::cmd::pubsub::forget(s);
    // Redis's clientSetDefaultAuth: back to the default user, logged out if it has a password.
    s.authenticated = access::initially_authenticated();
    out.simple("RESET");
}

fn client<'a>(
    core: &'a Rc<Core>,
    s: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(client_cmd(core, s, argv, out))
}

async fn client_cmd(core: &Rc<Core>, s: &mut Session, argv: Argv<'_>, out: &mut Reply) {
    let sub = argv.get(1);
    let Some(&(name, arity)) = ARITY.iter().find(|(n, _)| opt_is(sub, n)) else {
        return super::unknown_subcommand(argv, out);
    };
    let argc = argv.len() as i32;
    if (arity >= 0 && argc != arity) || argc < -arity {
        return arity_error(&format!("client|{name}"), out);
    }
    // What CLIENT LIST/INFO shows for the caller itself.
    let me = s.client.clone();
    me.sync(s.db, s.proto);
    me.last_cmd.set(LastCmd::of(argv));
    me.argv_mem
        .set(argv.iter().map(|a| a.len() as u64).sum::<u64>());
    match name {
        "help" => help(argv, out),
        "id" => out.int(s.id as i64),
        "info" => {
            let mut line = String::with_capacity(320);
            me.info_line(now_ms(), &mut line);
            line.push('\n');
            out.verbatim(line.as_bytes(), "txt");
        }
        "list" => list(core, argv, out).await,
        "reply" => {
            let v = argv.get(2);
            if opt_is(v, "on") {
                s.reply_off = false;
                s.reply_skip = false;
                out.ok();
            } else if opt_is(v, "off") {
                s.reply_off = true;
            } else if opt_is(v, "skip") {
                if !s.reply_off {
                    s.reply_skip_next = true;
                }
            } else {
                out.error(err::SYNTAX);
            }
        }
        "no-evict" | "no-touch" => {
            let f = if name == "no-evict" {
                flag::NO_EVICT
            } else {
                flag::NO_TOUCH
            };
            let v = argv.get(2);
            if opt_is(v, "on") {
                me.set_flag(f, true);
                out.ok();
            } else if opt_is(v, "off") {
                me.set_flag(f, false);
                out.ok();
            } else {
                out.error(err::SYNTAX);
            }
        }
        "kill" => kill(core, s, argv, out).await,
        "unblock" => unblock(core, argv, out).await,
        "setname" => {
            if set_name(s, argv.get(2)) {
                out.ok();
            } else {
                out.error(NAME_ERR);
            }
        }
        "getname" => match me.name.borrow().as_deref() {
            Some(n) => out.bulk(n),
            None => out.null(),
        },
        "setinfo" => setinfo(&me, argv, out),
        "unpause" => {
            clients::unpause();
            out.ok();
        }
        "pause" => pause(argv, out),
        // Tracking is never on, so there is no redirection.
        "getredir" => out.int(-1),
        "trackinginfo" => {
            out.map(3);
            out.bulk(b"flags");
            out.set(1);
            out.bulk(b"off");
            out.bulk(b"redirect");
            out.int(-1);
            out.bulk(b"prefixes");
            out.array(0);
        }
        _ => out.error("ERR internal: unhandled CLIENT subcommand"),
    }
    me.argv_mem.set(0);
}

/// Redis's `addReplySubcommandSyntaxError`.
fn sub_syntax_error(argv: Argv<'_>, out: &mut Reply) {
    let mut cmd = c_str(argv.get(0), usize::MAX).to_vec();
    cmd.make_ascii_uppercase();
    let mut m = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    m.extend_from_slice(c_str(argv.get(1), 128));
    m.extend_from_slice(b"'. Try ");
    m.extend_from_slice(&cmd);
    m.extend_from_slice(b" HELP.");
    out.error_bytes(&m);
}

fn help(argv: Argv<'_>, out: &mut Reply) {
    const HELP: &[&str] = &[
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
    ];
    let mut cmd = String::from_utf8_lossy(c_str(argv.get(0), usize::MAX)).into_owned();
    cmd.make_ascii_uppercase();
    out.array(HELP.len() + 3);
    out.simple(&format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for line in HELP {
        out.simple(line);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

/// A client type name: `Some(true)` for normal (every client here), `Some(false)` for a type no
/// client here has (master, replica/slave, pubsub), `None` if unknown.
fn client_type(name: &[u8]) -> Option<bool> {
    if opt_is(name, "normal") {
        Some(true)
    } else if ["slave", "replica", "pubsub", "master"]
        .iter()
        .any(|t| opt_is(name, t))
    {
        Some(false)
    } else {
        None
    }
}

/// CLIENT LIST [TYPE type | ID id …]: the clients of every core, in connection order (or the
/// given ids' order, repeats included, as Redis).
async fn list(core: &Rc<Core>, argv: Argv<'_>, out: &mut Reply) {
    let argc = argv.len();
    let mut ids: Option<Vec<i64>> = None;
    if argc == 4 && opt_is(argv.get(2), "type") {
        match client_type(argv.get(3)) {
            None => {
                return error_with(
                    out,
                    "ERR Unknown client type '",
                    c_str(argv.get(3), usize::MAX),
                    "'",
                )
            }
            Some(false) => return out.verbatim(b"", "txt"),
            Some(true) => {}
        }
    } else if argc > 3 && opt_is(argv.get(2), "id") {
        let mut v = Vec::with_capacity(argc - 3);
        for a in argv.tail(3) {
            match parse_i64(a) {
                Some(id) => v.push(id),
                None => return out.error("ERR Invalid client ID"),
            }
        }
        ids = Some(v);
    } else if argc != 2 {
        return out.error(err::SYNTAX);
    }
    let want = ids
        .as_ref()
        .map(|v| v.iter().filter(|&&i| i > 0).map(|&i| i as u64).collect());
    let mut lines: Vec<(u64, String)> = Vec::new();
    for a in clients::ask_all(core, Query::List(want)).await {
        if let Answer::Lines(l) = a {
            lines.extend(l);
        }
    }
    lines.sort_unstable_by_key(|(id, _)| *id);
    let mut text = String::with_capacity(lines.len() * 320);
    let mut push = |line: &str| {
        text.push_str(line);
        text.push('\n');
    };
    match ids {
        None => lines.iter().for_each(|(_, l)| push(l)),
        Some(ids) => {
            for id in ids {
                if let Ok(i) = lines.binary_search_by_key(&(id as u64), |(id, _)| *id) {
                    push(&lines[i].1);
                }
            }
        }
    }
    out.verbatim(text.as_bytes(), "txt");
}

/// CLIENT KILL addr | CLIENT KILL [ID id] [TYPE t] [ADDR a] [LADDR a] [USER u] [SKIPME yes|no]…
async fn kill(core: &Rc<Core>, s: &mut Session, argv: Argv<'_>, out: &mut Reply) {
    let argc = argv.len();
    let old_form = argc == 3;
    let mut f = KillFilter {
        skipme: true,
        me: s.id,
        ..KillFilter::default()
    };
    // A TYPE no client here has: nothing can match.
    let mut none = false;
    if old_form {
        f.addr = Some(c_str(argv.get(2), usize::MAX).to_vec());
        // With the old form a client may kill itself.
        f.skipme = false;
    } else {
        let mut i = 2;
        while i < argc {
            let opt = argv.get(i);
            if i + 1 >= argc {
                return out.error(err::SYNTAX);
            }
            let val = argv.get(i + 1);
            if opt_is(opt, "id") {
                match parse_i64(val) {
                    Some(id) if id >= 1 => f.id = Some(id as u64),
                    _ => return out.error("ERR client-id should be greater than 0"),
                }
            } else if opt_is(opt, "type") {
                match client_type(val) {
                    None => {
                        return error_with(
                            out,
                            "ERR Unknown client type '",
                            c_str(val, usize::MAX),
                            "'",
                        )
                    }
                    Some(normal) => none |= !normal,
                }
            } else if opt_is(opt, "addr") {
                f.addr = Some(c_str(val, usize::MAX).to_vec());
            } else if opt_is(opt, "laddr") {
                f.laddr = Some(c_str(val, usize::MAX).to_vec());
            } else if opt_is(opt, "user") {
                // Only the default user exists (until ACLs come).
                if val != b"default" {
                    return error_with(out, "ERR No such user '", c_str(val, usize::MAX), "'");
                }
            } else if opt_is(opt, "skipme") {
                if opt_is(val, "yes") {
                    f.skipme = true;
                } else if opt_is(val, "no") {
                    f.skipme = false;
                } else {
                    return out.error(err::SYNTAX);
                }
            } else {
                return out.error(err::SYNTAX);
            }
            i += 2;
        }
    }
    let (mut count, mut me) = (0u64, false);
    if !none {
        for a in clients::ask_all(core, Query::Kill(f)).await {
            if let Answer::Killed { count: c, me: m } = a {
                count += c;
                me |= m;
            }
        }
    }
    if old_form {
        if count == 0 {
            out.error("ERR No such client");
        } else {
            out.ok();
        }
    } else {
        out.int(count as i64);
    }
    // Killing itself: the reply goes out, then the connection closes.
    if me {
        s.close_after_reply = true;
    }
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: a client waiting in BLPOP & co replies as on a timeout, or
/// with an UNBLOCKED error.
async fn unblock(core: &Rc<Core>, argv: Argv<'_>, out: &mut Reply) {
    let argc = argv.len();
    if argc != 3 && argc != 4 {
        return sub_syntax_error(argv, out);
    }
    let mut error = false;
    if argc == 4 {
        let r = argv.get(3);
        if opt_is(r, "timeout") {
            error = false;
        } else if opt_is(r, "error") {
            error = true;
        } else {
            return out.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
        }
    }
    let Some(id) = parse_i64(argv.get(2)) else {
        return out.error(err::NOT_INTEGER);
    };
    let mut done = false;
    if id > 0 {
        let q = Query::Unblock {
            id: id as u64,
            error,
        };
        for a in clients::ask_all(core, q).await {
            done |= matches!(a, Answer::Unblocked(true));
        }
    }
    out.int(done as i64);
}

/// CLIENT PAUSE timeout [WRITE|ALL] (milliseconds).
fn pause(argv: Argv<'_>, out: &mut Reply) {
    let argc = argv.len();
    if argc != 3 && argc != 4 {
        return sub_syntax_error(argv, out);
    }
    let mut all = true;
    if argc == 4 {
        let m = argv.get(3);
        if opt_is(m, "write") {
            all = false;
        } else if !opt_is(m, "all") {
            return out.error("ERR CLIENT PAUSE mode must be WRITE or ALL");
        }
    }
    let Some(ms) = parse_i64(argv.get(2)) else {
        return out.error("ERR timeout is not an integer or out of range");
    };
    if ms < 0 {
        return out.error("ERR timeout is negative");
    }
    let end = if ms > 0 {
        now_ms().saturating_add(ms)
    } else {
        0
    };
    clients::pause(end, all);
    out.ok();
}

/// CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2).
fn setinfo(me: &clients::Client, argv: Argv<'_>, out: &mut Reply) {
    let attr = argv.get(2);
    let slot = if opt_is(attr, "lib-name") {
        &me.lib_name
    } else if opt_is(attr, "lib-ver") {
        &me.lib_ver
    } else {
        return error_with(
            out,
            "ERR Unrecognized option '",
            c_str(attr, usize::MAX),
            "'",
        );
    };
    let val = c_str(argv.get(3), usize::MAX);
    if !valid_attr(val) {
        return error_with(
            out,
            "ERR ",
            c_str(attr, usize::MAX),
            " cannot contain spaces, newlines or special characters.",
        );
    }
    *slot.borrow_mut() = (!val.is_empty()).then(|| val.into());
    out.ok();
}
