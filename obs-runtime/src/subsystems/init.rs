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
//! | `OTEL_EXPORTER_OTLP_CERTIFICATE`, `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`, `OTEL_EXPORTER_OTLP_CLIENT_KEY` (and their `_TRACES_` variants) | PEM files: the CA to trust for an `https://` endpoint, a client certificate and key for mTLS (feature `otlp-tls`) | the system's store, no client certificate |
//! | `OTEL_TRACES_EXPORTER` | `otlp`, `console`, `none` | `otlp` |
//! | `OTEL_TRACES_SAMPLER` | `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio` | `parentbased_always_on` |
//! | `OTEL_TRACES_SAMPLER_ARG` | the ratio, 0 to 1 | `1` |
//! | `OBS_BSP_MAX_QUEUE_BYTES` | the estimated bytes of ended spans waiting for export, at most (past that a span is dropped and counted in `obs_telemetry_dropped_spans_total`); a number, or with a `KiB`/`MiB` suffix | `2MiB` |
//! | `OTEL_METRICS_EXPORTER`, `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_METRIC_EXPORT_TIMEOUT`, `OTEL_EXPORTER_OTLP_METRICS_*` | metrics pushed over OTLP (feature `otlp`; see [`otlp_metrics`](crate::otlp_metrics)) | `none`: scrape only |
//! | `OBS_METRICS_PREFIX`, `OBS_METRICS_CONSTANT_LABELS` | a name prefix and `name=value,name=value` labels for every exposed family ([`registry::configure`](crate::registry::configure)) | none |
//! | `OBS_ENV` | `production` (JSON logs), `development` (readable logs) | `development` when stderr is a terminal, else `production` |
//! | `RUST_LOG` | a `tracing` filter | `info` |
//! | `OBS_LOG_DIR` | also write JSON lines to `obs.log` in that folder ([`LogFiles`](crate::log::LogFiles)) | none |
//! | `OBS_LOG_ROTATION` | `daily` (UTC), or a size (`100MB`, `512KB`): a new file when the next line would pass it | `daily` |
//! | `OBS_LOG_RETENTION` | rotated files kept: a count (`7`), an age (`30d`, `12h`) or both (`30d,100`) | `7` |
//! | `OBS_LOG_COMPRESS` | `gzip` or `off`: rotated files gzipped (feature `log-gzip`) | `gzip` with `log-gzip`, else `off` |
//! | `OBS_LOG_ERROR_FILE` | also write the `ERROR` lines alone, same JSON, to this file (`/var/log/app/errors.log`) | none |
//! | `OBS_LOG_ERROR_ROTATION`, `OBS_LOG_ERROR_RETENTION` | as above, for the error file (compressed as `OBS_LOG_COMPRESS` says) | `daily`, `7` |
//! | `OBS_LOG_QUEUE` | lines waiting for the log writer thread at most (past that a line is dropped and counted in `obs_log_lines_dropped_total`), or `off` to write on the logging thread | `8192` |
//! | `OBS_LOG_RATE_LIMIT` | `<events>/<interval>` per call site (`100/10s`, `5/500ms`), or `off` ([`RateLimit`](crate::log::RateLimit)); the access line (`obs::access`) is never limited | `100/10s` |
//! | `SENTRY_DSN`, `SENTRY_ENVIRONMENT`, `SENTRY_RELEASE`, `SENTRY_SAMPLE_RATE`, `SENTRY_TRACES_SAMPLE_RATE`, `SENTRY_SEND_DEFAULT_PII` | error tracking (feature `sentry`, see `errors`) | off without a DSN |
//!
//! A bad value never stops the program: it gives one warning (logged once
//! the logger is up) naming the variable, the value and the fallback used.

use std::path::PathBuf;

use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, Registry};

use crate::subsystems::log::{LogFiles, LogFormat, RateLimit};
use crate::subsystems::otlp_metrics::{MetricPipeline, MetricsConfig};
use crate::subsystems::trace::{self, SpanPipeline, TraceConfig};

/// What the environment asked for, after validation.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The `OTEL_*` part: resource, and (feature `otlp`) exporter and sampler.
    pub(crate) trace: TraceConfig,
    /// `OTEL_METRICS_*`: whether and how metrics are pushed over OTLP.
    pub(crate) metrics: MetricsConfig,
    pub(crate) format: LogFormat,
    pub(crate) filter: String,
    /// `OBS_LOG_DIR` and its files.
    pub(crate) log_dir: Option<(PathBuf, LogFiles)>,
    /// `OBS_LOG_ERROR_FILE` and its files.
    pub(crate) error_file: Option<(PathBuf, LogFiles)>,
    /// `OBS_LOG_COMPRESS`.
    pub(crate) log_compress: bool,
    /// `None`: every event is written.
    pub(crate) rate_limit: Option<RateLimit>,
    /// Lines queued for the log writer thread at most; `None`: lines are
    /// written on the thread that logs.
    pub(crate) log_queue: Option<usize>,
    /// `SENTRY_*`; `None` without a DSN.
    #[cfg(feature = "sentry")]
    pub(crate) errors: Option<crate::subsystems::errors::Config>,
}

