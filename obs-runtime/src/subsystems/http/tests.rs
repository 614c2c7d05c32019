//! Unit tests of the request path's parts.

use http::Request;

use super::in_flight::InFlight;
use super::layer::ObsLayer;
use super::metrics::{METHODS, method_label};
use super::route::{Route, RouteTemplate, SeriesCache, route_of};

#[test]
fn methods_outside_the_standard_set_are_other() {
    for (i, name) in METHODS[..9].iter().enumerate() {
        let method = http::Method::from_bytes(name.as_bytes()).unwrap();
        assert_eq!(method_label(&method), (i, *name));
    }
    for other in [&b"PURGE"[..], b"get", b"_OTHER"] {
        let method = http::Method::from_bytes(other).unwrap();
        assert_eq!(method_label(&method), (9, "_OTHER"), "{method}");
    }
}

#[test]
fn a_service_caches_only_its_own_route() {
    let cache: &'static SeriesCache = Box::leak(Box::new(SeriesCache::new()));
    let request = |route: &'static str| {
        let mut r = Request::new(());
        r.extensions_mut().insert(RouteTemplate(route));
        route_of(&r, cache)
    };
    // The first route claims the cache; later requests get its copy.
    let route = request("/cache/{id}");
    assert!(matches!(route, Route::Cached("/cache/{id}")));
    let labels = |status| ["GET", "/cache/{id}", status, ""];
    let first = cache.finished(0, &route, 200, &labels("200"));
    first.duration.observe(0.1);
    // The same series again, from the cache.
    let again = request("/cache/{id}");
    assert_eq!(
        cache
            .finished(0, &again, 200, &labels("200"))
            .duration
            .count(),
        1
    );
    // Other statuses take other slots; beyond the slots, plain lookups.
    for status in [201_u16, 202, 203, 204, 205] {
        let text = status.to_string();
        let s = cache.finished(
            0,
            &again,
            status,
            &["GET", "/cache/{id}", text.as_str(), ""],
        );
        assert_eq!(s.duration.count(), 0, "{status} is its own series");
    }
    // Another route is never served from this cache.
    let other = request("/other");
    assert!(matches!(other, Route::Static("/other")));
    let labels = ["GET", "/other", "200", ""];
    assert_eq!(cache.finished(0, &other, 200, &labels).duration.count(), 0);
    // Requests in flight are counted per route, whichever way found.
    let (mine, theirs) = (cache.active(0, &again), cache.active(0, &other));
    mine.inc();
    assert_eq!((mine.get(), theirs.get()), (1, 0));
    assert!(std::ptr::eq(mine, cache.active(0, &request("/cache/{id}"))));
    mine.dec();
}

#[test]
fn a_request_in_flight_stays_small() {
    // Moved and boxed with every response future: tracing state sits
    // behind one pointer, the request size needs no `Option` tag.
    assert!(
        std::mem::size_of::<InFlight>() <= 112,
        "{} bytes",
        std::mem::size_of::<InFlight>()
    );
}

#[test]
fn exclusions_cover_exact_paths_and_below() {
    let ex = ObsLayer::new().exclude("/internal").exclusions;
    assert!(ex.contains("/metrics"));
    assert!(ex.contains("/readyz/database"));
    assert!(ex.contains("/internal/ping"));
    assert!(!ex.contains("/metricsx"));
    assert!(!ex.contains("/users/1"));
}

#[test]
fn route_objectives_are_checked_kept_and_replaced() {
    use crate::leaves::schema::Objective;

    let strict = Objective::new().success(999_000);
    let loose = Objective::new().success(990_000).latency(500, 950_000);
    let layer = ObsLayer::new()
        .slo("/unit/orders/{id}", strict)
        .and_then(|l| l.slo("/unit/orders/{id}", loose));
    assert!(layer.is_ok(), "{layer:?}");
    let kept: Vec<_> = super::route_objectives()
        .into_iter()
        .filter(|(route, _)| route == "/unit/orders/{id}")
        .collect();
    assert_eq!(kept, vec![("/unit/orders/{id}".to_owned(), loose)]);

    // Refused with the reason, and not kept.
    for (route, objective, says) in [
        ("/unit/bad/:id", strict, "{id}"),
        (
            "/unit/ok",
            Objective::new().latency(300, 990_000),
            "250ms and 500ms",
        ),
        (
            "/unit/ok",
            Objective::new().success(1_000_000),
            "below 100%",
        ),
        (
            "/unit/ok",
            Objective::new().success(999_000).period(14),
            "7, 28 or 30",
        ),
        ("/unit/ok", Objective::new(), "names `success"),
    ] {
        let refused = ObsLayer::new().slo(route, objective).unwrap_err();
        assert_eq!(refused.route(), route);
        assert!(refused.to_string().contains(says), "{refused}");
    }
    assert!(
        super::route_objectives()
            .iter()
            .all(|(route, _)| !route.starts_with("/unit/bad") && route != "/unit/ok")
    );
    let refused = ObsLayer::new().default_slo(Objective::new()).unwrap_err();
    assert!(refused.to_string().contains("every route"), "{refused}");
}
