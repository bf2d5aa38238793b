//! What COMMAND INFO and COMMAND DOCS report that the command table ([`super::CommandSpec`])
//! does not hold: group, version, summary, complexity, ACL categories, hints, key specs and
//! argument specs, one [`Doc`] per command (and per subcommand of a container command).
//!
//! Shapes follow Redis 7.0 (`commands/*.json`); names, types, tokens and key specs are protocol
//! facts, the summaries and complexities are our own words. A command added to the table without
//! an entry here fails `every_command_has_docs` in `command.rs`.

/// Key-spec flags (Redis's `CMD_KEY_*`), in the order Redis prints them.
pub mod kf {
    pub const RO: u16 = 1 << 0;
    pub const RW: u16 = 1 << 1;
    pub const OW: u16 = 1 << 2;
    pub const RM: u16 = 1 << 3;
    pub const ACCESS: u16 = 1 << 4;
    pub const UPDATE: u16 = 1 << 5;
    pub const INSERT: u16 = 1 << 6;
    pub const DELETE: u16 = 1 << 7;
    pub const NOT_KEY: u16 = 1 << 8;
    pub const INCOMPLETE: u16 = 1 << 9;
    pub const VARIABLE_FLAGS: u16 = 1 << 10;
    pub const NAMES: [(u16, &str); 11] = [
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Where a key spec starts looking for keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Begin {
    /// At this argument index.
    Index(i32),
    /// After this token, searched from `startfrom` (negative: backwards from the end).
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
}

/// How a key spec finds its keys from where it begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Find {
    /// `lastkey` relative to the start (negative: from the end), every `keystep`-th argument;
    /// `limit` > 1 takes only the first 1/limit of the remaining arguments.
    Range {
        lastkey: i32,
        keystep: i32,
        limit: i32,
    },
    /// A count of keys at `keynumidx` (relative to the start), the keys from `firstkey`.
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        keystep: i32,
    },
}

/// One key spec: how to find some of a command's keys, and how the command uses them.
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    /// Why the flags are what they are, when that is not obvious.
    pub notes: Option<&'static str>,
    pub flags: u16,
    pub begin: Begin,
    pub find: Find,
}

impl KeySpec {
    pub const fn range(flags: u16, pos: i32, lastkey: i32, keystep: i32, limit: i32) -> Self {
        KeySpec {
            notes: None,
            flags,
            begin: Begin::Index(pos),
            find: Find::Range {
                lastkey,
                keystep,
                limit,
            },
        }
    }

    pub const fn keynum(flags: u16, pos: i32, keynumidx: i32, firstkey: i32, keystep: i32) -> Self {
        KeySpec {
            notes: None,
            flags,
            begin: Begin::Index(pos),
            find: Find::Keynum {
                keynumidx,
                firstkey,
                keystep,
            },
        }
    }

    pub const fn notes(mut self, notes: &'static str) -> Self {
        self.notes = Some(notes);
        self
    }

    pub const fn keyword_range(
        flags: u16,
        keyword: &'static str,
        startfrom: i32,
        lastkey: i32,
        keystep: i32,
        limit: i32,
    ) -> Self {
        KeySpec {
            notes: None,
            flags,
            begin: Begin::Keyword { keyword, startfrom },
            find: Find::Range {
                lastkey,
                keystep,
                limit,
            },
        }
    }
}

/// An argument's type, as COMMAND DOCS names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

impl ArgType {
    pub fn name(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::OneOf => "oneof",
            ArgType::Block => "block",
        }
    }
}

/// Argument flags (Redis's `CMD_ARG_*`).
pub mod af {
    pub const OPTIONAL: u8 = 1 << 0;
    pub const MULTIPLE: u8 = 1 << 1;
    pub const MULTIPLE_TOKEN: u8 = 1 << 2;
    pub const NAMES: [(u8, &str); 3] = [
        (OPTIONAL, "optional"),
        (MULTIPLE, "multiple"),
        (MULTIPLE_TOKEN, "multiple_token"),
    ];
}

/// One argument of a command (a tree: `oneof` and `block` hold their parts in `args`).
#[derive(Clone, Copy, Debug)]
pub struct Arg {
    pub name: &'static str,
    pub ty: ArgType,
    /// Index into the command's key specs, for `key` arguments.
    pub key_spec: Option<u8>,
    pub token: Option<&'static str>,
    pub since: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    pub flags: u8,
    pub args: &'static [Arg],
}

impl Arg {
    const fn of(name: &'static str, ty: ArgType) -> Self {
        Arg {
            name,
            ty,
            key_spec: None,
            token: None,
            since: None,
            deprecated_since: None,
            flags: 0,
            args: &[],
        }
    }
    pub const fn string(name: &'static str) -> Self {
        Arg::of(name, ArgType::String)
    }
    pub const fn integer(name: &'static str) -> Self {
        Arg::of(name, ArgType::Integer)
    }
    pub const fn double(name: &'static str) -> Self {
        Arg::of(name, ArgType::Double)
    }
    pub const fn pattern(name: &'static str) -> Self {
        Arg::of(name, ArgType::Pattern)
    }
    pub const fn unix_time(name: &'static str) -> Self {
        Arg::of(name, ArgType::UnixTime)
    }
    pub const fn key(name: &'static str, spec: u8) -> Self {
        let mut a = Arg::of(name, ArgType::Key);
        a.key_spec = Some(spec);
        a
    }
    /// A bare keyword (`NX`, `WITHSCORES`).
    pub const fn token(name: &'static str, token: &'static str) -> Self {
        Arg::of(name, ArgType::PureToken).tok(token)
    }
    pub const fn oneof(name: &'static str, args: &'static [Arg]) -> Self {
        let mut a = Arg::of(name, ArgType::OneOf);
        a.args = args;
        a
    }
    pub const fn block(name: &'static str, args: &'static [Arg]) -> Self {
        let mut a = Arg::of(name, ArgType::Block);
        a.args = args;
        a
    }
    /// The keyword that introduces the argument (`EX seconds`).
    pub const fn tok(mut self, token: &'static str) -> Self {
        self.token = Some(token);
        self
    }
    pub const fn opt(mut self) -> Self {
        self.flags |= af::OPTIONAL;
        self
    }
    pub const fn multi(mut self) -> Self {
        self.flags |= af::MULTIPLE;
        self
    }
    /// Repeated together with its token (`GET pattern [GET pattern ...]`).
    pub const fn multi_token(mut self) -> Self {
        self.flags |= af::MULTIPLE_TOKEN;
        self
    }
    pub const fn since(mut self, v: &'static str) -> Self {
        self.since = Some(v);
        self
    }
    pub const fn deprecated(mut self, v: &'static str) -> Self {
        self.deprecated_since = Some(v);
        self
    }
}

/// How Redis finds a command's keys when its key specs cannot say (its `getkeys_proc`), for
/// COMMAND GETKEYS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetKeys {
    /// SET: the key at 1, read and written with GET, else only overwritten.
    Set,
    /// SORT: the key at 1, then the destination of the last STORE (skipping LIMIT's, BY's and
    /// GET's arguments). Redis's `sortGetKeys`, which its 'unknown' key specs defer to.
    Sort,
    /// A key count at `count`, that many keys from `first` every `step`, then the destination
    /// at `store` (0: none). Redis's `genericGetKeys`.
    Numkeys {
        store: u8,
        count: u8,
        first: u8,
        step: u8,
    },
}

impl GetKeys {
    pub const fn numkeys(store: u8, count: u8, first: u8, step: u8) -> Self {
        GetKeys::Numkeys {
            store,
            count,
            first,
            step,
        }
    }
}

/// The documentation of one command or subcommand.
#[derive(Clone, Copy, Debug)]
pub struct Doc {
    /// As Redis names it: `get`, or `config|get` for a subcommand.
    pub name: &'static str,
    /// Redis's command group (`string`, `sorted-set`, `connection`, …).
    pub group: &'static str,
    /// The Redis version that introduced it.
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// Subcommands only (a command's arity is in the command table).
    pub arity: i32,
    /// For a plain command: the Redis flags the table's bits cannot say (`no_auth`,
    /// `allow_busy`, …). For a container or a subcommand: all of its flags (a container's table
    /// bits describe how we dispatch it, not what Redis reports). `movablekeys` is derived from
    /// the key specs.
    pub flags: &'static [&'static str],
    /// ACL categories beyond those implied by the flags (`@write`, `@fast`, `@slow`, …).
    pub acl: &'static [&'static str],
    /// Hints for clients and proxies (`nondeterministic_output`, `request_policy:…`).
    pub tips: &'static [&'static str],
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    pub syscmd: bool,
    pub key_specs: &'static [KeySpec],
    pub args: &'static [Arg],
    pub getkeys: Option<GetKeys>,
    /// A container's subcommands (those we serve).
    pub subs: &'static [Doc],
}

impl Doc {
    pub const fn cmd(
        name: &'static str,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
        complexity: &'static str,
    ) -> Self {
        Doc {
            name,
            group,
            since,
            summary,
            complexity,
            arity: 0,
            flags: &[],
            acl: &[],
            tips: &[],
            deprecated_since: None,
            replaced_by: None,
            syscmd: false,
            key_specs: &[],
            args: &[],
            getkeys: None,
            subs: &[],
        }
    }
    pub const fn sub(
        name: &'static str,
        arity: i32,
        flags: &'static [&'static str],
        group: &'static str,
        since: &'static str,
        summary: &'static str,
        complexity: &'static str,
    ) -> Self {
        let mut d = Doc::cmd(name, group, since, summary, complexity);
        d.arity = arity;
        d.flags = flags;
        d
    }
    pub const fn flags(mut self, f: &'static [&'static str]) -> Self {
        self.flags = f;
        self
    }
    pub const fn acl(mut self, a: &'static [&'static str]) -> Self {
        self.acl = a;
        self
    }
    pub const fn tips(mut self, t: &'static [&'static str]) -> Self {
        self.tips = t;
        self
    }
    pub const fn deprecated(mut self, since: &'static str, replaced_by: &'static str) -> Self {
        self.deprecated_since = Some(since);
        self.replaced_by = Some(replaced_by);
        self
    }
    pub const fn syscmd(mut self) -> Self {
        self.syscmd = true;
        self
    }
    pub const fn keys(mut self, k: &'static [KeySpec]) -> Self {
        self.key_specs = k;
        self
    }
    pub const fn args(mut self, a: &'static [Arg]) -> Self {
        self.args = a;
        self
    }
    pub const fn getkeys(mut self, g: GetKeys) -> Self {
        self.getkeys = Some(g);
        self
    }
    pub const fn subs(mut self, s: &'static [Doc]) -> Self {
        self.subs = s;
        self
    }
}

use kf::*;

