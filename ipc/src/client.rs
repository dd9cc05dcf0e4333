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
use crate::api::{AuthParams, FrameMessage, Method, RpcError, method};

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
    /// `frame` notifications read while waiting for something else.
    frames: VecDeque<Value>,
    timeout: Duration,
    /// The message being read: bytes, so a read cut by a timeout keeps
    /// what it read even inside a UTF-8 character.
    line: Vec<u8>,
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
            frames: VecDeque::new(),
            timeout: Duration::from_secs(15),
            line: Vec::new(),
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
        let id = self.send(method, params)?;
        match self.wait_reply(id, self.timeout)? {
            Some(reply) => Ok(reply),
            None => Err(ClientError::Timeout(self.timeout)),
        }
    }

    /// Sends a request without waiting for its reply: its id, for
    /// [`wait_reply`](Self::wait_reply). [`call`](Self::call) is the two.
    pub fn send(&mut self, method: &str, params: Value) -> Result<u64, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let params = if params.is_null() { json!({}) } else { params };
        let req = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut text = req.to_string();
        text.push('\n');
        self.stream.get_mut().write_all(text.as_bytes())?;
        Ok(id)
    }

    /// Waits up to `wait` for the reply to request `id`: `Ok(None)` when
    /// it has not come yet (call again to go on waiting: a reply cut by
    /// the wait is kept, not lost). Events that come first are queued for
    /// [`next_event`](Self::next_event); replies to other ids (an earlier
    /// request given up on) are skipped.
    pub fn wait_reply(&mut self, id: u64, wait: Duration) -> Result<Option<Reply>, ClientError> {
        // A zero read timeout would mean "block forever".
        self.stream
            .get_ref()
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        loop {
            let msg = match self.read_message() {
                Ok(msg) => msg,
                Err(ClientError::Timeout(_)) => return Ok(None),
                Err(e) => return Err(e),
            };
            if msg.get("method").is_some() {
                self.keep(msg);
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
            return Ok(Some(Reply {
                result: msg.get("result").cloned().unwrap_or(Value::Null),
                tick,
            }));
        }
    }

    /// The next event, waiting up to `timeout` (`None`: forever).
    /// `Ok(None)` on timeout.
    pub fn next_event(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<Notification>, ClientError> {
        let Some(msg) = self.next_notification(false, timeout)? else {
            return Ok(None);
        };
        Notification::from_params(&msg["params"])
            .map(Some)
            .ok_or_else(|| ClientError::Protocol(format!("not an event: {msg}")))
    }

    /// The next `frame` notification (`frame`) or event (not), kept
    /// earlier or read now within `timeout`; the other kind read meanwhile
    /// is kept for its own reader. `Ok(None)` on timeout.
    fn next_notification(
        &mut self,
        frame: bool,
        timeout: Option<Duration>,
    ) -> Result<Option<Value>, ClientError> {
        let kept = if frame {
            &mut self.frames
        } else {
            &mut self.events
        };
        if let Some(msg) = kept.pop_front() {
            return Ok(Some(msg));
        }
        self.stream.get_ref().set_read_timeout(timeout)?;
        loop {
            match self.read_message() {
                Ok(msg) if msg.get("method").is_some() => {
                    if (msg.get("method") == Some(&json!(method::FRAME))) == frame {
                        return Ok(Some(msg));
                    }
                    self.keep(msg);
                }
                Ok(_) => continue,
                Err(ClientError::Timeout(_)) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// A notification read while waiting for a reply, kept for
    /// [`next_event`](Self::next_event) or [`next_frame`](Self::next_frame).
    fn keep(&mut self, msg: Value) {
        if msg.get("method") == Some(&json!(method::FRAME)) {
            self.frames.push_back(msg);
        } else {
            self.events.push_back(msg);
        }
    }

    /// The next `frame` notification (after `frames.subscribe`), waiting
    /// up to `timeout` (`None`: forever); `Ok(None)` on timeout. Events
    /// that come meanwhile are kept for [`next_event`](Self::next_event).
    /// Decode it with a [`FrameDecoder`](crate::stream::FrameDecoder), then
    /// acknowledge it ([`ack_frame`](Self::ack_frame)) to get the next.
    pub fn next_frame(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<FrameMessage>, ClientError> {
        let Some(msg) = self.next_notification(true, timeout)? else {
            return Ok(None);
        };
        serde_json::from_value(msg["params"].clone())
            .map(Some)
            .map_err(|e| ClientError::Protocol(format!("not a frame ({e}): {msg}")))
    }

    /// Drops the `frame` notifications read but not yet taken (those of a
    /// subscription just replaced by a new `frames.subscribe`).
    pub fn clear_frames(&mut self) {
        self.frames.clear();
    }

    /// Acknowledges frame `seq` without waiting for the reply (a
    /// notification): the server may then send the next.
    pub fn ack_frame(&mut self, seq: u64) -> Result<(), ClientError> {
        let mut text =
            json!({"jsonrpc": "2.0", "method": method::FRAMES_ACK, "params": {"seq": seq}})
                .to_string();
        text.push('\n');
        self.stream.get_mut().write_all(text.as_bytes())?;
        Ok(())
    }

    /// The next whole message. A read that times out in the middle of a
    /// line keeps what it read, so the next read finishes the line.
    fn read_message(&mut self) -> Result<Value, ClientError> {
        match self.stream.read_until(b'\n', &mut self.line) {
            Ok(0) if self.line.is_empty() => Err(ClientError::Closed),
            Ok(_) if self.line.last() != Some(&b'\n') => {
                // The stream ended in the middle of a line.
                self.line.clear();
                Err(ClientError::Closed)
            }
            Ok(_) => {
                let parsed = serde_json::from_slice(&self.line).map_err(|_| {
                    ClientError::Protocol(String::from_utf8_lossy(&self.line).trim().to_owned())
                });
                self.line.clear();
                parsed
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err(ClientError::Timeout(self.timeout))
            }
            Err(e) => {
                self.line.clear();
                Err(e.into())
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply that arrives in two parts across short waits (how the
    /// Python binding waits, to see Ctrl-C) is read whole, UTF-8 split
    /// mid-character included.
    #[test]
    fn a_reply_cut_by_a_wait_is_kept_and_finished() {
        let (ours, mut theirs) = UnixStream::pair().expect("pair");
        let mut client = Client::new(Box::new(ours));
        let id = client.send("game.echo", json!({})).expect("send");
        let line = format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":\"héllo\"}}\n");
        let bytes = line.as_bytes();
        let cut = line.find('é').expect("é") + 1; // inside the character
        theirs.write_all(&bytes[..cut]).expect("first part");
        let wait = Duration::from_millis(30);
        assert!(client.wait_reply(id, wait).expect("waits").is_none());
        assert!(client.wait_reply(id, wait).expect("waits").is_none());
        theirs.write_all(&bytes[cut..]).expect("rest");
        let reply = client
            .wait_reply(id, wait)
            .expect("reads")
            .expect("a reply");
        assert_eq!(reply.result, json!("héllo"));
        // The peer goes (unread bytes make it a reset): said, not waited on.
        drop(theirs);
        let end = client.wait_reply(id, wait);
        assert!(
            matches!(end, Err(ClientError::Closed | ClientError::Io(_))),
            "{end:?}"
        );
    }
}
