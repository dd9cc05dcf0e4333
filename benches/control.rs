//! Control-socket latency and throughput against a real `advkit run`,
//! beside a trivial line echo server on the same kind of socket, all in one
//! run. `cargo bench --bench control`.
//!
//! - `params.get` round trip p50/p99 (engine at 30 fps) vs the echo server;
//! - pipelined `params.get` throughput from one client;
//! - the engine's tick rate (asked to run at 240) with 64 idle + 8 busy
//!   clients, vs with none;
//! - a fresh Unix client (connect, `hello`, `params.get`) while 300 slow
//!   and 300 unauthenticated TCP connections are open, vs with none;
//! - how long `engine.shutdown` takes to answer everything and exit with
//!   100 loop requests pipelined behind it, vs alone.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use advkit_ipc::api::method;
use advkit_ipc::client::Client;
use common::engine::Engine;
use serde_json::json;

/// `advkit run --fps FPS EXTRA…` (see common::engine).
fn start_engine(xdg: &Path, name: &str, fps: u32, extra: &[&str]) -> Engine {
    let fps = fps.to_string();
    let mut args = vec!["--fps", fps.as_str()];
    args.extend_from_slice(extra);
    common::engine::start_engine(xdg, name, &args)
}

/// The baseline: a line echo server in a process of its own, like the
/// engine (this bench binary again, told so by an environment variable).
/// (An echo thread with blocking std sockets, in this process or another,
/// measured 55–66 µs a round trip on this VM, slower than the engine.)
fn echo_server(path: &Path) -> Child {
    let child = Command::new(std::env::current_exe().expect("bench binary"))
        .env(ECHO_ENV, path)
        .stderr(Stdio::null())
        .spawn()
        .expect("start the echo server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(path).is_err() {
        assert!(Instant::now() < deadline, "echo server did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

const ECHO_ENV: &str = "ADVKIT_BENCH_ECHO_SOCKET";

/// Runs as the echo server until killed: tokio, one task per connection,
/// the same runtime and socket kind as the engine's control server.
fn serve_echo(path: &Path) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::UnixListener::bind(path).expect("bind echo");
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = tokio::io::BufReader::new(r);
                let mut line = String::new();
                while r.read_line(&mut line).await.map(|n| n > 0).unwrap_or(false) {
                    if w.write_all(line.as_bytes()).await.is_err() {
                        break;
                    }
                    line.clear();
                }
            });
        }
    });
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn round_trips(n: usize, mut f: impl FnMut()) -> Vec<Duration> {
    for _ in 0..200 {
        f();
    }
    let mut v: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    v
}

