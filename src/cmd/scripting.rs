//! FUNCTION and SCRIPT for a server without a scripting engine.
//!
//! There is no Lua here, so there are never libraries or cached scripts. The subcommands that
//! only observe or clear that (empty) state answer truthfully, as Redis would with nothing loaded;
//! the ones that would need an engine (FUNCTION LOAD/DUMP/RESTORE, SCRIPT LOAD, EVAL) are
//! unknown, so a client learns at once that scripting is not provided.

use super::string::opt_is;
use super::{arity_error, flags, unknown_subcommand, CommandSpec, ConnCtx, Handler, Route};
use crate::resp::{Argv, Reply};

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    let local = |name, arity, flags, f| CommandSpec {
        name,
        arity,
        flags,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Conn(f),
    };
    t.push(local("function", -2, NOSCRIPT, function));
    t.push(local("script", -2, NOSCRIPT, script));
}

fn help(out: &mut Reply, lines: &[&str]) {
    out.array(lines.len());
    for l in lines {
        out.simple(l);
    }
}

/// The SYNC|ASYNC argument of FUNCTION FLUSH / SCRIPT FLUSH.
fn flush_mode_ok(argv: Argv<'_>) -> bool {
    argv.len() == 2
        || (argv.len() == 3 && (opt_is(argv.get(2), "sync") || opt_is(argv.get(2), "async")))
}

fn function(_ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let sub = argv.get(1);
    let argc = argv.len();
    if opt_is(sub, "flush") {
        if argc > 3 {
            out.error(
                "ERR unknown subcommand or wrong number of arguments for 'flush'. \
                 Try FUNCTION HELP.",
            );
        } else if !flush_mode_ok(argv) {
            out.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        } else {
            out.ok();
        }
    } else if opt_is(sub, "list") {
        // Validate as Redis does; the answer is always the empty list of libraries.
        let (mut with_code, mut name) = (false, false);
        let mut i = 2;
        while i < argc {
            let a = argv.get(i);
            if !with_code && opt_is(a, "withcode") {
                with_code = true;
            } else if !name && opt_is(a, "libraryname") {
                if i + 1 >= argc {
                    return out.error("ERR library name argument was not given");
                }
                name = true;
                i += 1;
            } else {
                return out.error(&format!(
                    "ERR Unknown argument {}",
                    String::from_utf8_lossy(a)
                ));
            }
            i += 1;
        }
        out.array(0);
    } else if opt_is(sub, "stats") {
        if argc != 2 {
            return arity_error("function|stats", out);
        }
        // No script is running and no engine is loaded.
        out.map(2);
        out.bulk(b"running_script");
        out.null();
        out.bulk(b"engines");
        out.map(0);
    } else if opt_is(sub, "kill") {
        if argc != 2 {
            return arity_error("function|kill", out);
        }
        out.error("NOTBUSY No scripts in execution right now.");
    } else if opt_is(sub, "delete") {
        if argc != 3 {
            return arity_error("function|delete", out);
        }
        out.error("ERR Library not found");
    } else if opt_is(sub, "help") && argc == 2 {
        help(
            out,
            &[
                "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "LIST [WITHCODE] [LIBRARYNAME <pattern>]",
                "    List the libraries (this server has no scripting engine: always none).",
                "STATS",
                "    Information about the running script and the engines (none).",
                "DELETE <LIBRARY NAME>",
                "    Delete a library (there are none).",
                "KILL",
                "    Kill the running function (there never is one).",
                "FLUSH [ASYNC|SYNC]",
                "    Delete all libraries (there are none).",
                "HELP",
                "    Print this help.",
            ],
        );
    } else {
        unknown_subcommand(argv, out);
    }
}

fn script(_ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let sub = argv.get(1);
    let argc = argv.len();
    if opt_is(sub, "flush") {
        if flush_mode_ok(argv) {
            out.ok();
        } else {
            out.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        }
    } else if opt_is(sub, "exists") {
        if argc < 3 {
            return arity_error("script|exists", out);
        }
        // No script is ever cached.
        out.array(argc - 2);
        for _ in 2..argc {
            out.int(0);
        }
    } else if opt_is(sub, "kill") && argc == 2 {
        out.error("NOTBUSY No scripts in execution right now.");
    } else if opt_is(sub, "help") && argc == 2 {
        help(
            out,
            &[
                "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "EXISTS <sha1> [<sha1> ...]",
                "    Whether scripts are cached (this server has no scripting: never).",
                "FLUSH [ASYNC|SYNC]",
                "    Flush the (empty) scripts cache.",
                "KILL",
                "    Kill the running script (there never is one).",
                "HELP",
                "    Print this help.",
            ],
        );
    } else {
        unknown_subcommand(argv, out);
    }
}
