//! Output files and formats.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

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

/// Writes an output file so that a killed run never leaves a half-written
/// file in place of a complete one: a regular file is written to a temporary
/// file in the same directory and renamed over the target once complete.
///
/// Only regular files are replaced that way. A device, FIFO or socket
/// (`--pairs /dev/null`, `--pairs /dev/stdout`, a named pipe) is written
/// straight through: renaming over it would replace a system file with a
/// regular one. A symbolic link stays a link; the file it points to is the
/// one replaced.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match OutputTarget::of(path)? {
        OutputTarget::Stream => write_through(path, write),
        OutputTarget::File(real) => replace_file(path, &real, write),
    }
}

/// Where an output path leads.
enum OutputTarget {
    /// Not a regular file (or a link that points nowhere yet): written
    /// through in place.
    Stream,
    /// A regular file, existing or new, at this path (links resolved).
    File(PathBuf),
}

impl OutputTarget {
    fn of(path: &Path) -> anyhow::Result<Self> {
        let cannot = || format!("{}: cannot write the output file", path.display());
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                anyhow::bail!("{}: is a folder, not an output file", path.display())
            }
            Ok(meta) if !meta.is_file() => Ok(OutputTarget::Stream),
            Ok(_) => {
                let is_link = std::fs::symlink_metadata(path).with_context(cannot)?.is_symlink();
                if is_link {
                    Ok(OutputTarget::File(std::fs::canonicalize(path).with_context(cannot)?))
                } else {
                    Ok(OutputTarget::File(path.to_path_buf()))
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A link whose target does not exist yet: creating the file
                // through the link keeps the link.
                match std::fs::symlink_metadata(path) {
                    Ok(meta) if meta.is_symlink() => Ok(OutputTarget::Stream),
                    _ => Ok(OutputTarget::File(path.to_path_buf())),
                }
            }
            Err(e) => Err(e).with_context(cannot),
        }
    }
}

/// Writes straight into `path` (a device, FIFO, socket or dangling link).
fn write_through(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .with_context(|| format!("{}: cannot open the output file", path.display()))?;
    let mut out = BufWriter::new(file);
    write(&mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Writes `real` (the regular file `path` names) through a temporary file.
fn replace_file(
    path: &Path,
    real: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let dir = match real.parent() {
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
    temp.persist(real)
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
