//! Process and build metrics, read from `/proc` at scrape time, with the
//! names every Prometheus client library uses, so the standard dashboards
//! and alerts work on an obs service unchanged:
//!
//! | metric | type | source |
//! |---|---|---|
//! | `process_cpu_seconds_total` | counter | user + system time, `/proc/self/stat` |
//! | `process_resident_memory_bytes` | gauge | `/proc/self/statm` |
//! | `process_virtual_memory_bytes` | gauge | `/proc/self/statm` |
//! | `process_open_fds` | gauge | entries of `/proc/self/fd` |
//! | `process_max_fds` | gauge | `Max open files` of `/proc/self/limits` |
//! | `process_start_time_seconds` | gauge | boot time + start ticks |
//! | `process_uptime_seconds` | gauge | now − start time |
//! | `obs_build_info{service,version,obs_version}` | gauge, always 1 | [`set_build_info`], or `init()` from the resource |
//!
//! On a system without `/proc` only `obs_build_info` is written. The
//! kernel's clock tick and page size come from the auxiliary vector
//! (`/proc/self/auxv`), so no C library call is needed.
//!
//! ```
//! let text = obs_runtime::encode_text();
//! assert!(text.contains("# TYPE obs_build_info gauge"));
//! # #[cfg(target_os = "linux")]
//! assert!(text.contains("# TYPE process_resident_memory_bytes gauge"));
//! ```

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::metric_core::encode::{Kind, Sink};

/// The families this module writes; no user metric may take these names.
pub(crate) const NAMES: &[&str] = &[
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
    "process_uptime_seconds",
    "obs_build_info",
];

static BUILD_INFO: OnceLock<(String, String)> = OnceLock::new();

/// Sets the `service` and `version` labels of `obs_build_info`; the first
/// call wins. `init()` calls it with `service.name` and `service.version`.
///
/// ```
/// obs_runtime::process::set_build_info("checkout", "1.4.2");
/// let text = obs_runtime::encode_text();
/// assert!(text.contains(r#"obs_build_info{service="checkout",version="1.4.2",obs_version="#));
/// ```
pub fn set_build_info(service: &str, version: &str) {
    let _ = BUILD_INFO.set((service.to_owned(), version.to_owned()));
}

/// The service version given to [`set_build_info`], if any: health
/// reports show it as `version`.
pub(crate) fn service_version() -> Option<String> {
    BUILD_INFO
        .get()
        .map(|(_, v)| v.clone())
        .filter(|v| v != "unknown")
}

/// What the kernel says of this process, in the units Prometheus wants.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Sample {
    cpu_seconds: f64,
    resident_bytes: f64,
    virtual_bytes: f64,
    start_time_seconds: f64,
}

/// Clock ticks per second and page size, from the auxiliary vector (entries
/// of two native words: `AT_PAGESZ` = 6, `AT_CLKTCK` = 17); the usual
/// Linux values when it can't be read.
fn ticks_and_page_size() -> (f64, f64) {
    static CACHED: OnceLock<(f64, f64)> = OnceLock::new();
    *CACHED.get_or_init(|| {
        let (mut ticks, mut page) = (100.0, 4096.0);
        if let Ok(auxv) = std::fs::read("/proc/self/auxv") {
            const WORD: usize = size_of::<usize>();
            let (words, _) = auxv.as_chunks::<WORD>();
            let (entries, _) = words.as_chunks::<2>();
            for [key, value] in entries {
                let (key, value) = (usize::from_ne_bytes(*key), usize::from_ne_bytes(*value));
                #[allow(clippy::cast_precision_loss)]
                match key {
                    6 if value > 0 => page = value as f64,
                    17 if value > 0 => ticks = value as f64,
                    _ => {}
                }
            }
        }
        (ticks, page)
    })
}

/// The kernel's clock ticks per second (`USER_HZ`), which `/proc/stat`
/// counts CPU time in.
pub(crate) fn clock_ticks() -> f64 {
    ticks_and_page_size().0
}

/// Seconds since the epoch at which the machine booted (`btime`).
fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse::<f64>().ok())
}

