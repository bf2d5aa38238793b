//! Bootstrap: one glommio executor per shard, the channel mesh between them, one SO_REUSEPORT
//! listener per executor, the ready line, and graceful shutdown.
//!
//! The main thread is the control plane: it starts the executors, hears back from them over
//! crossbeam channels (started, bound, failed), prints the ready line, and waits for them to exit.

use crate::config::Config;
use crate::conn;
use crate::keyspace::Keyspace;
use crate::persist;
use crate::shard::{spawn_forward_loops, Core, Ctrl, Envelope, Shared};
use futures_lite::FutureExt;
use glommio::channels::channel_mesh::MeshBuilder;
use glommio::net::TcpListener;
use glommio::{LocalExecutorBuilder, Placement};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, RawFd};
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// glommio refuses to start an executor when the memlock soft limit is below this.
const GLOMMIO_MIN_MEMLOCK: u64 = 512 * 1024;
/// Capacity of each cross-core queue (envelopes, each carrying a whole batch).
const MESH_CAPACITY: usize = 1024;
/// Capacity of each control-plane queue (a handful of messages per save or INFO).
const CTRL_CAPACITY: usize = 64;
/// How long shutdown waits for connections to finish their in-flight replies.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A start-up failure: one line for the operator saying what is wrong and what to change.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

enum Ctl {
    Bound { shard: usize, port: u16 },
    Failed(String),
}