/// Reads the settings through `get` (the environment, or a test's map),
/// returning them and the warnings to log.
pub(crate) fn settings(
    get: &dyn Fn(&str) -> Option<String>,
    stderr_is_terminal: bool,
) -> (Settings, Vec<String>) {
    let env = get("OBS_ENV");
    let (trace, mut warnings) = TraceConfig::from_env(get, env.as_deref());
    let metrics = MetricsConfig::from_env(get, &mut warnings);

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
            warnings.push(format!(
                "OBS_ENV={v:?} is not valid; using development (readable logs)"
            ));
            LogFormat::Pretty
        }
    };
    let filter = match get("RUST_LOG") {
        None => "info".to_owned(),
        Some(f) if EnvFilter::try_new(&f).is_ok() => f,
        Some(f) => {
            warnings.push(format!("RUST_LOG={f:?} is not a valid filter; using info"));
            "info".to_owned()
        }
    };
    let (log_dir, error_file, compress) = log_file_settings(get, &mut warnings);
    let rate_limit = match get("OBS_LOG_RATE_LIMIT").as_deref().map(str::trim) {
        None | Some("") => Some(RateLimit::default()),
        Some(v) if v.eq_ignore_ascii_case("off") => None,
        Some(v) => match v.parse::<RateLimit>() {
            Ok(limit) => Some(limit),
            Err(e) => {
                warnings.push(format!("OBS_LOG_RATE_LIMIT: {e}; using 100/10s"));
                Some(RateLimit::default())
            }
        },
    };
    let default_queue = crate::subsystems::log::QUEUE_LINES;
    let log_queue = match get("OBS_LOG_QUEUE").as_deref().map(str::trim) {
        None | Some("") => Some(default_queue),
        Some(v) if v.eq_ignore_ascii_case("off") => None,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                warnings.push(format!(
                    "OBS_LOG_QUEUE={v:?} is not a positive number of lines or `off`; using {default_queue}"
                ));
                Some(default_queue)
            }
        },
    };
    #[cfg(feature = "sentry")]
    let errors = crate::subsystems::errors::config(get, env.as_deref(), &mut warnings);
    let settings = Settings {
        trace,
        metrics,
        format,
        filter,
        log_dir,
        error_file,
        log_compress: compress,
        rate_limit,
        log_queue,
        #[cfg(feature = "sentry")]
        errors,
    };
    (settings, warnings)
}

