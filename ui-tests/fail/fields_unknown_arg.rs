use obs_runtime::instrumented;

#[instrumented(fields(order))]
fn ship(order_id: u64) {
    let _ = order_id;
}

fn main() {}
