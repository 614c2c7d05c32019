use obs_runtime::instrumented;

// 105 bytes: `<base>_duration_seconds_bucket` would exceed 128.
#[instrumented(metric = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
fn query() {}

fn main() {}
