//! The frame region through its public API: real files in a temporary
//! directory, real mappings, and a reader in another process.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use advkit_ipc::region::{self, CreateError, FrameReader, FrameWriter, Gone, OpenError, ReadError};

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
        }
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

#[test]
fn a_reader_notices_when_the_writer_is_dropped_or_silent() {
    let dir = tmp();
    let path = dir.path().join("w.frames");
    let mut writer = FrameWriter::create(&path, 16, 16, 30.0).expect("create");
    writer
        .publish(7, &pattern(1, 16 * 16 * 4))
        .expect("publish");
    let reader = FrameReader::open(&path).expect("open");
    reader.liveness().expect("alive");
    std::thread::sleep(region::HEARTBEAT_TIMEOUT + Duration::from_millis(150));
    assert!(matches!(reader.liveness(), Err(Gone::Unresponsive { .. })));
    writer.heartbeat();
    reader.liveness().expect("alive after a heartbeat");
    drop(writer);
    assert!(matches!(reader.liveness(), Err(Gone::Exited { .. })));
    let started = Instant::now();
    let err = reader
        .wait_next(1, Duration::from_secs(5))
        .expect_err("gone");
    assert!(
        started.elapsed() < Duration::from_secs(2),
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
    let _ = writer; // dropped last
}

const STRESS_ENV: &str = "ADVKIT_STRESS_REGION";

/// The writer side: publish patterned frames flat out for ~2 s while reader
/// processes (this same test binary, re-run as `stress_reader_child`)
/// verify every frame they accept.
#[test]
fn stress_no_torn_frame_is_ever_accepted_across_processes() {
    let dir = tmp();
    let path = dir.path().join("stress.frames");
    let (w, h) = (320u32, 180u32);
    let len = (w * h * 4) as usize;
    let mut writer = FrameWriter::create(&path, w, h, 0.0).expect("create");
    writer.publish(1, &pattern(1, len)).expect("first frame");
    let exe = std::env::current_exe().expect("test binary");
    let readers: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "stress_reader_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(STRESS_ENV, &path)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn reader")
        })
        .collect();
    // Pre-render a few frames so the loop measures publishing, not pattern().
    let frames: Vec<Vec<u8>> = (0..16).map(|i| pattern(i, len)).collect();
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut n = 1u64;
    while Instant::now() < deadline {
        n += 1;
        // Frame number and pattern must agree: pattern index is n % 16.
        writer
            .publish(n, &frames[(n % 16) as usize])
            .expect("publish");
    }
    drop(writer); // readers stop when the writer is gone
    let mut accepted = 0u64;
    for child in readers {
        let out = child.wait_with_output().expect("reader exit");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "reader failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.split("verified ").nth(1))
            .unwrap_or_else(|| panic!("no summary from the reader:\n{stdout}"));
        accepted += line
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    eprintln!("writer published {n} frames; readers verified {accepted}");
    // Debug builds copy slowly; these floors only prove that both sides ran.
    assert!(n > 100, "the writer ran flat out ({n} frames)");
    assert!(accepted > 50, "readers accepted frames ({accepted})");
}

/// Not a test on its own: the reader process of the stress test.
#[test]
fn stress_reader_child() {
    let Some(path) = std::env::var_os(STRESS_ENV).map(PathBuf::from) else {
        return;
    };
    let reader = FrameReader::open(&path).expect("open");
    let len = reader.geometry().frame_bytes();
    let expected: Vec<Vec<u8>> = (0..16).map(|i| pattern(i, len)).collect();
    let mut buf = reader.buffer();
    let (mut verified, mut last) = (0u64, 0u64);
    loop {
        match reader.read_latest(&mut buf) {
            Ok(info) => {
                if info.frame == 1 {
                    assert_eq!(buf.as_slice(), &pattern(1, len)[..]);
                } else {
                    assert!(
                        buf.as_slice() == &expected[(info.frame % 16) as usize][..],
                        "TORN: frame {} accepted with foreign pixels",
                        info.frame
                    );
                }
                assert_eq!(
                    info.checksum,
                    region::checksum(buf.as_slice(), reader.geometry().row_bytes())
                );
                assert!(info.frame >= last, "frames go forward");
                last = info.frame;
                verified += 1;
            }
            Err(ReadError::Contended { .. }) => {}
            Err(e) => panic!("{e}"),
        }
        if reader.liveness().is_err() {
            break;
        }
    }
    println!("verified {verified} frames, last {last}");
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
