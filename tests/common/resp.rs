//! A minimal, exact RESP2/RESP3 client for the tests. It keeps every wire
//! type apart (a RESP3 map is not a flat array, a bulk string is not a status
//! line), which is what the reply-shape tests assert.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Nil,
    Int(i64),
    Bulk(Vec<u8>),
    Simple(String),
    Error(String),
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Double(String),
    Bool(bool),
    Other(String),
}

impl Reply {
    pub fn is_simple(&self, text: &str) -> bool {
        matches!(self, Reply::Simple(s) if s == text)
    }

    /// The error text, panicking on anything else.
    pub fn err(&self) -> &str {
        match self {
            Reply::Error(e) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Reply::Nil)
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    pub fn int(&self) -> i64 {
        match self {
            Reply::Int(n) => *n,
            other => panic!("expected an integer, got {other:?}"),
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Reply::Bulk(b) => b.clone(),
            Reply::Simple(s) => s.as_bytes().to_vec(),
            other => panic!("expected a string, got {other:?}"),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.bytes()).expect("utf-8 reply")
    }

    pub fn array(&self) -> Vec<Reply> {
        match self {
            Reply::Array(items) | Reply::Set(items) => items.clone(),
            other => panic!("expected an array, got {other:?}"),
        }
    }

    /// Every string anywhere in the reply, in wire order.
    pub fn strings(&self) -> Vec<String> {
        match self {
            Reply::Bulk(b) => vec![String::from_utf8_lossy(b).into_owned()],
            Reply::Simple(s) | Reply::Error(s) => vec![s.clone()],
            Reply::Array(items) | Reply::Set(items) => {
                items.iter().flat_map(Reply::strings).collect()
            }
            Reply::Map(pairs) => pairs
                .iter()
                .flat_map(|(k, v)| k.strings().into_iter().chain(v.strings()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Field/value pairs of a RESP3 map or of a RESP2 flat array, in wire order.
    pub fn pairs(&self) -> Vec<(String, Reply)> {
        match self {
            Reply::Map(pairs) => pairs.iter().map(|(k, v)| (k.text(), v.clone())).collect(),
            Reply::Array(items) => {
                assert!(items.len() % 2 == 0, "odd flat map {items:?}");
                items
                    .chunks(2)
                    .map(|kv| (kv[0].text(), kv[1].clone()))
                    .collect()
            }
            other => panic!("expected a map, got {other:?}"),
        }
    }

    /// One field of a map reply.
    pub fn field(&self, name: &str) -> Option<Reply> {
        self.pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

/// Anything that can be one argument of a command.
pub trait Arg {
    fn arg(&self) -> &[u8];
}
impl Arg for &str {
    fn arg(&self) -> &[u8] {
        self.as_bytes()
    }
}
impl Arg for String {
    fn arg(&self) -> &[u8] {
        self.as_bytes()
    }
}
impl Arg for &String {
    fn arg(&self) -> &[u8] {
        self.as_bytes()
    }
}
impl Arg for &[u8] {
    fn arg(&self) -> &[u8] {
        self
    }
}
impl Arg for Vec<u8> {
    fn arg(&self) -> &[u8] {
        self
    }
}
impl Arg for &Vec<u8> {
    fn arg(&self) -> &[u8] {
        self
    }
}

impl Client {
    pub fn connect(port: u16) -> std::io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        stream.set_nodelay(true)?;
        Ok(Client {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    pub fn hello3(&mut self) {
        let r = self.call(&["HELLO", "3"]);
        assert!(matches!(r, Reply::Map(_)), "HELLO 3 failed: {r:?}");
    }

    pub fn call<A: Arg>(&mut self, args: &[A]) -> Reply {
        self.try_call(args).expect("read reply")
    }

    /// Like `call`, but a broken connection is an error, not a panic.
    pub fn try_call<A: Arg>(&mut self, args: &[A]) -> std::io::Result<Reply> {
        self.send_only(args);
        self.read()
    }

    /// Sends several commands at once and reads all their replies.
    pub fn pipeline<A: Arg>(&mut self, commands: &[Vec<A>]) -> Vec<Reply> {
        let mut buf = Vec::new();
        for args in commands {
            encode(&mut buf, args);
        }
        self.writer.write_all(&buf).expect("write");
        commands
            .iter()
            .map(|_| self.read().expect("read reply"))
            .collect()
    }

    pub fn send_only<A: Arg>(&mut self, args: &[A]) {
        let mut buf = Vec::new();
        encode(&mut buf, args);
        let _ = self.writer.write_all(&buf);
    }

    fn line(&mut self) -> std::io::Result<String> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line)?;
        if line.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        line.truncate(line.len().saturating_sub(2));
        Ok(String::from_utf8_lossy(&line).into_owned())
    }

    fn blob(&mut self, len: usize) -> std::io::Result<Vec<u8>> {
        let mut data = vec![0; len + 2];
        self.reader.read_exact(&mut data)?;
        data.truncate(len);
        Ok(data)
    }

    pub fn read(&mut self) -> std::io::Result<Reply> {
        let line = self.line()?;
        let (kind, rest) = line.split_at(1);
        let int = |s: &str| s.parse::<i64>().unwrap_or(-1);
        Ok(match kind {
            "+" => Reply::Simple(rest.into()),
            "-" => Reply::Error(rest.into()),
            ":" => Reply::Int(int(rest)),
            "$" if int(rest) < 0 => Reply::Nil,
            "$" => Reply::Bulk(self.blob(int(rest) as usize)?),
            "*" if int(rest) < 0 => Reply::Nil,
            "*" => Reply::Array(self.items(int(rest) as usize)?),
            "~" => Reply::Set(self.items(int(rest) as usize)?),
            "%" => {
                let mut pairs = Vec::new();
                for _ in 0..int(rest) {
                    pairs.push((self.read()?, self.read()?));
                }
                Reply::Map(pairs)
            }
            "_" => Reply::Nil,
            "#" => Reply::Bool(rest == "t"),
            "," => Reply::Double(rest.into()),
            // A verbatim string (INFO over RESP3): "txt:" then the text.
            "=" => {
                let blob = self.blob(int(rest) as usize)?;
                Reply::Bulk(blob.get(4..).unwrap_or_default().to_vec())
            }
            "!" => Reply::Error(String::from_utf8_lossy(&self.blob(int(rest) as usize)?).into()),
            ">" => Reply::Array(self.items(int(rest) as usize)?),
            _ => Reply::Other(line.clone()),
        })
    }

    fn items(&mut self, n: usize) -> std::io::Result<Vec<Reply>> {
        (0..n).map(|_| self.read()).collect()
    }
}

fn encode<A: Arg>(buf: &mut Vec<u8>, args: &[A]) {
    buf.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        let a = a.arg();
        buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}
