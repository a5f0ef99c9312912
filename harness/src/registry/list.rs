//! Reading the registered scenarios in a stable order.

use super::ScenarioEntry;

/// Every registered scenario, sorted by module path, then line.
pub(crate) fn all_scenarios() -> Vec<&'static ScenarioEntry> {
    let mut entries: Vec<&'static ScenarioEntry> =
        inventory::iter::<ScenarioEntry>.into_iter().collect();
    entries.sort_by(|a, b| (a.module_path, a.line, a.name).cmp(&(b.module_path, b.line, b.name)));
    entries
}

/// The scenario with this trial name.
pub(crate) fn find_scenario(trial_name: &str) -> Option<&'static ScenarioEntry> {
    all_scenarios()
        .into_iter()
        .find(|e| e.trial_name() == trial_name)
}
