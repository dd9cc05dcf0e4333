//! The frame region's unsafe code, tried the ways a user could misuse its
//! safe API: a reader in the writer's own process, a SIGBUS that is not
//! ours, more mappings than the SIGBUS guard covers. What changes the
//! whole process (signal dispositions, the guard's table) runs in a child:
//! this test binary again, running `child_case` with the case in `ADVKIT_CASE`.

// Two unsafe calls, setting the SIGBUS disposition before advkit's
// handler is installed (the test's stand-in for an embedding program's).
#![allow(unsafe_code)]

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use advkit_ipc::region::{FrameReader, FrameWriter, ReadError};

const CASE_ENV: &str = "ADVKIT_CASE";

fn pattern(frame: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (frame as usize * 31 + i * 7) as u8)
        .collect()
}

#[test]
fn a_reader_in_the_writers_own_process_never_copies_a_lent_slot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("own.frames");
    let (w, h) = (64u32, 32u32);
    let len = (w * h * 4) as usize;
    let mut writer = FrameWriter::create(&path, w, h, 30.0).expect("create");
    for n in 1..=3 {
        writer.publish(n, &pattern(n, len)).expect("publish");
    }
    let reader = FrameReader::open(&path).expect("open");
    let mut buf = reader.buffer();

    // The thread that holds the loan is told, instead of waiting for
    // itself for ever.
    let mut loan = writer.loan();
    let err = reader.read_latest(&mut buf).expect_err("own loan");
    assert!(matches!(err, ReadError::OwnLoan { .. }), "{err}");
    assert!(
        err.to_string().contains("publish or drop the loan"),
        "{err}"
    );

    // Another thread waits until the loan is published, then reads it.
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut buf = reader.buffer();
            let read = reader.read_latest(&mut buf).map(|info| info.frame);
            tx.send(read).expect("send");
        });
        for (y, row) in loan.rows_mut().enumerate() {
            row.fill(y as u8);
        }
        assert!(
            rx.recv_timeout(Duration::from_millis(300)).is_err(),
            "a reader of the writer's process copied while a slot was lent"
        );
        loan.publish(4);
        let frame = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the reader goes on once the loan is published")
            .expect("read");
        // Frame 3 if it had read `latest_frame` before the publish.
        assert!(frame >= 3, "{frame}");
    });

    // Flat out on both sides, every frame a reader accepts is whole.
    let done = AtomicU32::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut buf = reader.buffer();
            let mut seen = 0u64;
            while done.load(Ordering::Acquire) == 0 || seen < 500 {
                if let Ok(info) = reader.read_latest(&mut buf) {
                    assert_eq!(buf.as_slice(), &pattern(info.tick, len)[..]);
                    seen = info.tick;
                }
            }
        });
        for n in 5..=500 {
            let mut loan = writer.loan();
            loan.copy_from(&pattern(n, len)).expect("size");
            loan.publish(n);
        }
        done.store(1, Ordering::Release);
    });
}

/// Runs `case` in a child process; its exit status and output.
fn run_child(case: &str) -> (std::process::ExitStatus, String) {
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_case",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CASE_ENV, case)
        .output()
        .expect("run the child");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status, text)
}

#[test]
fn a_sigbus_that_is_not_ours_reaches_the_previous_handler_and_ours_stays_guarded() {
    let (status, out) = run_child("previous-handler");
    assert!(status.success(), "{status}: {out}");
    assert!(out.contains("CASE OK"), "{out}");
}

#[test]
fn after_kill_bus_under_rusts_own_handler_a_truncation_is_still_guarded() {
    let (status, out) = run_child("rust");
    assert!(status.success(), "{status}: {out}");
    assert!(out.contains("CASE OK"), "{out}");
}

#[test]
fn a_sent_sigbus_ends_the_process_as_the_default_disposition_would() {
    use std::os::unix::process::ExitStatusExt;
    let (status, out) = run_child("default");
    assert_eq!(status.signal(), Some(libc::SIGBUS), "{status}: {out}");
    assert!(!out.contains("SURVIVED"), "{out}");
}

#[test]
fn more_mappings_than_the_guard_covers_is_an_error_that_says_so() {
    let (status, out) = run_child("full");
    assert!(status.success(), "{status}: {out}");
    assert!(out.contains("CASE OK"), "{out}");
}

static COUNTED: AtomicU32 = AtomicU32::new(0);

extern "C" fn count(_: libc::c_int) {
    COUNTED.fetch_add(1, Ordering::SeqCst);
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "waited 10 s for {what}");
        std::thread::yield_now();
    }
}

