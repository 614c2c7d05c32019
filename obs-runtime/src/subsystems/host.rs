//! Host metrics beside the process metrics, opt-in, under the names
//! `node_exporter` gives them, so the node dashboards and alerts a team
//! already has answer for an obs service that runs without a
//! `node_exporter` beside it. Read at scrape time (no background task):
//!
//! | metric | type | labels | source |
//! |---|---|---|---|
//! | `node_cpu_seconds_total` | counter | `cpu`, `mode` | `/proc/stat`, per CPU: `user`, `nice`, `system`, `idle`, `iowait`, `irq`, `softirq`, `steal` |
//! | `node_memory_MemTotal_bytes` | gauge | — | `/proc/meminfo` |
//! | `node_memory_MemAvailable_bytes` | gauge | — | `/proc/meminfo` |
//! | `node_filesystem_size_bytes` | gauge | `device`, `fstype`, `mountpoint` | `statvfs` of each path given |
//! | `node_filesystem_free_bytes` | gauge | `device`, `fstype`, `mountpoint` | the same, root's reserve included |
//! | `node_filesystem_avail_bytes` | gauge | `device`, `fstype`, `mountpoint` | the same, free to unprivileged users |
//!
//! `mountpoint` is the path as given to [`register`]; `device` and
//! `fstype` are those of the mount that holds it (`/proc/self/mounts`).
//! In a container these are the container's view: its CPUs' times are the
//! host's, its memory total the host's (not the cgroup limit), its file
//! systems its own mounts. The names keep `node_exporter`'s capitals
//! (`MemTotal`): they are what the dashboards query, so obs's `snake_case`
//! rule for user metrics does not apply to them, and a registry prefix
//! leaves them alone.
//!
//! ```
//! obs_runtime::host::register(&["/"]).unwrap();
//! let text = obs_runtime::encode_text();
//! # #[cfg(target_os = "linux")]
//! assert!(text.contains("# TYPE node_memory_MemAvailable_bytes gauge"));
//! # #[cfg(target_os = "linux")]
//! assert!(text.contains(r#"mountpoint="/"}"#));
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use crate::leaves::schema::SourceLocation;
use crate::metric_core::encode::{Collect, Description, Kind, Sink};
use crate::metric_core::process::clock_ticks;
use crate::metric_core::registry::{RegistryError, global};
use crate::subsystems::health::fs_stat;

const CPU: &str = "node_cpu_seconds_total";
const MEM_TOTAL: &str = "node_memory_MemTotal_bytes";
const MEM_AVAILABLE: &str = "node_memory_MemAvailable_bytes";
const FS_SIZE: &str = "node_filesystem_size_bytes";
const FS_FREE: &str = "node_filesystem_free_bytes";
const FS_AVAIL: &str = "node_filesystem_avail_bytes";

/// The CPU modes of `/proc/stat`'s `cpuN` lines, in their order (guest time
/// is already in `user` and `nice`, and `node_exporter` leaves it out here).
const MODES: [&str; 8] = [
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
];

const FS_LABELS: [&str; 3] = ["device", "fstype", "mountpoint"];

/// Why [`register`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostError {
    /// A path whose file system can't be measured.
    Path {
        /// The path given.
        path: PathBuf,
        /// What `statvfs` said.
        reason: String,
    },
    /// The same path is given twice.
    DuplicatePath(PathBuf),
    /// The host families are registered already, or their names taken.
    Registry(RegistryError),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path { path, reason } => write!(
                f,
                "host metrics: the file system of {} can't be measured: {reason}",
                path.display()
            ),
            Self::DuplicatePath(path) => {
                write!(f, "host metrics: {} is given twice", path.display())
            }
            Self::Registry(e) => write!(f, "host metrics: {e}"),
        }
    }
}

impl std::error::Error for HostError {}

/// A file system to report: the path as given, and its mount's device and
/// type, found once.
#[derive(Debug)]
struct Watched {
    mountpoint: String,
    path: PathBuf,
    device: String,
    fstype: String,
}

/// The host families, as one member of the registry.
#[derive(Debug)]
struct HostMetrics {
    paths: Vec<Watched>,
}

