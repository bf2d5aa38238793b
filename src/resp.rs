//! RESP2/RESP3 wire format: request parsing into a flat argument arena, a reply writer, and a
//! client-side reply decoder.
//!
//! This module knows nothing of the keyspace. Three parts:
//!
//! * **Requests** ([`parse_requests`]): every complete request in a buffer (multibulk or inline)
//!   is copied once into a [`CmdBatch`] arena, so the read buffer can be compacted freely and
//!   nothing the keyspace stores ever pins a network buffer. An incomplete trailing frame is a
//!   normal state, never an error. Behaviour follows Redis 7.0 `processMultibulkBuffer`,
//!   `processInlineBuffer` and `sdssplitargs` byte for byte, including their quirks (see
//!   [`parse_requests`]).
//! * **Replies** ([`Reply`]): appends encoded replies to one output buffer; the RESP2/RESP3 choice
//!   lives there, like Redis's `addReply*` family.
//! * **Frames** ([`Frame`], [`decode_frame`], [`frame_len`], [`encode_frame`]): the client view of a
//!   reply, used by tests and by the router to split and merge shard replies.

use std::borrow::Cow;
use std::fmt;

/// Redis's `proto-max-bulk-len` default: the largest bulk string a client may send.
pub const PROTO_MAX_BULK_LEN: i64 = 512 * 1024 * 1024;
/// Redis's `PROTO_INLINE_MAX_SIZE`: the longest inline command line (and multibulk/bulk header).
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Redis rejects multibulk counts above `INT_MAX` (and above 10 before authentication when a
/// password is set: see [`ParseOptions::auth_required`]).
pub const PROTO_MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;
/// Deepest aggregate nesting [`decode_frame`]/[`frame_len`] accept (bounds stack use when a decoded
/// frame is dropped, compared or encoded; Redis replies nest a handful of levels at most).
pub const MAX_FRAME_DEPTH: usize = 256;

// ---------------------------------------------------------------------------------------------
// Command arena
// ---------------------------------------------------------------------------------------------

/// A batch of parsed commands: every argument of every command lives in one byte arena.
///
/// Why: one allocation-free structure serves both the local path (execute in place) and the
/// forwarding path (the same type is sent to the owning shard), and stored keys/values are copied
/// out of it exactly once.
#[derive(Default, Debug, Clone)]
pub struct CmdBatch {
    data: Vec<u8>,
    /// (start, end) of each argument in `data`.
    spans: Vec<(usize, usize)>,
    /// (first span, span count) of each command.
    cmds: Vec<(usize, usize)>,
    /// Index into `spans` where the command under construction starts.
    open: usize,
    /// Length of `data` when the command under construction started.
    open_data: usize,
}

impl CmdBatch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops every command but keeps the allocations for reuse.
    pub fn clear(&mut self) {
        self.data.clear();
        self.spans.clear();
        self.cmds.clear();
        self.open = 0;
        self.open_data = 0;
    }

    /// Number of complete commands.
    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }

    /// Bytes held in the arena (used to bound how much one batch may grow).
    pub fn data_len(&self) -> usize {
        self.data.len()
    }

    /// The arguments of command `i`.
    pub fn get(&self, i: usize) -> Argv<'_> {
        let (first, n) = self.cmds[i];
        Argv {
            data: &self.data,
            spans: &self.spans[first..first + n],
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Argv<'_>> {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Appends one argument to the command under construction.
    pub fn push_arg(&mut self, arg: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(arg);
        self.spans.push((start, self.data.len()));
    }

    /// Reserves room for an argument of `len` bytes and returns it to be filled in place.
    pub fn push_arg_uninit(&mut self, len: usize) -> &mut [u8] {
        let start = self.data.len();
        self.data.resize(start + len, 0);
        self.spans.push((start, start + len));
        &mut self.data[start..]
    }

    /// Closes the command under construction (its arguments are those pushed since the last close).
    pub fn finish_cmd(&mut self) {
        let n = self.spans.len() - self.open;
        self.cmds.push((self.open, n));
        self.open = self.spans.len();
        self.open_data = self.data.len();
    }

    /// Forgets arguments pushed since the last `finish_cmd` (a frame that turned out incomplete).
    pub fn abandon_cmd(&mut self) {
        self.data.truncate(self.open_data);
        self.spans.truncate(self.open);
    }

    /// Number of arguments pushed since the last `finish_cmd`.
    pub fn open_args(&self) -> usize {
        self.spans.len() - self.open
    }

    /// Copies a whole command in.
    pub fn push_argv(&mut self, argv: Argv<'_>) {
        for a in argv.iter() {
            self.push_arg(a);
        }
        self.finish_cmd();
    }

    /// Builds a single-command batch (tests, internal commands).
    pub fn from_args<I, A>(args: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let mut b = Self::new();
        for a in args {
            b.push_arg(a.as_ref());
        }
        b.finish_cmd();
        b
    }
}

/// A borrowed view of one command's arguments; `get(0)` is the command name.
#[derive(Clone, Copy, Debug)]
pub struct Argv<'a> {
    data: &'a [u8],
    spans: &'a [(usize, usize)],
}

impl<'a> Argv<'a> {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn get(&self, i: usize) -> &'a [u8] {
        let (s, e) = self.spans[i];
        &self.data[s..e]
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.data;
        self.spans.iter().map(move |&(s, e)| &data[s..e])
    }

    /// Arguments `from..` (e.g. the keys of DEL).
    pub fn tail(&self, from: usize) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.data;
        self.spans[from..].iter().map(move |&(s, e)| &data[s..e])
    }

    /// Arguments `range` as a command of their own (the commands packed in one `__exec`).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Argv<'a> {
        Argv {
            data: self.data,
            spans: &self.spans[range],
        }
    }

    /// Owned copies of the arguments (tests, logging).
    pub fn to_vec(&self) -> Vec<Vec<u8>> {
        self.iter().map(|a| a.to_vec()).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Request parser
// ---------------------------------------------------------------------------------------------

/// A protocol error in a client's request stream. Redis replies with it and closes the connection.
///
/// Why an enum and not `&'static str`: one Redis message (`expected '$', got '%c'`) embeds the
/// offending byte, which may be any byte (even one that is not UTF-8). [`ProtoError::write_reply`]
/// (or [`Reply::proto_error`]) writes the exact bytes Redis sends; [`ProtoError::message`] gives
/// the text with its `ERR` code for logs and `&str` APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoError {
    /// `*<n>` with `n` not a valid integer (Redis `string2ll`) or above `INT_MAX`.
    InvalidMultibulkLength,
    /// `$<n>` with `n` not a valid integer, negative, or above `proto-max-bulk-len`.
    InvalidBulkLength,
    /// A multibulk argument header that does not start with `$`; holds the byte found.
    ExpectedDollar(u8),
    /// No CR within [`PROTO_INLINE_MAX_SIZE`] bytes of a `*` header.
    TooBigMbulkCount,
    /// No CR within [`PROTO_INLINE_MAX_SIZE`] bytes of a `$` header.
    TooBigBulkCount,
    /// No LF within [`PROTO_INLINE_MAX_SIZE`] bytes of an inline command.
    TooBigInline,
    /// An inline command with an unterminated quote or a closing quote followed by a non-space.
    UnbalancedQuotes,
    /// `*<n>` with `n > 10` before authentication (only with [`ParseOptions::auth_required`]).
    UnauthenticatedMultibulkLength,
    /// `$<n>` with `n > 16384` before authentication (only with [`ParseOptions::auth_required`]).
    UnauthenticatedBulkLength,
}

impl ProtoError {
    /// The exact bytes of the error reply (without the leading `-` and the trailing CRLF).
    pub fn message_bytes(&self) -> Cow<'static, [u8]> {
        let s: &'static str = match self {
            ProtoError::InvalidMultibulkLength => "ERR Protocol error: invalid multibulk length",
            ProtoError::InvalidBulkLength => "ERR Protocol error: invalid bulk length",
            ProtoError::TooBigMbulkCount => "ERR Protocol error: too big mbulk count string",
            ProtoError::TooBigBulkCount => "ERR Protocol error: too big bulk count string",
            ProtoError::TooBigInline => "ERR Protocol error: too big inline request",
            ProtoError::UnbalancedQuotes => "ERR Protocol error: unbalanced quotes in request",
            ProtoError::UnauthenticatedMultibulkLength => {
                "ERR Protocol error: unauthenticated multibulk length"
            }
            ProtoError::UnauthenticatedBulkLength => {
                "ERR Protocol error: unauthenticated bulk length"
            }
            ProtoError::ExpectedDollar(b) => {
                // addReplyErrorFormat prints the raw byte with %c, then maps CR and LF to spaces.
                let shown = if *b == b'\r' || *b == b'\n' { b' ' } else { *b };
                let mut v = b"ERR Protocol error: expected '$', got '".to_vec();
                v.push(shown);
                v.push(b'\'');
                return Cow::Owned(v);
            }
        };
        Cow::Borrowed(s.as_bytes())
    }

    /// The error text with its code, e.g. `ERR Protocol error: invalid bulk length`. Exact for
    /// every variant except `ExpectedDollar` of a non-ASCII byte, shown as U+FFFD here (use
    /// [`ProtoError::write_reply`] to send the exact byte).
    pub fn message(&self) -> Cow<'static, str> {
        match self.message_bytes() {
            Cow::Borrowed(b) => {
                Cow::Borrowed(std::str::from_utf8(b).unwrap_or("ERR Protocol error"))
            }
            Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
        }
    }

    /// Appends the complete error reply, `-<message>\r\n`, exactly as Redis sends it.
    pub fn write_reply(&self, out: &mut Vec<u8>) {
        out.push(b'-');
        out.extend_from_slice(&self.message_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ProtoError {}

/// Limits that Redis takes from the configuration or the client's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// `proto-max-bulk-len` (CONFIG SET-able in Redis).
    pub max_bulk_len: i64,
    /// The client has not authenticated yet while a password is required: Redis then refuses
    /// multibulk counts above 10 and bulk lengths above 16384.
    pub auth_required: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_bulk_len: PROTO_MAX_BULK_LEN,
            auth_required: false,
        }
    }
}

/// What one [`parse_requests`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// Bytes of complete requests (including skipped empty ones) at the front of the buffer. The
    /// caller drops them; the rest (an incomplete request, or the bad one) must stay.
    pub consumed: usize,
    /// A protocol error found right after the `consumed` bytes. The commands before it were
    /// appended; the caller runs them, writes their replies, then the error reply
    /// ([`Reply::proto_error`]), then closes the connection (Redis: `CLIENT_CLOSE_AFTER_REPLY`).
    pub error: Option<ProtoError>,
    /// Without an error: how many bytes the unconsumed rest (`buf[consumed..]`) must hold before
    /// another call can make any progress (always more than it holds now; `1` when everything was
    /// consumed). A caller may skip parsing until then: this is what keeps a 512 MB bulk arriving
    /// in small reads linear. It is an exact lower bound, never an overestimate (an error is
    /// reported as soon as Redis would report it). `0` when `error` is set.
    pub needed: usize,
}

