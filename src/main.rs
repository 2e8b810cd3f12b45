//! The `neardup` command-line tool: a thin layer over the `neardup` library.
//! Argument parsing, terminal output and exit codes live in [`cli`].

mod cli;

/// The binary's allocator: mimalloc (Microsoft's allocator, through the
/// maintained `mimalloc` crate; the library itself leaves the choice to its
/// users).
///
/// A scan allocates and frees millions of small buffers (token lists,
/// shingle sets, per-document sketches) on every worker thread. With
/// glibc's allocator that took about 5 % of a 100k-document scan's CPU
/// (`_int_malloc`, `_int_free`, `malloc_consolidate`, …); mimalloc's
/// thread-local free lists cut the scan's CPU time by 3–5 % with the same
/// output, and, unlike glibc's per-thread arenas, it returns the large
/// buffers of one stage before the next stage's (sort batches, then
/// verification), so the peak does not grow with the sum of the stages.
/// Measured in `benches/README.md` (2026-11-23).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
