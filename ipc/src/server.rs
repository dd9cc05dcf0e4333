//! The control server: tokio, on its own thread, one task per connection.
//!
//! It answers what it can from [`Shared`] (hello, params.list/get,
//! engine.stats, rpc.discover, subscriptions) and forwards everything else
//! to the game loop through a bounded mailbox, each request with its own
//! reply channel. Shutdown comes from outside (`serve(…, shutdown)`), and
//! `serve` returns only when every connection task has finished.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{broadcast, oneshot, watch};
use tokio::task::JoinSet;

use crate::methods::{self, LOCAL};
use crate::protocol::{self, RpcError, codes};

/// An event, serialised once and shared by every subscriber.
#[derive(Debug, Clone)]
pub struct Event {
    pub topic: &'static str,
    pub line: Arc<str>,
}

/// What connection tasks read without asking the game loop.
#[derive(Debug)]
pub struct Shared {
    pub tick: AtomicU64,
    pub clients: AtomicUsize,
    pub max_connections: usize,
    /// The static part of `hello` (engine, region, geometry).
    pub hello: RwLock<Value>,
    /// `params.list`'s result: `{revision, params: [spec + value + pending]}`.
    pub params: RwLock<Value>,
    /// `engine.stats`'s result, refreshed by the loop (`clients` added here).
    pub stats: RwLock<Value>,
    pub events: broadcast::Sender<Event>,
    /// TCP auth token; `None` when TCP is off.
    pub token: Option<String>,
}

impl Shared {
    pub fn new(max_connections: usize, token: Option<String>) -> Shared {
        Shared {
            tick: AtomicU64::new(0),
            clients: AtomicUsize::new(0),
            max_connections,
            hello: RwLock::new(json!({})),
            params: RwLock::new(json!({"revision": 0, "params": []})),
            stats: RwLock::new(json!({})),
            // Bounded: a subscriber that falls this far behind is told it lagged.
            events: broadcast::channel(1024).0,
            token,
        }
    }

    pub fn tick(&self) -> u64 {
        self.tick.load(Ordering::Relaxed)
    }