/// `OBS_LOG_DIR`, `OBS_LOG_ERROR_FILE` and their rotation, retention and
/// compression.
#[allow(clippy::type_complexity)]
fn log_file_settings(
    get: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> (
    Option<(PathBuf, LogFiles)>,
    Option<(PathBuf, LogFiles)>,
    bool,
) {
    let compress = match get("OBS_LOG_COMPRESS").as_deref().map(str::trim) {
        None | Some("") => cfg!(feature = "log-gzip"),
        Some(v) if v.eq_ignore_ascii_case("off") => false,
        Some(v) if v.eq_ignore_ascii_case("gzip") => {
            if !cfg!(feature = "log-gzip") {
                warnings.push(
                    "OBS_LOG_COMPRESS=gzip needs obs-runtime's feature `log-gzip`; rotated log files stay uncompressed"
                        .to_owned(),
                );
            }
            cfg!(feature = "log-gzip")
        }
        Some(v) => {
            warnings.push(format!(
                "OBS_LOG_COMPRESS={v:?} is not `gzip` or `off`; using {}",
                if cfg!(feature = "log-gzip") {
                    "gzip"
                } else {
                    "off"
                }
            ));
            cfg!(feature = "log-gzip")
        }
    };
    let files = |rotation: &str, retention: &str, warnings: &mut Vec<String>| {
        let mut policy = LogFiles::daily().compress(compress);
        if let Some(v) = get(rotation).filter(|v| !v.trim().is_empty()) {
            match policy.clone().parse_rotation(&v) {
                Ok(p) => policy = p,
                Err(e) => warnings.push(format!("{rotation}: {e}; rotating daily")),
            }
        }
        if let Some(v) = get(retention).filter(|v| !v.trim().is_empty()) {
            match policy.clone().parse_retention(&v) {
                Ok(p) => policy = p,
                Err(e) => warnings.push(format!("{retention}: {e}; keeping 7 files")),
            }
        }
        policy
    };
    let log_dir = get("OBS_LOG_DIR")
        .filter(|d| !d.trim().is_empty())
        .map(|dir| {
            let policy = files("OBS_LOG_ROTATION", "OBS_LOG_RETENTION", warnings);
            (PathBuf::from(dir), policy)
        });
    let error_file = get("OBS_LOG_ERROR_FILE")
        .filter(|f| !f.trim().is_empty())
        .map(|file| {
            let policy = files(
                "OBS_LOG_ERROR_ROTATION",
                "OBS_LOG_ERROR_RETENTION",
                warnings,
            );
            (PathBuf::from(file), policy)
        });
    (log_dir, error_file, compress)
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
    /// `log_queue` was called: the queue applies to a custom writer too.
    queue_set: bool,
    panic_hook: bool,
    #[cfg(feature = "sentry")]
    error_hook: Option<std::sync::Arc<crate::subsystems::errors::Hook>>,
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
    /// The error tracker's worker thread could not be started (feature
    /// `sentry`).
    ErrorsThread(std::io::Error),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SubscriberExists(e) => {
                write!(f, "a global tracing subscriber is installed already: {e}")
            }
            Self::Thread(e) => write!(f, "the span export thread could not start: {e}"),
            Self::ErrorsThread(e) => {
                write!(f, "the error tracker's worker thread could not start: {e}")
            }
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
            queue_set: false,
            panic_hook: true,
            #[cfg(feature = "sentry")]
            error_hook: None,
        }
    }

    fn set_resource(mut self, key: &str, value: impl Into<String>) -> Self {
        self.settings.trace.set_resource(key, value.into());
        self
    }

    /// `service.name`, unless `OTEL_SERVICE_NAME` says otherwise.
    #[must_use]
    pub fn service_name(self, name: impl Into<String>) -> Self {
        if trace::service_name_from_env() {
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

    /// Where log lines go (default: stderr). Lines are written on the
    /// thread that logs, unless [`log_queue`](Self::log_queue) is also
    /// set.
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

    /// Also write JSON log lines to `obs.log` in `dir`, a new file each UTC
    /// day, keeping the newest `keep` rotated files (what `OBS_LOG_DIR` and
    /// `OBS_LOG_RETENTION` set; compressed as `OBS_LOG_COMPRESS` says).
    /// Writing happens on a background thread.
    ///
    /// ```no_run
    /// let _guard = obs_runtime::Builder::from_env().log_dir("/var/log/checkout", 7).init();
    /// ```
    #[must_use]
    pub fn log_dir(self, dir: impl Into<PathBuf>, keep: usize) -> Self {
        let compress = self.settings.log_compress;
        self.log_dir_with(dir, LogFiles::daily().keep(keep).compress(compress))
    }

    /// [`log_dir`](Self::log_dir) with its rotation, retention and
    /// compression given in code, whatever the `OBS_LOG_*` variables say.
    ///
    /// ```no_run
    /// use obs_runtime::log::LogFiles;
    /// let month = std::time::Duration::from_secs(30 * 86_400);
    /// let _guard = obs_runtime::Builder::from_env()
    ///     .log_dir_with("/var/log/brain", LogFiles::daily().max_age(month).compress(true))
    ///     .init();
    /// ```
    #[must_use]
    pub fn log_dir_with(mut self, dir: impl Into<PathBuf>, files: LogFiles) -> Self {
        self.settings.log_dir = Some((dir.into(), files));
        self
    }

    /// Also write the `ERROR` lines alone (the same JSON) to `path`, with
    /// their own rotation and retention, whatever `OBS_LOG_ERROR_FILE` and
    /// its variables say.
    ///
    /// ```no_run
    /// use obs_runtime::log::LogFiles;
    /// let quarter = std::time::Duration::from_secs(90 * 86_400);
    /// let _guard = obs_runtime::Builder::from_env()
    ///     .error_log_file("/var/log/brain/errors.log", LogFiles::daily().max_age(quarter))
    ///     .init();
    /// ```
    #[must_use]
    pub fn error_log_file(mut self, path: impl Into<PathBuf>, files: LogFiles) -> Self {
        self.settings.error_file = Some((path.into(), files));
        self
    }

    /// Log I/O off the thread that logs, whatever `OBS_LOG_QUEUE` says: at
    /// most `lines` lines wait for the writer thread; past that a line is
    /// dropped and counted in `obs_log_lines_dropped_total`, so a stalled
    /// stderr never holds a request up. `None`: write on the thread that
    /// logs. The default writer (stderr) is queued, 8192 lines, unless
    /// `OBS_LOG_QUEUE=off`; a [`log_writer`](Self::log_writer) only when
    /// this is called. The guard waits up to 2 s for queued lines when
    /// dropped, and [`ObsGuard::flush`] too.
    ///
    /// ```no_run
    /// let _guard = obs_runtime::Builder::from_env()
    ///     .log_writer(std::io::stdout)
    ///     .log_queue(Some(1024))
    ///     .init();
    /// ```
    #[must_use]
    pub fn log_queue(mut self, lines: Option<usize>) -> Self {
        self.settings.log_queue = lines.map(|n| n.max(1));
        self.queue_set = true;
        self
    }

    /// The per-call-site log rate limit, whatever `OBS_LOG_RATE_LIMIT`
    /// says (`None`: write every event).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let _guard = obs_runtime::Builder::from_env()
    ///     .log_rate_limit(Some(obs_runtime::log::RateLimit::new(20, Duration::from_secs(1))))
    ///     .init();
    /// ```
    #[must_use]
    pub fn log_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.settings.rate_limit = limit;
        self
    }

    /// Whether to install the panic hook (default: yes): a panic becomes
    /// one redacted `error` event (target `obs::panic`, counted in
    /// `obs_panics_total`) instead of raw text on stderr; a hook installed
    /// before, other than the standard library's, still runs after it.
    ///
    /// ```no_run
    /// let _guard = obs_runtime::Builder::from_env().panic_hook(false).init();
    /// ```
    #[must_use]
    pub fn panic_hook(mut self, install: bool) -> Self {
        self.panic_hook = install;
        self
    }

    /// A hook every error event passes before it is sent (feature
    /// `sentry`): return `None` to drop it, or change it (tags, a
    /// fingerprint). What it returns is still scrubbed: every string
    /// redacted, sensitive headers and cookies dropped and, unless
    /// `SENTRY_SEND_DEFAULT_PII=true`, the user removed.
    ///
    /// ```no_run
    /// let _guard = obs_runtime::Builder::from_env()
    ///     .error_hook(|mut event| {
    ///         if event.message.as_deref() == Some("client went away") {
    ///             return None;
    ///         }
    ///         event.tags.insert("team".into(), "payments".into());
    ///         Some(event)
    ///     })
    ///     .init();
    /// ```
    #[cfg(feature = "sentry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sentry")))]
    #[must_use]
    pub fn error_hook<F>(mut self, hook: F) -> Self
    where
        F: Fn(
                crate::subsystems::errors::protocol::Event<'static>,
            ) -> Option<crate::subsystems::errors::protocol::Event<'static>>
            + Send
            + Sync
            + 'static,
    {
        self.error_hook = Some(std::sync::Arc::new(hook));
        self
    }

    /// Where spans go, whatever `OTEL_TRACES_EXPORTER` says.
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    #[must_use]
    pub fn span_export(mut self, export: trace::SpanExport) -> Self {
        self.settings.trace.export = export;
        self
    }

    /// Where metrics are pushed, whatever `OTEL_METRICS_EXPORTER` and the
    /// endpoint variables say (headers and certificates still come from
    /// the environment).
    ///
    /// ```no_run
    /// use obs_runtime::otlp_metrics::MetricExport;
    /// let _guard = obs_runtime::Builder::from_env()
    ///     .metric_export(MetricExport::OtlpGrpc { endpoint: "http://collector:4317".into() })
    ///     .init();
    /// ```
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    #[must_use]
    pub fn metric_export(mut self, export: crate::subsystems::otlp_metrics::MetricExport) -> Self {
        self.settings.metrics.export = export;
        self
    }

    /// How often metrics are pushed, whatever `OTEL_METRIC_EXPORT_INTERVAL`
    /// says (at least 1 ms).
    ///
    /// ```no_run
    /// let _guard = obs_runtime::Builder::from_env()
    ///     .metric_export_interval(std::time::Duration::from_secs(15))
    ///     .init();
    /// ```
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    #[must_use]
    pub fn metric_export_interval(mut self, interval: std::time::Duration) -> Self {
        self.settings.metrics.interval = interval.max(std::time::Duration::from_millis(1));
        self
    }

    /// The sampler, whatever `OTEL_TRACES_SAMPLER` says.
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    #[must_use]
    pub fn sampler(mut self, sampler: trace::SamplerChoice) -> Self {
        self.settings.trace.sampler = sampler;
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
            queue_set,
            panic_hook,
            #[cfg(feature = "sentry")]
            error_hook,
        } = self;
        crate::metric_core::process::set_build_info(
            settings
                .trace
                .resource_value("service.name")
                .unwrap_or("unknown"),
            settings
                .trace
                .resource_value("service.version")
                .unwrap_or("unknown"),
        );
        crate::metric_core::registry::configure_from_env(&mut warnings);
        let queue_lines = settings.log_queue.filter(|_| writer.is_none() || queue_set);
        let writer = writer.unwrap_or_else(|| {
            tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr)
        });
        let (writer, log_queue) = queued(writer, queue_lines, &mut warnings);
        let filter =
            EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
        let service = settings.trace.resource_value("service.name");
        let (file_layers, files) = log_file_layers(&settings, &mut warnings);
        let (otel_layer, spans) = trace::layer(&settings.trace).map_err(InitError::Thread)?;
        let metrics = MetricPipeline::start(
            &settings.metrics,
            &settings.trace.resource,
            settings.trace.disabled,
        )
        .map_err(InitError::Thread)?;
        #[cfg(feature = "sentry")]
        let errors = start_errors(&settings, error_hook)?;
        #[cfg(feature = "sentry")]
        let errors_layer = errors
            .as_ref()
            .map(|_| crate::subsystems::errors::ErrorsLayer);
        #[cfg(not(feature = "sentry"))]
        let errors_layer = tracing_subscriber::layer::Identity::new();
        // With error tracking on, `#[instrumented]` frames stay whatever
        // `RUST_LOG` says: an error is reported at the outermost one.
        #[cfg(feature = "sentry")]
        let filter: Box<dyn tracing_subscriber::Layer<Registry> + Send + Sync> = match errors {
            Some(_) => spanless_unless(
                &settings.filter,
                crate::subsystems::errors::KeepFrames(filter),
            ),
            None => spanless_unless(&settings.filter, filter),
        };
        #[cfg(not(feature = "sentry"))]
        let filter = spanless_unless(&settings.filter, filter);
        // Two subscriber levels, the filter's and one for the rest, not
        // one per part: each subscriber level looks for the registry and
        // opens a close guard on every span close, and passes every
        // callback on. The parts keep their order (the filter asked last
        // whether a span or event is enabled, and told first of each, as
        // in `registry().with(filter).with(otel)..`). Not all in one layer
        // over the registry: `tracing-subscriber` takes a `Layered` whose
        // subscriber type is `Registry` for the bottom level, and would
        // give the chain the outermost part's level hint alone.
        let base = tracing_subscriber::registry().with(filter);
        let stack = tracing_subscriber::Layer::and_then(otel_layer, errors_layer)
            .and_then(crate::subsystems::log::init_layer(
                settings.format,
                writer,
                &crate::subsystems::log::LayerOptions {
                    rate_limit: settings.rate_limit,
                    service,
                    second: false,
                    errors_only: false,
                },
            ))
            // `None`, not an empty `Vec`: an empty `Vec` layer is
            // interested in nothing, and would disable every event.
            .and_then((!file_layers.is_empty()).then_some(file_layers));
        let registry = base.with(stack);
        registry
            .try_init()
            .map_err(|e| InitError::SubscriberExists(e.to_string()))?;
        if let Some(queue) = &log_queue {
            queue.install();
        }
        if panic_hook {
            crate::subsystems::log::panic::install();
        }
        for w in &warnings {
            tracing::warn!(target: "obs::init", "{w}");
        }
        if cfg!(feature = "otlp") && settings.trace.disabled {
            tracing::info!(target: "obs::init", "OTEL_SDK_DISABLED=true: traces are not exported");
        }
        Ok(ObsGuard {
            spans,
            metrics,
            logs: log_queue,
            files,
            #[cfg(feature = "sentry")]
            errors,
        })
    }

    /// Installs the pipeline. If it can't be installed (a subscriber exists
    /// already), says so through the existing subscriber and returns an
    /// inert guard: instrumentation never takes the program down.
    pub fn init(self) -> ObsGuard {
        self.try_init().unwrap_or_else(|e| {
            tracing::warn!(target: "obs::init", "obs_runtime::init: {e}");
            ObsGuard {
                spans: SpanPipeline::default(),
                metrics: MetricPipeline::default(),
                logs: None,
                files: Vec::new(),
                #[cfg(feature = "sentry")]
                errors: None,
            }
        })
    }
}