/// Runs the server until SIGINT/SIGTERM; returns once every executor has drained and exited.
pub fn run(config: Config) -> Result<(), StartError> {
    // `startup_ms` on the ready line counts everything, snapshot load included.
    let started = Instant::now();
    let cpus = crate::ops::shard_cpus(&config, affinity_cpus()).map_err(StartError)?;
    let nshards = config.shards.unwrap_or(cpus.len().max(1));
    if nshards == 0 || nshards > 1024 {
        return Err(StartError(format!(
            "--shards must be between 1 and 1024 (got {nshards})"
        )));
    }
    if config.databases == 0 || config.databases > u16::MAX as usize {
        return Err(StartError("--databases must be between 1 and 65535".into()));
    }
    let memlock = raise_memlock()?;
    let nofile = crate::ops::adjust_open_files(nshards).map_err(StartError)?;
    let pinned = !config.unpinned && !cpus.is_empty();
    crate::ops::banner(&config, nshards, &cpus, pinned, memlock, nofile);
    // Sockets do not use io memory; keep what every executor locks well inside the limit.
    let io_memory = (config.io_memory_kb * 1024)
        .min((memlock / (nshards as u64 * 4)) as usize)
        .max(64 * 1024);

    if config.dbfilename.is_empty() || config.dbfilename.contains('/') {
        return Err(StartError(format!(
            "--dbfilename must be a file name, not a path (got \"{}\"); use --dir for the directory",
            config.dbfilename
        )));
    }
    if !config.dir.is_dir() {
        return Err(StartError(format!(
            "--dir {}: no such directory (create it, or point --dir at an existing one)",
            config.dir.display()
        )));
    }
    persist::parse_save_params(&config.save)
        .map_err(|e| StartError(format!("invalid --save \"{}\": {e}", config.save)))?;

    let addr = resolve(&config.bind, config.port)?;
    if config.port != 0 {
        probe_port_free(&config.bind, config.port)?;
    }

    match (config.cluster_enabled, config.cluster_config.is_empty()) {
        (Some(true), true) => {
            return Err(StartError(
                "cluster-enabled yes needs --cluster-config <slot map file>: redis-lite's \
                 cluster mode uses a static map (see README.md, Cluster mode)"
                    .into(),
            ))
        }
        (Some(false), false) => {
            return Err(StartError(
                "cluster-enabled no contradicts --cluster-config (remove one of them)".into(),
            ))
        }
        _ => {}
    }
    if !config.cluster_config.is_empty() {
        crate::cluster::init(
            std::path::Path::new(&config.cluster_config),
            &config.cluster_node_id,
            config.port,
        )
        .map_err(|e| StartError(format!("cluster mode: {e}")))?;
    }
    watch_sighup()?;
    // A file-size limit (`ulimit -f`) must fail a snapshot write with EFBIG, reported as a failed
    // save, not kill the server with SIGXFSZ.
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }

    let signal = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, signal.clone())
            .map_err(|e| StartError(format!("cannot install signal handler: {e}")))?;
    }

    // The snapshot loads before any client can connect; a bad file stops start-up here.
    let loaded = persist::load(&config, nshards)
        .map_err(|e| StartError(format!("cannot load the snapshot: {e}")))?;
    if loaded.manifest.is_some() || loaded.keys + loaded.expired > 0 {
        tracing::info!(
            "DB loaded from {}: {} keys in {} ms ({} expired keys skipped)",
            loaded.source,
            loaded.keys,
            loaded.millis,
            loaded.expired
        );
    }
    let shared = Arc::new(Shared::new(nshards, &config, signal));
    {
        let mut st = shared.persist();
        st.current = loaded.manifest;
        st.loaded_keys = loaded.keys;
        st.loaded_expired = loaded.expired;
    }
    let keyspaces: Arc<Mutex<Vec<Option<Keyspace>>>> =
        Arc::new(Mutex::new(loaded.keyspaces.into_iter().map(Some).collect()));

    let config = Arc::new(config);
    let mesh: MeshBuilder<Envelope, _> = MeshBuilder::full(nshards, MESH_CAPACITY);
    let ctrl_mesh: MeshBuilder<Ctrl, _> = MeshBuilder::full(nshards, CTRL_CAPACITY);
    let (ctl_tx, ctl_rx) = crossbeam_channel::unbounded::<Ctl>();
    let drained = Arc::new(AtomicUsize::new(0));
    let mut port_txs = Vec::new();
    let mut threads = Vec::new();
    for i in 0..nshards {
        let (port_tx, port_rx) = crossbeam_channel::bounded::<u16>(1);
        port_txs.push(port_tx);
        let placement = if config.unpinned || cpus.is_empty() {
            Placement::Unbound
        } else {
            Placement::Fixed(cpus[i % cpus.len()])
        };
        let mesh = mesh.clone();
        let ctrl_mesh = ctrl_mesh.clone();
        let config = config.clone();
        let ctl = ctl_tx.clone();
        let shared = shared.clone();
        let keyspaces = keyspaces.clone();
        let drained = drained.clone();
        let t = std::thread::Builder::new()
            .name(format!("shard-{i}"))
            .spawn(move || {
                let ex = match LocalExecutorBuilder::new(placement)
                    .name("shard")
                    .io_memory(io_memory)
                    .make()
                {
                    Ok(ex) => ex,
                    Err(e) => {
                        let _ = ctl.send(Ctl::Failed(explain_executor_error(&e.to_string())));
                        return;
                    }
                };
                ex.run(shard_main(Boot {
                    config,
                    shared,
                    keyspaces,
                    mesh,
                    ctrl_mesh,
                    addr,
                    port_rx,
                    ctl,
                    drained,
                }));
            })
            .map_err(|e| StartError(format!("cannot start shard thread: {e}")))?;
        threads.push(t);
    }
    drop(ctl_tx);

    // Shard 0 binds first (it learns the port when --port 0); then the others join it.
    let mut bound = 0;
    let mut port = 0;
    while bound < nshards {
        match ctl_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ctl::Bound { shard, port: p }) => {
                if shard == 0 {
                    port = p;
                    for tx in &port_txs {
                        let _ = tx.send(p);
                    }
                }
                bound += 1;
            }
            Ok(Ctl::Failed(msg)) => return Err(StartError(msg)),
            Err(_) => {
                return Err(StartError(
                    "shards did not start within 30 s (see the log above)".into(),
                ))
            }
        }
    }
    // Pidfile and systemd first: whoever waits for the ready line may look for them at once.
    crate::ops::ready(&config, &shared);
    tracing::info!(
        "Ready to accept connections tcp addr={}:{} shards={} io_memory={}KiB startup_ms={}",
        addr.ip(),
        port,
        nshards,
        io_memory / 1024,
        started.elapsed().as_millis()
    );
    for t in threads {
        let _ = t.join();
    }
    tracing::info!("redis-lite is now ready to exit, bye bye...");
    Ok(())
}

