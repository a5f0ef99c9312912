//! Run settings, layered in one direction: the attribute's declaration, then
//! the environment (`BRUNT_*`), then the command line. Each layer is a set of
//! `Option`s; [`resolve`] merges them in one place.

mod resolved;

pub(crate) use brunt_grammar::env::{EnvSettings, LockSetting};
pub(crate) use resolved::RESOLVED_ENV;
pub(crate) use resolved::{Resolved, default_target_dir, resolve};
