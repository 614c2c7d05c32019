//! Log files under `init()`, configured by the environment: `OBS_LOG_DIR`
//! rotated by size into gzip files that hold every line exactly once, in
//! order; `OBS_LOG_ERROR_FILE` with only the `ERROR` lines and its own
//! rotation and retention; retention by age and by count pruning files an
//! earlier run left. Each scenario runs in a child process of its own.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SCENARIO: &str = "OBS_LOG_FILES_SCENARIO";

/// Lines the child writes: numbered info lines, every tenth an error.
const LINES: u64 = 600;

fn parse(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("obs-log-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The child: logs numbered lines, a long padding field so that files
/// rotate often.
fn write_lines() {
    let guard = obs_runtime::init();
    let padding = "x".repeat(200);
    tracing::info_span!("batch", batch = "b-1").in_scope(|| {
        for n in 0..LINES {
            if n % 10 == 0 {
                tracing::error!(n, padding = %padding, "line failed");
            } else {
                tracing::info!(n, padding = %padding, "line written");
            }
        }
    });
    drop(guard);
}

/// Files of a folder: name to text (gzip files decompressed).
fn read_all(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).expect("read");
            let text = if name.ends_with(".gz") {
                let mut text = String::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_string(&mut text)
                    .unwrap_or_else(|e| panic!("{name} is not gzip: {e}"));
                text
            } else {
                String::from_utf8(bytes).expect("utf-8")
            };
            (name, text)
        })
        .collect()
}

/// The numbers of the lines of `files`, in file order (rotated files by
/// name, which is by rotation time, then the active one).
fn numbers(files: &BTreeMap<String, String>, active: &str) -> Vec<u64> {
    let mut ordered: Vec<(&String, &String)> = files.iter().filter(|(n, _)| *n != active).collect();
    ordered.extend(files.get_key_value(active));
    ordered
        .into_iter()
        .flat_map(|(_, text)| text.lines().map(parse))
        .map(|j| {
            assert_eq!(j["batch"], "b-1", "the span's context: {j}");
            assert_eq!(j["service.name"], "log-files-test", "{j}");
            j["n"].as_u64().expect("n")
        })
        .collect()
}

