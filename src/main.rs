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
/// the first touch of one zeroes all of it: zeroing huge pages was 6 % of a
/// 100k-document scan's samples on the 2-core benchmark machine (kernel
/// 6.18). With the flag set, measured in runs taking turns
/// (`benches/README.md`, 2026-11-24): the 100k scan used 0.3 s less system
/// time and 0.2 s more user time (wall time 1–2 % less), and its peak fell
/// from 264–297 to 245–274 MiB; at 1M documents the peak fell from 340–368
/// to 302–326 MiB. Failing to set the flag (an old kernel) only leaves the
/// kernel's default.
#[cfg(target_os = "linux")]
fn avoid_transparent_huge_pages() {
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

/// Other systems keep their defaults.
#[cfg(not(target_os = "linux"))]
fn avoid_transparent_huge_pages() {}
