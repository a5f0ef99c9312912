//! The suite's artifacts. Each renderer reads the suite (and its
//! comparison with a baseline) and returns text; none measures anything.

mod html;
mod json;
mod junit;
mod markdown;

pub use html::render_html;
pub use json::render_json;
pub use junit::render_junit;
pub use markdown::render_markdown;
