//! What a run came to, from what it recorded: the [`fold`] of its journal
//! into one [`RunRecord`], the built-in metrics of its load and resources,
//! the chaos run's metrics and events, trend statistics, and the report with
//! its verdicts. Reads what was recorded; measures nothing.

mod chaos;
mod contention;
mod fold;
mod load;
mod report;
mod resources;
mod step;
mod trend;
mod verdict;

pub(crate) use chaos::{chaos_events, chaos_metrics};
pub(crate) use fold::{RunRecord, fold};
pub(crate) use load::{
    escalation_metrics, generator_bottleneck, load_metrics, load_metrics_of, pool_finding,
};
pub(crate) use report::assemble;
pub(crate) use resources::{LoadShape, resource_metrics};
pub(crate) use step::judge_step;
pub(crate) use trend::{GrowthTrend, growth_trend};
