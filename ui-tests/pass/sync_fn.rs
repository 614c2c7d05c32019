use obs_runtime::instrumented;

#[instrumented]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[instrumented]
fn nothing() {}

fn main() {
    assert_eq!(add(2, 3), 5);
    nothing();
}