    /// Sends an event to every subscriber of `topic`; never blocks.
    pub fn emit(&self, topic: &'static str, kind: &str, data: &Value) {
        if self.events.receiver_count() == 0 {
            return;
        }
        let line = protocol::event(topic, kind, self.tick(), data);
        let _ = self.events.send(Event {
            topic,
            line: line.into(),
        });
    }
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    match lock.read() {
        Ok(v) => v.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

/// A request for the game loop.
#[derive(Debug)]
pub struct Command {
    pub method: String,
    pub params: Value,
    /// Which connection sent it (for `params` events' `by`).
    pub client: u64,
    reply: Option<oneshot::Sender<Result<Value, RpcError>>>,
}

impl Command {
    /// A command made in-process (tests, the loop itself); its reply is dropped.
    pub fn local(method: &str, params: Value) -> Command {
        Command {
            method: method.to_owned(),
            params,
            client: 0,
            reply: None,
        }
    }

    /// Answers the client. Dropping a command without replying answers
    /// "engine gone".
    pub fn reply(mut self, result: Result<Value, RpcError>) {
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(result);
        }
    }
}

pub type Mailbox = std::sync::mpsc::SyncSender<Command>;

/// Accepts connections until `shutdown` resolves, then tells every
/// connection to finish and waits for them.
pub async fn serve(
    unix: UnixListener,
    tcp: Option<TcpListener>,
    shared: Arc<Shared>,
    mailbox: Mailbox,
    shutdown: impl Future<Output = ()>,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let next_id = AtomicU64::new(1);
    tokio::pin!(shutdown);
    loop {
        let accepted: Option<(Box<dyn Stream>, bool)> = tokio::select! {
            () = &mut shutdown => break,
            Ok((s, _)) = unix.accept() => Some((Box::new(s), true)),
            Ok((s, _)) = accept_tcp(tcp.as_ref()) => {
                let _ = s.set_nodelay(true);
                Some((Box::new(s), false))
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => None,
        };
        let Some((stream, trusted)) = accepted else {
            continue;
        };
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let (shared, mailbox, stop) = (Arc::clone(&shared), mailbox.clone(), stop_rx.clone());
        if shared.clients.fetch_add(1, Ordering::AcqRel) >= shared.max_connections {
            tasks.spawn(async move {
                refuse(stream, &shared).await;
                shared.clients.fetch_sub(1, Ordering::AcqRel);
            });
            continue;
        }
        tasks.spawn(async move {
            let mut conn = Connection::new(id, trusted, shared.clone(), mailbox);
            conn.run(stream, stop).await;
            shared.clients.fetch_sub(1, Ordering::AcqRel);
        });
    }
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

async fn accept_tcp(
    tcp: Option<&TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, std::net::SocketAddr)> {
    match tcp {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

async fn refuse(mut stream: Box<dyn Stream>, shared: &Shared) {
    let err = RpcError::new(
        codes::TOO_MANY_CONNECTIONS,
        format!(
            "too many connections ({} is the limit); close some and retry",
            shared.max_connections
        ),
    );
    let line = protocol::error_response(None, shared.tick(), &err);
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(line.as_bytes())).await;
    let _ = stream.shutdown().await;
}

/// How long a request may wait for the game loop before the client is told.
const LOOP_TIMEOUT: Duration = Duration::from_secs(10);

struct Connection {
    id: u64,
    authed: bool,
    shared: Arc<Shared>,
    mailbox: Mailbox,
    topics: BTreeSet<&'static str>,
    /// Only while subscribed: an idle connection holds no receiver, so
    /// events are not even serialised unless someone listens.
    events: Option<broadcast::Receiver<Event>>,
}

enum Next {
    Continue,
    Close,
}

impl Connection {
    fn new(id: u64, trusted: bool, shared: Arc<Shared>, mailbox: Mailbox) -> Connection {
        Connection {
            id,
            authed: trusted,
            shared,
            mailbox,
            topics: BTreeSet::new(),
            events: None,
        }
    }

    async fn run(&mut self, stream: Box<dyn Stream>, mut stop: watch::Receiver<bool>) {
        let (mut rd, mut wr) = tokio::io::split(stream);
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        let mut out = String::new();
        loop {
            // Every complete line first (pipelined requests), replies batched.
            loop {
                match protocol::find_line(&buf) {
                    Ok(Some(end)) => {
                        let line: Vec<u8> = buf.drain(..=end).collect();
                        if let Some(reply) = self.handle_line(&line[..end]).await {
                            out.push_str(&reply);
                        }
                    }
                    Ok(None) => break,
                    Err(err) => {
                        out.push_str(&protocol::error_response(None, self.shared.tick(), &err));
                        let _ = wr.write_all(out.as_bytes()).await;
                        return;
                    }
                }
            }
            if !out.is_empty() {
                if wr.write_all(out.as_bytes()).await.is_err() {
                    return;
                }
                out.clear();
            }
            let next = tokio::select! {
                n = rd.read_buf(&mut buf) => match n {
                    Ok(0) | Err(_) => Next::Close,
                    Ok(_) => Next::Continue,
                },
                ev = next_event(&mut self.events), if self.events.is_some() => match ev {
                    Ok(e) => {
                        if self.topics.contains(e.topic) {
                            out.push_str(&e.line);
                        }
                        Next::Continue
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        out.push_str(&protocol::event(
                            "engine",
                            "lagged",
                            self.shared.tick(),
                            &json!({"missed": missed, "hint": "this client read too slowly; events were dropped"}),
                        ));
                        Next::Continue
                    }
                    Err(broadcast::error::RecvError::Closed) => Next::Close,
                },
                _ = stop.changed() => Next::Close,
            };
            if matches!(next, Next::Close) {
                let _ = wr.write_all(out.as_bytes()).await;
                return;
            }
        }
    }

    /// One line in, at most one reply line out.
    async fn handle_line(&mut self, line: &[u8]) -> Option<String> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let req = match protocol::parse_request(line) {
            Ok(r) => r,
            Err((id, err)) => {
                return Some(protocol::error_response(
                    id.as_ref(),
                    self.shared.tick(),
                    &err,
                ));
            }
        };
        let result = self.dispatch(&req.method, req.params).await;
        let id = req.id?;
        let tick = self.shared.tick();
        Some(match result {
            Ok(v) => protocol::response(&id, tick, &v),
            Err(e) => protocol::error_response(Some(&id), tick, &e),
        })
    }

    async fn dispatch(&mut self, method: &str, params: Value) -> Result<Value, RpcError> {
        if !self.authed && !matches!(method, "hello" | "auth") {
            return Err(RpcError::new(
                codes::AUTH_REQUIRED,
                "this TCP connection must call `auth` with the token from <runtime dir>/<name>.token first",
            ));
        }
        methods::check_params(method, &params)?;
        match method {
            "hello" => {
                let mut hello = read(&self.shared.hello);
                let list = read(&self.shared.params);
                hello["params"] = list["params"].clone();
                hello["revision"] = list["revision"].clone();
                hello["authenticated"] = json!(self.authed);
                Ok(hello)
            }
            "auth" => self.auth(&params),
            "rpc.discover" => Ok(methods::discover()),
            "params.list" => Ok(read(&self.shared.params)),
            "params.get" => {
                let list = self.shared.params.read().unwrap_or_else(|p| p.into_inner());
                params_get(&list, &params)
            }
            "engine.stats" => {
                let mut stats = read(&self.shared.stats);
                stats["clients"] = json!(self.shared.clients.load(Ordering::Relaxed));
                stats["tick"] = json!(self.shared.tick());
                Ok(stats)
            }
            "events.subscribe" | "events.unsubscribe" => self.subscription(method, &params),
            _ if LOCAL.contains(&method) => {
                Err(RpcError::new(codes::INTERNAL_ERROR, "unrouted method"))
            }
            _ if methods::find(method).is_none() => Err(RpcError::method_not_found(method)),
            _ => self.ask_loop(method, params).await,
        }
    }

    fn auth(&mut self, params: &Value) -> Result<Value, RpcError> {
        let given = params.get("token").and_then(Value::as_str).unwrap_or("");
        match &self.shared.token {
            None => Ok(json!({"authenticated": true})),
            Some(token) if constant_time_eq(token.as_bytes(), given.as_bytes()) => {
                self.authed = true;
                Ok(json!({"authenticated": true}))
            }
            Some(_) => Err(RpcError::new(
                codes::AUTH_FAILED,
                "wrong token; read it from <runtime dir>/<name>.token on the engine's machine",
            )),
        }
    }

    fn subscription(&mut self, method: &str, params: &Value) -> Result<Value, RpcError> {
        let requested: Vec<&'static str> = match params.get("topics") {
            None => protocol::TOPICS.to_vec(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|t| {
                    t.as_str()
                        .and_then(|t| protocol::TOPICS.iter().find(|&&k| k == t).copied())
                        .ok_or_else(|| {
                            RpcError::invalid_params(format!(
                                "topics: unknown topic {t}; choose from {}",
                                protocol::TOPICS.join(", ")
                            ))
                        })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(RpcError::invalid_params("topics must be a list of strings")),
        };
        if method == "events.subscribe" {
            self.topics.extend(requested);
        } else {
            for t in requested {
                self.topics.remove(t);
            }
        }
        // Start from now when subscribing; drop the receiver when no topic
        // is left.
        if self.topics.is_empty() {
            self.events = None;
        } else if self.events.is_none() {
            self.events = Some(self.shared.events.subscribe());
        }
        Ok(json!({"topics": self.topics}))
    }

    async fn ask_loop(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let (tx, rx) = oneshot::channel();
        let cmd = Command {
            method: method.to_owned(),
            params,
            client: self.id,
            reply: Some(tx),
        };
        match self.mailbox.try_send(cmd) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(_)) => {
                return Err(RpcError::new(
                    codes::BUSY,
                    "the engine's mailbox is full; retry in a moment",
                ));
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => return Err(gone()),
        }
        match tokio::time::timeout(LOOP_TIMEOUT, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(gone()),
            Err(_) => Err(RpcError::new(
                codes::ENGINE_GONE,
                format!(
                    "the engine loop did not answer within {} s",
                    LOOP_TIMEOUT.as_secs()
                ),
            )),
        }
    }
}

/// The next event, or never when not subscribed.
async fn next_event(
    rx: &mut Option<broadcast::Receiver<Event>>,
) -> Result<Event, broadcast::error::RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn gone() -> RpcError {
    RpcError::new(codes::ENGINE_GONE, "the engine is shutting down")
}

fn params_get(list: &Value, params: &Value) -> Result<Value, RpcError> {
    let all: &[Value] = list["params"].as_array().map_or(&[], Vec::as_slice);
    let names: Vec<String> = match params.get("names").or_else(|| params.get("name")) {
        None => return Ok(json!({"revision": list["revision"], "values": values_of(all, None)})),
        Some(Value::String(n)) => vec![n.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| RpcError::invalid_params("names must be a list of strings"))?,
        Some(_) => return Err(RpcError::invalid_params("names must be a list of strings")),
    };
    for n in &names {
        if !all.iter().any(|p| p["name"] == n.as_str()) {
            let known: Vec<&str> = all.iter().filter_map(|p| p["name"].as_str()).collect();
            return Err(RpcError::invalid_params(format!(
                "names: unknown parameter `{n}`; known: {}",
                known.join(", ")
            )));
        }
    }
    Ok(json!({"revision": list["revision"], "values": values_of(all, Some(&names))}))
}

fn values_of(all: &[Value], names: Option<&[String]>) -> Value {
    let mut out = serde_json::Map::new();
    for p in all {
        let Some(name) = p["name"].as_str() else {
            continue;
        };
        if names.is_none_or(|ns| ns.iter().any(|n| n == name)) {
            out.insert(name.to_owned(), p["value"].clone());
        }
    }
    Value::Object(out)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