/// `writer` behind the log writer thread's queue of `lines` lines, when
/// asked for and the thread starts.
fn queued(
    writer: tracing_subscriber::fmt::writer::BoxMakeWriter,
    lines: Option<usize>,
    warnings: &mut Vec<String>,
) -> (
    tracing_subscriber::fmt::writer::BoxMakeWriter,
    Option<crate::subsystems::log::LogQueue>,
) {
    let Some(lines) = lines else {
        return (writer, None);
    };
    match crate::subsystems::log::LogQueue::start(
        writer,
        lines,
        crate::subsystems::log::queue::Writes::Coalesced,
    ) {
        Ok(queue) => (
            tracing_subscriber::fmt::writer::BoxMakeWriter::new(queue.clone()),
            Some(queue),
        ),
        Err(e) => {
            warnings.push(format!(
                "the log writer thread could not start ({e}); writing to stderr on the logging thread"
            ));
            (
                tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr),
                None,
            )
        }
    }
}

/// `RUST_LOG`'s filter, boxed, without its per-span callbacks when
/// `directives` has no span or field directive (`target[span{field}]=level`,
/// the only ones that need them: the bookkeeping of the others is a
/// read-locked map lookup per span callback that finds nothing).
fn spanless_unless<L>(
    directives: &str,
    filter: L,
) -> Box<dyn tracing_subscriber::Layer<Registry> + Send + Sync>
where
    L: tracing_subscriber::Layer<Registry> + Send + Sync + 'static,
{
    if directives.contains('[') {
        filter.boxed()
    } else {
        SpanFree(filter).boxed()
    }
}

