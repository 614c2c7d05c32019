//! One call in `main` that installs logs and traces from the environment,
//! the way every OpenTelemetry SDK is configured.
//!
//! | variable | values | default |
//! |---|---|---|
//! | `OTEL_SDK_DISABLED` | `true` / `false` | `false` |
//! | `OTEL_SERVICE_NAME` | the service's name | `unknown_service:<executable>` |
//! | `OTEL_RESOURCE_ATTRIBUTES` | `key=value,key=value` (values percent-decoded) | none |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | base URL of the collector | `http://localhost:4318` (`4317` for gRPC) |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL` | `grpc`, `http/protobuf` | `http/protobuf`, as the specification says |
//! | `OTEL_TRACES_EXPORTER` | `otlp`, `console`, `none` | `otlp` |
//! | `OTEL_TRACES_SAMPLER` | `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio` | `parentbased_always_on` |
//! | `OTEL_TRACES_SAMPLER_ARG` | the ratio, 0 to 1 | `1` |
//! | `OBS_ENV` | `production` (JSON logs), `development` (readable logs) | `development` when stderr is a terminal, else `production` |
//! | `RUST_LOG` | a `tracing` filter | `info` |
//! | `OBS_LOG_DIR`, `OBS_LOG_RETENTION` | also write logs to daily files in that folder, keeping that many | none, 7 |
//!
//! A bad value never stops the program: it gives one warning (logged once
//! the logger is up) naming the variable, the value and the fallback used.

use std::path::PathBuf;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::subsystems::log::LogFormat;
#[cfg(feature = "otlp")]
use crate::subsystems::trace::{SamplerChoice, SpanExport};

/// What the environment asked for, after validation.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `OTEL_SDK_DISABLED`: only traces have something to disable.
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) disabled: bool,
    pub(crate) resource: Vec<(String, String)>,
    #[cfg(feature = "otlp")]
    pub(crate) export: SpanExport,
    #[cfg(feature = "otlp")]
    pub(crate) sampler: SamplerChoice,
    pub(crate) format: LogFormat,
    pub(crate) filter: String,
    pub(crate) log_dir: Option<(PathBuf, usize)>,
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(
                std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                16,
            )
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
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
fn resource_settings(
    get: &dyn Fn(&str) -> Option<String>,
    env: Option<&str>,
    warnings: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut resource: Vec<(String, String)> = Vec::new();
    if let Some(attrs) = get("OTEL_RESOURCE_ATTRIBUTES") {
        for pair in attrs.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    resource.push((k.trim().to_owned(), percent_decode(v.trim())));
                }
                _ => warnings.push(format!(
                    "OTEL_RESOURCE_ATTRIBUTES entry {pair:?} is not key=value; it is left out"
                )),
            }
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

/// Reads the settings through `get` (the environment, or a test's map),
/// returning them and the warnings to log.
pub(crate) fn settings(
    get: &dyn Fn(&str) -> Option<String>,
    stderr_is_terminal: bool,
) -> (Settings, Vec<String>) {
    let mut warnings = Vec::new();
    let mut warn = |var: &str, value: &str, fallback: &str| {
        warnings.push(format!("{var}={value:?} is not valid; using {fallback}"));
    };

    let disabled = match get("OTEL_SDK_DISABLED").as_deref().map(str::trim) {
        None | Some("") => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            warn("OTEL_SDK_DISABLED", v, "false (telemetry enabled)");
            false
        }
    };

    let env = get("OBS_ENV");
    let format = match env.as_deref().map(str::trim) {
        None | Some("") => {
            if stderr_is_terminal {
                LogFormat::Pretty
            } else {
                LogFormat::Json
            }
        }
        Some(v) if v.eq_ignore_ascii_case("production") => LogFormat::Json,
        Some(v) if v.eq_ignore_ascii_case("development") => LogFormat::Pretty,
        Some(v) => {
            warn("OBS_ENV", v, "development (readable logs)");
            LogFormat::Pretty
        }
    };
    let resource = resource_settings(get, env.as_deref(), &mut warnings);

    #[cfg(feature = "otlp")]
    let (export, sampler) = span_settings(get, &mut warnings);

    let filter = match get("RUST_LOG") {
        None => "info".to_owned(),
        Some(f) if EnvFilter::try_new(&f).is_ok() => f,
        Some(f) => {
            warnings.push(format!("RUST_LOG={f:?} is not a valid filter; using info"));
            "info".to_owned()
        }
    };
    let log_dir = get("OBS_LOG_DIR")
        .filter(|d| !d.trim().is_empty())
        .map(|dir| {
            let keep = match get("OBS_LOG_RETENTION").map(|k| k.trim().parse::<usize>()) {
                None => 7,
                Some(Ok(n)) if n > 0 => n,
                Some(_) => {
                    warnings.push(
                        "OBS_LOG_RETENTION is not a positive whole number; keeping 7 files"
                            .to_owned(),
                    );
                    7
                }
            };
            (PathBuf::from(dir), keep)
        });
    let settings = Settings {
        disabled,
        resource,
        #[cfg(feature = "otlp")]
        export,
        #[cfg(feature = "otlp")]
        sampler,
        format,
        filter,
        log_dir,
    };
    (settings, warnings)
}

