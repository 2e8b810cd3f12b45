//! The `neardup` command-line tool: a thin layer over the `neardup` library.
//! Argument parsing, terminal output and exit codes live in [`cli`].

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
