//! The `OTEL_*` environment, read once and validated: whether the SDK is
//! disabled, the resource, and (feature `otlp`) the exporter and sampler.
//! `init` reads the rest (`OBS_ENV`, `RUST_LOG`, `OBS_LOG_DIR`) and the
//! variables table is in its documentation.
//!
//! A bad value never stops the program: it becomes a warning naming the
//! variable, the value and the fallback used, which `init` logs once the
//! logger is up.

#[cfg(feature = "otlp")]
use super::tls::{self, TlsFiles};
#[cfg(feature = "otlp")]
use super::{SamplerChoice, SpanExport};

/// What the `OTEL_*` environment asked of traces, after validation.
#[derive(Debug, Clone)]
pub(crate) struct TraceConfig {
    /// `OTEL_SDK_DISABLED`: only traces have something to disable.
    pub(crate) disabled: bool,
    /// The resource attributes, also the source of `obs_build_info`.
    pub(crate) resource: Vec<(String, String)>,
    #[cfg(feature = "otlp")]
    pub(crate) export: SpanExport,
    #[cfg(feature = "otlp")]
    pub(crate) sampler: SamplerChoice,
    /// `OBS_BSP_MAX_QUEUE_BYTES`: the estimated bytes of ended spans
    /// waiting for export (queued, batched or being sent), at most.
    #[cfg(feature = "otlp")]
    pub(crate) queue_bytes: usize,
    /// The certificates of `OTEL_EXPORTER_OTLP_*CERTIFICATE` and
    /// `*CLIENT_KEY`, checked; used when the endpoint is `https://`,
    /// whether it came from the environment or from `Builder::span_export`.
    #[cfg(feature = "otlp")]
    pub(crate) tls: TlsFiles,
}

