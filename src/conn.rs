//! One client connection: read, parse every complete request, route, write all replies at once.
//!
//! Output memory is bounded without any limit configured: replies gathered during one read batch
//! are written once they pass [`FLUSH_AT`], before the next command runs (commands forwarded to
//! other cores go in adaptive chunks, see [`Dispatcher::backlog`]), and nothing is read while a
//! write is pending. So a client that pipelines big replies and never reads holds about
//! `FLUSH_AT` plus one reply (and the kernel's socket buffer). `client-output-buffer-limit` then
//! closes such clients, as Redis does ([`flush`]). Cross-core queues stay bounded the same way: a
//! connection awaits its forwarded replies before reading more, and the mesh between cores has a
//! fixed capacity (a full queue makes the sender wait, it never grows).

use crate::clients::{self, flag, Client, LastCmd};
use crate::cmd::Session;
use crate::resp::{parse_requests_with, CmdBatch, ParseOptions, ProtoError, Reply};
use crate::router::{Dispatcher, Flow, FLUSH_AT};
use crate::shard::Core;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Initial read buffer; grows only while one frame is larger than it, and shrinks back after.
const READ_BUF: usize = 16 * 1024;

/// Most the input buffer grows past what the pending frame needs (see `serve`).
const GROW_SLACK: usize = 1024 * 1024;

/// A command arena holding more than this after its batch is freed rather than reused.
const SHRINK_AT: usize = 1024 * 1024;

/// A write at least this big may take a while: it counts as interaction for the idle timeout.
const LONG_WRITE: usize = 64 * 1024;

/// And at most once per this long, so a client alternating between shards does not bounce.
const MOVE_COOLDOWN_MS: i64 = 1000;

static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// A connection handed to another core: its socket and what its client and session carry.
///
/// Why: a client whose commands all go to one other shard (a hot key) pays a cross-core round
/// trip per read batch; served on the owner's core it pays none. Only plain sessions move (no
/// transaction, watch, subscription, blocking, pause or reply mode in progress), between batches,
/// with every reply written, so nothing in flight is left behind.
pub struct Carried {
    pub fd: Option<std::os::fd::OwnedFd>,
    id: u64,
    addr: String,
    laddr: String,
    created_ms: i64,
    name: Option<Box<[u8]>>,
    lib_name: Option<Box<[u8]>>,
    lib_ver: Option<Box<[u8]>>,
    flags: u8,
    last_cmd: LastCmd,
    db: usize,
    proto: crate::resp::Proto,
    authenticated: bool,
    session_name: Option<Vec<u8>>,
}

/// Whether the connection holds nothing that lives on this core beyond its client entry.
fn movable(core: &Core, session: &Session, client: &Client) -> bool {
    session.multi.is_none()
        && session.watch.is_none()
        && session.stale_watches.is_empty()
        && session.pubsub.is_none()
        && session.subscriptions == 0
        && !session.reply_off
        && !session.reply_skip
        && !session.reply_skip_next
        && !session.close_after_reply
        && !session.in_exec
        && client.flags.get() & (flag::BLOCKED | flag::PAUSED | flag::PUBSUB) == 0
        && !client.killed.get()
        && client.soft_deadline_ms.get() == 0
        && core.paused.get() == 0
        && !clients::pause_set()
        && !core.shared.is_stopping()
}

