//! The frame region through its public API: real files in a temporary
//! directory, real mappings, and a reader in another process.

// `RawDest::new` is unsafe by design: a test makes one, as the Python
// binding does from a buffer.
#![allow(unsafe_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use advkit_ipc::region::{
    self, CreateError, FrameReader, FrameWriter, Gone, OpenError, ReadError, RowsShare,
};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// A frame whose every 8-byte word says which frame it is and where it is,
/// so a torn copy (two frames mixed) cannot pass for either.
fn pattern(frame: u64, len: usize) -> Vec<u8> {
    let mut px = vec![0u8; len];
    for (i, w) in px.chunks_mut(8).enumerate() {
        let v = frame.rotate_left(20) ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        w.copy_from_slice(&v.to_le_bytes()[..w.len()]);
    }
    px
}

#[test]
fn a_published_frame_reads_back_identically_with_its_checksum() {
    let dir = tmp();
    let path = dir.path().join("t.frames");
    // 17 px wide: rows of 68 bytes inside a 128-byte stride.
    for (w, h) in [(320, 180), (17, 3)] {
        let mut writer = FrameWriter::create(&path, w, h, 30.0).expect("create");
        let reader = FrameReader::open(&path).expect("open");
        let mut buf = reader.buffer();
        assert!(matches!(
            reader.read_latest(&mut buf),
            Err(ReadError::NoFrameYet { .. })
        ));
        for n in 1..=5u64 {
            let px = pattern(n, (w * h * 4) as usize);
            assert_eq!(writer.publish(n * 10, &px).expect("publish"), n);
            let info = reader.read_latest(&mut buf).expect("read");
            assert_eq!((info.frame, info.tick), (n, n * 10));
            assert_eq!(buf.as_slice(), &px[..]);
            assert_eq!(info.checksum, region::checksum(&px, (w * 4) as usize));
            // The same frame in one copy into memory that is not ours.
            let mut other = vec![0u8; px.len() + 3];
            let start = other.as_mut_ptr().wrapping_add(3); // unaligned
            // SAFETY: `other` outlives `raw` and holds px.len() bytes from
            // `start`.
            let mut raw = unsafe { region::RawDest::new(start, px.len()) }.expect("non-null");
            assert_eq!(reader.read_latest_raw(&mut raw).expect("read"), info);
            assert_eq!(&other[3..], &px[..]);
            // The same frame two rows at a time, top to bottom, in two
            // shares (the second on a thread of its own).
            let half = h as usize / 2;
            let (mut top, mut bottom) = (reader.buffer(), reader.buffer());
            let (mut bands, mut rows) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
            let [bands_top, bands_bottom] = &mut bands;
            let [rows_top, rows_bottom] = &mut rows;
            let mut shares = [
                RowsShare {
                    rows: 0..half,
                    scratch: &mut top,
                    each: &mut |first, band| {
                        bands_top.push(first);
                        rows_top.extend_from_slice(band);
                    },
                },
                RowsShare {
                    rows: half..h as usize + 5, // past the end: cut
                    scratch: &mut bottom,
                    each: &mut |first, band| {
                        bands_bottom.push(first);
                        rows_bottom.extend_from_slice(band);
                    },
                },
            ];
            let banded = reader
                .read_latest_in_bands(2, &mut shares)
                .expect("read in bands");
            assert_eq!(banded, info);
            assert_eq!(rows.concat(), px);
            let bands = bands.concat();
            let want: Vec<usize> = (0..half)
                .step_by(2)
                .chain((half..h as usize).step_by(2))
                .collect();
            assert_eq!(bands, want);
        }
        let mut short = vec![0u8; 8];
        // SAFETY: `short` outlives `raw` and holds 8 bytes.
        let mut raw = unsafe { region::RawDest::new(short.as_mut_ptr(), 8) }.expect("non-null");
        let wrong = reader.read_latest_raw(&mut raw).expect_err("wrong size");
        assert!(wrong.to_string().contains("holds 8 bytes"), "{wrong}");
        // The last three frames are still in their slots; older ones are not.
        assert!(reader.read_frame(3, &mut buf).expect("read").is_some());
        assert_eq!(buf.as_slice(), &pattern(3, (w * h * 4) as usize)[..]);
        assert!(reader.read_frame(2, &mut buf).expect("read").is_none());
        let wrong = writer.publish(0, &[0; 12]).expect_err("wrong size");
        assert!(wrong.to_string().contains("12 bytes"), "{wrong}");
        drop(writer);
        assert!(!path.exists(), "a clean exit unlinks the region");
    }
}

