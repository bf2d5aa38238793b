//! The clients each core serves (CLIENT LIST/INFO/KILL/UNBLOCK) and the process-wide CLIENT PAUSE.
//!
//! Each core keeps a registry of its own connections ([`Registry`], `Core::clients`). A connection
//! shares an `Rc<Client>` with it and refreshes a few cells once per read batch, so listing costs
//! the connections nothing per command. Commands that look at every client ask each other core
//! with a `Ctrl::Clients` message, answered synchronously from that core's registry
//! ([`answer`]): only owned, `Send` data crosses cores.
//!
//! CLIENT PAUSE is one atomic word read once per command while a pause is set ([`pause_set`]), so
//! every core sees it the moment the PAUSE command replies.

use crate::blocking::Flag;
use crate::cmd::{self, flags};
use crate::resp::{Argv, Proto};
use crate::shard::{now_ms, Core, Ctrl};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// `Client::flags` bits (the ones CLIENT LIST shows).
pub mod flag {
    /// CLIENT NO-EVICT ON ('e').
    pub const NO_EVICT: u8 = 1 << 0;
    /// CLIENT NO-TOUCH ON ('T', Redis 7.2).
    pub const NO_TOUCH: u8 = 1 << 1;
    /// Waiting in a blocking command (BLPOP & co): CLIENT UNBLOCK applies ('b').
    pub const BLOCKED: u8 = 1 << 2;
    /// Held by CLIENT PAUSE ('b', as Redis's postponed clients).
    pub const PAUSED: u8 = 1 << 3;
    /// Subscribed to channels, patterns or shard channels ('P'); no idle timeout.
    pub const PUBSUB: u8 = 1 << 4;
}

/// How many bytes of a command's name (and of its subcommand) the per-batch note keeps; longer
/// names are no command of ours.
const NAME_MAX: usize = 24;

/// The last command a client sent, as raw bytes (copied once per batch; resolved to Redis's
/// `fullname` only when someone lists the client).
#[derive(Clone, Copy, Debug, Default)]
pub struct LastCmd {
    name: [u8; NAME_MAX],
    sub: [u8; NAME_MAX],
    name_len: u8,
    sub_len: u8,
    /// The command had a second argument (a container's subcommand).
    has_sub: bool,
    /// A name longer than `NAME_MAX`: not a command.
    too_long: bool,
    set: bool,
}

impl LastCmd {
    pub fn of(argv: Argv<'_>) -> LastCmd {
        let mut l = LastCmd {
            set: true,
            ..LastCmd::default()
        };
        let name = argv.get(0);
        if name.len() > NAME_MAX {
            l.too_long = true;
            return l;
        }
        l.name[..name.len()].copy_from_slice(name);
        l.name_len = name.len() as u8;
        if argv.len() > 1 {
            l.has_sub = true;
            let sub = argv.get(1);
            let n = sub.len().min(NAME_MAX);
            l.sub[..n].copy_from_slice(&sub[..n]);
            // A cut subcommand must not match a real one.
            l.sub_len = if sub.len() > NAME_MAX { 0 } else { n as u8 };
        }
        l
    }

    /// Redis's `lastcmd->fullname`: `get`, `client|list`; `NULL` before any command and for
    /// unknown commands or subcommands.
    pub fn fullname(&self) -> String {
        if !self.set || self.too_long {
            return "NULL".into();
        }
        let Some(i) = cmd::lookup(&self.name[..self.name_len as usize]) else {
            return "NULL".into();
        };
        let spec = &cmd::table()[i];
        if spec.flags & flags::INTERNAL != 0 {
            return "NULL".into();
        }
        let subs: &[&str] = match spec.name {
            "client" => crate::cmd::client::SUBCOMMANDS,
            "config" => &["get", "set", "resetstat", "rewrite", "help"],
            _ => return spec.name.into(),
        };
        if !self.has_sub {
            return spec.name.into();
        }
        let sub = &self.sub[..self.sub_len as usize];
        match subs
            .iter()
            .find(|s| !sub.is_empty() && s.as_bytes().eq_ignore_ascii_case(sub))
        {
            Some(s) => format!("{}|{s}", spec.name),
            None => "NULL".into(),
        }
    }
}

