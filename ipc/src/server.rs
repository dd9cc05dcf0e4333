//! The control server: tokio, on its own thread, one task per connection.
//!
//! It checks every request against the engine's method table (unknown
//! method −32601, params that do not fit the schema −32602) and answers
//! what it can from [`Shared`] (hello, params.list/get, engine.stats,
//! rpc.discover, subscriptions). Everything else goes to the game loop
//! through a bounded mailbox, each request with its own reply channel,
//! where [`Host`](crate::Host) answers the generic methods and hands the
//! game its own. Shutdown comes from outside (`serve(…, shutdown)`), and
//! `serve` returns only when every connection task has finished.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use advkit_params::Params;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{broadcast, oneshot, watch};
use tokio::task::JoinSet;

use crate::api::{
    AuthParams, AuthResult, DiscoverResult, Event, HelloResult, MethodSpec, ParamValues,
    ParamsGetParams, ParamsListResult, RpcError, StatsResult, Tier, Topic, TopicsParams,
    TopicsResult, codes, method,
};
use crate::protocol;
use crate::stream::FrameStream;

/// An event, serialised once and shared by every subscriber.
#[derive(Debug, Clone)]
pub struct Broadcast {
    pub topic: Option<Topic>,
    pub line: Arc<str>,
    /// How many events of each topic had been sent, this one included: a
    /// subscriber that lagged counts from these exactly how many events of
    /// *its* topics it missed.
    pub sent: Sent,
}

/// Events sent so far, per topic (indexed by `Topic as usize`).
pub type Sent = [u64; Topic::ALL.len()];

/// How many connections each transport admits, and how long a connection
/// may take over what it owes. Each transport has its own cap, so
/// connections over TCP (which anyone who can reach the port may open,
/// token or not) can never lock the owner out of the Unix socket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Unix-socket connections (only the owner can open them: mode 0600).
    pub unix: usize,
    /// TCP connections, authenticated or not.
    pub tcp: usize,
    /// TCP connections that have not called `auth` yet (OpenSSH's
    /// `MaxStartups`).
    pub unauthenticated: usize,
    /// A TCP connection must authenticate within this of connecting
    /// (OpenSSH's `LoginGraceTime`).
    pub auth_timeout: Duration,
    /// Once a line's first byte has arrived, its newline must follow
    /// within this (nginx's `client_header_timeout`): a client sending a
    /// byte a second cannot hold a connection.
    pub line_timeout: Duration,
    /// Close a connection that sent nothing for this long and subscribed
    /// to no events (Redis's `timeout`); `None`: never.
    pub idle_timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            unix: 256,
            tcp: 256,
            unauthenticated: 32,
            auth_timeout: Duration::from_secs(5),
            line_timeout: Duration::from_secs(30),
            idle_timeout: None,
        }
    }
}

/// Open connections, by kind.
#[derive(Debug, Default)]
pub struct Counts {
    pub unix: AtomicUsize,
    pub tcp: AtomicUsize,
    pub unauthenticated: AtomicUsize,
}

/// What connection tasks read without asking the game loop.
#[derive(Debug)]
pub struct Shared {
    pub tick: AtomicU64,
    pub open: Counts,
    pub limits: Limits,
    /// `hello` without params, revision and `authenticated`.
    pub hello: HelloResult,
    /// Every method this engine answers: the host's and the game's.
    pub methods: Vec<MethodSpec>,
    /// The registry as the loop last left it.
    pub params: RwLock<Params>,
    /// `engine.stats`, refreshed by the loop (`clients` and `tick` added here).
    pub stats: RwLock<StatsResult>,
    pub events: broadcast::Sender<Broadcast>,
    /// Per-topic counts; the lock also orders sends against subscriptions.
    sent: Mutex<Sent>,
    /// TCP tokens and what each allows; empty when TCP is off.
    pub tokens: Vec<(Tier, String)>,
    /// Requests of the game's own applied since the host last looked:
    /// `(tick, method, params)`, for its history.
    applied: Mutex<Vec<(u64, String, Value)>>,
}

