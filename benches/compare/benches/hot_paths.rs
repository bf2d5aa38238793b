//! Micro-benchmarks of the per-request work that is ours (not the kernel's or the runtime's):
//! parsing a pipelined batch, running commands on a shard's keyspace, writing replies, routing.
//!
//! Run: `cargo bench --manifest-path benches/compare/Cargo.toml`

use redis_lite::cmd::{self, Handler, ShardCtx};
use redis_lite::keyspace::Keyspace;
use redis_lite::resp::{parse_requests, CmdBatch, Proto, Reply};
use redis_lite::shard::shard_of;

fn main() {
    divan::main();
}

/// 16 pipelined `SET key:<n> <16 bytes>` as redis-benchmark -P 16 sends them.
fn pipeline_16() -> Vec<u8> {
    let mut buf = Vec::new();
    for i in 0..16 {
        let key = format!("key:{:012}", i * 7919);
        buf.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{}\r\n$16\r\nxxxxxxxxxxxxxxxx\r\n",
                key.len(),
                key
            )
            .as_bytes(),
        );
    }
    buf
}

#[divan::bench]
fn parse_pipeline_of_16_sets(bencher: divan::Bencher) {
    let input = pipeline_16();
    let mut batch = CmdBatch::new();
    bencher.bench_local(|| {
        batch.clear();
        let p = parse_requests(divan::black_box(&input), &mut batch);
        assert_eq!(p.consumed, input.len());
        batch.len()
    });
}

fn run(ks: &mut Keyspace, batch: &CmdBatch, out: &mut Reply) {
    for argv in batch.iter() {
        let idx = cmd::lookup(argv.get(0)).expect("known command");
        let Handler::Shard(f) = cmd::table()[idx].handler else {
            unreachable!()
        };
        let mut ctx = ShardCtx {
            ks,
            db: 0,
            now_ms: 1_700_000_000_000,
        };
        f(&mut ctx, argv, out);
    }
}

#[divan::bench]
fn set_then_get_16_keys_in_100k_keyspace(bencher: divan::Bencher) {
    let mut ks = Keyspace::new(16);
    let mut out = Reply::new(Proto::Resp2);
    let mut fill = CmdBatch::new();
    for i in 0..100_000 {
        fill.clear();
        fill.push_argv(
            CmdBatch::from_args(["SET", &format!("key:{:012}", i), "xxxxxxxxxxxxxxxx"]).get(0),
        );
        run(&mut ks, &fill, &mut out);
        out.buf.clear();
    }
    let mut sets = CmdBatch::new();
    parse_requests(&pipeline_16(), &mut sets);
    let mut gets = CmdBatch::new();
    for argv in sets.iter() {
        gets.push_argv(CmdBatch::from_args([b"GET".as_slice(), argv.get(1)]).get(0));
    }
    bencher.bench_local(|| {
        out.buf.clear();
        run(&mut ks, &sets, &mut out);
        run(&mut ks, &gets, &mut out);
        out.buf.len()
    });
}

#[divan::bench]
fn write_16_bulk_replies(bencher: divan::Bencher) {
    let mut out = Reply::new(Proto::Resp2);
    bencher.bench_local(|| {
        out.buf.clear();
        for _ in 0..16 {
            out.bulk(divan::black_box(b"xxxxxxxxxxxxxxxx"));
        }
        out.buf.len()
    });
}

#[divan::bench]
fn route_16_keys_over_4_shards(bencher: divan::Bencher) {
    let keys: Vec<String> = (0..16).map(|i| format!("key:{:012}", i * 7919)).collect();
    bencher.bench_local(|| {
        keys.iter()
            .map(|k| shard_of(divan::black_box(k.as_bytes()), 4))
            .sum::<usize>()
    });
}

/// Pipelines of 16 `INCR counter:<random>` over a 1M-key keyspace (redis-benchmark's
/// `-t incr -P 16 -r 1000000`), run as a shard runs a forwarded envelope: with and without
/// `Keyspace::prefetch` first. The batches cycle over 256k distinct keys, far more than the
/// caches hold, so most lookups miss as they do in the server.
#[divan::bench(args = [false, true])]
fn incr_16_random_keys_in_1m_keyspace(bencher: divan::Bencher, prefetch: bool) {
    let mut ks = Keyspace::new(1);
    let mut out = Reply::new(Proto::Resp2);
    let mut fill = CmdBatch::new();
    for i in 0..1_000_000u64 {
        fill.clear();
        fill.push_argv(CmdBatch::from_args(["INCR", &format!("counter:{i:012}")]).get(0));
        run(&mut ks, &fill, &mut out);
        out.buf.clear();
    }
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let batches: Vec<CmdBatch> = (0..16_384)
        .map(|_| {
            let mut b = CmdBatch::new();
            for _ in 0..16 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let key = format!("counter:{:012}", x % 1_000_000);
                b.push_argv(CmdBatch::from_args(["INCR", &key]).get(0));
            }
            b
        })
        .collect();
    let mut i = 0;
    bencher.bench_local(|| {
        let b = &batches[i % batches.len()];
        i += 1;
        out.buf.clear();
        if prefetch {
            ks.prefetch(0, b.iter().map(|a| a.get(1)));
        }
        run(&mut ks, b, &mut out);
        out.buf.len()
    });
}