/// One connection, as CLIENT LIST sees it. Shared (`Rc`) between the connection's loop and its
/// core's registry; only that core's thread touches it.
#[derive(Debug, Default)]
pub struct Client {
    pub id: u64,
    pub fd: i32,
    /// Peer address, `ip:port` (`[ip]:port` for IPv6), as Redis prints it.
    pub addr: String,
    /// Local address the client connected to.
    pub laddr: String,
    pub created_ms: i64,
    /// Last read batch (Redis's `lastinteraction`).
    pub last_ms: Cell<i64>,
    pub db: Cell<usize>,
    pub resp: Cell<u8>,
    pub name: RefCell<Option<Box<[u8]>>>,
    pub lib_name: RefCell<Option<Box<[u8]>>>,
    pub lib_ver: RefCell<Option<Box<[u8]>>>,
    pub flags: Cell<u8>,
    pub last_cmd: Cell<LastCmd>,
    /// Unparsed input bytes and the free room after them in the read buffer.
    pub qbuf: Cell<u32>,
    pub qbuf_free: Cell<u32>,
    /// Argument bytes of the command being executed (a blocked client's, the lister's own).
    pub argv_mem: Cell<u64>,
    /// Output buffer capacity and the size of the last batch's replies.
    pub rbs: Cell<u64>,
    pub rbp: Cell<u64>,
    /// Read plus output buffer bytes.
    pub buf_mem: Cell<u64>,
    /// Set by CLIENT KILL: the connection stops at its next step (its socket is shut too).
    pub killed: Cell<bool>,
    /// Set by CLIENT UNBLOCK while the client waits in a blocking command.
    pub unblock: Flag,
    /// CLIENT UNBLOCK … ERROR (else the waiter replies as on a timeout).
    pub unblock_error: Cell<bool>,
    /// While a write over the soft output-buffer limit is pending: when the client cron closes
    /// the client if the write has not finished (unix ms; 0 = none).
    pub soft_deadline_ms: Cell<i64>,
}

impl Client {
    pub fn new(id: u64, fd: i32, addr: String, laddr: String) -> Client {
        let now = now_ms();
        Client {
            id,
            fd,
            addr,
            laddr,
            created_ms: now,
            last_ms: Cell::new(now),
            resp: Cell::new(2),
            ..Client::default()
        }
    }

    pub fn set_flag(&self, f: u8, on: bool) {
        let v = self.flags.get();
        self.flags.set(if on { v | f } else { v & !f });
    }

    pub fn has_flag(&self, f: u8) -> bool {
        self.flags.get() & f != 0
    }

    /// Mirrors the session's db and protocol (they change through commands we don't own).
    pub fn sync(&self, db: usize, proto: Proto) {
        self.db.set(db);
        self.resp.set(match proto {
            Proto::Resp2 => 2,
            Proto::Resp3 => 3,
        });
    }