/// A filter layer seen only for what filters: which call sites, spans
/// and events are enabled, and the level hint. Its span callbacks
/// (`on_new_span`, `on_enter`, …) are not called.
struct SpanFree<L>(L);

impl<L> tracing_subscriber::Layer<Registry> for SpanFree<L>
where
    L: tracing_subscriber::Layer<Registry>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        self.0.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut Registry) {
        self.0.on_layer(subscriber);
    }

    fn register_callsite(
        &self,
        metadata: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        self.0.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &tracing::Metadata<'_>, ctx: Context<'_, Registry>) -> bool {
        self.0.enabled(metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        self.0.max_level_hint()
    }

    fn event_enabled(&self, event: &tracing::Event<'_>, ctx: Context<'_, Registry>) -> bool {
        self.0.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, Registry>) {
        self.0.on_event(event, ctx);
    }
}

/// Starts error tracking when `SENTRY_DSN` asked for it; the release
/// defaults to `<service.name>@<service.version>`.
#[cfg(feature = "sentry")]
fn start_errors(
    settings: &Settings,
    hook: Option<std::sync::Arc<crate::subsystems::errors::Hook>>,
) -> Result<Option<crate::subsystems::errors::ErrorsGuard>, InitError> {
    let Some(config) = settings.errors.clone() else {
        return Ok(None);
    };
    let resource = |key| settings.trace.resource_value(key).unwrap_or("unknown");
    let release = format!(
        "{}@{}",
        resource("service.name"),
        resource("service.version")
    );
    crate::subsystems::errors::install(config, release, hook)
        .map(Some)
        .map_err(InitError::ErrorsThread)
}