#[test]
fn the_file_is_private_and_laid_out_as_documented() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmp();
    let path = dir.path().join("t.frames");
    let _writer = FrameWriter::create(&path, 320, 180, 60.0).expect("create");
    let meta = fs::metadata(&path).expect("stat");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), 4096 + 3 * 233_472);
    let bytes = fs::read(&path).expect("read");
    assert_eq!(&bytes[0..8], b"ADVKFRM1");
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().expect("4 bytes"));
    assert_eq!(u32_at(8), 2, "version");
    assert_eq!(u32_at(24), std::process::id(), "writer pid");
    assert_eq!(
        (u32_at(40), u32_at(44), u32_at(48), u32_at(52)),
        (320, 180, 1280, 3)
    );
    assert_eq!(u32_at(72), 60_000, "fps x 1000");
    // No stray temporary file is left next to it.
    let names: Vec<_> = fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec!["t.frames"]);
}

#[test]
fn a_second_writer_is_refused_while_the_first_lives() {
    let dir = tmp();
    let path = dir.path().join("game.frames");
    let first = FrameWriter::create(&path, 64, 64, 30.0).expect("create");
    let err = FrameWriter::create(&path, 64, 64, 30.0).expect_err("taken");
    assert!(matches!(err, CreateError::AlreadyRunning { pid, .. } if pid == std::process::id()));
    assert!(
        err.to_string().contains("engine game is already running"),
        "{err}"
    );
    drop(first);
    FrameWriter::create(&path, 64, 64, 30.0).expect("free again");
}

#[test]
fn a_stale_region_is_detected_and_replaced() {
    let dir = tmp();
    let path = dir.path().join("old.frames");
    let copy = dir.path().join("copy");
    {
        let mut writer = FrameWriter::create(&path, 32, 32, 30.0).expect("create");
        writer
            .publish(1, &pattern(1, 32 * 32 * 4))
            .expect("publish");
        fs::copy(&path, &copy).expect("copy");
    }
    // What a killed engine leaves behind: a valid region nobody holds.
    fs::rename(&copy, &path).expect("restore");
    let stale = FrameReader::open(&path).expect("a stale region still opens");
    assert!(matches!(stale.liveness(), Err(Gone::Exited { .. })));
    let err = stale.check_alive().expect_err("gone");
    assert!(
        err.to_string().contains("engine old is not running (pid"),
        "{err}"
    );
    let _writer = FrameWriter::create(&path, 48, 16, 30.0).expect("replaces the stale file");
    assert!(stale.is_replaced());
    let fresh = FrameReader::open(&path).expect("open");
    assert_eq!(fresh.geometry().width, 48);
    fresh.liveness().expect("alive");
}

/// A writer whose process is stopped goes silent: `tests/frames.rs`
/// (SIGSTOP) checks that readers and `ls` say so. One whose game loop is
/// merely busy is alive: `a_busy_game_is_alive_and_said_to_be_busy_not_dead`.
#[test]
fn a_reader_notices_when_the_writer_is_dropped() {
    let dir = tmp();
    let path = dir.path().join("w.frames");
    let mut writer = FrameWriter::create(&path, 16, 16, 30.0).expect("create");
    writer
        .publish(7, &pattern(1, 16 * 16 * 4))
        .expect("publish");
    let reader = FrameReader::open(&path).expect("open");
    reader.liveness().expect("alive");
    drop(writer);
    assert!(matches!(reader.liveness(), Err(Gone::Exited { .. })));
    let started = Instant::now();
    let err = reader
        .wait_next(1, Duration::from_secs(30))
        .expect_err("gone");
    // Noticed at its first look, not at the end of its 30 s.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "noticed promptly"
    );
    assert!(matches!(err, ReadError::WriterGone { .. }), "{err}");
}