fn run_child(scenario: &str, env: &[(&str, &Path, &str)]) {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args(["--exact", "log_files", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, scenario)
        .env("RUST_LOG", "info")
        .env("OBS_ENV", "production")
        .env("OTEL_SERVICE_NAME", "log-files-test")
        .env("OTEL_TRACES_EXPORTER", "none")
        .env("OBS_LOG_RATE_LIMIT", "off")
        .env("OBS_LOG_COMPRESS", "gzip");
    for (name, path, rest) in env {
        cmd.env(name, format!("{}{rest}", path.display()));
    }
    let out = cmd.output().expect("run the child");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn rotation_keeps_every_line_once() {
    let dir = temp("rotation");
    let errors = dir.join("errors");
    run_child(
        "write",
        &[
            ("OBS_LOG_DIR", &dir, ""),
            ("OBS_LOG_ROTATION", Path::new("16KB"), ""),
            ("OBS_LOG_RETENTION", Path::new("1000"), ""),
            ("OBS_LOG_ERROR_FILE", &errors, "/errors.log"),
            ("OBS_LOG_ERROR_ROTATION", Path::new("4KB"), ""),
            ("OBS_LOG_ERROR_RETENTION", Path::new("3"), ""),
        ],
    );

    // Every line once, in order, across the rotations: nothing lost or
    // repeated at a file boundary.
    let files = read_all(&dir);
    let rotated: Vec<&String> = files.keys().filter(|n| *n != "obs.log").collect();
    assert!(
        rotated.len() >= 5,
        "about 600 lines of 300 bytes in 16 KB files: {rotated:?}"
    );
    assert!(
        rotated
            .iter()
            .all(|n| n.starts_with("obs.") && n.ends_with(".log.gz")),
        "every rotated file gzipped by the time the guard is dropped: {rotated:?}"
    );
    assert_eq!(numbers(&files, "obs.log"), (0..LINES).collect::<Vec<_>>());

    // The error file: only errors, its own rotation and a retention of 3.
    let error_files = read_all(&errors);
    let rotated: Vec<&String> = error_files.keys().filter(|n| *n != "errors.log").collect();
    assert_eq!(
        rotated.len(),
        3,
        "60 error lines in 4 KB files, 3 kept: {rotated:?}"
    );
    for text in error_files.values() {
        for line in text.lines() {
            assert_eq!(parse(line)["level"], "ERROR", "{line}");
        }
    }
    let kept = numbers(&error_files, "errors.log");
    let first = kept[0];
    assert!(first > 0, "older error files pruned");
    let expected: Vec<u64> = (first..LINES).filter(|n| n % 10 == 0).collect();
    assert_eq!(kept, expected, "the newest error lines, each once");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A rotated file's name for a rotation `age` before `now`.
fn rotated_name(now: SystemTime, stem: &str, age: Duration, ext: &str) -> String {
    let t = now - age;
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let days = secs / 86_400;
    // Civil date from days since the epoch.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let rem = secs % 86_400;
    format!(
        "{stem}.{year:04}-{month:02}-{day:02}T{:02}-{:02}-{:02}.000000Z{ext}",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

fn retention_prunes_by_age_and_count() {
    let dir = temp("retention");
    let errors = dir.join("errors");
    std::fs::create_dir_all(&errors).unwrap();
    let day = Duration::from_secs(86_400);
    let now = SystemTime::now();
    let rotated_name = |stem: &str, age: Duration, ext: &str| rotated_name(now, stem, age, ext);
    // The general files: 30 days kept.
    for age in [1, 10, 29, 31, 45] {
        let empty = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let gz = empty.finish().unwrap();
        std::fs::write(dir.join(rotated_name("obs", day * age, ".log.gz")), gz).unwrap();
    }
    // The error files: the newest 2 kept, whatever their age.
    for age in [1, 2, 3, 200] {
        std::fs::write(errors.join(rotated_name("errors", day * age, ".log")), b"").unwrap();
    }
    std::fs::write(dir.join("unrelated.txt"), b"kept").unwrap();
    run_child(
        "quiet",
        &[
            ("OBS_LOG_DIR", &dir, ""),
            ("OBS_LOG_RETENTION", Path::new("30d"), ""),
            ("OBS_LOG_ERROR_FILE", &errors, "/errors.log"),
            ("OBS_LOG_ERROR_RETENTION", Path::new("2"), ""),
        ],
    );
    let mut left: Vec<String> = read_all(&dir).into_keys().collect();
    left.sort();
    let mut expected: Vec<String> = [1, 10, 29]
        .map(|age| rotated_name("obs", day * age, ".log.gz"))
        .into_iter()
        .chain(["obs.log".to_owned(), "unrelated.txt".to_owned()])
        .collect();
    expected.sort();
    assert_eq!(left, expected);
    let mut left: Vec<String> = read_all(&errors).into_keys().collect();
    left.sort();
    // The two newest, gzipped by the run (compression is on).
    let mut expected: Vec<String> = [1, 2]
        .map(|age| rotated_name("errors", day * age, ".log.gz"))
        .into_iter()
        .chain(["errors.log".to_owned()])
        .collect();
    expected.sort();
    assert_eq!(left, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The child: one error call site flooded, then written again after the
/// rate-limit interval.
fn flood_errors() {
    let guard = obs_runtime::init();
    let fail = |n: u32| tracing::error!(n, "payment failed");
    for n in 0..10 {
        fail(n);
    }
    // The interval of `OBS_LOG_RATE_LIMIT=3/300ms` must pass for the
    // notice to be written with the next event.
    std::thread::sleep(Duration::from_millis(400));
    fail(10);
    drop(guard);
}

/// The rate limit's notice in the error file is an `ERROR` line too, so
/// the file holds nothing else while the suppression stays visible.
fn error_file_notice_is_an_error_line() {
    let dir = temp("notice");
    run_child(
        "flood",
        &[
            ("OBS_LOG_ERROR_FILE", &dir, "/errors.log"),
            ("OBS_LOG_RATE_LIMIT", Path::new("3/300ms"), ""),
        ],
    );
    let text = std::fs::read_to_string(dir.join("errors.log")).expect("error file");
    let lines: Vec<serde_json::Value> = text.lines().map(parse).collect();
    assert!(lines.iter().all(|l| l["level"] == "ERROR"), "{text}");
    let notice = lines
        .iter()
        .find(|l| l["target"] == "obs::log")
        .unwrap_or_else(|| panic!("no notice: {text}"));
    assert_eq!(notice["suppressed"], 7, "{notice}");
    let written: Vec<u64> = lines.iter().filter_map(|l| l["n"].as_u64()).collect();
    assert_eq!(written, [0, 1, 2, 10], "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The parent: runs each scenario in a child process of its own.
#[test]
fn log_files() {
    if let Ok(scenario) = std::env::var(SCENARIO) {
        match scenario.as_str() {
            "write" => write_lines(),
            "quiet" => drop(obs_runtime::init()),
            "flood" => flood_errors(),
            other => panic!("unknown scenario {other}"),
        }
        return;
    }
    rotation_keeps_every_line_once();
    retention_prunes_by_age_and_count();
    error_file_notice_is_an_error_line();
}
