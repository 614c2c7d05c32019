use obs_runtime::instrumented;

#[instrumented(metric = "db_query", buckets = "latency", labels(table = "users"))]
async fn load_user(id: u64) -> Result<u64, String> {
    if id == 0 { Err("none".into()) } else { Ok(id) }
}

#[instrumented]
fn parse(input: &[u8]) -> Option<u8> {
    input.first().copied()
}

#[instrumented(labels(hit = hit), in_flight = true)]
fn cached(hit: bool) -> u32 {
    1
}

fn main() {
    println!("{}", obs_runtime::encode_text());
    parse(b"a");
    cached(true);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let _ = load_user(1).await;
        let _ = load_user(0).await;
    });
    println!("{}", obs_runtime::encode_text());
}
