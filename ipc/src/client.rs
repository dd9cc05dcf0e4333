//! A small blocking client for tools (`advkit send`, the inspector, tests):
//! one request at a time, events queued while waiting for a reply.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::protocol::RpcError;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no engine is listening at {}; is `advkit run` running with that name?", path.display())]
    NoEngine { path: PathBuf, source: io::Error },
    #[error("could not connect to {addr}: {source}")]
    Tcp { addr: SocketAddr, source: io::Error },
    #[error("{0}")]
    Rpc(RpcError),
    #[error("the engine closed the connection")]
    Closed,
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
    #[error("the engine sent something that is not a JSON-RPC reply: {0}")]
    Protocol(String),
}

impl ClientError {
    /// `advkit send`'s exit status: 1 for an error reply, 2 when there is
    /// no engine or the connection failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::Rpc(_) => 1,
            _ => 2,
        }
    }
}

/// A successful reply: the result and the tick the engine stamped on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub result: Value,
    pub tick: u64,
}

trait Duplex: io::Read + Write + Send {
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()>;
}

impl Duplex for UnixStream {
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        UnixStream::set_read_timeout(self, t)
    }
}

impl Duplex for TcpStream {
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, t)
    }
}

/// A connection to one engine.
pub struct Client {
    stream: BufReader<Box<dyn Duplex>>,
    next_id: u64,
    events: VecDeque<Value>,
    timeout: Duration,
    line: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("next_id", &self.next_id)
            .finish()
    }
}

impl Client {
    pub fn connect_unix(path: &Path) -> Result<Client, ClientError> {
        let s = UnixStream::connect(path).map_err(|source| ClientError::NoEngine {
            path: path.to_owned(),
            source,
        })?;
        Ok(Client::new(Box::new(s)))
    }

    /// Connects over TCP and authenticates with `token` if given.
    pub fn connect_tcp(addr: SocketAddr, token: Option<&str>) -> Result<Client, ClientError> {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(|source| ClientError::Tcp { addr, source })?;
        let _ = s.set_nodelay(true);
        let mut c = Client::new(Box::new(s));
        if let Some(token) = token {
            c.call("auth", json!({"token": token}))?;
        }
        Ok(c)
    }

    fn new(stream: Box<dyn Duplex>) -> Client {
        Client {
            stream: BufReader::new(stream),
            next_id: 1,
            events: VecDeque::new(),
            timeout: Duration::from_secs(15),
            line: String::new(),
        }
    }

    /// How long [`call`](Self::call) waits for a reply (default 15 s).
    pub fn set_timeout(&mut self, t: Duration) {
        self.timeout = t;
    }

    /// Calls `method` and waits for its reply.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Reply, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let req = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut text = req.to_string();
        text.push('\n');
        self.stream.get_mut().write_all(text.as_bytes())?;
        self.stream.get_ref().set_read_timeout(Some(self.timeout))?;
        loop {
            let msg = self.read_message()?;
            if msg.get("method").is_some() {
                self.events.push_back(msg);
                continue;
            }
            if msg.get("id") != Some(&json!(id)) {
                if msg.get("id") == Some(&Value::Null)
                    && let Some(err) = msg.get("error")
                {
                    return Err(ClientError::Rpc(rpc_error(err)));
                }
                continue;
            }
            let tick = msg.get("tick").and_then(Value::as_u64).unwrap_or(0);
            if let Some(err) = msg.get("error") {
                return Err(ClientError::Rpc(rpc_error(err)));
            }
            return Ok(Reply {
                result: msg.get("result").cloned().unwrap_or(Value::Null),
                tick,
            });
        }
    }

    /// The next event notification, waiting up to `timeout` (`None`:
    /// forever). `Ok(None)` on timeout.
    pub fn next_event(&mut self, timeout: Option<Duration>) -> Result<Option<Value>, ClientError> {
        if let Some(e) = self.events.pop_front() {
            return Ok(Some(e));
        }
        self.stream.get_ref().set_read_timeout(timeout)?;
        loop {
            match self.read_message() {
                Ok(msg) if msg.get("method").is_some() => return Ok(Some(msg)),
                Ok(_) => continue,
                Err(ClientError::Timeout(_)) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    fn read_message(&mut self) -> Result<Value, ClientError> {
        self.line.clear();
        match self.stream.read_line(&mut self.line) {
            Ok(0) => Err(ClientError::Closed),
            Ok(_) => serde_json::from_str(&self.line)
                .map_err(|_| ClientError::Protocol(self.line.trim().to_owned())),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err(ClientError::Timeout(self.timeout))
            }
            Err(e) => Err(e.into()),
        }
    }
}

fn rpc_error(err: &Value) -> RpcError {
    RpcError {
        code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
        message: err
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("error without a message")
            .to_owned(),
        data: err.get("data").cloned(),
    }
}
