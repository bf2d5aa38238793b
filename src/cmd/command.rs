//! COMMAND and its subcommands (Redis 7.0 `server.c`: `commandCommand` & friends), generated from
//! the command table ([`super::table`]) plus the documentation in [`super::docs`].
//!
//! What the table says (arity, flag bits, key positions) wins; the docs add what it cannot say.
//! Internal commands (`flags::INTERNAL`, names starting with `__`) never appear. The replies that
//! cover every command are encoded once per protocol, since some clients send COMMAND (or
//! COMMAND DOCS) on every connection.

use super::docs::{self, af, kf, Arg, ArgType, Begin, Doc, Find, GetKeys, KeySpec};
use super::string::opt_is;
use super::{arity_error, err, flags, table, CommandSpec, ConnCtx, Handler, Route};
use crate::resp::{Argv, Proto, Reply};
use std::collections::HashMap;
use std::sync::OnceLock;

pub fn register(t: &mut Vec<CommandSpec>) {
    t.push(CommandSpec {
        name: "command",
        arity: -1,
        flags: flags::LOADING | flags::STALE,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Conn(command),
    });
}

/// Command flag names in the order Redis 7.0 prints them (`addReplyFlagsForCommand`).
const FLAG_ORDER: [&str; 20] = [
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "no_mandatory_keys",
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
];

/// The table's flag bits and their Redis names.
const FLAG_BITS: [(u32, &str); 10] = [
    (flags::WRITE, "write"),
    (flags::READONLY, "readonly"),
    (flags::DENYOOM, "denyoom"),
    (flags::ADMIN, "admin"),
    (flags::PUBSUB, "pubsub"),
    (flags::NOSCRIPT, "noscript"),
    (flags::BLOCKING, "blocking"),
    (flags::LOADING, "loading"),
    (flags::STALE, "stale"),
    (flags::FAST, "fast"),
];

/// ACL categories in the order Redis 7.0 prints them (`ACLCommandCategories`).
const ACL_ORDER: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// One command or subcommand as COMMAND reports it.
struct Entry {
    /// `get`, or `config|get`.
    name: &'static str,
    arity: i32,
    /// Redis flag names, in Redis's order.
    flags: Vec<&'static str>,
    first: i32,
    last: i32,
    step: i32,
    /// ACL categories (without `@`), implied ones included, in Redis's order.
    acl: Vec<&'static str>,
    doc: Doc,
    subs: Vec<Entry>,
}

impl Entry {
    fn has_flag(&self, f: &str) -> bool {
        self.flags.contains(&f)
    }

    /// Redis's `doesCommandHaveKeys`.
    fn has_keys(&self) -> bool {
        self.doc.getkeys.is_some()
            || self
                .doc
                .key_specs
                .iter()
                .any(|k| k.flags & kf::NOT_KEY == 0)
    }
}

/// Every client-visible command, in table order, and an index by name.
struct Registry {
    entries: Vec<Entry>,
    by_name: HashMap<&'static str, usize>,
}

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let docs: HashMap<&str, &Doc> = docs::DOCS.iter().map(|d| (d.name, d)).collect();
        let entries: Vec<Entry> = table()
            .iter()
            .filter(|c| c.flags & flags::INTERNAL == 0)
            .map(|c| command_entry(c, docs.get(c.name).copied()))
            .collect();
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name, i))
            .collect();
        Registry { entries, by_name }
    })
}

/// The entry of a table row, with its docs (or a bare fallback if it has none, which
/// `every_command_has_docs` forbids).
fn command_entry(c: &CommandSpec, doc: Option<&Doc>) -> Entry {
    let doc = doc.copied().unwrap_or_else(|| fallback_doc(c));
    // A container (CONFIG, CLIENT, …) reports the flags of its docs and no keys, as in Redis: its
    // subcommands carry them.
    let container = !doc.subs.is_empty();
    let mut names: Vec<&'static str> = Vec::new();
    if !container {
        names.extend(
            FLAG_BITS
                .iter()
                .filter(|(bit, _)| c.flags & bit != 0)
                .map(|&(_, n)| n),
        );
    }
    names.extend(doc.flags.iter().copied());
    let (first, last, step, movable) = legacy_range(doc.key_specs);
    if movable {
        names.push("movablekeys");
    }
    let flags = in_order(&FLAG_ORDER, &names);
    let (first, last, step) = if container {
        (first, last, step)
    } else {
        (c.first_key, c.last_key, c.step)
    };
    Entry {
        name: c.name,
        arity: c.arity,
        acl: acl_categories(&doc, &flags),
        flags,
        first,
        last,
        step,
        subs: doc.subs.iter().map(sub_entry).collect(),
        doc,
    }
}

fn sub_entry(doc: &Doc) -> Entry {
    let mut names: Vec<&'static str> = doc.flags.to_vec();
    let (first, last, step, movable) = legacy_range(doc.key_specs);
    if movable {
        names.push("movablekeys");
    }
    let flags = in_order(&FLAG_ORDER, &names);
    Entry {
        name: doc.name,
        arity: doc.arity,
        acl: acl_categories(doc, &flags),
        flags,
        first,
        last,
        step,
        subs: Vec::new(),
        doc: *doc,
    }
}