fn main() {
    if let Some(path) = std::env::var_os(ECHO_ENV) {
        return serve_echo(Path::new(&path));
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let xdg = tmp.path();
    let engine = start_engine(xdg, "bench", 30, &[]);
    let echo_path = xdg.join("echo.sock");
    let mut echo_process = echo_server(&echo_path);

    // Round trips.
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method::PARAMS_GET, "params": {"name": "walk_speed"}});
    let line = format!("{request}\n");
    let echo = {
        let s = UnixStream::connect(&echo_path).expect("echo");
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        let mut buf = String::new();
        round_trips(5000, || {
            w.write_all(line.as_bytes()).expect("write");
            buf.clear();
            r.read_line(&mut buf).expect("read");
        })
    };
    let mut client = Client::connect_unix(&engine.socket).expect("connect");
    let rpc = round_trips(5000, || {
        client
            .call(method::PARAMS_GET, json!({"name": "walk_speed"}))
            .expect("reply");
    });
    let _ = echo_process.kill();
    let _ = echo_process.wait();
    let (e50, e99, r50, r99) = (
        percentile(&echo, 0.5),
        percentile(&echo, 0.99),
        percentile(&rpc, 0.5),
        percentile(&rpc, 0.99),
    );
    println!("control socket: params.get round trip, engine at 30 fps (5000 calls)");
    println!("{:>22} {:>10} {:>10}", "", "p50", "p99");
    println!(
        "{:>22} {:>8.1}µs {:>8.1}µs",
        "echo server (baseline)",
        us(e50),
        us(e99)
    );
    println!(
        "{:>22} {:>8.1}µs {:>8.1}µs",
        "advkit params.get",
        us(r50),
        us(r99)
    );
    println!(
        "{:>22} {:>9.2}x {:>9.2}x   targets: p50 <= 2.5x echo ({}), p99 < 1 ms ({})",
        "ratio",
        r50.as_secs_f64() / e50.as_secs_f64(),
        r99.as_secs_f64() / e99.as_secs_f64(),
        ok(r50.as_secs_f64() <= 2.5 * e50.as_secs_f64()),
        ok(r99 < Duration::from_millis(1)),
    );

    // Pipelined throughput from one connection.
    let n = 50_000;
    let s = UnixStream::connect(&engine.socket).expect("connect");
    let mut w = s.try_clone().expect("clone");
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(s);
        let mut buf = String::new();
        for _ in 0..n {
            buf.clear();
            r.read_line(&mut buf).expect("reply");
        }
    });
    let started = Instant::now();
    let mut batch = String::new();
    for i in 0..n {
        batch.push_str(&format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"params.get\",\"params\":{{\"name\":\"walk_speed\"}}}}\n"
        ));
        if batch.len() > 32 * 1024 {
            w.write_all(batch.as_bytes()).expect("write");
            batch.clear();
        }
    }
    w.write_all(batch.as_bytes()).expect("write");
    reader.join().expect("reader");
    let rate = n as f64 / started.elapsed().as_secs_f64();
    println!();
    println!(
        "pipelined params.get, one client: {rate:.0} requests/s (target >= 20,000: {})",
        ok(rate >= 20_000.0)
    );

    // Tick rate under client load.
    drop(client);
    let fast = start_engine(xdg, "fast", 240, &[]);
    let base = tick_rate(&fast.socket);
    let stop = Arc::new(AtomicBool::new(false));
    let idle: Vec<Client> = (0..64)
        .map(|_| {
            let mut c = Client::connect_unix(&fast.socket).expect("idle client");
            c.call(method::SUBSCRIBE, json!({"topics": ["params"]}))
                .expect("subscribe");
            c
        })
        .collect();
    let busy: Vec<_> = (0..8)
        .map(|i| {
            let (socket, stop) = (fast.socket.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut c = Client::connect_unix(&socket).expect("busy client");
                let mut k = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    k += 1;
                    if k.is_multiple_of(10) {
                        let _ = c.call(method::INPUT, json!({"button": "left", "action": "tap"}));
                    } else {
                        let _ = c.call(method::PARAMS_GET, json!({"name": "walk_speed"}));
                    }
                    if i == 0 && k.is_multiple_of(1000) {
                        let _ = c.call(method::STATS, json!({}));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let loaded = tick_rate(&fast.socket);
    stop.store(true, Ordering::Relaxed);
    for t in busy {
        let _ = t.join();
    }
    drop(idle);
    println!();
    println!("engine tick rate at --fps 240 (median of 5 one-second windows)");
    println!(
        "  no clients {base:.1}/s, 64 idle + 8 busy {loaded:.1}/s, ratio {:.3}x (target >= 0.95: {})",
        loaded / base,
        ok(loaded / base >= 0.95)
    );
    drop(fast);

    flooded(xdg);
    shutdown(xdg);
}

/// A fresh Unix client's connect + hello + params.get, with TCP quiet and
/// with it flooded by 300 slow (authenticated, a line never finished) and
/// 300 unauthenticated connections.
fn flooded(xdg: &Path) {
    let engine = start_engine(xdg, "flood", 30, &["--tcp", "127.0.0.1:0"]);
    let mut c = Client::connect_unix(&engine.socket).expect("connect");
    let addr: std::net::SocketAddr = c.call(method::HELLO, json!({})).expect("hello").result["tcp"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .expect("tcp address");
    let token =
        std::fs::read_to_string(xdg.join("advkit").join("flood.token")).expect("token file");
    let fresh = || {
        let mut c = Client::connect_unix(&engine.socket).expect("a fresh client is admitted");
        c.call(method::HELLO, json!({})).expect("hello");
        c.call(method::PARAMS_GET, json!({"name": "walk_speed"}))
            .expect("params.get");
    };
    let quiet = round_trips(500, fresh);
    let mut crowd: Vec<std::net::TcpStream> = Vec::new();
    for _ in 0..300 {
        let mut s = std::net::TcpStream::connect(addr).expect("tcp");
        let auth = json!({"jsonrpc": "2.0", "id": 1, "method": "auth", "params": {"token": token}});
        let _ = s.write_all(format!("{auth}\n").as_bytes());
        let mut reply = String::new();
        let _ = BufReader::new(&s).read_line(&mut reply);
        let _ = s.write_all(b"{\"jsonrpc\":");
        crowd.push(s);
    }
    crowd.extend((0..300).map(|_| std::net::TcpStream::connect(addr).expect("tcp")));
    let loud = round_trips(500, fresh);
    let (q50, l50, l99) = (
        percentile(&quiet, 0.5),
        percentile(&loud, 0.5),
        percentile(&loud, 0.99),
    );
    println!();
    println!("fresh Unix client (connect + hello + params.get), 500 times");
    println!(
        "  TCP quiet {:.1}µs, with 300 slow + 300 unauthenticated TCP open {:.1}µs (p99 {:.1}µs), ratio {:.2}x (target: served, <= 2x: {})",
        us(q50),
        us(l50),
        us(l99),
        l50.as_secs_f64() / q50.as_secs_f64(),
        ok(l50.as_secs_f64() <= 2.0 * q50.as_secs_f64())
    );
    drop(crowd);
}

/// `engine.shutdown` then 100 loop requests in one write: time until every
/// reply has come and the engine process has exited, vs shutdown alone.
fn shutdown(xdg: &Path) {
    let time_it = |pipelined: usize| {
        let mut engine = start_engine(xdg, "bye", 30, &[]);
        let s = UnixStream::connect(&engine.socket).expect("connect");
        let mut w = s.try_clone().expect("clone");
        let mut lines =
            String::from("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"engine.shutdown\"}\n");
        for i in 1..=pipelined {
            lines.push_str(&format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"engine.pause\"}}\n"
            ));
        }
        let started = Instant::now();
        w.write_all(lines.as_bytes()).expect("write");
        let replies = BufReader::new(s).lines().map_while(Result::ok).count();
        let answered = started.elapsed();
        let _ = engine.child.wait();
        let exited = started.elapsed();
        assert_eq!(replies, pipelined + 1, "one reply per request");
        (answered, exited)
    };
    let mut alone: Vec<Duration> = (0..5).map(|_| time_it(0).1).collect();
    let runs: Vec<(Duration, Duration)> = (0..5).map(|_| time_it(100)).collect();
    let mut answered: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    let mut exited: Vec<Duration> = runs.iter().map(|r| r.1).collect();
    for v in [&mut alone, &mut answered, &mut exited] {
        v.sort();
    }
    let (a, p, e) = (alone[2], answered[2], exited[2]);
    println!();
    println!("engine.shutdown with 100 loop requests pipelined behind it (median of 5)");
    println!(
        "  shutdown alone: exited after {:.1} ms; pipelined: all answered after {:.1} ms, exited after {:.1} ms, ratio {:.2}x (target: no 10 s stall: {})",
        a.as_secs_f64() * 1e3,
        p.as_secs_f64() * 1e3,
        e.as_secs_f64() * 1e3,
        e.as_secs_f64() / a.as_secs_f64(),
        ok(e < Duration::from_secs(2))
    );
}

/// Ticks per second over five 1-second windows, median.
fn tick_rate(socket: &Path) -> f64 {
    let mut c = Client::connect_unix(socket).expect("stats client");
    let mut tick = || {
        c.call(method::STATS, json!({})).expect("stats").result["tick"]
            .as_u64()
            .unwrap_or(0)
    };
    let mut rates: Vec<f64> = (0..5)
        .map(|_| {
            let (t0, s0) = (Instant::now(), tick());
            std::thread::sleep(Duration::from_secs(1));
            let (t1, s1) = (Instant::now(), tick());
            (s1 - s0) as f64 / (t1 - t0).as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[2]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ok(b: bool) -> &'static str {
    if b { "ok" } else { "MISS" }
}
