//! The last step before an event leaves: every string of it (message,
//! exception values, breadcrumbs, extra, tags, request headers and query,
//! frames) passes [`redact_field`] under the name of the field that holds
//! it; numbers that look like a secret (a card number in an integer field)
//! become their redacted text; sensitive headers and cookies are dropped;
//! without `send_default_pii`, the user and the request's environment are
//! dropped too. It runs after the user's hook, so that hook can't bring a
//! field back.

use serde_json::Value;

use crate::leaves::redact::{is_sensitive_name, redact_field};

/// Keys whose values are ids, times and enumerations the protocol defines:
/// left as they are (a trace id is long hex, which the detectors would
/// rightly take for a token).
const STRUCTURAL: &[&str] = &[
    "event_id",
    "trace_id",
    "span_id",
    "parent_span_id",
    "timestamp",
    "start_timestamp",
    "level",
    "platform",
    "instruction_addr",
    "symbol_addr",
    "image_addr",
    "debug_id",
];

/// Headers never sent, whatever their value.
const DROPPED_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// The event, scrubbed; `None` when it can't be rebuilt (it is then not
/// sent rather than sent unscrubbed).
pub(crate) fn scrub(
    event: sentry::protocol::Event<'static>,
    send_default_pii: bool,
) -> Option<sentry::protocol::Event<'static>> {
    let mut value = serde_json::to_value(&event).ok()?;
    if let Some(obj) = value.as_object_mut() {
        if !send_default_pii {
            obj.remove("user");
        }
        if let Some(request) = obj.get_mut("request").and_then(Value::as_object_mut) {
            request.remove("cookies");
            if !send_default_pii {
                request.remove("env");
                request.remove("data");
            }
            if let Some(headers) = request.get_mut("headers").and_then(Value::as_object_mut) {
                headers.retain(|name, _| {
                    let lower = name.to_ascii_lowercase();
                    !DROPPED_HEADERS.contains(&lower.as_str()) && !is_sensitive_name(&lower)
                });
            }
        }
    }
    walk(&mut value, "");
    serde_json::from_value(value).ok()
}

fn walk(value: &mut Value, key: &str) {
    if STRUCTURAL.contains(&key) {
        return;
    }
    match value {
        Value::String(s) => {
            let clean = redact_field(key, s);
            if clean != s.as_str() {
                *s = clean.into_owned();
            }
        }
        Value::Number(n) => {
            let text = n.to_string();
            let clean = redact_field(key, &text);
            if clean != text.as_str() {
                *value = Value::String(clean.into_owned());
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, key);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                walk(v, k);
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry::protocol::{Event, Exception, Request, User};

    #[test]
    fn secrets_leave_no_trace_and_ids_stay() {
        let mut event = Event {
            message: Some("login for ada@example.com failed".into()),
            ..Event::default()
        };
        event.exception.values.push(Exception {
            ty: "Refused".into(),
            value: Some("password=hunter2".into()),
            ..Exception::default()
        });
        event.extra.insert("password".into(), "hunter2".into());
        event
            .extra
            .insert("card".into(), 4_111_111_111_111_111_i64.into());
        event.user = Some(User {
            email: Some("ada@example.com".into()),
            ..User::default()
        });
        let mut request = Request::default();
        request.headers.insert("Cookie".into(), "sid=abc".into());
        request.headers.insert("Accept".into(), "text/html".into());
        request.query_string = Some("access_token=abc123&page=2".into());
        event.request = Some(request);
        let id = event.event_id;
        let out = scrub(event, false).unwrap();
        let text = serde_json::to_string(&out).unwrap();
        for secret in [
            "ada@example.com",
            "hunter2",
            "4111111111111111",
            "sid=abc",
            "abc123",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(out.event_id, id);
        assert!(out.user.is_none());
        let request = out.request.unwrap();
        assert_eq!(
            request.headers.get("Accept").map(String::as_str),
            Some("text/html")
        );
        assert!(!request.headers.contains_key("Cookie"));
        assert_eq!(
            request.query_string.as_deref(),
            Some("access_token=[REDACTED]&page=2")
        );
    }
}
