use obs_runtime::http::ObsLayer;

fn main() {
    // 300ms falls between two bounds of http_server_request_duration_seconds.
    let _layer = ObsLayer::new().slo(
        "/users/{id}",
        obs_runtime::slo!(success = "99.9%", latency = "300ms", percentile = "99%"),
    );
}