#[test]
fn foreign_short_and_truncated_files_are_errors_not_signals() {
    let dir = tmp();
    let open = |p: &Path| {
        FrameReader::open(p)
            .expect_err("must be refused")
            .to_string()
    };

    let missing = open(&dir.path().join("nobody.frames"));
    assert!(
        missing.contains("engine nobody is not running"),
        "{missing}"
    );
    assert!(missing.contains("advkit run --name nobody"), "{missing}");

    let short = dir.path().join("short.frames");
    fs::write(&short, b"hello").expect("write");
    let msg = open(&short);
    assert!(
        msg.contains("not an advkit frame region") && msg.contains("5 bytes"),
        "{msg}"
    );

    let foreign = dir.path().join("foreign.frames");
    fs::write(&foreign, vec![0xAB; 8192]).expect("write");
    assert!(open(&foreign).contains("magic"), "{}", open(&foreign));

    // A real region cut short: the header promises more than the file has.
    let real = dir.path().join("real.frames");
    let copy = dir.path().join("cut.frames");
    {
        let _w = FrameWriter::create(&real, 320, 180, 30.0).expect("create");
        let bytes = fs::read(&real).expect("read");
        fs::write(&copy, &bytes[..10_000]).expect("write");
    }
    let err = FrameReader::open(&copy).expect_err("truncated");
    assert!(
        matches!(err, OpenError::Truncated { len: 10_000, .. }),
        "{err}"
    );

    // A version from the future.
    let mut bytes = {
        let _w = FrameWriter::create(&real, 8, 8, 30.0).expect("create");
        fs::read(&real).expect("read")
    };
    bytes[8] = 9;
    fs::write(&copy, &bytes).expect("write");
    let msg = open(&copy);
    assert!(msg.contains("layout version 9"), "{msg}");
}

#[test]
fn a_region_truncated_while_mapped_is_reported_not_a_sigbus() {
    let dir = tmp();
    let path = dir.path().join("t.frames");
    let mut writer = FrameWriter::create(&path, 320, 180, 30.0).expect("create");
    writer
        .publish(1, &pattern(1, 320 * 180 * 4))
        .expect("publish");
    let reader = FrameReader::open(&path).expect("open");
    // Someone (not the engine, which never shrinks it) cuts the file.
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open for write")
        .set_len(8192)
        .expect("truncate");
    let mut buf = reader.buffer();
    let err = reader.read_latest(&mut buf).expect_err("truncated");
    assert!(
        matches!(err, ReadError::Truncated { len: 8192, .. }),
        "{err}"
    );
    let share = RowsShare {
        rows: 0..180,
        scratch: &mut buf,
        each: &mut |_, _| {},
    };
    let err = reader
        .read_latest_in_bands(16, &mut [share])
        .expect_err("truncated");
    assert!(
        matches!(err, ReadError::Truncated { len: 8192, .. }),
        "{err}"
    );
    let _ = writer; // dropped last
}

const STRESS_ENV: &str = "ADVKIT_STRESS_REGION";
const STRESS_CHECK_ENV: &str = "ADVKIT_STRESS_SECOND_CHECK";

/// Publishes patterned 1280x720 frames for `run`, drawn straight into the
/// loaned slot, at `fps` (0: flat out), while `readers` reader processes
/// (this test binary re-run as `stress_reader_child`) copy frames flat out
/// and verify each one they accept. Returns (frames published, accepted,
/// torn accepted).
fn stress(fps: u32, readers: usize, second_check: bool, run: Duration) -> (u64, u64, u64) {
    let dir = tmp();
    let path = dir.path().join("stress.frames");
    let (w, h) = (1280u32, 720u32);
    let len = (w * h * 4) as usize;
    let mut writer = FrameWriter::create(&path, w, h, f64::from(fps)).expect("create");
    writer.publish(1, &pattern(1, len)).expect("first frame");
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..readers)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "stress_reader_child",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(STRESS_ENV, &path)
                .env(STRESS_CHECK_ENV, if second_check { "1" } else { "0" })
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn reader")
        })
        .collect();
    // Pre-rendered so the loop measures publishing, not pattern().
    let frames: Vec<Vec<u8>> = (0..16).map(|i| pattern(i, len)).collect();
    let row = w as usize * 4;
    let period = (fps > 0).then(|| Duration::from_secs(1) / fps);
    let start = Instant::now();
    let mut n = 1u64;
    while start.elapsed() < run {
        n += 1;
        // Frame number and pattern agree: the pattern index is n % 16.
        let mut loan = writer.loan();
        for (y, src) in frames[(n % 16) as usize].chunks_exact(row).enumerate() {
            advkit_ipc::Canvas::put_row(&mut loan, y as u32, src);
        }
        assert_eq!(loan.publish(n), n);
        if let Some(p) = period {
            let due = start + p * (n - 1) as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }
    drop(writer); // readers stop when the writer is gone
    let (mut accepted, mut torn) = (0u64, 0u64);
    for child in children {
        let out = child.wait_with_output().expect("reader exit");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "reader failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let figures: Vec<u64> = stdout
            .lines()
            .find_map(|l| l.split("accepted ").nth(1))
            .unwrap_or_else(|| panic!("no summary from the reader:\n{stdout}"))
            .split(" torn ")
            .map(|v| v.trim().parse().expect("a count"))
            .collect();
        accepted += figures[0];
        torn += figures[1];
    }
    (n, accepted, torn)
}