/// Docs for a command that has none: its keys as one plain range, nothing else.
fn fallback_doc(c: &CommandSpec) -> Doc {
    let mut d = Doc::cmd(c.name, "generic", "", "", "");
    if c.first_key > 0 {
        let access = if c.flags & flags::WRITE != 0 {
            kf::RW
        } else {
            kf::RO
        };
        let last = if c.last_key >= 0 {
            c.last_key - c.first_key
        } else {
            c.last_key
        };
        let spec = KeySpec::range(access, c.first_key, last, c.step.max(1), 0);
        d.key_specs = Box::leak(Box::new([spec]));
    }
    d
}

/// `names` sorted by their place in `order` (names not in it dropped, duplicates merged).
fn in_order(order: &[&'static str], names: &[&str]) -> Vec<&'static str> {
    order
        .iter()
        .copied()
        .filter(|o| names.contains(o))
        .collect()
}

/// Redis's `setImplicitACLCategories` on top of the documented categories.
fn acl_categories(doc: &Doc, flags: &[&str]) -> Vec<&'static str> {
    let mut cats: Vec<&str> = doc.acl.to_vec();
    let has = |f: &str| flags.contains(&f);
    if has("write") {
        cats.push("write");
    }
    if has("readonly") && !doc.acl.contains(&"scripting") {
        cats.push("read");
    }
    if has("admin") {
        cats.extend(["admin", "dangerous"]);
    }
    if has("pubsub") {
        cats.push("pubsub");
    }
    if has("fast") {
        cats.push("fast");
    }
    if has("blocking") {
        cats.push("blocking");
    }
    if !cats.contains(&"fast") {
        cats.push("slow");
    }
    in_order(&ACL_ORDER, &cats)
}

/// Redis's `populateCommandLegacyRangeSpec`: the (first, last, step) that COMMAND INFO reports,
/// and whether the keys are "movable" (not all covered by that range).
fn legacy_range(specs: &[KeySpec]) -> (i32, i32, i32, bool) {
    if specs.is_empty() {
        return (0, 0, 0, false);
    }
    if let [KeySpec {
        flags,
        begin: Begin::Index(pos),
        find: Find::Range {
            lastkey, keystep, ..
        },
        ..
    }] = specs
    {
        let last = if *lastkey >= 0 {
            lastkey + pos
        } else {
            *lastkey
        };
        return (*pos, last, *keystep, flags & kf::INCOMPLETE != 0);
    }
    let (mut first, mut last, mut prev, mut movable) = (i32::MAX, 0i32, 0i32, false);
    for s in specs {
        let (
            Begin::Index(pos),
            Find::Range {
                lastkey, keystep, ..
            },
        ) = (s.begin, s.find)
        else {
            movable = true;
            continue;
        };
        if keystep != 1 || (prev != 0 && prev != pos - 1) {
            movable = true;
            continue;
        }
        if s.flags & kf::INCOMPLETE != 0 {
            movable = true;
        }
        first = first.min(pos);
        let abs = if lastkey >= 0 { lastkey + pos } else { lastkey };
        // Unsigned comparison, as Redis: a negative (from the end) last key wins.
        if abs as u32 > last as u32 {
            last = abs;
        }
        prev = last;
    }
    if first == i32::MAX {
        return (0, 0, 0, true);
    }
    (first, last, 1, movable)
}

// --- lookup --------------------------------------------------------------------------------------

fn find_top(name: &[u8]) -> Option<&'static Entry> {
    let r = registry();
    let lower = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    r.by_name.get(lower.as_str()).map(|&i| &r.entries[i])
}

fn find_sub<'e>(container: &'e Entry, name: &[u8]) -> Option<&'e Entry> {
    container.subs.iter().find(|s| {
        s.name
            .split_once('|')
            .is_some_and(|(_, sub)| sub.as_bytes().eq_ignore_ascii_case(name))
    })
}

/// Redis's `lookupCommandBySds`: `name` or `container|sub`, exactly.
fn find_by_fullname(name: &[u8]) -> Option<&'static Entry> {
    let mut parts = name.split(|&b| b == b'|');
    let top = find_top(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(top),
        (Some(sub), None) => find_sub(top, sub),
        _ => None,
    }
}

/// Redis's `lookupCommand` on a command line: the subcommand of a container when one is given.
fn find_for_argv(args: &[&[u8]]) -> Option<&'static Entry> {
    let top = find_top(args.first()?)?;
    if args.len() == 1 || top.subs.is_empty() {
        return Some(top);
    }
    find_sub(top, args[1])
}