/// What one executor starts from.
struct Boot {
    config: Arc<Config>,
    shared: Arc<Shared>,
    keyspaces: Arc<Mutex<Vec<Option<Keyspace>>>>,
    mesh: MeshBuilder<Envelope, glommio::channels::channel_mesh::Full>,
    ctrl_mesh: MeshBuilder<Ctrl, glommio::channels::channel_mesh::Full>,
    addr: SocketAddr,
    port_rx: crossbeam_channel::Receiver<u16>,
    ctl: crossbeam_channel::Sender<Ctl>,
    drained: Arc<AtomicUsize>,
}

/// The life of one executor: join the meshes, take its loaded keyspace, bind, serve until
/// shutdown, drain.
async fn shard_main(b: Boot) {
    let Boot {
        config,
        shared,
        keyspaces,
        mesh,
        ctrl_mesh,
        addr,
        port_rx,
        ctl,
        drained,
    } = b;
    let nshards = shared.nshards;
    let (peers, receivers, ctrl, ctrl_rx) = if nshards > 1 {
        // Peer ids follow executor ids, so both meshes number the shards the same way.
        let joined = match mesh.join().await {
            Ok(p) => ctrl_mesh.join().await.map(|c| (p, c)),
            Err(e) => Err(e),
        };
        match joined {
            Ok(((s, r), (cs, cr))) => (Some(s), Some(r), Some(cs), Some(cr)),
            Err(e) => {
                let _ = ctl.send(Ctl::Failed(format!("cannot join the shard mesh: {e}")));
                return;
            }
        }
    } else {
        (None, None, None, None)
    };
    let id = peers.as_ref().map(|p| p.peer_id()).unwrap_or(0);
    let ks = keyspaces
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_mut(id)
        .and_then(Option::take)
        .unwrap_or_else(|| Keyspace::new(config.databases));
    let core = Rc::new(Core::new(
        id,
        config.clone(),
        shared.clone(),
        ks,
        peers,
        ctrl,
    ));
    if let Some(r) = receivers {
        spawn_forward_loops(&core, r);
    }
    if let Some(r) = ctrl_rx {
        persist::spawn_ctrl_loops(&core, r);
    }

    let port = if id == 0 {
        addr.port()
    } else {
        // Start-up only: shard 0 has bound (or failed, and the process is exiting).
        match port_rx.recv() {
            Ok(p) => p,
            Err(_) => return,
        }
    };
    let (listeners, local_port) = match listen_all(&config.bind, port, id == 0) {
        Ok(l) => l,
        Err(e) => {
            let _ = ctl.send(Ctl::Failed(e));
            return;
        }
    };
    let listen_fds: Vec<RawFd> = listeners.iter().map(|(_, fd)| *fd).collect();
    core.port.set(local_port);
    let _ = ctl.send(Ctl::Bound {
        shard: id,
        port: local_port,
    });

    spawn_active_expiry(&core);
    crate::clients::spawn_cron(&core);
    if id == 0 {
        persist::spawn_save_cron(&core);
        spawn_signal_watcher(&core);
    }

    let conns: Rc<RefCell<HashMap<u64, RawFd>>> = Rc::new(RefCell::new(HashMap::new()));
    // Shutdown watcher: closes the listener and every connection's read side, so accept and reads
    // end while replies already in flight are still written.
    {
        let conns = conns.clone();
        let shared = shared.clone();
        glommio::spawn_local(async move {
            while !shared.is_stopping() {
                glommio::timer::sleep(Duration::from_millis(50)).await;
            }
            // SAFETY: plain syscalls on descriptors this executor owns and keeps open.
            unsafe {
                for fd in &listen_fds {
                    libc::shutdown(*fd, libc::SHUT_RDWR);
                }
                for fd in conns.borrow().values() {
                    libc::shutdown(*fd, libc::SHUT_RD);
                }
            }
        })
        .detach();
    }

    // One accept loop per bound address; all of them end at shutdown.
    let next_conn = Rc::new(std::cell::Cell::new(0u64));
    spawn_adopt_loop(&core, &conns, &next_conn);
    let loops: Vec<_> = listeners
        .into_iter()
        .map(|(l, _)| {
            glommio::spawn_local(accept_loop(
                core.clone(),
                l,
                conns.clone(),
                next_conn.clone(),
            ))
        })
        .collect();
    for l in loops {
        l.await;
    }
    // No more connections move here (one in transit closes).
    core.adopt_tx.borrow_mut().take();

    // Drain: our connections finish their replies (reads are shut), then wait for every shard,
    // since their connections may still have commands forwarded to us.
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while !conns.borrow().is_empty() && Instant::now() < deadline {
        glommio::timer::sleep(Duration::from_millis(10)).await;
    }
    drained.fetch_add(1, Ordering::SeqCst);
    while drained.load(Ordering::SeqCst) < nshards && Instant::now() < deadline {
        glommio::timer::sleep(Duration::from_millis(10)).await;
    }
}

