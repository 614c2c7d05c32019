use obs_runtime::instrumented;

#[instrumented(name = "query")]
fn query() {}

fn main() {}
