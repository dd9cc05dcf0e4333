//! The process's heartbeat, kept by a thread of the writer's own.

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::shm::SharedMap;
use crate::system;

/// A thread that beats the region's heart every 100 ms through a mapping
/// of the header page of its own, so a game busy for a while (loading, or
/// long in a frame) is not taken for a dead one; only a stopped process
/// (every thread stopped) goes silent. Stopped when the writer drops.
#[derive(Debug)]
pub(super) struct Beat {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Beat {
    pub(super) fn start(file: &File) -> Beat {
        let stop = Arc::new(AtomicBool::new(false));
        let header = file
            .try_clone()
            .ok()
            .and_then(|f| SharedMap::map_header_for_waiting(&f).ok());
        let thread = header.and_then(|header| {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("advkit-heartbeat".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        header
                            .header()
                            .heartbeat_ns
                            .store(system::monotonic_ns(), Ordering::Relaxed);
                        std::thread::park_timeout(Duration::from_millis(100));
                    }
                })
                .ok()
        });
        Beat { stop, thread }
    }
}

impl Drop for Beat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