/// Parses `/proc/self/stat` and `/proc/self/statm`.
fn parse(stat: &str, statm: &str, ticks: f64, page: f64, boot: f64) -> Option<Sample> {
    // The command name may hold spaces and parentheses: fields start after
    // the last `)`. There, field 3 (state) is index 0, so utime (14) is 11,
    // stime (15) is 12 and starttime (22) is 19.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    let cpu_seconds = (num(11)? + num(12)?) / ticks;
    let start_time_seconds = boot + num(19)? / ticks;
    let mut pages = statm.split_whitespace().map(|v| v.parse::<f64>().ok());
    let virtual_bytes = pages.next()?? * page;
    let resident_bytes = pages.next()?? * page;
    Some(Sample {
        cpu_seconds,
        resident_bytes,
        virtual_bytes,
        start_time_seconds,
    })
}

fn read() -> Option<Sample> {
    let (ticks, page) = ticks_and_page_size();
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    parse(&stat, &statm, ticks, page, boot_time()?)
}

/// When the process started, in seconds since the Unix epoch (as
/// `process_start_time_seconds`); `None` where `/proc` can't tell. The
/// start time of cumulative series pushed over OTLP.
#[cfg(feature = "otlp")]
pub(crate) fn start_time_seconds() -> Option<f64> {
    read().map(|s| s.start_time_seconds)
}

fn max_fds() -> Option<f64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    // "Max open files  <soft>  <hard>  files": the soft limit applies.
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn open_fds() -> Option<f64> {
    let count = std::fs::read_dir("/proc/self/fd").ok()?.count();
    // The directory handle read_dir holds is one of the entries.
    #[allow(clippy::cast_precision_loss)]
    Some(count.saturating_sub(1) as f64)
}

fn gauge(sink: &mut dyn Sink, name: &str, help: &str, value: Option<f64>) {
    if let Some(v) = value {
        sink.family(name, help, Kind::Gauge);
        sink.sample(name, &[], v);
    }
}

/// Writes the process and build families; called by the registry on every
/// scrape.
pub(crate) fn collect(sink: &mut dyn Sink) {
    if let Some(s) = read() {
        sink.family(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            Kind::Counter,
        );
        sink.sample("process_cpu_seconds_total", &[], s.cpu_seconds);
        gauge(
            sink,
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            Some(s.resident_bytes),
        );
        gauge(
            sink,
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            Some(s.virtual_bytes),
        );
        gauge(
            sink,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            Some(s.start_time_seconds),
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        gauge(
            sink,
            "process_uptime_seconds",
            "Seconds since the process started.",
            Some((now - s.start_time_seconds).max(0.0)),
        );
    }
    gauge(
        sink,
        "process_open_fds",
        "Number of open file descriptors.",
        open_fds(),
    );
    gauge(
        sink,
        "process_max_fds",
        "Maximum number of open file descriptors.",
        max_fds(),
    );
    let (service, version) = BUILD_INFO
        .get()
        .map_or(("unknown", "unknown"), |(s, v)| (s.as_str(), v.as_str()));
    sink.family(
        "obs_build_info",
        "Always 1; the labels name the service, its version and the obs runtime's version.",
        Kind::Gauge,
    );
    sink.sample(
        "obs_build_info",
        &[
            ("service", service),
            ("version", version),
            ("obs_version", env!("CARGO_PKG_VERSION")),
        ],
        1.0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_a_hostile_command_name() {
        // comm "a) b (c" holds spaces and parentheses; utime 250, stime 50,
        // starttime 1000 ticks.
        let stat =
            "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 1000 12345 678";
        let s = parse(
            stat,
            "2560 1024 300 1 0 500 0",
            100.0,
            4096.0,
            1_700_000_000.0,
        )
        .unwrap();
        assert!((s.cpu_seconds - 3.0).abs() < 1e-9);
        assert!((s.start_time_seconds - 1_700_000_010.0).abs() < 1e-9);
        assert!((s.virtual_bytes - 2560.0 * 4096.0).abs() < 1e-9);
        assert!((s.resident_bytes - 1024.0 * 4096.0).abs() < 1e-9);
        assert_eq!(parse("garbage", "", 100.0, 4096.0, 0.0), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_reads_plausibly() {
        let s = read().expect("/proc is there on Linux");
        assert!(s.resident_bytes > 1e5, "{s:?}");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(
            s.start_time_seconds <= now + 1.0 && s.start_time_seconds > now - 86_400.0,
            "{s:?}"
        );
        assert!(open_fds().unwrap() >= 3.0);
        assert!(max_fds().unwrap() >= open_fds().unwrap());
    }
}
