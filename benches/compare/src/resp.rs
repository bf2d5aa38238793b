//! The RESP client: enough of the protocol to load data, PING, SAVE, INFO and check replies;
//! [`parse_reply`] parses replies from a buffer for clients that drive many sockets at once.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::stopping;

#[derive(Debug, PartialEq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    pub fn show(&self) -> String {
        match self {
            Reply::Simple(s) => format!("+{s}"),
            Reply::Error(s) => format!("-{s}"),
            Reply::Int(n) => format!(":{n}"),
            Reply::Bulk(None) => "(nil)".into(),
            Reply::Bulk(Some(b)) => format!("{:?}", String::from_utf8_lossy(b)),
            Reply::Array(None) => "(nil array)".into(),
            Reply::Array(Some(v)) => format!("array of {}", v.len()),
        }
    }
}

pub struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

pub fn encode(buf: &mut Vec<u8>, args: &[&[u8]]) {
    buf.push(b'*');
    buf.extend_from_slice(args.len().to_string().as_bytes());
    buf.extend_from_slice(b"\r\n");
    for a in args {
        buf.push(b'$');
        buf.extend_from_slice(a.len().to_string().as_bytes());
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

/// A TCP connection to 127.0.0.1:`port` (2 s to connect), TCP_NODELAY, reads time out after
/// `timeout`, writes after 30 s.
pub fn connect(port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(Duration::from_secs(30)))?;
    s.set_nodelay(true)?;
    Ok(s)
}

impl Client {
    pub fn connect(port: u16, timeout: Duration) -> io::Result<Client> {
        let s = connect(port, timeout)?;
        Ok(Client {
            r: BufReader::with_capacity(1 << 16, s.try_clone()?),
            w: s,
        })
    }

    pub fn set_timeout(&mut self, t: Duration) {
        let _ = self
            .w
            .set_read_timeout(Some(t.max(Duration::from_millis(1))));
    }

    pub fn call(&mut self, args: &[&[u8]]) -> io::Result<Reply> {
        let mut buf = Vec::new();
        encode(&mut buf, args);
        self.w.write_all(&buf)?;
        self.read()
    }

    pub fn line(&mut self) -> io::Result<String> {
        let mut l = Vec::new();
        self.r.read_until(b'\n', &mut l)?;
        if l.len() < 2 || l[l.len() - 2] != b'\r' {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed or malformed reply line",
            ));
        }
        l.truncate(l.len() - 2);
        Ok(String::from_utf8_lossy(&l).into_owned())
    }

    pub fn read(&mut self) -> io::Result<Reply> {
        let l = self.line()?;
        let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad reply {l:?}"));
        let (t, rest) = l.split_at(l.len().min(1));
        Ok(match t {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Int(rest.parse().map_err(|_| bad())?),
            "$" => {
                let n: i64 = rest.parse().map_err(|_| bad())?;
                if n < 0 {
                    Reply::Bulk(None)
                } else {
                    let mut b = vec![0; n as usize + 2];
                    self.r.read_exact(&mut b)?;
                    b.truncate(n as usize);
                    Reply::Bulk(Some(b))
                }
            }
            "*" => {
                let n: i64 = rest.parse().map_err(|_| bad())?;
                if n < 0 {
                    Reply::Array(None)
                } else {
                    let mut v = Vec::with_capacity(n as usize);
                    for _ in 0..n {
                        v.push(self.read()?);
                    }
                    Reply::Array(Some(v))
                }
            }
            _ => return Err(bad()),
        })
    }

    pub fn int(&mut self, args: &[&[u8]]) -> Result<i64, String> {
        match self.call(args) {
            Ok(Reply::Int(n)) => Ok(n),
            Ok(r) => Err(format!(
                "{} answered {}",
                String::from_utf8_lossy(args[0]),
                r.show()
            )),
            Err(e) => Err(format!("{}: {e}", String::from_utf8_lossy(args[0]))),
        }
    }

    pub fn info(&mut self, section: &str) -> Result<String, String> {
        match self.call(&[b"INFO", section.as_bytes()]) {
            Ok(Reply::Bulk(Some(b))) => Ok(String::from_utf8_lossy(&b).into_owned()),
            Ok(r) => Err(format!("INFO {section} answered {}", r.show())),
            Err(e) => Err(format!("INFO {section}: {e}")),
        }
    }

    /// Send `cmds` (already encoded, `count` commands) and read `count` replies; returns the
    /// number of error replies and the first one.
    pub fn pipeline(&mut self, cmds: &[u8], count: usize) -> io::Result<(usize, Option<String>)> {
        self.w.write_all(cmds)?;
        let mut errors = 0;
        let mut first = None;
        for _ in 0..count {
            if let Reply::Error(e) = self.read()? {
                errors += 1;
                first.get_or_insert(e);
            }
        }
        Ok((errors, first))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.w.shutdown(Shutdown::Both);
    }
}

pub fn info_field(info: &str, key: &str) -> Option<String> {
    info.lines().find_map(|l| {
        l.trim_end()
            .strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
            .map(String::from)
    })
}

/// Why [`Client::send_batched`] stopped before the end.
#[derive(Debug)]
pub enum BatchError {
    /// A signal arrived ([`stopping`]).
    Interrupted,
    /// The deadline passed after `sent` commands.
    Deadline { sent: usize },
    /// Writing or reading the batch that starts at command `from` failed.
    Io { from: usize, error: io::Error },
    /// The batch `from..to` got `errors` error replies, the first of them `first`.
    Replies {
        from: usize,
        to: usize,
        errors: usize,
        first: String,
    },
}

