//! Proof with the real `redis-cli` (Debian's redis-tools 7.0): mass insert with `--pipe`,
//! `--scan`, `--bigkeys`, `--latency`, one-shot output formatting, and an interactive session
//! driven through tmux (argument hints, reply formatting, prompts). Every expectation is what
//! redis-cli prints against redis-server 7.0 (`REDIS_LITE_TEST_REDIS=1` checks that).
//!
//! Each redis-cli run is bounded in time and killed if it overruns; the tmux sessions run on a
//! private tmux server (`-S` socket in a temp dir) that is killed at the end, panic or not.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::fs::File;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The longest one redis-cli run may take before it is killed.
const CLI_LIMIT: Duration = Duration::from_secs(60);
/// The longest the tmux test waits for any one thing to appear on the screen.
const SCREEN_WAIT: Duration = Duration::from_secs(10);

/// Runs `redis-cli -h 127.0.0.1 -p PORT <args>` with `stdin` (a file's content) as input,
/// bounded by [`CLI_LIMIT`]; returns its output (stdout and stderr apart).
fn cli(server: &Server, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let input = match stdin {
        Some(bytes) => {
            let path = dir.path().join("stdin");
            std::fs::write(&path, bytes).expect("write stdin file");
            Stdio::from(File::open(&path).expect("open stdin file"))
        }
        None => Stdio::null(),
    };
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let port = server.port().to_string();
    let mut cmd = Command::new("redis-cli");
    cmd.args(["-h", "127.0.0.1", "-p", &port])
        .args(args)
        .env("REDISCLI_HISTFILE", "/dev/null")
        .env("REDISCLI_RCFILE", dir.path().join("no-rcfile"))
        .stdin(input)
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap());
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!("cannot run redis-cli: {e} (install redis-tools: `apt-get install redis-tools`)")
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for redis-cli") {
            break s;
        }
        if started.elapsed() > CLI_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "redis-cli {args:?} did not finish within {CLI_LIMIT:?}; stdout so far:\n{}",
                std::fs::read_to_string(&out_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "status {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// RESP for `SET key:<i> value:<i>`, i in `range`.
fn mass_insert_protocol(range: std::ops::Range<usize>) -> Vec<u8> {
    let mut out = Vec::with_capacity(range.len() * 48);
    for i in range {
        encode_cmd_into(
            &["SET".to_string(), format!("key:{i}"), format!("value:{i}")],
            &mut out,
        );
    }
    out
}

#[test]
fn pipe_mass_insert_then_scan() {
    let server = Server::new();
    let input = mass_insert_protocol(0..100_000);
    let o = cli(&server, &["--pipe", "--pipe-timeout", "30"], Some(&input));
    assert!(o.status.success(), "{}", show(&o));
    let out = text(&o.stdout);
    assert!(
        out.contains("All data transferred. Waiting for the last reply...")
            && out.contains("Last reply received from server.")
            && out.contains("errors: 0, replies: 100000"),
        "{}",
        show(&o)
    );
    let mut c = server.conn();
    assert_eq!(c.cmd(&["DBSIZE"]), int(100_000));
    for i in [0, 1, 4242, 77_777, 99_999] {
        assert_eq!(
            c.cmd(&["GET", &format!("key:{i}")]),
            bulk(format!("value:{i}"))
        );
    }

    // --scan lists every key exactly once.
    let o = cli(&server, &["--scan"], None);
    assert!(o.status.success(), "{}", show(&o));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 100_000, "--scan printed {} lines", lines.len());
    let unique: BTreeSet<&str> = lines.iter().copied().collect();
    assert_eq!(unique.len(), 100_000, "--scan printed some key twice");
    let expected: BTreeSet<String> = (0..100_000).map(|i| format!("key:{i}")).collect();
    assert!(
        unique.iter().all(|k| expected.contains(*k)),
        "--scan printed a key that does not exist"
    );

    // --scan --pattern lists exactly the matching keys.
    let o = cli(&server, &["--scan", "--pattern", "key:1234*"], None);
    assert!(o.status.success(), "{}", show(&o));
    let got: BTreeSet<String> = text(&o.stdout).lines().map(str::to_string).collect();
    let mut want: BTreeSet<String> = (0..10).map(|d| format!("key:1234{d}")).collect();
    want.insert("key:1234".into());
    assert_eq!(got, want, "{}", show(&o));
    let o = cli(&server, &["--scan", "--pattern", "nothing:*"], None);
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(text(&o.stdout), "");
}