/// The tear test: a reader copying flat out from a 240 fps 1280x720
/// writer accepts no torn frame; and with its second sequence check
/// removed, readers racing a flat-out writer do accept torn ones, so the
/// verification can fail. (At 240 fps a three-slot ring gives a reader two
/// whole frame periods before its slot is reused, so the broken reader
/// needs the writer flat out to be caught.)
#[test]
fn stress_no_torn_frame_is_ever_accepted_across_processes() {
    let (published, accepted, torn) = stress(240, 1, true, Duration::from_secs(2));
    eprintln!("240 fps: writer published {published} frames; the reader verified {accepted}");
    assert_eq!(torn, 0, "the seqlock let torn frames through");
    assert!(published > 100, "the writer ran ({published} frames)");
    assert!(accepted > 50, "the reader accepted frames ({accepted})");

    // The negative control: the same check finds tears without the recheck.
    let mut found = 0;
    for _ in 0..5 {
        let (published, accepted, torn) = stress(0, 2, false, Duration::from_secs(1));
        eprintln!(
            "flat out, no second check: {published} published, {accepted} accepted, {torn} torn"
        );
        found += torn;
        if found > 0 {
            break;
        }
    }
    assert!(
        found > 0,
        "a reader without the second check was never caught"
    );
}

/// Not a test on its own: the reader process of the stress tests, which
/// run it with `--ignored`. Prints `accepted N torn M`. Ignored, so that
/// `cargo test` does not count as passed a test that checked nothing.
#[test]
#[ignore = "the stress tests' reader process; they run it themselves"]
fn stress_reader_child() {
    let path = std::env::var_os(STRESS_ENV)
        .map(PathBuf::from)
        .expect("run by the stress tests, which name the region in ADVKIT_STRESS_REGION");
    let second_check = std::env::var(STRESS_CHECK_ENV).as_deref() != Ok("0");
    let reader = FrameReader::open(&path).expect("open");
    let len = reader.geometry().frame_bytes();
    let row_bytes = reader.geometry().row_bytes();
    let expected: Vec<Vec<u8>> = (0..16).map(|i| pattern(i, len)).collect();
    let mut buf = reader.buffer();
    let mut scratch = [reader.buffer(), reader.buffer()];
    let mut rows = [Vec::with_capacity(len), Vec::with_capacity(len)];
    let (mut accepted, mut torn, mut last) = (0u64, 0u64, 0u64);
    for n in 0u64.. {
        // Every other read in bands of 64 rows, in two shares on two
        // threads (a torn read starts each over from its first row),
        // gathered into `buf`.
        let read = if !second_check {
            reader.read_latest_without_second_check(&mut buf)
        } else if n % 2 == 0 {
            reader.read_latest(&mut buf)
        } else {
            let half = reader.geometry().height as usize / 2;
            let [top, bottom] = &mut scratch;
            let [rows_top, rows_bottom] = &mut rows;
            let mut shares = [
                RowsShare {
                    rows: 0..half,
                    scratch: top,
                    each: &mut |first, band| {
                        if first == 0 {
                            rows_top.clear();
                        }
                        rows_top.extend_from_slice(band);
                    },
                },
                RowsShare {
                    rows: half..usize::MAX,
                    scratch: bottom,
                    each: &mut |first, band| {
                        if first == half {
                            rows_bottom.clear();
                        }
                        rows_bottom.extend_from_slice(band);
                    },
                },
            ];
            let read = reader.read_latest_in_bands(64, &mut shares);
            if read.is_ok() {
                buf.as_mut_slice().copy_from_slice(&rows.concat());
            }
            read
        };
        match read {
            Ok(info) => {
                let want = &expected[(info.frame % 16) as usize];
                let intact = buf.as_slice() == &want[..]
                    && info.checksum == region::checksum(buf.as_slice(), row_bytes);
                if !intact {
                    torn += 1;
                }
                assert!(info.frame >= last, "frames go forward");
                last = info.frame;
                accepted += 1;
            }
            Err(ReadError::Contended { .. }) => {}
            Err(e) => panic!("{e}"),
        }
        if reader.liveness().is_err() {
            break;
        }
    }
    println!("accepted {accepted} torn {torn}");
}

