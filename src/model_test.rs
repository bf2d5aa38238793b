//! Differential test: random command sequences over strings, lists and expiry, with an injected
//! clock, run against a shard's keyspace through the real command table and against a small
//! model of Redis's behaviour written here. Every reply must be the same, byte for byte.
//!
//! Why in the library's tests: the clock is injected (commands take `now_ms`), so TTLs and lazy
//! expiry are exercised deterministically, without sleeping.

use crate::cmd::ShardCtx;
use crate::keyspace::Keyspace;
use crate::resp::{CmdBatch, Proto, Reply};
use proptest::prelude::*;
use std::collections::{HashMap, VecDeque};

#[derive(Clone, Debug)]
enum Val {
    Str(Vec<u8>),
    List(VecDeque<Vec<u8>>),
}

/// The model: every key with its value and deadline (unix ms), and the clock.
#[derive(Default)]
struct Model {
    keys: HashMap<Vec<u8>, (Val, Option<i64>)>,
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

fn bulk(b: &[u8]) -> String {
    format!("${}\r\n{}\r\n", b.len(), String::from_utf8_lossy(b))
}

fn int(i: i64) -> String {
    format!(":{i}\r\n")
}

impl Model {
    /// Lazy expiry: a key past its deadline is gone (Redis: expired when now > deadline).
    fn live(&mut self, k: &[u8], now: i64) -> Option<&mut (Val, Option<i64>)> {
        if let Some((_, Some(d))) = self.keys.get(k) {
            if now > *d {
                self.keys.remove(k);
            }
        }
        self.keys.get_mut(k)
    }

