//! Progress bars on stderr (indicatif), and warnings printed around them.
//!
//! Bars are drawn only when stderr is a terminal and `--quiet` is not set;
//! otherwise every call is a no-op, so logs and pipes stay clean.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use neardup::ingest::InputProgress;
use neardup::progress::{Progress, Stage};
use neardup::report::thousands;

/// The terminal's progress display for one run.
pub struct Console {
    draw: bool,
    quiet: bool,
    bar: Mutex<Option<(Stage, ProgressBar)>>,
    input: Mutex<Option<InputProgress>>,
    documents: AtomicU64,
}

impl Console {
    /// A console; bars only when stderr is a terminal and not `quiet`.
    pub fn new(quiet: bool) -> Self {
        Console {
            draw: !quiet && std::io::stderr().is_terminal(),
            quiet,
            bar: Mutex::new(None),
            input: Mutex::new(None),
            documents: AtomicU64::new(0),
        }
    }

    /// Reading progress comes from `input` (bytes read of the total).
    pub fn follow_input(&self, input: InputProgress) {
        *lock(&self.input) = Some(input);
    }

    /// Prints a line on stderr without tearing the bar (unless quiet).
    pub fn warn(&self, line: &str) {
        if self.quiet {
            return;
        }
        match lock(&self.bar).as_ref() {
            Some((_, bar)) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn style(template: &str) -> ProgressStyle {
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ")
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Progress for Console {
    fn start(&self, stage: Stage, total: Option<u64>) {
        if !self.draw {
            return;
        }
        let prefix = format!("{:>11}", stage.name());
        let input_total = lock(&self.input).as_ref().and_then(InputProgress::total);
        let bar = match (stage, total, input_total) {
            (Stage::Sketching, _, Some(bytes)) => ProgressBar::new(bytes).with_style(Self::style(
                "{prefix:.cyan.bold} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
            )),
            (Stage::Sketching, _, None) => ProgressBar::new_spinner()
                .with_style(Self::style("{prefix:.cyan.bold} {spinner} {bytes} read, {msg}")),
            (_, Some(total), _) => ProgressBar::new(total).with_style(Self::style(
                "{prefix:.cyan.bold} [{wide_bar}] {human_pos}/{human_len} {per_sec:0} eta {eta}",
            )),
            (_, None, _) => ProgressBar::new_spinner()
                .with_style(Self::style("{prefix:.cyan.bold} {spinner} {human_pos} {per_sec:0}")),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(8));
        bar.set_prefix(prefix);
        bar.enable_steady_tick(Duration::from_millis(250));
        if let Some((_, old)) = lock(&self.bar).replace((stage, bar)) {
            old.finish_and_clear();
        }
    }

    fn advance(&self, amount: u64) {
        let guard = lock(&self.bar);
        let Some((stage, bar)) = guard.as_ref() else { return };
        if *stage == Stage::Sketching {
            let docs = self.documents.fetch_add(amount, Ordering::Relaxed) + amount;
            if let Some(input) = lock(&self.input).as_ref() {
                bar.set_position(input.read());
            }
            bar.set_message(format!("{} docs", thousands(docs)));
        } else {
            bar.inc(amount);
        }
    }

    fn finish(&self) {
        if let Some((_, bar)) = lock(&self.bar).take() {
            bar.finish_and_clear();
        }
    }
}
