#![deny(unused_must_use)]

use obs_runtime::instrumented;

// `#[must_use]` after `#[instrumented]` survives the expansion.
#[instrumented]
#[must_use]
fn double(x: u32) -> u32 {
    x * 2
}

fn main() {
    double(2);
}