#[test]
fn pipe_counts_error_replies() {
    let server = Server::new();
    let mut input = Vec::new();
    encode_cmd_into(&["SET", "s", "text"], &mut input);
    encode_cmd_into(&["INCR", "s"], &mut input);
    encode_cmd_into(&["RPUSH", "l", "a", "b"], &mut input);
    encode_cmd_into(&["GET", "l"], &mut input);
    encode_cmd_into(&["SET", "after", "1"], &mut input);
    let o = cli(&server, &["--pipe", "--pipe-timeout", "30"], Some(&input));
    // Like redis-cli against Redis: every reply read, the errors counted, exit status 1.
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        text(&o.stdout).contains("errors: 2, replies: 5"),
        "{}",
        show(&o)
    );
    let err = text(&o.stderr);
    assert!(
        err.contains("ERR value is not an integer or out of range")
            && err.contains("WRONGTYPE Operation against a key holding the wrong kind of value"),
        "{}",
        show(&o)
    );
    assert_eq!(server.conn().cmd(&["GET", "after"]), bulk("1"));
}

#[test]
fn bigkeys_reports_the_biggest_key_of_each_type() {
    let server = Server::new();
    let mut c = server.conn();
    let many = |prefix: &str, n: usize| -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>()
    };
    assert_eq!(c.cmd(&["SET", "str:small", "hello"]), ok());
    assert_eq!(c.cmd(&["SET", "str:big", &"x".repeat(1000)]), ok());
    let mut cmd = vec!["RPUSH".to_string(), "list:big".into()];
    cmd.extend(many("e", 100));
    assert_eq!(c.cmd(&cmd), int(100));
    assert_eq!(c.cmd(&["RPUSH", "list:small", "a", "b", "c"]), int(3));
    let mut cmd = vec!["HSET".to_string(), "hash:big".into()];
    for f in many("f", 50) {
        cmd.push(f.clone());
        cmd.push(f);
    }
    assert_eq!(c.cmd(&cmd), int(50));
    assert_eq!(c.cmd(&["HSET", "hash:small", "a", "1"]), int(1));
    let mut cmd = vec!["SADD".to_string(), "set:big".into()];
    cmd.extend(many("m", 40));
    assert_eq!(c.cmd(&cmd), int(40));
    assert_eq!(c.cmd(&["SADD", "set:small", "a", "b"]), int(2));
    let mut cmd = vec!["ZADD".to_string(), "zset:big".into()];
    for (i, m) in many("z", 30).into_iter().enumerate() {
        cmd.push(i.to_string());
        cmd.push(m);
    }
    assert_eq!(c.cmd(&cmd), int(30));
    assert_eq!(c.cmd(&["ZADD", "zset:small", "1", "a"]), int(1));

    let o = cli(&server, &["--bigkeys"], None);
    assert!(o.status.success(), "{}", show(&o));
    let out = text(&o.stdout);
    for line in [
        "Sampled 10 keys in the keyspace!",
        "Total key length in bytes is 86 (avg len 8.60)",
        "Biggest   list found '\"list:big\"' has 100 items",
        "Biggest   hash found '\"hash:big\"' has 50 fields",
        "Biggest string found '\"str:big\"' has 1000 bytes",
        "Biggest    set found '\"set:big\"' has 40 members",
        "Biggest   zset found '\"zset:big\"' has 30 members",
        "2 lists with 103 items (20.00% of keys, avg size 51.50)",
        "2 hashs with 51 fields (20.00% of keys, avg size 25.50)",
        "2 strings with 1005 bytes (20.00% of keys, avg size 502.50)",
        "0 streams with 0 entries (00.00% of keys, avg size 0.00)",
        "2 sets with 42 members (20.00% of keys, avg size 21.00)",
        "2 zsets with 31 members (20.00% of keys, avg size 15.50)",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "--bigkeys output lacks {line:?}:\n{}",
            show(&o)
        );
    }
}

