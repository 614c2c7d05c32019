use obs_runtime::instrumented;

struct Db;

#[instrumented]
impl Db {
    fn query(&self) {}
}

fn main() {}
