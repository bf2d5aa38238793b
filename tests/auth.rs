//! AUTH and requirepass: the NOAUTH gate (only AUTH, HELLO, QUIT and RESET before
//! authenticating), AUTH's forms and errors, HELLO AUTH, RESET logging out, the small protocol
//! limits before authentication, and client libraries with a password in the URL. Everything
//! also passes against redis-server 7.0 (`REDIS_LITE_TEST_REDIS=1`).
//!
//! Servers with a password start with `--requirepass`; the run-time change uses CONFIG SET.

mod common;

use common::*;
use std::io::Write;

const PASS: &str = "s3cret pass";

fn with_password() -> Server {
    Server::start(Opts::default().arg("--requirepass").arg(PASS))
}

const NOAUTH: &str = "NOAUTH Authentication required.";
const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

#[test]
fn noauth_until_authenticated() {
    let s = with_password();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PING"]), err(NOAUTH));
    assert_eq!(c.cmd(&["SET", "k", "v"]), err(NOAUTH));
    assert_eq!(c.cmd(&["CLIENT", "ID"]), err(NOAUTH));
    assert_eq!(c.cmd(&["COMMAND", "COUNT"]), err(NOAUTH));
    // Unknown commands and arity errors are answered first, as Redis's processCommand does.
    let r = c.cmd(&["NOSUCHCMD", "x"]);
    assert!(
        r.error_text()
            .starts_with("ERR unknown command 'NOSUCHCMD'"),
        "{r:?}"
    );
    assert_eq!(c.cmd(&["GET"]), arity_err("get"));
    // A wrong password changes nothing.
    assert_eq!(c.cmd(&["AUTH", "nope"]), err(WRONGPASS));
    assert_eq!(c.cmd(&["PING"]), err(NOAUTH));
    assert_eq!(c.cmd(&["AUTH", PASS]), ok());
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    // Other connections still need to authenticate.
    let mut d = s.conn();
    assert_eq!(d.cmd(&["GET", "k"]), err(NOAUTH));
}

#[test]
fn auth_forms_and_errors() {
    let s = with_password();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["AUTH"]), arity_err("auth"));
    assert_eq!(c.cmd(&["AUTH", "a", "b", "c"]), err("ERR syntax error"));
    // Only the default user exists: any other name is refused, whatever the password.
    assert_eq!(c.cmd(&["AUTH", "alice", PASS]), err(WRONGPASS));
    assert_eq!(c.cmd(&["AUTH", "DEFAULT", PASS]), err(WRONGPASS));
    assert_eq!(c.cmd(&["AUTH", "default", "nope"]), err(WRONGPASS));
    // A prefix or an extension of the password is wrong too.
    assert_eq!(c.cmd(&["AUTH", &PASS[..3]]), err(WRONGPASS));
    assert_eq!(c.cmd(&["AUTH", &format!("{PASS}{PASS}")]), err(WRONGPASS));
    assert_eq!(c.cmd(&["PING"]), err(NOAUTH));
    assert_eq!(c.cmd(&["AUTH", "default", PASS]), ok());
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    // Authenticating again, even wrongly, does not log out.
    assert_eq!(c.cmd(&["AUTH", "wrong"]), err(WRONGPASS));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn auth_without_a_password_configured() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["AUTH", "x"]),
        err(
            "ERR AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?"
        )
    );
    // The default user is "nopass": any password works with its name; other users do not exist.
    assert_eq!(c.cmd(&["AUTH", "default", "anything"]), ok());
    assert_eq!(c.cmd(&["AUTH", "alice", "anything"]), err(WRONGPASS));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    let r = c.cmd(&["HELLO", "3", "AUTH", "default", "whatever"]);
    assert!(!r.is_error(), "{r:?}");
}

#[test]
fn hello_auth() {
    let s = with_password();
    let mut c = s.conn();
    let r = c.cmd(&["HELLO", "3"]);
    assert_eq!(
        r,
        err(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO AUTH <user> <pass> option can be used to authenticate the client and select \
             the RESP protocol version at the same time"
        )
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "default", "nope"]),
        err(WRONGPASS)
    );
    assert_eq!(c.cmd(&["HELLO", "3", "AUTH", "bob", PASS]), err(WRONGPASS));
    assert_eq!(c.cmd(&["PING"]), err(NOAUTH));
    let r = c.cmd(&["HELLO", "3", "AUTH", "default", PASS, "SETNAME", "me"]);
    assert!(!r.is_error(), "{r:?}");
    let text = format!("{r:?}");
    assert!(text.contains("proto"), "{text}");
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), bulk("me"));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    // Once authenticated, HELLO needs no AUTH.
    let r = c.cmd(&["HELLO", "2"]);
    assert!(!r.is_error(), "{r:?}");
}

#[test]
fn reset_and_quit_before_auth_and_reset_logs_out() {
    let s = with_password();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["RESET"]), simple("RESET"));
    assert_eq!(c.cmd(&["AUTH", PASS]), ok());
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    // RESET returns to the default user, which has a password: logged out again.
    assert_eq!(c.cmd(&["RESET"]), simple("RESET"));
    assert_eq!(c.cmd(&["GET", "k"]), err(NOAUTH));
    assert_eq!(c.cmd(&["QUIT"]), ok());
    c.expect_closed();
}

#[test]
fn multi_needs_auth() {
    // MULTI itself needs authentication.
    let s = with_password();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["MULTI"]), err(NOAUTH));
    // A refused EXEC answers as Redis's rejectCommand does for it.
    assert_eq!(
        c.cmd(&["EXEC"]),
        err("EXECABORT Transaction discarded because of: NOAUTH Authentication required.")
    );
}