    fn apply(&mut self, op: &Op, now: i64) -> String {
        match op {
            Op::Set {
                k,
                v,
                ttl_ms,
                nx,
                xx,
            } => {
                let exists = self.live(k, now).is_some();
                if (*nx && exists) || (*xx && !exists) {
                    return "$-1\r\n".into();
                }
                let deadline = ttl_ms.map(|t| now + t);
                self.keys.insert(k.clone(), (Val::Str(v.clone()), deadline));
                "+OK\r\n".into()
            }
            Op::Get(k) => match self.live(k, now) {
                None => "$-1\r\n".into(),
                Some((Val::Str(s), _)) => bulk(s),
                Some(_) => WRONGTYPE.into(),
            },
            Op::Del(k) => int(i64::from(
                self.live(k, now).is_some() && {
                    self.keys.remove(k);
                    true
                },
            )),
            Op::Exists(k) => int(i64::from(self.live(k, now).is_some())),
            Op::Incr(k, by) => {
                let cur = match self.live(k, now) {
                    None => 0,
                    Some((Val::Str(s), _)) => {
                        match std::str::from_utf8(s).ok().and_then(canonical_int) {
                            Some(n) => n,
                            None => return NOT_INT.into(),
                        }
                    }
                    Some(_) => return WRONGTYPE.into(),
                };
                let Some(n) = cur.checked_add(*by) else {
                    return "-ERR increment or decrement would overflow\r\n".into();
                };
                let deadline = self.live(k, now).and_then(|e| e.1);
                self.keys
                    .insert(k.clone(), (Val::Str(n.to_string().into_bytes()), deadline));
                int(n)
            }
            Op::Append(k, v) => match self.live(k, now) {
                None => {
                    self.keys.insert(k.clone(), (Val::Str(v.clone()), None));
                    int(v.len() as i64)
                }
                Some((Val::Str(s), _)) => {
                    s.extend_from_slice(v);
                    int(s.len() as i64)
                }
                Some(_) => WRONGTYPE.into(),
            },
            Op::Strlen(k) => match self.live(k, now) {
                None => int(0),
                Some((Val::Str(s), _)) => int(s.len() as i64),
                Some(_) => WRONGTYPE.into(),
            },
            Op::Push { k, v, left } => {
                let l = match self.live(k, now) {
                    None => {
                        self.keys
                            .insert(k.clone(), (Val::List(VecDeque::new()), None));
                        match self.keys.get_mut(k) {
                            Some((Val::List(l), _)) => l,
                            _ => unreachable!(),
                        }
                    }
                    Some((Val::List(l), _)) => l,
                    Some(_) => return WRONGTYPE.into(),
                };
                if *left {
                    l.push_front(v.clone());
                } else {
                    l.push_back(v.clone());
                }
                int(l.len() as i64)
            }
            Op::Pop { k, left } => {
                let (out, empty) = match self.live(k, now) {
                    None => return "$-1\r\n".into(),
                    Some((Val::List(l), _)) => {
                        let e = if *left { l.pop_front() } else { l.pop_back() };
                        (e.map_or("$-1\r\n".into(), |e| bulk(&e)), l.is_empty())
                    }
                    Some(_) => return WRONGTYPE.into(),
                };
                if empty {
                    self.keys.remove(k);
                }
                out
            }
            Op::Llen(k) => match self.live(k, now) {
                None => int(0),
                Some((Val::List(l), _)) => int(l.len() as i64),
                Some(_) => WRONGTYPE.into(),
            },
            Op::Lrange(k) => match self.live(k, now) {
                None => "*0\r\n".into(),
                Some((Val::List(l), _)) => {
                    let mut s = format!("*{}\r\n", l.len());
                    for e in l.iter() {
                        s.push_str(&bulk(e));
                    }
                    s
                }
                Some(_) => WRONGTYPE.into(),
            },
            Op::Pexpire(k, ms) => {
                if self.live(k, now).is_none() {
                    return int(0);
                }
                let when = now + ms;
                if when <= now {
                    self.keys.remove(k);
                } else if let Some(e) = self.keys.get_mut(k) {
                    e.1 = Some(when);
                }
                int(1)
            }
            Op::Persist(k) => match self.live(k, now) {
                Some(e) if e.1.is_some() => {
                    e.1 = None;
                    int(1)
                }
                _ => int(0),
            },
            Op::Pttl(k) => match self.live(k, now) {
                None => int(-2),
                Some((_, None)) => int(-1),
                Some((_, Some(d))) => int(*d - now),
            },
            Op::Ttl(k) => match self.live(k, now) {
                None => int(-2),
                Some((_, None)) => int(-1),
                Some((_, Some(d))) => int((*d - now + 500) / 1000),
            },
            Op::Type(k) => match self.live(k, now) {
                None => "+none\r\n".into(),
                Some((Val::Str(_), _)) => "+string\r\n".into(),
                Some((Val::List(_), _)) => "+list\r\n".into(),
            },
            Op::Sleep(_) => String::new(),
        }
    }
}

/// What Redis's `string2ll` accepts (no leading zeros, no '+', no spaces).
fn canonical_int(t: &str) -> Option<i64> {
    let n: i64 = t.parse().ok()?;
    (n.to_string() == t).then_some(n)
}

#[derive(Clone, Debug)]
enum Op {
    Set {
        k: Vec<u8>,
        v: Vec<u8>,
        ttl_ms: Option<i64>,
        nx: bool,
        xx: bool,
    },
    Get(Vec<u8>),
    Del(Vec<u8>),
    Exists(Vec<u8>),
    Incr(Vec<u8>, i64),
    Append(Vec<u8>, Vec<u8>),
    Strlen(Vec<u8>),
    Push {
        k: Vec<u8>,
        v: Vec<u8>,
        left: bool,
    },
    Pop {
        k: Vec<u8>,
        left: bool,
    },
    Llen(Vec<u8>),
    Lrange(Vec<u8>),
    Pexpire(Vec<u8>, i64),
    Persist(Vec<u8>),
    Pttl(Vec<u8>),
    Ttl(Vec<u8>),
    Type(Vec<u8>),
    /// Advances the clock.
    Sleep(i64),
}

impl Op {
    /// The command as a client sends it (`None` for the clock).
    fn args(&self) -> Option<Vec<Vec<u8>>> {
        let s = |x: &str| x.as_bytes().to_vec();
        Some(match self {
            Op::Set {
                k,
                v,
                ttl_ms,
                nx,
                xx,
            } => {
                let mut a = vec![s("SET"), k.clone(), v.clone()];
                if let Some(t) = ttl_ms {
                    a.push(s("PX"));
                    a.push(t.to_string().into_bytes());
                }
                if *nx {
                    a.push(s("NX"));
                }
                if *xx {
                    a.push(s("XX"));
                }
                a
            }
            Op::Get(k) => vec![s("GET"), k.clone()],
            Op::Del(k) => vec![s("DEL"), k.clone()],
            Op::Exists(k) => vec![s("EXISTS"), k.clone()],
            Op::Incr(k, by) => vec![s("INCRBY"), k.clone(), by.to_string().into_bytes()],
            Op::Append(k, v) => vec![s("APPEND"), k.clone(), v.clone()],
            Op::Strlen(k) => vec![s("STRLEN"), k.clone()],
            Op::Push { k, v, left } => {
                vec![
                    s(if *left { "LPUSH" } else { "RPUSH" }),
                    k.clone(),
                    v.clone(),
                ]
            }
            Op::Pop { k, left } => vec![s(if *left { "LPOP" } else { "RPOP" }), k.clone()],
            Op::Llen(k) => vec![s("LLEN"), k.clone()],
            Op::Lrange(k) => vec![s("LRANGE"), k.clone(), s("0"), s("-1")],
            Op::Pexpire(k, ms) => vec![s("PEXPIRE"), k.clone(), ms.to_string().into_bytes()],
            Op::Persist(k) => vec![s("PERSIST"), k.clone()],
            Op::Pttl(k) => vec![s("PTTL"), k.clone()],
            Op::Ttl(k) => vec![s("TTL"), k.clone()],
            Op::Type(k) => vec![s("TYPE"), k.clone()],
            Op::Sleep(_) => return None,
        })
    }
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"a".to_vec()),
        Just(b"b".to_vec()),
        Just(b"c".to_vec())
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (-3i64..30).prop_map(|n| n.to_string().into_bytes()),
        Just(b"007".to_vec()),
        Just(b"x".to_vec()),
        Just(Vec::new()),
        proptest::collection::vec(any::<u8>(), 0..24),
        Just(i64::MAX.to_string().into_bytes()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            key(),
            value(),
            proptest::option::of(1i64..3000),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(k, v, ttl_ms, nx, xx)| Op::Set {
                k,
                v,
                ttl_ms,
                nx: nx && !xx,
                xx,
            }),
        key().prop_map(Op::Get),
        key().prop_map(Op::Del),
        key().prop_map(Op::Exists),
        (
            key(),
            prop_oneof![-5i64..5, Just(i64::MAX), Just(i64::MIN + 1)]
        )
            .prop_map(|(k, by)| Op::Incr(k, by)),
        (key(), value()).prop_map(|(k, v)| Op::Append(k, v)),
        key().prop_map(Op::Strlen),
        (key(), value(), any::<bool>()).prop_map(|(k, v, left)| Op::Push { k, v, left }),
        (key(), any::<bool>()).prop_map(|(k, left)| Op::Pop { k, left }),
        key().prop_map(Op::Llen),
        key().prop_map(Op::Lrange),
        (key(), -100i64..3000).prop_map(|(k, ms)| Op::Pexpire(k, ms)),
        key().prop_map(Op::Persist),
        key().prop_map(Op::Pttl),
        key().prop_map(Op::Ttl),
        key().prop_map(Op::Type),
        (0i64..1500).prop_map(Op::Sleep),
    ]
}

