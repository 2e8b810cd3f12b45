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
    let mut builder = tempfile::Builder::new();
    builder.prefix(neardup::index::format::TEMP_PREFIX);
    // The file gets the permissions any new file would get (0666 less the
    // umask), not the private ones of a temporary file.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let temp = builder
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

/// A writer that compresses as the file name says: `.gz` (gzip), `.zst`
/// (zstd), anything else plain.
pub enum Compressed<'a> {
    /// No compression.
    Plain(&'a mut dyn Write),
    /// gzip.
    Gzip(flate2::write::GzEncoder<&'a mut dyn Write>),
    /// zstd.
    Zstd(zstd::stream::write::Encoder<'static, &'a mut dyn Write>),
}

impl<'a> Compressed<'a> {
    /// The writer for `path` over `out`.
    pub fn for_path(path: &Path, out: &'a mut dyn Write) -> std::io::Result<Self> {
        let name =
            path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        Ok(if name.ends_with(".gz") {
            Compressed::Gzip(flate2::write::GzEncoder::new(out, flate2::Compression::default()))
        } else if name.ends_with(".zst") || name.ends_with(".zstd") {
            Compressed::Zstd(zstd::stream::write::Encoder::new(out, 3)?)
        } else {
            Compressed::Plain(out)
        })
    }

    /// Writes the end of the compressed stream.
    pub fn finish(self) -> std::io::Result<()> {
        match self {
            Compressed::Plain(w) => w.flush(),
            Compressed::Gzip(e) => e.finish()?.flush(),
            Compressed::Zstd(e) => e.finish()?.flush(),
        }
    }
}

impl Write for Compressed<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Compressed::Plain(w) => w.write(buf),
            Compressed::Gzip(e) => e.write(buf),
            Compressed::Zstd(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Compressed::Plain(w) => w.flush(),
            Compressed::Gzip(e) => e.flush(),
            Compressed::Zstd(e) => e.flush(),
        }
    }
}