/// docs/frame-region.md is what other-language readers follow: its header
/// table must quote the offsets the code uses.
#[test]
fn the_documented_offsets_match_the_code() {
    use advkit_ipc::region::layout::{Header, SlotEntry};
    use std::mem::offset_of;
    let doc = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/frame-region.md"
    ))
    .expect("docs/frame-region.md");
    let quoted = |field: &str| -> usize {
        let line = doc
            .lines()
            .find(|l| l.contains(&format!("| `{field}` |")))
            .unwrap_or_else(|| panic!("{field} is not in the docs table"));
        let cell = line.split('|').nth(1).expect("offset cell").trim();
        cell.trim_start_matches('+').parse().expect("a number")
    };
    let header = [
        ("magic", offset_of!(Header, magic)),
        ("version", offset_of!(Header, version)),
        ("header_size", offset_of!(Header, header_size)),
        ("session_id", offset_of!(Header, session_id)),
        ("writer_pid", offset_of!(Header, writer_pid)),
        ("pixel_format", offset_of!(Header, pixel_format)),
        ("writer_start_ticks", offset_of!(Header, writer_start_ticks)),
        ("width", offset_of!(Header, width)),
        ("height", offset_of!(Header, height)),
        ("stride", offset_of!(Header, stride)),
        ("slot_count", offset_of!(Header, slot_count)),
        ("slot_stride", offset_of!(Header, slot_stride)),
        ("file_size", offset_of!(Header, file_size)),
        ("fps_milli", offset_of!(Header, fps_milli)),
        ("waiters", offset_of!(Header, waiters)),
        ("started_unix_ms", offset_of!(Header, started_unix_ms)),
        ("latest_frame", offset_of!(Header, latest_frame)),
        ("heartbeat_ns", offset_of!(Header, heartbeat_ns)),
        ("frame_futex", offset_of!(Header, frame_futex)),
        ("seq", offset_of!(SlotEntry, seq)),
        ("frame", offset_of!(SlotEntry, frame)),
        ("tick", offset_of!(SlotEntry, tick)),
        ("checksum", offset_of!(SlotEntry, checksum)),
        ("published_ns", offset_of!(SlotEntry, published_ns)),
    ];
    for (field, offset) in header {
        assert_eq!(
            quoted(field),
            offset,
            "docs/frame-region.md: offset of `{field}`"
        );
    }
}