/// Accepts connections on one listener until shutdown: admission (`maxclients`, protected mode),
/// keepalive, then one task per client.
async fn accept_loop(
    core: Rc<Core>,
    listener: TcpListener,
    conns: Rc<RefCell<HashMap<u64, RawFd>>>,
    next_conn: Rc<std::cell::Cell<u64>>,
) {
    let shared = core.shared.clone();
    while !shared.is_stopping() {
        let stream = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                if shared.is_stopping() {
                    break;
                }
                // EMFILE and friends: back off briefly instead of spinning.
                tracing::warn!("accept failed: {e}");
                glommio::timer::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let before = shared.clients.fetch_add(1, Ordering::SeqCst);
        let peer = stream.peer_addr().ok().map(|a| a.ip());
        let admission = crate::access::admit(
            before,
            crate::tunables::MAXCLIENTS.get(),
            crate::tunables::PROTECTED_MODE.load(Ordering::Relaxed),
            crate::access::password_set(),
            peer,
        );
        if let Some(msg) = admission.message() {
            shared.clients.fetch_sub(1, Ordering::SeqCst);
            shared.rejected.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(?peer, ?admission, "Refused a client connection");
            glommio::spawn_local(refuse(stream, msg)).detach();
            continue;
        }
        let keepalive = crate::tunables::TCP_KEEPALIVE.get();
        if keepalive > 0 {
            if let Err(e) = set_keepalive(stream.as_raw_fd(), keepalive) {
                tracing::debug!("cannot set TCP keepalive on a client socket: {e}");
            }
        }
        core.total_connections.set(core.total_connections.get() + 1);
        spawn_conn(&core, stream, &conns, &next_conn, None);
    }
}

/// Serves one connection on this core until it ends (or moves to another core): counted in
/// `connected` and the server's client count, and listed for the shutdown watcher.
fn spawn_conn(
    core: &Rc<Core>,
    stream: glommio::net::TcpStream,
    conns: &Rc<RefCell<HashMap<u64, RawFd>>>,
    next_conn: &Rc<std::cell::Cell<u64>>,
    carried: Option<Box<conn::Carried>>,
) {
    next_conn.set(next_conn.get() + 1);
    let key = next_conn.get();
    conns.borrow_mut().insert(key, stream.as_raw_fd());
    let core = core.clone();
    let conns = conns.clone();
    core.connected.set(core.connected.get() + 1);
    glommio::spawn_local(async move {
        // A bug while serving one client closes that client (the stream drops during the
        // unwind); the shard keeps serving everyone else.
        if AssertUnwindSafe(conn::serve(core.clone(), stream, carried))
            .catch_unwind()
            .await
            .is_err()
        {
            tracing::error!("connection handler panicked; connection closed");
        }
        core.connected.set(core.connected.get() - 1);
        core.shared.clients.fetch_sub(1, Ordering::SeqCst);
        conns.borrow_mut().remove(&key);
    })
    .detach();
}

/// Takes in connections other cores hand to this one (see [`conn::Carried`]) until shutdown.
fn spawn_adopt_loop(
    core: &Rc<Core>,
    conns: &Rc<RefCell<HashMap<u64, RawFd>>>,
    next_conn: &Rc<std::cell::Cell<u64>>,
) {
    let (tx, mut rx) = futures_channel::mpsc::unbounded::<Box<conn::Carried>>();
    *core.adopt_tx.borrow_mut() = Some(tx);
    let (core, conns, next_conn) = (core.clone(), conns.clone(), next_conn.clone());
    glommio::spawn_local(async move {
        use futures_lite::StreamExt;
        while let Some(mut c) = rx.next().await {
            let Some(fd) = c.fd.take() else { continue };
            if core.shared.is_stopping() {
                // Dropping `fd` closes the connection, as shutdown closes every other one.
                continue;
            }
            // Counted before the core it left stops counting it: never below the real number.
            core.shared.clients.fetch_add(1, Ordering::SeqCst);
            // SAFETY: `fd` is an open socket descriptor we own (a duplicate of the client's).
            let stream = unsafe { glommio::net::TcpStream::from_raw_fd(fd.into_raw_fd()) };
            spawn_conn(&core, stream, &conns, &next_conn, Some(c));
        }
    })
    .detach();
}