impl TraceConfig {
    /// Reads the configuration through `get` (the environment, or a test's
    /// map); `environment` is `OBS_ENV`, the default of
    /// `deployment.environment.name`. Returns the warnings to log.
    pub(crate) fn from_env(
        get: &dyn Fn(&str) -> Option<String>,
        environment: Option<&str>,
    ) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let disabled = match get("OTEL_SDK_DISABLED").as_deref().map(str::trim) {
            None | Some("") => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                warnings.push(format!(
                    "OTEL_SDK_DISABLED={v:?} is not valid; using false (telemetry enabled)"
                ));
                false
            }
        };
        let resource = resource(get, environment, &mut warnings);
        let production = environment.is_some_and(|e| e.trim().eq_ignore_ascii_case("production"));
        #[cfg(feature = "otlp")]
        let (export, sampler, tls) = span_settings(get, production, &mut warnings);
        #[cfg(not(feature = "otlp"))]
        let _ = production;
        #[cfg(feature = "otlp")]
        let queue_bytes = queue_bytes(get, &mut warnings);
        let config = Self {
            disabled,
            resource,
            #[cfg(feature = "otlp")]
            export,
            #[cfg(feature = "otlp")]
            sampler,
            #[cfg(feature = "otlp")]
            queue_bytes,
            #[cfg(feature = "otlp")]
            tls,
        };
        (config, warnings)
    }

    /// Sets a resource attribute, replacing any of that key.
    pub(crate) fn set_resource(&mut self, key: &str, value: String) {
        self.resource.retain(|(k, _)| k != key);
        self.resource.push((key.to_owned(), value));
    }

    /// A resource attribute's value.
    pub(crate) fn resource_value(&self, key: &str) -> Option<&str> {
        self.resource
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether `OTEL_SERVICE_NAME` is set, in which case it wins over the
/// name a program gives in code.
pub(crate) fn service_name_from_env() -> bool {
    std::env::var("OTEL_SERVICE_NAME").is_ok_and(|v| !v.trim().is_empty())
}

fn percent_decode(s: &str) -> String {
    let mut rest = s.as_bytes();
    let mut out = Vec::with_capacity(rest.len());
    while let [first, tail @ ..] = rest {
        if let (b'%', [high, low, after @ ..]) = (first, tail)
            && let Ok(b) =
                u8::from_str_radix(std::str::from_utf8(&[*high, *low]).unwrap_or("zz"), 16)
        {
            out.push(b);
            rest = after;
        } else {
            out.push(*first);
            rest = tail;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn host_name() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

/// The resource attributes: `OTEL_RESOURCE_ATTRIBUTES`, then
/// `OTEL_SERVICE_NAME` over it, the environment from `OBS_ENV`, and what the
/// process knows of itself.
fn resource(
    get: &dyn Fn(&str) -> Option<String>,
    env: Option<&str>,
    warnings: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut resource: Vec<(String, String)> = Vec::new();
    if let Some(attrs) = get("OTEL_RESOURCE_ATTRIBUTES") {
        let mut bad: Vec<&str> = Vec::new();
        for pair in attrs.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    resource.push((k.trim().to_owned(), percent_decode(v.trim())));
                }
                _ => bad.push(pair),
            }
        }
        // One warning for the variable, however many entries are bad: a
        // mangled value must not flood the log at start-up.
        if let Some(first) = bad.first() {
            let shown: String = first.chars().take(64).collect();
            warnings.push(format!(
                "OTEL_RESOURCE_ATTRIBUTES: {} entr{} not key=value (the first: {shown:?}) and left out",
                bad.len(),
                if bad.len() == 1 { "y is" } else { "ies are" }
            ));
        }
    }
    let mut set = |key: &str, value: String| {
        resource.retain(|(k, _)| k != key);
        resource.push((key.to_owned(), value));
    };
    if let Some(name) = get("OTEL_SERVICE_NAME").filter(|n| !n.trim().is_empty()) {
        set("service.name", name.trim().to_owned());
    }
    if let Some(e) = env.map(str::trim).filter(|e| !e.is_empty())
        && !resource
            .iter()
            .any(|(k, _)| k == "deployment.environment.name")
    {
        resource.push((
            "deployment.environment.name".to_owned(),
            e.to_ascii_lowercase(),
        ));
    }
    if !resource.iter().any(|(k, _)| k == "service.name") {
        let exe = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        resource.push(("service.name".to_owned(), format!("unknown_service:{exe}")));
    }
    if let Some(host) = host_name()
        && !resource.iter().any(|(k, _)| k == "host.name")
    {
        resource.push(("host.name".to_owned(), host));
    }
    resource.push(("process.pid".to_owned(), std::process::id().to_string()));
    resource
}

/// The ratio of new traces sampled when `OBS_ENV=production` and
/// `OTEL_TRACES_SAMPLER` is unset (`parentbased_traceidratio`): a trace
/// whose caller sampled it is always kept.
#[cfg(feature = "otlp")]
const PRODUCTION_RATIO: f64 = 0.1;

/// Whether OTLP goes over gRPC (else HTTP/protobuf, the specification's
/// default): `OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL` when `signal` names
/// one (`"METRICS"`) and it is set, else `OTEL_EXPORTER_OTLP_PROTOCOL`.
/// Shared by traces and metrics, so both read the variables alike.
#[cfg(feature = "otlp")]
pub(crate) fn otlp_protocol(
    get: &dyn Fn(&str) -> Option<String>,
    signal: Option<&str>,
    warnings: &mut Vec<String>,
) -> bool {
    let (var, value) = signal_first(get, signal, "PROTOCOL");
    match value.as_deref().map(str::trim) {
        None | Some("" | "http/protobuf") => false,
        Some("grpc") => true,
        Some(v) => {
            warnings.push(format!("{var}={v:?} is not valid; using http/protobuf"));
            false
        }
    }
}

/// The collector's URL for one signal, and whether it came from the
/// signal's own variable (used as it is) or from the generic one (a base
/// URL, to which HTTP/protobuf appends `/v1/<signal>`).
#[cfg(feature = "otlp")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OtlpEndpoint {
    pub(crate) url: String,
    pub(crate) signal_specific: bool,
}

