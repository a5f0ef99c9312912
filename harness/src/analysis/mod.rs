//! From a run's journal to what it came to: the [`fold`] of its records
//! into one [`RunRecord`], read by the report's assembly.

mod fold;

pub(crate) use fold::{RunRecord, fold};