/// The `OTEL_EXPORTER_OTLP_*` and `OTEL_TRACES_*` part of [`settings`].
#[cfg(feature = "otlp")]
fn span_settings(
    get: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> (SpanExport, SamplerChoice) {
    let protocol = get("OTEL_EXPORTER_OTLP_PROTOCOL");
    let grpc = match protocol.as_deref().map(str::trim) {
        None | Some("" | "http/protobuf") => false,
        Some("grpc") => true,
        Some(v) => {
            warnings.push(format!(
                "OTEL_EXPORTER_OTLP_PROTOCOL={v:?} is not valid; using http/protobuf"
            ));
            false
        }
    };
    let endpoint = get("OTEL_EXPORTER_OTLP_ENDPOINT")
        .map(|e| e.trim().to_owned())
        .filter(|e| {
            let ok = e.starts_with("http://") || e.starts_with("https://");
            if !ok && !e.is_empty() {
                warnings.push(format!(
                    "OTEL_EXPORTER_OTLP_ENDPOINT={e:?} is not an http(s) URL; using the default endpoint"
                ));
            }
            ok
        })
        .unwrap_or_else(|| if grpc { "http://localhost:4317" } else { "http://localhost:4318" }.to_owned());
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
    let arg = get("OTEL_TRACES_SAMPLER_ARG");
    let mut ratio = || match arg.as_deref().map(str::trim) {
        None | Some("") => 1.0,
        Some(v) => match v.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => r,
            _ => {
                warn("OTEL_TRACES_SAMPLER_ARG", v, "1.0 (every trace)");
                1.0
            }
        },
    };
    let sampler = match get("OTEL_TRACES_SAMPLER").as_deref().map(str::trim) {
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
    (export, sampler)
}

/// Configures logs and traces; [`init`] is `Builder::from_env().init()`.
///
/// ```no_run
/// let _guard = obs_runtime::Builder::from_env()
///     .service_name("checkout")
///     .service_version(env!("CARGO_PKG_VERSION"))
///     .init();
/// ```
pub struct Builder {
    settings: Settings,
    warnings: Vec<String>,
    writer: Option<tracing_subscriber::fmt::writer::BoxMakeWriter>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Why [`Builder::try_init`] could not install the pipeline.
#[derive(Debug)]
pub enum InitError {
    /// Another global `tracing` subscriber is installed already.
    SubscriberExists(String),
    /// The span export thread could not be started.
    Thread(std::io::Error),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SubscriberExists(e) => {
                write!(f, "a global tracing subscriber is installed already: {e}")
            }
            Self::Thread(e) => write!(f, "the span export thread could not start: {e}"),
        }
    }
}

impl std::error::Error for InitError {}

impl Builder {
    /// Settings from the environment (see the module documentation).
    #[must_use]
    pub fn from_env() -> Self {
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let (settings, warnings) = settings(&|k| std::env::var(k).ok(), terminal);
        Self {
            settings,
            warnings,
            writer: None,
        }
    }

    fn set_resource(mut self, key: &str, value: impl Into<String>) -> Self {
        self.settings.resource.retain(|(k, _)| k != key);
        self.settings.resource.push((key.to_owned(), value.into()));
        self
    }

    /// `service.name`, unless `OTEL_SERVICE_NAME` says otherwise.
    #[must_use]
    pub fn service_name(self, name: impl Into<String>) -> Self {
        if std::env::var("OTEL_SERVICE_NAME").is_ok_and(|v| !v.trim().is_empty()) {
            return self;
        }
        self.set_resource("service.name", name)
    }

    /// `service.version`, typically `env!("CARGO_PKG_VERSION")`.
    #[must_use]
    pub fn service_version(self, version: impl Into<String>) -> Self {
        self.set_resource("service.version", version)
    }

    /// `service.namespace`.
    #[must_use]
    pub fn service_namespace(self, namespace: impl Into<String>) -> Self {
        self.set_resource("service.namespace", namespace)
    }

