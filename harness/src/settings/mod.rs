//! Run settings, layered in one direction: the attribute's declaration, then
//! the environment (`BRUNT_*`), then the command line. Each layer is a set of
//! `Option`s; [`resolve`] merges them in one place.

mod env;
mod resolved;

pub(crate) use env::MAX_SCALE;
pub use env::{EnvError, EnvSettings, LockSetting};
pub(crate) use resolved::RESOLVED_ENV;
pub use resolved::{HandedError, Resolved, default_target_dir, resolve};
