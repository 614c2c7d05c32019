use obs_runtime::instrumented;

#[instrumented]
const fn answer() -> u8 {
    42
}

fn main() {}