    /// The log format, whatever `OBS_ENV` says.
    #[must_use]
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.settings.format = format;
        self
    }

    /// Where log lines go (default: stderr).
    ///
    /// ```no_run
    /// let _guard = obs_runtime::Builder::from_env().log_writer(std::io::stdout).init();
    /// ```
    #[must_use]
    pub fn log_writer<W>(mut self, writer: W) -> Self
    where
        W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
    {
        self.writer = Some(tracing_subscriber::fmt::writer::BoxMakeWriter::new(writer));
        self
    }

    /// Also write JSON log lines to daily files `obs.<date>.log` in `dir`,
    /// keeping the newest `keep` files (what `OBS_LOG_DIR` and
    /// `OBS_LOG_RETENTION` set). Writing happens on a background thread.
    ///
    /// ```no_run
    /// let _guard = obs_runtime::Builder::from_env().log_dir("/var/log/checkout", 7).init();
    /// ```
    #[must_use]
    pub fn log_dir(mut self, dir: impl Into<PathBuf>, keep: usize) -> Self {
        self.settings.log_dir = Some((dir.into(), keep.max(1)));
        self
    }

    /// Where spans go, whatever `OTEL_TRACES_EXPORTER` says.
    #[cfg(feature = "otlp")]
    #[must_use]
    pub fn span_export(mut self, export: SpanExport) -> Self {
        self.settings.export = export;
        self
    }

    /// The sampler, whatever `OTEL_TRACES_SAMPLER` says.
    #[cfg(feature = "otlp")]
    #[must_use]
    pub fn sampler(mut self, sampler: SamplerChoice) -> Self {
        self.settings.sampler = sampler;
        self
    }

    /// Installs the pipeline, or says why it could not.
    ///
    /// # Errors
    /// When a global subscriber exists already, or the export thread can't
    /// start.
    pub fn try_init(self) -> Result<ObsGuard, InitError> {
        let Self {
            settings,
            mut warnings,
            writer,
        } = self;
        let resource = |key: &str| {
            settings
                .resource
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        crate::metric_core::process::set_build_info(
            resource("service.name").unwrap_or("unknown"),
            resource("service.version").unwrap_or("unknown"),
        );
        let writer = writer.unwrap_or_else(|| {
            tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr)
        });
        let filter =
            EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
        let (file_writer, file_guard) = match &settings.log_dir {
            Some((dir, keep)) => {
                match std::fs::create_dir_all(dir)
                    .map_err(|e| e.to_string())
                    .and_then(|()| {
                        tracing_appender::rolling::Builder::new()
                            .rotation(tracing_appender::rolling::Rotation::DAILY)
                            .filename_prefix("obs")
                            .filename_suffix("log")
                            .max_log_files(*keep)
                            .build(dir)
                            .map_err(|e| e.to_string())
                    }) {
                    Ok(appender) => {
                        let (writer, guard) = tracing_appender::non_blocking(appender);
                        (Some(writer), Some(guard))
                    }
                    Err(e) => {
                        // Logged once the subscriber is up, with the others.
                        warnings.push(format!(
                            "log files in {} unavailable ({e}); logging to the console only",
                            dir.display()
                        ));
                        (None, None)
                    }
                }
            }
            None => (None, None),
        };
        let file_layer = file_writer.map(|w| crate::subsystems::log::layer(LogFormat::Json, w));
        #[cfg(feature = "otlp")]
        let (otel_layer, provider) = if settings.disabled {
            (None, None)
        } else {
            use opentelemetry::trace::TracerProvider as _;
            let resource = crate::subsystems::trace::resource(&settings.resource);
            // The drop counter exists at zero from start-up, like every series.
            crate::subsystems::trace::dropped_spans();
            let provider = crate::subsystems::trace::provider(
                &settings.export,
                settings.sampler,
                resource,
                crate::subsystems::trace::BatchLimits::default(),
            )
            .map_err(InitError::Thread)?;
            let tracer = provider.tracer("obs");
            opentelemetry::global::set_text_map_propagator(
                opentelemetry_sdk::propagation::TraceContextPropagator::new(),
            );
            opentelemetry::global::set_tracer_provider(provider.clone());
            let layer = tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_error_records_to_exceptions(true);
            (Some(layer), Some(provider))
        };
        #[cfg(not(feature = "otlp"))]
        let otel_layer: Option<tracing_subscriber::layer::Identity> = None;
        let registry = tracing_subscriber::registry()
            .with(filter)
            .with(otel_layer)
            .with(crate::subsystems::log::layer(settings.format, writer))
            .with(file_layer);
        registry
            .try_init()
            .map_err(|e| InitError::SubscriberExists(e.to_string()))?;
        for w in &warnings {
            tracing::warn!(target: "obs::init", "{w}");
        }
        #[cfg(feature = "otlp")]
        if settings.disabled {
            tracing::info!(target: "obs::init", "OTEL_SDK_DISABLED=true: traces are not exported");
        }
        Ok(ObsGuard {
            #[cfg(feature = "otlp")]
            provider,
            _file: file_guard,
        })
    }

    /// Installs the pipeline. If it can't be installed (a subscriber exists
    /// already), says so through the existing subscriber and returns an
    /// inert guard: instrumentation never takes the program down.
    pub fn init(self) -> ObsGuard {
        self.try_init().unwrap_or_else(|e| {
            tracing::warn!(target: "obs::init", "obs_runtime::init: {e}");
            ObsGuard {
                #[cfg(feature = "otlp")]
                provider: None,
                _file: None,
            }
        })
    }
}

