//! The `neardup` command-line tool: a thin layer over the `neardup` library.
//! Argument parsing, terminal output and exit codes live in [`cli`].

mod cli;

fn main() -> std::process::ExitCode {
    tune_allocator();
    cli::main()
}

/// Makes glibc's allocator give large freed blocks back to the system.
///
/// A scan's stages have different working sets (sketch batches, then sort
/// buffers, then verification). By default glibc raises its mmap threshold
/// each time a large block is freed, up to 32 MiB, so the next stage's
/// buffers come from the heap, and what they free stays mapped in the
/// per-thread arenas: the peak grew with the sum of the stages. A fixed
/// 1 MiB threshold keeps large blocks in their own mappings, returned on
/// free. Measured in `ARCHITECTURE.md` (peak RSS, same speed).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets an allocator parameter; it is called before
    // any other thread exists, and a refusal (return value 0) leaves the
    // default in place, which is harmless.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
