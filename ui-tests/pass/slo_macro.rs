use obs_runtime::http::ObsLayer;
use obs_runtime::schema::Objective;

// A constant: every check ran at compile time.
const USERS: Objective = obs_runtime::slo!(success = "99.9%", latency = "250ms", percentile = "99%");

fn main() {
    assert_eq!(USERS.success_ppm, Some(999_000));
    assert_eq!(USERS.latency_ms, Some(250));
    assert_eq!(USERS.percentile_ppm, Some(990_000));
    assert_eq!(USERS.period_days, 30);
    // 75ms is an HTTP bound (not a `latency` preset one); 28 days.
    let search = obs_runtime::slo!(latency = "75ms", percentile = "95%", period = "28d");
    assert_eq!((search.latency_ms, search.period_days), (Some(75), 28));
    let layer = ObsLayer::new()
        .slo("/users/{id}", USERS)
        .and_then(|l| l.default_slo(obs_runtime::slo!(success = "99.5%", crate = "::obs_runtime")))
        .unwrap();
    let _ = layer;
    // A route in the old syntax is refused with the reason, not a panic.
    let refused = ObsLayer::new().slo("/users/:id", USERS).unwrap_err();
    assert!(refused.to_string().contains("{id}"), "{refused}");
    let catalog = obs_runtime::catalog();
    assert_eq!(catalog.route_objectives()[0].route, "/users/{id}");
    assert_eq!(catalog.default_route_objective().unwrap().success_ppm, Some(995_000));
}
