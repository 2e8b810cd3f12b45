//! How a long operation tells its caller how far it got.
//!
//! The library never draws anything: it calls a [`Progress`] that the caller
//! supplies. The command-line tool turns the calls into progress bars on a
//! terminal; [`Silent`] ignores them.

/// The stages of a scan that report progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Reading and sketching documents; counts documents (total unknown).
    Sketching,
    /// Counting in how many documents each shingle occurs; counts entries.
    Frequencies,
    /// Finding each document's boilerplate; counts documents examined.
    Boilerplate,
    /// Grouping band keys and passages into candidate pairs; counts entries.
    Grouping,
    /// Verifying candidate pairs; counts pairs.
    Verifying,
    /// Aligning the passages of `contained` pairs; counts pairs.
    Evidence,
}

impl Stage {
    /// A short name for display.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Sketching => "sketching",
            Stage::Frequencies => "frequencies",
            Stage::Boilerplate => "boilerplate",
            Stage::Grouping => "grouping",
            Stage::Verifying => "verifying",
            Stage::Evidence => "evidence",
        }
    }
}

/// Receives progress reports. Called from any thread.
pub trait Progress: Sync {
    /// A stage starts; `total` is its amount of work, when known.
    fn start(&self, stage: Stage, total: Option<u64>) {
        let _ = (stage, total);
    }

    /// `amount` more work of the current stage is done.
    fn advance(&self, amount: u64) {
        let _ = amount;
    }

    /// The current stage is done.
    fn finish(&self) {}
}

/// Ignores all reports.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {}
