use obs_runtime::instrumented;

#[instrumented(slo(success = "100%"))]
fn one() {}

#[instrumented(slo(success = "0.999"))]
fn two() {}

fn main() {
    one();
    two();
}