/// The layers of the `OBS_LOG_DIR` file and the error file, when asked
/// for, and their queues and compression threads for the guard.
#[allow(clippy::type_complexity)]
fn log_file_layers<S>(
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> (
    Vec<Box<dyn tracing_subscriber::Layer<S> + Send + Sync + 'static>>,
    Vec<(
        crate::subsystems::log::LogQueue,
        crate::subsystems::log::Tidier,
    )>,
)
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let lines = settings
        .log_queue
        .unwrap_or(crate::subsystems::log::QUEUE_LINES);
    let wanted = [
        settings
            .log_dir
            .as_ref()
            .map(|(dir, files)| (dir.join("obs.log"), files, false)),
        settings
            .error_file
            .as_ref()
            .map(|(path, files)| (path.clone(), files, true)),
    ];
    let mut layers = Vec::new();
    let mut files = Vec::new();
    for (path, policy, errors_only) in wanted.into_iter().flatten() {
        let Some((queue, tidier)) = log_file(path, policy, lines, warnings) else {
            continue;
        };
        layers.push(crate::subsystems::log::init_layer(
            LogFormat::Json,
            queue.clone(),
            &crate::subsystems::log::LayerOptions {
                rate_limit: settings.rate_limit,
                service: settings.trace.resource_value("service.name"),
                second: true,
                errors_only,
            },
        ));
        files.push((queue, tidier));
    }
    (layers, files)
}

/// The log file at `path` behind a writer thread's queue of `lines`
/// lines, and the handle to wait for its compression; a warning when it
/// can't be opened.
fn log_file(
    path: PathBuf,
    policy: &LogFiles,
    lines: usize,
    warnings: &mut Vec<String>,
) -> Option<(
    crate::subsystems::log::LogQueue,
    crate::subsystems::log::Tidier,
)> {
    let opened = crate::subsystems::log::RollingFile::open(&path, policy.clone()).and_then(
        |(file, tidier)| {
            crate::subsystems::log::LogQueue::start(
                file,
                lines,
                crate::subsystems::log::queue::Writes::PerLine,
            )
            .map(|queue| (queue, tidier))
        },
    );
    match opened {
        Ok(opened) => Some(opened),
        Err(e) => {
            // Logged once the subscriber is up, with the others.
            warnings.push(format!(
                "log file {} unavailable ({e}); not writing it",
                path.display()
            ));
            None
        }
    }
}