/// Calls `f` with each key of a command line, as Redis's `getKeysFromCommand` finds them for
/// cluster routing: the getkeys callback for commands with movable keys, else the legacy
/// first/last/step range — which, unlike key specs, also covers the channels of SPUBLISH and
/// SSUBSCRIBE, so shard channels route by slot too. `idx` is the command's table index.
pub fn for_each_cluster_key<'a>(idx: usize, argv: Argv<'a>, mut f: impl FnMut(&'a [u8])) {
    static BY_TABLE: OnceLock<Vec<Option<usize>>> = OnceLock::new();
    let by_table = BY_TABLE.get_or_init(|| {
        let r = registry();
        table()
            .iter()
            .map(|c| r.by_name.get(c.name).copied())
            .collect()
    });
    let Some(&Some(ei)) = by_table.get(idx) else {
        return;
    };
    let mut e = &registry().entries[ei];
    if !e.subs.is_empty() {
        if argv.len() < 2 {
            return;
        }
        match find_sub(e, argv.get(1)) {
            Some(sub) => e = sub,
            None => return,
        }
    }
    if e.doc.getkeys.is_some() || e.has_flag("movablekeys") {
        let args: Vec<&'a [u8]> = argv.iter().collect();
        for (pos, _) in keys_of(e, &args) {
            if let Some(&k) = args.get(pos) {
                f(k);
            }
        }
        return;
    }
    if e.first <= 0 || e.step <= 0 {
        return;
    }
    let argc = argv.len() as i32;
    let last = if e.last < 0 { argc + e.last } else { e.last };
    let mut j = e.first;
    while j <= last && j < argc {
        f(argv.get(j as usize));
        j += e.step;
    }
}

// --- the command --------------------------------------------------------------------------------

fn command(_ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    dispatch(argv, out);
}

fn dispatch(argv: Argv<'_>, out: &mut Reply) {
    if argv.len() == 1 {
        return out.raw(all_info(out.proto));
    }
    // The subcommands and their arity come from COMMAND's own docs.
    let Some(sub) = find_top(b"command").and_then(|c| find_sub(c, argv.get(1))) else {
        return super::unknown_subcommand(argv, out);
    };
    let argc = argv.len() as i64;
    let arity = i64::from(sub.arity);
    if (arity >= 0 && argc != arity) || argc < -arity {
        return arity_error(sub.name, out);
    }
    match sub.name {
        "command|count" => out.int(registry().entries.len() as i64),
        "command|info" => info(argv, out),
        "command|docs" => docs_cmd(argv, out),
        "command|list" => list(argv, out),
        "command|getkeys" => getkeys(argv, out, false),
        "command|getkeysandflags" => getkeys(argv, out, true),
        "command|help" => help(out),
        _ => out.error("ERR internal: unhandled COMMAND subcommand"),
    }
}

fn help(out: &mut Reply) {
    const HELP: &[&str] = &[
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about every command.",
        "COUNT",
        "    Return the number of commands.",
        "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
        "    Return the names of the commands, all or those the filter selects.",
        "INFO [<command-name> ...]",
        "    Return details about the given commands, or about all commands",
        "    when none is given.",
        "DOCS [<command-name> ...]",
        "    Return the documentation of the given commands, or of all commands",
        "    when none is given.",
        "GETKEYS <full-command>",
        "    Return the keys of a full command line.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys of a full command line, each with how it is accessed.",
        "HELP",
        "    Prints this help.",
    ];
    out.array(HELP.len());
    for l in HELP {
        out.simple(l);
    }
}

fn proto_slot(p: Proto) -> usize {
    match p {
        Proto::Resp2 => 0,
        Proto::Resp3 => 1,
    }
}

/// The reply to COMMAND (and COMMAND INFO with no names), encoded once per protocol.
fn all_info(proto: Proto) -> &'static [u8] {
    static CACHE: [OnceLock<Vec<u8>>; 2] = [OnceLock::new(), OnceLock::new()];
    CACHE[proto_slot(proto)].get_or_init(|| {
        let entries = &registry().entries;
        let mut r = Reply::new(proto);
        r.array(entries.len());
        for e in entries {
            write_info(e, &mut r);
        }
        r.buf
    })
}

/// The reply to COMMAND DOCS with no names, encoded once per protocol.
fn all_docs(proto: Proto) -> &'static [u8] {
    static CACHE: [OnceLock<Vec<u8>>; 2] = [OnceLock::new(), OnceLock::new()];
    CACHE[proto_slot(proto)].get_or_init(|| {
        let entries = &registry().entries;
        let mut r = Reply::new(proto);
        r.map(entries.len());
        for e in entries {
            r.bulk(e.name.as_bytes());
            write_docs(e, &mut r);
        }
        r.buf
    })
}

/// COMMAND INFO [name ...]: one entry per name, nil for an unknown one.
fn info(argv: Argv<'_>, out: &mut Reply) {
    if argv.len() == 2 {
        return out.raw(all_info(out.proto));
    }
    out.array(argv.len() - 2);
    for name in argv.tail(2) {
        match find_by_fullname(name) {
            Some(e) => write_info(e, out),
            None => out.null(),
        }
    }
}

/// COMMAND DOCS [name ...]: a map from name to docs; unknown names are left out.
fn docs_cmd(argv: Argv<'_>, out: &mut Reply) {
    if argv.len() == 2 {
        return out.raw(all_docs(out.proto));
    }
    let found: Vec<&Entry> = argv.tail(2).filter_map(find_by_fullname).collect();
    out.map(found.len());
    for e in found {
        out.bulk(e.name.as_bytes());
        write_docs(e, out);
    }
}

