//! Sharding: with `--shards 4`, keys live on different cores, yet multi-key commands, DBSIZE,
//! FLUSHALL, KEYS and pipelines behave as one Redis. Ownership is computed here with the same
//! function as the server (Redis Cluster's CRC16 slot, mapped to shards as
//! `slot % nshards`) to make sure every test really crosses shards.

mod common;

use common::*;
use std::collections::HashMap;
use std::io::Write;
use std::thread;

const SHARDS: usize = 4;

fn server() -> Server {
    Server::start(Opts::shards(SHARDS))
}

/// Keys taken in turn from each shard: `per_shard` rounds of one key per shard.
fn interleaved_keys(prefix: &str, per_shard: usize) -> Vec<String> {
    let by_shard = keys_per_shard(prefix, SHARDS, per_shard);
    let mut out = Vec::new();
    for i in 0..per_shard {
        for shard in &by_shard {
            out.push(shard[i].clone());
        }
    }
    out
}

#[test]
fn slot_function_matches_redis_cluster() {
    // CRC16/XMODEM check value, and slots Redis Cluster gives (CLUSTER KEYSLOT).
    assert_eq!(crc16(b"123456789"), 0x31C3);
    assert_eq!(key_slot(b"foo"), 12182);
    assert_eq!(key_slot(b"bar"), 5061);
    assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
    assert_eq!(key_slot(b"{user1000}.followers"), key_slot(b"user1000"));
    // Empty `{}` and unclosed `{` hash the whole key; the first `{...}` counts.
    assert_eq!(
        key_slot(b"foo{}{bar}"),
        crc16(b"foo{}{bar}") as usize & 16383
    );
    assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
    assert_eq!(key_slot(b"{abc"), crc16(b"{abc") as usize & 16383);
    assert_eq!(shard_of(b"anything", 1), 0);
    assert_eq!(shard_of(b"foo", 4), 12182 % 4);
}

#[test]
fn test_ownership_matches_the_server_function() {
    // The tests pick keys with their own copy of the function; it must be the server's.
    for n in 1..=8 {
        for i in 0..2000 {
            let k = format!("key:{i}");
            assert_eq!(
                shard_of(k.as_bytes(), n),
                redis_lite::shard::shard_of(k.as_bytes(), n),
                "{k} with {n} shards"
            );
        }
        for k in [
            "",
            "{",
            "}",
            "{}",
            "{a}b",
            "x{y}z{w}",
            "{{a}}",
            "\x7f{\x00}",
        ] {
            assert_eq!(
                shard_of(k.as_bytes(), n),
                redis_lite::shard::shard_of(k.as_bytes(), n),
                "{k:?} with {n} shards"
            );
        }
    }
}

#[test]
fn thousand_keys_on_every_shard() {
    let s = server();
    let mut c = s.conn();
    let keys: Vec<String> = (0..1000).map(|i| format!("key:{i}")).collect();
    let mut owned = [0usize; SHARDS];
    for k in &keys {
        owned[shard_of(k.as_bytes(), SHARDS)] += 1;
    }
    assert!(
        owned.iter().all(|&n| n > 100),
        "keys not spread over the shards: {owned:?}"
    );
    let mut buf = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        encode_cmd_into(&["SET", k.as_str(), &format!("value-{i}")], &mut buf);
    }
    c.send(&buf);
    for _ in &keys {
        assert_eq!(c.read_reply(), ok());
    }
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(
            c.cmd(&["GET", k.as_str()]),
            bulk(format!("value-{i}")),
            "{k}"
        );
    }
    assert_eq!(c.cmd(&["DBSIZE"]), int(1000));
    // A second connection (likely accepted by another core) sees the same data.
    let mut c2 = s.conn();
    assert_eq!(c2.cmd(&["GET", "key:999"]), bulk("value-999"));
    assert_eq!(c2.cmd(&["DBSIZE"]), int(1000));
}

