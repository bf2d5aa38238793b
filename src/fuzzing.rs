//! Entry points for the fuzz targets under `tests/fuzz/` (cargo-fuzz) and for the test that
//! replays their corpora on stable in `cargo test`.
//!
//! Each function takes arbitrary bytes and panics only when an invariant is broken, so any
//! libFuzzer crash is a bug, and replaying a corpus is an ordinary test. Why in the library: the
//! replay test and the fuzz crate then run exactly the same checks, and they reach crate-private
//! pieces (the snapshot loader on bytes) without widening the public API.
//!
//! | function | input |
//! |---|---|
//! | [`resp_decode`] | control byte, split points, then a request (or reply) byte stream |
//! | [`exec_commands`] | flag byte, then requests (RESP or inline) run on one shard's keyspace |
//! | [`rdb_load`] | mode byte, then an RDB file or a DUMP payload |

use crate::cmd::{self, Handler, Route, ShardCtx};
use crate::keyspace::{ExpireBudget, Keyspace, Kind, Value};
use crate::rdb;
use crate::resp::{
    decode_frame, encode_frame, encode_frame_for, frame_len, parse_requests_with, CmdBatch, Frame,
    ParseOptions, Proto, ProtoError, Reply, PROTO_MAX_BULK_LEN,
};

// ---------------------------------------------------------------------------------------------
// RESP decoder
// ---------------------------------------------------------------------------------------------

/// What parsing a request stream produced: the commands, the bytes consumed, the error.
#[derive(Debug, PartialEq)]
struct Parse {
    cmds: Vec<Vec<Vec<u8>>>,
    consumed: usize,
    error: Option<ProtoError>,
}

/// Request parser (`parse_requests_with`) and reply decoder (`decode_frame`) on arbitrary bytes.
///
/// Input: `ctl`, then `2 * (ctl & 15)` bytes of split points (u16 LE, taken modulo the stream
/// length), then the stream. `ctl` bits 4-5 pick `proto-max-bulk-len`, bit 6 the
/// unauthenticated limits. Checks:
/// - the stream parsed in one piece and fed in the chosen chunks, the way a connection feeds it
///   (dropping consumed bytes, skipping a parse until `needed` bytes are there), gives the same
///   commands, the same consumed length and the same error;
/// - a parse attempted below the `needed` hint makes no progress (the hint never overestimates);
/// - `needed` is past the buffered bytes without an error, 0 with one;
/// - the argument arena never holds more bytes than the input (nothing sized from a header);
/// - the reply decoder agrees with `frame_len`, a complete frame minus its last byte is
///   incomplete, and re-encoding a decoded frame decodes back to the same bytes.
pub fn resp_decode(data: &[u8]) {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let nsplit = usize::from(ctl & 0x0F);
    let opts = ParseOptions {
        max_bulk_len: match (ctl >> 4) & 3 {
            0 => PROTO_MAX_BULK_LEN,
            1 => 0,
            2 => 7,
            _ => 100_000,
        },
        auth_required: ctl & 0x40 != 0,
    };
    let (raw_cuts, input) = rest.split_at((2 * nsplit).min(rest.len()));
    let mut cuts: Vec<usize> = raw_cuts
        .chunks_exact(2)
        .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])) % (input.len() + 1))
        .collect();
    cuts.sort_unstable();

    let whole = parse_whole(input, &opts);
    let chunked = parse_chunked(input, &cuts, &opts);
    assert_eq!(whole, chunked, "one piece vs chunks at {cuts:?}");

    decode_replies(input);
}

fn collect(batch: &CmdBatch, into: &mut Vec<Vec<Vec<u8>>>) {
    into.extend(batch.iter().map(|a| a.to_vec()));
}