/// `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT` when `signal` names one and it
/// is set to an http(s) URL, else `OTEL_EXPORTER_OTLP_ENDPOINT`, else
/// `http://localhost:4317` (gRPC) or `http://localhost:4318`.
#[cfg(feature = "otlp")]
pub(crate) fn otlp_endpoint(
    get: &dyn Fn(&str) -> Option<String>,
    signal: Option<&str>,
    grpc: bool,
    warnings: &mut Vec<String>,
) -> OtlpEndpoint {
    let signal_var = signal.map(|s| format!("OTEL_EXPORTER_OTLP_{s}_ENDPOINT"));
    let generic = "OTEL_EXPORTER_OTLP_ENDPOINT";
    let read = |var: &str, warnings: &mut Vec<String>| {
        get(var).map(|e| e.trim().to_owned()).filter(|e| {
            let ok = e.starts_with("http://") || e.starts_with("https://");
            if !ok && !e.is_empty() {
                warnings.push(format!(
                    "{var}={e:?} is not an http(s) URL; using the default endpoint"
                ));
            }
            ok
        })
    };
    if let Some(var) = &signal_var
        && let Some(url) = read(var, warnings)
    {
        return OtlpEndpoint {
            url,
            signal_specific: true,
        };
    }
    let url = read(generic, warnings).unwrap_or_else(|| {
        if grpc {
            "http://localhost:4317"
        } else {
            "http://localhost:4318"
        }
        .to_owned()
    });
    OtlpEndpoint {
        url,
        signal_specific: false,
    }
}

/// The signal's variable (`OTEL_EXPORTER_OTLP_<SIGNAL>_<WHAT>`) when set
/// and not empty, else the generic one: the name read and its value.
#[cfg(feature = "otlp")]
fn signal_first(
    get: &dyn Fn(&str) -> Option<String>,
    signal: Option<&str>,
    what: &str,
) -> (String, Option<String>) {
    if let Some(signal) = signal {
        let var = format!("OTEL_EXPORTER_OTLP_{signal}_{what}");
        if let Some(v) = get(&var).filter(|v| !v.trim().is_empty()) {
            return (var, Some(v));
        }
    }
    let var = format!("OTEL_EXPORTER_OTLP_{what}");
    let value = get(&var);
    (var, value)
}

/// The request headers of one signal's exports: `OTEL_EXPORTER_OTLP_HEADERS`
/// (`key=value,key=value`, values percent-decoded), then
/// `OTEL_EXPORTER_OTLP_<SIGNAL>_HEADERS`, whose keys win. Entries that are
/// not `key=value` give one warning per variable, without their values
/// (headers carry credentials).
#[cfg(feature = "otlp")]
pub(crate) fn otlp_headers(
    get: &dyn Fn(&str) -> Option<String>,
    signal: &str,
    warnings: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for var in [
        "OTEL_EXPORTER_OTLP_HEADERS".to_owned(),
        format!("OTEL_EXPORTER_OTLP_{signal}_HEADERS"),
    ] {
        let Some(value) = get(&var) else { continue };
        let mut bad = 0usize;
        for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                    let key = k.trim().to_ascii_lowercase();
                    headers.retain(|(k, _)| *k != key);
                    headers.push((key, percent_decode(v.trim())));
                }
                _ => bad += 1,
            }
        }
        if bad > 0 {
            warnings.push(format!(
                "{var}: {bad} entr{} not key=value and left out",
                if bad == 1 { "y is" } else { "ies are" }
            ));
        }
    }
    headers
}

/// `OBS_BSP_MAX_QUEUE_BYTES`, named after the batch span processor's
/// `OTEL_BSP_MAX_QUEUE_SIZE` (a count of spans, which obs reads as the SDK
/// defaults it, 2,048) under obs's own prefix, the `OTEL_` names being the
/// specification's: a positive number of bytes, with an optional `KiB` or
/// `MiB` suffix.
#[cfg(feature = "otlp")]
fn queue_bytes(get: &dyn Fn(&str) -> Option<String>, warnings: &mut Vec<String>) -> usize {
    const VAR: &str = "OBS_BSP_MAX_QUEUE_BYTES";
    let default = super::batch::DEFAULT_QUEUE_BYTES;
    let Some(value) = get(VAR) else {
        return default;
    };
    let v = value.trim();
    if v.is_empty() {
        return default;
    }
    let (digits, unit) = if let Some(n) = v.strip_suffix("MiB") {
        (n, 1 << 20)
    } else if let Some(n) = v.strip_suffix("KiB") {
        (n, 1 << 10)
    } else {
        (v, 1)
    };
    match digits
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
    {
        Some(bytes) if bytes > 0 => bytes,
        _ => {
            warnings.push(format!(
                "{VAR}={value:?} is not a positive number of bytes (e.g. 1048576 or 1MiB); \
                 using {default}"
            ));
            default
        }
    }
}