impl Shared {
    pub fn new(
        hello: HelloResult,
        methods: Vec<MethodSpec>,
        params: Params,
        limits: Limits,
        tokens: Vec<(Tier, String)>,
    ) -> Shared {
        Shared {
            tick: AtomicU64::new(0),
            open: Counts::default(),
            limits,
            hello,
            methods,
            params: RwLock::new(params),
            stats: RwLock::new(StatsResult {
                tick: 0,
                fps: 0.0,
                target_fps: 0.0,
                tick_ms_p50: 0.0,
                tick_ms_p99: 0.0,
                frames_published: 0,
                paused: false,
                uptime_s: 0,
                clients: 0,
                history: None,
            }),
            // Bounded: a subscriber that falls this far behind is told it lagged.
            events: broadcast::channel(1024).0,
            sent: Mutex::new([0; Topic::ALL.len()]),
            tokens,
            applied: Mutex::new(Vec::new()),
        }
    }

    /// The log of applied requests the host drains into its history.
    pub(crate) fn applied_log(&self) -> std::sync::MutexGuard<'_, Vec<(u64, String, Value)>> {
        lock(&self.applied)
    }

    pub fn tick(&self) -> u64 {
        self.tick.load(Ordering::Relaxed)
    }

    /// Sends an event to every subscriber of its topic; never blocks.
    pub fn emit(&self, event: &Event) {
        if self.events.receiver_count() == 0 {
            return;
        }
        let line = protocol::event(event, self.tick());
        let topic = event.topic();
        let mut sent = lock(&self.sent);
        if let Some(t) = topic {
            sent[t as usize] += 1;
        }
        let _ = self.events.send(Broadcast {
            topic,
            line: line.into(),
            sent: *sent,
        });
    }

    /// A receiver of every event from now on, and the counts it starts from.
    fn subscribe(&self) -> (broadcast::Receiver<Broadcast>, Sent) {
        let sent = lock(&self.sent);
        (self.events.subscribe(), *sent)
    }

    pub fn method(&self, name: &str) -> Option<&MethodSpec> {
        self.methods.iter().find(|m| m.name == name)
    }

    /// Connections open now, over both transports.
    pub fn clients(&self) -> usize {
        self.open.unix.load(Ordering::Relaxed) + self.open.tcp.load(Ordering::Relaxed)
    }
}

/// One counted connection of a kind; uncounted when dropped.
struct Counted {
    shared: Arc<Shared>,
    count: fn(&Counts) -> &AtomicUsize,
}