/// Runs one command through the real command table on `ks` at `now`.
fn run(ks: &mut Keyspace, now: i64, args: &[Vec<u8>]) -> String {
    let batch = CmdBatch::from_args(args.iter().map(|a| a.as_slice()));
    let argv = batch.get(0);
    let idx = crate::cmd::lookup(argv.get(0)).expect("known command");
    let crate::cmd::Handler::Shard(f) = crate::cmd::table()[idx].handler else {
        panic!("not a shard command");
    };
    let mut out = Reply::new(Proto::Resp2);
    let mut ctx = ShardCtx {
        ks,
        db: 0,
        now_ms: now,
    };
    f(&mut ctx, argv, &mut out);
    String::from_utf8_lossy(&out.buf).into_owned()
}

proptest! {
    // No regression files: the repository's top level is fixed; a failure prints its input.
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn commands_match_the_model(ops in proptest::collection::vec(op(), 1..120)) {
        let mut ks = Keyspace::new(1);
        let mut model = Model::default();
        let mut now: i64 = 1_700_000_000_000;
        for (i, op) in ops.iter().enumerate() {
            if let Op::Sleep(ms) = op {
                now += ms;
                continue;
            }
            let args = op.args().expect("a command");
            let got = run(&mut ks, now, &args);
            let want = model.apply(op, now);
            prop_assert_eq!(&got, &want, "step {} {:?} at +{} ms", i, op, now - 1_700_000_000_000);
        }
        // Whatever lazy expiry left behind, the active sweep agrees on what is alive.
        ks.active_expire_cycle(now, crate::keyspace::ExpireBudget::keys(1_000));
        for k in [b"a".as_slice(), b"b", b"c"] {
            let got = run(&mut ks, now, &[b"EXISTS".to_vec(), k.to_vec()]);
            prop_assert_eq!(got, model.apply(&Op::Exists(k.to_vec()), now));
        }
    }
}