/// Checks what one `parse_requests_with` call on `buf` reported.
fn check_parsed(buf: &[u8], p: &crate::resp::Parsed, batch: &CmdBatch) {
    assert!(p.consumed <= buf.len());
    match p.error {
        Some(_) => assert_eq!(p.needed, 0, "needed with an error"),
        None => {
            let left = buf.len() - p.consumed;
            assert!(p.needed > left, "needed {} but {left} left", p.needed);
            if left == 0 {
                assert_eq!(p.needed, 1);
            }
        }
    }
    assert!(
        batch.data_len() <= buf.len(),
        "arena holds {} bytes for {} input bytes",
        batch.data_len(),
        buf.len()
    );
}

fn parse_whole(input: &[u8], opts: &ParseOptions) -> Parse {
    let mut batch = CmdBatch::new();
    let p = parse_requests_with(input, &mut batch, opts);
    check_parsed(input, &p, &batch);
    let mut cmds = Vec::new();
    collect(&batch, &mut cmds);
    Parse {
        cmds,
        consumed: p.consumed,
        error: p.error,
    }
}

fn parse_chunked(input: &[u8], cuts: &[usize], opts: &ParseOptions) -> Parse {
    // The unconsumed bytes, as a connection keeps them, and how many were dropped before them.
    let mut buf = Vec::new();
    let (mut dropped, mut needed, mut prev) = (0usize, 0usize, 0usize);
    let mut cmds = Vec::new();
    let mut batch = CmdBatch::new();
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        buf.extend_from_slice(&input[prev..cut]);
        prev = cut;
        batch.clear();
        let p = parse_requests_with(&buf, &mut batch, opts);
        check_parsed(&buf, &p, &batch);
        if buf.len() < needed {
            // A connection would not parse yet; if it did, nothing may change.
            assert!(
                p.consumed == 0 && p.error.is_none() && batch.is_empty() && p.needed == needed,
                "progress below the needed hint ({needed}, have {}): {p:?}",
                buf.len()
            );
            continue;
        }
        collect(&batch, &mut cmds);
        if p.error.is_some() {
            return Parse {
                cmds,
                consumed: dropped + p.consumed,
                error: p.error,
            };
        }
        buf.drain(..p.consumed);
        dropped += p.consumed;
        needed = p.needed;
    }
    Parse {
        cmds,
        consumed: dropped,
        error: None,
    }
}

/// Decodes up to 64 reply frames from the front of `input`.
fn decode_replies(input: &[u8]) {
    let mut pos = 0;
    for _ in 0..64 {
        let rest = &input[pos..];
        match (frame_len(rest), decode_frame(rest)) {
            (Ok(None), Ok(None)) => return,
            (Err(a), Err(b)) => {
                assert_eq!(a, b);
                return;
            }
            (Ok(Some(n)), Ok(Some((f, m)))) => {
                assert_eq!(n, m);
                assert!(n > 0 && n <= rest.len());
                assert_eq!(frame_len(&rest[..n - 1]), Ok(None), "prefix of {f:?}");
                check_reencode(&f);
                pos += n;
            }
            (a, b) => panic!("frame_len {a:?} but decode_frame {b:?}"),
        }
    }
}

