use std::sync::OnceLock;

use obs_runtime::health::{self, CheckError, Observed, Probe};
use obs_runtime::health_check;

struct Pool;

static POOL: OnceLock<Pool> = OnceLock::new();

/// State through a `static` that `main` fills.
#[health_check("database", timeout = "2s", kind = "readiness", critical = true)]
pub async fn database() -> Result<(), CheckError> {
    POOL.get().map(|_| ()).ok_or_else(|| CheckError::new("no pool yet"))
}

#[health_check("disk-space", timeout = "250ms", critical = false)]
async fn disk() -> Result<Observed, String> {
    Ok(Observed::new(45.0, "percent"))
}

#[health_check("heartbeat", kind = "liveness", timeout = "1m")]
async fn heartbeat() -> Result<(), std::io::Error> {
    Ok(())
}

#[health_check("migrations", kind = "startup", crate = "::obs_runtime")]
async fn migrations() -> Result<(), std::fmt::Error> {
    Ok(())
}

fn main() {
    let checks = health::validate().expect("distinct names");
    let find = |name: &str| checks.iter().find(|c| c.name() == name).expect(name);
    assert_eq!(find("database").timeout().as_secs(), 2);
    assert!(find("database").critical());
    assert!(!find("disk-space").critical());
    assert_eq!(find("heartbeat").kind(), Probe::Liveness);
    assert_eq!(find("heartbeat").timeout().as_secs(), 60);
    assert_eq!(find("migrations").kind(), Probe::Startup);
    assert_eq!(find("migrations").timeout().as_millis(), 1_000, "the default timeout");
    // The functions stay callable as written.
    let _ = (database(), disk(), heartbeat(), migrations());
    let _ = POOL.set(Pool);
}
