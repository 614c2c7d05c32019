use obs_runtime::instrumented;

#[instrumented(labels(le = "x"))]
fn load() {}

fn main() {}