/// Parses every complete request at the front of `buf` into `out` (with default [`ParseOptions`]).
///
/// `out` must have no command under construction (only complete commands or none); commands are
/// appended to it. Arguments are copied into its arena exactly once; nothing is allocated from a
/// size a header declares.
///
/// Behaviour is Redis 7.0's, including:
/// * The first byte of each request picks the form: `*` multibulk, anything else inline.
/// * `*<n>` with `n <= 0` is consumed and yields no command; an empty (or all-blank) inline line
///   likewise.
/// * Header integers follow `string2ll`: no `+`, no leading zeros, no `-0`, at most 20 chars.
/// * A header ends at the first CR; the byte after the CR is skipped unchecked (it need not be LF).
///   The two bytes after a bulk payload are skipped unchecked too (`$3\r\nfooXY` is `foo`).
/// * A header or inline line containing a NUL byte before its CR/LF never ends (Redis scans with
///   `strchr`): it waits until the "too big" limit fires.
/// * "too big" fires when no line end lies within the first [`PROTO_INLINE_MAX_SIZE`]` + 1` bytes of
///   the header/line. (Redis checks the buffered bytes after each read, so a line end just past
///   64 KiB may pass in Redis when it arrives in one read; here the outcome never depends on how
///   the bytes were split into reads.)
/// * Inline lines end at LF; a CR right before it is dropped; arguments split like
///   `sdssplitargs`.
pub fn parse_requests(buf: &[u8], out: &mut CmdBatch) -> Parsed {
    parse_requests_with(buf, out, &ParseOptions::default())
}

/// [`parse_requests`] with explicit limits.
pub fn parse_requests_with(buf: &[u8], out: &mut CmdBatch, opts: &ParseOptions) -> Parsed {
    let mut pos = 0;
    while pos < buf.len() {
        let step = if buf[pos] == b'*' {
            parse_multibulk(buf, pos, out, opts)
        } else {
            parse_inline(buf, pos, out)
        };
        match step {
            Step::Done(next) => pos = next,
            Step::Incomplete(needed_end) => {
                out.abandon_cmd();
                return Parsed {
                    consumed: pos,
                    error: None,
                    needed: needed_end - pos,
                };
            }
            Step::Error(e) => {
                out.abandon_cmd();
                return Parsed {
                    consumed: pos,
                    error: Some(e),
                    needed: 0,
                };
            }
        }
    }
    Parsed {
        consumed: pos,
        error: None,
        needed: 1,
    }
}

/// Outcome of parsing one request starting at some position.
enum Step {
    /// Complete (command appended, or an empty request skipped); the next request starts here.
    Done(usize),
    /// Incomplete: nothing can change until the buffer is at least this long.
    Incomplete(usize),
    Error(ProtoError),
}

/// Where the line starting at `start` ends, as Redis's `strchr(start, target)` sees it.
enum LineEnd {
    /// Index of `target`.
    At(usize),
    /// Not there yet; nothing can change until the buffer is at least this long.
    Missing(usize),
    /// No line end within the limit: the "too big" error.
    TooBig,
}

#[inline]
fn find_line_end(buf: &[u8], start: usize, target: u8) -> LineEnd {
    let window_end = buf.len().min(start + PROTO_INLINE_MAX_SIZE + 1);
    let too_big = buf.len() - start > PROTO_INLINE_MAX_SIZE;
    match buf[start..window_end]
        .iter()
        .position(|&b| b == target || b == 0)
    {
        Some(i) if buf[start + i] == target => LineEnd::At(start + i),
        // strchr stops at NUL: this line can only ever end with the size limit.
        Some(_) if too_big => LineEnd::TooBig,
        Some(_) => LineEnd::Missing(start + PROTO_INLINE_MAX_SIZE + 1),
        None if too_big => LineEnd::TooBig,
        None => LineEnd::Missing(buf.len() + 1),
    }
}

/// Redis's `string2ll`: optional `-`, then `0` alone or a digit 1-9 followed by digits; fewer than
/// 21 bytes; fits an `i64`.
pub fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// The common well-formed header at `pos` (a tag byte, then `0` or 1-18 digits without a leading
/// zero, then CR and one more byte): (value, index of the CR). `None` sends the caller down the
/// general path, which gives the same answer for every input this accepts.
#[inline(always)]
fn fast_header(buf: &[u8], pos: usize) -> Option<(i64, usize)> {
    let mut i = pos + 1;
    let first = *buf.get(i)?;
    let mut v = i64::from(first.wrapping_sub(b'0'));
    if v > 9 {
        return None;
    }
    i += 1;
    if v != 0 {
        while i < buf.len() && i - pos <= 18 {
            let d = buf[i].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v * 10 + i64::from(d);
            i += 1;
        }
    }
    if i + 1 < buf.len() && buf[i] == b'\r' {
        Some((v, i))
    } else {
        None
    }
}

/// One `*<n>\r\n` request with its `n` bulk arguments (`processMultibulkBuffer`).
fn parse_multibulk(buf: &[u8], start: usize, out: &mut CmdBatch, opts: &ParseOptions) -> Step {
    let (count, cr) = match fast_header(buf, start) {
        Some(h) => h,
        None => {
            let cr = match find_line_end(buf, start, b'\r') {
                LineEnd::At(i) => i,
                LineEnd::Missing(n) => return Step::Incomplete(n),
                LineEnd::TooBig => return Step::Error(ProtoError::TooBigMbulkCount),
            };
            // Redis wants one byte after the CR (and does not look at it).
            if cr + 1 >= buf.len() {
                return Step::Incomplete(cr + 2);
            }
            match string2ll(&buf[start + 1..cr]) {
                Some(n) => (n, cr),
                None => return Step::Error(ProtoError::InvalidMultibulkLength),
            }
        }
    };
    if count > PROTO_MAX_MULTIBULK_LEN {
        return Step::Error(ProtoError::InvalidMultibulkLength);
    }
    if count > 10 && opts.auth_required {
        return Step::Error(ProtoError::UnauthenticatedMultibulkLength);
    }
    let mut pos = cr + 2;
    if count <= 0 {
        return Step::Done(pos);
    }
    for _ in 0..count {
        let fast = if buf.get(pos) == Some(&b'$') {
            fast_header(buf, pos)
        } else {
            None
        };
        let (len, cr) = match fast {
            Some(h) => h,
            None => {
                let cr = match find_line_end(buf, pos, b'\r') {
                    LineEnd::At(i) => i,
                    LineEnd::Missing(n) => return Step::Incomplete(n),
                    LineEnd::TooBig => return Step::Error(ProtoError::TooBigBulkCount),
                };
                if cr + 1 >= buf.len() {
                    return Step::Incomplete(cr + 2);
                }
                if buf[pos] != b'$' {
                    return Step::Error(ProtoError::ExpectedDollar(buf[pos]));
                }
                match string2ll(&buf[pos + 1..cr]) {
                    Some(n) => (n, cr),
                    None => return Step::Error(ProtoError::InvalidBulkLength),
                }
            }
        };
        if len < 0 || len > opts.max_bulk_len {
            return Step::Error(ProtoError::InvalidBulkLength);
        }
        if len > 16384 && opts.auth_required {
            return Step::Error(ProtoError::UnauthenticatedBulkLength);
        }
        let body = cr + 2;
        // The payload, then two bytes Redis skips without looking at them.
        let end = match usize::try_from(len)
            .ok()
            .and_then(|l| body.checked_add(l))
            .and_then(|e| e.checked_add(2))
        {
            Some(e) => e,
            None => return Step::Error(ProtoError::InvalidBulkLength),
        };
        if end > buf.len() {
            return Step::Incomplete(end);
        }
        out.push_arg(&buf[body..end - 2]);
        pos = end;
    }
    out.finish_cmd();
    Step::Done(pos)
}

/// One inline request: a line up to LF (`processInlineBuffer`).
fn parse_inline(buf: &[u8], start: usize, out: &mut CmdBatch) -> Step {
    let lf = match find_line_end(buf, start, b'\n') {
        LineEnd::At(i) => i,
        LineEnd::Missing(n) => return Step::Incomplete(n),
        LineEnd::TooBig => return Step::Error(ProtoError::TooBigInline),
    };
    let mut end = lf;
    if end > start && buf[end - 1] == b'\r' {
        end -= 1;
    }
    if split_args(&buf[start..end], out).is_err() {
        return Step::Error(ProtoError::UnbalancedQuotes);
    }
    if out.open_args() > 0 {
        out.finish_cmd();
    }
    Step::Done(lf + 1)
}

/// Redis's `sdssplitargs` on one line (a config line, say): its arguments, or `None` on
/// unbalanced quotes. The same splitter inline requests use.
pub fn split_line(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // Up to the first NUL, as C reads the line.
    let line = &line[..line.iter().position(|&b| b == 0).unwrap_or(line.len())];
    let mut b = CmdBatch::new();
    split_args(line, &mut b).ok()?;
    if b.open_args() == 0 {
        return Some(Vec::new());
    }
    b.finish_cmd();
    Some(b.get(0).iter().map(<[u8]>::to_vec).collect())
}

/// C `isspace` in the C locale.
#[inline]
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Bytes that end or change an unquoted token in `sdssplitargs`.
#[inline]
fn is_token_special(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | b'"' | b'\'')
}

#[inline]
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits an inline line into arguments appended to `out`'s open command, like Redis's
/// `sdssplitargs` (the line holds no NUL: the line search stops at one). `Err` on unbalanced
/// quotes; the caller abandons the partial command.
fn split_args(line: &[u8], out: &mut CmdBatch) -> Result<(), ()> {
    // `at(i)`: the C string view, NUL past the end.
    let at = |i: usize| -> u8 { line.get(i).copied().unwrap_or(0) };
    let n = line.len();
    let mut p = 0;
    loop {
        while p < n && is_c_space(line[p]) {
            p += 1;
        }
        if p >= n {
            return Ok(());
        }
        let arg_start = out.data.len();
        // An unquoted run is copied as one slice. A quote opens a quoted part of the same token,
        // and its closing quote ends the token.
        let run = line[p..]
            .iter()
            .position(|&b| is_token_special(b))
            .unwrap_or(n - p);
        out.data.extend_from_slice(&line[p..p + run]);
        p += run;
        match at(p) {
            b'"' => {
                p += 1;
                loop {
                    let c = at(p);
                    if c == b'\\' && at(p + 1) == b'x' {
                        if let (Some(h), Some(l)) = (hex_val(at(p + 2)), hex_val(at(p + 3))) {
                            out.data.push(h * 16 + l);
                            p += 4;
                            continue;
                        }
                    }
                    if c == b'\\' && at(p + 1) != 0 {
                        out.data.push(match at(p + 1) {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => b'\x08',
                            b'a' => b'\x07',
                            other => other,
                        });
                        p += 2;
                    } else if c == b'"' {
                        // A closing quote must be followed by a space or the end.
                        if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                            return Err(());
                        }
                        p += 1;
                        break;
                    } else if c == 0 {
                        return Err(());
                    } else {
                        out.data.push(c);
                        p += 1;
                    }
                }
            }
            b'\'' => {
                p += 1;
                loop {
                    let c = at(p);
                    if c == b'\\' && at(p + 1) == b'\'' {
                        out.data.push(b'\'');
                        p += 2;
                    } else if c == b'\'' {
                        if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                            return Err(());
                        }
                        p += 1;
                        break;
                    } else if c == 0 {
                        return Err(());
                    } else {
                        out.data.push(c);
                        p += 1;
                    }
                }
            }
            // Space, tab, CR, LF or the end: the token is done; the separator is skipped.
            _ => {
                if p < n {
                    p += 1;
                }
            }
        }
        out.spans.push((arg_start, out.data.len()));
    }
}