#[test]
fn a_transaction_opened_without_a_password_is_discarded_once_one_is_required() {
    let s = with_password();
    let mut admin = s.conn();
    assert_eq!(admin.cmd(&["AUTH", PASS]), ok());
    // Connected while the password is set, never authenticated; then none is required.
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PING"]), err(NOAUTH));
    assert_eq!(admin.cmd(&["CONFIG", "SET", "requirepass", ""]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "v"]), simple("QUEUED"));
    assert_eq!(admin.cmd(&["CONFIG", "SET", "requirepass", PASS]), ok());
    assert_eq!(c.cmd(&["SET", "k2", "v"]), err(NOAUTH));
    assert_eq!(
        c.cmd(&["EXEC"]),
        err("EXECABORT Transaction discarded because of: NOAUTH Authentication required.")
    );
    assert_eq!(c.cmd(&["AUTH", PASS]), ok());
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    assert_eq!(c.cmd(&["EXEC"]), err("ERR EXEC without MULTI"));
}

#[test]
fn unauthenticated_multibulk_limit() {
    let s = with_password();
    let mut c = s.conn();
    // Ten arguments are fine (the command is refused, the connection stays).
    let ten: Vec<String> = (0..10).map(|i| format!("a{i}")).collect();
    let mut args = vec!["DEL".to_string()];
    args.extend(ten.iter().take(9).cloned());
    assert_eq!(c.cmd(&args), err(NOAUTH));
    // Eleven: protocol error, then the connection closes.
    args.push("a10".into());
    c.send_cmd(&args);
    assert_eq!(
        c.read_reply(),
        err("ERR Protocol error: unauthenticated multibulk length")
    );
    c.expect_closed();
}

#[test]
fn unauthenticated_bulk_limit() {
    let s = with_password();
    let mut c = s.conn();
    let ok_len = "x".repeat(16384);
    assert_eq!(c.cmd(&["ECHO", &ok_len]), err(NOAUTH));
    let big = "x".repeat(16385);
    c.send_cmd(&["ECHO", &big]);
    assert_eq!(
        c.read_reply(),
        err("ERR Protocol error: unauthenticated bulk length")
    );
    c.expect_closed();
}

#[test]
fn no_unauthenticated_limits_after_auth_even_in_the_same_write() {
    let s = with_password();
    let mut c = s.conn();
    let big = "v".repeat(100_000);
    let many: Vec<String> = std::iter::once("MSET".to_string())
        .chain((0..20).flat_map(|i| [format!("k{i}"), format!("v{i}")]))
        .collect();
    // AUTH and what follows it arrive together: the limits end with AUTH.
    let mut bytes = encode_cmd(&["AUTH", PASS]);
    bytes.extend(encode_cmd(&["SET", "big", &big]));
    bytes.extend(encode_cmd(&many));
    c.stream.write_all(&bytes).unwrap();
    assert_eq!(c.read_reply(), ok());
    assert_eq!(c.read_reply(), ok());
    assert_eq!(c.read_reply(), ok());
    assert_eq!(c.cmd(&["STRLEN", "big"]), int(100_000));
    assert_eq!(c.cmd(&["GET", "k19"]), bulk("v19"));
}

#[test]
fn no_limits_without_a_password() {
    let s = Server::new();
    let mut c = s.conn();
    let args: Vec<String> = std::iter::once("DEL".to_string())
        .chain((0..20).map(|i| format!("k{i}")))
        .collect();
    assert_eq!(c.cmd(&args), int(0));
    let big = "x".repeat(20_000);
    assert_eq!(c.cmd(&["ECHO", &big]), bulk(&big));
}

#[test]
fn redis_crate_with_password_in_url() {
    let s = with_password();
    for url in [
        format!("redis://:{}@127.0.0.1:{}/", "s3cret%20pass", s.port()),
        format!(
            "redis://default:{}@127.0.0.1:{}/",
            "s3cret%20pass",
            s.port()
        ),
    ] {
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut con = client.get_connection_with_timeout(IO_TIMEOUT).unwrap();
        let _: () = redis::cmd("SET")
            .arg("lib")
            .arg("ok")
            .query(&mut con)
            .unwrap();
        let v: String = redis::cmd("GET").arg("lib").query(&mut con).unwrap();
        assert_eq!(v, "ok");
    }
    // Without the password the library sees NOAUTH.
    let mut con = s.client();
    let e = redis::cmd("GET")
        .arg("lib")
        .query::<Option<String>>(&mut con)
        .unwrap_err();
    assert!(e.to_string().contains("Authentication required"), "{e}");
}

#[test]
fn password_set_at_run_time_keeps_existing_clients() {
    let s = Server::new();
    let mut old = s.conn();
    assert_eq!(old.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(old.cmd(&["CONFIG", "SET", "requirepass", "later"]), ok());
    // Connected while there was no password: still authenticated, as in Redis.
    assert_eq!(old.cmd(&["GET", "k"]), bulk("v"));
    let mut new = s.conn();
    assert_eq!(new.cmd(&["GET", "k"]), err(NOAUTH));
    assert_eq!(new.cmd(&["AUTH", "later"]), ok());
    assert_eq!(new.cmd(&["GET", "k"]), bulk("v"));
    let mut waiting = s.conn();
    assert_eq!(waiting.cmd(&["GET", "k"]), err(NOAUTH));
    // Removing the password lets everyone in, even those that never authenticated.
    assert_eq!(old.cmd(&["CONFIG", "SET", "requirepass", ""]), ok());
    assert_eq!(waiting.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(s.conn().cmd(&["GET", "k"]), bulk("v"));
}
