use obs_runtime::instrumented;

#[instrumented(labels(user_id = "x"))]
fn load() {}

fn main() {}