/// Serves one client until it disconnects, sends QUIT, breaks the protocol, is killed (CLIENT
/// KILL), or the server stops.
/// `carried` is set for a connection that moved here from another core.
pub async fn serve(core: Rc<Core>, mut stream: TcpStream, carried: Option<Box<Carried>>) {
    let _ = stream.set_nodelay(true);
    let addr = |a: Result<std::net::SocketAddr, _>| a.map(|a| a.to_string()).unwrap_or_default();
    let arrived = carried.is_some();
    let mut client = match &carried {
        Some(c) => {
            let mut cl = Client::new(c.id, stream.as_raw_fd(), c.addr.clone(), c.laddr.clone());
            cl.created_ms = c.created_ms;
            cl
        }
        None => Client::new(
            NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed),
            stream.as_raw_fd(),
            addr(stream.peer_addr()),
            addr(stream.local_addr()),
        ),
    };
    let id = client.id;
    let mut session = Session {
        id,
        authenticated: crate::access::initially_authenticated(),
        ..Session::default()
    };
    if let Some(c) = carried {
        let c = *c;
        *client.name.get_mut() = c.name;
        *client.lib_name.get_mut() = c.lib_name;
        *client.lib_ver.get_mut() = c.lib_ver;
        client.flags.set(c.flags);
        client.last_cmd.set(c.last_cmd);
        client.sync(c.db, c.proto);
        session.db = c.db;
        session.proto = c.proto;
        session.authenticated = c.authenticated;
        session.name = c.session_name;
    }
    let client = Rc::new(client);
    session.client = client.clone();
    // Dropped before `stream` (a parameter), so a kill never reaches a closed descriptor.
    let _registered = core.clients.register(&client);
    let mut inbuf = vec![0u8; READ_BUF];
    let (mut start, mut end) = (0usize, 0usize);
    let mut batch = CmdBatch::new();
    let mut out = Reply::new(session.proto);
    let mut router = Dispatcher::new(core.nshards);
    // Commands in a row whose key another single core owns, and which core (counted only while
    // `move-connections-after` is set).
    let (mut streak, mut streak_shard) = (0usize, crate::shard::NO_OWNER);
    let mut moved_ms = if arrived { core.now_ms() } else { 0 };
    // Per command of the batch, the shard owning its first argument (see `Core::route_batch`).
    let mut owners = Vec::new();

    // Bytes the unparsed input must reach before parsing can progress (the parser's hint).
    let mut needed = 0usize;
    // Bytes were read while a blocking command waited (see `Flow::Async` below).
    let mut buffered = false;
    loop {
        // Make room: compact a partial frame to the front, grow only if it fills the buffer.
        if end == inbuf.len() {
            if start > 0 {
                inbuf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            } else {
                // Doubling, but no further than the pending frame needs plus some slack: a
                // 512 MB argument then costs about 512 MB here, not a 1 GB buffer. Never more
                // than double, so a header alone cannot make it allocate what it declares.
                let len = inbuf.len();
                let want = if needed > len {
                    needed.saturating_add(len.min(GROW_SLACK)).min(len * 2)
                } else {
                    len * 2
                };
                // Redis's `client-query-buffer-limit` (CONFIG SET-able).
                if want as i64 > crate::tunables::CLIENT_QUERY_BUFFER_LIMIT.get() {
                    tracing::debug!(
                        client = session.id,
                        addr = %client.addr,
                        "Closing client that reached max query buffer length"
                    );
                    break;
                }
                inbuf.resize(want, 0);
            }
        }
        if buffered {
            // Input that arrived while a command blocked: parse it before reading more.
            buffered = false;
        } else if let Some(sub) = session.pubsub.clone() {
            // Subscribed: while waiting for input, write the messages published to it.
            let n = loop {
                if sub.doomed.get() {
                    break None;
                }
                if sub.has_mail() {
                    if !write_mail(&mut stream, &sub).await {
                        break None;
                    }
                    continue;
                }
                let read = futures_lite::future::or(
                    async { Some(stream.read(&mut inbuf[end..]).await) },
                    async {
                        sub.wait().await;
                        None
                    },
                )
                .await;
                match read {
                    None => continue,
                    Some(Ok(0)) | Some(Err(_)) => break None,
                    Some(Ok(n)) => break Some(n),
                }
            };
            let Some(n) = n else { break };
            end += n;
        } else {
            let n = match stream.read(&mut inbuf[end..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            end += n;
        }
        if client.killed.get() {
            break;
        }
        if end - start < needed {
            continue;
        }

        let mut close = false;
        batch.clear();
        let pending = end - start;
        // `proto-max-bulk-len` as set now (CONFIG SET may change it between reads).
        let opts = ParseOptions {
            max_bulk_len: crate::tunables::max_bulk_len(),
            auth_required: !session.authenticated && crate::access::auth_required(false),
        };
        // The output-buffer limits as set now; a batch's replies are checked when written.
        let limits = if session.subscriptions > 0 {
            crate::tunables::pubsub_output_limits()
        } else {
            crate::tunables::normal_output_limits()
        };
        // With a hard limit above FLUSH_AT, replies gather up to it so a batch that passes it is
        // caught, as Redis (which writes only after the whole batch) catches it.
        let flush_at = FLUSH_AT.max(limits.0.min(usize::MAX as u64) as usize);
        let parsed = parse_requests_with(&inbuf[start..end], &mut batch, &opts);
        start += parsed.consumed;
        needed = parsed.needed;
        if core.paused.get() > 0 && !core.wait_unpaused().await {
            break;
        }
        // A multi-shard transaction holds this shard: nothing else runs here until it is done.
        core.tx_lock.gate().await;
        core.tick();
        // What CLIENT LIST shows: a few cells per batch, nothing per command.
        client.last_ms.set(core.now_ms());
        client.qbuf.set(pending as u32);
        client.qbuf_free.set((inbuf.len() - end) as u32);
        if !batch.is_empty() {
            client.last_cmd.set(LastCmd::of(batch.get(batch.len() - 1)));
        }
        core.route_batch(session.db, &batch, &mut owners);
        let move_after = crate::tunables::MOVE_CONNECTIONS_AFTER.get() as usize;
        if move_after > 0 && !owners.is_empty() {
            let first = owners[0];
            if first != crate::shard::NO_OWNER
                && first as usize != core.id
                && owners.iter().all(|&o| o == first)
            {
                if first == streak_shard {
                    streak += owners.len();
                } else {
                    (streak, streak_shard) = (owners.len(), first);
                }
            } else {
                streak = 0;
            }
        }
        for (i, argv) in batch.iter().enumerate() {
            if clients::pause_set() && clients::holds(argv) {
                // CLIENT PAUSE: earlier replies go out first, as Redis writes them before the
                // client blocks.
                router.finish(&core, &mut out).await;
                if !flush(&mut stream, &mut out, &client, limits).await {
                    close = true;
                    break;
                }
                if !clients::wait_unpaused(&core, &client, argv).await {
                    close = true;
                    break;
                }
                core.tx_lock.gate().await;
                core.tick();
            }
            // CLIENT REPLY OFF/SKIP: the slow path, one command at a time, so this command's
            // reply (local or forwarded) is exactly the bytes after `mark`.
            let quiet = session.reply_off || session.reply_skip;
            let mark = if quiet {
                router.finish(&core, &mut out).await;
                core.tx_lock.gate().await;
                out.len()
            } else {
                0
            };
            match router.dispatch(&core, &mut session, argv, owners[i], &mut out) {
                Flow::Continue => {}
                Flow::Close => close = true,
                flow @ (Flow::Server(_) | Flow::Async(_)) => {
                    // Everything before it has replied (and so is applied) first.
                    router.finish(&core, &mut out).await;
                    let flow = match flow {
                        Flow::Server(c) => {
                            crate::cmd::server::run(&core, &mut session, c, argv, &mut out).await
                        }
                        Flow::Async(f) if is_blocking(argv.get(0)) => {
                            // While it waits, keep reading: a closed socket must unblock it
                            // (so no element is served to a client that is gone), and what
                            // the client pipelines meanwhile waits in the buffer.
                            let gone = session.gone.clone();
                            gone.reset();
                            client.unblock.reset();
                            client.set_flag(flag::BLOCKED, true);
                            client
                                .argv_mem
                                .set(argv.iter().map(|a| a.len() as u64).sum::<u64>());
                            let mut fut = f(&core, &mut session, argv, &mut out);
                            loop {
                                if gone.get() || end == inbuf.len() {
                                    fut.as_mut().await;
                                    break;
                                }
                                let read = futures_lite::future::or(
                                    async {
                                        fut.as_mut().await;
                                        None
                                    },
                                    async { Some(stream.read(&mut inbuf[end..]).await) },
                                )
                                .await;
                                match read {
                                    None => break,
                                    Some(Ok(0)) | Some(Err(_)) => gone.set(),
                                    Some(Ok(n)) => {
                                        end += n;
                                        buffered = true;
                                    }
                                }
                            }
                            drop(fut);
                            client.set_flag(flag::BLOCKED, false);
                            client.argv_mem.set(0);
                            if session.close_after_reply {
                                Flow::Close
                            } else {
                                Flow::Continue
                            }
                        }
                        Flow::Async(f) => {
                            f(&core, &mut session, argv, &mut out).await;
                            if session.close_after_reply {
                                Flow::Close
                            } else {
                                Flow::Continue
                            }
                        }
                        _ => Flow::Continue,
                    };
                    if matches!(flow, Flow::Close)
                        || (core.paused.get() > 0 && !core.wait_unpaused().await)
                    {
                        close = true;
                    } else {
                        core.tx_lock.gate().await;
                        core.tick();
                    }
                }
            }
            if quiet {
                router.finish(&core, &mut out).await;
                // CLIENT REPLY ON replies even when it ends OFF; a skipped command never does.
                // Subscription confirmations are sent regardless, as Redis's are.
                if (session.reply_off || session.reply_skip)
                    && !crate::cmd::pubsub::is_subscription_cmd(argv.get(0))
                {
                    out.buf.truncate(mark);
                }
                session.reply_skip = false;
            }
            if !session.stale_watches.is_empty() {
                forget_watches(&core, &mut session);
            }
            if session.reply_skip_next {
                session.reply_skip_next = false;
                session.reply_skip = true;
            }
            if close {
                break;
            }
            // A pipeline of big replies: write what is gathered before running more.
            if router.backlog(out.len(), flush_at) {
                router.finish(&core, &mut out).await;
                if router.panicked {
                    // Written, then closed, after the loop.
                    close = true;
                    break;
                }
                if !flush(&mut stream, &mut out, &client, limits).await {
                    close = true;
                    break;
                }
                // Others ran meanwhile: a transaction may hold this shard, or a pause begun.
                if core.paused.get() > 0 && !core.wait_unpaused().await {
                    close = true;
                    break;
                }
                core.tx_lock.gate().await;
                core.tick();
            }
        }
        router.finish(&core, &mut out).await;
        let mut proto_error = if close { None } else { parsed.error };
        if session.authenticated
            && matches!(
                proto_error,
                Some(
                    ProtoError::UnauthenticatedMultibulkLength
                        | ProtoError::UnauthenticatedBulkLength
                )
            )
        {
            // AUTH earlier in this batch: parse the rest again without the unauthenticated limits.
            proto_error = None;
            needed = 0;
            buffered = true;
        }
        if let Some(e) = proto_error {
            tracing::debug!(
                client = session.id,
                addr = %client.addr,
                "Protocol error ({}) from client",
                e.message()
            );
            if !session.reply_off {
                out.proto_error(&e);
            }
            close = true;
        }
        if router.panicked {
            close = true;
        }
        client.rbp.set(out.len() as u64);
        if !out.is_empty() {
            if !flush(&mut stream, &mut out, &client, limits).await {
                break;
            }
            if out.buf.capacity() > 1024 * 1024 {
                out.buf.shrink_to(64 * 1024);
            }
        }
        // Messages published to this subscriber, after the replies (so a subscription's
        // confirmation always precedes its first message).
        if let Some(sub) = &session.pubsub {
            if sub.doomed.get() {
                break;
            }
            if sub.has_mail() && !write_mail(&mut stream, sub).await {
                break;
            }
            sub.mailbox.borrow_mut().proto = session.proto;
        }
        if close {
            break;
        }
        // A big batch's arena (a 512 MB argument, say) is not kept for the connection's life.
        if batch.data_len() > SHRINK_AT || batch.len() > 64 * 1024 {
            batch = CmdBatch::new();
        }
        if start == end {
            start = 0;
            end = 0;
            if inbuf.len() > 4 * READ_BUF {
                inbuf.truncate(READ_BUF);
                inbuf.shrink_to_fit();
            }
        }
        client.sync(session.db, session.proto);
        client.set_flag(flag::PUBSUB, session.subscriptions > 0);
        client.qbuf.set((end - start) as u32);
        client.qbuf_free.set((inbuf.len() - end) as u32);
        client.rbs.set(out.buf.capacity() as u64);
        client
            .buf_mem
            .set((inbuf.len() + out.buf.capacity()) as u64);
        // Everything read is answered and written: if the recent commands all went to one other
        // core, continue there.
        if move_after > 0
            && streak >= move_after
            && start == end
            && !buffered
            && core.now_ms() - moved_ms >= MOVE_COOLDOWN_MS
            && movable(&core, &session, &client)
        {
            moved_ms = core.now_ms();
            streak = 0;
            // SAFETY: the descriptor is the stream's, open for as long as `stream` lives.
            let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(stream.as_raw_fd()) };
            if let Ok(fd) = fd.try_clone_to_owned() {
                let carried = Box::new(Carried {
                    fd: Some(fd),
                    id,
                    addr: client.addr.clone(),
                    laddr: client.laddr.clone(),
                    created_ms: client.created_ms,
                    name: client.name.borrow().clone(),
                    lib_name: client.lib_name.borrow().clone(),
                    lib_ver: client.lib_ver.borrow().clone(),
                    flags: client.flags.get(),
                    last_cmd: client.last_cmd.get(),
                    db: session.db,
                    proto: session.proto,
                    authenticated: session.authenticated,
                    session_name: session.name.clone(),
                });
                // On failure the copy of the descriptor is closed and the client stays here.
                let to = streak_shard as usize;
                if core.send_ctrl(to, crate::shard::Ctrl::Adopt(carried)).await {
                    core.moved_out.set(core.moved_out.get() + 1);
                    tracing::debug!(
                        client = id,
                        to,
                        "connection moved to the core owning its keys"
                    );
                    return;
                }
            }
        }
    }
    crate::cmd::multi::forget_watch(&mut session);
    forget_watches(&core, &mut session);
    crate::cmd::pubsub::forget(&mut session);
}

