use obs_runtime::health_check;

struct Pool;

#[health_check("database")]
async fn database(pool: &Pool) -> Result<(), String> {
    let _ = pool;
    Ok(())
}

fn main() {}