/// Adds the host families to the scrape, with the disk usage of `paths`
/// (mount points or any path on the file system to measure; none for CPU
/// and memory only). Once per program.
///
/// ```
/// # fn main() -> Result<(), obs_runtime::host::HostError> {
/// obs_runtime::host::register(&["/", "/tmp"])?;
/// assert!(obs_runtime::host::register(&["/"]).is_err(), "once per program");
/// # Ok(()) }
/// ```
///
/// # Errors
/// A path whose file system can't be measured (missing, no permission), a
/// path given twice, or the families registered already.
#[track_caller]
pub fn register<P: AsRef<Path>>(paths: &[P]) -> Result<(), HostError> {
    let at = SourceLocation::caller();
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let mut watched: Vec<Watched> = Vec::new();
    for path in paths {
        let path = path.as_ref();
        if let Err(e) = fs_stat(path) {
            return Err(HostError::Path {
                path: path.to_owned(),
                reason: e.to_string(),
            });
        }
        if watched.iter().any(|w| w.path == path) {
            return Err(HostError::DuplicatePath(path.to_owned()));
        }
        let (device, fstype) = mount_of(&mounts, path);
        watched.push(Watched {
            mountpoint: path.to_string_lossy().into_owned(),
            path: path.to_owned(),
            device,
            fstype,
        });
    }
    global()
        .register_owned(HostMetrics { paths: watched }, Some(at))
        .map(|_| ())
        .map_err(HostError::Registry)
}

/// The device and type of the mount holding `path`: the longest mount
/// point it lies under (`/proc/self/mounts`, whose spaces are `\040`).
fn mount_of(mounts: &str, path: &Path) -> (String, String) {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let mut best: Option<(usize, &str, &str)> = None;
    for line in mounts.lines() {
        let mut fields = line.split(' ');
        let (Some(device), Some(point), Some(fstype)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let point = point.replace("\\040", " ");
        // The last mount on a point hides earlier ones: `>=` keeps it.
        if path.starts_with(&point) && best.is_none_or(|(len, _, _)| point.len() >= len) {
            best = Some((point.len(), device, fstype));
        }
    }
    best.map_or_else(
        || ("unknown".to_owned(), "unknown".to_owned()),
        |(_, d, t)| (d.to_owned(), t.to_owned()),
    )
}

/// `(cpu, [seconds per mode])` of each `cpuN` line of `/proc/stat`.
fn cpu_times(stat: &str, ticks: f64) -> Vec<(&str, [f64; 8])> {
    stat.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let cpu = fields.next()?.strip_prefix("cpu")?;
            // `cpu` alone is the sum of all.
            if cpu.is_empty() || !cpu.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let mut seconds = [0.0; 8];
            for slot in &mut seconds {
                // Older kernels have fewer columns: those modes stay 0.
                *slot = fields
                    .next()
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
                    / ticks;
            }
            Some((cpu, seconds))
        })
        .collect()
}

/// A `/proc/meminfo` value (`MemTotal:  16314524 kB`) in bytes.
fn meminfo(text: &str, key: &str) -> Option<f64> {
    let rest = text
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))?;
    let mut parts = rest.split_whitespace();
    let value: f64 = parts.next()?.parse().ok()?;
    Some(match parts.next() {
        Some("kB") => value * 1024.0,
        _ => value,
    })
}

impl Collect for HostMetrics {
    fn names(&self) -> Vec<String> {
        [CPU, MEM_TOTAL, MEM_AVAILABLE, FS_SIZE, FS_FREE, FS_AVAIL]
            .map(str::to_owned)
            .to_vec()
    }