    /// Appends Redis 7.0's CLIENT LIST line (with 7.2's lib-name/lib-ver), without the newline.
    pub fn info_line(&self, now_ms: i64, s: &mut String) {
        let mut fl = String::new();
        if self.has_flag(flag::PUBSUB) {
            fl.push('P');
        }
        if self.has_flag(flag::BLOCKED | flag::PAUSED) {
            fl.push('b');
        }
        if self.has_flag(flag::NO_EVICT) {
            fl.push('e');
        }
        if self.has_flag(flag::NO_TOUCH) {
            fl.push('T');
        }
        if fl.is_empty() {
            fl.push('N');
        }
        let text = |v: &RefCell<Option<Box<[u8]>>>| {
            v.borrow()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let qbuf = self.qbuf.get() as u64;
        let _ = write!(
            s,
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={fl} db={} sub=0 psub=0 \
             ssub=0 multi=-1 qbuf={qbuf} qbuf-free={} argv-mem={} multi-mem=0 rbs={} rbp={} \
             obl=0 oll=0 omem=0 tot-mem={} events=r cmd={} user=default redir=-1 resp={} \
             lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            text(&self.name),
            (now_ms - self.created_ms).max(0) / 1000,
            (now_ms - self.last_ms.get()).max(0) / 1000,
            self.db.get(),
            self.qbuf_free.get(),
            self.argv_mem.get(),
            self.rbs.get(),
            self.rbp.get(),
            self.buf_mem.get() + std::mem::size_of::<Client>() as u64 + self.argv_mem.get(),
            self.last_cmd.get().fullname(),
            self.resp.get(),
            text(&self.lib_name),
            text(&self.lib_ver),
        );
    }

    /// Ends the connection from another task: its loop stops at its next read or write.
    fn kill(&self) {
        self.killed.set(true);
        // SAFETY: a plain syscall on a descriptor its connection keeps open while registered
        // (the registration is dropped before the stream), on the thread that owns both.
        unsafe {
            libc::shutdown(self.fd, libc::SHUT_RDWR);
        }
    }
}

/// One core's connections, by id (ids grow with connection order, so this is Redis's order).
#[derive(Default)]
pub struct Registry {
    map: RefCell<BTreeMap<u64, Rc<Client>>>,
}

impl Registry {
    /// Registers `c` until the returned guard drops.
    pub fn register<'a>(&'a self, c: &Rc<Client>) -> Registered<'a> {
        self.map.borrow_mut().insert(c.id, c.clone());
        Registered {
            reg: self,
            id: c.id,
        }
    }

    pub fn len(&self) -> usize {
        self.map.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.borrow().is_empty()
    }
}

/// Unregisters its client when dropped (declare it after the stream so it drops first: a kill
/// must never reach a closed, possibly reused descriptor).
pub struct Registered<'a> {
    reg: &'a Registry,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.reg.map.borrow_mut().remove(&self.id);
    }
}

/// CLIENT KILL's filters (TYPE and USER are settled by the caller: every client here is a
/// normal one, authenticated as `default`).
#[derive(Clone, Debug, Default)]
pub struct KillFilter {
    pub addr: Option<Vec<u8>>,
    pub laddr: Option<Vec<u8>>,
    pub id: Option<u64>,
    pub skipme: bool,
    /// The caller's id (never shut from here: it closes after its reply).
    pub me: u64,
}

/// A question about one core's clients.
#[derive(Clone, Debug)]
pub enum Query {
    /// CLIENT LIST lines: every client, or those with these ids.
    List(Option<Vec<u64>>),
    Kill(KillFilter),
    /// CLIENT UNBLOCK.
    Unblock {
        id: u64,
        error: bool,
    },
}

#[derive(Debug)]
pub enum Answer {
    /// (id, line) per matching client, in id order.
    Lines(Vec<(u64, String)>),
    /// How many were killed, and whether the caller itself matched (with SKIPME no).
    Killed {
        count: u64,
        me: bool,
    },
    Unblocked(bool),
}

/// Answers `q` from this core's registry (runs on the core that owns the clients).
pub fn answer(core: &Core, q: Query) -> Answer {
    let map = core.clients.map.borrow();
    let live = map.values().filter(|c| !c.killed.get());
    match q {
        Query::List(ids) => {
            let now = now_ms();
            let lines = live
                .filter(|c| ids.as_ref().is_none_or(|ids| ids.contains(&c.id)))
                .map(|c| {
                    let mut s = String::with_capacity(300);
                    c.info_line(now, &mut s);
                    (c.id, s)
                })
                .collect();
            Answer::Lines(lines)
        }
        Query::Kill(f) => {
            let (mut count, mut me) = (0, false);
            for c in live {
                if f.addr.as_deref().is_some_and(|a| a != c.addr.as_bytes())
                    || f.laddr.as_deref().is_some_and(|a| a != c.laddr.as_bytes())
                    || f.id.is_some_and(|id| id != c.id)
                {
                    continue;
                }
                if c.id == f.me {
                    if !f.skipme {
                        me = true;
                        count += 1;
                    }
                    continue;
                }
                c.kill();
                count += 1;
            }
            Answer::Killed { count, me }
        }
        Query::Unblock { id, error } => {
            let Some(c) = map.get(&id) else {
                return Answer::Unblocked(false);
            };
            if c.killed.get() || !c.has_flag(flag::BLOCKED) || c.unblock.get() {
                return Answer::Unblocked(false);
            }
            c.unblock_error.set(error);
            c.unblock.set();
            Answer::Unblocked(true)
        }
    }
}