impl BatchError {
    /// The message for the report: `cmd` names the command (SET), `unit` what is counted
    /// (keys), `deadline` how the deadline is described ("by its deadline").
    pub fn message(&self, cmd: &str, unit: &str, deadline: &str) -> String {
        match self {
            BatchError::Interrupted => "interrupted".into(),
            BatchError::Deadline { sent } => {
                format!("load not finished {deadline} ({sent} {unit} sent)")
            }
            BatchError::Io { from, error } => format!("{cmd} after {from} {unit}: {error}"),
            BatchError::Replies {
                from,
                to,
                errors,
                first,
            } => format!("{errors} error replies to {cmd} in {unit} {from}..{to}, first: -{first}"),
        }
    }
}

impl Client {
    /// Sends commands `0..count` (`encode_one(buf, n)` appends command `n`), `batch` per
    /// pipelined round trip, and checks their replies; before each batch it checks for a signal
    /// and the deadline.
    pub fn send_batched(
        &mut self,
        count: usize,
        batch: usize,
        deadline: Instant,
        mut encode_one: impl FnMut(&mut Vec<u8>, usize),
    ) -> Result<(), BatchError> {
        let mut buf = Vec::new();
        let mut i = 0usize;
        while i < count {
            if stopping() {
                return Err(BatchError::Interrupted);
            }
            if Instant::now() > deadline {
                return Err(BatchError::Deadline { sent: i });
            }
            buf.clear();
            let end = (i + batch).min(count);
            for n in i..end {
                encode_one(&mut buf, n);
            }
            let (errors, first) = self
                .pipeline(&buf, end - i)
                .map_err(|error| BatchError::Io { from: i, error })?;
            if errors > 0 {
                return Err(BatchError::Replies {
                    from: i,
                    to: end,
                    errors,
                    first: first.unwrap_or_default(),
                });
            }
            i = end;
        }
        Ok(())
    }
}

/// Parses one reply at the start of `buf`: `Ok(Some((reply, bytes used)))`, `Ok(None)` when
/// `buf` holds only part of one (read more and call again), `Err` when it is not RESP2.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    parse_at(buf, 0)
}

fn parse_at(buf: &[u8], pos: usize) -> Result<Option<(Reply, usize)>, String> {
    let Some(nl) = buf
        .get(pos..)
        .and_then(|b| b.iter().position(|&c| c == b'\n'))
    else {
        return Ok(None);
    };
    let end = pos + nl; // index of '\n'
    if nl < 2 || buf[end - 1] != b'\r' {
        return Err(format!(
            "malformed reply line {:?}",
            String::from_utf8_lossy(&buf[pos..=end])
        ));
    }
    let text = String::from_utf8_lossy(&buf[pos + 1..end - 1]);
    let next = end + 1;
    let int = |what: &str| {
        text.parse::<i64>()
            .map_err(|_| format!("bad {what} {text:?}"))
    };
    Ok(Some(match buf[pos] {
        b'+' => (Reply::Simple(text.into_owned()), next),
        b'-' => (Reply::Error(text.into_owned()), next),
        b':' => (Reply::Int(int("integer")?), next),
        b'$' => {
            let n = int("bulk length")?;
            if n < 0 {
                (Reply::Bulk(None), next)
            } else {
                let stop = next + n as usize;
                if buf.len() < stop + 2 {
                    return Ok(None);
                }
                if &buf[stop..stop + 2] != b"\r\n" {
                    return Err(format!("bulk of {n} bytes not followed by CRLF"));
                }
                (Reply::Bulk(Some(buf[next..stop].to_vec())), stop + 2)
            }
        }
        b'*' => {
            let n = int("array length")?;
            if n < 0 {
                (Reply::Array(None), next)
            } else {
                let mut v = Vec::with_capacity(n.min(1024) as usize);
                let mut at = next;
                for _ in 0..n {
                    match parse_at(buf, at)? {
                        Some((r, used)) => {
                            v.push(r);
                            at = used;
                        }
                        None => return Ok(None),
                    }
                }
                (Reply::Array(Some(v)), at)
            }
        }
        other => return Err(format!("unknown reply type byte {:?}", other as char)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reply_whole_and_partial() {
        let msg = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n:5\r\n";
        let (r, used) = parse_reply(msg).unwrap().unwrap();
        assert_eq!(used, msg.len() - 4);
        assert_eq!(
            r,
            Reply::Array(Some(vec![
                Reply::Bulk(Some(b"message".to_vec())),
                Reply::Bulk(Some(b"ch".to_vec())),
                Reply::Bulk(Some(b"abc".to_vec())),
            ]))
        );
        assert_eq!(parse_reply(&msg[used..]).unwrap(), Some((Reply::Int(5), 4)));
        for cut in 0..used {
            assert_eq!(parse_reply(&msg[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert_eq!(
            parse_reply(b"+OK\r\n-ERR x\r\n").unwrap(),
            Some((Reply::Simple("OK".into()), 5))
        );
        assert_eq!(
            parse_reply(b"*-1\r\n$-1\r\n").unwrap(),
            Some((Reply::Array(None), 5))
        );
        assert!(parse_reply(b"?x\r\n").is_err());
        assert!(parse_reply(b"$1\r\nab\r\n").is_err());
    }
}
