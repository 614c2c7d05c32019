use obs_runtime::instrumented;

#[instrumented(slo(latency = "250ms"))]
fn checkout() {}

fn main() {
    checkout();
}