/// How often each core looks for idle clients and stuck writes (Redis's timeout check has one
/// second resolution too).
const CRON_PERIOD: Duration = Duration::from_millis(250);

/// Per core: closes clients idle longer than `timeout` (read at each pass, so CONFIG SET applies
/// to existing clients) and clients whose write over the soft output-buffer limit outlasted its
/// seconds. Like Redis's `clientsCronHandleTimeout`, blocked (and paused) clients and pub/sub
/// subscribers never time out.
pub fn spawn_cron(core: &Rc<Core>) {
    let core = core.clone();
    glommio::spawn_local(async move {
        while !core.shared.is_stopping() {
            glommio::timer::sleep(CRON_PERIOD).await;
            cron_pass(&core.clients, now_ms(), crate::tunables::TIMEOUT.get());
        }
    })
    .detach();
}

/// One pass over a core's clients at `now` (unix ms) with `timeout` seconds (0: none).
fn cron_pass(reg: &Registry, now: i64, timeout: i64) {
    for c in reg.map.borrow().values() {
        if c.killed.get() {
            continue;
        }
        let soft = c.soft_deadline_ms.get();
        if soft != 0 && now > soft {
            tracing::debug!(
                client = c.id,
                addr = %c.addr,
                "Client closed for overcoming of output buffer limits (over the soft limit too long)."
            );
            c.kill();
        } else if timeout > 0
            && !c.has_flag(flag::BLOCKED | flag::PAUSED | flag::PUBSUB)
            && now - c.last_ms.get() > timeout.saturating_mul(1000)
        {
            tracing::debug!(client = c.id, addr = %c.addr, "Closing idle client");
            c.kill();
        }
    }
}

