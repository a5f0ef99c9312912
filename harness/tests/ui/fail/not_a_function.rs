#[brunt::stress(duration = "10s")]
struct Scenario;

fn main() {}
