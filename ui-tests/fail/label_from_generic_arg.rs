use obs_runtime::{LabelValue, instrumented};

// A call site's labels are fixed once, so a label's type must be concrete.
#[instrumented(labels(tier = tier))]
fn charge<T: LabelValue>(tier: T) {
    let _ = tier.label_value();
}

fn main() {}