#[test]
fn multi_key_commands_merge_in_argument_order() {
    let s = server();
    let mut c = s.conn();
    let keys = interleaved_keys("mk:", 3); // 12 keys, shards 0,1,2,3,0,1,2,3,...
    let mut mset = vec!["MSET".to_string()];
    for k in &keys {
        mset.push(k.clone());
        mset.push(format!("v-{k}"));
    }
    assert_eq!(c.cmd(&mset), ok());
    for k in &keys {
        assert_eq!(c.cmd(&["GET", k.as_str()]), bulk(format!("v-{k}")));
    }

    // MGET: reversed order, missing keys of every shard in between, a repeated key.
    let missing = interleaved_keys("absent:", 1);
    let mut args = vec!["MGET".to_string()];
    let mut want = Vec::new();
    for (i, k) in keys.iter().rev().enumerate() {
        args.push(k.clone());
        want.push(bulk(format!("v-{k}")));
        if i < missing.len() {
            args.push(missing[i].clone());
            want.push(nil());
        }
    }
    args.push(keys[0].clone());
    want.push(bulk(format!("v-{}", keys[0])));
    assert_eq!(c.cmd(&args), arr(want));

    // A list on one shard reads as nil in an MGET spanning shards.
    let list_key = &keys[5];
    assert_eq!(c.cmd(&["DEL", list_key.as_str()]), int(1));
    assert_eq!(c.cmd(&["RPUSH", list_key.as_str(), "x"]), int(1));
    assert_eq!(
        c.cmd(&[
            "MGET",
            keys[4].as_str(),
            list_key.as_str(),
            keys[6].as_str()
        ]),
        arr(vec![
            bulk(format!("v-{}", keys[4])),
            nil(),
            bulk(format!("v-{}", keys[6]))
        ])
    );

    // EXISTS sums over shards and counts repeats.
    let mut ex = vec!["EXISTS".to_string()];
    ex.extend(keys.iter().cloned());
    ex.extend(missing.iter().cloned());
    ex.push(keys[1].clone());
    ex.push(keys[2].clone());
    assert_eq!(c.cmd(&ex), int(keys.len() as i64 + 2));

    // MSET spanning shards with a repeated key: the last value wins.
    assert_eq!(
        c.cmd(&[
            "MSET",
            keys[0].as_str(),
            "first",
            keys[1].as_str(),
            "b",
            keys[0].as_str(),
            "last",
        ]),
        ok()
    );
    assert_eq!(c.cmd(&["GET", keys[0].as_str()]), bulk("last"));

    // DEL and UNLINK sum over shards; repeats count once.
    let mut del = vec!["DEL".to_string()];
    del.extend(keys[..8].iter().cloned());
    del.push(keys[0].clone());
    del.extend(missing.iter().cloned());
    assert_eq!(c.cmd(&del), int(8));
    let mut unlink = vec!["UNLINK".to_string()];
    unlink.extend(keys.iter().cloned());
    assert_eq!(c.cmd(&unlink), int(4));
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
}

#[test]
fn hashtag_keys_stay_together() {
    let s = server();
    let mut c = s.conn();
    let keys: Vec<String> = (0..20).map(|i| format!("{{user42}}:field{i}")).collect();
    let owner = shard_of(keys[0].as_bytes(), SHARDS);
    assert!(keys.iter().all(|k| shard_of(k.as_bytes(), SHARDS) == owner));
    let mut mset = vec!["MSET".to_string()];
    for k in &keys {
        mset.push(k.clone());
        mset.push(k.to_uppercase());
    }
    assert_eq!(c.cmd(&mset), ok());
    let mut mget = vec!["MGET".to_string()];
    mget.extend(keys.iter().cloned());
    let got = c.cmd(&mget).strings();
    let want: Vec<String> = keys.iter().map(|k| k.to_uppercase()).collect();
    assert_eq!(got, want);
}

