use obs_runtime::instrumented;

// Six mistakes, options and rules alike in one attribute; every one is reported in the same build.
#[instrumented(colour = "red", metric = 5, labels(model = nope, user_id = "u"), fields(missing), buckets = [2.0, 1.0])]
fn call(name: bool) {
    let _ = name;
}

fn main() {}