enum Filter<'a> {
    Module,
    AclCat(&'a [u8]),
    Pattern(&'a [u8]),
}

impl Filter<'_> {
    fn keeps(&self, e: &Entry) -> bool {
        match self {
            // No modules here: no command belongs to one.
            Filter::Module => false,
            Filter::AclCat(cat) => e.acl.iter().any(|c| opt_is(cat, c)),
            Filter::Pattern(p) => super::keys::string_match(p, e.name.as_bytes(), true),
        }
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: names of commands
/// and subcommands.
fn list(argv: Argv<'_>, out: &mut Reply) {
    let mut filter = None;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if !(opt_is(argv.get(i), "filterby") && more == 2) {
            return out.error(err::SYNTAX);
        }
        let (kind, arg) = (argv.get(i + 1), argv.get(i + 2));
        filter = Some(if opt_is(kind, "module") {
            Filter::Module
        } else if opt_is(kind, "aclcat") {
            Filter::AclCat(arg)
        } else if opt_is(kind, "pattern") {
            Filter::Pattern(arg)
        } else {
            return out.error(err::SYNTAX);
        });
        i += 3;
    }
    let keeps = |e: &Entry| filter.as_ref().is_none_or(|f| f.keeps(e));
    let mut names = Vec::new();
    for e in &registry().entries {
        if keeps(e) {
            names.push(e.name);
        }
        names.extend(e.subs.iter().filter(|s| keeps(s)).map(|s| s.name));
    }
    out.array(names.len());
    for n in names {
        out.bulk(n.as_bytes());
    }
}

// --- GETKEYS ------------------------------------------------------------------------------------

/// COMMAND GETKEYS / GETKEYSANDFLAGS <full command> (Redis's `getKeysSubcommandImpl`).
fn getkeys(argv: Argv<'_>, out: &mut Reply, with_flags: bool) {
    let args: Vec<&[u8]> = argv.tail(2).collect();
    let Some(e) = find_for_argv(&args) else {
        return out.error("ERR Invalid command specified");
    };
    if !e.has_keys() {
        return out.error("ERR The command has no key arguments");
    }
    let n = args.len() as i64;
    if (e.arity > 0 && i64::from(e.arity) != n) || n < -i64::from(e.arity) {
        return out.error("ERR Invalid number of arguments specified for command");
    }
    let keys = keys_of(e, &args);
    if keys.is_empty() {
        if e.has_flag("no_mandatory_keys") {
            return out.array(0);
        }
        return out.error("ERR Invalid arguments specified for command");
    }
    out.array(keys.len());
    for (pos, fl) in keys {
        let key = args.get(pos).copied().unwrap_or_default();
        if with_flags {
            out.array(2);
            out.bulk(key);
            write_flag_set(&kf::NAMES, fl, out);
        } else {
            out.bulk(key);
        }
    }
}

/// The key positions (in `args`, the command name at 0) and their key-spec flags: Redis's
/// `getKeysFromCommandWithSpecs`. Empty when the arguments do not name keys properly.
fn keys_of(e: &Entry, args: &[&[u8]]) -> Vec<(usize, u16)> {
    // Redis's SORT specs include 'unknown' ones, so it always ends up in its callback.
    if let Some(GetKeys::Sort) = e.doc.getkeys {
        return sort_keys(args);
    }
    let specs = e.doc.key_specs;
    let has_keyspec = specs.iter().any(|k| k.flags & kf::NOT_KEY == 0);
    let has_varflags = specs.iter().any(|k| k.flags & kf::VARIABLE_FLAGS != 0);
    if has_keyspec && !has_varflags {
        if let Some(keys) = keys_from_specs(specs, args, e.arity) {
            return keys;
        }
    }
    match e.doc.getkeys {
        Some(GetKeys::Set) => set_keys(args),
        Some(GetKeys::Sort) => sort_keys(args),
        Some(GetKeys::Numkeys {
            store,
            count,
            first,
            step,
        }) => numkeys_keys(args, store.into(), count.into(), first.into(), step.into()),
        None => Vec::new(),
    }
}

/// Redis's `getKeysUsingKeySpecs`; `None` for an invalid or incomplete spec.
fn keys_from_specs(specs: &[KeySpec], args: &[&[u8]], arity: i32) -> Option<Vec<(usize, u16)>> {
    let argc = args.len() as i64;
    let mut keys = Vec::new();
    for spec in specs {
        if spec.flags & kf::NOT_KEY != 0 {
            continue;
        }
        let mut first = match spec.begin {
            Begin::Index(pos) => i64::from(pos),
            Begin::Keyword { keyword, startfrom } => {
                match find_keyword(args, keyword, i64::from(startfrom)) {
                    Some(i) => i + 1,
                    None => continue,
                }
            }
        };
        let (last, step) = match spec.find {
            Find::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let (lastkey, limit) = (i64::from(lastkey), i64::from(limit));
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (last, i64::from(keystep))
            }
            Find::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let idx = usize::try_from(first + i64::from(keynumidx)).ok()?;
                let numkeys = crate::resp::string2ll(args.get(idx)?)?;
                if numkeys < 0 {
                    return None;
                }
                first += i64::from(firstkey);
                // C's `(int)numkeys`.
                (first + i64::from(numkeys as i32) - 1, i64::from(keystep))
            }
        };
        if last >= argc || last < first || first >= argc || step <= 0 {
            return None;
        }
        let mut i = first;
        while i <= last {
            if i < argc {
                keys.push((i as usize, spec.flags));
            } else if arity >= 0 {
                return None;
            }
            i += step;
        }
        if spec.flags & kf::INCOMPLETE != 0 {
            return None;
        }
    }
    Some(keys)
}

