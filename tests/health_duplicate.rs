//! Two checks with one name: the program is misconfigured, and start-up
//! says where both are.

use obs_runtime::health::{self, Probe};

mod orders {
    #[obs_runtime::health_check("database")]
    pub async fn database() -> Result<(), String> {
        Ok(())
    }
}

mod billing {
    #[obs_runtime::health_check("database", timeout = "2s")]
    pub async fn database() -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn validation_names_both_locations() {
    let dup = health::validate().unwrap_err();
    assert_eq!(dup.name, "database");
    let message = dup.to_string();
    assert!(
        message.contains("tests/health_duplicate.rs:8:"),
        "{message}"
    );
    assert!(
        message.contains("tests/health_duplicate.rs:15:"),
        "{message}"
    );
    assert!(
        message.contains("health_duplicate::orders")
            && message.contains("health_duplicate::billing"),
        "{message}"
    );
}

#[test]
fn the_router_refuses_to_start() {
    let panic = std::panic::catch_unwind(health::axum::router).unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("two health checks are named `database`"),
        "{message}"
    );
}

#[tokio::test]
async fn probes_fail_and_say_why() {
    let report = health::report(Probe::Readiness).await;
    assert_eq!(report.http_status(), 503);
    assert!(
        report
            .to_json()
            .contains("two health checks are named `database`")
    );
}