/// Flushes and shuts the pipelines down when dropped: keep it alive for the
/// life of `main`.
#[must_use = "dropping the guard shuts telemetry down; keep it alive in main"]
#[derive(Debug)]
pub struct ObsGuard {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
    _file: Option<tracing_appender::non_blocking::WorkerGuard>,
}

impl ObsGuard {
    /// Exports every finished span now (tests, and before a planned exit).
    ///
    /// ```no_run
    /// let guard = obs_runtime::init();
    /// guard.flush();
    /// ```
    pub fn flush(&self) {
        #[cfg(feature = "otlp")]
        if let Some(p) = &self.provider {
            let _ = p.force_flush();
        }
    }
}

impl Drop for ObsGuard {
    fn drop(&mut self) {
        #[cfg(feature = "otlp")]
        if let Some(p) = self.provider.take() {
            let _ = p.force_flush();
            let _ = p.shutdown_with_timeout(crate::subsystems::trace::SHUTDOWN_TIMEOUT);
        }
    }
}

/// Installs metrics, logs and traces from the environment and returns the
/// guard that flushes them on drop. See [`Builder`] for code configuration.
///
/// ```no_run
/// let _guard = obs_runtime::init();
/// tracing::info!("service started");
/// ```
pub fn init() -> ObsGuard {
    Builder::from_env().init()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> (Settings, Vec<String>) {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        settings(&|k| map.get(k).cloned(), false)
    }

    #[test]
    fn defaults_follow_the_specification() {
        let (s, warnings) = with(&[]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(!s.disabled);
        assert_eq!(
            s.format,
            LogFormat::Json,
            "not a terminal: production format"
        );
        assert_eq!(s.filter, "info");
        #[cfg(feature = "otlp")]
        {
            assert_eq!(
                s.export,
                SpanExport::OtlpHttp {
                    endpoint: "http://localhost:4318".into()
                }
            );
            assert_eq!(s.sampler, SamplerChoice::ParentBasedAlwaysOn);
        }
        assert!(
            s.resource
                .iter()
                .any(|(k, v)| k == "service.name" && v.starts_with("unknown_service:"))
        );
        assert!(s.resource.iter().any(|(k, _)| k == "process.pid"));
    }

    #[test]
    fn resource_attributes_and_service_name() {
        let (s, warnings) = with(&[
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.namespace=shop,deployment.environment.name=staging,team=a%20b,broken",
            ),
            ("OTEL_SERVICE_NAME", "checkout"),
        ]);
        let get = |key: &str| {
            s.resource
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("service.name"), Some("checkout"));
        assert_eq!(get("service.namespace"), Some("shop"));
        assert_eq!(get("deployment.environment.name"), Some("staging"));
        assert_eq!(get("team"), Some("a b"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("broken"));
    }

    #[test]
    #[cfg(feature = "otlp")]
    fn exporter_protocol_and_sampler() {
        let (s, w) = with(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
            ("OBS_ENV", "development"),
        ]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            s.export,
            SpanExport::OtlpGrpc {
                endpoint: "http://collector:4317".into()
            }
        );
        assert_eq!(s.sampler, SamplerChoice::ParentBasedTraceIdRatio(0.1));
        assert_eq!(s.format, LogFormat::Pretty);
    }

    #[test]
    #[cfg(feature = "otlp")]
    fn bad_values_warn_once_each_and_fall_back() {
        let (s, w) = with(&[
            ("OTEL_SDK_DISABLED", "maybe"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_TRACES_EXPORTER", "zipkin"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OBS_ENV", "prod"),
            ("RUST_LOG", "[[["),
        ]);
        assert_eq!(w.len(), 6, "{w:#?}");
        assert!(!s.disabled);
        assert!(matches!(s.export, SpanExport::OtlpHttp { .. }));
        assert_eq!(s.sampler, SamplerChoice::ParentBasedAlwaysOn);
        assert_eq!(s.format, LogFormat::Pretty);
        assert_eq!(s.filter, "info");
        let (_, w) = with(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ]);
        assert_eq!(w.len(), 1, "{w:?}");
    }
}