/// The position of `keyword` (case-insensitive), searched from `startfrom` to the end, or
/// backwards to 1 when `startfrom` is negative.
fn find_keyword(args: &[&[u8]], keyword: &str, startfrom: i64) -> Option<i64> {
    let argc = args.len() as i64;
    let matches = |i: i64| opt_is(args[i as usize], keyword);
    if startfrom > 0 {
        (startfrom..argc).find(|&i| matches(i))
    } else {
        let start = argc + startfrom;
        (1..=start.min(argc - 1)).rev().find(|&i| matches(i))
    }
}

/// Redis's `setGetKeys`: the key is read too when a GET option is present.
fn set_keys(args: &[&[u8]]) -> Vec<(usize, u16)> {
    let get = args.iter().skip(3).any(|a| opt_is(a, "get"));
    let fl = if get {
        kf::RW | kf::ACCESS | kf::UPDATE
    } else {
        kf::OW | kf::UPDATE
    };
    vec![(1, fl)]
}

/// Redis's `sortGetKeys`: the sorted key, and the last STORE's destination.
fn sort_keys(args: &[&[u8]]) -> Vec<(usize, u16)> {
    let mut keys = vec![(1, kf::RO | kf::ACCESS)];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if opt_is(a, "limit") {
            i += 2;
        } else if opt_is(a, "get") || opt_is(a, "by") {
            i += 1;
        } else if opt_is(a, "store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store.map(|s| (s, kf::OW | kf::UPDATE)));
    keys
}

/// Redis's `genericGetKeys`: `atoi` of the count, the keys, then the destination; no flags.
fn numkeys_keys(
    args: &[&[u8]],
    store: usize,
    count: usize,
    first: usize,
    step: usize,
) -> Vec<(usize, u16)> {
    let Some(n) = args.get(count).map(|a| c_atoi(a)) else {
        return Vec::new();
    };
    let room = (args.len() as i64 - first as i64) / step.max(1) as i64;
    if n < 1 || i64::from(n) > room {
        return Vec::new();
    }
    let mut keys: Vec<(usize, u16)> = (0..n as usize).map(|i| (first + i * step, 0)).collect();
    if store != 0 {
        keys.push((store, 0));
    }
    keys
}

/// C's `atoi` (glibc: `(int)strtol(s, NULL, 10)`): leading spaces, a sign, digits up to the
/// first other byte; out-of-range values clamp to the `long` range, then truncate to `int`.
fn c_atoi(s: &[u8]) -> i32 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    let mut overflow = false;
    for &b in s[i..].iter().take_while(|b| b.is_ascii_digit()) {
        let d = i64::from(b - b'0');
        match v.checked_mul(10).and_then(|x| {
            if neg {
                x.checked_sub(d)
            } else {
                x.checked_add(d)
            }
        }) {
            Some(x) => v = x,
            None => {
                overflow = true;
                break;
            }
        }
    }
    if overflow {
        v = if neg { i64::MIN } else { i64::MAX };
    }
    v as i32
}

// --- encoding -----------------------------------------------------------------------------------

/// A set of flag names (simple strings) for the bits in `bits`.
fn write_flag_set<T: Copy + Into<u32>>(names: &[(T, &str)], bits: T, out: &mut Reply) {
    let bits: u32 = bits.into();
    let on: Vec<&str> = names
        .iter()
        .filter(|(b, _)| (*b).into() & bits != 0)
        .map(|&(_, n)| n)
        .collect();
    out.set(on.len());
    for n in on {
        out.simple(n);
    }
}

/// One COMMAND INFO entry (Redis's `addReplyCommandInfo`).
fn write_info(e: &Entry, out: &mut Reply) {
    out.array(10);
    out.bulk(e.name.as_bytes());
    out.int(i64::from(e.arity));
    out.set(e.flags.len());
    for f in &e.flags {
        out.simple(f);
    }
    out.int(i64::from(e.first));
    out.int(i64::from(e.last));
    out.int(i64::from(e.step));
    out.set(e.acl.len());
    for c in &e.acl {
        out.simple(&format!("@{c}"));
    }
    out.set(e.doc.tips.len());
    for t in e.doc.tips {
        out.bulk(t.as_bytes());
    }
    write_key_specs(e.doc.key_specs, out);
    if e.subs.is_empty() {
        out.set(0);
    } else {
        out.array(e.subs.len());
        for s in &e.subs {
            write_info(s, out);
        }
    }
}

