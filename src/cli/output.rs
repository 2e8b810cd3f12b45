//! Output files and formats.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use clap::ValueEnum;

/// What `scan` prints on stdout.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum StdoutFormat {
    /// A readable summary: counts and the largest clusters.
    #[default]
    Text,
    /// One JSON object per related pair (the --pairs format).
    Jsonl,
    /// One CSV row per related pair, with a header.
    Csv,
}

/// Writes a file through a temporary file in the same directory that is
/// renamed over `path` only once complete: a killed run never leaves a
/// half-written file in place of a complete one.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".neardup-")
        .tempfile_in(dir)
        .with_context(|| format!("{}: cannot create the output file", path.display()))?;
    let mut out = BufWriter::new(temp);
    write(&mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    let temp = out
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    temp.as_file().sync_all().with_context(|| format!("{}: cannot write", path.display()))?;
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("{}: cannot replace the output file", path.display()))?;
    Ok(())
}