/// Best effort, as Redis: the reason, then close (a peer that does not read cannot hold it).
async fn refuse(mut stream: glommio::net::TcpStream, msg: &'static [u8]) {
    use futures_lite::AsyncWriteExt;
    futures_lite::future::or(
        async {
            let _ = stream.write_all(msg).await;
        },
        glommio::timer::sleep(Duration::from_secs(1)),
    )
    .await;
    let _ = stream.close().await;
}

/// Redis's `anetKeepAlive`: first probe after `interval` seconds, then every third of it, three
/// probes before the peer counts as gone.
fn set_keepalive(fd: RawFd, interval: i64) -> std::io::Result<()> {
    let idle = interval.clamp(1, i32::MAX as i64) as libc::c_int;
    let opts = [
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1),
        (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, idle),
        (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, (idle / 3).max(1)),
        (libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3),
    ];
    for (level, name, val) in opts {
        // SAFETY: setsockopt reads the int we pass, on a socket we own.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                &val as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// SIGHUP: in cluster mode, re-read the slot map; otherwise ignored, as Redis ignores it (a
/// closed terminal must not stop the server).
fn watch_sighup() -> Result<(), StartError> {
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGHUP])
        .map_err(|e| StartError(format!("cannot install the SIGHUP handler: {e}")))?;
    std::thread::Builder::new()
        .name("sighup".into())
        .spawn(move || {
            for _ in signals.forever() {
                if crate::cluster::enabled() {
                    if let Err(e) = crate::cluster::reload() {
                        tracing::warn!(
                            "SIGHUP: cluster map NOT reloaded, keeping the current one: {e}"
                        );
                    }
                } else {
                    tracing::info!("SIGHUP received and ignored (not in cluster mode)");
                }
            }
        })
        .map_err(|e| StartError(format!("cannot start the SIGHUP thread: {e}")))?;
    Ok(())
}

/// SIGTERM/SIGINT: shut down as SHUTDOWN without arguments does (saving first when save points
/// are configured). If that save fails the server keeps running, as Redis does; another signal
/// tries again.
fn spawn_signal_watcher(core: &Rc<Core>) {
    let core = core.clone();
    glommio::spawn_local(crate::shard::critical("signal watcher", async move {
        while !core.shared.is_stopping() {
            glommio::timer::sleep(Duration::from_millis(20)).await;
            if core.shared.signal.swap(false, Ordering::SeqCst) {
                tracing::info!("Received a shutdown signal, scheduling shutdown...");
                let flags = crate::cmd::server::ShutdownFlags::default();
                if crate::cmd::server::shutdown(&core, flags).await.is_err() {
                    tracing::warn!("SIGTERM received but errors trying to shut down the server");
                }
            }
        }
    }))
    .detach();
}

/// Redis's active expiry: `hz` times a second, a sampling sweep bounded to a quarter of the
/// period, so keys nobody reads are reclaimed without stalling clients.
fn spawn_active_expiry(core: &Rc<Core>) {
    let core = core.clone();
    let hz = core.config.hz.clamp(1, 500);
    let period = Duration::from_micros(1_000_000 / hz as u64);
    let budget = crate::keyspace::ExpireBudget::for_hz(hz);
    glommio::spawn_local(crate::shard::critical("active expiry", async move {
        let mut ticks: u64 = 0;
        loop {
            glommio::timer::sleep(period).await;
            let now = crate::shard::now_ms();
            let mut ks = core.ks.borrow_mut();
            ks.active_expire_cycle(now, budget);
            if crate::notify::pending() {
                crate::notify::flush(core.nshards);
            }
            ticks += 1;
            if core.id == 0 {
                // INFO's used_memory_peak, sampled as often as Redis's serverCron does.
                crate::cmd::server::sample_memory_peak();
            }
            // Give back table memory after mass deletions, about once a second.
            if ticks.is_multiple_of(hz as u64) {
                ks.shrink_sparse();
            }
        }
    }))
    .detach();
}