/// Redis's `addReplyCommandKeySpecs`.
fn write_key_specs(specs: &[KeySpec], out: &mut Reply) {
    out.set(specs.len());
    for ks in specs {
        out.map(3 + usize::from(ks.notes.is_some()));
        if let Some(n) = ks.notes {
            out.bulk(b"notes");
            out.bulk(n.as_bytes());
        }
        out.bulk(b"flags");
        write_flag_set(&kf::NAMES, ks.flags, out);
        out.bulk(b"begin_search");
        out.map(2);
        out.bulk(b"type");
        match ks.begin {
            Begin::Index(pos) => {
                out.bulk(b"index");
                out.bulk(b"spec");
                out.map(1);
                out.bulk(b"index");
                out.int(i64::from(pos));
            }
            Begin::Keyword { keyword, startfrom } => {
                out.bulk(b"keyword");
                out.bulk(b"spec");
                out.map(2);
                out.bulk(b"keyword");
                out.bulk(keyword.as_bytes());
                out.bulk(b"startfrom");
                out.int(i64::from(startfrom));
            }
        }
        out.bulk(b"find_keys");
        out.map(2);
        out.bulk(b"type");
        let fields = match ks.find {
            Find::Range {
                lastkey,
                keystep,
                limit,
            } => {
                out.bulk(b"range");
                [("lastkey", lastkey), ("keystep", keystep), ("limit", limit)]
            }
            Find::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                out.bulk(b"keynum");
                [
                    ("keynumidx", keynumidx),
                    ("firstkey", firstkey),
                    ("keystep", keystep),
                ]
            }
        };
        out.bulk(b"spec");
        out.map(fields.len());
        for (k, v) in fields {
            out.bulk(k.as_bytes());
            out.int(i64::from(v));
        }
    }
}

/// One COMMAND DOCS value (Redis's `addReplyCommandDocs`; no history).
fn write_docs(e: &Entry, out: &mut Reply) {
    let d = &e.doc;
    let doc_flags = [
        (d.deprecated_since.is_some(), "deprecated"),
        (d.syscmd, "syscmd"),
    ];
    let has_doc_flags = doc_flags.iter().any(|(on, _)| *on);
    let n = 1
        + usize::from(!d.summary.is_empty())
        + usize::from(!d.since.is_empty())
        + usize::from(!d.complexity.is_empty())
        + usize::from(has_doc_flags)
        + usize::from(d.deprecated_since.is_some())
        + usize::from(d.replaced_by.is_some())
        + usize::from(!d.args.is_empty())
        + usize::from(!e.subs.is_empty());
    out.map(n);
    if !d.summary.is_empty() {
        out.bulk(b"summary");
        out.bulk(d.summary.as_bytes());
    }
    if !d.since.is_empty() {
        out.bulk(b"since");
        out.bulk(d.since.as_bytes());
    }
    out.bulk(b"group");
    out.bulk(d.group.as_bytes());
    if !d.complexity.is_empty() {
        out.bulk(b"complexity");
        out.bulk(d.complexity.as_bytes());
    }
    if has_doc_flags {
        out.bulk(b"doc_flags");
        let on: Vec<&str> = doc_flags
            .iter()
            .filter(|(on, _)| *on)
            .map(|&(_, n)| n)
            .collect();
        out.set(on.len());
        for f in on {
            out.simple(f);
        }
    }
    if let Some(v) = d.deprecated_since {
        out.bulk(b"deprecated_since");
        out.bulk(v.as_bytes());
    }
    if let Some(v) = d.replaced_by {
        out.bulk(b"replaced_by");
        out.bulk(v.as_bytes());
    }
    if !d.args.is_empty() {
        out.bulk(b"arguments");
        write_args(d.args, out);
    }
    if !e.subs.is_empty() {
        out.bulk(b"subcommands");
        out.map(e.subs.len());
        for s in &e.subs {
            out.bulk(s.name.as_bytes());
            write_docs(s, out);
        }
    }
}

