use obs_runtime::instrumented;

// Forbidden names are matched ignoring case, with `-` equal to `_`.
#[instrumented(labels(Client_IP = "x"))]
fn load() {}

fn main() {}
