use obs_runtime::instrumented;

#[instrumented(labels(__foo = "x"))]
fn load() {}

fn main() {}
