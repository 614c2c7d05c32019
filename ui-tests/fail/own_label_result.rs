use obs_runtime::instrumented;

#[instrumented(labels(result = "x"))]
fn load() {}

fn main() {}