/// A loaned slot filled through every way in (put, repeat, draw into a
/// row, all rows) publishes exactly those pixels with the checksum of the
/// documented formula, at a width whose rows are not whole words.
#[test]
fn a_loaned_slot_publishes_what_was_drawn_with_a_verifiable_checksum() {
    use advkit_ipc::Canvas;
    let dir = tmp();
    let path = dir.path().join("loan.frames");
    for (w, h) in [(17u32, 6u32), (320, 180)] {
        let mut writer = FrameWriter::create(&path, w, h, 30.0).expect("create");
        let reader = FrameReader::open(&path).expect("open");
        let row = w as usize * 4;
        let mut expect = pattern(9, row * h as usize);
        let mut loan = writer.loan();
        assert_eq!((loan.width(), loan.height()), (w, h));
        loan.put_row(0, &expect[..row]);
        loan.copy_row(0, 1);
        expect.copy_within(0..row, row);
        for y in 2..h {
            let src = &expect[y as usize * row..][..row];
            if y % 2 == 0 {
                loan.put_row(y, src);
            } else {
                loan.row_mut(y).copy_from_slice(src);
            }
        }
        assert_eq!(loan.publish(40), 1);
        let mut buf = reader.buffer();
        let info = reader.read_latest(&mut buf).expect("read");
        assert_eq!((info.frame, info.tick), (1, 40));
        assert_eq!(buf.as_slice(), &expect[..]);
        assert_eq!(info.checksum, region::checksum(&expect, row));

        // rows_mut: free drawing, summed at publish.
        let mut loan = writer.loan();
        let mut drawn = Vec::new();
        for (y, r) in loan.rows_mut().enumerate() {
            r.fill((y * 3 + 1) as u8);
            drawn.extend_from_slice(r);
        }
        assert_eq!(loan.publish(41), 2);
        let info = reader.read_latest(&mut buf).expect("read");
        assert_eq!(buf.as_slice(), &drawn[..]);
        assert_eq!(info.checksum, region::checksum(&drawn, row));
        drop(reader);
        drop(writer);
    }
}

/// A loan given back unpublished shows nothing: the newest frame stays
/// the newest, and the frame its slot used to hold is gone, not garbled.
#[test]
fn a_loan_dropped_unpublished_leaves_the_newest_frame_and_empties_its_slot() {
    use advkit_ipc::Canvas;
    let dir = tmp();
    let path = dir.path().join("drop.frames");
    let (w, h) = (32u32, 8u32);
    let len = (w * h * 4) as usize;
    let mut writer = FrameWriter::create(&path, w, h, 30.0).expect("create");
    for n in 1..=3 {
        writer.publish(n, &pattern(n, len)).expect("publish");
    }
    let reader = FrameReader::open(&path).expect("open");
    let mut buf = reader.buffer();
    assert!(reader.read_frame(1, &mut buf).expect("read").is_some());
    {
        // Frame 4 would go where frame 1 is.
        let mut loan = writer.loan();
        loan.row_mut(0).fill(0xee);
    }
    assert_eq!(reader.latest_frame(), 3);
    assert!(reader.read_frame(1, &mut buf).expect("read").is_none());
    let info = reader.read_latest(&mut buf).expect("read");
    assert_eq!(info.frame, 3);
    assert_eq!(buf.as_slice(), &pattern(3, len)[..]);
    // The next publish takes that slot again, numbered 4.
    assert_eq!(writer.publish(4, &pattern(4, len)).expect("publish"), 4);
}

/// `wait_next` sleeps on the futex, counted in `waiters`, and the publish
/// wakes it: it returns long before its timeout, and the count is back
/// to zero afterwards. (The waiting thread touches only header atomics,
/// never the pixels the writer is storing.)
#[test]
fn wait_next_sleeps_until_the_publish_wakes_it() {
    let dir = tmp();
    let path = dir.path().join("wait.frames");
    let (w, h) = (64u32, 36u32);
    let len = (w * h * 4) as usize;
    let mut writer = FrameWriter::create(&path, w, h, 30.0).expect("create");
    writer.publish(1, &pattern(1, len)).expect("publish");
    let reader = FrameReader::open(&path).expect("open");
    assert!(reader.can_sleep(), "the owner can open its region to wait");
    let waiters = |p: &Path| {
        let b = fs::read(p).expect("read");
        u32::from_le_bytes(b[76..80].try_into().expect("4 bytes"))
    };
    let waiting = std::thread::spawn(move || {
        let started = Instant::now();
        let got = reader.wait_next(1, Duration::from_secs(20));
        (got.map_err(|e| e.to_string()), started.elapsed())
    });
    // Wait until the reader is asleep on the futex, then publish.
    let deadline = Instant::now() + Duration::from_secs(5);
    while waiters(&path) == 0 {
        assert!(Instant::now() < deadline, "the reader never went to sleep");
        std::thread::sleep(Duration::from_millis(5));
    }
    writer.publish(2, &pattern(2, len)).expect("publish");
    let (got, took) = waiting.join().expect("waiter");
    assert_eq!(got, Ok(2));
    assert!(
        took < Duration::from_secs(5),
        "woken, not timed out: {took:?}"
    );
    assert_eq!(waiters(&path), 0, "the waiter counted itself out");
}