// Commands in the order of the register functions of `cmd/*.rs`.
pub static DOCS: &[Doc] = &[
    Doc::cmd(
        "ping",
        "connection",
        "1.0.0",
        "Checks that the server answers; replies PONG or echoes the given message.",
        "O(1)",
    )
    .acl(&["connection"])
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
    .args(&[
        Arg::string("message").opt(),
    ]),
    Doc::cmd(
        "echo",
        "connection",
        "1.0.0",
        "Replies with the given message unchanged.",
        "O(1)",
    )
    .acl(&["connection"])
    .args(&[
        Arg::string("message"),
    ]),
    Doc::cmd(
        "multi",
        "transactions",
        "1.2.0",
        "Starts a transaction: later commands are queued until EXEC or DISCARD.",
        "O(1)",
    )
    .acl(&["transaction"])
    .flags(&["allow_busy"]),
    Doc::cmd(
        "exec",
        "transactions",
        "1.2.0",
        "Runs every queued command atomically, or none if a watched key changed.",
        "The sum of the queued commands' complexities.",
    )
    .acl(&["transaction"])
    .flags(&["skip_slowlog"]),
    Doc::cmd(
        "discard",
        "transactions",
        "2.0.0",
        "Drops the queued commands and ends the transaction.",
        "O(N), N being the number of queued commands.",
    )
    .acl(&["transaction"])
    .flags(&["allow_busy"]),
    Doc::cmd(
        "watch",
        "transactions",
        "2.2.0",
        "Makes the next EXEC fail if any of these keys changes before it.",
        "O(1) per key.",
    )
    .acl(&["transaction"])
    .flags(&["allow_busy"])
    .keys(&[
        KeySpec::range(RO, 1, -1, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
    ]),
    Doc::cmd(
        "unwatch",
        "transactions",
        "2.2.0",
        "Forgets every key WATCH registered for this connection.",
        "O(1)",
    )
    .acl(&["transaction"])
    .flags(&["allow_busy"]),
    Doc::cmd(
        "subscribe",
        "pubsub",
        "2.0.0",
        "Listens for messages published to the given channels.",
        "O(N), N being the number of channels to subscribe to.",
    )
    .acl(&["pubsub"])
    .args(&[
        Arg::string("channel").multi(),
    ]),
    Doc::cmd(
        "unsubscribe",
        "pubsub",
        "2.0.0",
        "Stops listening to the given channels, or to all of them.",
        "O(N), N being the number of channels.",
    )
    .acl(&["pubsub"])
    .args(&[
        Arg::string("channel").opt().multi(),
    ]),
    Doc::cmd(
        "psubscribe",
        "pubsub",
        "2.0.0",
        "Listens for messages published to channels matching the given patterns.",
        "O(N), N being the number of patterns.",
    )
    .acl(&["pubsub"])
    .args(&[
        Arg::pattern("pattern").multi(),
    ]),
    Doc::cmd(
        "punsubscribe",
        "pubsub",
        "2.0.0",
        "Stops listening to the given patterns, or to all of them.",
        "O(N+M), N patterns of the client, M patterns in the server.",
    )
    .acl(&["pubsub"])
    .args(&[
        Arg::pattern("pattern").opt().multi(),
    ]),
    Doc::cmd(
        "ssubscribe",
        "pubsub",
        "7.0.0",
        "Listens for messages published to the given shard channels.",
        "O(N), N being the number of shard channels.",
    )
    .acl(&["pubsub"])
    .keys(&[
        KeySpec::range(NOT_KEY, 1, -1, 1, 0),
    ])
    .args(&[
        Arg::string("shardchannel").multi(),
    ]),
    Doc::cmd(
        "sunsubscribe",
        "pubsub",
        "7.0.0",
        "Stops listening to the given shard channels, or to all of them.",
        "O(N), N being the number of shard channels.",
    )
    .acl(&["pubsub"])
    .keys(&[
        KeySpec::range(NOT_KEY, 1, -1, 1, 0),
    ])
    .args(&[
        Arg::string("shardchannel").opt().multi(),
    ]),
    Doc::cmd(
        "publish",
        "pubsub",
        "2.0.0",
        "Sends a message to a channel; replies how many subscribers received it.",
        "O(N+M), N subscribers of the channel, M patterns in the server.",
    )
    .acl(&["pubsub"])
    .args(&[
        Arg::string("channel"),
        Arg::string("message"),
    ]),
    Doc::cmd(
        "spublish",
        "pubsub",
        "7.0.0",
        "Sends a message to a shard channel; replies how many subscribers received it.",
        "O(N), N subscribers of the shard channel.",
    )
    .acl(&["pubsub"])
    .keys(&[
        KeySpec::range(NOT_KEY, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::string("shardchannel"),
        Arg::string("message"),
    ]),
    Doc::cmd(
        "pubsub",
        "pubsub",
        "2.8.0",
        "Groups the commands that inspect the pub/sub state.",
        "Varies with the subcommand.",
    )
    .subs(&[
        Doc::sub(
            "pubsub|channels",
            -2,
            &["pubsub", "loading", "stale"],
            "pubsub",
            "2.8.0",
            "Lists the channels with subscribers, optionally matching a pattern.",
            "O(N), N being the number of active channels.",
        )
        .acl(&["pubsub"])
        .args(&[
            Arg::pattern("pattern").opt(),
        ]),
        Doc::sub(
            "pubsub|numpat",
            2,
            &["pubsub", "loading", "stale"],
            "pubsub",
            "2.8.0",
            "Counts the distinct patterns with subscribers.",
            "O(1)",
        )
        .acl(&["pubsub"]),
        Doc::sub(
            "pubsub|numsub",
            -2,
            &["pubsub", "loading", "stale"],
            "pubsub",
            "2.8.0",
            "Counts the subscribers of each given channel.",
            "O(N), N being the number of channels given.",
        )
        .acl(&["pubsub"])
        .args(&[
            Arg::string("channel").opt().multi(),
        ]),
        Doc::sub(
            "pubsub|shardchannels",
            -2,
            &["pubsub", "loading", "stale"],
            "pubsub",
            "7.0.0",
            "Lists the shard channels with subscribers, optionally matching a pattern.",
            "O(N), N being the number of active shard channels.",
        )
        .acl(&["pubsub"])
        .args(&[
            Arg::pattern("pattern").opt(),
        ]),
        Doc::sub(
            "pubsub|shardnumsub",
            -2,
            &["pubsub", "loading", "stale"],
            "pubsub",
            "7.0.0",
            "Counts the subscribers of each given shard channel.",
            "O(N), N being the number of shard channels given.",
        )
        .acl(&["pubsub"])
        .args(&[
            Arg::string("shardchannel").opt().multi(),
        ]),
        Doc::sub(
            "pubsub|help",
            2,
            &["loading", "stale"],
            "pubsub",
            "6.2.0",
            "Lists the PUBSUB subcommands.",
            "O(1)",
        )
        .acl(&["pubsub"]),
    ]),
    Doc::cmd(
        "swapdb",
        "server",
        "4.0.0",
        "Exchanges the contents of two databases, on every shard at once.",
        "O(N), N being the number of clients watching or blocked on keys of both databases.",
    )
    .acl(&["keyspace", "dangerous"])
    .args(&[
        Arg::integer("index1"),
        Arg::integer("index2"),
    ]),
    Doc::cmd(
        "select",
        "connection",
        "1.0.0",
        "Switches the connection to another numbered database.",
        "O(1)",
    )
    .acl(&["connection"])
    .args(&[
        Arg::integer("index"),
    ]),
    Doc::cmd(
        "quit",
        "connection",
        "1.0.0",
        "Asks the server to close this connection after replying.",
        "O(1)",
    )
    .flags(&["allow_busy", "no_auth"])
    .acl(&["connection"]),
    Doc::cmd(
        "config",
        "server",
        "2.0.0",
        "Groups the commands that read and change server settings.",
        "Varies with the subcommand.",
    )
    .subs(&[
        Doc::sub(
            "config|get",
            -3,
            &["admin", "noscript", "loading", "stale"],
            "server",
            "2.0.0",
            "Reads the values of the settings whose names match the given patterns.",
            "O(N), N being the number of patterns given.",
        )
        .args(&[
            Arg::block(
                "parameter",
                &[
                    Arg::string("parameter"),
                ],
            ).multi(),
        ]),
        Doc::sub(
            "config|set",
            -4,
            &["admin", "noscript", "loading", "stale"],
            "server",
            "2.0.0",
            "Changes one or more settings while the server runs.",
            "O(N), N being the number of settings given.",
        )
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .args(&[
            Arg::block(
                "parameter_value",
                &[
                    Arg::string("parameter"),
                    Arg::string("value"),
                ],
            ).multi(),
        ]),
        Doc::sub(
            "config|resetstat",
            2,
            &["admin", "noscript", "loading", "stale"],
            "server",
            "2.0.0",
            "Clears the statistics the server keeps.",
            "O(1)",
        ),
        Doc::sub(
            "config|rewrite",
            2,
            &["admin", "noscript", "loading", "stale"],
            "server",
            "2.8.0",
            "Writes the running settings back to the configuration file.",
            "O(1)",
        ),
        Doc::sub(
            "config|help",
            2,
            &["loading", "stale"],
            "server",
            "5.0.0",
            "Lists the CONFIG subcommands and what they do.",
            "O(1)",
        ),
    ]),
    Doc::cmd(
        "time",
        "server",
        "2.0.0",
        "Replies with the server's clock: Unix seconds and the microseconds within that second.",
        "O(1)",
    )
    .tips(&["nondeterministic_output"]),
    Doc::cmd(
        "wait",
        "generic",
        "3.0.0",
        "Waits for replicas to acknowledge this client's writes; with no replicas, replies 0 (at once when numreplicas is 0, else after the timeout).",
        "O(1)",
    )
    .acl(&["connection"])
    .tips(&["request_policy:all_shards", "response_policy:agg_min"])
    .args(&[
        Arg::integer("numreplicas"),
        Arg::integer("timeout"),
    ]),
    Doc::cmd(
        "dbsize",
        "server",
        "1.0.0",
        "Counts the keys in the selected database.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .tips(&["request_policy:all_shards", "response_policy:agg_sum"]),
    Doc::cmd(
        "flushdb",
        "server",
        "1.0.0",
        "Deletes every key of the selected database.",
        "O(N), N being the number of keys in the database.",
    )
    .acl(&["keyspace", "dangerous"])
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
    .args(&[
        Arg::oneof(
            "async",
            &[
                Arg::token("async", "ASYNC").since("4.0.0"),
                Arg::token("sync", "SYNC").since("6.2.0"),
            ],
        ).opt(),
    ]),
    Doc::cmd(
        "flushall",
        "server",
        "1.0.0",
        "Deletes every key of every database.",
        "O(N), N being the number of keys across all databases.",
    )
    .acl(&["keyspace", "dangerous"])
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
    .args(&[
        Arg::oneof(
            "async",
            &[
                Arg::token("async", "ASYNC").since("4.0.0"),
                Arg::token("sync", "SYNC").since("6.2.0"),
            ],
        ).opt(),
    ]),
    Doc::cmd(
        "get",
        "string",
        "1.0.0",
        "Reads the string stored at a key.",
        "O(1)",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "set",
        "string",
        "1.0.0",
        "Stores a string at a key, optionally with an expiry and a condition on the key's existence.",
        "O(1)",
    )
    .acl(&["string"])
    .getkeys(GetKeys::Set)
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE | VARIABLE_FLAGS, 1, 0, 1, 0).notes("Read (RW, access) only when the GET option is given."),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("value"),
        Arg::oneof(
            "condition",
            &[
                Arg::token("nx", "NX"),
                Arg::token("xx", "XX"),
            ],
        ).opt().since("2.6.12"),
        Arg::token("get", "GET").opt().since("6.2.0"),
        Arg::oneof(
            "expiration",
            &[
                Arg::integer("seconds").tok("EX").since("2.6.12"),
                Arg::integer("milliseconds").tok("PX").since("2.6.12"),
                Arg::unix_time("unix-time-seconds").tok("EXAT").since("6.2.0"),
                Arg::unix_time("unix-time-milliseconds").tok("PXAT").since("6.2.0"),
                Arg::token("keepttl", "KEEPTTL").since("6.0.0"),
            ],
        ).opt(),
    ]),
    Doc::cmd(
        "getdel",
        "string",
        "6.2.0",
        "Reads the string stored at a key and deletes the key.",
        "O(1)",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "getex",
        "string",
        "6.2.0",
        "Reads the string stored at a key and changes or removes its expiry.",
        "O(1)",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE, 1, 0, 1, 0).notes("Written (RW, update): the command may change the key's expiry."),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::oneof(
            "expiration",
            &[
                Arg::integer("seconds").tok("EX"),
                Arg::integer("milliseconds").tok("PX"),
                Arg::unix_time("unix-time-seconds").tok("EXAT"),
                Arg::unix_time("unix-time-milliseconds").tok("PXAT"),
                Arg::token("persist", "PERSIST"),
            ],
        ).opt(),
    ]),
    Doc::cmd(
        "getset",
        "string",
        "1.0.0",
        "Stores a new string at a key and replies with the one it replaced.",
        "O(1)",
    )
    .acl(&["string"])
    .deprecated("6.2.0", "`SET` with the `GET` option")
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("value"),
    ]),
    Doc::cmd(
        "setnx",
        "string",
        "1.0.0",
        "Stores a string at a key only when the key is absent.",
        "O(1)",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(OW | INSERT, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("value"),
    ]),
    Doc::cmd(
        "setex",
        "string",
        "2.0.0",
        "Stores a string at a key with an expiry in seconds.",
        "O(1)",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(OW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("seconds"),
        Arg::string("value"),
    ]),
    Doc::cmd(
        "psetex",
        "string",
        "2.6.0",
        "Stores a string at a key with an expiry in milliseconds.",
        "O(1)",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(OW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("milliseconds"),
        Arg::string("value"),
    ]),
    Doc::cmd(
        "append",
        "string",
        "2.0.0",
        "Adds bytes to the end of a key's string, creating it if absent.",
        "O(1) amortized: the string grows geometrically, so appending a small value costs constant time.",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RW | INSERT, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("value"),
    ]),
    Doc::cmd(
        "strlen",
        "string",
        "2.2.0",
        "Replies with the length in bytes of a key's string.",
        "O(1)",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RO, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "incr",
        "string",
        "1.0.0",
        "Adds one to the integer stored at a key.",
        "O(1)",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "decr",
        "string",
        "1.0.0",
        "Subtracts one from the integer stored at a key.",
        "O(1)",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "incrby",
        "string",
        "1.0.0",
        "Adds an integer to the integer stored at a key.",
        "O(1)",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("increment"),
    ]),
    Doc::cmd(
        "decrby",
        "string",
        "1.0.0",
        "Subtracts an integer from the integer stored at a key.",
        "O(1)",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("decrement"),
    ]),
    Doc::cmd(
        "incrbyfloat",
        "string",
        "2.6.0",
        "Adds a floating-point number to the number stored at a key.",
        "O(1)",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::double("increment"),
    ]),
    Doc::cmd(
        "setrange",
        "string",
        "2.2.0",
        "Overwrites part of a key's string starting at an offset, padding with zero bytes if needed.",
        "O(1) plus the cost of copying the new bytes: O(M), M being the length of the value.",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("offset"),
        Arg::string("value"),
    ]),
    Doc::cmd(
        "getrange",
        "string",
        "2.4.0",
        "Replies with a byte range of a key's string.",
        "O(N), N being the length of the returned range; cheap for short ranges.",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("start"),
        Arg::integer("end"),
    ]),
    Doc::cmd(
        "substr",
        "string",
        "1.0.0",
        "Replies with a byte range of a key's string (older name of GETRANGE).",
        "O(N), N being the length of the returned range; cheap for short ranges.",
    )
    .acl(&["string"])
    .deprecated("2.0.0", "`GETRANGE`")
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("start"),
        Arg::integer("end"),
    ]),
    Doc::cmd(
        "mget",
        "string",
        "1.0.0",
        "Reads the strings stored at several keys at once.",
        "O(N), N being the number of keys.",
    )
    .acl(&["string"])
    .tips(&["request_policy:multi_shard"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, -1, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
    ]),
    Doc::cmd(
        "mset",
        "string",
        "1.0.1",
        "Stores strings at several keys at once.",
        "O(N), N being the number of keys.",
    )
    .acl(&["string"])
    .tips(&["request_policy:multi_shard", "response_policy:all_succeeded"])
    .keys(&[
        KeySpec::range(OW | UPDATE, 1, -1, 2, 0),
    ])
    .args(&[
        Arg::block(
            "key_value",
            &[
                Arg::key("key", 0),
                Arg::string("value"),
            ],
        ).multi(),
    ]),
    Doc::cmd(
        "setbit",
        "bitmap",
        "2.2.0",
        "Sets or clears one bit of a string, growing it with zero bytes as needed; replies the bit's old value.",
        "O(1)",
    )
    .acl(&["bitmap"])
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("offset"),
        Arg::integer("value"),
    ]),
    Doc::cmd(
        "getbit",
        "bitmap",
        "2.2.0",
        "Replies one bit of a string (0 past its end or for a missing key).",
        "O(1)",
    )
    .acl(&["bitmap"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("offset"),
    ]),
    Doc::cmd(
        "msetnx",
        "string",
        "1.0.1",
        "Stores strings at several keys only when none of them exists.",
        "O(N), N being the number of keys.",
    )
    .acl(&["string"])
    .tips(&["request_policy:multi_shard", "response_policy:agg_min"])
    .keys(&[
        KeySpec::range(OW | INSERT, 1, -1, 2, 0),
    ])
    .args(&[
        Arg::block(
            "key_value",
            &[
                Arg::key("key", 0),
                Arg::string("value"),
            ],
        ).multi(),
    ]),
    Doc::cmd(
        "lcs",
        "string",
        "7.0.0",
        "Finds the longest common subsequence of two strings: the subsequence, its length, or the matching ranges.",
        "O(N*M), N and M being the lengths of the two strings.",
    )
    .acl(&["string"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 1, 1, 0),
    ])
    .args(&[
        Arg::key("key1", 0),
        Arg::key("key2", 0),
        Arg::token("len", "LEN").opt(),
        Arg::token("idx", "IDX").opt(),
        Arg::integer("len").tok("MINMATCHLEN").opt(),
        Arg::token("withmatchlen", "WITHMATCHLEN").opt(),
    ]),
    Doc::cmd(
        "exists",
        "generic",
        "1.0.0",
        "Counts how many of the given keys exist.",
        "O(N), N being the number of keys given.",
    )
    .acl(&["keyspace"])
    .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
    .keys(&[
        KeySpec::range(RO, 1, -1, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
    ]),
    Doc::cmd(
        "del",
        "generic",
        "1.0.0",
        "Removes keys.",
        "O(N) over the keys given; a collection costs O(M) more, M being its number of elements.",
    )
    .acl(&["keyspace"])
    .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
    .keys(&[
        KeySpec::range(RM | DELETE, 1, -1, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
    ]),
    Doc::cmd(
        "unlink",
        "generic",
        "4.0.0",
        "Removes keys, reclaiming their memory later rather than now.",
        "O(1) per key given; freeing the values is deferred.",
    )
    .acl(&["keyspace"])
    .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
    .keys(&[
        KeySpec::range(RM | DELETE, 1, -1, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
    ]),
    Doc::cmd(
        "touch",
        "generic",
        "3.2.1",
        "Marks keys as recently used and counts the ones that exist.",
        "O(N), N being the number of keys given.",
    )
    .acl(&["keyspace"])
    .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
    .keys(&[
        KeySpec::range(RO, 1, -1, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
    ]),
    Doc::cmd(
        "type",
        "generic",
        "1.0.0",
        "Names the type of the value stored at a key.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .keys(&[
        KeySpec::range(RO, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "ttl",
        "generic",
        "1.0.0",
        "Replies with a key's remaining time to live in seconds.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .tips(&["nondeterministic_output"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "pttl",
        "generic",
        "2.6.0",
        "Replies with a key's remaining time to live in milliseconds.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .tips(&["nondeterministic_output"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "expiretime",
        "generic",
        "7.0.0",
        "Replies with the Unix time in seconds at which a key expires.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "pexpiretime",
        "generic",
        "7.0.0",
        "Replies with the Unix time in milliseconds at which a key expires.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "expire",
        "generic",
        "1.0.0",
        "Makes a key expire after a number of seconds.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .keys(&[
        KeySpec::range(RW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("seconds"),
        Arg::oneof(
            "condition",
            &[
                Arg::token("nx", "NX"),
                Arg::token("xx", "XX"),
                Arg::token("gt", "GT"),
                Arg::token("lt", "LT"),
            ],
        ).opt().since("7.0.0"),
    ]),
    Doc::cmd(
        "pexpire",
        "generic",
        "2.6.0",
        "Makes a key expire after a number of milliseconds.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .keys(&[
        KeySpec::range(RW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("milliseconds"),
        Arg::oneof(
            "condition",
            &[
                Arg::token("nx", "NX"),
                Arg::token("xx", "XX"),
                Arg::token("gt", "GT"),
                Arg::token("lt", "LT"),
            ],
        ).opt().since("7.0.0"),
    ]),
    Doc::cmd(
        "expireat",
        "generic",
        "1.2.0",
        "Makes a key expire at a Unix time given in seconds.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .keys(&[
        KeySpec::range(RW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::unix_time("unix-time-seconds"),
        Arg::oneof(
            "condition",
            &[
                Arg::token("nx", "NX"),
                Arg::token("xx", "XX"),
                Arg::token("gt", "GT"),
                Arg::token("lt", "LT"),
            ],
        ).opt().since("7.0.0"),
    ]),
    Doc::cmd(
        "pexpireat",
        "generic",
        "2.6.0",
        "Makes a key expire at a Unix time given in milliseconds.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .keys(&[
        KeySpec::range(RW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::unix_time("unix-time-milliseconds"),
        Arg::oneof(
            "condition",
            &[
                Arg::token("nx", "NX"),
                Arg::token("xx", "XX"),
                Arg::token("gt", "GT"),
                Arg::token("lt", "LT"),
            ],
        ).opt().since("7.0.0"),
    ]),
    Doc::cmd(
        "persist",
        "generic",
        "2.2.0",
        "Removes a key's expiry so it lives until deleted.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .keys(&[
        KeySpec::range(RW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "keys",
        "generic",
        "1.0.0",
        "Lists the keys whose names match a glob-style pattern.",
        "O(N), N being the number of keys in the database.",
    )
    .acl(&["keyspace", "dangerous"])
    .tips(&["request_policy:all_shards", "nondeterministic_output_order"])
    .args(&[
        Arg::pattern("pattern"),
    ]),
    Doc::cmd(
        "move",
        "generic",
        "1.0.0",
        "Moves a key into another database.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("db"),
    ]),
    Doc::cmd(
        "dump",
        "generic",
        "2.6.0",
        "Serializes the value stored at a key into an opaque blob RESTORE understands.",
        "O(1) to find the key plus time proportional to the size of the value.",
    )
    .acl(&["keyspace"])
    .tips(&["nondeterministic_output"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "restore",
        "generic",
        "2.6.0",
        "Creates a key from a blob produced by DUMP.",
        "O(1) to create the key plus time proportional to the size of the value (times log N for sorted sets).",
    )
    .acl(&["keyspace", "dangerous"])
    .keys(&[
        KeySpec::range(OW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("ttl"),
        Arg::string("serialized-value"),
        Arg::token("replace", "REPLACE").opt().since("3.0.0"),
        Arg::token("absttl", "ABSTTL").opt().since("5.0.0"),
        Arg::integer("seconds").tok("IDLETIME").opt().since("5.0.0"),
        Arg::integer("frequency").tok("FREQ").opt().since("5.0.0"),
    ]),
    Doc::cmd(
        "scan",
        "generic",
        "2.8.0",
        "Walks the keys of the database a batch at a time, using a cursor.",
        "O(1) per call; O(N) for a whole walk, N being the number of keys.",
    )
    .acl(&["keyspace"])
    .tips(&["nondeterministic_output", "request_policy:special"])
    .args(&[
        Arg::integer("cursor"),
        Arg::pattern("pattern").tok("MATCH").opt(),
        Arg::integer("count").tok("COUNT").opt(),
        Arg::string("type").tok("TYPE").opt().since("6.0.0"),
    ]),
    Doc::cmd(
        "randomkey",
        "generic",
        "1.0.0",
        "Replies with the name of a randomly chosen key.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .tips(&["request_policy:all_shards", "nondeterministic_output"]),
    Doc::cmd(
        "rename",
        "generic",
        "1.0.0",
        "Gives a key a new name, replacing any key already called that.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
        KeySpec::range(OW | UPDATE, 2, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::key("newkey", 1),
    ]),
    Doc::cmd(
        "renamenx",
        "generic",
        "1.0.0",
        "Gives a key a new name only if no key has that name yet.",
        "O(1)",
    )
    .acl(&["keyspace"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
        KeySpec::range(OW | INSERT, 2, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::key("newkey", 1),
    ]),
    Doc::cmd(
        "copy",
        "generic",
        "6.2.0",
        "Copies the value of a key to another key.",
        "O(N) for collections, N being the number of elements; O(1) for strings.",
    )
    .acl(&["keyspace"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
        KeySpec::range(OW | UPDATE, 2, 0, 1, 0),
    ])
    .args(&[
        Arg::key("source", 0),
        Arg::key("destination", 1),
        Arg::integer("destination-db").tok("DB").opt(),
        Arg::token("replace", "REPLACE").opt(),
    ]),
    Doc::cmd(
        "object",
        "generic",
        "2.2.3",
        "Groups the commands that inspect how a key's value is stored.",
        "Varies with the subcommand.",
    )
    .subs(&[
        Doc::sub(
            "object|encoding",
            3,
            &["readonly"],
            "generic",
            "2.2.3",
            "Names the internal encoding of the value stored at a key.",
            "O(1)",
        )
        .acl(&["keyspace"])
        .tips(&["nondeterministic_output"])
        .keys(&[
            KeySpec::range(RO, 2, 0, 1, 0),
        ])
        .args(&[
            Arg::key("key", 0),
        ]),
        Doc::sub(
            "object|refcount",
            3,
            &["readonly"],
            "generic",
            "2.2.3",
            "Replies with the reference count of the value stored at a key.",
            "O(1)",
        )
        .acl(&["keyspace"])
        .tips(&["nondeterministic_output"])
        .keys(&[
            KeySpec::range(RO, 2, 0, 1, 0),
        ])
        .args(&[
            Arg::key("key", 0),
        ]),
        Doc::sub(
            "object|idletime",
            3,
            &["readonly"],
            "generic",
            "2.2.3",
            "Replies with the seconds since a key was last accessed.",
            "O(1)",
        )
        .acl(&["keyspace"])
        .tips(&["nondeterministic_output"])
        .keys(&[
            KeySpec::range(RO, 2, 0, 1, 0),
        ])
        .args(&[
            Arg::key("key", 0),
        ]),
        Doc::sub(
            "object|freq",
            3,
            &["readonly"],
            "generic",
            "4.0.0",
            "Replies with the logarithmic access counter of a key (LFU policies).",
            "O(1)",
        )
        .acl(&["keyspace"])
        .tips(&["nondeterministic_output"])
        .keys(&[
            KeySpec::range(RO, 2, 0, 1, 0),
        ])
        .args(&[
            Arg::key("key", 0),
        ]),
        Doc::sub(
            "object|help",
            2,
            &["loading", "stale"],
            "generic",
            "6.2.0",
            "Lists the OBJECT subcommands and what they do.",
            "O(1)",
        )
        .acl(&["keyspace"]),
    ]),
    Doc::cmd(
        "sort",
        "generic",
        "1.0.0",
        "Sorts the elements of a list, set or sorted set (by themselves or by other keys' values), optionally storing the result as a list.",
        "O(N+M*log(M)), N being the elements to sort and M the elements returned.",
    )
    .acl(&["set", "sortedset", "list", "slow", "dangerous"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0).notes(
            "Only the sorted key: Redis describes the BY/GET and STORE keys with 'unknown' key specs, which this table does not model (COMMAND GETKEYS finds STORE's key as Redis's sortGetKeys does).",
        ),
    ])
    .getkeys(GetKeys::Sort)
    .args(&[
        Arg::key("key", 0),
        Arg::pattern("pattern").tok("BY").opt(),
        Arg::block(
            "limit",
            &[
                Arg::integer("offset"),
                Arg::integer("count"),
            ],
        ).tok("LIMIT").opt(),
        Arg::pattern("pattern").tok("GET").opt().multi().multi_token(),
        Arg::oneof(
            "order",
            &[
                Arg::token("asc", "ASC"),
                Arg::token("desc", "DESC"),
            ],
        ).opt(),
        Arg::token("sorting", "ALPHA").opt(),
        Arg::key("destination", 0).tok("STORE").opt(),
    ]),
    Doc::cmd(
        "sort_ro",
        "generic",
        "7.0.0",
        "Sorts the elements of a list, set or sorted set, like SORT without STORE.",
        "O(N+M*log(M)), N being the elements to sort and M the elements returned.",
    )
    .acl(&["set", "sortedset", "list", "slow", "dangerous"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0).notes(
            "Only the sorted key: Redis describes the BY/GET keys with an 'unknown' key spec, which this table does not model.",
        ),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::pattern("pattern").tok("BY").opt(),
        Arg::block(
            "limit",
            &[
                Arg::integer("offset"),
                Arg::integer("count"),
            ],
        ).tok("LIMIT").opt(),
        Arg::pattern("pattern").tok("GET").opt().multi().multi_token(),
        Arg::oneof(
            "order",
            &[
                Arg::token("asc", "ASC"),
                Arg::token("desc", "DESC"),
            ],
        ).opt(),
        Arg::token("sorting", "ALPHA").opt(),
    ]),
    Doc::cmd(
        "memory",
        "server",
        "4.0.0",
        "Groups the commands that report memory use.",
        "Varies with the subcommand.",
    )
    .subs(&[
        Doc::sub(
            "memory|usage",
            -3,
            &["readonly"],
            "server",
            "4.0.0",
            "Estimates the bytes a key and its value take.",
            "O(N), N being the number of elements of the value.",
        )
        .acl(&["keyspace"])
        .keys(&[
            KeySpec::range(RO, 2, 0, 1, 0),
        ])
        .args(&[
            Arg::key("key", 0),
            Arg::integer("count").tok("SAMPLES").opt(),
        ]),
        Doc::sub(
            "memory|help",
            2,
            &["loading", "stale"],
            "server",
            "4.0.0",
            "Lists the MEMORY subcommands and what they do.",
            "O(1)",
        ),
    ]),
    Doc::cmd(
        "lpush",
        "list",
        "1.0.0",
        "Adds elements to the head of a list, creating it if absent.",
        "O(1) per element added.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | INSERT, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("element").multi(),
    ]),
    Doc::cmd(
        "rpush",
        "list",
        "1.0.0",
        "Adds elements to the tail of a list, creating it if absent.",
        "O(1) per element added.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | INSERT, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("element").multi(),
    ]),
    Doc::cmd(
        "lpushx",
        "list",
        "2.2.0",
        "Adds elements to the head of a list only if the list exists.",
        "O(1) per element added.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | INSERT, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("element").multi(),
    ]),
    Doc::cmd(
        "rpushx",
        "list",
        "2.2.0",
        "Adds elements to the tail of a list only if the list exists.",
        "O(1) per element added.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | INSERT, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("element").multi(),
    ]),
    Doc::cmd(
        "lpop",
        "list",
        "1.0.0",
        "Removes and replies with elements from the head of a list.",
        "O(N), N being the number of elements popped.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("count").opt().since("6.2.0"),
    ]),
    Doc::cmd(
        "rpop",
        "list",
        "1.0.0",
        "Removes and replies with elements from the tail of a list.",
        "O(N), N being the number of elements popped.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("count").opt().since("6.2.0"),
    ]),
    Doc::cmd(
        "llen",
        "list",
        "1.0.0",
        "Replies with the number of elements in a list.",
        "O(1)",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RO, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "lrange",
        "list",
        "1.0.0",
        "Replies with the elements of a list between two indexes.",
        "O(S+N): S to reach the start index from the nearer end, N the number of elements returned.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("start"),
        Arg::integer("stop"),
    ]),
    Doc::cmd(
        "lindex",
        "list",
        "1.0.0",
        "Replies with the element of a list at an index.",
        "O(N), N being the number of elements walked to reach the index; O(1) at either end.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("index"),
    ]),
    Doc::cmd(
        "lset",
        "list",
        "1.0.0",
        "Replaces the element of a list at an index.",
        "O(N), N being the length of the list; O(1) at either end.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("index"),
        Arg::string("element"),
    ]),
    Doc::cmd(
        "lrem",
        "list",
        "1.0.0",
        "Removes the elements of a list equal to a value.",
        "O(N+M), N being the length of the list and M the number removed.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("count"),
        Arg::string("element"),
    ]),
    Doc::cmd(
        "ltrim",
        "list",
        "1.0.0",
        "Keeps only the elements of a list between two indexes.",
        "O(N), N being the number of elements removed.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("start"),
        Arg::integer("stop"),
    ]),
    Doc::cmd(
        "linsert",
        "list",
        "2.2.0",
        "Inserts an element before or after the first occurrence of a pivot element.",
        "O(N), N being the number of elements walked to reach the pivot.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | INSERT, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::oneof(
            "where",
            &[
                Arg::token("before", "BEFORE"),
                Arg::token("after", "AFTER"),
            ],
        ),
        Arg::string("pivot"),
        Arg::string("element"),
    ]),
    Doc::cmd(
        "lpos",
        "list",
        "6.0.6",
        "Finds the positions of elements equal to a value in a list.",
        "O(N) on average, N being the length of the list; less with MAXLEN or matches near the ends.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("element"),
        Arg::integer("rank").tok("RANK").opt(),
        Arg::integer("num-matches").tok("COUNT").opt(),
        Arg::integer("len").tok("MAXLEN").opt(),
    ]),
    Doc::cmd(
        "lmove",
        "list",
        "6.2.0",
        "Pops an element from one end of a list and pushes it onto an end of another.",
        "O(1)",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
        KeySpec::range(RW | INSERT, 2, 0, 1, 0),
    ])
    .args(&[
        Arg::key("source", 0),
        Arg::key("destination", 1),
        Arg::oneof(
            "wherefrom",
            &[
                Arg::token("left", "LEFT"),
                Arg::token("right", "RIGHT"),
            ],
        ),
        Arg::oneof(
            "whereto",
            &[
                Arg::token("left", "LEFT"),
                Arg::token("right", "RIGHT"),
            ],
        ),
    ]),
    Doc::cmd(
        "rpoplpush",
        "list",
        "1.2.0",
        "Pops the tail of a list and pushes it onto the head of another.",
        "O(1)",
    )
    .acl(&["list"])
    .deprecated("6.2.0", "`LMOVE` with `RIGHT` and `LEFT`")
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
        KeySpec::range(RW | INSERT, 2, 0, 1, 0),
    ])
    .args(&[
        Arg::key("source", 0),
        Arg::key("destination", 1),
    ]),
    Doc::cmd(
        "lmpop",
        "list",
        "7.0.0",
        "Pops elements from the first non-empty list among several.",
        "O(N+M), N being the number of keys and M the number of elements popped.",
    )
    .acl(&["list"])
    .getkeys(GetKeys::numkeys(0, 1, 2, 1))
    .keys(&[
        KeySpec::keynum(RW | ACCESS | DELETE, 1, 0, 1, 1),
    ])
    .args(&[
        Arg::integer("numkeys"),
        Arg::key("key", 0).multi(),
        Arg::oneof(
            "where",
            &[
                Arg::token("left", "LEFT"),
                Arg::token("right", "RIGHT"),
            ],
        ),
        Arg::integer("count").tok("COUNT").opt(),
    ]),
    Doc::cmd(
        "save",
        "server",
        "1.0.0",
        "Writes a snapshot of the data to disk, waiting until it is done.",
        "O(N), N being the number of keys across all databases.",
    )
    .flags(&["no_async_loading", "no_multi"]),
    Doc::cmd(
        "bgsave",
        "server",
        "1.0.0",
        "Starts writing a snapshot of the data to disk in the background.",
        "O(1)",
    )
    .flags(&["no_async_loading"])
    .args(&[
        Arg::token("schedule", "SCHEDULE").opt().since("3.2.2"),
    ]),
    Doc::cmd(
        "shutdown",
        "server",
        "1.0.0",
        "Stops the server, saving a snapshot first if so configured or asked.",
        "O(N) when it saves, N being the number of keys; O(1) otherwise.",
    )
    .flags(&["no_multi", "allow_busy"])
    .args(&[
        Arg::oneof(
            "nosave_save",
            &[
                Arg::token("nosave", "NOSAVE"),
                Arg::token("save", "SAVE"),
            ],
        ).opt(),
        Arg::token("now", "NOW").opt().since("7.0.0"),
        Arg::token("force", "FORCE").opt().since("7.0.0"),
        Arg::token("abort", "ABORT").opt().since("7.0.0"),
    ]),
    Doc::cmd(
        "info",
        "server",
        "1.0.0",
        "Reports information and statistics about the server, by section.",
        "O(1)",
    )
    .acl(&["dangerous"])
    .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
    .args(&[
        Arg::string("section").opt().multi(),
    ]),
    Doc::cmd(
        "lastsave",
        "server",
        "1.0.0",
        "Replies with the Unix time of the last successful snapshot.",
        "O(1)",
    )
    .acl(&["admin", "dangerous"])
    .tips(&["nondeterministic_output"]),
    Doc::cmd(
        "hset",
        "hash",
        "2.0.0",
        "Stores field-value pairs in a hash, creating it if absent.",
        "O(1) per pair.",
    )
    .acl(&["hash"])
    .keys(&[
        KeySpec::range(RW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::block(
            "field_value",
            &[
                Arg::string("field"),
                Arg::string("value"),
            ],
        ).multi(),
    ]),
    Doc::cmd(
        "hmset",
        "hash",
        "2.0.0",
        "Stores field-value pairs in a hash (older form of HSET).",
        "O(N), N being the number of fields.",
    )
    .acl(&["hash"])
    .deprecated("4.0.0", "`HSET` with several field-value pairs")
    .keys(&[
        KeySpec::range(RW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::block(
            "field_value",
            &[
                Arg::string("field"),
                Arg::string("value"),
            ],
        ).multi(),
    ]),
    Doc::cmd(
        "hsetnx",
        "hash",
        "2.0.0",
        "Stores a field of a hash only if the field is absent.",
        "O(1)",
    )
    .acl(&["hash"])
    .keys(&[
        KeySpec::range(RW | INSERT, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("field"),
        Arg::string("value"),
    ]),
    Doc::cmd(
        "hget",
        "hash",
        "2.0.0",
        "Reads one field of a hash.",
        "O(1)",
    )
    .acl(&["hash"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("field"),
    ]),
    Doc::cmd(
        "hmget",
        "hash",
        "2.0.0",
        "Reads several fields of a hash.",
        "O(N), N being the number of fields asked for.",
    )
    .acl(&["hash"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("field").multi(),
    ]),
    Doc::cmd(
        "hdel",
        "hash",
        "2.0.0",
        "Removes fields from a hash.",
        "O(N), N being the number of fields given.",
    )
    .acl(&["hash"])
    .keys(&[
        KeySpec::range(RW | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("field").multi(),
    ]),
    Doc::cmd(
        "hlen",
        "hash",
        "2.0.0",
        "Replies with the number of fields in a hash.",
        "O(1)",
    )
    .acl(&["hash"])
    .keys(&[
        KeySpec::range(RO, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "hstrlen",
        "hash",
        "3.2.0",
        "Replies with the length of the value of a hash field.",
        "O(1)",
    )
    .acl(&["hash"])
    .keys(&[
        KeySpec::range(RO, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("field"),
    ]),
    Doc::cmd(
        "hexists",
        "hash",
        "2.0.0",
        "Tells whether a field exists in a hash.",
        "O(1)",
    )
    .acl(&["hash"])
    .keys(&[
        KeySpec::range(RO, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("field"),
    ]),
    Doc::cmd(
        "hkeys",
        "hash",
        "2.0.0",
        "Lists the fields of a hash.",
        "O(N), N being the number of fields.",
    )
    .acl(&["hash"])
    .tips(&["nondeterministic_output_order"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "hvals",
        "hash",
        "2.0.0",
        "Lists the values of a hash.",
        "O(N), N being the number of fields.",
    )
    .acl(&["hash"])
    .tips(&["nondeterministic_output_order"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "hgetall",
        "hash",
        "2.0.0",
        "Lists the fields and values of a hash.",
        "O(N), N being the number of fields.",
    )
    .acl(&["hash"])
    .tips(&["nondeterministic_output_order"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "hincrby",
        "hash",
        "2.0.0",
        "Adds an integer to the integer stored in a hash field.",
        "O(1)",
    )
    .acl(&["hash"])
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("field"),
        Arg::integer("increment"),
    ]),
    Doc::cmd(
        "hincrbyfloat",
        "hash",
        "2.6.0",
        "Adds a floating-point number to the number stored in a hash field.",
        "O(1)",
    )
    .acl(&["hash"])
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("field"),
        Arg::double("increment"),
    ]),
    Doc::cmd(
        "hrandfield",
        "hash",
        "6.2.0",
        "Replies with randomly chosen fields of a hash, optionally with their values.",
        "O(N), N being the number of fields returned.",
    )
    .acl(&["hash"])
    .tips(&["nondeterministic_output"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::block(
            "options",
            &[
                Arg::integer("count"),
                Arg::token("withvalues", "WITHVALUES").opt(),
            ],
        ).opt(),
    ]),
    Doc::cmd(
        "hscan",
        "hash",
        "2.8.0",
        "Walks the fields of a hash a batch at a time, using a cursor.",
        "O(1) per call; O(N) for a whole walk, N being the number of fields.",
    )
    .acl(&["hash"])
    .tips(&["nondeterministic_output"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("cursor"),
        Arg::pattern("pattern").tok("MATCH").opt(),
        Arg::integer("count").tok("COUNT").opt(),
    ]),
    Doc::cmd(
        "sadd",
        "set",
        "1.0.0",
        "Adds members to a set, creating it if absent.",
        "O(1) per member added.",
    )
    .acl(&["set"])
    .keys(&[
        KeySpec::range(RW | INSERT, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("member").multi(),
    ]),
    Doc::cmd(
        "srem",
        "set",
        "1.0.0",
        "Removes members from a set.",
        "O(N), N being the number of members given.",
    )
    .acl(&["set"])
    .keys(&[
        KeySpec::range(RW | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("member").multi(),
    ]),
    Doc::cmd(
        "smembers",
        "set",
        "1.0.0",
        "Lists the members of a set.",
        "O(N), N being the number of members.",
    )
    .acl(&["set"])
    .tips(&["nondeterministic_output_order"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "sismember",
        "set",
        "1.0.0",
        "Tells whether a value is a member of a set.",
        "O(1)",
    )
    .acl(&["set"])
    .keys(&[
        KeySpec::range(RO, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("member"),
    ]),
    Doc::cmd(
        "smismember",
        "set",
        "6.2.0",
        "Tells, for each of several values, whether it is a member of a set.",
        "O(N), N being the number of values given.",
    )
    .acl(&["set"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("member").multi(),
    ]),
    Doc::cmd(
        "scard",
        "set",
        "1.0.0",
        "Replies with the number of members of a set.",
        "O(1)",
    )
    .acl(&["set"])
    .keys(&[
        KeySpec::range(RO, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "spop",
        "set",
        "1.0.0",
        "Removes and replies with randomly chosen members of a set.",
        "O(1) without a count, else O(N), N being the count.",
    )
    .acl(&["set"])
    .tips(&["nondeterministic_output"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("count").opt().since("3.2.0"),
    ]),
    Doc::cmd(
        "srandmember",
        "set",
        "1.0.0",
        "Replies with randomly chosen members of a set without removing them.",
        "O(1) without a count, else O(N), N being the absolute count.",
    )
    .acl(&["set"])
    .tips(&["nondeterministic_output"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("count").opt().since("2.6.0"),
    ]),
    Doc::cmd(
        "sscan",
        "set",
        "2.8.0",
        "Walks the members of a set a batch at a time, using a cursor.",
        "O(1) per call; O(N) for a whole walk, N being the number of members.",
    )
    .acl(&["set"])
    .tips(&["nondeterministic_output"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("cursor"),
        Arg::pattern("pattern").tok("MATCH").opt(),
        Arg::integer("count").tok("COUNT").opt(),
    ]),
    Doc::cmd(
        "smove",
        "set",
        "1.0.0",
        "Moves a member from one set to another.",
        "O(1)",
    )
    .acl(&["set"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
        KeySpec::range(RW | INSERT, 2, 0, 1, 0),
    ])
    .args(&[
        Arg::key("source", 0),
        Arg::key("destination", 1),
        Arg::string("member"),
    ]),
    Doc::cmd(
        "sinter",
        "set",
        "1.0.0",
        "Replies with the members common to all given sets.",
        "O(N*M) at worst, N being the size of the smallest set and M the number of sets.",
    )
    .acl(&["set"])
    .tips(&["nondeterministic_output_order"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, -1, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
    ]),
    Doc::cmd(
        "sunion",
        "set",
        "1.0.0",
        "Replies with the members of any of the given sets.",
        "O(N), N being the total number of members of all sets.",
    )
    .acl(&["set"])
    .tips(&["nondeterministic_output_order"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, -1, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
    ]),
    Doc::cmd(
        "sdiff",
        "set",
        "1.0.0",
        "Replies with the members of the first set that are in none of the others.",
        "O(N), N being the total number of members of all sets.",
    )
    .acl(&["set"])
    .tips(&["nondeterministic_output_order"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, -1, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
    ]),
    Doc::cmd(
        "sintercard",
        "set",
        "7.0.0",
        "Counts the members common to all given sets, optionally stopping at a limit.",
        "O(N*M) at worst, N being the size of the smallest set and M the number of sets.",
    )
    .acl(&["set"])
    .getkeys(GetKeys::numkeys(0, 1, 2, 1))
    .keys(&[
        KeySpec::keynum(RO | ACCESS, 1, 0, 1, 1),
    ])
    .args(&[
        Arg::integer("numkeys"),
        Arg::key("key", 0).multi(),
        Arg::integer("limit").tok("LIMIT").opt(),
    ]),
    Doc::cmd(
        "sinterstore",
        "set",
        "1.0.0",
        "Stores the intersection of sets at a destination key.",
        "O(N*M) at worst, N being the size of the smallest set and M the number of sets.",
    )
    .acl(&["set"])
    .keys(&[
        KeySpec::range(RW | UPDATE, 1, 0, 1, 0),
        KeySpec::range(RO | ACCESS, 2, -1, 1, 0),
    ])
    .args(&[
        Arg::key("destination", 0),
        Arg::key("key", 1).multi(),
    ]),
    Doc::cmd(
        "sunionstore",
        "set",
        "1.0.0",
        "Stores the union of sets at a destination key.",
        "O(N), N being the total number of members of all sets.",
    )
    .acl(&["set"])
    .keys(&[
        KeySpec::range(OW | UPDATE, 1, 0, 1, 0),
        KeySpec::range(RO | ACCESS, 2, -1, 1, 0),
    ])
    .args(&[
        Arg::key("destination", 0),
        Arg::key("key", 1).multi(),
    ]),
    Doc::cmd(
        "sdiffstore",
        "set",
        "1.0.0",
        "Stores the difference of sets at a destination key.",
        "O(N), N being the total number of members of all sets.",
    )
    .acl(&["set"])
    .keys(&[
        KeySpec::range(OW | UPDATE, 1, 0, 1, 0),
        KeySpec::range(RO | ACCESS, 2, -1, 1, 0),
    ])
    .args(&[
        Arg::key("destination", 0),
        Arg::key("key", 1).multi(),
    ]),
    Doc::cmd(
        "zadd",
        "sorted-set",
        "1.2.0",
        "Adds members with scores to a sorted set, or updates their scores.",
        "O(log N) per member, N being the size of the sorted set.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RW | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::oneof(
            "condition",
            &[
                Arg::token("nx", "NX"),
                Arg::token("xx", "XX"),
            ],
        ).opt().since("3.0.2"),
        Arg::oneof(
            "comparison",
            &[
                Arg::token("gt", "GT"),
                Arg::token("lt", "LT"),
            ],
        ).opt().since("6.2.0"),
        Arg::token("change", "CH").opt().since("3.0.2"),
        Arg::token("increment", "INCR").opt().since("3.0.2"),
        Arg::block(
            "score_member",
            &[
                Arg::double("score"),
                Arg::string("member"),
            ],
        ).multi(),
    ]),
    Doc::cmd(
        "zincrby",
        "sorted-set",
        "1.2.0",
        "Adds to the score of a member of a sorted set.",
        "O(log N), N being the size of the sorted set.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RW | ACCESS | UPDATE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("increment"),
        Arg::string("member"),
    ]),
    Doc::cmd(
        "zrem",
        "sorted-set",
        "1.2.0",
        "Removes members from a sorted set.",
        "O(M log N), M members removed from a sorted set of N.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RW | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("member").multi(),
    ]),
    Doc::cmd(
        "zcard",
        "sorted-set",
        "1.2.0",
        "Replies with the number of members of a sorted set.",
        "O(1)",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RO, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
    ]),
    Doc::cmd(
        "zscore",
        "sorted-set",
        "1.2.0",
        "Replies with the score of a member of a sorted set.",
        "O(1)",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("member"),
    ]),
    Doc::cmd(
        "zmscore",
        "sorted-set",
        "6.2.0",
        "Replies with the scores of several members of a sorted set.",
        "O(N), N being the number of members asked for.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("member").multi(),
    ]),
    Doc::cmd(
        "zrank",
        "sorted-set",
        "2.0.0",
        "Replies with the position of a member in a sorted set, lowest score first.",
        "O(log N)",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("member"),
    ]),
    Doc::cmd(
        "zrevrank",
        "sorted-set",
        "2.0.0",
        "Replies with the position of a member in a sorted set, highest score first.",
        "O(log N)",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("member"),
    ]),
    Doc::cmd(
        "zcount",
        "sorted-set",
        "2.0.0",
        "Counts the members of a sorted set with scores in a range.",
        "O(log N), N being the size of the sorted set.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::double("min"),
        Arg::double("max"),
    ]),
    Doc::cmd(
        "zlexcount",
        "sorted-set",
        "2.8.9",
        "Counts the members of a sorted set in a lexicographical range.",
        "O(log N), N being the size of the sorted set.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("min"),
        Arg::string("max"),
    ]),
    Doc::cmd(
        "zrange",
        "sorted-set",
        "1.2.0",
        "Replies with the members of a sorted set in a range of positions, scores or names.",
        "O(log N + M), N being the size of the sorted set and M the number returned.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("start"),
        Arg::string("stop"),
        Arg::oneof(
            "sortby",
            &[
                Arg::token("byscore", "BYSCORE"),
                Arg::token("bylex", "BYLEX"),
            ],
        ).opt().since("6.2.0"),
        Arg::token("rev", "REV").opt().since("6.2.0"),
        Arg::block(
            "offset_count",
            &[
                Arg::integer("offset"),
                Arg::integer("count"),
            ],
        ).tok("LIMIT").opt().since("6.2.0"),
        Arg::token("withscores", "WITHSCORES").opt(),
    ]),
    Doc::cmd(
        "zrangebyscore",
        "sorted-set",
        "1.0.5",
        "Replies with the members of a sorted set with scores in a range.",
        "O(log N + M), N being the size of the sorted set and M the number returned.",
    )
    .acl(&["sortedset"])
    .deprecated("6.2.0", "`ZRANGE` with `BYSCORE`")
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::double("min"),
        Arg::double("max"),
        Arg::token("withscores", "WITHSCORES").opt().since("2.0.0"),
        Arg::block(
            "offset_count",
            &[
                Arg::integer("offset"),
                Arg::integer("count"),
            ],
        ).tok("LIMIT").opt(),
    ]),
    Doc::cmd(
        "zrevrange",
        "sorted-set",
        "1.2.0",
        "Replies with the members of a sorted set in a range of positions, highest score first.",
        "O(log N + M), N being the size of the sorted set and M the number returned.",
    )
    .acl(&["sortedset"])
    .deprecated("6.2.0", "`ZRANGE` with `REV`")
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("start"),
        Arg::integer("stop"),
        Arg::token("withscores", "WITHSCORES").opt(),
    ]),
    Doc::cmd(
        "zrevrangebyscore",
        "sorted-set",
        "2.2.0",
        "Replies with the members of a sorted set with scores in a range, highest first.",
        "O(log N + M), N being the size of the sorted set and M the number returned.",
    )
    .acl(&["sortedset"])
    .deprecated("6.2.0", "`ZRANGE` with `REV` and `BYSCORE`")
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::double("max"),
        Arg::double("min"),
        Arg::token("withscores", "WITHSCORES").opt(),
        Arg::block(
            "offset_count",
            &[
                Arg::integer("offset"),
                Arg::integer("count"),
            ],
        ).tok("LIMIT").opt(),
    ]),
    Doc::cmd(
        "zrangebylex",
        "sorted-set",
        "2.8.9",
        "Replies with the members of a sorted set in a lexicographical range.",
        "O(log N + M), N being the size of the sorted set and M the number returned.",
    )
    .acl(&["sortedset"])
    .deprecated("6.2.0", "`ZRANGE` with `BYLEX`")
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("min"),
        Arg::string("max"),
        Arg::block(
            "offset_count",
            &[
                Arg::integer("offset"),
                Arg::integer("count"),
            ],
        ).tok("LIMIT").opt(),
    ]),
    Doc::cmd(
        "zrevrangebylex",
        "sorted-set",
        "2.8.9",
        "Replies with the members of a sorted set in a lexicographical range, in reverse order.",
        "O(log N + M), N being the size of the sorted set and M the number returned.",
    )
    .acl(&["sortedset"])
    .deprecated("6.2.0", "`ZRANGE` with `REV` and `BYLEX`")
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("max"),
        Arg::string("min"),
        Arg::block(
            "offset_count",
            &[
                Arg::integer("offset"),
                Arg::integer("count"),
            ],
        ).tok("LIMIT").opt(),
    ]),
    Doc::cmd(
        "zpopmin",
        "sorted-set",
        "5.0.0",
        "Removes and replies with the members of a sorted set with the lowest scores.",
        "O(M log N), M members popped from a sorted set of N.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("count").opt(),
    ]),
    Doc::cmd(
        "zpopmax",
        "sorted-set",
        "5.0.0",
        "Removes and replies with the members of a sorted set with the highest scores.",
        "O(M log N), M members popped from a sorted set of N.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("count").opt(),
    ]),
    Doc::cmd(
        "zremrangebyrank",
        "sorted-set",
        "2.0.0",
        "Removes the members of a sorted set in a range of positions.",
        "O(log N + M), N being the size of the sorted set and M the number removed.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RW | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("start"),
        Arg::integer("stop"),
    ]),
    Doc::cmd(
        "zremrangebyscore",
        "sorted-set",
        "1.2.0",
        "Removes the members of a sorted set with scores in a range.",
        "O(log N + M), N being the size of the sorted set and M the number removed.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RW | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::double("min"),
        Arg::double("max"),
    ]),
    Doc::cmd(
        "zremrangebylex",
        "sorted-set",
        "2.8.9",
        "Removes the members of a sorted set in a lexicographical range.",
        "O(log N + M), N being the size of the sorted set and M the number removed.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RW | DELETE, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::string("min"),
        Arg::string("max"),
    ]),
    Doc::cmd(
        "zrandmember",
        "sorted-set",
        "6.2.0",
        "Replies with randomly chosen members of a sorted set, optionally with scores.",
        "O(N), N being the number of members returned.",
    )
    .acl(&["sortedset"])
    .tips(&["nondeterministic_output"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::block(
            "options",
            &[
                Arg::integer("count"),
                Arg::token("withscores", "WITHSCORES").opt(),
            ],
        ).opt(),
    ]),
    Doc::cmd(
        "zscan",
        "sorted-set",
        "2.8.0",
        "Walks the members and scores of a sorted set a batch at a time, using a cursor.",
        "O(1) per call; O(N) for a whole walk, N being the number of members.",
    )
    .acl(&["sortedset"])
    .tips(&["nondeterministic_output"])
    .keys(&[
        KeySpec::range(RO | ACCESS, 1, 0, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0),
        Arg::integer("cursor"),
        Arg::pattern("pattern").tok("MATCH").opt(),
        Arg::integer("count").tok("COUNT").opt(),
    ]),
    Doc::cmd(
        "zrangestore",
        "sorted-set",
        "6.2.0",
        "Stores a range of a sorted set at a destination key.",
        "O(log N + M), N being the size of the source and M the number of members stored.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(OW | UPDATE, 1, 0, 1, 0),
        KeySpec::range(RO | ACCESS, 2, 0, 1, 0),
    ])
    .args(&[
        Arg::key("dst", 0),
        Arg::key("src", 1),
        Arg::string("min"),
        Arg::string("max"),
        Arg::oneof(
            "sortby",
            &[
                Arg::token("byscore", "BYSCORE"),
                Arg::token("bylex", "BYLEX"),
            ],
        ).opt(),
        Arg::token("rev", "REV").opt(),
        Arg::block(
            "offset_count",
            &[
                Arg::integer("offset"),
                Arg::integer("count"),
            ],
        ).tok("LIMIT").opt(),
    ]),
    Doc::cmd(
        "zmpop",
        "sorted-set",
        "7.0.0",
        "Pops members by score from the first non-empty sorted set among several.",
        "O(K) + O(M log N), K keys given, M members popped from a sorted set of N.",
    )
    .acl(&["sortedset"])
    .getkeys(GetKeys::numkeys(0, 1, 2, 1))
    .keys(&[
        KeySpec::keynum(RW | ACCESS | DELETE, 1, 0, 1, 1),
    ])
    .args(&[
        Arg::integer("numkeys"),
        Arg::key("key", 0).multi(),
        Arg::oneof(
            "where",
            &[
                Arg::token("min", "MIN"),
                Arg::token("max", "MAX"),
            ],
        ),
        Arg::integer("count").tok("COUNT").opt(),
    ]),
    Doc::cmd(
        "zunionstore",
        "sorted-set",
        "2.0.0",
        "Stores the union of sorted sets, with combined scores, at a destination key.",
        "O(N) + O(M log M), N being the total size of the inputs and M the size of the result.",
    )
    .acl(&["sortedset"])
    .getkeys(GetKeys::numkeys(1, 2, 3, 1))
    .keys(&[
        KeySpec::range(OW | UPDATE, 1, 0, 1, 0),
        KeySpec::keynum(RO | ACCESS, 2, 0, 1, 1),
    ])
    .args(&[
        Arg::key("destination", 0),
        Arg::integer("numkeys"),
        Arg::key("key", 1).multi(),
        Arg::integer("weight").tok("WEIGHTS").opt().multi(),
        Arg::oneof(
            "aggregate",
            &[
                Arg::token("sum", "SUM"),
                Arg::token("min", "MIN"),
                Arg::token("max", "MAX"),
            ],
        ).tok("AGGREGATE").opt(),
    ]),
    Doc::cmd(
        "zinterstore",
        "sorted-set",
        "2.0.0",
        "Stores the intersection of sorted sets, with combined scores, at a destination key.",
        "O(N*K) + O(M log M) at worst: N the smallest input, K the number of inputs, M the size of the result.",
    )
    .acl(&["sortedset"])
    .getkeys(GetKeys::numkeys(1, 2, 3, 1))
    .keys(&[
        KeySpec::range(OW | UPDATE, 1, 0, 1, 0),
        KeySpec::keynum(RO | ACCESS, 2, 0, 1, 1),
    ])
    .args(&[
        Arg::key("destination", 0),
        Arg::integer("numkeys"),
        Arg::key("key", 1).multi(),
        Arg::integer("weight").tok("WEIGHTS").opt().multi(),
        Arg::oneof(
            "aggregate",
            &[
                Arg::token("sum", "SUM"),
                Arg::token("min", "MIN"),
                Arg::token("max", "MAX"),
            ],
        ).tok("AGGREGATE").opt(),
    ]),
    Doc::cmd(
        "zdiffstore",
        "sorted-set",
        "6.2.0",
        "Stores the difference of sorted sets at a destination key.",
        "O(L + (N-K) log N) at worst: L members in all inputs, N in the first, K in the result.",
    )
    .acl(&["sortedset"])
    .getkeys(GetKeys::numkeys(1, 2, 3, 1))
    .keys(&[
        KeySpec::range(OW | UPDATE, 1, 0, 1, 0),
        KeySpec::keynum(RO | ACCESS, 2, 0, 1, 1),
    ])
    .args(&[
        Arg::key("destination", 0),
        Arg::integer("numkeys"),
        Arg::key("key", 1).multi(),
    ]),
    Doc::cmd(
        "zunion",
        "sorted-set",
        "6.2.0",
        "Replies with the union of sorted sets, with combined scores.",
        "O(N) + O(M log M), N being the total size of the inputs and M the size of the result.",
    )
    .acl(&["sortedset"])
    .getkeys(GetKeys::numkeys(0, 1, 2, 1))
    .keys(&[
        KeySpec::keynum(RO | ACCESS, 1, 0, 1, 1),
    ])
    .args(&[
        Arg::integer("numkeys"),
        Arg::key("key", 0).multi(),
        Arg::integer("weight").tok("WEIGHTS").opt().multi(),
        Arg::oneof(
            "aggregate",
            &[
                Arg::token("sum", "SUM"),
                Arg::token("min", "MIN"),
                Arg::token("max", "MAX"),
            ],
        ).tok("AGGREGATE").opt(),
        Arg::token("withscores", "WITHSCORES").opt(),
    ]),
    Doc::cmd(
        "zinter",
        "sorted-set",
        "6.2.0",
        "Replies with the intersection of sorted sets, with combined scores.",
        "O(N*K) + O(M log M) at worst: N the smallest input, K the number of inputs, M the size of the result.",
    )
    .acl(&["sortedset"])
    .getkeys(GetKeys::numkeys(0, 1, 2, 1))
    .keys(&[
        KeySpec::keynum(RO | ACCESS, 1, 0, 1, 1),
    ])
    .args(&[
        Arg::integer("numkeys"),
        Arg::key("key", 0).multi(),
        Arg::integer("weight").tok("WEIGHTS").opt().multi(),
        Arg::oneof(
            "aggregate",
            &[
                Arg::token("sum", "SUM"),
                Arg::token("min", "MIN"),
                Arg::token("max", "MAX"),
            ],
        ).tok("AGGREGATE").opt(),
        Arg::token("withscores", "WITHSCORES").opt(),
    ]),
    Doc::cmd(
        "zdiff",
        "sorted-set",
        "6.2.0",
        "Replies with the members of the first sorted set that are in none of the others.",
        "O(L + (N-K) log N) at worst: L members in all inputs, N in the first, K in the result.",
    )
    .acl(&["sortedset"])
    .getkeys(GetKeys::numkeys(0, 1, 2, 1))
    .keys(&[
        KeySpec::keynum(RO | ACCESS, 1, 0, 1, 1),
    ])
    .args(&[
        Arg::integer("numkeys"),
        Arg::key("key", 0).multi(),
        Arg::token("withscores", "WITHSCORES").opt(),
    ]),
    Doc::cmd(
        "zintercard",
        "sorted-set",
        "7.0.0",
        "Counts the members common to all given sorted sets, optionally stopping at a limit.",
        "O(N*K) at worst, N being the smallest input and K the number of inputs.",
    )
    .acl(&["sortedset"])
    .getkeys(GetKeys::numkeys(0, 1, 2, 1))
    .keys(&[
        KeySpec::keynum(RO | ACCESS, 1, 0, 1, 1),
    ])
    .args(&[
        Arg::integer("numkeys"),
        Arg::key("key", 0).multi(),
        Arg::integer("limit").tok("LIMIT").opt(),
    ]),
    Doc::cmd(
        "blpop",
        "list",
        "2.0.0",
        "Pops the head of the first non-empty list, waiting for one if all are empty.",
        "O(N), N being the number of keys given.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, -2, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
        Arg::double("timeout"),
    ]),
    Doc::cmd(
        "brpop",
        "list",
        "2.0.0",
        "Pops the tail of the first non-empty list, waiting for one if all are empty.",
        "O(N), N being the number of keys given.",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, -2, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
        Arg::double("timeout"),
    ]),
    Doc::cmd(
        "blmove",
        "list",
        "6.2.0",
        "Like LMOVE, but waits for the source list to have an element.",
        "O(1)",
    )
    .acl(&["list"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
        KeySpec::range(RW | INSERT, 2, 0, 1, 0),
    ])
    .args(&[
        Arg::key("source", 0),
        Arg::key("destination", 1),
        Arg::oneof(
            "wherefrom",
            &[
                Arg::token("left", "LEFT"),
                Arg::token("right", "RIGHT"),
            ],
        ),
        Arg::oneof(
            "whereto",
            &[
                Arg::token("left", "LEFT"),
                Arg::token("right", "RIGHT"),
            ],
        ),
        Arg::double("timeout"),
    ]),
    Doc::cmd(
        "brpoplpush",
        "list",
        "2.2.0",
        "Like RPOPLPUSH, but waits for the source list to have an element.",
        "O(1)",
    )
    .acl(&["list"])
    .deprecated("6.2.0", "`BLMOVE` with `RIGHT` and `LEFT`")
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, 0, 1, 0),
        KeySpec::range(RW | INSERT, 2, 0, 1, 0),
    ])
    .args(&[
        Arg::key("source", 0),
        Arg::key("destination", 1),
        Arg::double("timeout"),
    ]),
    Doc::cmd(
        "blmpop",
        "list",
        "7.0.0",
        "Like LMPOP, but waits for one of the lists to have elements.",
        "O(N+M), N being the number of keys and M the number of elements popped.",
    )
    .acl(&["list"])
    .getkeys(GetKeys::numkeys(0, 2, 3, 1))
    .keys(&[
        KeySpec::keynum(RW | ACCESS | DELETE, 2, 0, 1, 1),
    ])
    .args(&[
        Arg::double("timeout"),
        Arg::integer("numkeys"),
        Arg::key("key", 0).multi(),
        Arg::oneof(
            "where",
            &[
                Arg::token("left", "LEFT"),
                Arg::token("right", "RIGHT"),
            ],
        ),
        Arg::integer("count").tok("COUNT").opt(),
    ]),
    Doc::cmd(
        "bzpopmin",
        "sorted-set",
        "5.0.0",
        "Pops the lowest-scored member of the first non-empty sorted set, waiting if all are empty.",
        "O(log N), N being the size of the sorted set.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, -2, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
        Arg::double("timeout"),
    ]),
    Doc::cmd(
        "bzpopmax",
        "sorted-set",
        "5.0.0",
        "Pops the highest-scored member of the first non-empty sorted set, waiting if all are empty.",
        "O(log N), N being the size of the sorted set.",
    )
    .acl(&["sortedset"])
    .keys(&[
        KeySpec::range(RW | ACCESS | DELETE, 1, -2, 1, 0),
    ])
    .args(&[
        Arg::key("key", 0).multi(),
        Arg::double("timeout"),
    ]),
    Doc::cmd(
        "bzmpop",
        "sorted-set",
        "7.0.0",
        "Like ZMPOP, but waits for one of the sorted sets to have members.",
        "O(K) + O(M log N), K keys given, M members popped from a sorted set of N.",
    )
    .acl(&["sortedset"])
    .getkeys(GetKeys::numkeys(0, 2, 3, 1))
    .keys(&[
        KeySpec::keynum(RW | ACCESS | DELETE, 2, 0, 1, 1),
    ])
    .args(&[
        Arg::double("timeout"),
        Arg::integer("numkeys"),
        Arg::key("key", 0).multi(),
        Arg::oneof(
            "where",
            &[
                Arg::token("min", "MIN"),
                Arg::token("max", "MAX"),
            ],
        ),
        Arg::integer("count").tok("COUNT").opt(),
    ]),
    Doc::cmd(
        "auth",
        "connection",
        "1.0.0",
        "Authenticates the connection (as the default user, the only one).",
        "O(N) where N is the number of passwords defined for the user",
    )
    .flags(&["no_auth", "allow_busy"])
    .acl(&["connection"])
    .args(&[
        Arg::string("username").opt().since("6.0.0"),
        Arg::string("password"),
    ]),
    Doc::cmd(
        "hello",
        "connection",
        "6.0.0",
        "Negotiates the protocol version and optionally authenticates and names the connection.",
        "O(1)",
    )
    .flags(&["no_auth", "allow_busy"])
    .acl(&["connection"])
    .args(&[
        Arg::block(
            "arguments",
            &[
                Arg::integer("protover"),
                Arg::block(
                    "username_password",
                    &[
                        Arg::string("username"),
                        Arg::string("password"),
                    ],
                ).tok("AUTH").opt(),
                Arg::string("clientname").tok("SETNAME").opt(),
            ],
        ).opt(),
    ]),
    Doc::cmd(
        "reset",
        "connection",
        "6.2.0",
        "Returns the connection to its initial state.",
        "O(1)",
    )
    .flags(&["no_auth", "allow_busy"])
    .acl(&["connection"]),
    Doc::cmd(
        "client",
        "connection",
        "2.4.0",
        "Groups the commands that inspect and manage client connections.",
        "Varies with the subcommand.",
    )
    .subs(&[
        Doc::sub(
            "client|help",
            2,
            &["loading", "stale"],
            "connection",
            "5.0.0",
            "Lists the CLIENT subcommands and what they do.",
            "O(1)",
        )
        .acl(&["connection"]),
        Doc::sub(
            "client|id",
            2,
            &["noscript", "loading", "stale"],
            "connection",
            "5.0.0",
            "Replies with the unique id of this connection.",
            "O(1)",
        )
        .acl(&["connection"]),
        Doc::sub(
            "client|info",
            2,
            &["noscript", "loading", "stale"],
            "connection",
            "6.2.0",
            "Describes this connection in the CLIENT LIST format.",
            "O(1)",
        )
        .acl(&["connection"])
        .tips(&["nondeterministic_output"]),
        Doc::sub(
            "client|list",
            -2,
            &["admin", "noscript", "loading", "stale"],
            "connection",
            "2.4.0",
            "Describes the open client connections, one per line.",
            "O(N), N being the number of connections.",
        )
        .acl(&["connection"])
        .tips(&["nondeterministic_output"])
        .args(&[
            Arg::oneof(
                "normal_master_replica_pubsub",
                &[
                    Arg::token("normal", "NORMAL"),
                    Arg::token("master", "MASTER"),
                    Arg::token("replica", "REPLICA"),
                    Arg::token("pubsub", "PUBSUB"),
                ],
            ).tok("TYPE").opt().since("5.0.0"),
            Arg::block(
                "id",
                &[
                    Arg::integer("client-id").multi(),
                ],
            ).tok("ID").opt().since("6.2.0"),
        ]),
        Doc::sub(
            "client|reply",
            3,
            &["noscript", "loading", "stale"],
            "connection",
            "3.2.0",
            "Turns the server's replies to this connection off, on, or off for the next command.",
            "O(1)",
        )
        .acl(&["connection"])
        .args(&[
            Arg::oneof(
                "on_off_skip",
                &[
                    Arg::token("on", "ON"),
                    Arg::token("off", "OFF"),
                    Arg::token("skip", "SKIP"),
                ],
            ),
        ]),
        Doc::sub(
            "client|no-evict",
            3,
            &["admin", "noscript", "loading", "stale"],
            "connection",
            "7.0.0",
            "Exempts this connection from client eviction, or stops exempting it.",
            "O(1)",
        )
        .acl(&["connection"])
        .args(&[
            Arg::oneof(
                "enabled",
                &[
                    Arg::token("on", "ON"),
                    Arg::token("off", "OFF"),
                ],
            ),
        ]),
        Doc::sub(
            "client|no-touch",
            3,
            &["noscript", "loading", "stale"],
            "connection",
            "7.2.0",
            "Stops this connection's commands from updating keys' access times, or restores it.",
            "O(1)",
        )
        .acl(&["connection"])
        .args(&[
            Arg::oneof(
                "enabled",
                &[
                    Arg::token("on", "ON"),
                    Arg::token("off", "OFF"),
                ],
            ),
        ]),
        Doc::sub(
            "client|kill",
            -3,
            &["admin", "noscript", "loading", "stale"],
            "connection",
            "2.4.0",
            "Closes client connections selected by address, id, type or other filters.",
            "O(N), N being the number of connections.",
        )
        .acl(&["connection"])
        .args(&[
            Arg::oneof(
                "filter",
                &[
                    Arg::string("ip:port").deprecated("2.8.12"),
                    Arg::oneof(
                        "new-format",
                        &[
                            Arg::integer("client-id").tok("ID").opt().since("2.8.12"),
                            Arg::oneof(
                                "normal_master_slave_pubsub",
                                &[
                                    Arg::token("normal", "NORMAL"),
                                    Arg::token("master", "MASTER").since("3.2.0"),
                                    Arg::token("slave", "SLAVE"),
                                    Arg::token("replica", "REPLICA").since("5.0.0"),
                                    Arg::token("pubsub", "PUBSUB"),
                                ],
                            ).tok("TYPE").opt().since("2.8.12"),
                            Arg::string("username").tok("USER").opt(),
                            Arg::string("ip:port").tok("ADDR").opt(),
                            Arg::string("ip:port").tok("LADDR").opt().since("6.2.0"),
                            Arg::string("yes/no").tok("SKIPME").opt(),
                        ],
                    ).multi(),
                ],
            ),
        ]),
        Doc::sub(
            "client|unblock",
            -3,
            &["admin", "noscript", "loading", "stale"],
            "connection",
            "5.0.0",
            "Wakes a client waiting in a blocking command, as on timeout or with an error.",
            "O(log N), N being the number of connections.",
        )
        .acl(&["connection"])
        .args(&[
            Arg::integer("client-id"),
            Arg::oneof(
                "timeout_error",
                &[
                    Arg::token("timeout", "TIMEOUT"),
                    Arg::token("error", "ERROR"),
                ],
            ).opt(),
        ]),
        Doc::sub(
            "client|setname",
            3,
            &["noscript", "loading", "stale"],
            "connection",
            "2.6.9",
            "Names this connection.",
            "O(1)",
        )
        .acl(&["connection"])
        .args(&[
            Arg::string("connection-name"),
        ]),
        Doc::sub(
            "client|getname",
            2,
            &["noscript", "loading", "stale"],
            "connection",
            "2.6.9",
            "Replies with the name of this connection.",
            "O(1)",
        )
        .acl(&["connection"]),
        Doc::sub(
            "client|setinfo",
            4,
            &["noscript", "loading", "stale"],
            "connection",
            "7.2.0",
            "Records the client library's name or version for this connection.",
            "O(1)",
        )
        .acl(&["connection"])
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .args(&[
            Arg::oneof(
                "attr",
                &[
                    Arg::string("libname").tok("LIB-NAME"),
                    Arg::string("libver").tok("LIB-VER"),
                ],
            ),
        ]),
        Doc::sub(
            "client|unpause",
            2,
            &["admin", "noscript", "loading", "stale"],
            "connection",
            "6.2.0",
            "Ends a pause started by CLIENT PAUSE.",
            "O(N), N being the number of paused clients.",
        )
        .acl(&["connection"]),
        Doc::sub(
            "client|pause",
            -3,
            &["admin", "noscript", "loading", "stale"],
            "connection",
            "2.9.50",
            "Holds back commands from clients for a while, all or only writes.",
            "O(1)",
        )
        .acl(&["connection"])
        .args(&[
            Arg::integer("timeout"),
            Arg::oneof(
                "mode",
                &[
                    Arg::token("write", "WRITE"),
                    Arg::token("all", "ALL"),
                ],
            ).opt().since("6.2.0"),
        ]),
        Doc::sub(
            "client|getredir",
            2,
            &["noscript", "loading", "stale"],
            "connection",
            "6.0.0",
            "Replies with the id of the client tracking notifications go to.",
            "O(1)",
        )
        .acl(&["connection"]),
        Doc::sub(
            "client|trackinginfo",
            2,
            &["noscript", "loading", "stale"],
            "connection",
            "6.2.0",
            "Describes this connection's client-side caching state.",
            "O(1)",
        )
        .acl(&["connection"]),
    ]),
    Doc::cmd(
        "function",
        "scripting",
        "7.0.0",
        "Groups the commands that manage function libraries.",
        "Varies with the subcommand.",
    )
    .subs(&[
        Doc::sub(
            "function|flush",
            -2,
            &["noscript", "write"],
            "scripting",
            "7.0.0",
            "Deletes every function library.",
            "O(N), N being the number of functions removed.",
        )
        .acl(&["scripting"])
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .args(&[
            Arg::oneof(
                "async",
                &[
                    Arg::token("async", "ASYNC"),
                    Arg::token("sync", "SYNC"),
                ],
            ).opt(),
        ]),
        Doc::sub(
            "function|list",
            -2,
            &["noscript"],
            "scripting",
            "7.0.0",
            "Describes the loaded function libraries.",
            "O(N), N being the number of functions.",
        )
        .acl(&["scripting"])
        .tips(&["nondeterministic_output_order"])
        .args(&[
            Arg::string("library-name-pattern").tok("LIBRARYNAME").opt(),
            Arg::token("withcode", "WITHCODE").opt(),
        ]),
        Doc::sub(
            "function|stats",
            2,
            &["noscript", "allow_busy"],
            "scripting",
            "7.0.0",
            "Reports the running function and the available engines.",
            "O(1)",
        )
        .acl(&["scripting"])
        .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
        Doc::sub(
            "function|kill",
            2,
            &["noscript", "allow_busy"],
            "scripting",
            "7.0.0",
            "Stops the function that is running, if it has not written.",
            "O(1)",
        )
        .acl(&["scripting"])
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
        Doc::sub(
            "function|delete",
            3,
            &["noscript", "write"],
            "scripting",
            "7.0.0",
            "Deletes a function library.",
            "O(1)",
        )
        .acl(&["scripting"])
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .args(&[
            Arg::string("library-name"),
        ]),
        Doc::sub(
            "function|help",
            2,
            &["loading", "stale"],
            "scripting",
            "7.0.0",
            "Lists the FUNCTION subcommands and what they do.",
            "O(1)",
        )
        .acl(&["scripting"]),
    ]),
    Doc::cmd(
        "script",
        "scripting",
        "2.6.0",
        "Groups the commands that manage the Lua script cache.",
        "Varies with the subcommand.",
    )
    .subs(&[
        Doc::sub(
            "script|flush",
            -2,
            &["noscript"],
            "scripting",
            "2.6.0",
            "Empties the Lua script cache.",
            "O(N), N being the number of cached scripts.",
        )
        .acl(&["scripting"])
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .args(&[
            Arg::oneof(
                "async",
                &[
                    Arg::token("async", "ASYNC"),
                    Arg::token("sync", "SYNC"),
                ],
            ).opt().since("6.2.0"),
        ]),
        Doc::sub(
            "script|exists",
            -3,
            &["noscript"],
            "scripting",
            "2.6.0",
            "Tells, for each SHA1 digest, whether that script is cached.",
            "O(N), N being the number of digests given.",
        )
        .acl(&["scripting"])
        .tips(&["request_policy:all_shards", "response_policy:agg_logical_and"])
        .args(&[
            Arg::string("sha1").multi(),
        ]),
        Doc::sub(
            "script|kill",
            2,
            &["noscript", "allow_busy"],
            "scripting",
            "2.6.0",
            "Stops the script that is running, if it has not written.",
            "O(1)",
        )
        .acl(&["scripting"])
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
        Doc::sub(
            "script|help",
            2,
            &["loading", "stale"],
            "scripting",
            "5.0.0",
            "Lists the SCRIPT subcommands and what they do.",
            "O(1)",
        )
        .acl(&["scripting"]),
    ]),
    Doc::cmd(
        "command",
        "server",
        "2.8.13",
        "Describes every command the server knows.",
        "O(N), N being the number of commands.",
    )
    .flags(&["loading", "stale"])
    .acl(&["connection"])
    .tips(&["nondeterministic_output_order"])
    .subs(&[
        Doc::sub(
            "command|count",
            2,
            &["loading", "stale"],
            "server",
            "2.8.13",
            "Replies with the number of commands the server knows.",
            "O(1)",
        )
        .acl(&["connection"]),
        Doc::sub(
            "command|docs",
            -2,
            &["loading", "stale"],
            "server",
            "7.0.0",
            "Replies with the documentation of the given commands, or of all of them.",
            "O(N), N being the number of commands described.",
        )
        .acl(&["connection"])
        .tips(&["nondeterministic_output_order"])
        .args(&[
            Arg::string("command-name").opt().multi(),
        ]),
        Doc::sub(
            "command|getkeys",
            -4,
            &["loading", "stale"],
            "server",
            "2.8.13",
            "Extracts the key names from a full command line.",
            "O(N), N being the number of arguments of that command.",
        )
        .acl(&["connection"]),
        Doc::sub(
            "command|getkeysandflags",
            -4,
            &["loading", "stale"],
            "server",
            "7.0.0",
            "Extracts the key names from a full command line, with how each key is accessed.",
            "O(N), N being the number of arguments of that command.",
        )
        .acl(&["connection"]),
        Doc::sub(
            "command|help",
            2,
            &["loading", "stale"],
            "server",
            "5.0.0",
            "Lists the COMMAND subcommands and what they do.",
            "O(1)",
        )
        .acl(&["connection"]),
        Doc::sub(
            "command|info",
            -2,
            &["loading", "stale"],
            "server",
            "2.8.13",
            "Describes the given commands, or all of them.",
            "O(N), N being the number of commands described.",
        )
        .acl(&["connection"])
        .tips(&["nondeterministic_output_order"])
        .args(&[
            Arg::string("command-name").opt().multi(),
        ]),
        Doc::sub(
            "command|list",
            -2,
            &["loading", "stale"],
            "server",
            "7.0.0",
            "Lists the names of the commands, optionally filtered.",
            "O(N), N being the number of commands.",
        )
        .acl(&["connection"])
        .tips(&["nondeterministic_output_order"])
        .args(&[
            Arg::oneof(
                "filterby",
                &[
                    Arg::string("module-name").tok("MODULE"),
                    Arg::string("category").tok("ACLCAT"),
                    Arg::pattern("pattern").tok("PATTERN"),
                ],
            ).tok("FILTERBY").opt(),
        ]),
    ]),
    Doc::cmd(
        "cluster",
        "cluster",
        "3.0.0",
        "Groups the commands that describe the cluster's slot map.",
        "Varies with the subcommand.",
    )
    .subs(&[
        Doc::sub(
            "cluster|countkeysinslot",
            3,
            &["stale"],
            "cluster",
            "3.0.0",
            "Counts the keys this node holds in a hash slot.",
            "O(N), N being the number of keys in the node's shard that owns the slot.",
        )
        .args(&[
            Arg::integer("slot"),
        ]),
        Doc::sub(
            "cluster|getkeysinslot",
            4,
            &["stale"],
            "cluster",
            "3.0.0",
            "Lists up to count key names this node holds in a hash slot.",
            "O(N), N being the number of keys in the node's shard that owns the slot.",
        )
        .tips(&["nondeterministic_output"])
        .args(&[
            Arg::integer("slot"),
            Arg::integer("count"),
        ]),
        Doc::sub(
            "cluster|help",
            2,
            &["loading", "stale"],
            "cluster",
            "5.0.0",
            "Describes the CLUSTER subcommands.",
            "O(1)",
        ),
        Doc::sub(
            "cluster|info",
            2,
            &["stale"],
            "cluster",
            "3.0.0",
            "Reports the state of the cluster as this node sees it.",
            "O(1)",
        )
        .tips(&["nondeterministic_output"]),
        Doc::sub(
            "cluster|keyslot",
            3,
            &["stale"],
            "cluster",
            "3.0.0",
            "Computes the hash slot of a key.",
            "O(N), N being the length of the key.",
        )
        .args(&[
            Arg::string("key"),
        ]),
        Doc::sub(
            "cluster|myid",
            2,
            &["stale"],
            "cluster",
            "3.0.0",
            "Replies with this node's id.",
            "O(1)",
        ),
        Doc::sub(
            "cluster|nodes",
            2,
            &["stale"],
            "cluster",
            "3.0.0",
            "Lists every node of the map in Redis's nodes-file format.",
            "O(N), N being the number of nodes.",
        )
        .tips(&["nondeterministic_output"]),
        Doc::sub(
            "cluster|shards",
            2,
            &["stale"],
            "cluster",
            "7.0.0",
            "Lists each shard's slot ranges and the nodes serving them.",
            "O(N), N being the number of nodes.",
        )
        .tips(&["nondeterministic_output"]),
        Doc::sub(
            "cluster|slots",
            2,
            &["stale"],
            "cluster",
            "3.0.0",
            "Lists the slot ranges and the node serving each.",
            "O(N), N being the number of nodes.",
        )
        .tips(&["nondeterministic_output"]),
    ]),
    Doc::cmd(
        "readonly",
        "cluster",
        "3.0.0",
        "Enables reads from replicas for this connection (the static map has none).",
        "O(1)",
    )
    .acl(&["connection"]),
    Doc::cmd(
        "readwrite",
        "cluster",
        "3.0.0",
        "Turns READONLY off for this connection.",
        "O(1)",
    )
    .acl(&["connection"]),
    Doc::cmd(
        "asking",
        "cluster",
        "3.0.0",
        "Marks the next command as following an ASK redirection.",
        "O(1)",
    )
    .acl(&["connection"]),
];