/// The `OTEL_EXPORTER_OTLP_*` and `OTEL_TRACES_*` variables. Without the
/// `otlp` feature nothing is exported, so they are not read.
#[cfg(feature = "otlp")]
fn span_settings(
    get: &dyn Fn(&str) -> Option<String>,
    production: bool,
    warnings: &mut Vec<String>,
) -> (SpanExport, SamplerChoice, TlsFiles) {
    let grpc = otlp_protocol(get, None, warnings);
    let endpoint = otlp_endpoint(get, None, grpc, warnings).url;
    let mut warn = |var: &str, value: &str, fallback: &str| {
        warnings.push(format!("{var}={value:?} is not valid; using {fallback}"));
    };
    let export = match get("OTEL_TRACES_EXPORTER").as_deref().map(str::trim) {
        None | Some("" | "otlp") => {
            if grpc {
                SpanExport::OtlpGrpc { endpoint }
            } else {
                SpanExport::OtlpHttp { endpoint }
            }
        }
        Some("console") => SpanExport::Console,
        Some("none") => SpanExport::None,
        Some(v) => {
            warn("OTEL_TRACES_EXPORTER", v, "otlp");
            if grpc {
                SpanExport::OtlpGrpc { endpoint }
            } else {
                SpanExport::OtlpHttp { endpoint }
            }
        }
    };
    // A bad ratio falls back to the environment's default, never to "every
    // trace": a typo must not multiply a production service's span volume.
    let (default_ratio, default_text) = if production {
        (PRODUCTION_RATIO, "0.1 (the production default)")
    } else {
        (1.0, "1.0 (every trace)")
    };
    let arg = get("OTEL_TRACES_SAMPLER_ARG");
    let mut ratio = || match arg.as_deref().map(str::trim) {
        None | Some("") => default_ratio,
        Some(v) => match v.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => r,
            _ => {
                warn("OTEL_TRACES_SAMPLER_ARG", v, default_text);
                default_ratio
            }
        },
    };
    let sampler = match get("OTEL_TRACES_SAMPLER").as_deref().map(str::trim) {
        None | Some("") if production => SamplerChoice::ParentBasedTraceIdRatio(ratio()),
        None | Some("" | "parentbased_always_on") => SamplerChoice::ParentBasedAlwaysOn,
        Some("always_on") => SamplerChoice::AlwaysOn,
        Some("always_off") => SamplerChoice::AlwaysOff,
        Some("parentbased_always_off") => SamplerChoice::ParentBasedAlwaysOff,
        Some("traceidratio") => SamplerChoice::TraceIdRatio(ratio()),
        Some("parentbased_traceidratio") => SamplerChoice::ParentBasedTraceIdRatio(ratio()),
        Some(v) => {
            warnings.push(format!(
                "OTEL_TRACES_SAMPLER={v:?} is not valid; using parentbased_always_on"
            ));
            SamplerChoice::ParentBasedAlwaysOn
        }
    };
    // Only an OTLP export has a collector to speak TLS to.
    let tls = match &export {
        SpanExport::OtlpGrpc { endpoint } | SpanExport::OtlpHttp { endpoint } => {
            tls::from_env(get, endpoint, warnings)
        }
        SpanExport::Console | SpanExport::None => TlsFiles::default(),
    };
    (export, sampler, tls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> (TraceConfig, Vec<String>) {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TraceConfig::from_env(
            &|k| map.get(k).cloned(),
            map.get("OBS_ENV").map(String::as_str),
        )
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn the_span_queue_byte_budget_is_read_with_its_unit() {
        let default = crate::subsystems::trace::batch::DEFAULT_QUEUE_BYTES;
        assert_eq!(with(&[]).0.queue_bytes, default);
        assert_eq!(
            with(&[("OBS_BSP_MAX_QUEUE_BYTES", "65536")]).0.queue_bytes,
            65_536
        );
        assert_eq!(
            with(&[("OBS_BSP_MAX_QUEUE_BYTES", " 4MiB ")]).0.queue_bytes,
            4 << 20
        );
        assert_eq!(
            with(&[("OBS_BSP_MAX_QUEUE_BYTES", "512KiB")]).0.queue_bytes,
            512 << 10
        );
        for bad in ["0", "-1", "lots", "1GiB", "99999999999999999999MiB"] {
            let (config, warnings) = with(&[("OBS_BSP_MAX_QUEUE_BYTES", bad)]);
            assert_eq!(config.queue_bytes, default, "{bad}");
            assert!(
                warnings
                    .iter()
                    .any(|w| w.contains("OBS_BSP_MAX_QUEUE_BYTES")),
                "{bad}: {warnings:?}"
            );
        }
    }

    #[test]
    fn resource_attributes_and_service_name() {
        let (c, warnings) = with(&[
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.namespace=shop,deployment.environment.name=staging,team=a%20b,broken",
            ),
            ("OTEL_SERVICE_NAME", "checkout"),
        ]);
        assert_eq!(c.resource_value("service.name"), Some("checkout"));
        assert_eq!(c.resource_value("service.namespace"), Some("shop"));
        assert_eq!(
            c.resource_value("deployment.environment.name"),
            Some("staging")
        );
        assert_eq!(c.resource_value("team"), Some("a b"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("broken"));
    }

    #[test]
    fn percent_escapes_decode_and_broken_ones_stay() {
        assert_eq!(percent_decode("a%20b%2Cc"), "a b,c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(percent_decode("%41%"), "A%");
        assert_eq!(percent_decode("%C3%A9t%C3%A9"), "été");
        assert_eq!(percent_decode("%e9"), "\u{fffd}");
        assert_eq!(percent_decode("é%"), "é%");
    }

    #[test]
    fn environment_names_the_deployment() {
        let (c, _) = with(&[("OBS_ENV", "Staging")]);
        assert_eq!(
            c.resource_value("deployment.environment.name"),
            Some("staging")
        );
    }

    #[test]
    #[cfg(feature = "otlp")]
    fn exporter_protocol_and_sampler() {
        let (c, w) = with(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
        ]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            c.export,
            SpanExport::OtlpGrpc {
                endpoint: "http://collector:4317".into()
            }
        );
        assert_eq!(c.sampler, SamplerChoice::ParentBasedTraceIdRatio(0.1));
    }

    #[test]
    #[cfg(feature = "otlp")]
    fn bad_values_warn_once_each_and_fall_back() {
        let (c, w) = with(&[
            ("OTEL_SDK_DISABLED", "maybe"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_TRACES_EXPORTER", "zipkin"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
        ]);
        assert_eq!(w.len(), 4, "{w:#?}");
        assert!(!c.disabled);
        assert!(matches!(c.export, SpanExport::OtlpHttp { .. }));
        assert_eq!(c.sampler, SamplerChoice::ParentBasedAlwaysOn);
        let (_, w) = with(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ]);
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn production_samples_a_tenth_and_a_bad_ratio_never_means_every_trace() {
        let (c, w) = with(&[("OBS_ENV", "production")]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.sampler, SamplerChoice::ParentBasedTraceIdRatio(0.1));
        let (c, w) = with(&[
            ("OBS_ENV", "production"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "ten percent"),
        ]);
        assert_eq!(c.sampler, SamplerChoice::ParentBasedTraceIdRatio(0.1));
        assert!(w[0].contains("0.1"), "{w:?}");
        let (c, _) = with(&[
            ("OBS_ENV", "production"),
            ("OTEL_TRACES_SAMPLER", "always_on"),
        ]);
        assert_eq!(
            c.sampler,
            SamplerChoice::AlwaysOn,
            "an explicit choice wins"
        );
        let (c, _) = with(&[("OBS_ENV", "development")]);
        assert_eq!(c.sampler, SamplerChoice::ParentBasedAlwaysOn);
    }

    #[test]
    fn many_bad_resource_entries_give_one_warning() {
        let junk = vec!["junk"; 481].join(",");
        let (c, w) = with(&[("OTEL_RESOURCE_ATTRIBUTES", &format!("team=pay,{junk}"))]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("481 entries"), "{w:?}");
        assert_eq!(c.resource_value("team"), Some("pay"));
    }
}