    fn collect(&self, sink: &mut dyn Sink) {
        if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
            let cpus = cpu_times(&stat, clock_ticks());
            if !cpus.is_empty() {
                sink.family(CPU, "Seconds the CPUs spent in each mode.", Kind::Counter);
                for (cpu, seconds) in &cpus {
                    for (mode, value) in MODES.iter().zip(seconds) {
                        sink.sample(CPU, &[("cpu", cpu), ("mode", mode)], *value);
                    }
                }
            }
        }
        if let Ok(text) = std::fs::read_to_string("/proc/meminfo") {
            for (name, key, help) in [
                (
                    MEM_TOTAL,
                    "MemTotal",
                    "Memory information field MemTotal_bytes.",
                ),
                (
                    MEM_AVAILABLE,
                    "MemAvailable",
                    "Memory information field MemAvailable_bytes.",
                ),
            ] {
                if let Some(v) = meminfo(&text, key) {
                    sink.family(name, help, Kind::Gauge);
                    sink.gauge(name, &[], v);
                }
            }
        }
        let stats: Vec<_> = self
            .paths
            .iter()
            .filter_map(|w| Some((w, fs_stat(&w.path).ok()?)))
            .collect();
        if stats.is_empty() {
            return;
        }
        for (name, help, pick) in [
            (
                FS_SIZE,
                "Filesystem size in bytes.",
                (|s| s.size) as fn(&crate::subsystems::health::FsStat) -> u64,
            ),
            (FS_FREE, "Filesystem free space in bytes.", |s| s.free),
            (
                FS_AVAIL,
                "Filesystem space available to non-root users in bytes.",
                |s| s.avail,
            ),
        ] {
            sink.family(name, help, Kind::Gauge);
            for (w, stat) in &stats {
                let labels = [
                    ("device", w.device.as_str()),
                    ("fstype", w.fstype.as_str()),
                    ("mountpoint", w.mountpoint.as_str()),
                ];
                #[allow(clippy::cast_precision_loss)]
                sink.gauge(name, &labels, pick(stat) as f64);
            }
        }
    }

    fn describe(&self) -> Vec<Description> {
        let family = |name: &str, kind, help: &str, labels: &[&str]| Description {
            name: name.to_owned(),
            kind,
            help: help.to_owned(),
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            values: None,
            buckets: Vec::new(),
        };
        let mut out = vec![
            family(
                CPU,
                Kind::Counter,
                "Seconds the CPUs spent in each mode.",
                &["cpu", "mode"],
            ),
            family(
                MEM_TOTAL,
                Kind::Gauge,
                "Memory information field MemTotal_bytes.",
                &[],
            ),
            family(
                MEM_AVAILABLE,
                Kind::Gauge,
                "Memory information field MemAvailable_bytes.",
                &[],
            ),
        ];
        if !self.paths.is_empty() {
            out.push(family(
                FS_SIZE,
                Kind::Gauge,
                "Filesystem size in bytes.",
                &FS_LABELS,
            ));
            out.push(family(
                FS_FREE,
                Kind::Gauge,
                "Filesystem free space in bytes.",
                &FS_LABELS,
            ));
            out.push(family(
                FS_AVAIL,
                Kind::Gauge,
                "Filesystem space available to non-root users in bytes.",
                &FS_LABELS,
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lines_are_read_per_cpu_in_seconds() {
        let stat = "cpu  10 20 30 40 50 60 70 80 90 100\n\
                    cpu0 100 0 50 1000 5 1 2 3 4 5\n\
                    cpu1 200 0 100 2000 0 0 0\n\
                    intr 12345\n";
        let cpus = cpu_times(stat, 100.0);
        assert_eq!(cpus.len(), 2);
        assert_eq!(
            cpus[0],
            ("0", [1.0, 0.0, 0.5, 10.0, 0.05, 0.01, 0.02, 0.03])
        );
        assert!(cpus[1].1[7].abs() < f64::EPSILON, "missing columns stay 0");
    }

    #[test]
    fn meminfo_is_read_in_bytes() {
        let text = "MemTotal:       16314524 kB\nMemFree:  1 kB\nMemAvailable:   8000000 kB\n";
        assert_eq!(meminfo(text, "MemTotal"), Some(16_314_524.0 * 1024.0));
        assert_eq!(meminfo(text, "MemAvailable"), Some(8_000_000.0 * 1024.0));
        assert_eq!(meminfo(text, "Mem"), None);
    }

    #[test]
    fn a_path_belongs_to_the_longest_mount_above_it() {
        let mounts = "/dev/sda1 / ext4 rw 0 0\n\
                      tmpfs /tmp tmpfs rw 0 0\n\
                      /dev/sdb1 /data\\040disk xfs rw 0 0\n";
        assert_eq!(
            mount_of(mounts, Path::new("/nonexistent-obs/x")),
            ("/dev/sda1".to_owned(), "ext4".to_owned())
        );
        assert_eq!(
            mount_of(mounts, Path::new("/data disk")).1,
            "xfs",
            "escaped spaces"
        );
        assert_eq!(mount_of("", Path::new("/")).0, "unknown");
    }
}
