//! Writing what a command produces.

use std::io::{IsTerminal, Write};
use std::path::Path;

use advkit_core::{Compression, Frame, encode_png};
use anyhow::{Context, Result};

/// Writes `frame` as a PNG to `out` (`-`: standard output) and prints
/// `summary` — on stderr when stdout holds the PNG, else followed by the
/// path. Fast compression: these are one-off looks, not goldens.
pub fn write_png(out: &Path, frame: &Frame, summary: &str) -> Result<()> {
    if out.as_os_str() == "-" && std::io::stdout().is_terminal() {
        anyhow::bail!(
            "--out - writes a binary PNG to standard output, which is a terminal here; \
             redirect it (`--out - > frame.png`, `| display`) or give a file name"
        );
    }
    let png = encode_png(frame, Compression::Fast)?;
    if out.as_os_str() == "-" {
        std::io::stdout().lock().write_all(&png)?;
        eprintln!("{summary}");
    } else {
        std::fs::write(out, &png).with_context(|| format!("cannot write {}", out.display()))?;
        writeln!(std::io::stdout().lock(), "{summary} -> {}", out.display())?;
    }
    Ok(())
}
