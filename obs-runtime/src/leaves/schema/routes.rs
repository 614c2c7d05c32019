//! Route templates, as the router writes them: what a route objective
//! (`ObsLayer::slo`) may name.

use super::names::check_label_value;

/// The `http_route` of a request no route matched: one fixed value, so
/// scanners probing random paths can't grow the families.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Checks that `route` is a route template in the router's syntax (axum
/// 0.8, matchit): it starts with `/`; `{name}` captures a segment and
/// `{*name}` the rest of the path (last only); `{{` and `}}` are literal
/// braces. It becomes the `http_route` label value of the requests it
/// matches, so it also obeys the label value length limit. `None` when it
/// is one, else the rule it breaks.
///
/// ```
/// use obs_runtime::schema::check_route_template;
/// assert!(check_route_template("/users/{id}").is_none());
/// assert!(check_route_template("/files/{*path}").is_none());
/// assert!(check_route_template("/").is_none());
/// assert!(check_route_template("users/{id}").is_some());
/// assert!(check_route_template("/users/:id").is_some());
/// assert!(check_route_template("/users/{id").is_some());
/// ```
#[must_use]
pub fn check_route_template(route: &str) -> Option<&'static str> {
    if !route.starts_with('/') {
        return Some("a route template starts with `/`, as the router's do: `\"/users/{id}\"`");
    }
    // It is the `http_route` label value of its requests.
    if let Some(why) = check_label_value(route) {
        return Some(why);
    }
    if route.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Some("a route template has no spaces or control characters");
    }
    if route
        .split('/')
        .any(|segment| segment.starts_with(':') || segment.starts_with('*'))
    {
        return Some(
            "parameters are written in braces, as axum 0.8 does: `/users/{id}` and `/files/{*path}`, not `:id` or `*path`",
        );
    }
    let mut rest = route;
    while let Some(at) = rest.find(['{', '}']) {
        let (_, from) = rest.split_at(at);
        if let Some(after) = from.strip_prefix("{{").or_else(|| from.strip_prefix("}}")) {
            rest = after;
            continue;
        }
        let Some(inner) = from.strip_prefix('{') else {
            return Some("a lone `}` in a route template: write `}}` for a literal brace");
        };
        let Some(close) = inner.find('}') else {
            return Some("an unclosed `{` in a route template: `/users/{id}`");
        };
        let (name, after) = inner.split_at(close);
        let (wildcard, name) = match name.strip_prefix('*') {
            Some(name) => (true, name),
            None => (false, name),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Some(
                "a route parameter is a name of letters, digits and `_` in braces: `{id}`, `{*path}`",
            );
        }
        rest = after.strip_prefix('}').unwrap_or(after);
        if wildcard && !rest.is_empty() {
            return Some("a catch-all parameter `{*name}` ends the route template");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_in_the_routers_syntax_pass_and_others_say_why() {
        for good in [
            "/",
            "/users/{id}",
            "/users/{id}/orders/{order_id}",
            "/files/{*path}",
            "/literal/{{braces}}",
            "/v1/items.json",
        ] {
            assert_eq!(check_route_template(good), None, "{good}");
        }
        for (bad, says) in [
            ("", "starts with `/`"),
            ("unmatched", "starts with `/`"),
            ("/users/:id", "in braces"),
            ("/files/*path", "in braces"),
            ("/users/{id", "unclosed"),
            ("/users/id}", "lone"),
            ("/users/{}", "letters, digits"),
            ("/users/{a-b}", "letters, digits"),
            ("/files/{*path}/more", "ends the route"),
            ("/users /x", "spaces"),
        ] {
            let why = check_route_template(bad).unwrap_or_default();
            assert!(why.contains(says), "{bad}: {why}");
        }
        assert!(check_route_template(&format!("/{}", "a".repeat(1024))).is_some());
    }
}