/// Flushes and shuts the pipelines down when dropped: keep it alive for the
/// life of `main`.
#[must_use = "dropping the guard shuts telemetry down; keep it alive in main"]
#[derive(Debug)]
pub struct ObsGuard {
    spans: SpanPipeline,
    /// The OTLP metrics push; pushes once more, within the deadline, on drop.
    metrics: MetricPipeline,
    /// The log writer thread's queue, flushed within its deadline.
    logs: Option<crate::subsystems::log::LogQueue>,
    /// The log files' queues, flushed within their deadline, and their
    /// compression, waited for within the same.
    files: Vec<(
        crate::subsystems::log::LogQueue,
        crate::subsystems::log::Tidier,
    )>,
    /// Error tracking; flushed and closed, within its deadline, on drop.
    #[cfg(feature = "sentry")]
    errors: Option<crate::subsystems::errors::ErrorsGuard>,
}

impl ObsGuard {
    /// Writes the queued log lines, exports every finished span and pushes
    /// the metrics when `OTEL_METRICS_EXPORTER=otlp` (tests, and before a
    /// planned exit): spans and metrics at once within one 5 s deadline, the
    /// log lines within theirs.
    ///
    /// ```no_run
    /// let guard = obs_runtime::init();
    /// guard.flush();
    /// ```
    pub fn flush(&self) {
        let deadline = std::time::Instant::now() + SHUTDOWN_DEADLINE;
        let metrics = self.metrics.start_flush();
        if let Some(logs) = &self.logs {
            logs.flush(crate::subsystems::log::FLUSH_DEADLINE);
        }
        self.flush_files();
        self.spans.flush();
        metrics.wait(deadline);
        #[cfg(feature = "sentry")]
        if let Some(errors) = &self.errors {
            errors.flush(crate::subsystems::errors::SHUTDOWN_DEADLINE);
        }
    }
}

impl Drop for ObsGuard {
    fn drop(&mut self) {
        // The last metrics push runs on its thread while the spans are
        // flushed: one deadline for both, not one after the other.
        let deadline = std::time::Instant::now() + SHUTDOWN_DEADLINE;
        let metrics = self.metrics.start_shutdown(deadline);
        self.spans.shutdown();
        let answered = metrics.wait(deadline);
        self.metrics.finish(answered);
        // After the spans: their export may log.
        if let Some(logs) = &self.logs {
            logs.flush(crate::subsystems::log::FLUSH_DEADLINE);
        }
        self.flush_files();
    }
}

impl ObsGuard {
    /// Writes the lines queued for the log files and waits for the
    /// rotated ones to be compressed and pruned, within one deadline.
    fn flush_files(&self) {
        let until = std::time::Instant::now() + crate::subsystems::log::FLUSH_DEADLINE;
        for (queue, tidier) in &self.files {
            queue.flush(until.saturating_duration_since(std::time::Instant::now()));
            tidier.wait(until.saturating_duration_since(std::time::Instant::now()));
        }
    }
}

