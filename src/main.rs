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
    avoid_transparent_huge_pages();
    cli::main()
}

/// Asks Linux not to back this process's memory with transparent huge pages
/// (`prctl(PR_SET_THP_DISABLE)`, through the maintained `rustix` crate,
/// already a dependency of `tempfile`).
///
/// A scan's memory is mostly short-lived batches: sort buffers, spill
/// batches, per-document vectors. Where the kernel hands out 2 MiB pages,
/// every first touch of one zeroes all of it, and finding free 2 MiB blocks
/// costs compaction as memory fragments. On the 2-core benchmark machine
/// (kernel 6.18, THP left to the kernel) zeroing huge pages was 6 % of a
/// 100k-document scan's samples, and 1M-document scans had runs with
/// 43–52 s of system time instead of 15–20 s. With the flag set the 100k
/// scan took 5 % less time and the 1M scan stopped having those runs
/// (`benches/README.md`, 2026-11-24). Failing to set it (an old kernel) only
/// leaves the kernel's default.
#[cfg(target_os = "linux")]
fn avoid_transparent_huge_pages() {
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

/// Other systems keep their defaults.
#[cfg(not(target_os = "linux"))]
fn avoid_transparent_huge_pages() {}
