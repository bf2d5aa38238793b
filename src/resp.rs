//! RESP2/RESP3 wire format: request parsing into a flat argument arena, and a reply writer.
//!
//! This module knows nothing of the keyspace. Requests are parsed "check then parse": an incomplete
//! frame is a normal state (`Ok` with fewer bytes consumed), never an error. Parsed arguments are
//! copied once into a [`CmdBatch`] arena so the read buffer can be compacted freely and nothing the
//! keyspace stores ever pins a network buffer.

/// Redis's `proto-max-bulk-len` default: the largest bulk string a client may send.
pub const PROTO_MAX_BULK_LEN: i64 = 512 * 1024 * 1024;
/// Redis's `PROTO_INLINE_MAX_SIZE`: the longest inline command line (and multibulk/bulk header).
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Redis rejects multibulk counts above `INT_MAX` (1024*1024 for unauthenticated clients is not a
/// limit in 7.0; only the count must fit an int).
pub const PROTO_MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;

/// A batch of parsed commands: every argument of every command lives in one byte arena.
///
/// Why: one allocation-free structure serves both the local path (execute in place) and the
/// forwarding path (the same type is sent to the owning shard), and stored keys/values are copied
/// out of it exactly once.
#[derive(Default, Debug, Clone)]
pub struct CmdBatch {
    data: Vec<u8>,
    /// (start, end) of each argument in `data`.
    spans: Vec<(u32, u32)>,
    /// (first span, span count) of each command.
    cmds: Vec<(u32, u32)>,
    /// Index into `spans` where the command under construction starts.
    open: u32,
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
            spans: &self.spans[first as usize..(first + n) as usize],
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Argv<'_>> {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Appends one argument to the command under construction.
    pub fn push_arg(&mut self, arg: &[u8]) {
        let start = self.data.len() as u32;
        self.data.extend_from_slice(arg);
        self.spans.push((start, self.data.len() as u32));
    }

    /// Reserves room for an argument of `len` bytes and returns it to be filled in place.
    pub fn push_arg_uninit(&mut self, len: usize) -> &mut [u8] {
        let start = self.data.len();
        self.data.resize(start + len, 0);
        self.spans.push((start as u32, (start + len) as u32));
        &mut self.data[start..]
    }

    /// Closes the command under construction (its arguments are those pushed since the last close).
    pub fn finish_cmd(&mut self) {
        let n = self.spans.len() as u32 - self.open;
        self.cmds.push((self.open, n));
        self.open = self.spans.len() as u32;
    }

    /// Forgets arguments pushed since the last `finish_cmd` (a frame that turned out incomplete).
    pub fn abandon_cmd(&mut self) {
        let open = self.open as usize;
        if open < self.spans.len() {
            let start = self.spans[open].0 as usize;
            self.data.truncate(start);
            self.spans.truncate(open);
        }
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
    spans: &'a [(u32, u32)],
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
        &self.data[s as usize..e as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.data;
        self.spans
            .iter()
            .map(move |&(s, e)| &data[s as usize..e as usize])
    }

    /// Arguments `from..` (e.g. the keys of DEL).
    pub fn tail(&self, from: usize) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.data;
        self.spans[from..]
            .iter()
            .map(move |&(s, e)| &data[s as usize..e as usize])
    }
}

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
        self.buf.push(b'-');
        for &b in msg.as_bytes() {
            self.buf
                .push(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.extend_from_slice(b"\r\n");
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

    /// A double: `,<d>` in RESP3, a bulk string in RESP2, printed as Redis prints doubles.
    pub fn double(&mut self, v: f64) {
        let s = format_double(v);
        match self.proto {
            Proto::Resp2 => self.bulk(s.as_bytes()),
            Proto::Resp3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(s.as_bytes());
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

/// Formats a double the way Redis 7.0 replies with one (`%.17g`, then `inf`/`-inf`).
pub fn format_double(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v.is_nan() {
        return "nan".into();
    }
    format_g17(v)
}

/// C's `%.17g`.
fn format_g17(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let s = format!("{:.16e}", v); // 17 significant digits
    let (mant, exp) = s.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    if (-4..17).contains(&exp) {
        let s = format!("{:.*}", (16 - exp).max(0) as usize, v);
        trim_fraction(&s)
    } else {
        let m = trim_fraction(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", m, sign, exp.abs())
    }
}

fn trim_fraction(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}
