//! The runner: `brunt::main()` on libtest-mimic, and process isolation.
//!
//! Each scenario is an *ignored* trial, so plain `cargo test` lists and
//! skips it. Run, it re-executes the test binary as a child for that one
//! scenario (`parent`), with a hard deadline and a memory watchdog; the child
//! (`child`) runs the body and writes the report. When the child dies, the
//! parent writes the report itself from the child's journal (the same fold
//! and assembly, in `analysis`), so nothing measured is lost. Scenarios run one at a time: stress
//! measurements must not share the machine. The runner also says what a
//! run came to: the verdict on the terminal (`terminal`) and the check of
//! the report's structure against its snapshot (`snapshot`).

mod child;
mod containment;
mod entry;
mod files;
mod guard;
mod panic_site;
mod parent;
mod processes;
mod progress;
mod run_info;
mod snapshot;
mod terminal;
mod turn;

pub use entry::main;

/// The environment variable that makes the test binary a child running one
/// scenario. Internal: set only by the parent.
pub(crate) const CHILD_ENV: &str = "__BRUNT_CHILD";

/// The runner's pid, given to a child so it can die with it.
pub(crate) const PARENT_ENV: &str = "__BRUNT_PARENT";

/// How long the trial waited for the machine, said to the child so its
/// report's timeline carries it. Internal: set only by the parent.
pub(crate) const WAITED_ENV: &str = "__BRUNT_WAITED";

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}