/// The addresses of Redis's `bind` directive: space-separated, `-` marks an optional one (skipped
/// when the machine does not have it), `*` is every IPv4 address and `::*` every IPv6 one.
pub fn bind_addresses(bind: &str) -> Vec<(String, bool)> {
    bind.split_whitespace()
        .map(|a| {
            let (a, optional) = match a.strip_prefix('-') {
                Some(rest) => (rest, true),
                None => (a, false),
            };
            let a = match a {
                "*" => "0.0.0.0",
                "::*" => "::",
                other => other,
            };
            (a.to_string(), optional)
        })
        .collect()
}

/// Binds every address of `bind` on `port` (0: the first address picks it, the others use it);
/// returns the listeners and the port. Like Redis's `listenToPort`, an optional address that is
/// not available, or one of an unsupported family, is skipped with a warning (`warn`: only
/// shard 0 logs, the others fail the same way).
fn listen_all(
    bind: &str,
    mut port: u16,
    warn: bool,
) -> Result<(Vec<(TcpListener, RawFd)>, u16), String> {
    let mut out = Vec::new();
    for (host, optional) in bind_addresses(bind) {
        let addr = match (host.as_str(), port)
            .to_socket_addrs()
            .map(|mut a| a.next())
        {
            Ok(Some(a)) => a,
            _ => return Err(format!("cannot resolve bind address '{host}'")),
        };
        match listen(addr) {
            Ok((l, fd)) => {
                if port == 0 {
                    port = local_port(fd).unwrap_or(0);
                }
                out.push((l, fd));
            }
            Err(e) => {
                let skippable = match e.raw_os_error() {
                    Some(libc::EADDRNOTAVAIL) => optional,
                    Some(
                        libc::ENOPROTOOPT
                        | libc::EPROTONOSUPPORT
                        | libc::ESOCKTNOSUPPORT
                        | libc::EPFNOSUPPORT
                        | libc::EAFNOSUPPORT,
                    ) => true,
                    _ => false,
                };
                if !skippable {
                    return Err(format!("cannot listen on {addr}: {e}"));
                }
                if warn {
                    tracing::warn!(
                        "Warning: Could not create server TCP listening socket {addr}: {e}"
                    );
                }
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "cannot listen on port {port}: none of the bind addresses '{bind}' is available"
        ));
    }
    Ok((out, port))
}

/// A listening socket with SO_REUSEPORT (every executor binds the same port) handed to glommio.
fn listen(addr: SocketAddr) -> std::io::Result<(TcpListener, RawFd)> {
    let sk = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sk.set_reuse_address(true)?;
    sk.set_reuse_port(true)?;
    if addr.is_ipv6() {
        // As Redis: `::` serves IPv6 only, so `* ::*` can bind both.
        sk.set_only_v6(true)?;
    }
    sk.bind(&SockAddr::from(addr))?;
    sk.listen(511)?;
    let fd = sk.into_raw_fd();
    // SAFETY: `fd` is a listening TCP socket we just created and now hand over.
    let listener = unsafe { TcpListener::from_raw_fd(fd) };
    Ok((listener, fd))
}

fn local_port(fd: RawFd) -> Option<u16> {
    // SAFETY: borrow the descriptor to read its address, then give it back without closing it.
    let sk = unsafe { Socket::from_raw_fd(fd) };
    let port = sk
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.port());
    let _ = sk.into_raw_fd();
    port
}

/// The first address of the `bind` list (what the ready line shows).
fn resolve(bind: &str, port: u16) -> Result<SocketAddr, StartError> {
    let first = bind_addresses(bind).into_iter().next().map(|(a, _)| a);
    let Some(host) = first else {
        return Err(StartError(format!("no bind address in '{bind}'")));
    };
    (host.as_str(), port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| StartError(format!("cannot resolve bind address '{host}'")))
}