/// Asks every core (this one in place) and returns their answers.
pub async fn ask_all(core: &Rc<Core>, q: Query) -> Vec<Answer> {
    let mut waits = Vec::new();
    for shard in 0..core.nshards {
        if shard == core.id {
            continue;
        }
        let (tx, rx) = futures_channel::oneshot::channel();
        if core.send_ctrl(shard, Ctrl::Clients(q.clone(), tx)).await {
            waits.push(rx);
        }
    }
    let mut out = Vec::with_capacity(waits.len() + 1);
    out.push(answer(core, q));
    for rx in waits {
        if let Ok(a) = rx.await {
            out.push(a);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// CLIENT PAUSE

/// The pause in force: deadline (unix ms) << 1 | 1 when ALL commands wait; 0 when none.
static PAUSE: AtomicU64 = AtomicU64::new(0);

/// How often a held client re-checks the pause (UNPAUSE wakes it within this).
const PAUSE_POLL: Duration = Duration::from_millis(2);

fn decode(v: u64) -> (i64, bool) {
    ((v >> 1) as i64, v & 1 == 1)
}

/// CLIENT PAUSE: holds clients until `end_ms` (unix ms). A pause already in force keeps the later
/// deadline and the stricter type, as Redis's `pauseClients`.
pub fn pause(end_ms: i64, all: bool) {
    let now = now_ms();
    let end_ms = end_ms.clamp(0, i64::MAX >> 2);
    let _ = PAUSE.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |cur| {
        let (old_end, old_all) = decode(cur);
        let (end, all) = if cur != 0 && old_end > now {
            (old_end.max(end_ms), old_all || all)
        } else {
            (end_ms, all)
        };
        Some(if end <= now {
            0
        } else {
            ((end as u64) << 1) | all as u64
        })
    });
}

/// CLIENT UNPAUSE.
pub fn unpause() {
    PAUSE.store(0, Ordering::SeqCst);
}

/// Whether a pause may be in force (one relaxed load: the per-command fast path).
#[inline]
pub fn pause_set() -> bool {
    PAUSE.load(Ordering::Relaxed) != 0
}

/// Whether the pause in force holds `argv`: every command under ALL, write commands under WRITE.
/// Unknown commands and arity errors are never held (Redis rejects them first).
pub fn holds(argv: Argv<'_>) -> bool {
    let cur = PAUSE.load(Ordering::SeqCst);
    if cur == 0 {
        return false;
    }
    let (end, all) = decode(cur);
    if end <= now_ms() {
        let _ = PAUSE.compare_exchange(cur, 0, Ordering::SeqCst, Ordering::SeqCst);
        return false;
    }
    let Some(i) = cmd::lookup(argv.get(0)) else {
        return false;
    };
    let spec = &cmd::table()[i];
    if spec.flags & flags::INTERNAL != 0 || !spec.arity_ok(argv.len()) {
        return false;
    }
    all || spec.flags & flags::WRITE != 0
}

/// Holds the connection while the pause holds `argv`. Counts it as blocked meanwhile (INFO's
/// blocked_clients, flag `b`), as Redis does. False if it was killed or the server is stopping.
pub async fn wait_unpaused(core: &Core, client: &Client, argv: Argv<'_>) -> bool {
    core.blocked.set(core.blocked.get() + 1);
    client.set_flag(flag::PAUSED, true);
    let ok = loop {
        if client.killed.get() || core.shared.is_stopping() {
            break false;
        }
        if !holds(argv) {
            break true;
        }
        glommio::timer::sleep(PAUSE_POLL).await;
    };
    client.set_flag(flag::PAUSED, false);
    core.blocked.set(core.blocked.get().saturating_sub(1));
    ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::CmdBatch;

    fn last(args: &[&str]) -> String {
        let b = CmdBatch::from_args(args.iter().copied());
        LastCmd::of(b.get(0)).fullname()
    }

    #[test]
    fn fullnames() {
        assert_eq!(LastCmd::default().fullname(), "NULL");
        assert_eq!(last(&["GET", "k"]), "get");
        assert_eq!(last(&["client", "LIST"]), "client|list");
        assert_eq!(last(&["CLIENT"]), "client");
        assert_eq!(last(&["client", "nope"]), "NULL");
        assert_eq!(last(&["config", "get", "x"]), "config|get");
        assert_eq!(last(&["nosuchcommand"]), "NULL");
        assert_eq!(last(&["x".repeat(40).as_str()]), "NULL");
        assert_eq!(last(&["client", "l".repeat(40).as_str()]), "NULL");
    }

    #[test]
    fn cron_closes_idle_and_stuck_clients_only() {
        let reg = Registry::default();
        let now = now_ms();
        let mk = |id: u64, idle_ms: i64, f: u8| {
            // fd -1: shutdown(2) fails harmlessly.
            let c = Rc::new(Client::new(id, -1, String::new(), String::new()));
            c.last_ms.set(now - idle_ms);
            c.set_flag(f, true);
            c
        };
        let fresh = mk(1, 500, 0);
        let idle = mk(2, 5_000, 0);
        let blocked = mk(3, 5_000, flag::BLOCKED);
        let sub = mk(4, 5_000, flag::PUBSUB);
        let stuck = mk(5, 0, 0);
        stuck.soft_deadline_ms.set(now - 1);
        let all = [&fresh, &idle, &blocked, &sub, &stuck];
        let _guards: Vec<_> = all.iter().map(|c| reg.register(c)).collect();
        cron_pass(&reg, now, 0);
        let killed: Vec<u64> = all
            .iter()
            .filter(|c| c.killed.get())
            .map(|c| c.id)
            .collect();
        assert_eq!(killed, [5]);
        cron_pass(&reg, now, 2);
        let killed: Vec<u64> = all
            .iter()
            .filter(|c| c.killed.get())
            .map(|c| c.id)
            .collect();
        assert_eq!(killed, [2, 5]);
    }

    #[test]
    fn info_line_format() {
        let c = Client::new(7, 9, "127.0.0.1:5000".into(), "127.0.0.1:6379".into());
        *c.name.borrow_mut() = Some(b"worker"[..].into());
        c.set_flag(flag::NO_EVICT, true);
        let mut s = String::new();
        c.info_line(c.created_ms, &mut s);
        assert!(
            s.starts_with(
                "id=7 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=9 name=worker age=0 idle=0 \
                 flags=e db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 \
                 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem="
            ),
            "{s}"
        );
        assert!(
            s.ends_with(" events=r cmd=NULL user=default redir=-1 resp=2 lib-name= lib-ver="),
            "{s}"
        );
    }
}