#[test]
fn a_region_truncated_under_its_writer_and_reader_costs_neither_a_sigbus() {
    let dir = tmp();
    let path = dir.path().join("t.frames");
    let (w, h) = (64u32, 32u32);
    let frame_bytes = (w * h * 4) as usize;
    let mut writer = FrameWriter::create(&path, w, h, 30.0).expect("create");
    writer
        .publish(1, &pattern(1, frame_bytes))
        .expect("publish");
    let reader = FrameReader::open(&path).expect("open");
    let mut buf = reader.buffer();
    reader.read_latest(&mut buf).expect("reads before");
    let first_session = writer.session_id();

    // Another process shrinks the file while the writer is drawing into a
    // lent slot: the writes past the new end fault, and the guard turns
    // them into writes to private zero pages instead of killing us.
    let mut loan = writer.loan();
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open to truncate")
        .set_len(100)
        .expect("truncate");
    for row in loan.rows_mut() {
        row.fill(0xab);
    }
    loan.publish(2);

    // The reader is told what happened, and is not handed zeros as a frame.
    let err = reader.read_latest(&mut buf).expect_err("truncated");
    assert!(
        matches!(err, ReadError::Truncated { len: 100, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("open it again"), "{err}");

    // The writer's next frame goes to a region made anew: a new session at
    // the same path, full size, which a reader opens and reads.
    writer
        .publish(3, &pattern(3, frame_bytes))
        .expect("publish");
    assert_eq!(writer.regions_recreated(), 1);
    assert_ne!(writer.session_id(), first_session);
    assert!(
        reader.is_replaced(),
        "the old reader sees the file replaced"
    );
    let fresh = FrameReader::open(&path).expect("reopen");
    let mut buf = fresh.buffer();
    let info = fresh.read_latest(&mut buf).expect("reads after");
    assert_eq!(info.tick, 3);
    assert_eq!(&buf.as_slice()[..frame_bytes], &pattern(3, frame_bytes)[..]);
}

#[test]
fn a_slot_left_half_written_says_the_engine_is_stuck_not_the_reader_slow() {
    use std::os::unix::fs::FileExt;
    let dir = tmp();
    let path = dir.path().join("t.frames");
    let mut writer = FrameWriter::create(&path, 8, 8, 30.0).expect("create");
    writer.publish(1, &pattern(1, 8 * 8 * 4)).expect("publish");
    // A writer that stopped in the middle of rewriting frame 1's slot (1):
    // its sequence (slot table at 128, 64 bytes an entry) stays odd.
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open")
        .write_at(&7u64.to_le_bytes(), 128 + 64)
        .expect("write seq");
    let reader = FrameReader::open(&path).expect("open");
    let mut buf = reader.buffer();
    let err = reader.read_latest(&mut buf).expect_err("never consistent");
    assert!(matches!(err, ReadError::Stuck { frame: 1, .. }), "{err}");
    assert!(
        err.to_string()
            .contains("stuck in the middle of publishing"),
        "{err}"
    );
    drop(writer);
}

#[test]
fn a_busy_game_is_alive_and_said_to_be_busy_not_dead() {
    let dir = tmp();
    let path = dir.path().join("busy.frames");
    let mut writer = FrameWriter::create(&path, 8, 8, 30.0).expect("create");
    writer.publish(1, &[0u8; 8 * 8 * 4]).expect("publish");
    let reader = FrameReader::open(&path).expect("open");
    // The game loop does not call in for longer than the liveness limit
    // (loading assets, a long frame): before, readers and `ls` called the
    // engine dead.
    let deadline = Instant::now() + Duration::from_secs(30);
    while reader
        .loop_silence()
        .expect("the writer keeps it")
        .le(&(region::HEARTBEAT_TIMEOUT + Duration::from_millis(300)))
    {
        assert!(Instant::now() < deadline, "the loop's silence never grew");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(reader.liveness().is_ok(), "{:?}", reader.liveness());
    writer.heartbeat();
    assert!(reader.loop_silence().expect("kept") < region::HEARTBEAT_TIMEOUT);
}