/// Writes the replies gathered so far and empties `out`; false if the connection must close: the
/// write failed, or the replies pass the output-buffer limits `(hard, soft, soft seconds)`. Over
/// the hard limit nothing is written (Redis frees such a client with its pending replies); over
/// the soft one the write must finish within the seconds, or the client cron closes it.
async fn flush(
    stream: &mut TcpStream,
    out: &mut Reply,
    client: &Client,
    (hard, soft, secs): (u64, u64, u64),
) -> bool {
    if out.is_empty() {
        return true;
    }
    let len = out.len() as u64;
    if hard > 0 && len >= hard {
        tracing::debug!(
            client = client.id,
            addr = %client.addr,
            "Client closed for overcoming of output buffer limits ({len} bytes pending, hard limit {hard})."
        );
        out.buf.clear();
        return false;
    }
    let watched = soft > 0 && len >= soft;
    if watched {
        let deadline = crate::shard::now_ms().saturating_add((secs as i64).saturating_mul(1000));
        client.soft_deadline_ms.set(deadline);
    }
    let ok = stream.write_all(&out.buf).await.is_ok();
    if watched {
        client.soft_deadline_ms.set(0);
    }
    if out.len() >= LONG_WRITE {
        client.last_ms.set(crate::shard::now_ms());
    }
    out.buf.clear();
    ok
}

/// Writes a subscriber's waiting messages; false if the connection must close (write failed, or
/// the output-buffer limit doomed it while the client was not reading).
async fn write_mail(stream: &mut TcpStream, sub: &crate::pubsub::Subscriber) -> bool {
    let mail = sub.take_mail();
    let written =
        futures_lite::future::or(async { stream.write_all(&mail).await.is_ok() }, async {
            sub.wait_doomed().await;
            false
        })
        .await;
    written && !sub.doomed.get()
}

/// Tells the shards to forget the client's ended WATCH periods, in the background (their ids are
/// never reused, so the cleanup may land whenever).
fn forget_watches(core: &Rc<Core>, session: &mut Session) {
    let watches = std::mem::take(&mut session.stale_watches);
    if watches.is_empty() {
        return;
    }
    let core = core.clone();
    glommio::spawn_local(async move { crate::cmd::multi::drop_watches(&core, watches).await })
        .detach();
}

/// Whether the command named `name` may block (BLPOP & co).
fn is_blocking(name: &[u8]) -> bool {
    crate::cmd::lookup(name)
        .is_some_and(|i| crate::cmd::table()[i].flags & crate::cmd::flags::BLOCKING != 0)
}