/// Truncates the region while the writer draws into a lent slot, and
/// checks that the guard caught it: the writer publishes on, into a region
/// made anew.
fn truncate_under_a_loan(writer: &mut FrameWriter, path: &Path, len: usize) {
    let mut loan = writer.loan();
    truncate(path);
    for row in loan.rows_mut() {
        row.fill(0xab);
    }
    loan.publish(2);
    writer.publish(3, &pattern(3, len)).expect("publish");
    assert_eq!(writer.regions_recreated(), 1);
}

/// `kill -BUS` this process.
fn send_sigbus() {
    rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::BUS)
        .expect("kill");
}

fn truncate(path: &Path) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open to truncate")
        .set_len(100)
        .expect("truncate");
}

/// Not a test on its own: the child process of the tests above.
#[test]
#[ignore = "the child process of the SIGBUS and guard-table tests; they run it themselves"]
fn child_case() {
    let case = std::env::var(CASE_ENV).expect("run by a test, which names the case");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.frames");
    let len = 64 * 32 * 4;
    match case.as_str() {
        "previous-handler" => {
            // SAFETY: `count` is an `extern "C" fn(c_int)` touching only an
            // atomic; installed before advkit installs its own handler.
            unsafe { libc::signal(libc::SIGBUS, count as *const () as libc::sighandler_t) };
            let mut writer = FrameWriter::create(&path, 64, 32, 30.0).expect("create");
            writer.publish(1, &pattern(1, len)).expect("publish");
            // `kill -BUS` from outside, as it were (to any thread).
            for sent in 1..=2 {
                send_sigbus();
                wait_until("the sent SIGBUS to reach the handler", || {
                    COUNTED.load(Ordering::SeqCst) == sent
                });
            }
            // Still guarded: a truncation under a lent slot is caught, not
            // passed on, and the writer makes its region anew.
            truncate_under_a_loan(&mut writer, &path, len);
            assert_eq!(COUNTED.load(Ordering::SeqCst), 2, "the fault was ours");
            println!("CASE OK");
        }
        "rust" => {
            // What an engine (a Rust program) meets: the standard library's
            // handler came first, and resets the disposition to the
            // default when a SIGBUS is not a stack overflow.
            let mut writer = FrameWriter::create(&path, 64, 32, 30.0).expect("create");
            writer.publish(1, &pattern(1, len)).expect("publish");
            // To this thread, so it is handled before the truncation below
            // (sent to the process, it could reach the writer's heartbeat
            // thread later, in the middle of the truncation: this test
            // failed so about once in fifteen runs).
            // SAFETY: raise sends a signal to the calling thread; the
            // handlers installed are Rust's and the guard's.
            assert_eq!(unsafe { libc::raise(libc::SIGBUS) }, 0, "raise");
            truncate_under_a_loan(&mut writer, &path, len);
            println!("CASE OK");
        }
        "default" => {
            // The default disposition, not Rust's own handler (which
            // resets to the default and returns, and so swallows a first
            // sent SIGBUS; the case below keeps it).
            // SAFETY: SIG_DFL is a valid disposition.
            unsafe { libc::signal(libc::SIGBUS, libc::SIG_DFL) };
            // No core file from the death this case expects.
            let none = rustix::process::Rlimit {
                current: Some(0),
                maximum: Some(0),
            };
            rustix::process::setrlimit(rustix::process::Resource::Core, none).expect("setrlimit");
            let mut writer = FrameWriter::create(&path, 64, 32, 30.0).expect("create");
            writer.publish(1, &pattern(1, len)).expect("publish");
            send_sigbus();
            // The signal may reach another thread, which ends the process
            // at once; a swallowed one never does.
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                std::thread::yield_now();
            }
            println!("SURVIVED");
        }
        "full" => {
            let _writer = FrameWriter::create(&path, 64, 32, 30.0).expect("create");
            let mut readers = Vec::new();
            let err = loop {
                match FrameReader::open(&path) {
                    Ok(r) => readers.push(r),
                    Err(e) => break e,
                }
                assert!(readers.len() <= 256, "more mappings than the guard's table");
            };
            assert!(err.to_string().contains("256 frame regions"), "{err}");
            assert!(readers.len() > 200, "only {} readers", readers.len());
            readers.truncate(readers.len() - 1);
            FrameReader::open(&path).expect("one freed entry is one more reader");
            println!("CASE OK");
        }
        other => panic!("unknown case {other}"),
    }
}