#[test]
fn latency_samples_then_exits() {
    let server = Server::new();
    // With stdout not a terminal, --latency samples for one interval (-i) and prints one line:
    // "min max avg samples".
    let o = cli(&server, &["--latency", "-i", "0.3"], None);
    assert!(o.status.success(), "{}", show(&o));
    let out = text(&o.stdout);
    let fields: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(fields.len(), 4, "{}", show(&o));
    let min: f64 = fields[0].parse().expect("min");
    let max: f64 = fields[1].parse().expect("max");
    let avg: f64 = fields[2].parse().expect("avg");
    let samples: u64 = fields[3].parse().expect("samples");
    assert!(samples > 0, "{}", show(&o));
    assert!(min <= avg && avg <= max, "{}", show(&o));
}

#[test]
fn one_shot_commands_format_like_redis() {
    let server = Server::new();
    let run = |args: &[&str]| -> String {
        let o = cli(&server, args, None);
        assert!(o.status.success(), "{}", show(&o));
        text(&o.stdout)
    };
    assert_eq!(run(&["SET", "k", "v"]), "OK\n");
    assert_eq!(run(&["--no-raw", "GET", "k"]), "\"v\"\n");
    assert_eq!(run(&["GET", "k"]), "v\n");
    assert_eq!(run(&["--no-raw", "GET", "nope"]), "(nil)\n");
    assert_eq!(run(&["RPUSH", "l", "a", "b c"]), "2\n");
    assert_eq!(
        run(&["--no-raw", "LRANGE", "l", "0", "-1"]),
        "1) \"a\"\n2) \"b c\"\n"
    );
    assert_eq!(run(&["LRANGE", "l", "0", "-1"]), "a\nb c\n");
    assert_eq!(run(&["--no-raw", "HGETALL", "nope"]), "(empty array)\n");
    assert_eq!(run(&["--no-raw", "EXISTS", "k"]), "(integer) 1\n");
    assert_eq!(run(&["-r", "3", "INCR", "n"]), "1\n2\n3\n");
    assert_eq!(
        run(&["--no-raw", "INCR", "l"]),
        "(error) WRONGTYPE Operation against a key holding the wrong kind of value\n"
    );
    // Commands read from stdin, one per line.
    let o = cli(
        &server,
        &["--no-raw"],
        Some(b"ZADD z 1.5 m\nZRANGE z 0 -1 WITHSCORES\nSET q \"two words\"\nGET q\n"),
    );
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(
        text(&o.stdout),
        "(integer) 1\n1) \"m\"\n2) \"1.5\"\nOK\n\"two words\"\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Interactive redis-cli under tmux
// ---------------------------------------------------------------------------------------------

/// A tmux server of our own (`tmux -S <socket in a temp dir>`) running one session; the
/// session and the server are killed on drop, and the socket goes with the directory.
struct Tmux {
    socket: std::path::PathBuf,
    session: String,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts `redis-cli -p PORT <extra>` in a detached 220x100 session.
    fn start(server: &Server, name: &str, extra: &str) -> Tmux {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let socket = dir.path().join("tmux.sock");
        let session = format!("{name}-{}", server.port());
        let command = format!(
            "REDISCLI_HISTFILE=/dev/null REDISCLI_RCFILE='{}' redis-cli -h 127.0.0.1 -p {} {extra}",
            dir.path().join("no-rcfile").display(),
            server.port()
        );
        let t = Tmux {
            socket,
            session,
            _dir: dir,
        };
        let o = t.tmux(&[
            "new-session",
            "-d",
            "-s",
            &t.session,
            "-x",
            "220",
            "-y",
            "100",
            &command,
        ]);
        assert!(
            o.status.success(),
            "tmux new-session failed (install tmux: `apt-get install tmux`): {}",
            show(&o)
        );
        // A long scroll-back so the whole session can be read back.
        t.tmux(&["set-option", "-t", &t.session, "history-limit", "10000"]);
        t
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env("TERM", "xterm-256color")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run tmux: {e} (install it: `apt-get install tmux`)"))
    }

    /// Types `s` literally (no Enter).
    fn type_text(&self, s: &str) {
        let o = self.tmux(&["send-keys", "-t", &self.session, "-l", s]);
        assert!(o.status.success(), "tmux send-keys: {}", show(&o));
    }

    fn key(&self, k: &str) {
        let o = self.tmux(&["send-keys", "-t", &self.session, k]);
        assert!(o.status.success(), "tmux send-keys: {}", show(&o));
    }

    /// The whole screen and scroll-back, wrapped lines joined, trailing blanks trimmed.
    fn screen(&self) -> Vec<String> {
        let o = self.tmux(&["capture-pane", "-p", "-J", "-t", &self.session, "-S", "-"]);
        assert!(o.status.success(), "tmux capture-pane: {}", show(&o));
        let mut lines: Vec<String> = text(&o.stdout)
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect();
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
    }

    /// Waits (bounded) until `f` holds for the screen; panics with the screen if it never does.
    fn wait_for(&self, what: &str, mut f: impl FnMut(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + SCREEN_WAIT;
        loop {
            let s = self.screen();
            if f(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {SCREEN_WAIT:?} for {what}; the screen:\n{}",
                    s.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-session", "-t", &self.session]);
        let _ = self.tmux(&["kill-server"]);
    }
}

/// An interactive redis-cli session: runs one command at a time and returns what it printed.
struct Session {
    tmux: Tmux,
    prompt: String,
    /// Prompt lines seen so far (each command adds one).
    prompts: usize,
}

impl Session {
    fn start(server: &Server, name: &str, extra: &str) -> Session {
        let tmux = Tmux::start(server, name, extra);
        let prompt = format!("127.0.0.1:{}", server.port());
        let mut s = Session {
            tmux,
            prompt,
            prompts: 0,
        };
        let screen = s.tmux.wait_for("the first prompt", |sc| {
            sc.last().is_some_and(|l| s.is_prompt(l))
        });
        s.prompts = s.count_prompts(&screen);
        assert_eq!(s.prompts, 1, "{}", screen.join("\n"));
        s
    }

    /// A prompt line: `127.0.0.1:PORT`, then `[db]` and/or `(TX)`, then `>`.
    fn is_prompt(&self, line: &str) -> bool {
        let Some(rest) = line.strip_prefix(&self.prompt) else {
            return false;
        };
        let end = rest.find('>').unwrap_or(usize::MAX);
        end != usize::MAX
            && rest[..end]
                .chars()
                .all(|c| c.is_ascii_digit() || "[]()TX".contains(c))
    }

    fn count_prompts(&self, screen: &[String]) -> usize {
        screen.iter().filter(|l| self.is_prompt(l)).count()
    }

    /// Types `command` and Enter, waits for the next prompt; returns the lines in between and
    /// the new prompt line.
    fn run(&mut self, command: &str) -> (Vec<String>, String) {
        self.tmux.type_text(command);
        self.tmux.key("Enter");
        let want = self.prompts + 1;
        let screen = self
            .tmux
            .wait_for(&format!("the reply to {command:?}"), |sc| {
                self.count_prompts(sc) == want && sc.last().is_some_and(|l| self.is_prompt(l))
            });
        self.prompts = want;
        let at: Vec<usize> = screen
            .iter()
            .enumerate()
            .filter(|(_, l)| self.is_prompt(l))
            .map(|(i, _)| i)
            .collect();
        let (cmd_line, next) = (at[at.len() - 2], at[at.len() - 1]);
        assert!(
            screen[cmd_line].ends_with(&format!("> {command}")),
            "the command line reads {:?}",
            screen[cmd_line]
        );
        (
            screen[cmd_line + 1..next].to_vec(),
            screen[next].trim_end().to_string(),
        )
    }

    /// Runs `command` and asserts its output lines.
    fn expect(&mut self, command: &str, output: &[&str]) {
        let (got, _) = self.run(command);
        assert_eq!(got, output, "output of {command:?}");
    }

    /// Types `partial` (no Enter), asserts the hint shown after it, then clears the line.
    fn expect_hint(&mut self, partial: &str, hint: &str) {
        self.tmux.type_text(partial);
        let want = format!("> {partial}{hint}");
        self.tmux.wait_for(&format!("the hint {want:?}"), |sc| {
            sc.last().is_some_and(|l| l.ends_with(&want))
        });
        self.tmux.key("C-u");
        let bare = format!("{}>", self.prompt);
        self.tmux.wait_for("the line to clear", |sc| {
            sc.last().is_some_and(|l| *l == bare)
        });
    }
}

#[test]
fn interactive_session_hints_and_formatting() {
    let server = Server::new();
    let mut s = Session::start(&server, "cli", "");
    // Argument hints (redis-cli builds them from COMMAND DOCS).
    s.expect_hint(
        "SET k v ",
        "[NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
    );
    s.expect_hint(
        "ZADD z ",
        "[NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]",
    );
    s.expect_hint("HSET h ", "field value [field value ...]");
    s.expect_hint("LRANGE ", "key start stop");

    s.expect("SET k v", &["OK"]);
    s.expect("GET k", &["\"v\""]);
    s.expect("GET nope", &["(nil)"]);
    s.expect("EXISTS k nope", &["(integer) 1"]);
    s.expect("RPUSH l a b", &["(integer) 2"]);
    s.expect("LRANGE l 0 -1", &["1) \"a\"", "2) \"b\""]);
    s.expect("HGETALL nope", &["(empty array)"]);
    s.expect(
        "INCR l",
        &["(error) WRONGTYPE Operation against a key holding the wrong kind of value"],
    );
    s.expect(
        "NOSUCHCOMMAND x",
        &["(error) ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'x'"],
    );
    s.expect(
        "GET",
        &["(error) ERR wrong number of arguments for 'get' command"],
    );
    s.expect("HSET h f \"hello world\"", &["(integer) 1"]);
    s.expect("HGET h f", &["\"hello world\""]);
    s.expect("SET q \"line1\\nline2\"", &["OK"]);
    s.expect("GET q", &["\"line1\\nline2\""]);
    s.expect("INCRBYFLOAT fl 1.5", &["\"1.5\""]);
    s.expect("ZADD z 1.5 m 2 n", &["(integer) 2"]);
    s.expect(
        "ZRANGE z 0 -1 WITHSCORES",
        &["1) \"m\"", "2) \"1.5\"", "3) \"n\"", "4) \"2\""],
    );
    s.expect("SADD s x", &["(integer) 1"]);
    s.expect("KEYS k*", &["1) \"k\""]);
    s.expect("TTL k", &["(integer) -1"]);
    s.expect("EXPIRE k 100", &["(integer) 1"]);
    let (out, _) = s.run("TTL k");
    assert!(
        out.len() == 1 && out[0].starts_with("(integer) "),
        "TTL printed {out:?}"
    );
    let (out, prompt) = s.run("SELECT 2");
    assert_eq!(out, ["OK"]);
    assert_eq!(prompt, format!("127.0.0.1:{}[2]>", server.port()));
    s.expect("DBSIZE", &["(integer) 0"]);
    let (_, prompt) = s.run("SELECT 0");
    assert_eq!(prompt, format!("127.0.0.1:{}>", server.port()));

    // RESP3: maps, sets and doubles print as redis-cli prints them.
    let (out, _) = s.run("HELLO 3");
    assert!(
        out.iter().any(|l| l == "3# \"proto\" => (integer) 3"),
        "HELLO 3 printed {out:?}"
    );
    s.expect("HGETALL h", &["1# \"f\" => \"hello world\""]);
    s.expect("SMEMBERS s", &["1~ \"x\""]);
    s.expect("ZSCORE z m", &["(double) 1.5"]);
    s.expect(
        "ZRANGE z 0 -1 WITHSCORES",
        &[
            "1) 1) \"m\"",
            "   2) (double) 1.5",
            "2) 1) \"n\"",
            "   2) (double) 2",
        ],
    );
    s.expect("CONFIG GET databases", &["1# \"databases\" => \"16\""]);
    s.expect("GET nope", &["(nil)"]);
}

#[test]
fn interactive_transaction_prompt() {
    let server = Server::new();
    let mut s = Session::start(&server, "cli-tx", "");
    let port = server.port();
    let (out, prompt) = s.run("MULTI");
    assert_eq!(out, ["OK"]);
    assert_eq!(prompt, format!("127.0.0.1:{port}(TX)>"));
    s.expect("INCR n", &["QUEUED"]);
    s.expect("INCR n", &["QUEUED"]);
    let (out, prompt) = s.run("EXEC");
    assert_eq!(out, ["1) (integer) 1", "2) (integer) 2"]);
    assert_eq!(prompt, format!("127.0.0.1:{port}>"));
    let (out, prompt) = s.run("MULTI");
    assert_eq!(out, ["OK"]);
    assert_eq!(prompt, format!("127.0.0.1:{port}(TX)>"));
    s.expect("SET n 100", &["QUEUED"]);
    let (out, prompt) = s.run("DISCARD");
    assert_eq!(out, ["OK"]);
    assert_eq!(prompt, format!("127.0.0.1:{port}>"));
    s.expect("GET n", &["\"2\""]);
    s.expect("EXEC", &["(error) ERR EXEC without MULTI"]);
}