#[test]
fn dbsize_flushall_and_keys_cover_all_shards() {
    let s = server();
    let mut c = s.conn();
    let keys = interleaved_keys("all:", 25); // 100 keys, 25 per shard
    let mut mset = vec!["MSET".to_string()];
    for k in &keys {
        mset.push(k.clone());
        mset.push("1".into());
    }
    assert_eq!(c.cmd(&mset), ok());
    assert_eq!(c.cmd(&["RPUSH", keys[1].as_str(), "x"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["DBSIZE"]), int(100));
    let mut listed = c.cmd(&["KEYS", "*"]).strings();
    listed.sort();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(c.cmd(&["KEYS", "all:1?"]).items().len(), 10);
    // Other databases, on every shard too.
    assert_eq!(c.cmd(&["SELECT", "2"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    for k in &keys[..8] {
        assert_eq!(c.cmd(&["SET", k.as_str(), "db2"]), ok());
    }
    assert_eq!(c.cmd(&["DBSIZE"]), int(8));
    assert_eq!(c.cmd(&["FLUSHDB"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(c.cmd(&["SELECT", "0"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(100));
    for k in &keys[..8] {
        assert_eq!(c.cmd(&["SET", k.as_str(), "2"]), ok());
    }
    assert_eq!(c.cmd(&["SELECT", "5"]), ok());
    for k in &keys[..8] {
        assert_eq!(c.cmd(&["SET", k.as_str(), "db5"]), ok());
    }
    assert_eq!(c.cmd(&["FLUSHALL"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(c.cmd(&["SELECT", "0"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(c.cmd(&["KEYS", "*"]), empty());
    for k in &keys {
        assert_eq!(c.cmd(&["EXISTS", k.as_str()]), int(0));
    }
}

#[test]
fn concurrent_incr_from_50_clients_gives_exact_totals() {
    let s = server();
    let keys = interleaved_keys("ctr:", 5); // 20 keys, 5 per shard
    let threads: Vec<_> = (0..50)
        .map(|t| {
            let mut con = s.client();
            let keys = keys.clone();
            thread::spawn(move || {
                for j in 0..1000 {
                    let k = &keys[(t + j) % keys.len()];
                    let v: i64 = redis::cmd("INCR").arg(k).query(&mut con).expect("INCR");
                    assert!(v >= 1);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let mut con = s.client();
    let values: Vec<i64> = redis::cmd("MGET").arg(&keys).query(&mut con).unwrap();
    assert_eq!(values, vec![2500; 20]);
    let size: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(size, 20);
}

#[test]
fn pipeline_mixing_every_shard_keeps_reply_order() {
    let s = server();
    let mut c = s.conn();
    let keys = interleaved_keys("pl:", 10); // 40 keys
    let mut buf = Vec::new();
    let mut want = Vec::new();
    let mut counters: HashMap<&str, i64> = HashMap::new();
    let mut values: HashMap<&str, String> = HashMap::new();
    for i in 0..4000usize {
        let k = keys[(i * 7) % keys.len()].as_str();
        match i % 5 {
            0 | 1 => {
                let n = counters.entry(k).or_insert(0);
                *n += 1;
                encode_cmd_into(&["INCR", &format!("{k}:n")], &mut buf);
                want.push(int(*n));
            }
            2 => {
                let v = format!("v{i}");
                encode_cmd_into(&["SET", k, &v], &mut buf);
                values.insert(k, v);
                want.push(ok());
            }
            3 => {
                encode_cmd_into(&["GET", k], &mut buf);
                want.push(values.get(k).map(bulk).unwrap_or(nil()));
            }
            _ => {
                // A multi-shard command in the middle of the pipeline.
                let a = keys[i % keys.len()].as_str();
                let b = keys[(i + 1) % keys.len()].as_str();
                let cc = keys[(i + 2) % keys.len()].as_str();
                encode_cmd_into(&["MGET", a, b, cc], &mut buf);
                want.push(arr(vec![
                    values.get(a).map(bulk).unwrap_or(nil()),
                    values.get(b).map(bulk).unwrap_or(nil()),
                    values.get(cc).map(bulk).unwrap_or(nil()),
                ]));
            }
        }
    }
    let mut w = c.stream.try_clone().unwrap();
    let writer = thread::spawn(move || w.write_all(&buf).map(|_| ()));
    for (i, expected) in want.iter().enumerate() {
        assert_eq!(&c.read_reply(), expected, "reply {i}");
    }
    writer.join().unwrap().expect("write pipeline");
    // DBSIZE and EXISTS in a pipeline with single-key commands.
    let mut buf = Vec::new();
    encode_cmd_into(&["SET", keys[0].as_str(), "x"], &mut buf);
    encode_cmd_into(&["DBSIZE"], &mut buf);
    let probe = [
        keys[1].as_str(),
        keys[4].as_str(),
        keys[9].as_str(),
        keys[14].as_str(),
    ];
    let mut exists = vec!["EXISTS"];
    exists.extend_from_slice(&probe);
    encode_cmd_into(&exists, &mut buf);
    encode_cmd_into(&["GET", keys[0].as_str()], &mut buf);
    c.send(&buf);
    assert_eq!(c.read_reply(), ok());
    values.insert(keys[0].as_str(), "x".into());
    let size = (values.len() + counters.len()) as i64;
    assert_eq!(c.read_reply(), int(size));
    let present = probe.iter().filter(|k| values.contains_key(*k)).count();
    assert!(present >= 2, "the probe should hit some keys");
    assert_eq!(c.read_reply(), int(present as i64));
    assert_eq!(c.read_reply(), bulk("x"));
}

#[test]
fn one_hot_key_from_many_connections() {
    let s = server();
    // Connections are spread over the cores; every one of them reaches the key's owner.
    let mut conns: Vec<Conn> = (0..16).map(|_| s.conn()).collect();
    for round in 0..50 {
        for c in conns.iter_mut() {
            c.send_cmd(&["INCR", "hot"]);
        }
        for c in conns.iter_mut() {
            c.read_reply().int();
        }
        let v = conns[round % 16].cmd(&["GET", "hot"]);
        assert_eq!(v, bulk(((round + 1) * 16).to_string()));
    }
}

#[test]
fn single_shard_server_works() {
    let s = Server::start(Opts::shards(1));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2"]), ok());
    assert_eq!(c.cmd(&["MGET", "b", "a"]), bulks(&["2", "1"]));
    assert_eq!(c.cmd(&["DBSIZE"]), int(2));
}

#[test]
fn concurrent_deep_pipelines_across_shards() {
    let s = server();
    // Several clients pipeline thousands of commands over keys of every shard at the same time:
    // forwarding between cores is busy in every direction at once.
    let keys = interleaved_keys("deep:", 8); // 32 keys
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let mut c = s.conn();
            let keys = keys.clone();
            thread::spawn(move || {
                let mut buf = Vec::new();
                let mut want = Vec::new();
                for i in 0..5000usize {
                    // Each group of 4 commands works on one key of its own.
                    let base = i - i % 4;
                    let k = &keys[(base * 3 + t) % keys.len()];
                    let own = format!("{k}:t{t}");
                    match i % 4 {
                        0 => {
                            encode_cmd_into(&["SET", own.as_str(), &i.to_string()], &mut buf);
                            want.push(ok());
                        }
                        1 => {
                            encode_cmd_into(&["GET", own.as_str()], &mut buf);
                            want.push(bulk(base.to_string()));
                        }
                        2 => {
                            encode_cmd_into(&["INCR", k.as_str()], &mut buf);
                            want.push(Reply::Nil); // any integer: checked below
                        }
                        _ => {
                            let other = format!("{}:t{t}", keys[(i + 5) % keys.len()]);
                            encode_cmd_into(&["EXISTS", own.as_str(), other.as_str()], &mut buf);
                            want.push(Reply::Nil); // 1 or 2: checked below
                        }
                    }
                }
                let mut w = c.stream.try_clone().unwrap();
                let writer = thread::spawn(move || w.write_all(&buf).map(|_| ()));
                for (i, expected) in want.iter().enumerate() {
                    let r = c.read_reply();
                    match i % 4 {
                        2 => assert!(r.int() >= 1, "client {t} reply {i}: {r:?}"),
                        3 => assert!((1..=2).contains(&r.int()), "client {t} reply {i}: {r:?}"),
                        _ => assert_eq!(&r, expected, "client {t} reply {i}"),
                    }
                }
                writer.join().unwrap().expect("write pipeline");
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let mut c = s.conn();
    let mut total = 0;
    for k in &keys {
        let v = c.cmd(&["GET", k.as_str()]);
        if v != nil() {
            total += v.text().parse::<i64>().unwrap();
        }
    }
    assert_eq!(total, 8 * 5000 / 4);
}

/// A connection whose commands all go to one other core moves to that core (INFO's
/// `moved_connections`), keeping its id, name, database and every write; it moves again, after
/// its cool-down, when its keys change owner.
#[test]
fn connections_move_to_the_core_owning_their_keys() {
    let s = Server::start(
        Opts::shards(SHARDS)
            .arg("--move-connections-after")
            .arg("64"),
    );
    let keys = keys_per_shard("mv", SHARDS, 1);
    let (k0, k1) = (&keys[0][0], &keys[1][0]);
    let mut conns: Vec<redis::Connection> = (0..8).map(|_| s.client()).collect();
    let mut ids = Vec::new();
    for (i, c) in conns.iter_mut().enumerate() {
        let _: () = redis::cmd("CLIENT")
            .arg("SETNAME")
            .arg(format!("mover{i}"))
            .query(c)
            .unwrap();
        let _: () = redis::cmd("SELECT").arg(3).query(c).unwrap();
        let _: () = redis::cmd("SET")
            .arg(format!("db3:{i}"))
            .arg(i)
            .query(c)
            .unwrap();
        ids.push(redis::cmd("CLIENT").arg("ID").query::<i64>(c).unwrap());
    }
    let moved = |c: &mut redis::Connection| -> u64 {
        let info: String = redis::cmd("INFO").arg("stats").query(c).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("moved_connections:"))
            .expect("moved_connections in INFO stats")
            .trim()
            .parse()
            .unwrap()
    };
    let mut check = s.client();
    assert_eq!(moved(&mut check), 0);
    for (round, key) in [k0, k1].into_iter().enumerate() {
        if round == 1 {
            // Past the cool-down, so connections may move a second time.
            std::thread::sleep(std::time::Duration::from_millis(1100));
        }
        for _ in 0..100 {
            for c in conns.iter_mut() {
                let _: i64 = redis::cmd("INCR").arg(key).query(c).unwrap();
            }
        }
        let total: i64 = redis::cmd("GET").arg(key).query(&mut conns[0]).unwrap();
        assert_eq!(total, 800, "every INCR counted exactly once");
    }
    // Eight connections spread over four cores: some were elsewhere than each key's owner.
    assert!(moved(&mut check) >= 2, "moved: {}", moved(&mut check));
    for (i, c) in conns.iter_mut().enumerate() {
        assert_eq!(
            redis::cmd("CLIENT").arg("ID").query::<i64>(c).unwrap(),
            ids[i]
        );
        let name: String = redis::cmd("CLIENT").arg("GETNAME").query(c).unwrap();
        assert_eq!(name, format!("mover{i}"));
        let v: i64 = redis::cmd("GET").arg(format!("db3:{i}")).query(c).unwrap();
        assert_eq!(v, i as i64, "still in db 3");
        // A transaction after the move.
        let (a, b): (i64, i64) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(k0)
            .cmd("INCR")
            .arg(k1)
            .query(c)
            .unwrap();
        assert!(a > 800 && b > 800);
    }
    // Each client is listed once, on whichever core serves it now.
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut check).unwrap();
    for (i, id) in ids.iter().enumerate() {
        let lines: Vec<&str> = list
            .lines()
            .filter(|l| l.contains(&format!(" name=mover{i} ")))
            .collect();
        assert_eq!(lines.len(), 1, "{list}");
        assert!(lines[0].starts_with(&format!("id={id} ")), "{}", lines[0]);
        assert!(lines[0].contains(" db=3 "), "{}", lines[0]);
    }
    let clients: String = redis::cmd("INFO").arg("clients").query(&mut check).unwrap();
    assert!(clients.contains("connected_clients:9\r\n"), "{clients}");
}

/// By default (`move-connections-after 0`) every connection stays on the core that accepted
/// it; CONFIG SET turns moving on, with the threshold given.
#[test]
fn moving_connections_can_be_turned_off_and_tuned() {
    let s = server();
    let keys = keys_per_shard("stay", SHARDS, 1);
    let mut check = s.client();
    let moved = |c: &mut redis::Connection| -> u64 {
        let info: String = redis::cmd("INFO").arg("stats").query(c).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("moved_connections:"))
            .expect("moved_connections in INFO stats")
            .trim()
            .parse()
            .unwrap()
    };
    let get = |c: &mut redis::Connection| -> Vec<String> {
        redis::cmd("CONFIG")
            .arg("GET")
            .arg("move-connections-after")
            .query(c)
            .unwrap()
    };
    // Off by default: eight connections over four cores, each sending 200 INCRs of one key,
    // stay where they are (with moving on, the ones accepted elsewhere would move: the test
    // above).
    assert_eq!(get(&mut check), ["move-connections-after", "0"]);
    let mut conns: Vec<redis::Connection> = (0..8).map(|_| s.client()).collect();
    for _ in 0..200 {
        for c in conns.iter_mut() {
            let _: i64 = redis::cmd("INCR").arg(&keys[0][0]).query(c).unwrap();
        }
    }
    assert_eq!(moved(&mut check), 0);
    // A bad value is refused as Redis refuses an out-of-range integer.
    let e = redis::cmd("CONFIG")
        .arg("SET")
        .arg("move-connections-after")
        .arg(-1)
        .query::<()>(&mut check)
        .unwrap_err();
    assert!(
        e.to_string().contains("argument must be between 0 and"),
        "{e}"
    );
    // Back on with a low threshold: the same clients now move within a few commands.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("move-connections-after")
        .arg(8)
        .query(&mut check)
        .unwrap();
    for _ in 0..20 {
        for c in conns.iter_mut() {
            let _: i64 = redis::cmd("INCR").arg(&keys[1][0]).query(c).unwrap();
        }
    }
    assert!(moved(&mut check) >= 2, "moved: {}", moved(&mut check));
    let total: i64 = redis::cmd("GET")
        .arg(&keys[1][0])
        .query(&mut check)
        .unwrap();
    assert_eq!(total, 160);
    assert_eq!(get(&mut check), ["move-connections-after", "8"]);
}
