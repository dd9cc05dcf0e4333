//! Small facts about processes and clocks, without `unsafe` (rustix).

use std::time::{SystemTime, UNIX_EPOCH};

use rustix::process::{Pid, getpid, test_kill_process};
use rustix::time::{ClockId, clock_gettime};

/// `CLOCK_MONOTONIC` in nanoseconds: the same clock in every process on the
/// machine, so a reader can judge a writer's heartbeat.
pub fn monotonic_ns() -> u64 {
    let t = clock_gettime(ClockId::Monotonic);
    (t.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as u64)
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn current_pid() -> u32 {
    getpid().as_raw_nonzero().get() as u32
}

/// A process's start time in clock ticks after boot (field 22 of
/// `/proc/<pid>/stat`), or `None` if it does not exist (or no `/proc`).
pub fn process_start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Fields from 3 on; the start time is field 22.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Whether process `pid` is alive and is the one that started at
/// `start_ticks` (0: unknown, only the pid is checked), so a reused pid does
/// not pass for a dead writer.
pub fn process_alive(pid: u32, start_ticks: u64) -> bool {
    let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return false;
    };
    if test_kill_process(p).is_err_and(|e| e == rustix::io::Errno::SRCH) {
        return false;
    }
    match process_start_ticks(pid) {
        Some(t) => start_ticks == 0 || t == start_ticks,
        // No /proc entry but kill(0) did not say ESRCH: trust kill.
        None => true,
    }
}

/// 64 random bits from the kernel, for session ids and tokens.
pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    if rustix::rand::getrandom(&mut b, rustix::rand::GetRandomFlags::empty()).is_ok() {
        return u64::from_le_bytes(b);
    }
    // getrandom cannot fail for 8 bytes on Linux ≥ 3.17; mix what we have.
    monotonic_ns() ^ (u64::from(current_pid()) << 32) ^ unix_ms().rotate_left(17)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_with_its_own_start_time() {
        let pid = current_pid();
        let start = process_start_ticks(pid).expect("/proc is mounted");
        assert!(process_alive(pid, start));
        assert!(process_alive(pid, 0));
        assert!(
            !process_alive(pid, start + 1),
            "a different start time is another process"
        );
    }

    #[test]
    fn a_reaped_child_is_gone() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait");
        assert!(!process_alive(pid, 0));
    }

    #[test]
    fn clocks_move_forward() {
        let a = monotonic_ns();
        let b = monotonic_ns();
        assert!(b >= a);
        assert!(unix_ms() > 1_600_000_000_000);
        assert_ne!(random_u64(), random_u64());
    }
}
