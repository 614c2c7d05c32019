use obs_runtime::instrumented;

#[instrumented(slo(success = "99.9%", target = "99%"))]
fn checkout() {}

fn main() {
    checkout();
}
