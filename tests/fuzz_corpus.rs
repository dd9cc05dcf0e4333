//! The fuzz corpus (fuzz/corpus/<target>/), replayed through the same
//! entry points the cargo-fuzz targets call, on stable, in every
//! `cargo test`: an input that once found a bug stays a test.

#[path = "../fuzz/entry.rs"]
mod entry;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    for file in std::fs::read_dir(&dir).expect("the committed corpus") {
        let path = file.expect("entry").path();
        let data = std::fs::read(&path).expect("read");
        run(&data);
        n += 1;
    }
    assert!(n >= 5, "{}: only {n} inputs", dir.display());
}

#[test]
fn control_lines_corpus() {
    replay("control_lines", entry::control_lines);
}

#[test]
fn frame_file_corpus() {
    replay("frame_file", entry::frame_file);
}

#[test]
fn scene_files_corpus() {
    replay("scene_files", entry::scene_files);
}
