//! The `neardup` command-line tool: a thin layer over the `neardup` library.
//! Argument parsing, terminal output and exit codes live in [`cli`].

mod cli;

/// The binary's allocator: mimalloc (Microsoft's allocator, through the
/// maintained `mimalloc` crate; the library itself leaves the choice to its
/// users).
///
/// A scan allocates and frees millions of small buffers (token lists,
/// shingle sets, per-document sketches) on every worker thread, and large
/// ones stage after stage (sort batches, then verification). glibc's
/// allocator needed a fixed 1 MiB mmap threshold to keep its peak from
/// growing with the sum of the stages, and then mapped, zeroed and unmapped
/// every large buffer. mimalloc reuses them: a 1M-document scan took 18 %
/// less time (system time 64 → 40 s) for 14 % more peak memory, and the
/// peak grows less with the input (+5.5 % from 725k to 1.45M documents,
/// against +12 %). Measured in `benches/README.md` (2026-11-23).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
