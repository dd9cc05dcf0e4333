//! A small blocking client for tools (`advkit send`, the inspector, tests):
//! one request at a time, events queued while waiting for a reply.
//! [`Client::request`] is typed by [`Method`]; [`Client::call`] sends any
//! method by name (a game's own).

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::api::event::Notification;
use crate::api::{AuthParams, Method, RpcError, method};

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
    #[error(
        "engine {name} (pid {pid}) is not responding: silent for {:.1} s, so it is stopped \
         (Ctrl-Z, SIGSTOP), hung or held in a debugger; `kill -CONT {pid}` resumes a stopped one, \
         `kill {pid}` ends it",
        silent.as_secs_f64()
    )]
    NotResponding {
        name: String,
        pid: u32,
        silent: Duration,
    },
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
pub struct Reply<T = Value> {
    pub result: T,
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
            c.request::<method::Auth>(&AuthParams {
                token: token.to_owned(),
            })?;
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

    /// Calls a built-in method with typed params and waits for its typed
    /// result.
    pub fn request<M: Method>(
        &mut self,
        params: &M::Params,
    ) -> Result<Reply<M::Result>, ClientError> {
        let params = serde_json::to_value(params)
            .map_err(|e| ClientError::Protocol(format!("params not serialisable: {e}")))?;
        let reply = self.call(M::NAME, params)?;
        let result = serde_json::from_value(reply.result).map_err(|e| {
            ClientError::Protocol(format!("{} answered in an unexpected shape: {e}", M::NAME))
        })?;
        Ok(Reply {
            result,
            tick: reply.tick,
        })
    }

    /// Calls any method by name and waits for its reply. `params` is an
    /// object; `Value::Null` is sent as `{}` (on the wire `null` would make
    /// the request invalid).
    pub fn call(&mut self, method: &str, params: Value) -> Result<Reply, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let params = if params.is_null() { json!({}) } else { params };
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

    /// The next event, waiting up to `timeout` (`None`: forever).
    /// `Ok(None)` on timeout.
    pub fn next_event(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<Notification>, ClientError> {
        let msg = match self.events.pop_front() {
            Some(e) => e,
            None => {
                self.stream.get_ref().set_read_timeout(timeout)?;
                loop {
                    match self.read_message() {
                        Ok(msg) if msg.get("method").is_some() => break msg,
                        Ok(_) => continue,
                        Err(ClientError::Timeout(_)) => return Ok(None),
                        Err(e) => return Err(e),
                    }
                }
            }
        };
        Notification::from_params(&msg["params"])
            .map(Some)
            .ok_or_else(|| ClientError::Protocol(format!("not an event: {msg}")))
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
    serde_json::from_value(err.clone()).unwrap_or_else(|_| {
        RpcError::new(
            crate::api::codes::INTERNAL_ERROR,
            format!("an error reply that is not {{code, message}}: {err}"),
        )
    })
}
