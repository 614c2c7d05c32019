use obs_runtime::health_check;

#[derive(Debug)]
struct Opaque;

#[health_check("database")]
async fn database() -> Result<(), Opaque> {
    Ok(())
}

fn main() {}