/// How long flushing or dropping [`ObsGuard`] may take: the spans' 5 s,
/// which the last metrics push shares.
const SHUTDOWN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

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
    fn rust_log_filters_alike_with_and_without_the_span_bookkeeping() {
        // (directives, debug event inside span `job` kept, outside kept)
        let cases = [
            ("info", false, false),
            ("debug", true, true),
            ("warn,[job]=debug", true, false),
            ("warn,[job{tenant=acme}]=debug", true, false),
            ("warn,[job{tenant=other}]=debug", false, false),
        ];
        for (directives, inside, outside) in cases {
            let (layer, lines) = crate::subsystems::log::capture(LogFormat::Json);
            let filter = spanless_unless(directives, EnvFilter::new(directives));
            let subscriber = tracing_subscriber::registry().with(filter).with(layer);
            tracing::subscriber::with_default(subscriber, || {
                tracing::warn_span!("job", tenant = "acme").in_scope(|| tracing::debug!("inside"));
                tracing::debug!("outside");
            });
            let got = lines.lines();
            let has = |m: &str| {
                got.iter()
                    .any(|l| l.contains(&format!(r#""message":"{m}""#)))
            };
            assert_eq!(has("inside"), inside, "{directives}: {got:?}");
            assert_eq!(has("outside"), outside, "{directives}: {got:?}");
        }
    }

    #[test]
    fn defaults_follow_the_specification() {
        let (s, warnings) = with(&[]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(!s.trace.disabled);
        assert_eq!(
            s.format,
            LogFormat::Json,
            "not a terminal: production format"
        );
        assert_eq!(s.filter, "info");
        assert!(s.log_dir.is_none());
        #[cfg(feature = "otlp")]
        {
            assert_eq!(
                s.trace.export,
                trace::SpanExport::OtlpHttp {
                    endpoint: "http://localhost:4318".into()
                }
            );
            assert_eq!(s.trace.sampler, trace::SamplerChoice::ParentBasedAlwaysOn);
        }
        assert!(
            s.trace
                .resource_value("service.name")
                .is_some_and(|v| v.starts_with("unknown_service:"))
        );
        assert!(s.trace.resource_value("process.pid").is_some());
    }

    #[test]
    fn obs_env_picks_the_log_format_and_names_the_deployment() {
        let (s, w) = with(&[("OBS_ENV", "development")]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(s.format, LogFormat::Pretty);
        assert_eq!(
            s.trace.resource_value("deployment.environment.name"),
            Some("development")
        );
        let (s, _) = with(&[("OBS_ENV", "Production")]);
        assert_eq!(s.format, LogFormat::Json);
    }

    #[test]
    fn log_queue_defaults_on_and_reads_the_variable() {
        let (s, w) = with(&[]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(s.log_queue, Some(8192));
        let (s, _) = with(&[("OBS_LOG_QUEUE", "100")]);
        assert_eq!(s.log_queue, Some(100));
        let (s, _) = with(&[("OBS_LOG_QUEUE", "OFF")]);
        assert_eq!(s.log_queue, None);
        for bad in ["0", "-3", "lots"] {
            let (s, w) = with(&[("OBS_LOG_QUEUE", bad)]);
            assert_eq!(s.log_queue, Some(8192));
            assert!(w.iter().any(|w| w.contains("OBS_LOG_QUEUE")), "{w:?}");
        }
    }

    #[test]
    fn log_rate_limit_defaults_on_and_reads_the_variable() {
        use std::time::Duration;
        let (s, w) = with(&[]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(s.rate_limit, Some(RateLimit::default()));
        let (s, _) = with(&[("OBS_LOG_RATE_LIMIT", "5/500ms")]);
        assert_eq!(
            s.rate_limit,
            Some(RateLimit::new(5, Duration::from_millis(500)))
        );
        let (s, _) = with(&[("OBS_LOG_RATE_LIMIT", "off")]);
        assert_eq!(s.rate_limit, None);
        let (s, w) = with(&[("OBS_LOG_RATE_LIMIT", "lots")]);
        assert_eq!(s.rate_limit, Some(RateLimit::default()));
        assert!(w.iter().any(|w| w.contains("OBS_LOG_RATE_LIMIT")), "{w:?}");
    }

    #[test]
    fn log_dir_and_retention() {
        let (s, w) = with(&[("OBS_LOG_DIR", "/tmp/logs")]);
        assert!(w.is_empty(), "{w:?}");
        let daily = LogFiles::daily();
        assert_eq!(s.log_dir, Some((PathBuf::from("/tmp/logs"), daily.clone())));
        let (s, w) = with(&[("OBS_LOG_DIR", "/tmp/logs"), ("OBS_LOG_RETENTION", "0")]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(s.log_dir, Some((PathBuf::from("/tmp/logs"), daily.clone())));
        let (s, w) = with(&[
            ("OBS_LOG_ERROR_FILE", "/tmp/logs/errors.log"),
            ("OBS_LOG_ERROR_RETENTION", "90d"),
            ("OBS_LOG_ERROR_ROTATION", "10MB"),
            ("OBS_LOG_ROTATION", "weekly"),
        ]);
        assert!(
            w.is_empty(),
            "only the error file's variables are read: {w:?}"
        );
        assert!(s.log_dir.is_none());
        // `Duration::from_hours` is newer than the crate's minimum Rust (1.88).
        #[allow(clippy::duration_suboptimal_units)]
        let quarter = std::time::Duration::from_secs(90 * 86_400);
        let expected = LogFiles::size(10 << 20).max_age(quarter);
        assert_eq!(
            s.error_file,
            Some((PathBuf::from("/tmp/logs/errors.log"), expected))
        );
        let (_, w) = with(&[("OBS_LOG_DIR", "/tmp/logs"), ("OBS_LOG_COMPRESS", "zip")]);
        assert!(w.iter().any(|w| w.contains("OBS_LOG_COMPRESS")), "{w:?}");
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
        assert!(!s.trace.disabled);
        assert!(matches!(s.trace.export, trace::SpanExport::OtlpHttp { .. }));
        assert_eq!(s.trace.sampler, trace::SamplerChoice::ParentBasedAlwaysOn);
        assert_eq!(s.format, LogFormat::Pretty);
        assert_eq!(s.filter, "info");
        let (_, w) = with(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ]);
        assert_eq!(w.len(), 1, "{w:?}");
    }
}
