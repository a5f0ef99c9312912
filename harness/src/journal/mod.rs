//! The run's journal, `<name>.jsonl`: every thing a child measures or does,
//! one JSON [`Record`] per line, appended and flushed as it happens.
//!
//! It is the run's one account. The scenario's handle, the load models, the
//! sampler and chaos only append to it; the report is built by one fold of
//! it ([`crate::analysis::fold`]) — by the child when it finishes, and by the
//! parent from the file when the child died, so a crashed run's report has
//! what was measured up to the last interval, through the same code.

mod payload;
mod record;
mod tail;
mod writer;

pub(crate) use payload::{Encoded, PoolUse, SavedKind, SavedTotals, Slice};
pub(crate) use record::Record;
pub(crate) use tail::JournalTail;
pub(crate) use writer::{Journal, read_journal};