// ---------------------------------------------------------------------------------------------
// Reply writer
// ---------------------------------------------------------------------------------------------

/// Protocol version a connection speaks (`HELLO 3` switches to RESP3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Proto {
    #[default]
    Resp2,
    Resp3,
}

/// Appends encoded replies to one output buffer.
///
/// Why a writer and not a reply tree: replies go straight to the bytes that will be written (or
/// sent back across cores) with no per-reply allocation, and the RESP2/RESP3 choice lives here in
/// one place, like Redis's `addReply*` family.
#[derive(Debug, Default)]
pub struct Reply {
    pub buf: Vec<u8>,
    pub proto: Proto,
}

impl Reply {
    pub fn new(proto: Proto) -> Self {
        Reply {
            buf: Vec::with_capacity(256),
            proto,
        }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// `+<s>\r\n`; `s` must not contain CR or LF.
    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `-<msg>\r\n`. `msg` carries its code (`ERR ...`, `WRONGTYPE ...`); CR/LF in it become spaces
    /// so a user-supplied name can never break the framing (as Redis does).
    pub fn error(&mut self, msg: &str) {
        self.error_bytes(msg.as_bytes());
    }

    /// [`Reply::error`] for a message that is not UTF-8 (Redis echoes user bytes in some errors).
    pub fn error_bytes(&mut self, msg: &[u8]) {
        self.buf.push(b'-');
        for &b in msg {
            self.buf
                .push(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    /// The reply to a request-stream protocol error, byte-exact (then close the connection).
    pub fn proto_error(&mut self, e: &ProtoError) {
        e.write_reply(&mut self.buf);
    }

    pub fn int(&mut self, v: i64) {
        self.buf.push(b':');
        let mut f = itoa::Buffer::new();
        self.buf.extend_from_slice(f.format(v).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn bulk(&mut self, v: &[u8]) {
        self.bulk_header(v.len());
        self.buf.extend_from_slice(v);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// The header of a bulk string whose `len` bytes (then CRLF) the caller appends itself.
    pub fn bulk_header(&mut self, len: usize) {
        self.buf.push(b'$');
        let mut f = itoa::Buffer::new();
        self.buf.extend_from_slice(f.format(len).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer as a bulk string (INCRBYFLOAT-style replies, CONFIG values).
    pub fn bulk_int(&mut self, v: i64) {
        let mut f = itoa::Buffer::new();
        let s = f.format(v);
        self.bulk(s.as_bytes());
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        match self.proto {
            Proto::Resp2 => self.buf.extend_from_slice(b"$-1\r\n"),
            Proto::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        match self.proto {
            Proto::Resp2 => self.buf.extend_from_slice(b"*-1\r\n"),
            Proto::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    pub fn array(&mut self, n: usize) {
        self.agg(b'*', n);
    }

    /// A map of `n` pairs: `%n` in RESP3, a flat array of `2n` in RESP2.
    pub fn map(&mut self, n: usize) {
        match self.proto {
            Proto::Resp2 => self.agg(b'*', n * 2),
            Proto::Resp3 => self.agg(b'%', n),
        }
    }

    /// A set: `~n` in RESP3, an array in RESP2.
    pub fn set(&mut self, n: usize) {
        match self.proto {
            Proto::Resp2 => self.agg(b'*', n),
            Proto::Resp3 => self.agg(b'~', n),
        }
    }

    /// A push message header: `>n` in RESP3, an array in RESP2 (Redis `addReplyPushLen`).
    pub fn push(&mut self, n: usize) {
        match self.proto {
            Proto::Resp2 => self.agg(b'*', n),
            Proto::Resp3 => self.agg(b'>', n),
        }
    }

    /// A double: `,<d>` in RESP3, a bulk string in RESP2, printed as Redis 7.0 prints doubles
    /// (`%.17g`; `inf`/`-inf`).
    pub fn double(&mut self, v: f64) {
        let mut tmp = [0u8; 32];
        let n = write_double(v, &mut tmp);
        let s = &tmp[..n];
        match self.proto {
            Proto::Resp2 => self.bulk(s),
            Proto::Resp3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(s);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, v: bool) {
        match self.proto {
            Proto::Resp2 => self.int(v as i64),
            Proto::Resp3 => self
                .buf
                .extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" }),
        }
    }

    /// A verbatim string (INFO, CLIENT INFO, LATENCY DOCTOR): `=<len>\r\n<fmt>:<text>\r\n` in
    /// RESP3, a plain bulk string in RESP2. `format` is padded/cut to 3 bytes as Redis does.
    pub fn verbatim(&mut self, text: &[u8], format: &str) {
        match self.proto {
            Proto::Resp2 => self.bulk(text),
            Proto::Resp3 => write_verbatim(&mut self.buf, format.as_bytes(), text),
        }
    }

    /// A big number: `(<digits>` in RESP3, a bulk string in RESP2.
    pub fn big_number(&mut self, digits: &[u8]) {
        match self.proto {
            Proto::Resp2 => self.bulk(digits),
            Proto::Resp3 => {
                self.buf.push(b'(');
                self.buf.extend_from_slice(digits);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A decoded frame, encoded for this connection's protocol (see [`encode_frame_for`]).
    pub fn frame(&mut self, f: &Frame) {
        encode_frame_for(f, self.proto, &mut self.buf);
    }

    /// Appends bytes that are already a complete encoded reply (a forwarded shard's answer).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn agg(&mut self, tag: u8, n: usize) {
        self.buf.push(tag);
        let mut f = itoa::Buffer::new();
        self.buf.extend_from_slice(f.format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }
}

fn write_verbatim(out: &mut Vec<u8>, format: &[u8], text: &[u8]) {
    out.push(b'=');
    let mut f = itoa::Buffer::new();
    out.extend_from_slice(f.format(text.len() + 4).as_bytes());
    out.extend_from_slice(b"\r\n");
    for i in 0..3 {
        out.push(format.get(i).copied().unwrap_or(b' '));
    }
    out.push(b':');
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

/// Formats a double the way Redis 7.0 replies with one: C's `%.17g`, with `inf`/`-inf` for the
/// infinities and `nan` for NaN.
pub fn format_double(v: f64) -> String {
    let mut tmp = [0u8; 32];
    let n = write_double(v, &mut tmp);
    // write_double only emits ASCII.
    String::from_utf8_lossy(&tmp[..n]).into_owned()
}

/// [`format_double`] into a stack buffer (at most 24 bytes used); returns the length.
fn write_double(v: f64, out: &mut [u8; 32]) -> usize {
    fn put(out: &mut [u8; 32], n: &mut usize, s: &[u8]) {
        out[*n..*n + s.len()].copy_from_slice(s);
        *n += s.len();
    }
    let mut n = 0;
    if v.is_nan() {
        put(out, &mut n, b"nan");
        return n;
    }
    if v.is_infinite() {
        put(out, &mut n, if v > 0.0 { b"inf" } else { b"-inf" });
        return n;
    }
    // Integral values below 2^53 print as the integer itself (the common sorted-set score).
    if v.fract() == 0.0 && v.abs() < 9007199254740992.0 && !(v == 0.0 && v.is_sign_negative()) {
        let mut f = itoa::Buffer::new();
        put(out, &mut n, f.format(v as i64).as_bytes());
        return n;
    }
    // 17 significant digits, correctly rounded (half to even on the exact binary value, as glibc).
    let mut sci = [0u8; 40];
    let len = {
        use std::io::Write;
        let mut c = std::io::Cursor::new(&mut sci[..]);
        if write!(c, "{:.16e}", v).is_err() {
            return 0;
        }
        c.position() as usize
    };
    let sci = &sci[..len];
    let (neg, body) = match sci.first() {
        Some(b'-') => (true, &sci[1..]),
        _ => (false, sci),
    };
    // body: d.dddddddddddddddde<exp>
    let epos = body.iter().position(|&b| b == b'e').unwrap_or(body.len());
    let mut digits = [b'0'; 17];
    let mut nd = 0;
    for &b in &body[..epos] {
        if b.is_ascii_digit() && nd < 17 {
            digits[nd] = b;
            nd += 1;
        }
    }
    let exp: i32 = std::str::from_utf8(&body[(epos + 1).min(body.len())..])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if neg {
        put(out, &mut n, b"-");
    }
    // %g drops trailing zeros of the fraction (and the point when nothing is left).
    let sig = digits.iter().rposition(|&d| d != b'0').map_or(1, |i| i + 1);
    if (-4..17).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            put(out, &mut n, &digits[..int_len]);
            if sig > int_len {
                put(out, &mut n, b".");
                put(out, &mut n, &digits[int_len..sig]);
            }
        } else {
            put(out, &mut n, b"0.");
            for _ in 0..(-exp - 1) {
                put(out, &mut n, b"0");
            }
            put(out, &mut n, &digits[..sig]);
        }
    } else {
        put(out, &mut n, &digits[..1]);
        if sig > 1 {
            put(out, &mut n, b".");
            put(out, &mut n, &digits[1..sig]);
        }
        put(out, &mut n, if exp < 0 { b"e-" } else { b"e+" });
        let a = exp.unsigned_abs();
        if a < 10 {
            put(out, &mut n, b"0");
        }
        let mut f = itoa::Buffer::new();
        put(out, &mut n, f.format(a).as_bytes());
    }
    n
}

// ---------------------------------------------------------------------------------------------
// Reply frames (client side)
// ---------------------------------------------------------------------------------------------

/// One decoded reply, RESP2 or RESP3.
///
/// `Null` is `$-1` (RESP2) or `_` (RESP3); `NullArray` is `*-1`. A RESP3 attribute (`|`) is
/// decoded and dropped: the frame it annotates is returned. A RESP3 blob error (`!`) decodes as
/// `Error`. Streamed strings/aggregates (`$?`, `*?`) are rejected: Redis never sends them.
#[derive(Clone, PartialEq)]
pub enum Frame {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Integer(i64),
    Bulk(Vec<u8>),
    Null,
    NullArray,
    Array(Vec<Frame>),
    Map(Vec<(Frame, Frame)>),
    Set(Vec<Frame>),
    Double(f64),
    Boolean(bool),
    /// The digits, as sent.
    BigNumber(Vec<u8>),
    /// (format, text): `=<len>\r\n<format>:<text>\r\n`; format is 3 bytes, e.g. `txt`.
    Verbatim(Vec<u8>, Vec<u8>),
    Push(Vec<Frame>),
}

impl Frame {
    /// `Frame::Bulk` of any bytes.
    pub fn bulk(b: impl AsRef<[u8]>) -> Frame {
        Frame::Bulk(b.as_ref().to_vec())
    }

    /// `Frame::Simple` of a status text.
    pub fn simple(s: impl AsRef<[u8]>) -> Frame {
        Frame::Simple(s.as_ref().to_vec())
    }

    /// `Frame::Error` of an error text (with its code).
    pub fn error(s: impl AsRef<[u8]>) -> Frame {
        Frame::Error(s.as_ref().to_vec())
    }

    /// The bytes of a simple string, error, bulk string, verbatim text or big number.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::Simple(b) | Frame::Error(b) | Frame::Bulk(b) | Frame::BigNumber(b) => Some(b),
            Frame::Verbatim(_, t) => Some(t),
            _ => None,
        }
    }

    /// The elements of an array, set or push.
    pub fn as_items(&self) -> Option<&[Frame]> {
        match self {
            Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => Some(v),
            _ => None,
        }
    }

    /// Encodes the frame in its own wire form (see [`encode_frame`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        encode_frame(self, &mut v);
        v
    }
}

/// Byte strings print as escaped text (`Bulk(b"OK\r\n")`), not as lists of numbers.
impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct B<'a>(&'a [u8]);
        impl fmt::Debug for B<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "b\"{}\"", self.0.escape_ascii())
            }
        }
        match self {
            Frame::Simple(b) => f.debug_tuple("Simple").field(&B(b)).finish(),
            Frame::Error(b) => f.debug_tuple("Error").field(&B(b)).finish(),
            Frame::Integer(i) => f.debug_tuple("Integer").field(i).finish(),
            Frame::Bulk(b) => f.debug_tuple("Bulk").field(&B(b)).finish(),
            Frame::Null => f.write_str("Null"),
            Frame::NullArray => f.write_str("NullArray"),
            Frame::Array(v) => f.debug_tuple("Array").field(v).finish(),
            Frame::Map(v) => f.debug_tuple("Map").field(v).finish(),
            Frame::Set(v) => f.debug_tuple("Set").field(v).finish(),
            Frame::Double(d) => f.debug_tuple("Double").field(d).finish(),
            Frame::Boolean(b) => f.debug_tuple("Boolean").field(b).finish(),
            Frame::BigNumber(b) => f.debug_tuple("BigNumber").field(&B(b)).finish(),
            Frame::Verbatim(k, t) => f.debug_tuple("Verbatim").field(&B(k)).field(&B(t)).finish(),
            Frame::Push(v) => f.debug_tuple("Push").field(v).finish(),
        }
    }
}

/// A malformed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// Offset in the buffer of the offending frame header.
    pub offset: usize,
    pub reason: &'static str,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid RESP reply at byte {}: {}",
            self.offset, self.reason
        )
    }
}

impl std::error::Error for FrameError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AggKind {
    Array,
    Map,
    Set,
    Push,
    /// An attribute map: its pairs, then the frame it annotates.
    Attribute,
}

/// One frame header (and, for scalars, the whole frame).
enum Head<'a> {
    Simple(&'a [u8]),
    Error(&'a [u8]),
    Integer(i64),
    Bulk(&'a [u8]),
    Null,
    NullArray,
    Double(f64),
    Boolean(bool),
    BigNumber(&'a [u8]),
    Verbatim(&'a [u8], &'a [u8]),
    /// An aggregate of that many child frames (pairs count twice).
    Agg(AggKind, u64),
}

/// A CRLF-terminated line at `pos`: (contents, position after the CRLF), or `None` if incomplete.
fn reply_line(buf: &[u8], pos: usize, at: usize) -> Result<Option<(&[u8], usize)>, FrameError> {
    match buf[pos..].iter().position(|&b| b == b'\r') {
        None => Ok(None),
        Some(i) => {
            let cr = pos + i;
            match buf.get(cr + 1) {
                None => Ok(None),
                Some(b'\n') => Ok(Some((&buf[pos..cr], cr + 2))),
                Some(_) => Err(FrameError {
                    offset: at,
                    reason: "CR not followed by LF",
                }),
            }
        }
    }
}

/// A decimal `i64`: optional sign, at least one digit, no overflow.
fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, d) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if d.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        let dig = i64::from(c - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(dig)?
        } else {
            v.checked_add(dig)?
        };
    }
    Some(v)
}

fn parse_double(s: &[u8]) -> Option<f64> {
    match s {
        b"inf" | b"+inf" => return Some(f64::INFINITY),
        b"-inf" => return Some(f64::NEG_INFINITY),
        b"nan" | b"-nan" | b"+nan" => return Some(f64::NAN),
        _ => {}
    }
    if s.is_empty()
        || !s
            .iter()
            .all(|&b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Reads the header at `pos` (the whole frame for scalars): (head, position after it).
fn read_head(buf: &[u8], pos: usize) -> Result<Option<(Head<'_>, usize)>, FrameError> {
    let err = |reason| FrameError {
        offset: pos,
        reason,
    };
    let Some(&tag) = buf.get(pos) else {
        return Ok(None);
    };
    let Some((line, next)) = reply_line(buf, pos + 1, pos)? else {
        return Ok(None);
    };
    let head = match tag {
        b'+' => Head::Simple(line),
        b'-' => Head::Error(line),
        b':' => Head::Integer(parse_i64(line).ok_or(err("invalid integer"))?),
        b'_' => {
            if !line.is_empty() {
                return Err(err("invalid null"));
            }
            Head::Null
        }
        b',' => Head::Double(parse_double(line).ok_or(err("invalid double"))?),
        b'#' => match line {
            b"t" => Head::Boolean(true),
            b"f" => Head::Boolean(false),
            _ => return Err(err("invalid boolean")),
        },
        b'(' => {
            let digits = line.strip_prefix(b"-").unwrap_or(line);
            let digits = digits.strip_prefix(b"+").unwrap_or(digits);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(err("invalid big number"));
            }
            Head::BigNumber(line)
        }
        b'$' | b'!' | b'=' => {
            let len = parse_i64(line).ok_or(err("invalid bulk length"))?;
            if len == -1 && tag == b'$' {
                return Ok(Some((Head::Null, next)));
            }
            let len = usize::try_from(len).map_err(|_| err("invalid bulk length"))?;
            let Some(end) = next.checked_add(len) else {
                return Err(err("invalid bulk length"));
            };
            if end.saturating_add(2) > buf.len() {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(err("bulk string not followed by CRLF"));
            }
            let body = &buf[next..end];
            let head = match tag {
                b'$' => Head::Bulk(body),
                b'!' => Head::Error(body),
                _ => {
                    if body.len() < 4 || body[3] != b':' {
                        return Err(err("invalid verbatim string"));
                    }
                    Head::Verbatim(&body[..3], &body[4..])
                }
            };
            return Ok(Some((head, end + 2)));
        }
        b'*' | b'%' | b'~' | b'>' | b'|' => {
            let n = parse_i64(line).ok_or(err("invalid aggregate length"))?;
            if n == -1 && tag == b'*' {
                return Ok(Some((Head::NullArray, next)));
            }
            let n = u64::try_from(n).map_err(|_| err("invalid aggregate length"))?;
            match tag {
                b'*' => Head::Agg(AggKind::Array, n),
                b'~' => Head::Agg(AggKind::Set, n),
                b'>' => Head::Agg(AggKind::Push, n),
                b'%' => Head::Agg(AggKind::Map, n * 2),
                _ => Head::Agg(AggKind::Attribute, n * 2 + 1),
            }
        }
        _ => return Err(err("unknown frame type")),
    };
    Ok(Some((head, next)))
}

/// The length of the first complete frame in `buf`, without building it; `Ok(None)` if `buf`
/// holds only part of one. Iterative (no recursion on untrusted nesting).
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    // Children still expected by each open aggregate.
    let mut open: Vec<u64> = Vec::new();
    let mut pos = 0;
    loop {
        let Some((head, next)) = read_head(buf, pos)? else {
            return Ok(None);
        };
        if let Head::Agg(_, n) = head {
            if n > 0 {
                if open.len() >= MAX_FRAME_DEPTH {
                    return Err(FrameError {
                        offset: pos,
                        reason: "aggregates nested too deep",
                    });
                }
                open.push(n);
                pos = next;
                continue;
            }
        }
        pos = next;
        // A frame is complete: close every aggregate it completes.
        loop {
            match open.last_mut() {
                None => return Ok(Some(pos)),
                Some(r) => {
                    *r -= 1;
                    if *r > 0 {
                        break;
                    }
                    open.pop();
                }
            }
        }
    }
}

struct OpenAgg {
    kind: AggKind,
    items: Vec<Frame>,
    remaining: u64,
}

fn close_agg(kind: AggKind, items: Vec<Frame>) -> Frame {
    match kind {
        AggKind::Array => Frame::Array(items),
        AggKind::Set => Frame::Set(items),
        AggKind::Push => Frame::Push(items),
        AggKind::Map => {
            let mut pairs = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            Frame::Map(pairs)
        }
        // The annotated frame is the last child; the attribute pairs are dropped.
        AggKind::Attribute => items.into_iter().last().unwrap_or(Frame::Null),
    }
}

/// Decodes the first complete frame in `buf`: `Ok(Some((frame, bytes used)))`, or `Ok(None)` if
/// `buf` holds only part of one. Checks completeness first ([`frame_len`]), then builds; never
/// allocates more than the bytes present justify.
pub fn decode_frame(buf: &[u8]) -> Result<Option<(Frame, usize)>, FrameError> {
    let Some(total) = frame_len(buf)? else {
        return Ok(None);
    };
    let buf = &buf[..total];
    let mut stack: Vec<OpenAgg> = Vec::new();
    let mut pos = 0;
    loop {
        let Some((head, next)) = read_head(buf, pos)? else {
            return Err(FrameError {
                offset: pos,
                reason: "truncated frame",
            });
        };
        pos = next;
        let mut done = match head {
            Head::Simple(s) => Frame::Simple(s.to_vec()),
            Head::Error(s) => Frame::Error(s.to_vec()),
            Head::Integer(i) => Frame::Integer(i),
            Head::Bulk(b) => Frame::Bulk(b.to_vec()),
            Head::Null => Frame::Null,
            Head::NullArray => Frame::NullArray,
            Head::Double(d) => Frame::Double(d),
            Head::Boolean(b) => Frame::Boolean(b),
            Head::BigNumber(b) => Frame::BigNumber(b.to_vec()),
            Head::Verbatim(f, t) => Frame::Verbatim(f.to_vec(), t.to_vec()),
            Head::Agg(kind, 0) => close_agg(kind, Vec::new()),
            Head::Agg(kind, n) => {
                // Every child takes at least 3 bytes: never trust the count for capacity.
                let cap = n.min(((buf.len() - pos) / 3) as u64) as usize;
                stack.push(OpenAgg {
                    kind,
                    items: Vec::with_capacity(cap),
                    remaining: n,
                });
                continue;
            }
        };
        loop {
            let Some(top) = stack.last_mut() else {
                return Ok(Some((done, pos)));
            };
            top.items.push(done);
            top.remaining -= 1;
            if top.remaining > 0 {
                break;
            }
            match stack.pop() {
                Some(o) => done = close_agg(o.kind, o.items),
                None => unreachable!("stack checked non-empty above"),
            }
        }
    }
}

/// How [`encode_frame`] writes protocol-dependent types.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Enc {
    /// Every variant in its own wire form (`$-1`/`*-1` for the nulls): decodes back to itself.
    Native,
    Resp2,
    Resp3,
}

/// Encodes a frame in its own wire form: RESP3 types as RESP3, `Null` as `$-1`, `NullArray` as
/// `*-1`, so that `decode_frame` gives back an equal frame. CR/LF inside simple strings and errors
/// become spaces. A verbatim format is padded/cut to 3 bytes.
pub fn encode_frame(f: &Frame, out: &mut Vec<u8>) {
    encode_with(f, Enc::Native, out);
}

/// Encodes a frame as Redis would reply to a client speaking `proto`: RESP3 writes both nulls as
/// `_`; RESP2 downgrades RESP3 types like Redis does (map → flat array, set/push → array,
/// double/big number/verbatim → bulk string, boolean → `:1`/`:0`).
pub fn encode_frame_for(f: &Frame, proto: Proto, out: &mut Vec<u8>) {
    let enc = match proto {
        Proto::Resp2 => Enc::Resp2,
        Proto::Resp3 => Enc::Resp3,
    };
    encode_with(f, enc, out);
}

fn put_header(out: &mut Vec<u8>, tag: u8, n: usize) {
    out.push(tag);
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn put_line(out: &mut Vec<u8>, tag: u8, s: &[u8]) {
    out.push(tag);
    out.extend(
        s.iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

fn put_bulk(out: &mut Vec<u8>, s: &[u8]) {
    put_header(out, b'$', s.len());
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

fn encode_with(f: &Frame, enc: Enc, out: &mut Vec<u8>) {
    let resp2 = enc == Enc::Resp2;
    match f {
        Frame::Simple(s) => put_line(out, b'+', s),
        Frame::Error(s) => put_line(out, b'-', s),
        Frame::Integer(i) => {
            out.push(b':');
            let mut b = itoa::Buffer::new();
            out.extend_from_slice(b.format(*i).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Frame::Bulk(b) => put_bulk(out, b),
        Frame::Null if enc == Enc::Resp3 => out.extend_from_slice(b"_\r\n"),
        Frame::Null => out.extend_from_slice(b"$-1\r\n"),
        Frame::NullArray if enc == Enc::Resp3 => out.extend_from_slice(b"_\r\n"),
        Frame::NullArray => out.extend_from_slice(b"*-1\r\n"),
        Frame::Array(items) => {
            put_header(out, b'*', items.len());
            for i in items {
                encode_with(i, enc, out);
            }
        }
        Frame::Set(items) | Frame::Push(items) => {
            let tag = match (f, resp2) {
                (_, true) => b'*',
                (Frame::Set(_), false) => b'~',
                _ => b'>',
            };
            put_header(out, tag, items.len());
            for i in items {
                encode_with(i, enc, out);
            }
        }
        Frame::Map(pairs) => {
            if resp2 {
                put_header(out, b'*', pairs.len() * 2);
            } else {
                put_header(out, b'%', pairs.len());
            }
            for (k, v) in pairs {
                encode_with(k, enc, out);
                encode_with(v, enc, out);
            }
        }
        Frame::Double(d) => {
            let mut tmp = [0u8; 32];
            let n = write_double(*d, &mut tmp);
            if resp2 {
                put_bulk(out, &tmp[..n]);
            } else {
                out.push(b',');
                out.extend_from_slice(&tmp[..n]);
                out.extend_from_slice(b"\r\n");
            }
        }
        Frame::Boolean(b) => {
            out.extend_from_slice(match (resp2, b) {
                (true, true) => b":1\r\n",
                (true, false) => b":0\r\n",
                (false, true) => b"#t\r\n",
                (false, false) => b"#f\r\n",
            });
        }
        Frame::BigNumber(d) if resp2 => put_bulk(out, d),
        Frame::BigNumber(d) => put_line(out, b'(', d),
        Frame::Verbatim(_, text) if resp2 => put_bulk(out, text),
        Frame::Verbatim(format, text) => write_verbatim(out, format, text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Cmds = Vec<Vec<Vec<u8>>>;

    fn cmds_of(b: &CmdBatch) -> Cmds {
        b.iter().map(|a| a.to_vec()).collect()
    }

    fn parse_all(input: &[u8]) -> (Cmds, Parsed) {
        let mut b = CmdBatch::new();
        let p = parse_requests(input, &mut b);
        (cmds_of(&b), p)
    }

    fn v(args: &[&[u8]]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.to_vec()).collect()
    }

    fn multibulk(args: &[Vec<u8>]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// Quotes every argument like Redis's `sdscatrepr`, for an inline request.
    fn inline(args: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.push(b'"');
            for &c in a {
                match c {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'"' => out.extend_from_slice(b"\\\""),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    0x07 => out.extend_from_slice(b"\\a"),
                    0x08 => out.extend_from_slice(b"\\b"),
                    0x20..=0x7e => out.push(c),
                    _ => out.extend_from_slice(format!("\\x{:02x}", c).as_bytes()),
                }
            }
            out.push(b'"');
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// Feeds `input` in chunks as a connection loop would (honouring `needed`), collecting
    /// commands until the end or an error.
    fn feed(input: &[u8], chunks: &[usize]) -> (Cmds, Option<ProtoError>, usize) {
        let mut buf: Vec<u8> = Vec::new();
        let mut cmds = Vec::new();
        let mut needed = 1;
        let mut at = 0;
        let mut ci = 0;
        while at < input.len() {
            let step = chunks.get(ci).copied().unwrap_or(1).max(1);
            ci += 1;
            let end = (at + step).min(input.len());
            buf.extend_from_slice(&input[at..end]);
            at = end;
            if buf.len() < needed {
                continue;
            }
            let mut b = CmdBatch::new();
            let p = parse_requests(&buf, &mut b);
            cmds.extend(cmds_of(&b));
            buf.drain(..p.consumed);
            if let Some(e) = p.error {
                return (cmds, Some(e), buf.len());
            }
            assert!(p.needed > buf.len(), "needed must exceed what is there");
            needed = p.needed;
        }
        (cmds, None, buf.len())
    }

    fn err_text(e: ProtoError) -> Vec<u8> {
        let mut v = Vec::new();
        e.write_reply(&mut v);
        v
    }

    // ---- request parser: valid input ----

    #[test]
    fn multibulk_basic() {
        let (c, p) = parse_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n");
        assert_eq!(c, vec![v(&[b"SET", b"k", b"value"])]);
        assert_eq!(p.consumed, 31);
        assert_eq!(p.error, None);
        assert_eq!(p.needed, 1);
    }

    #[test]
    fn binary_payloads_and_empty_args() {
        let args = vec![b"a\r\nb\0c".to_vec(), Vec::new(), vec![0xff; 3]];
        let (c, p) = parse_all(&multibulk(&args));
        assert_eq!(c, vec![args]);
        assert_eq!(p.error, None);
    }

    #[test]
    fn empty_and_negative_multibulk_are_skipped() {
        let (c, p) = parse_all(b"*0\r\n*-1\r\n*-10\r\nPING\r\n");
        assert_eq!(c, vec![v(&[b"PING"])]);
        assert_eq!(p.consumed, 21);
    }

    #[test]
    fn redis_skips_bytes_after_cr_and_after_payload_unchecked() {
        // The byte after a header's CR is never looked at, nor the two after a payload.
        let (c, p) = parse_all(b"*2\rX$4\r\nECHO\r\n$3\r\nfooXY*1\r\n$4\r\nPING\r\n");
        assert_eq!(c, vec![v(&[b"ECHO", b"foo"]), v(&[b"PING"])]);
        assert_eq!(p.error, None);
    }

    #[test]
    fn header_cr_needs_one_more_byte() {
        let (c, p) = parse_all(b"*1\r");
        assert!(c.is_empty());
        assert_eq!((p.consumed, p.needed, p.error), (0, 4, None));
        let (_, p) = parse_all(b"*1\r\n$3\r");
        assert_eq!((p.consumed, p.needed), (0, 8));
        let (_, p) = parse_all(b"*1\r\n$3\r\nfo");
        assert_eq!((p.consumed, p.needed), (0, 13));
    }

    #[test]
    fn inline_basic_and_empty_lines() {
        let (c, p) = parse_all(b"\r\n\n   \r\n\t\x0b\x0c\nPING\r\nset  k   v\nGET k\r\r\n");
        assert_eq!(
            c,
            vec![v(&[b"PING"]), v(&[b"set", b"k", b"v"]), v(&[b"GET", b"k"])]
        );
        assert_eq!(p.error, None);
        assert_eq!(p.needed, 1);
    }

    #[test]
    fn inline_quotes_and_escapes() {
        let (c, p) =
            parse_all(b"set k \"a\\x41\\x4g\\n\\r\\t\\b\\a\\\\\\\"\\q\" 'it\\'s \\n' \"\" ''\r\n");
        assert_eq!(p.error, None);
        assert_eq!(
            c,
            vec![v(&[
                b"set",
                b"k",
                b"aAx4g\n\r\t\x08\x07\\\"q",
                b"it's \\n",
                b"",
                b""
            ])]
        );
        // A quote inside an unquoted token opens a quoted part of the same token.
        let (c, _) = parse_all(b"ab\"c d\" x'y z'\n");
        assert_eq!(c, vec![v(&[b"abc d", b"xy z"])]);
        // Closing quote followed by \v/\f (C isspace) is fine; tokens keep \v inside.
        let (c, p) = parse_all(b"\"a\"\x0bb\x0bc\n");
        assert_eq!(p.error, None);
        assert_eq!(c, vec![v(&[b"a", b"b\x0bc"])]);
        // A lone CR inside a line separates tokens; inside quotes it is kept.
        let (c, _) = parse_all(b"a\rb \"c\rd\"\n");
        assert_eq!(c, vec![v(&[b"a", b"b", b"c\rd"])]);
    }

    #[test]
    fn inline_then_multibulk_then_inline() {
        let (c, p) = parse_all(b"PING\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO \"x y\"\r\n");
        assert_eq!(
            c,
            vec![v(&[b"PING"]), v(&[b"ECHO", b"hi"]), v(&[b"ECHO", b"x y"])]
        );
        assert_eq!(p.error, None);
    }

    // ---- request parser: errors ----

    #[test]
    fn malformed_requests_give_redis_errors() {
        use ProtoError::*;
        let big_mb = {
            let mut b = b"*".to_vec();
            b.extend(std::iter::repeat_n(b'1', PROTO_INLINE_MAX_SIZE));
            b
        };
        let big_b = {
            let mut b = b"PING\r\n*1\r\n$".to_vec();
            b.extend(std::iter::repeat_n(b'1', PROTO_INLINE_MAX_SIZE));
            b
        };
        let big_inline = {
            let mut b = b"PING\n".to_vec();
            b.extend(std::iter::repeat_n(b'a', PROTO_INLINE_MAX_SIZE + 1));
            b
        };
        let cases: Vec<(&[u8], Cmds, ProtoError, &str)> = vec![
            (
                b"*abc\r\n",
                vec![],
                InvalidMultibulkLength,
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                b"*+3\r\n",
                vec![],
                InvalidMultibulkLength,
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                b"*03\r\n",
                vec![],
                InvalidMultibulkLength,
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                b"*-0\r\n",
                vec![],
                InvalidMultibulkLength,
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                b"*\r\n",
                vec![],
                InvalidMultibulkLength,
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                b"* 1\r\n",
                vec![],
                InvalidMultibulkLength,
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                b"*3000000000\r\n",
                vec![],
                InvalidMultibulkLength,
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                b"*2147483648\r\n",
                vec![],
                InvalidMultibulkLength,
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                b"*99999999999999999999\r\n",
                vec![],
                InvalidMultibulkLength,
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                b"*1\n$4\r\nPING\r\n",
                vec![],
                InvalidMultibulkLength,
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                b"PING\r\n*1\r\n$-0\r\n",
                vec![v(&[b"PING"])],
                InvalidBulkLength,
                "ERR Protocol error: invalid bulk length",
            ),
            (
                b"*1\r\n$-1\r\n",
                vec![],
                InvalidBulkLength,
                "ERR Protocol error: invalid bulk length",
            ),
            (
                b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n",
                vec![],
                InvalidBulkLength,
                "ERR Protocol error: invalid bulk length",
            ),
            (
                b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n",
                vec![],
                InvalidBulkLength,
                "ERR Protocol error: invalid bulk length",
            ),
            (
                b"*1\r\n$536870913\r\n",
                vec![],
                InvalidBulkLength,
                "ERR Protocol error: invalid bulk length",
            ),
            (
                b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n",
                vec![],
                InvalidBulkLength,
                "ERR Protocol error: invalid bulk length",
            ),
            (
                b"*1\r\n$+3\r\nfoo\r\n",
                vec![],
                InvalidBulkLength,
                "ERR Protocol error: invalid bulk length",
            ),
            (
                b"*1\r\n$\r\n\r\n",
                vec![],
                InvalidBulkLength,
                "ERR Protocol error: invalid bulk length",
            ),
            (
                b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
                vec![],
                ExpectedDollar(b'f'),
                "ERR Protocol error: expected '$', got 'f'",
            ),
            (
                b"*1\r\nfoo\r\n",
                vec![],
                ExpectedDollar(b'f'),
                "ERR Protocol error: expected '$', got 'f'",
            ),
            (
                b"*1\r\n\r\n",
                vec![],
                ExpectedDollar(b'\r'),
                "ERR Protocol error: expected '$', got ' '",
            ),
            (
                b"*1\r\n\n\r\n",
                vec![],
                ExpectedDollar(b'\n'),
                "ERR Protocol error: expected '$', got ' '",
            ),
            (
                &big_mb,
                vec![],
                TooBigMbulkCount,
                "ERR Protocol error: too big mbulk count string",
            ),
            (
                &big_b,
                vec![v(&[b"PING"])],
                TooBigBulkCount,
                "ERR Protocol error: too big bulk count string",
            ),
            (
                &big_inline,
                vec![v(&[b"PING"])],
                TooBigInline,
                "ERR Protocol error: too big inline request",
            ),
            (
                b"set \"\"\"test-key\"\"\" test-value\r\nping\r\n",
                vec![],
                UnbalancedQuotes,
                "ERR Protocol error: unbalanced quotes in request",
            ),
            (
                b"PING\nset \"abc\r\n",
                vec![v(&[b"PING"])],
                UnbalancedQuotes,
                "ERR Protocol error: unbalanced quotes in request",
            ),
            (
                b"set 'abc\n",
                vec![],
                UnbalancedQuotes,
                "ERR Protocol error: unbalanced quotes in request",
            ),
            (
                b"set 'a'b\n",
                vec![],
                UnbalancedQuotes,
                "ERR Protocol error: unbalanced quotes in request",
            ),
            (
                b"set \"a\\\"\n",
                vec![],
                UnbalancedQuotes,
                "ERR Protocol error: unbalanced quotes in request",
            ),
            (
                b"set \"a\\\n",
                vec![],
                UnbalancedQuotes,
                "ERR Protocol error: unbalanced quotes in request",
            ),
        ];
        for (input, before, err, text) in cases {
            let (c, p) = parse_all(input);
            let shown = String::from_utf8_lossy(&input[..input.len().min(60)]).into_owned();
            assert_eq!(p.error, Some(err), "input {shown:?}");
            assert_eq!(c, before, "input {shown:?}");
            assert_eq!(p.needed, 0);
            assert_eq!(err.message(), text, "input {shown:?}");
            assert_eq!(err_text(err), format!("-{text}\r\n").into_bytes());
            // The consumed bytes are exactly those of the commands before the error.
            let mut b = CmdBatch::new();
            let q = parse_requests(&input[..p.consumed], &mut b);
            assert_eq!(
                (cmds_of(&b), q.error, q.consumed),
                (before, None, p.consumed)
            );
        }
    }

    #[test]
    fn expected_dollar_shows_raw_byte() {
        let (_, p) = parse_all(b"*1\r\n\xff\r\n");
        let e = p.error.unwrap();
        assert_eq!(e, ProtoError::ExpectedDollar(0xff));
        assert_eq!(
            err_text(e),
            b"-ERR Protocol error: expected '$', got '\xff'\r\n".to_vec()
        );
        let mut r = Reply::new(Proto::Resp3);
        r.proto_error(&e);
        assert_eq!(r.buf, err_text(e));
        assert_eq!(
            e.message(),
            "ERR Protocol error: expected '$', got '\u{fffd}'"
        );
        assert_eq!(
            ProtoError::ExpectedDollar(b'x').to_string(),
            "ERR Protocol error: expected '$', got 'x'"
        );
    }

    #[test]
    fn too_big_limits_are_exact() {
        let max = PROTO_INLINE_MAX_SIZE;
        // Header without CR: incomplete while at most 64 KiB are buffered, an error after.
        let mut b = vec![b'*'];
        b.extend(std::iter::repeat_n(b'1', max - 1));
        let (_, p) = parse_all(&b);
        assert_eq!((p.error, p.needed), (None, max + 1));
        b.push(b'1');
        assert_eq!(parse_all(&b).1.error, Some(ProtoError::TooBigMbulkCount));
        // A CR at offset 64 KiB still counts (Redis never saw more than 64 KiB without it).
        let mut b = vec![b'*'];
        b.extend(std::iter::repeat_n(b'1', max - 1));
        b.extend_from_slice(b"\r\n");
        assert_eq!(
            parse_all(&b).1.error,
            Some(ProtoError::InvalidMultibulkLength)
        );
        // Inline: a line of exactly 64 KiB before its LF is fine; one more byte is too big.
        let mut line = b"ECHO ".to_vec();
        line.extend(std::iter::repeat_n(b'x', max - 5));
        let mut ok = line.clone();
        ok.push(b'\n');
        let (c, p) = parse_all(&ok);
        assert_eq!(p.error, None);
        assert_eq!(c[0][1].len(), max - 5);
        let mut bad = line;
        bad.extend_from_slice(b"x\n");
        assert_eq!(parse_all(&bad).1.error, Some(ProtoError::TooBigInline));
        // A bulk header mid-command is measured from its own start.
        let mut b = b"*2\r\n$1\r\na\r\n$".to_vec();
        b.extend(std::iter::repeat_n(b'9', max - 1));
        let (_, p) = parse_all(&b);
        assert_eq!((p.error, p.needed), (None, b.len() + 1));
        b.push(b'9');
        assert_eq!(parse_all(&b).1.error, Some(ProtoError::TooBigBulkCount));
    }

    #[test]
    fn nul_in_a_header_or_line_waits_for_the_limit() {
        // Redis finds line ends with strchr: a NUL hides everything after it.
        for (prefix, off, err) in [
            (&b"\x00"[..], 0, ProtoError::TooBigInline),
            (b"*\x00", 0, ProtoError::TooBigMbulkCount),
            (b"$\x00", 0, ProtoError::TooBigInline),
            (b"PI\x00NG\r\n", 0, ProtoError::TooBigInline),
            (b"*1\x00\r\n$4\r\nPING\r\n", 0, ProtoError::TooBigMbulkCount),
            (b"*1\r\n$4\x00\r\nPING\r\n", 4, ProtoError::TooBigBulkCount),
        ] {
            let (c, p) = parse_all(prefix);
            assert!(c.is_empty());
            assert_eq!(
                (p.consumed, p.error, p.needed),
                (0, None, off + PROTO_INLINE_MAX_SIZE + 1)
            );
            let mut b = prefix.to_vec();
            while b.len() <= off + PROTO_INLINE_MAX_SIZE {
                assert_eq!(parse_all(&b).1.error, None);
                b.extend_from_slice(b"payload\n");
            }
            assert_eq!(parse_all(&b).1.error, Some(err));
        }
        // A NUL inside a bulk payload is just data.
        let (c, _) = parse_all(b"*1\r\n$3\r\n\x00\x00\x00\r\n");
        assert_eq!(c, vec![vec![vec![0u8; 3]]]);
    }

    #[test]
    fn auth_limits() {
        let opts = ParseOptions {
            auth_required: true,
            ..ParseOptions::default()
        };
        let mut b = CmdBatch::new();
        let p = parse_requests_with(b"*11\r\n", &mut b, &opts);
        assert_eq!(p.error, Some(ProtoError::UnauthenticatedMultibulkLength));
        assert_eq!(
            p.error.unwrap().message(),
            "ERR Protocol error: unauthenticated multibulk length"
        );
        let p = parse_requests_with(b"*2\r\n$4\r\nAUTH\r\n$16385\r\n", &mut b, &opts);
        assert_eq!(p.error, Some(ProtoError::UnauthenticatedBulkLength));
        assert_eq!(
            p.error.unwrap().message(),
            "ERR Protocol error: unauthenticated bulk length"
        );
        let p = parse_requests_with(b"*10\r\n$16384\r\n", &mut b, &opts);
        assert_eq!(p.error, None);
        let small = ParseOptions {
            max_bulk_len: 3,
            auth_required: false,
        };
        let p = parse_requests_with(b"*1\r\n$4\r\nPING\r\n", &mut b, &small);
        assert_eq!(p.error, Some(ProtoError::InvalidBulkLength));
    }

    #[test]
    fn huge_declared_lengths_do_not_allocate() {
        let mut b = CmdBatch::new();
        let input = b"*2147483647\r\n$536870912\r\nabc";
        let p = parse_requests(input, &mut b);
        assert_eq!(p.consumed, 0);
        assert_eq!(p.error, None);
        assert_eq!(p.needed, 25 + 536870912 + 2);
        assert!(b.is_empty());
        assert!(b.data.capacity() < 4096 && b.spans.capacity() < 4096);
        // Many complete arguments of a count that never completes: bounded by the input.
        let mut input = b"*2147483647\r\n".to_vec();
        for _ in 0..1000 {
            input.extend_from_slice(b"$1\r\nx\r\n");
        }
        let p = parse_requests(&input, &mut b);
        assert_eq!((p.consumed, p.error), (0, None));
        assert!(b.data.capacity() < 64 * 1024 && b.spans.capacity() < 64 * 1024);
        assert_eq!(b.data_len(), 0);
        // Replies: declared sizes are not trusted either.
        assert_eq!(decode_frame(b"*2147483647\r\n:1\r\n"), Ok(None));
        assert_eq!(decode_frame(b"$9223372036854775807\r\nabc"), Ok(None));
        assert_eq!(frame_len(b"%4611686018427387903\r\n:1\r\n"), Ok(None));
        assert!(frame_len(b"$9223372036854775807\r\n").unwrap().is_none());
    }

    #[test]
    fn abandoned_frame_leaves_batch_untouched() {
        let mut b = CmdBatch::from_args(["GET", "k"]);
        let p = parse_requests(b"*2\r\n$3\r\nSET\r\n$1\r\nk", &mut b);
        assert_eq!(p.consumed, 0);
        assert_eq!(b.len(), 1);
        assert_eq!(b.data_len(), 4);
        let p = parse_requests(b"ECHO \"abc", &mut b);
        assert_eq!((p.consumed, p.needed), (0, 10));
        let p = parse_requests(b"ECHO \"abc\n", &mut b);
        assert_eq!(p.error, Some(ProtoError::UnbalancedQuotes));
        assert_eq!(b.len(), 1);
        assert_eq!(b.data_len(), 4);
        b.push_arg(b"PING");
        b.finish_cmd();
        assert_eq!(cmds_of(&b), vec![v(&[b"GET", b"k"]), v(&[b"PING"])]);
    }

    /// A pipeline of everything the parser accepts.
    fn mixed_pipeline() -> (Vec<u8>, Cmds) {
        let mut input = Vec::new();
        let mut want = Vec::new();
        let mb = |input: &mut Vec<u8>, want: &mut Cmds, args: Cmds| {
            input.extend_from_slice(&multibulk(&args[0]));
            want.push(args[0].clone());
        };
        mb(
            &mut input,
            &mut want,
            vec![v(&[b"SET", b"key:1", b"hello world"])],
        );
        input.extend_from_slice(b"PING\r\n");
        want.push(v(&[b"PING"]));
        input.extend_from_slice(b"*0\r\n\r\n*-1\r\n");
        mb(
            &mut input,
            &mut want,
            vec![v(&[b"ECHO", b"a\r\n\x00b\xff", b""])],
        );
        input.extend_from_slice(b"set k \"v \\x41\\n\" 'q\\'d'\n");
        want.push(v(&[b"set", b"k", b"v A\n", b"q'd"]));
        input.extend_from_slice(b"*1\rZ$4\r\nPING\r\n");
        want.push(v(&[b"PING"]));
        let big = vec![b'z'; 300];
        mb(&mut input, &mut want, vec![vec![b"APPEND".to_vec(), big]]);
        input.extend_from_slice(b"  get   k  \r\n");
        want.push(v(&[b"get", b"k"]));
        (input, want)
    }

    #[test]
    fn pipeline_split_at_every_byte() {
        let (input, want) = mixed_pipeline();
        let (c, p) = parse_all(&input);
        assert_eq!(c, want);
        assert_eq!((p.consumed, p.error), (input.len(), None));
        for k in 0..=input.len() {
            let mut b = CmdBatch::new();
            let p1 = parse_requests(&input[..k], &mut b);
            assert_eq!(p1.error, None);
            assert!(p1.needed >= 1 && p1.consumed + p1.needed > k, "split {k}");
            // Nothing changes until `needed` bytes are there.
            let stall = (p1.consumed + p1.needed - 1).min(input.len());
            let mut b2 = CmdBatch::new();
            let p2 = parse_requests(&input[p1.consumed..stall], &mut b2);
            assert_eq!((p2.consumed, b2.len()), (0, 0), "split {k}");
            let p3 = parse_requests(&input[p1.consumed..], &mut b);
            assert_eq!(p1.consumed + p3.consumed, input.len(), "split {k}");
            assert_eq!(cmds_of(&b), want, "split {k}");
        }
        for chunk in [1, 2, 3, 7, 16, 1000] {
            let (c, e, rest) = feed(&input, &[chunk; 2000]);
            assert_eq!((c, e, rest), (want.clone(), None, 0), "chunk {chunk}");
        }
    }

    #[test]
    fn large_pipeline_in_small_reads_is_linear() {
        // 64 MiB-ish bulk fed in 16 KiB reads: with `needed` the parser runs only twice.
        let mut input = multibulk(&[b"SET".to_vec(), b"k".to_vec(), vec![7u8; 8 << 20]]);
        input.extend_from_slice(b"PING\r\n");
        let mut buf = Vec::new();
        let mut needed = 1;
        let mut calls = 0;
        let mut got = Vec::new();
        for chunk in input.chunks(16 * 1024) {
            buf.extend_from_slice(chunk);
            if buf.len() < needed {
                continue;
            }
            calls += 1;
            let mut b = CmdBatch::new();
            let p = parse_requests(&buf, &mut b);
            for a in b.iter() {
                got.push(a.get(0).to_vec());
            }
            buf.drain(..p.consumed);
            needed = p.needed;
        }
        assert_eq!(got, vec![b"SET".to_vec(), b"PING".to_vec()]);
        assert!(calls <= 3, "{calls} parser calls");
    }

    // ---- frames ----

    fn roundtrip(f: Frame) {
        let enc = f.to_bytes();
        assert_eq!(frame_len(&enc), Ok(Some(enc.len())), "{f:?}");
        assert_eq!(
            decode_frame(&enc),
            Ok(Some((f.clone(), enc.len()))),
            "{f:?}"
        );
        for k in 0..enc.len() {
            assert_eq!(decode_frame(&enc[..k]), Ok(None), "{f:?} cut at {k}");
            assert_eq!(frame_len(&enc[..k]), Ok(None), "{f:?} cut at {k}");
        }
        let mut two = enc.clone();
        two.extend_from_slice(&enc);
        assert_eq!(frame_len(&two), Ok(Some(enc.len())));
    }

    #[test]
    fn every_frame_type_round_trips() {
        let all = vec![
            Frame::simple("OK"),
            Frame::error("ERR wrong"),
            Frame::Integer(0),
            Frame::Integer(i64::MIN),
            Frame::Integer(i64::MAX),
            Frame::bulk(b"a\r\nb\x00"),
            Frame::bulk(b""),
            Frame::Null,
            Frame::NullArray,
            Frame::Array(vec![]),
            Frame::Array(vec![
                Frame::Integer(1),
                Frame::Null,
                Frame::Array(vec![Frame::bulk("x")]),
            ]),
            Frame::Map(vec![
                (Frame::simple("k"), Frame::Double(1.5)),
                (Frame::Integer(2), Frame::Set(vec![])),
            ]),
            Frame::Map(vec![]),
            Frame::Set(vec![Frame::Boolean(true), Frame::Boolean(false)]),
            Frame::Double(0.1),
            Frame::Double(-0.0),
            Frame::Double(1e300),
            Frame::Double(5e-324),
            Frame::Double(f64::INFINITY),
            Frame::Double(f64::NEG_INFINITY),
            Frame::BigNumber(b"-3492890328409238509324850943850943825024385".to_vec()),
            Frame::Verbatim(b"txt".to_vec(), b"Some string\r\nline".to_vec()),
            Frame::Verbatim(b"mkd".to_vec(), b"".to_vec()),
            Frame::Push(vec![
                Frame::bulk("message"),
                Frame::bulk("ch"),
                Frame::bulk("hi"),
            ]),
        ];
        for f in all {
            roundtrip(f);
        }
        assert_eq!(
            format!(
                "{:?}",
                Frame::Array(vec![Frame::bulk(b"a\r\n\xff"), Frame::Null])
            ),
            "Array([Bulk(b\"a\\r\\n\\xff\"), Null])"
        );
        match decode_frame(b",nan\r\n") {
            Ok(Some((Frame::Double(d), 6))) => assert!(d.is_nan()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn decode_wire_examples() {
        let ok = |b: &[u8], f: Frame| assert_eq!(decode_frame(b), Ok(Some((f, b.len()))));
        ok(b"$-1\r\n", Frame::Null);
        ok(b"_\r\n", Frame::Null);
        ok(b"*-1\r\n", Frame::NullArray);
        ok(b",inf\r\n", Frame::Double(f64::INFINITY));
        ok(b",-inf\r\n", Frame::Double(f64::NEG_INFINITY));
        ok(
            b",1.2345678901234567e+20\r\n",
            Frame::Double(1.2345678901234567e20),
        );
        ok(b",10\r\n", Frame::Double(10.0));
        ok(
            b"!21\r\nSYNTAX invalid syntax\r\n",
            Frame::error("SYNTAX invalid syntax"),
        );
        ok(
            b"=15\r\ntxt:Some string\r\n",
            Frame::Verbatim(b"txt".to_vec(), b"Some string".to_vec()),
        );
        ok(
            b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n*2\r\n:1\r\n:2\r\n",
            Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)]),
        );
        ok(
            b"*2\r\n|1\r\n+a\r\n+b\r\n:7\r\n:8\r\n",
            Frame::Array(vec![Frame::Integer(7), Frame::Integer(8)]),
        );
        ok(
            b"%1\r\n+a\r\n*0\r\n",
            Frame::Map(vec![(Frame::simple("a"), Frame::Array(vec![]))]),
        );
        ok(
            b">2\r\n+a\r\n:1\r\n",
            Frame::Push(vec![Frame::simple("a"), Frame::Integer(1)]),
        );
        ok(b"(123\r\n", Frame::BigNumber(b"123".to_vec()));
        for bad in [
            &b"?x\r\n"[..],
            b":12a\r\n",
            b":\r\n",
            b"$-2\r\n",
            b"$3\r\nabcXY",
            b"*-2\r\n",
            b"%-1\r\n",
            b"#x\r\n",
            b"_x\r\n",
            b",abc\r\n",
            b"=3\r\ntxt\r\n",
            b"=5\r\ntxt;a\r\n",
            b"+a\rb\r\n",
            b"(12a\r\n",
            b"$?\r\n",
            b"*?\r\n",
            b":99999999999999999999\r\n",
        ] {
            assert!(
                decode_frame(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
            assert!(
                frame_len(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut deep = Vec::new();
        for _ in 0..=MAX_FRAME_DEPTH {
            deep.extend_from_slice(b"*1\r\n");
        }
        deep.extend_from_slice(b":1\r\n");
        assert!(decode_frame(&deep).is_err());
        assert_eq!(frame_len(&deep[4..]), Ok(Some(deep.len() - 4)));
        let err = frame_len(b"$3\r\nabcXY").unwrap_err();
        assert_eq!(err.offset, 0);
        assert!(err.to_string().contains("CRLF"));
    }

    #[test]
    fn encode_for_each_protocol() {
        let f = Frame::Array(vec![
            Frame::Null,
            Frame::NullArray,
            Frame::Map(vec![(Frame::simple("a"), Frame::Boolean(true))]),
            Frame::Set(vec![Frame::Double(1.5)]),
            Frame::Push(vec![Frame::BigNumber(b"12".to_vec())]),
            Frame::Verbatim(b"txt".to_vec(), b"hi".to_vec()),
            Frame::Simple(b"a\r\nb".to_vec()),
        ]);
        let mut r2 = Vec::new();
        encode_frame_for(&f, Proto::Resp2, &mut r2);
        assert_eq!(
            r2,
            b"*7\r\n$-1\r\n*-1\r\n*2\r\n+a\r\n:1\r\n*1\r\n$3\r\n1.5\r\n*1\r\n$2\r\n12\r\n$2\r\nhi\r\n+a  b\r\n"
                .to_vec()
        );
        let mut r3 = Vec::new();
        encode_frame_for(&f, Proto::Resp3, &mut r3);
        assert_eq!(
            r3,
            b"*7\r\n_\r\n_\r\n%1\r\n+a\r\n#t\r\n~1\r\n,1.5\r\n>1\r\n(12\r\n=6\r\ntxt:hi\r\n+a  b\r\n"
                .to_vec()
        );
        let mut r = Reply::new(Proto::Resp3);
        r.frame(&f);
        assert_eq!(r.buf, r3);
        let mut n = Vec::new();
        encode_frame(
            &Frame::Verbatim(b"markdown".to_vec(), b"x".to_vec()),
            &mut n,
        );
        assert_eq!(n, b"=5\r\nmar:x\r\n".to_vec());
    }

    // ---- reply writer ----

    #[test]
    fn reply_writer_resp2_and_resp3() {
        fn write_all(r: &mut Reply) {
            r.ok();
            r.simple("PONG");
            r.error("ERR bad\r\nthing");
            r.int(-42);
            r.bulk(b"hi");
            r.bulk_int(7);
            r.null();
            r.null_array();
            r.array(2);
            r.map(2);
            r.set(3);
            r.push(3);
            r.double(3.0);
            r.double(f64::INFINITY);
            r.double(0.1);
            r.boolean(true);
            r.boolean(false);
            r.verbatim(b"# Server", "txt");
            r.big_number(b"123");
            r.error_bytes(b"ERR \xff");
            r.raw(b":1\r\n");
        }
        let mut r = Reply::new(Proto::Resp2);
        write_all(&mut r);
        let want2: &[u8] =
            b"+OK\r\n+PONG\r\n-ERR bad  thing\r\n:-42\r\n$2\r\nhi\r\n$1\r\n7\r\n$-1\r\n*-1\r\n\
*2\r\n*4\r\n*3\r\n*3\r\n$1\r\n3\r\n$3\r\ninf\r\n$19\r\n0.10000000000000001\r\n:1\r\n:0\r\n\
$8\r\n# Server\r\n$3\r\n123\r\n-ERR \xff\r\n:1\r\n";
        assert_eq!(r.buf, want2, "{}", String::from_utf8_lossy(&r.buf));
        let mut r = Reply::new(Proto::Resp3);
        write_all(&mut r);
        let want3: &[u8] =
            b"+OK\r\n+PONG\r\n-ERR bad  thing\r\n:-42\r\n$2\r\nhi\r\n$1\r\n7\r\n_\r\n_\r\n\
*2\r\n%2\r\n~3\r\n>3\r\n,3\r\n,inf\r\n,0.10000000000000001\r\n#t\r\n#f\r\n\
=12\r\ntxt:# Server\r\n(123\r\n-ERR \xff\r\n:1\r\n";
        assert_eq!(r.buf, want3, "{}", String::from_utf8_lossy(&r.buf));
        assert_eq!(r.len(), want3.len());
        let mut r = Reply::new(Proto::Resp3);
        r.double(f64::NEG_INFINITY);
        r.verbatim(b"x", "");
        assert_eq!(r.buf, b",-inf\r\n=5\r\n   :x\r\n".to_vec());
        // Every writer output decodes.
        let mut rest: &[u8] = want3;
        while !rest.is_empty() {
            let n = frame_len(rest).unwrap().unwrap();
            rest = &rest[n..];
        }
    }

    // ---- format_double vs C ----

    fn c_g17(v: f64) -> String {
        let mut buf = [0u8; 64];
        // SAFETY: buf is large enough for any %.17g output and NUL-terminated by snprintf.
        let n = unsafe {
            libc::snprintf(
                buf.as_mut_ptr() as *mut libc::c_char,
                buf.len(),
                c"%.17g".as_ptr(),
                v,
            )
        };
        String::from_utf8_lossy(&buf[..n as usize]).into_owned()
    }

    #[test]
    #[allow(clippy::excessive_precision)]
    fn format_double_matches_c() {
        let mut vals = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.5,
            1.5,
            3.0,
            10.0,
            100.0,
            1e15,
            1e16,
            1e17,
            1e-4,
            1e-5,
            9.9999e-5,
            0.0001,
            123456789012345678.0,
            1.0 / 3.0,
            2.0 / 3.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            2.2250738585072009e-308,
            99999999999999999.0,
            9999999999999998.0,
            12345678901234567.0,
            2251799813685246.25,
            2251799813685247.75,
            0.30000000000000004,
            1e21,
            1e22,
            1e-300,
            4.35,
            1e100,
            2.5e-7,
        ];
        let mut x: u64 = 0x9E3779B97F4A7C15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            if f.is_finite() {
                vals.push(f);
            }
            // Values with few digits and mid-range exponents (ties, short fractions).
            let k = (x >> 40) as i64 - (1 << 23);
            vals.push(k as f64 / 4.0);
            vals.push(k as f64 * 1e-3);
            vals.push((x >> 11) as f64 / 8.0);
        }
        for v in vals {
            assert_eq!(format_double(v), c_g17(v), "bits {:#x}", v.to_bits());
        }
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_double(f64::NAN), "nan");
        assert_eq!(format_double(1e17), "1e+17");
        assert_eq!(format_double(0.1), "0.10000000000000001");
        assert_eq!(format_double(1e-5), "1.0000000000000001e-05");
    }

    // ---- property tests ----

    fn arb_frame() -> impl Strategy<Value = Frame> {
        let line = proptest::collection::vec(
            any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
            0..16,
        );
        let bytes = proptest::collection::vec(any::<u8>(), 0..32);
        let leaf = prop_oneof![
            line.clone().prop_map(Frame::Simple),
            line.prop_map(Frame::Error),
            any::<i64>().prop_map(Frame::Integer),
            bytes.clone().prop_map(Frame::Bulk),
            Just(Frame::Null),
            Just(Frame::NullArray),
            any::<f64>().prop_map(Frame::Double),
            prop_oneof![Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(-0.0)]
                .prop_map(Frame::Double),
            any::<bool>().prop_map(Frame::Boolean),
            "-?[1-9][0-9]{0,40}".prop_map(|s| Frame::BigNumber(s.into_bytes())),
            ("[a-z]{3}", bytes).prop_map(|(f, t)| Frame::Verbatim(f.into_bytes(), t)),
        ];
        leaf.prop_filter("no NaN", |f| !matches!(f, Frame::Double(d) if d.is_nan()))
            .prop_recursive(4, 64, 6, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Array),
                    proptest::collection::vec((inner.clone(), inner.clone()), 0..4)
                        .prop_map(Frame::Map),
                    proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Set),
                    proptest::collection::vec(inner, 0..6).prop_map(Frame::Push),
                ]
            })
    }

    fn arb_argv() -> impl Strategy<Value = Vec<Vec<u8>>> {
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..8)
    }

    fn protocol_soup() -> impl Strategy<Value = Vec<u8>> {
        let alphabet: Vec<u8> = b"*$\r\n\r\n0123-9 \"'\\xaA\x00\xffPING".to_vec();
        proptest::collection::vec(proptest::sample::select(alphabet), 0..120)
    }

    proptest! {
        #[test]
        fn prop_multibulk_roundtrip(cmds in proptest::collection::vec(arb_argv(), 1..6)) {
            let mut input = Vec::new();
            for c in &cmds {
                input.extend_from_slice(&multibulk(c));
            }
            let (got, p) = parse_all(&input);
            prop_assert_eq!(&got, &cmds);
            prop_assert_eq!((p.consumed, p.error), (input.len(), None));
            let (got, e, _) = feed(&input, &[5, 1, 13, 2, 64, 3]);
            prop_assert_eq!((got, e), (cmds, None));
        }

        #[test]
        fn prop_inline_roundtrip(cmds in proptest::collection::vec(arb_argv(), 1..6)) {
            let mut input = Vec::new();
            for c in &cmds {
                input.extend_from_slice(&inline(c));
            }
            let (got, p) = parse_all(&input);
            prop_assert_eq!(&got, &cmds);
            prop_assert_eq!((p.consumed, p.error), (input.len(), None));
        }

        #[test]
        fn prop_frame_roundtrip(f in arb_frame()) {
            let mut enc = Vec::new();
            encode_frame(&f, &mut enc);
            prop_assert_eq!(frame_len(&enc), Ok(Some(enc.len())));
            prop_assert_eq!(decode_frame(&enc), Ok(Some((f.clone(), enc.len()))));
            for p in [Proto::Resp2, Proto::Resp3] {
                let mut e = Vec::new();
                encode_frame_for(&f, p, &mut e);
                prop_assert_eq!(frame_len(&e), Ok(Some(e.len())));
            }
            if enc.len() > 1 {
                prop_assert_eq!(frame_len(&enc[..enc.len() - 1]), Ok(None));
            }
        }

        #[test]
        fn prop_any_bytes_split_anywhere_same_result(
            input in protocol_soup(),
            chunks in proptest::collection::vec(1usize..9, 0..40),
        ) {
            let (whole, p) = parse_all(&input);
            let (fed, e, _) = feed(&input, &chunks);
            prop_assert_eq!(&fed, &whole);
            prop_assert_eq!(e, p.error);
            // The reply decoder never panics either.
            let _ = decode_frame(&input);
            let _ = frame_len(&input);
        }
    }
}
