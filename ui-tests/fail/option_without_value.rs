use obs_runtime::instrumented;

#[instrumented(metric)]
fn query() {}

fn main() {}