/// Redis's `addReplyCommandArgList`.
fn write_args(args: &[Arg], out: &mut Reply) {
    out.array(args.len());
    for a in args {
        let nested = matches!(a.ty, ArgType::OneOf | ArgType::Block);
        let n = 2
            + usize::from(a.key_spec.is_some())
            + usize::from(a.token.is_some())
            + usize::from(a.since.is_some())
            + usize::from(a.deprecated_since.is_some())
            + usize::from(a.flags != 0)
            + usize::from(nested);
        out.map(n);
        out.bulk(b"name");
        out.bulk(a.name.as_bytes());
        out.bulk(b"type");
        out.bulk(a.ty.name().as_bytes());
        if let Some(i) = a.key_spec {
            out.bulk(b"key_spec_index");
            out.int(i64::from(i));
        }
        if let Some(t) = a.token {
            out.bulk(b"token");
            out.bulk(t.as_bytes());
        }
        if let Some(v) = a.since {
            out.bulk(b"since");
            out.bulk(v.as_bytes());
        }
        if let Some(v) = a.deprecated_since {
            out.bulk(b"deprecated_since");
            out.bulk(v.as_bytes());
        }
        if a.flags != 0 {
            out.bulk(b"flags");
            write_flag_set(&af::NAMES, a.flags, out);
        }
        if nested {
            out.bulk(b"arguments");
            write_args(a.args, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redis's command groups (`COMMAND_GROUP_STR`).
    const GROUPS: [&str; 18] = [
        "generic",
        "string",
        "list",
        "set",
        "sorted-set",
        "hash",
        "pubsub",
        "transactions",
        "connection",
        "server",
        "scripting",
        "hyperloglog",
        "cluster",
        "sentinel",
        "geo",
        "stream",
        "bitmap",
        "module",
    ];

    fn all_docs_entries() -> Vec<&'static Doc> {
        docs::DOCS
            .iter()
            .flat_map(|d| std::iter::once(d).chain(d.subs.iter()))
            .collect()
    }

    #[test]
    fn every_command_has_docs() {
        let missing: Vec<&str> = table()
            .iter()
            .filter(|c| c.flags & flags::INTERNAL == 0)
            .filter(|c| !docs::DOCS.iter().any(|d| d.name == c.name))
            .map(|c| c.name)
            .collect();
        assert!(
            missing.is_empty(),
            "commands without an entry in cmd/docs.rs: {missing:?}"
        );
        for d in docs::DOCS {
            assert!(
                table()
                    .iter()
                    .any(|c| c.name == d.name && c.flags & flags::INTERNAL == 0),
                "docs for {} but no such command in the table",
                d.name
            );
        }
    }

    #[test]
    fn docs_are_well_formed() {
        fn check_args(name: &str, args: &[Arg], nspecs: usize) {
            for a in args {
                let nested = matches!(a.ty, ArgType::OneOf | ArgType::Block);
                assert_eq!(nested, !a.args.is_empty(), "{name}: argument {}", a.name);
                assert_eq!(
                    a.ty == ArgType::Key,
                    a.key_spec.is_some(),
                    "{name}: argument {}",
                    a.name
                );
                if let Some(i) = a.key_spec {
                    assert!(usize::from(i) < nspecs, "{name}: argument {}", a.name);
                }
                if a.ty == ArgType::PureToken {
                    assert!(a.token.is_some(), "{name}: argument {}", a.name);
                }
                check_args(name, a.args, nspecs);
            }
        }
        let mut seen = std::collections::HashSet::new();
        for d in all_docs_entries() {
            assert!(seen.insert(d.name), "{} documented twice", d.name);
            assert!(GROUPS.contains(&d.group), "{}: group {}", d.name, d.group);
            assert!(
                !d.summary.is_empty() && !d.complexity.is_empty(),
                "{}",
                d.name
            );
            assert!(
                d.since.split('.').count() == 3,
                "{}: since {}",
                d.name,
                d.since
            );
            for f in d.flags {
                assert!(FLAG_ORDER.contains(f), "{}: flag {f}", d.name);
                assert_ne!(*f, "movablekeys", "{}: derived from key specs", d.name);
            }
            for c in d.acl {
                assert!(ACL_ORDER.contains(c), "{}: ACL category {c}", d.name);
            }
            assert_eq!(d.deprecated_since.is_some(), d.replaced_by.is_some());
            check_args(d.name, d.args, d.key_specs.len());
            let is_sub = d.name.contains('|');
            assert_eq!(is_sub, d.arity != 0, "{}: arity is for subcommands", d.name);
            for s in d.subs {
                let (container, _) = s.name.split_once('|').expect("container|sub");
                assert_eq!(container, d.name);
                assert!(s.subs.is_empty(), "one level of subcommands");
            }
        }
    }

    #[test]
    fn key_specs_agree_with_the_table() {
        for c in table().iter().filter(|c| c.flags & flags::INTERNAL == 0) {
            let Some(d) = docs::DOCS.iter().find(|d| d.name == c.name) else {
                continue;
            };
            if !d.subs.is_empty() {
                continue;
            }
            let (first, last, step, _) = legacy_range(d.key_specs);
            assert_eq!(
                (first, last, step),
                (c.first_key, c.last_key, c.step),
                "{}: key positions in docs vs table",
                c.name
            );
        }
    }

    /// The subcommands CLIENT serves are the ones COMMAND reports.
    #[test]
    fn client_subcommands_documented() {
        let client = find_top(b"client").expect("client");
        for s in super::super::client::SUBCOMMANDS {
            assert!(
                find_sub(client, s.as_bytes()).is_some(),
                "client|{s} has no docs"
            );
        }
        assert_eq!(client.subs.len(), super::super::client::SUBCOMMANDS.len());
    }

    #[test]
    fn internal_commands_hidden() {
        let r = registry();
        assert!(r.entries.iter().all(|e| !e.name.starts_with("__")));
        for c in table().iter().filter(|c| c.flags & flags::INTERNAL != 0) {
            assert!(find_by_fullname(c.name.as_bytes()).is_none(), "{}", c.name);
        }
    }

    #[test]
    fn movable_and_legacy_ranges() {
        assert!(find_top(b"zunionstore").unwrap().has_flag("movablekeys"));
        assert!(find_top(b"lmpop").unwrap().has_flag("movablekeys"));
        assert!(!find_top(b"set").unwrap().has_flag("movablekeys"));
        let rename = find_top(b"rename").unwrap();
        assert_eq!((rename.first, rename.last, rename.step), (1, 2, 1));
        let enc = find_by_fullname(b"OBJECT|Encoding").unwrap();
        assert_eq!((enc.first, enc.last, enc.step), (2, 2, 1));
        assert!(find_by_fullname(b"object|nope").is_none());
        assert!(find_by_fullname(b"get|x").is_none());
        assert!(find_by_fullname(b"config|get|x").is_none());
        assert!(find_by_fullname(b"").is_none());
    }

    fn keys(args: &[&str]) -> Option<Vec<String>> {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let e = find_for_argv(&argv)?;
        Some(
            keys_of(e, &argv)
                .into_iter()
                .map(|(p, _)| args[p].to_string())
                .collect(),
        )
    }

    #[test]
    fn getkeys_positions() {
        let k = |a: &[&str]| keys(a).unwrap();
        assert_eq!(k(&["set", "k", "v"]), ["k"]);
        assert_eq!(k(&["mset", "a", "1", "b", "2"]), ["a", "b"]);
        assert_eq!(k(&["blpop", "a", "b", "0"]), ["a", "b"]);
        assert_eq!(k(&["zunionstore", "d", "2", "a", "b"]), ["d", "a", "b"]);
        // An unparsable count falls back to `atoi`, as Redis does.
        assert_eq!(k(&["zunionstore", "d", "2x", "a", "b"]), ["a", "b", "d"]);
        assert!(k(&["zunionstore", "d", "3", "a", "b"]).is_empty());
        assert!(k(&["zunionstore", "d", "0", "a"]).is_empty());
        assert_eq!(k(&["lmpop", "2", "a", "b", "left"]), ["a", "b"]);
        assert_eq!(k(&["blmpop", "0", "1", "a", "left"]), ["a"]);
        assert_eq!(k(&["sintercard", "2", "a", "b", "limit", "1"]), ["a", "b"]);
        assert_eq!(k(&["object", "encoding", "k"]), ["k"]);
        assert!(keys(&["object", "nope", "k"]).is_none());
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(c_atoi(b" 12x"), 12);
        assert_eq!(c_atoi(b"-3"), -3);
        assert_eq!(c_atoi(b"+4"), 4);
        assert_eq!(c_atoi(b"x"), 0);
        assert_eq!(c_atoi(b"99999999999999999999999"), -1);
        assert_eq!(c_atoi(b""), 0);
    }

    fn run(proto: Proto, args: &[&str]) -> Vec<u8> {
        let b = crate::resp::CmdBatch::from_args(args.iter().map(|a| a.as_bytes()));
        let argv = b.get(0);
        let mut out = Reply::new(proto);
        dispatch(argv, &mut out);
        out.buf
    }

    #[test]
    fn replies_parse_as_one_frame() {
        for proto in [Proto::Resp2, Proto::Resp3] {
            for args in [
                &["command"][..],
                &["command", "docs"],
                &["command", "info", "get", "nope", "config|get"],
                &["command", "docs", "set", "client"],
                &["command", "list", "filterby", "aclcat", "hash"],
                &["command", "getkeysandflags", "set", "k", "v", "get"],
            ] {
                let buf = run(proto, args);
                let (_, used) = crate::resp::decode_frame(&buf)
                    .unwrap_or_else(|e| panic!("{args:?}: {e:?}"))
                    .unwrap_or_else(|| panic!("{args:?}: incomplete"));
                assert_eq!(used, buf.len(), "{args:?}: trailing bytes");
            }
        }
    }

    #[test]
    fn getkeys_errors() {
        let text = |a: &[&str]| String::from_utf8(run(Proto::Resp2, a)).unwrap();
        assert_eq!(
            text(&["command", "getkeys", "nope", "x"]),
            "-ERR Invalid command specified\r\n"
        );
        assert_eq!(
            text(&["command", "getkeys", "ping", "x"]),
            "-ERR The command has no key arguments\r\n"
        );
        assert_eq!(
            text(&["command", "getkeys", "get", "a", "b"]),
            "-ERR Invalid number of arguments specified for command\r\n"
        );
        assert_eq!(
            text(&["command", "getkeys", "get"]),
            "-ERR wrong number of arguments for 'command|getkeys' command\r\n"
        );
        assert_eq!(
            text(&["command", "nope"]),
            "-ERR unknown subcommand 'nope'. Try COMMAND HELP.\r\n"
        );
        assert_eq!(
            text(&["command", "getkeys", "zunionstore", "d", "0", "a"]),
            "-ERR Invalid arguments specified for command\r\n"
        );
        assert_eq!(
            text(&["command", "getkeysandflags", "set", "k", "v"]),
            "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+OW\r\n+update\r\n"
        );
    }
}