/// A decoded frame re-encodes to bytes that decode back to the same encoding, in every protocol.
fn check_reencode(f: &Frame) {
    let mut e = Vec::new();
    encode_frame(f, &mut e);
    let (f2, n) = match decode_frame(&e) {
        Ok(Some(x)) => x,
        other => panic!(
            "re-encoded {f:?} as {:?}: {other:?}",
            e.escape_ascii().to_string()
        ),
    };
    assert_eq!(n, e.len());
    let mut e2 = Vec::new();
    encode_frame(&f2, &mut e2);
    assert_eq!(e, e2, "encoding is not stable for {f:?}");
    for proto in [Proto::Resp2, Proto::Resp3] {
        let mut o = Vec::new();
        encode_frame_for(f, proto, &mut o);
        match decode_frame(&o) {
            Ok(Some((_, n))) if n == o.len() => {}
            other => panic!("{proto:?} encoding of {f:?} decodes as {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Command layer
// ---------------------------------------------------------------------------------------------

/// Databases of the fuzzed keyspace (Redis's default count, so MOVE/SELECT reach them all).
const DATABASES: usize = 16;
/// The clock starts here (unix ms), so absolute deadlines before and after it are both reachable.
const START_MS: i64 = 1_700_000_000_000;
/// Keys whose TYPE/PTTL are cross-checked after every command, when the DB holds at most these.
const CHECK_ALL_KEYS: usize = 32;

/// Runs requests against one shard's [`Keyspace`] through the real command table, with an
/// injected clock, checking invariants after every command.
///
/// Input: a flag byte (bit 0: RESP3 replies; bit 1: RESTORE payloads get their footer CRC
/// fixed, so the fuzzer reaches the value decoder), then a request stream (RESP multibulk or
/// inline) parsed by the real parser. Besides every shard-handled command, the harness takes:
/// `TICK <ms>` (advance the clock), `CYCLE <n>` (an active-expiry cycle over at most `n`
/// keys) and `SELECT <db>`. Commands the server would refuse before running them (unknown,
/// internal, wrong arity) are skipped; so are connection/server-level ones (not shard code).
///
/// Checks after each command: its reply is exactly one well-formed frame; the keyspace's own
/// invariants ([`Keyspace::check_invariants`]); DBSIZE equals the entries of the DB; for the
/// keys of the DB (when few) TYPE names the kind stored, and PTTL agrees with the deadline;
/// values named in the command are well-formed (no empty collection, sorted-set order and
/// indexes agree). At the end, every key survives DUMP → RESTORE → DUMP unchanged.
pub fn exec_commands(data: &[u8]) {
    let Some((&flags, stream)) = data.split_first() else {
        return;
    };
    let proto = if flags & 1 != 0 {
        Proto::Resp3
    } else {
        Proto::Resp2
    };
    let fix_crc = flags & 2 != 0;
    let mut batch = CmdBatch::new();
    parse_requests_with(stream, &mut batch, &ParseOptions::default());
    // Deterministic SPOP/SRANDMEMBER/… picks, so a crash reproduces.
    fastrand::seed(0);
    let mut ks = Keyspace::with_seed(DATABASES, 0);
    let mut now = START_MS;
    let mut db = 0usize;
    for argv in batch.iter() {
        let name = argv.get(0).to_ascii_lowercase();
        let int_arg = |i: usize| {
            (argv.len() > i)
                .then(|| crate::resp::string2ll(argv.get(i)))
                .flatten()
        };
        match name.as_slice() {
            b"tick" => {
                now = now.saturating_add(int_arg(1).unwrap_or(1).clamp(0, 1 << 40));
                continue;
            }
            b"cycle" => {
                let n = int_arg(1).unwrap_or(20).clamp(1, 10_000) as u64;
                ks.active_expire_cycle(now, ExpireBudget::keys(n));
                ks.check_invariants();
                continue;
            }
            b"select" => {
                if let Some(n) = int_arg(1).filter(|n| (0..DATABASES as i64).contains(n)) {
                    db = n as usize;
                }
                continue;
            }
            _ => {}
        }
        let Some(idx) = cmd::lookup(argv.get(0)) else {
            continue;
        };
        let spec = &cmd::table()[idx];
        let Handler::Shard(f) = spec.handler else {
            continue;
        };
        if spec.flags & cmd::flags::INTERNAL != 0 || !spec.arity_ok(argv.len()) {
            continue;
        }
        if let Route::Keys { first, step, .. } = spec.route {
            // The router's own arity check for key/value groups.
            if !(argv.len() - first).is_multiple_of(step) {
                continue;
            }
        }
        if legitimately_huge(spec.name, argv) {
            continue;
        }
        let mut fixed;
        let argv = if fix_crc && spec.name == "restore" {
            fixed = CmdBatch::new();
            for (i, a) in argv.iter().enumerate() {
                if i == 3 {
                    let mut p = a.to_vec();
                    fix_dump_crc(&mut p);
                    fixed.push_arg(&p);
                } else {
                    fixed.push_arg(a);
                }
            }
            fixed.finish_cmd();
            fixed.get(0)
        } else {
            argv
        };
        let out = run_shard(&mut ks, f, db, now, proto, argv);
        assert_one_frame(spec.name, &out);
        ks.check_invariants();
        check_db(&mut ks, db, now);
        for a in argv.iter().skip(1) {
            if let Some(v) = ks.peek(db, a) {
                check_value(a, v);
            }
        }
    }
    ks.active_expire_cycle(now, ExpireBudget::keys(100_000));
    ks.check_invariants();
    check_all_values(&ks);
    check_dump_roundtrip(&mut ks, now);
}

/// Commands whose Redis behaviour is to allocate what the client asks for (up to 512 MB):
/// SETRANGE/SETBIT/BITFIELD far offsets, and huge negative counts of the random-pick commands
/// (Redis answers `-count` elements, repeats allowed). Skipped beyond a few MB so the allocation limit flags only
/// allocations no client could legitimately cause.
fn legitimately_huge(name: &str, argv: crate::resp::Argv<'_>) -> bool {
    const BIG: i64 = 1 << 22;
    let big = |a: &[u8]| match crate::resp::string2ll(a) {
        Some(v) => !(-BIG..=BIG).contains(&v),
        None => false,
    };
    match name {
        "setrange" | "setbit" | "bitfield" | "bitfield_ro" => {
            // BITFIELD offsets may carry a '#' (times the type width).
            argv.iter().skip(2).any(|a| {
                let a = a.strip_prefix(b"#").unwrap_or(a);
                big(a)
            })
        }
        // A positive count is bounded by the collection, so only negative ones are skipped.
        "srandmember" | "hrandfield" | "zrandmember" => argv
            .iter()
            .skip(2)
            .any(|a| crate::resp::string2ll(a).is_some_and(|v| v < -BIG)),
        _ => false,
    }
}

/// Runs one shard command as `Core::exec` does (minus the panic guard: a panic is the finding).
fn run_shard(
    ks: &mut Keyspace,
    f: cmd::ShardFn,
    db: usize,
    now: i64,
    proto: Proto,
    argv: crate::resp::Argv<'_>,
) -> Reply {
    let mut out = Reply::new(proto);
    let dirty_before = ks.cas_active().then(|| ks.dirty());
    let mut ctx = ShardCtx {
        ks,
        db,
        now_ms: now,
    };
    f(&mut ctx, argv, &mut out);
    if let Some(d) = dirty_before {
        ctx.ks.settle_touches(d);
    }
    if ctx.ks.has_ready() {
        crate::blocking::serve_ready(ctx.ks, now);
    }
    out
}

/// Runs a shard command given by its arguments (the harness's own probes).
fn probe(ks: &mut Keyspace, db: usize, now: i64, args: &[&[u8]]) -> Vec<u8> {
    let b = CmdBatch::from_args(args.iter().copied());
    let idx = cmd::lookup(args[0]).expect("probe command exists");
    let Handler::Shard(f) = cmd::table()[idx].handler else {
        panic!("probe command {:?} is not a shard command", args[0]);
    };
    run_shard(ks, f, db, now, Proto::Resp2, b.get(0)).buf
}

fn assert_one_frame(name: &str, out: &Reply) {
    match decode_frame(&out.buf) {
        Ok(Some((_, n))) if n == out.buf.len() => {}
        other => panic!(
            "{name} replied {:?}, not one frame: {other:?}",
            String::from_utf8_lossy(&out.buf[..out.buf.len().min(300)])
        ),
    }
}

/// DBSIZE, TYPE and PTTL agree with what the DB holds.
fn check_db(ks: &mut Keyspace, db: usize, now: i64) {
    let entries = ks.iter(db).count();
    assert_eq!(entries, ks.len(db));
    let dbsize = probe(ks, db, now, &[b"DBSIZE"]);
    assert_eq!(dbsize, format!(":{entries}\r\n").into_bytes(), "DBSIZE");
    if entries > CHECK_ALL_KEYS {
        return;
    }
    let keys: Vec<Vec<u8>> = ks.iter(db).map(|(k, _, _)| k.to_vec()).collect();
    for k in &keys {
        let ty = probe(ks, db, now, &[b"TYPE", k]);
        let want = match ks.peek(db, k) {
            None => "none",
            Some(v) => v.kind().name(),
        };
        assert_eq!(
            ty,
            format!("+{want}\r\n").into_bytes(),
            "TYPE of {:?}",
            k.escape_ascii().to_string()
        );
        let pttl = probe(ks, db, now, &[b"PTTL", k]);
        let want = match (ks.peek(db, k), ks.expire_at(db, k)) {
            (None, _) => -2,
            (Some(_), None) => -1,
            (Some(_), Some(when)) => {
                assert!(now <= when, "live key past its deadline");
                when - now
            }
        };
        assert_eq!(
            pttl,
            format!(":{want}\r\n").into_bytes(),
            "PTTL of {:?}",
            k.escape_ascii().to_string()
        );
    }
}

/// A stored value is well-formed: collections are not empty (Redis deletes emptied keys), and a
/// sorted set's order, score index and ranks agree.
fn check_value(key: &[u8], v: &Value) {
    let k = || key.escape_ascii().to_string();
    match v.kind() {
        Kind::String => {
            let s = v.as_str().expect("string kind");
            assert!(s.len() <= crate::keyspace::MAX_LEN);
        }
        Kind::List => assert!(!v.as_list().expect("list").is_empty(), "empty list {}", k()),
        Kind::Hash => assert!(!v.as_hash().expect("hash").is_empty(), "empty hash {}", k()),
        Kind::Set => assert!(!v.as_set().expect("set").is_empty(), "empty set {}", k()),
        Kind::Zset => {
            let z = v.as_zset().expect("zset");
            assert!(!z.is_empty(), "empty zset {}", k());
            let mut prev: Option<(&[u8], f64)> = None;
            let mut n = 0;
            for (i, (m, s)) in z.iter().enumerate() {
                assert!(!s.is_nan(), "NaN score in {}", k());
                if let Some(p) = prev {
                    assert_eq!(
                        crate::zset::cmp_entries(p, (m, s)),
                        std::cmp::Ordering::Less,
                        "zset {} out of order",
                        k()
                    );
                }
                assert_eq!(z.score(m).map(f64::to_bits), Some(s.to_bits()));
                assert_eq!(z.rank(m), Some(i), "rank in {}", k());
                prev = Some((m, s));
                n += 1;
            }
            assert_eq!(n, z.len());
        }
    }
}

fn check_all_values(ks: &Keyspace) {
    for db in 0..ks.databases() {
        for (k, v, _) in ks.iter(db) {
            check_value(k, v);
        }
    }
}

/// Every key's DUMP payload is one RESTORE accepts, and restoring it dumps the same bytes.
fn check_dump_roundtrip(ks: &mut Keyspace, now: i64) {
    let mut fresh = Keyspace::with_seed(1, 0);
    for db in 0..ks.databases() {
        let keys: Vec<Vec<u8>> = ks.live_keys(db, now).map(<[u8]>::to_vec).collect();
        for k in keys {
            let dumped = probe(ks, db, now, &[b"DUMP", &k]);
            let payload = match decode_frame(&dumped) {
                Ok(Some((Frame::Bulk(p), _))) => p,
                other => panic!("DUMP of a live key replied {other:?}"),
            };
            if let Err(e) = rdb::read_dump(&payload) {
                panic!("our own DUMP payload is refused: {e:?}");
            }
            let r = probe(
                &mut fresh,
                0,
                now,
                &[b"RESTORE", b"k", b"0", &payload, b"REPLACE"],
            );
            assert_eq!(r, b"+OK\r\n", "RESTORE of our own DUMP");
            let again = probe(&mut fresh, 0, now, &[b"DUMP", b"k"]);
            assert_eq!(dumped, again, "DUMP → RESTORE → DUMP changed the payload");
        }
    }
    fresh.check_invariants();
}

/// Rewrites a DUMP payload's CRC-64 footer to match its bytes (no-op when too short to have one).
fn fix_dump_crc(p: &mut [u8]) {
    if p.len() >= 10 {
        let n = p.len() - 8;
        let crc = rdb::crc64(0, &p[..n]);
        p[n..].copy_from_slice(&crc.to_le_bytes());
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshot loader
// ---------------------------------------------------------------------------------------------

/// Loads arbitrary bytes as a snapshot file or a DUMP payload; only an error may come out.
///
/// Input: a mode byte, then the bytes. Mode (low 2 bits):
/// - 0: an RDB file, loaded by the start-up loader as a plain `dump.rdb` into one shard;
/// - 1: the same with its trailing CRC-64 (version 5 and later) rewritten to match, so
///   mutated files load to the end;
/// - 2: a DUMP payload with its footer CRC rewritten: `rdb::read_dump` and RESTORE;
/// - 3: like 1, loaded by shard 0 of 2 (keys of shard 1 are set aside for it).
///
/// Whatever loads must satisfy the keyspace invariants, hold well-formed values, and survive
/// DUMP → RESTORE → DUMP.
pub fn rdb_load(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode & 3 {
        0 => load_file(rest, false, false),
        1 => load_file(rest, true, false),
        2 => load_dump(rest),
        _ => load_file(rest, true, true),
    }
}

fn load_file(bytes: &[u8], fix_crc: bool, sharded: bool) {
    let mut file = bytes.to_vec();
    // Files before version 5 have no checksum to fix.
    let version = file
        .get(5..9)
        .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u32>().ok());
    if fix_crc && file.len() >= 17 && version.is_some_and(|v| v >= 5) {
        let n = file.len() - 8;
        let crc = rdb::crc64(0, &file[..n]);
        file[n..].copy_from_slice(&crc.to_le_bytes());
    }
    let nshards = if sharded { 2 } else { 1 };
    let mut ks = Keyspace::with_seed(DATABASES, 0);
    let mut away: Vec<Vec<crate::persist::Moved>> = (0..nshards).map(|_| Vec::new()).collect();
    let loaded = crate::persist::load_bytes(
        "fuzz.rdb", &file, None, None, 0, nshards, DATABASES, START_MS, &mut ks, &mut away,
    );
    ks.check_invariants();
    if loaded.is_err() {
        return;
    }
    for (db, key, val, exp) in away.into_iter().flatten() {
        assert_eq!(
            crate::shard::shard_of(&key, nshards),
            1,
            "routed to the wrong shard"
        );
        // Duplicates across files are the loader's error to report; within one file they were
        // refused already, so this insert cannot collide.
        let mut other = Keyspace::with_seed(DATABASES, 0);
        assert!(other.load_insert(db as usize, &key, val, exp));
    }
    check_all_values(&ks);
    check_dump_roundtrip(&mut ks, START_MS);
}

fn load_dump(bytes: &[u8]) {
    let mut payload = bytes.to_vec();
    fix_dump_crc(&mut payload);
    let direct = rdb::read_dump(&payload);
    let mut ks = Keyspace::with_seed(1, 0);
    let r = probe(&mut ks, 0, START_MS, &[b"RESTORE", b"k", b"0", &payload]);
    ks.check_invariants();
    match direct {
        // The reader may accept what RESTORE then refuses (e.g. a duplicate zset member
        // check happens while building); never the other way round.
        Err(_) => assert!(
            r.starts_with(b"-"),
            "RESTORE accepted what read_dump refused"
        ),
        Ok(_) => {
            if r == b"+OK\r\n" {
                check_all_values(&ks);
                check_dump_roundtrip(&mut ks, START_MS);
            } else {
                assert!(r.starts_with(b"-"), "RESTORE replied {r:?}");
            }
        }
    }
}
