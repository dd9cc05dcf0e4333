//! Regions this process writes, so that a reader in the writer's own
//! process can never copy a slot while the writer's plain stores go into
//! it.
//!
//! Across processes the writer and its readers need no lock: a reader's
//! per-word atomic loads of a slot that is being rewritten are validated
//! by the seqlock and discarded (shm.rs). Inside one program that is not
//! enough: the loan's plain `&mut [u8]` stores and a reader thread's
//! atomic loads of the same bytes would be a data race, undefined
//! behaviour however the result is used. So every region this process
//! writes is registered here by the identity of its file (device and
//! inode, taken before the file gets its name and can be opened), and a
//! [`FrameReader`](super::FrameReader) that opens one of them takes that
//! region's [`Exclusion`] around each copy of pixels, which the writer
//! holds from lending a slot until it is published or given back. Readers
//! of other processes' regions never find an entry and pay nothing.
//!
//! A reader on the very thread that holds a loan would wait for itself for
//! ever; it gets an error instead ([`Busy::OwnLoan`]).

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// (device, inode) of a region file.
pub(crate) type FileId = (u64, u64);

/// Set in [`Exclusion::state`] while the writer holds a loan.
const LENT: u32 = 1 << 31;
/// Set while the writer waits for readers to finish: no new one starts.
const WANTED: u32 = 1 << 30;
/// The rest of the state: readers copying now.
const READERS: u32 = WANTED - 1;

/// One region's writer-versus-readers exclusion within this process.
#[derive(Debug, Default)]
pub(crate) struct Exclusion {
    state: AtomicU32,
    /// The thread holding the loan ([`thread_id`]), 0 when none.
    lender: AtomicU64,
}

/// Why a same-process read could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Busy {
    /// This very thread holds a loan into the region.
    OwnLoan,
    /// Another thread has held one for [`READ_PATIENCE`] (a loan that
    /// was leaked with `mem::forget`, or a game stopped mid-draw).
    Held,
}

/// How long a same-process reader waits for a loan to end.
pub(crate) const READ_PATIENCE: Duration = Duration::from_secs(2);

impl Exclusion {
    /// The writer's side: waits until no reader of this process is copying
    /// (a copy is a bounded memcpy), then holds the region until
    /// [`end_loan`](Self::end_loan).
    pub(crate) fn begin_loan(&self) {
        if self.state.load(Ordering::Relaxed) & LENT != 0 {
            // The previous loan was leaked (`mem::forget`), so never
            // ended: the region is still held, by this writer.
            self.lender.store(thread_id(), Ordering::Relaxed);
            return;
        }
        self.state.fetch_or(WANTED, Ordering::Acquire);
        let mut spins = 0u32;
        while self
            .state
            .compare_exchange_weak(WANTED, LENT, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            backoff(&mut spins);
        }
        self.lender.store(thread_id(), Ordering::Relaxed);
    }

    /// Ends what [`begin_loan`](Self::begin_loan) began: every store into
    /// the slot happens-before a reader that starts after this.
    pub(crate) fn end_loan(&self) {
        self.lender.store(0, Ordering::Relaxed);
        self.state.store(0, Ordering::Release);
    }

    /// The reader's side: runs `copy` while no loan is out.
    pub(crate) fn read<T>(&self, copy: impl FnOnce() -> T) -> Result<T, Busy> {
        let mut spins = 0u32;
        let mut since: Option<Instant> = None;
        loop {
            let s = self.state.load(Ordering::Relaxed);
            if s & (LENT | WANTED) != 0 || s & READERS == READERS {
                if s & LENT != 0 && self.lender.load(Ordering::Relaxed) == thread_id() {
                    return Err(Busy::OwnLoan);
                }
                if since.get_or_insert_with(Instant::now).elapsed() > READ_PATIENCE {
                    return Err(Busy::Held);
                }
                backoff(&mut spins);
                continue;
            }
            if self
                .state
                .compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                break;
            }
        }
        // Released even if `copy` panics.
        struct Done<'a>(&'a AtomicU32);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Release);
            }
        }
        let _done = Done(&self.state);
        Ok(copy())
    }
}

/// Spins a little, yields a while, then sleeps in short naps: a reader
/// holds the region for one frame's copy, a loan for one frame's drawing.
fn backoff(spins: &mut u32) {
    *spins = spins.saturating_add(1);
    match *spins {
        0..64 => std::hint::spin_loop(),
        64..256 => std::thread::yield_now(),
        _ => std::thread::sleep(Duration::from_micros(50)),
    }
}

/// A small number naming the calling thread (never 0).
fn thread_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static ID: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    ID.with(|id| *id)
}

fn table() -> MutexGuard<'static, HashMap<FileId, Arc<Exclusion>>> {
    static TABLE: LazyLock<Mutex<HashMap<FileId, Arc<Exclusion>>>> = LazyLock::new(Mutex::default);
    // The table holds no invariant a panic could break half-way.
    TABLE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A region file this process writes, registered while this lives.
#[derive(Debug)]
pub(crate) struct Registration {
    id: FileId,
    exclusion: Arc<Exclusion>,
}

impl Registration {
    /// Registers `file`, which this process just created and nothing else
    /// can have opened yet (it is not under its name).
    pub(crate) fn new(file: &File) -> io::Result<Registration> {
        let meta = file.metadata()?;
        let id = (meta.dev(), meta.ino());
        let exclusion = Arc::new(Exclusion::default());
        table().insert(id, Arc::clone(&exclusion));
        Ok(Registration { id, exclusion })
    }

    pub(crate) fn exclusion(&self) -> &Exclusion {
        &self.exclusion
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut table = table();
        if table
            .get(&self.id)
            .is_some_and(|e| Arc::ptr_eq(e, &self.exclusion))
        {
            table.remove(&self.id);
        }
    }
}

/// The exclusion of a region this process writes, if `id` is one.
pub(crate) fn written_here(id: FileId) -> Option<Arc<Exclusion>> {
    table().get(&id).cloned()
}