/// Every executor's listener sets SO_REUSEPORT, which would let a second server silently share
/// the port and steal half the connections. A plain bind (no SO_REUSEPORT) fails if anything
/// already listens there, so we refuse to start instead.
fn probe_port_free(bind: &str, port: u16) -> Result<(), StartError> {
    for (host, _) in bind_addresses(bind) {
        let Some(addr) = (host.as_str(), port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
        else {
            continue;
        };
        // Only "in use" matters here; an address that cannot be bound at all (optional, or of
        // a family the machine lacks) is for the listeners to skip or report.
        if let Err(e) = std::net::TcpListener::bind(addr) {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                return Err(StartError(format!(
                    "cannot listen on {addr}: address in use (another server is running on this port)"
                )));
            }
        }
    }
    Ok(())
}

/// Raises the memlock soft limit to the hard limit and returns it; refuses (with what to change)
/// when even the hard limit is too low for glommio.
fn raise_memlock() -> Result<u64, StartError> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write/read the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) != 0 {
            return Ok(GLOMMIO_MIN_MEMLOCK);
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_MEMLOCK, &raised) == 0 {
                lim = raised;
            }
        }
    }
    let cur = lim.rlim_cur;
    if cur < GLOMMIO_MIN_MEMLOCK {
        return Err(StartError(format!(
            "locked-memory limit is {} KiB but io_uring (glommio) needs at least {} KiB: raise it \
             (shell: `ulimit -l unlimited`; systemd: `LimitMEMLOCK=infinity`; docker: \
             `--ulimit memlock=-1`; /etc/security/limits.conf: `memlock`)",
            cur / 1024,
            GLOMMIO_MIN_MEMLOCK / 1024
        )));
    }
    Ok(if cur == libc::RLIM_INFINITY {
        u64::MAX / 2
    } else {
        cur
    })
}

/// Turns glommio's executor error into one line that says what to change.
fn explain_executor_error(e: &str) -> String {
    if e.contains("MemLock") || e.contains("memlock") {
        format!(
            "cannot start executor ({e}): raise the locked-memory limit (shell: `ulimit -l \
             unlimited`; systemd: `LimitMEMLOCK=infinity`; docker: `--ulimit memlock=-1`)"
        )
    } else if e.contains("Operation not permitted")
        || e.contains("Function not implemented")
        || e.contains("os error 1)")
        || e.contains("os error 38")
    {
        format!(
            "cannot start executor ({e}): io_uring is unavailable — the kernel must be 5.8+ with \
             io_uring enabled (sysctl kernel.io_uring_disabled=0), and container seccomp profiles \
             such as Docker's default block it (run with `--security-opt seccomp=unconfined` or a \
             profile that allows io_uring_setup, io_uring_enter and io_uring_register)"
        )
    } else {
        format!("cannot start executor: {e}")
    }
}

/// The CPUs this process may run on (`taskset`, cgroups), in order.
fn affinity_cpus() -> Vec<usize> {
    // SAFETY: sched_getaffinity fills the zeroed set we own.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_directive() {
        assert_eq!(
            bind_addresses("127.0.0.1 -::1"),
            [("127.0.0.1".to_string(), false), ("::1".to_string(), true)]
        );
        assert_eq!(
            bind_addresses(" * -::* "),
            [("0.0.0.0".to_string(), false), ("::".to_string(), true)]
        );
        assert!(bind_addresses("").is_empty());
        assert_eq!(
            resolve("127.0.0.1 -::1", 7000).unwrap(),
            "127.0.0.1:7000".parse().unwrap()
        );
        assert!(resolve("", 7000).is_err());
    }

    #[test]
    fn keepalive_as_redis() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let s = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        set_keepalive(s.as_raw_fd(), 300).unwrap();
        let get = |level, name| {
            let mut v: libc::c_int = 0;
            let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: getsockopt writes one int into `v`.
            let rc = unsafe {
                libc::getsockopt(
                    s.as_raw_fd(),
                    level,
                    name,
                    &mut v as *mut libc::c_int as *mut libc::c_void,
                    &mut len,
                )
            };
            assert_eq!(rc, 0);
            v
        };
        assert_eq!(get(libc::SOL_SOCKET, libc::SO_KEEPALIVE), 1);
        assert_eq!(get(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE), 300);
        assert_eq!(get(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL), 100);
        assert_eq!(get(libc::IPPROTO_TCP, libc::TCP_KEEPCNT), 3);
        set_keepalive(s.as_raw_fd(), 2).unwrap();
        assert_eq!(get(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL), 1);
    }
}