impl Counted {
    /// Counts one more, or `None` when `limit` is already reached.
    fn take(
        shared: &Arc<Shared>,
        count: fn(&Counts) -> &AtomicUsize,
        limit: usize,
    ) -> Option<Counted> {
        let n = count(&shared.open);
        n.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
            (v < limit).then_some(v + 1)
        })
        .ok()?;
        Some(Counted {
            shared: Arc::clone(shared),
            count,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        (self.count)(&self.shared.open).fetch_sub(1, Ordering::AcqRel);
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A request for the game loop, as the server hands it over.
#[derive(Debug)]
pub struct Command {
    pub method: String,
    /// Already checked against the method's schema.
    pub params: Value,
    /// Which connection sent it (for `params` events' `by`).
    pub client: u64,
    pub(crate) reply: oneshot::Sender<Result<Value, RpcError>>,
    /// Not a request: a [`Waker`](crate::host::Waker)'s nudge, which ends
    /// the loop's wait for one.
    pub(crate) wake: bool,
}

impl Command {
    pub(crate) fn wake() -> Command {
        Command {
            method: String::new(),
            params: Value::Null,
            client: 0,
            reply: oneshot::channel().0,
            wake: true,
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
        let admitted = if trusted {
            admit_unix(&shared)
        } else {
            admit_tcp(&shared)
        };
        match admitted {
            Ok((slot, unauthenticated)) => {
                tasks.spawn(async move {
                    let mut conn = Connection::new(id, trusted, shared, mailbox);
                    conn.unauthenticated = unauthenticated;
                    conn.run(stream, stop).await;
                    drop(slot);
                });
            }
            // Refusals are few at a time: a refused connection costs one
            // short write, bounded by a second.
            Err(why) => {
                tasks.spawn(async move { refuse(stream, &shared, why).await });
            }
        }
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

/// A Unix-socket connection's slot.
fn admit_unix(shared: &Arc<Shared>) -> Result<(Counted, Option<Counted>), String> {
    let limit = shared.limits.unix;
    match Counted::take(shared, |c| &c.unix, limit) {
        Some(slot) => Ok((slot, None)),
        None => Err(format!(
            "too many connections on the Unix socket ({limit} is the limit); close some and retry"
        )),
    }
}

/// A TCP connection's slot, and its place among the unauthenticated.
fn admit_tcp(shared: &Arc<Shared>) -> Result<(Counted, Option<Counted>), String> {
    let limits = shared.limits;
    let Some(slot) = Counted::take(shared, |c| &c.tcp, limits.tcp) else {
        return Err(format!(
            "too many TCP connections ({} is the limit); close some and retry \
             (the Unix socket has a limit of its own)",
            limits.tcp
        ));
    };
    let Some(unauthenticated) =
        Counted::take(shared, |c| &c.unauthenticated, limits.unauthenticated)
    else {
        return Err(format!(
            "too many TCP connections waiting to authenticate ({} is the limit); \
             retry in {} s, when those that never authenticate are closed",
            limits.unauthenticated,
            limits.auth_timeout.as_secs_f64().ceil()
        ));
    };
    Ok((slot, Some(unauthenticated)))
}

async fn refuse(mut stream: Box<dyn Stream>, shared: &Shared, why: String) {
    let err = RpcError::new(codes::TOO_MANY_CONNECTIONS, why);
    let line = protocol::error_response(None, shared.tick(), &err);
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(line.as_bytes())).await;
    let _ = stream.shutdown().await;
}

/// How long a request may wait for the game loop before the client is told.
const LOOP_TIMEOUT: Duration = Duration::from_secs(10);
const RUN_UNTIL_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// One client: reads lines, answers them in order, and forwards the
/// events it subscribed to.
struct Connection {
    id: u64,
    /// What it may call: `admin` for the Unix socket's owner, a TCP
    /// connection's token's tier once it authenticated, `None` before.
    tier: Option<Tier>,
    /// A TCP connection's place among those yet to authenticate.
    unauthenticated: Option<Counted>,
    shared: Arc<Shared>,
    mailbox: Mailbox,
    topics: BTreeSet<Topic>,
    /// Only while subscribed: an idle connection holds no receiver, so
    /// events are not even serialised unless someone listens.
    events: Option<broadcast::Receiver<Broadcast>>,
    /// The per-topic counts as of the last event received.
    seen: Sent,
    /// The receiver fell behind; the next event says by how much.
    lagging: bool,
    /// Frames it subscribed to (`frames.subscribe`).
    frames: Option<FrameStream>,
}

enum Next {
    Continue,
    Close,
    /// A deadline passed.
    Expired(Deadline),
}

/// What a connection owes by when ([`Limits`]).
#[derive(Debug, Clone, Copy)]
enum Deadline {
    Auth,
    Line,
    Idle,
}

impl Deadline {
    /// The reason sent before closing; `partial` bytes of a line had come.
    fn message(self, limits: &Limits, partial: usize) -> String {
        let secs = |d: Duration| d.as_secs_f64();
        match self {
            Deadline::Auth => format!(
                "no `auth` within {} s of connecting; the connection is closed \
                 (send `auth` with the token from <runtime dir>/<name>.token first)",
                secs(limits.auth_timeout)
            ),
            Deadline::Line => format!(
                "a request line took over {} s to arrive ({partial} bytes and no newline); \
                 the connection is closed",
                secs(limits.line_timeout)
            ),
            Deadline::Idle => format!(
                "nothing sent for {} s (the engine's idle timeout); the connection is closed",
                secs(limits.idle_timeout.unwrap_or_default())
            ),
        }
    }
}

impl Connection {
    fn new(id: u64, trusted: bool, shared: Arc<Shared>, mailbox: Mailbox) -> Connection {
        Connection {
            id,
            tier: trusted.then_some(Tier::Admin),
            unauthenticated: None,
            shared,
            mailbox,
            topics: BTreeSet::new(),
            events: None,
            seen: Sent::default(),
            lagging: false,
            frames: None,
        }
    }

    async fn run(&mut self, stream: Box<dyn Stream>, mut stop: watch::Receiver<bool>) {
        let (mut rd, mut wr) = tokio::io::split(stream);
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        let mut out = String::new();
        let opened = Instant::now();
        let mut last_read = opened;
        // When the first byte of the line still incomplete in `buf` came.
        let mut line_started: Option<Instant> = None;
        loop {
            // Every complete line first (pipelined requests), replies batched.
            loop {
                match protocol::find_line(&buf) {
                    Ok(Some(end)) => {
                        let line: Vec<u8> = buf.drain(..=end).collect();
                        line_started = None;
                        if let Some(reply) = self.handle_line(&line[..end]).await {
                            out.push_str(&reply);
                        }
                    }
                    Ok(None) => break,
                    Err(err) => {
                        out.push_str(&protocol::error_response(None, self.shared.tick(), &err));
                        write_last(&mut wr, &out).await;
                        return;
                    }
                }
            }
            if !buf.is_empty() {
                line_started.get_or_insert(last_read);
            }
            if !out.is_empty() {
                // Only a connection yet to authenticate is held to a
                // deadline while its replies wait for it to read them.
                let written = match self.auth_deadline(opened) {
                    Some(at) => tokio::time::timeout_at(at, wr.write_all(out.as_bytes()))
                        .await
                        .unwrap_or(Err(std::io::ErrorKind::TimedOut.into())),
                    None => wr.write_all(out.as_bytes()).await,
                };
                if written.is_err() {
                    return;
                }
                out.clear();
            }
            let deadline = self.deadline(opened, last_read, line_started);
            let next = tokio::select! {
                n = rd.read_buf(&mut buf) => match n {
                    Ok(0) | Err(_) => Next::Close,
                    Ok(_) => {
                        last_read = Instant::now();
                        Next::Continue
                    }
                },
                ev = next_event(&mut self.events), if self.events.is_some() => match ev {
                    Ok(e) => {
                        self.deliver(&e, &mut out);
                        Next::Continue
                    }
                    // The queue dropped events of every topic; which of them
                    // were this connection's shows in the counts of the next
                    // event, which is ready at once (the queue is full).
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.lagging = true;
                        Next::Continue
                    }
                    Err(broadcast::error::RecvError::Closed) => Next::Close,
                },
                () = sleep_until(self.frames.as_ref().and_then(FrameStream::due).map(Instant::from_std)),
                    if self.frames.is_some() =>
                {
                    if let Some(line) = self.frames.as_mut().and_then(FrameStream::poll) {
                        out.push_str(&line);
                    }
                    Next::Continue
                }
                () = sleep_until(deadline.as_ref().map(|(at, _)| *at)) => match deadline {
                    Some((_, which)) => Next::Expired(which),
                    None => Next::Continue,
                },
                _ = stop.changed() => {
                    self.refuse_pending(&mut rd, &mut buf, &mut out).await;
                    Next::Close
                }
            };
            match next {
                Next::Continue => {}
                Next::Close => {
                    write_last(&mut wr, &out).await;
                    return;
                }
                Next::Expired(which) => {
                    let err = RpcError::new(
                        codes::TIMED_OUT,
                        which.message(&self.shared.limits, buf.len()),
                    );
                    out.push_str(&protocol::error_response(None, self.shared.tick(), &err));
                    write_last(&mut wr, &out).await;
                    return;
                }
            }
        }
    }

    /// At shutdown: every request already sent (in `buf`, or waiting in
    /// the socket) is answered −32006 at once rather than dropped.
    async fn refuse_pending(
        &self,
        rd: &mut (impl AsyncRead + Unpin),
        buf: &mut Vec<u8>,
        out: &mut String,
    ) {
        // What has arrived already; a zero timeout still polls the read once.
        while buf.len() <= protocol::MAX_LINE
            && let Ok(Ok(n)) = tokio::time::timeout(Duration::ZERO, rd.read_buf(buf)).await
            && n > 0
        {}
        while let Ok(Some(end)) = protocol::find_line(buf) {
            let line: Vec<u8> = buf.drain(..=end).collect();
            if let Ok(protocol::Request { id: Some(id), .. }) =
                protocol::parse_request(&line[..end])
            {
                out.push_str(&protocol::error_response(
                    Some(&id),
                    self.shared.tick(),
                    &gone(),
                ));
            }
        }
    }

    fn auth_deadline(&self, opened: Instant) -> Option<Instant> {
        self.tier
            .is_none()
            .then(|| opened + self.shared.limits.auth_timeout)
    }

    /// The first deadline this connection must meet, and which it is.
    fn deadline(
        &self,
        opened: Instant,
        last_read: Instant,
        line_started: Option<Instant>,
    ) -> Option<(Instant, Deadline)> {
        let limits = self.shared.limits;
        let auth = self.auth_deadline(opened).map(|at| (at, Deadline::Auth));
        let line = line_started.map(|t| (t + limits.line_timeout, Deadline::Line));
        let idle = limits
            .idle_timeout
            .filter(|_| self.events.is_none())
            .map(|d| (last_read + d, Deadline::Idle));
        [auth, line, idle]
            .into_iter()
            .flatten()
            .min_by_key(|(at, _)| *at)
    }

    /// Queues an event if it is of a subscribed topic, preceded by
    /// `lagged` with the exact number of such events dropped before it.
    fn deliver(&mut self, e: &Broadcast, out: &mut String) {
        let mine = e.topic.is_some_and(|t| self.topics.contains(&t));
        if std::mem::take(&mut self.lagging) {
            let missed: u64 = self
                .topics
                .iter()
                .map(|&t| e.sent[t as usize].saturating_sub(self.seen[t as usize]))
                .sum::<u64>()
                .saturating_sub(u64::from(mine));
            if missed > 0 {
                out.push_str(&protocol::event(
                    &Event::Lagged { missed },
                    self.shared.tick(),
                ));
            }
        }
        self.seen = e.sent;
        if mine {
            out.push_str(&e.line);
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
        let id = req.id;
        let reply = self.dispatch(&req.method, req.params, id.as_ref()).await;
        let id = id?;
        Some(match reply {
            Ok(line) => line,
            Err(e) => protocol::error_response(Some(&id), self.shared.tick(), &e),
        })
    }

    /// The reply line for a request (`id` is `Value::Null` for a
    /// notification, whose reply is dropped).
    async fn dispatch(
        &mut self,
        name: &str,
        params: Value,
        id: Option<&protocol::Id>,
    ) -> Result<String, RpcError> {
        if self.tier.is_none() && !matches!(name, method::HELLO | method::AUTH) {
            return Err(RpcError::new(
                codes::AUTH_REQUIRED,
                "this TCP connection must call `auth` with the token from <runtime dir>/<name>.token first",
            ));
        }
        let spec = self
            .shared
            .method(name)
            .ok_or_else(|| RpcError::method_not_found(name))?;
        let holds = self.tier.unwrap_or(Tier::Observe);
        if spec.tier > holds {
            return Err(Tier::refusal(name, spec.tier, holds));
        }
        spec.check(&params)?;
        let null = protocol::Id::null();
        let id = id.unwrap_or(&null);
        let tick = self.shared.tick();
        match name {
            method::HELLO => {
                let mut hello = self.shared.hello.clone();
                let p = read(&self.shared.params);
                hello.params = p.entries();
                hello.revision = p.revision();
                hello.authenticated = self.tier.is_some();
                hello.tier = self.tier;
                Ok(protocol::response(id, tick, &hello))
            }
            method::AUTH => {
                let r = self.auth(&parse(params)?)?;
                Ok(protocol::response(id, tick, &r))
            }
            method::DISCOVER => Ok(protocol::response(
                id,
                tick,
                &DiscoverResult {
                    methods: self.shared.methods.clone(),
                },
            )),
            method::PARAMS_LIST => {
                let p = read(&self.shared.params);
                let list = ParamsListResult {
                    revision: p.revision(),
                    params: p.entries(),
                };
                Ok(protocol::response(id, tick, &list))
            }
            method::PARAMS_GET => {
                let values = params_get(&read(&self.shared.params), parse(params)?)?;
                Ok(protocol::response(id, tick, &values))
            }
            method::STATS => {
                let mut stats = read(&self.shared.stats).clone();
                stats.clients = self.shared.clients();
                stats.tick = tick;
                Ok(protocol::response(id, tick, &stats))
            }
            method::FRAMES_SUBSCRIBE | method::FRAMES_ACK | method::FRAMES_UNSUBSCRIBE => {
                let path = &self.shared.hello.frames.path;
                let result = crate::stream::call(&mut self.frames, path, name, params)?;
                Ok(protocol::response(id, tick, &result))
            }
            method::SUBSCRIBE | method::UNSUBSCRIBE => {
                let r = self.subscription(name == method::SUBSCRIBE, parse(params)?)?;
                Ok(protocol::response(id, tick, &r))
            }
            _ => {
                let result = self.ask_loop(name, params).await?;
                Ok(protocol::response(id, self.shared.tick(), &result))
            }
        }
    }

    fn auth(&mut self, params: &AuthParams) -> Result<AuthResult, RpcError> {
        if self.shared.tokens.is_empty() {
            return Ok(AuthResult {
                authenticated: true,
                tier: self.tier,
            });
        }
        match Tier::of_token(&self.shared.tokens, &params.token) {
            Some(tier) => {
                self.tier = Some(tier);
                self.unauthenticated = None;
                Ok(AuthResult {
                    authenticated: true,
                    tier: Some(tier),
                })
            }
            None => Err(RpcError::new(
                codes::AUTH_FAILED,
                "wrong token; read it from <runtime dir>/<name>.token on the engine's machine, or \
                 from the file given to the engine's --token",
            )),
        }
    }

    fn subscription(
        &mut self,
        subscribe: bool,
        params: TopicsParams,
    ) -> Result<TopicsResult, RpcError> {
        let requested: Vec<Topic> = match params.topics {
            None => Topic::ALL.to_vec(),
            Some(list) => list
                .iter()
                .map(|t| {
                    Topic::parse(t).ok_or_else(|| {
                        RpcError::invalid_params(format!(
                            "topics: unknown topic {t:?}; choose from {}",
                            Topic::list()
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        if subscribe {
            self.topics.extend(requested);
        } else {
            for t in requested {
                self.topics.remove(&t);
            }
        }
        // Start from now when subscribing; drop the receiver when no topic
        // is left.
        if self.topics.is_empty() {
            self.events = None;
        } else if self.events.is_none() {
            let (rx, sent) = self.shared.subscribe();
            self.events = Some(rx);
            self.seen = sent;
            self.lagging = false;
        }
        Ok(TopicsResult {
            topics: self.topics.iter().map(|t| t.name().to_owned()).collect(),
        })
    }

    async fn ask_loop(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let (tx, rx) = oneshot::channel();
        let cmd = Command {
            method: method.to_owned(),
            params,
            client: self.id,
            reply: tx,
            wake: false,
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
        // A run-until answers when its condition holds, however long that
        // takes; `engine.pause` stops it.
        let within = if method == method::RUN_UNTIL {
            RUN_UNTIL_TIMEOUT
        } else {
            LOOP_TIMEOUT
        };
        match tokio::time::timeout(within, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(gone()),
            Err(_) => Err(RpcError::engine_gone(format!(
                "the engine loop did not answer within {} s",
                within.as_secs()
            ))),
        }
    }
}

/// Typed params from a request already checked against its schema.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(params: Value) -> Result<T, RpcError> {
    serde_json::from_value(params).map_err(|e| RpcError::invalid_params(e.to_string()))
}

/// Sleeps until `at`, or for ever.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Writes what is left before a connection closes, giving a client that
/// does not read a second at most, so closing never waits on it.
async fn write_last(wr: &mut (impl AsyncWrite + Unpin), out: &str) {
    let _ = tokio::time::timeout(Duration::from_secs(1), wr.write_all(out.as_bytes())).await;
}

/// The next event, or never when not subscribed.
async fn next_event(
    rx: &mut Option<broadcast::Receiver<Broadcast>>,
) -> Result<Broadcast, broadcast::error::RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn gone() -> RpcError {
    RpcError::engine_gone("the engine is shutting down")
}

fn params_get(p: &Params, params: ParamsGetParams) -> Result<ParamValues, RpcError> {
    let names: Option<Vec<String>> = match (params.names, params.name) {
        (Some(_), Some(_)) => {
            return Err(RpcError::invalid_params(
                "give `name` or `names`, not both".to_owned(),
            ));
        }
        (Some(names), None) => Some(names),
        (None, Some(name)) => Some(vec![name]),
        (None, None) => None,
    };
    let mut values = std::collections::BTreeMap::new();
    match names {
        None => {
            for (spec, value, _) in p.iter() {
                values.insert(spec.name.clone(), value.clone());
            }
        }
        Some(names) => {
            for n in names {
                let v = p.get(&n).ok_or_else(|| {
                    let known: Vec<&str> = p.specs().iter().map(|s| s.name.as_str()).collect();
                    RpcError::invalid_params(format!(
                        "names: unknown parameter `{n}`; known: {}",
                        known.join(", ")
                    ))
                })?;
                values.insert(n, v.clone());
            }
        }
    }
    Ok(ParamValues {
        revision: p.revision(),
        values,
    })
}
