//! Log files: one active file, rotated daily or by size, rotated files
//! gzipped (feature `log-gzip`) and pruned by count or age.
//!
//! The active file is `<stem>.<ext>` (`obs.log`); a rotated one is renamed
//! to `<stem>.<UTC time of the rotation>.<ext>`
//! (`obs.2026-12-05T00-15-03.123456Z.log`), then compressed to `….log.gz`.
//! The file is written by the log writer thread (`log::queue`), so a line
//! never waits for the disk on the thread that logs; a rotation there is a
//! rename between two whole lines. Compression and pruning run on a thread
//! of their own ("obs-log-files"), so a slow gzip never holds lines up
//! either: while it runs, lines go to the new active file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing_subscriber::fmt::MakeWriter;

/// Rotated files kept when neither a count nor an age is given.
const DEFAULT_KEEP: usize = 7;

/// When the active file is rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rotation {
    /// When the UTC date changes.
    Daily,
    /// When the next line would take the file past this many bytes.
    Size(u64),
}

/// Rotation, retention and compression of a set of log files.
///
/// ```
/// use std::time::Duration;
/// use obs_runtime::log::LogFiles;
///
/// // BRAiN's error log: a file a day, 90 days kept, gzipped.
/// let errors = LogFiles::daily().max_age(Duration::from_secs(90 * 86_400)).compress(true);
/// // At most 10 files of 50 MB besides the active one.
/// let sized = LogFiles::size(50 * 1024 * 1024).keep(10);
/// assert_ne!(errors, sized);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFiles {
    rotation: Rotation,
    /// `None`: 7 without a `max_age`, no count limit with one.
    keep: Option<usize>,
    max_age: Option<Duration>,
    compress: bool,
}

impl Default for LogFiles {
    /// Daily, 7 rotated files kept, gzipped when feature `log-gzip` is on.
    fn default() -> Self {
        Self::daily()
    }
}

impl LogFiles {
    /// A new file each UTC day; 7 rotated files kept, gzipped when feature
    /// `log-gzip` is on.
    ///
    /// ```
    /// let _daily = obs_runtime::log::LogFiles::daily();
    /// ```
    #[must_use]
    pub fn daily() -> Self {
        Self {
            rotation: Rotation::Daily,
            keep: None,
            max_age: None,
            compress: cfg!(feature = "log-gzip"),
        }
    }

    /// A new file when the next line would take the active one past
    /// `bytes` (at least 1); otherwise as [`daily`](Self::daily).
    ///
    /// ```
    /// let _sized = obs_runtime::log::LogFiles::size(10 * 1024 * 1024);
    /// ```
    #[must_use]
    pub fn size(bytes: u64) -> Self {
        Self {
            rotation: Rotation::Size(bytes.max(1)),
            ..Self::daily()
        }
    }

    /// Keeps the newest `files` rotated files (at least 1) besides the
    /// active one.
    ///
    /// ```
    /// let _thirty = obs_runtime::log::LogFiles::daily().keep(30);
    /// ```
    #[must_use]
    pub fn keep(mut self, files: usize) -> Self {
        self.keep = Some(files.max(1));
        self
    }

    /// Deletes rotated files rotated longer ago than `age`; unless
    /// [`keep`](Self::keep) is called too, this is then the only limit (no
    /// count of 7).
    ///
    /// ```
    /// let _month = obs_runtime::log::LogFiles::daily()
    ///     .max_age(std::time::Duration::from_secs(30 * 86_400));
    /// ```
    #[must_use]
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// Whether rotated files are gzipped (`….log.gz`). Without feature
    /// `log-gzip` they stay as they are.
    ///
    /// ```
    /// let _plain = obs_runtime::log::LogFiles::daily().compress(false);
    /// ```
    #[must_use]
    pub fn compress(mut self, gzip: bool) -> Self {
        self.compress = gzip;
        self
    }

    /// Sets the rotation from `daily` or a size (`100MB`, `512KB`, `4096`).
    pub(crate) fn parse_rotation(mut self, text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("daily") {
            self.rotation = Rotation::Daily;
            return Ok(self);
        }
        let upper = text.to_ascii_uppercase();
        let (digits, unit) = upper
            .find(|c: char| !c.is_ascii_digit())
            .map_or((upper.as_str(), ""), |i| upper.split_at(i));
        let factor: u64 = match unit.trim() {
            "" | "B" => 1,
            "KB" | "K" => 1 << 10,
            "MB" | "M" => 1 << 20,
            "GB" | "G" => 1 << 30,
            _ => return Err(format!("{text:?} is not `daily` or a size like `100MB`")),
        };
        match digits.parse::<u64>() {
            Ok(n) if n > 0 => {
                self.rotation = Rotation::Size(n.saturating_mul(factor));
                Ok(self)
            }
            _ => Err(format!("{text:?} is not `daily` or a size like `100MB`")),
        }
    }

    /// Sets the retention from `<files>`, `<age>` (`30d`, `12h`, `90m`) or
    /// both, comma-separated (`30d,100`).
    pub(crate) fn parse_retention(mut self, text: &str) -> Result<Self, String> {
        let mut keep = None;
        let mut max_age = None;
        let bad = || format!("{text:?} is not a number of files, an age like `30d`, or both");
        for part in text.split(',').map(str::trim) {
            if let Ok(n) = part.parse::<usize>() {
                if n == 0 || keep.is_some() {
                    return Err(bad());
                }
                keep = Some(n);
                continue;
            }
            let (digits, unit) = part.split_at(part.len().saturating_sub(1));
            let seconds: u64 = match unit {
                "d" => 86_400,
                "h" => 3_600,
                "m" => 60,
                "s" => 1,
                _ => return Err(bad()),
            };
            match digits.parse::<u64>() {
                Ok(n) if n > 0 && max_age.is_none() => {
                    max_age = Some(Duration::from_secs(n.saturating_mul(seconds)));
                }
                _ => return Err(bad()),
            }
        }
        self.keep = keep;
        self.max_age = max_age;
        Ok(self)
    }
}

/// `<stem>` and `.<ext>` (or `""`) of the active file's name.
fn split_name(path: &Path) -> (String, String) {
    let stem = path
        .file_stem()
        .map_or_else(|| "obs".to_owned(), |s| s.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map_or_else(String::new, |e| format!(".{}", e.to_string_lossy()));
    (stem, ext)
}

/// The files of one active file: where they are and how they are named.
#[derive(Debug, Clone)]
struct Names {
    dir: PathBuf,
    stem: String,
    ext: String,
}

/// A rotated file found in the folder.
#[derive(Debug)]
struct Rotated {
    path: PathBuf,
    /// When it was rotated, from its name.
    at: SystemTime,
    gzipped: bool,
}

impl Names {
    fn new(active: &Path) -> Self {
        let (stem, ext) = split_name(active);
        let dir = active
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Self { dir, stem, ext }
    }

    /// The name a file rotated at `at` gets.
    fn rotated(&self, at: SystemTime) -> PathBuf {
        let mut time = String::with_capacity(27);
        crate::leaves::time::rfc3339(&mut time, at, crate::leaves::time::Precision::Micros);
        let time = time.replace(':', "-");
        let mut path = self.dir.join(format!("{}.{time}{}", self.stem, self.ext));
        // Two rotations in one microsecond: never overwrite the first, nor
        // its gzip file.
        let taken = |p: &Path| {
            let mut gz = p.as_os_str().to_owned();
            gz.push(".gz");
            p.exists() || Path::new(&gz).exists()
        };
        let mut n = 1;
        while taken(&path) {
            path = self
                .dir
                .join(format!("{}.{time}-{n}{}", self.stem, self.ext));
            n += 1;
        }
        path
    }

    /// The rotation time of `name`, if it is one of ours, and whether it
    /// is gzipped.
    fn parse(&self, name: &str) -> Option<(SystemTime, bool)> {
        let rest = name.strip_prefix(&self.stem)?.strip_prefix('.')?;
        let (rest, gzipped) = match rest.strip_suffix(".gz") {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let time = rest.strip_suffix(self.ext.as_str())?;
        // `2026-12-05T00-15-03.123456Z`, maybe `-N` after it.
        let time = match time.split_once("Z-") {
            Some((t, n)) if n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() => t,
            Some(_) => return None,
            None => time.strip_suffix('Z')?,
        };
        parse_time(time).map(|t| (t, gzipped))
    }

    /// Removes the `.gz.part` files a compression cut short (a crash, a
    /// full disk) left: their source is still there, compressed again.
    fn remove_parts(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            if let Some(gz) = name.to_str().and_then(|n| n.strip_suffix(".part"))
                && self.parse(gz).is_some_and(|(_, gzipped)| gzipped)
            {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// The rotated files in the folder, newest first.
    fn list(&self) -> Vec<Rotated> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut files: Vec<Rotated> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name();
                let (at, gzipped) = self.parse(name.to_str()?)?;
                Some(Rotated {
                    path: e.path(),
                    at,
                    gzipped,
                })
            })
            .collect();
        files.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.path.cmp(&a.path)));
        files
    }
}

/// `2026-12-05T00-15-03.123456` as a time.
fn parse_time(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let num = |from: usize, to: usize| -> Option<u64> {
        let digits = text.get(from..to)?;
        if !digits.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    if b.len() != 26 || b.get(10) != Some(&b'T') || b.get(19) != Some(&b'.') {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let micros = num(20, 26)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // Days since 1970-01-01 from a civil date (Howard Hinnant's algorithm).
    let y = i64::try_from(year).ok()? - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::try_from(month).ok()?;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::try_from(day).ok()? - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe - 719_468).ok()?;
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros))
}

/// Days since 1970-01-01 in UTC.
fn day_of(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / 86_400
}

/// Whether the file at `path` is not empty and does not end with `\n`.
fn ends_mid_line(path: &Path) -> io::Result<bool> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let mut file = File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0_u8; 1];
    file.read_exact(&mut last)?;
    Ok(last != *b"\n")
}

/// The active file.
struct Active {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    size: u64,
    /// The UTC day its first line was written.
    day: u64,
    /// The last byte written ended a line: a rotation may happen here.
    line_start: bool,
}

impl Active {
    fn open(path: &Path) -> io::Result<Self> {
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        // A run that died in the middle of a line: end it, so the next
        // line is whole JSON.
        if ends_mid_line(path)? {
            file.write_all(b"\n")?;
        }
        let meta = file.metadata()?;
        // A file left by an earlier run is rotated on the day after its
        // last line, as if the program had run on.
        let day = meta
            .modified()
            .map_or_else(|_| day_of(SystemTime::now()), day_of);
        Ok(Self {
            path: path.to_path_buf(),
            size: meta.len(),
            file: Some(BufWriter::with_capacity(64 * 1024, file)),
            day,
            line_start: true,
        })
    }
}

enum Work {
    /// Compress and prune now.
    Tidy,
    /// Answered when every earlier tidy is done.
    Done(mpsc::SyncSender<()>),
}

/// The log file writer behind a [`LogQueue`](super::LogQueue): rotates the
/// active file and hands rotated ones to the "obs-log-files" thread.
pub(crate) struct RollingFile {
    active: Mutex<Active>,
    names: Names,
    policy: LogFiles,
    tidy: Sender<Work>,
    /// What the clock says (a test's clock in tests).
    now: fn() -> SystemTime,
}

impl std::fmt::Debug for RollingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollingFile")
            .field("names", &self.names)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Waits for the "obs-log-files" thread of a [`RollingFile`].
#[derive(Debug, Clone)]
pub(crate) struct Tidier(Sender<Work>);

impl Tidier {
    /// Waits until the rotated files so far are compressed and pruned, or
    /// `deadline` passed (`false` then).
    pub(crate) fn wait(&self, deadline: Duration) -> bool {
        let (ack, done) = mpsc::sync_channel(1);
        if self.0.send(Work::Done(ack)).is_err() {
            return false;
        }
        done.recv_timeout(deadline).is_ok()
    }
}

impl RollingFile {
    /// Opens (or creates) the active file at `path`, its folder too, and
    /// starts the thread that compresses and prunes rotated files, which
    /// tidies what an earlier run left at once.
    ///
    /// # Errors
    /// When the folder or file can't be created, or the thread can't start.
    pub(crate) fn open(path: &Path, policy: LogFiles) -> io::Result<(Self, Tidier)> {
        Self::open_with_clock(path, policy, SystemTime::now)
    }

    fn open_with_clock(
        path: &Path,
        policy: LogFiles,
        now: fn() -> SystemTime,
    ) -> io::Result<(Self, Tidier)> {
        let names = Names::new(path);
        fs::create_dir_all(&names.dir)?;
        let active = Active::open(path)?;
        let (tidy, work) = mpsc::channel();
        {
            let names = names.clone();
            let policy = policy.clone();
            std::thread::Builder::new()
                .name("obs-log-files".into())
                .spawn(move || tidy_loop(&names, &policy, &work, now))?;
        }
        let _ = tidy.send(Work::Tidy);
        let tidier = Tidier(tidy.clone());
        Ok((
            Self {
                active: Mutex::new(active),
                names,
                policy,
                tidy,
                now,
            },
            tidier,
        ))
    }

    /// Whether a write of `len` bytes at `now` starts a new file.
    fn due(&self, active: &Active, len: usize, now: SystemTime) -> bool {
        if !active.line_start || active.size == 0 {
            return false;
        }
        match self.policy.rotation {
            Rotation::Daily => day_of(now) != active.day,
            Rotation::Size(max) => active.size.saturating_add(len as u64) > max,
        }
    }

    /// Renames the active file and opens a new one.
    fn rotate(&self, active: &mut Active, now: SystemTime) -> io::Result<()> {
        if let Some(mut file) = active.file.take() {
            file.flush()?;
        }
        // Renamed away by someone else: nothing to rotate, a new file is
        // opened all the same.
        let _ = fs::rename(&active.path, self.names.rotated(now));
        let mut fresh = Active::open(&active.path)?;
        fresh.day = day_of(now);
        *active = fresh;
        let _ = self.tidy.send(Work::Tidy);
        Ok(())
    }
}

/// One batch of writes from the log writer thread.
pub(crate) struct FileWriter<'a> {
    file: &'a RollingFile,
    active: MutexGuard<'a, Active>,
}

impl io::Write for FileWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let now = (self.file.now)();
        if self.file.due(&self.active, buf.len(), now) {
            self.file.rotate(&mut self.active, now)?;
        }
        if self.active.file.is_none() {
            // The last open failed (a full disk, a removed folder): try again.
            let path = self.active.path.clone();
            fs::create_dir_all(&self.file.names.dir)?;
            *self.active = Active::open(&path)?;
        }
        let active = &mut *self.active;
        let file = active
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("log file not open"))?;
        file.write_all(buf)?;
        if active.size == 0 {
            active.day = day_of(now);
        }
        active.size = active.size.saturating_add(buf.len() as u64);
        active.line_start = buf.last() == Some(&b'\n');
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.active.file.as_mut() {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for RollingFile {
    type Writer = FileWriter<'a>;

    fn make_writer(&'a self) -> FileWriter<'a> {
        FileWriter {
            file: self,
            active: self.active.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }
}

/// The "obs-log-files" thread: compresses and prunes on each rotation,
/// answers waits, ends with its [`RollingFile`].
fn tidy_loop(names: &Names, policy: &LogFiles, work: &Receiver<Work>, now: fn() -> SystemTime) {
    while let Ok(first) = work.recv() {
        // Rotations that queued up meanwhile are one tidy.
        let mut acks = Vec::new();
        let mut next = Some(first);
        while let Some(w) = next {
            if let Work::Done(ack) = w {
                acks.push(ack);
            }
            next = work.try_recv().ok();
        }
        tidy(names, policy, now());
        for ack in acks {
            let _ = ack.try_send(());
        }
    }
}

/// Compresses the rotated files not compressed yet, then deletes the
/// ones past the retention.
fn tidy(names: &Names, policy: &LogFiles, now: SystemTime) {
    names.remove_parts();
    if policy.compress {
        for file in names.list().iter().filter(|f| !f.gzipped) {
            // A file that can't be compressed stays as it is, still
            // counted by the retention.
            let _ = gzip(&file.path);
        }
    }
    let keep = policy
        .keep
        .or_else(|| policy.max_age.is_none().then_some(DEFAULT_KEEP));
    let files = names.list();
    for (i, file) in files.iter().enumerate() {
        let too_many = keep.is_some_and(|keep| i >= keep);
        let too_old = policy
            .max_age
            .is_some_and(|age| now.duration_since(file.at).is_ok_and(|d| d > age));
        if too_many || too_old {
            let _ = fs::remove_file(&file.path);
        }
    }
}

/// `path` to `path.gz` (written beside as `.gz.part`, then renamed, so a
/// crash never leaves a truncated `.gz`), the original removed.
#[cfg(feature = "log-gzip")]
fn gzip(path: &Path) -> io::Result<()> {
    let mut gz_name = path.as_os_str().to_owned();
    gz_name.push(".gz");
    let gz = PathBuf::from(gz_name);
    let mut part_name = gz.as_os_str().to_owned();
    part_name.push(".part");
    let part = PathBuf::from(part_name);
    let result = (|| {
        let mut source = File::open(path)?;
        let target = File::create(&part)?;
        let mut encoder =
            flate2::write::GzEncoder::new(BufWriter::new(target), flate2::Compression::default());
        io::copy(&mut source, &mut encoder)?;
        let mut out = encoder.finish()?;
        out.flush()?;
        out.get_ref().sync_all()?;
        fs::rename(&part, &gz)?;
        fs::remove_file(path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&part);
    }
    result
}

/// Without feature `log-gzip` rotated files stay as they are (the same
/// signature as the real one).
#[cfg(not(feature = "log-gzip"))]
#[allow(clippy::unnecessary_wraps)]
fn gzip(_: &Path) -> io::Result<()> {
    Ok(())
}

// `Duration::from_hours` is newer than the crate's minimum Rust (1.88).
#[allow(clippy::duration_suboptimal_units)]
#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("obs-file-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn rotated_names_parse_back_to_their_time() {
        let names = Names::new(Path::new("/var/log/app/errors.log"));
        let at = UNIX_EPOCH + Duration::from_micros(1_733_356_503_123_456);
        let path = names.rotated(at);
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        assert_eq!(name, "errors.2024-12-04T23-55-03.123456Z.log");
        assert_eq!(names.parse(&name), Some((at, false)));
        assert_eq!(names.parse(&format!("{name}.gz")), Some((at, true)));
        let second = "errors.2024-12-04T23-55-03.123456Z-2.log";
        assert_eq!(names.parse(second), Some((at, false)));
        for other in [
            "errors.log",
            "errors.2024-12-05T00-35-03.123456Z.log.gz.part",
            "errors.extra.2024-12-05T00-35-03.123456Z.log",
            "obs.2024-12-05T00-35-03.123456Z.log",
            "errors.2024-13-05T00-35-03.123456Z.log",
        ] {
            assert_eq!(names.parse(other), None, "{other}");
        }
    }

    #[test]
    fn rotation_and_retention_parse() {
        let p = LogFiles::daily();
        assert_eq!(
            p.clone().parse_rotation("100MB").unwrap().rotation,
            Rotation::Size(100 << 20)
        );
        assert_eq!(
            p.clone().parse_rotation("4096").unwrap().rotation,
            Rotation::Size(4096)
        );
        assert!(p.clone().parse_rotation("weekly").is_err());
        assert!(p.clone().parse_rotation("0KB").is_err());
        let r = p.clone().parse_retention("30d,100").unwrap();
        assert_eq!(
            (r.keep, r.max_age),
            (Some(100), Some(Duration::from_secs(30 * 86_400)))
        );
        let r = p.clone().parse_retention("12").unwrap();
        assert_eq!((r.keep, r.max_age), (Some(12), None));
        for bad in ["0", "x", "30w", "1,2", ""] {
            assert!(p.clone().parse_retention(bad).is_err(), "{bad}");
        }
    }

    static CLOCK: AtomicU64 = AtomicU64::new(0);

    fn test_clock() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(CLOCK.load(Ordering::SeqCst))
    }

    #[test]
    fn a_new_day_starts_a_new_file_between_lines() {
        let dir = temp("daily");
        let path = dir.join("app.log");
        CLOCK.store(20_000 * 86_400 + 3_600, Ordering::SeqCst);
        let (file, tidier) =
            RollingFile::open_with_clock(&path, LogFiles::daily().compress(false), test_clock)
                .unwrap();
        {
            let mut w = file.make_writer();
            w.write_all(b"{\"n\":1}\n").unwrap();
            w.write_all(b"{\"n\":2}").unwrap();
            // Midnight passes in the middle of a line: no rotation there.
            CLOCK.fetch_add(86_400, Ordering::SeqCst);
            w.write_all(b"\n").unwrap();
            w.write_all(b"{\"n\":3}\n").unwrap();
            w.flush().unwrap();
        }
        assert!(tidier.wait(Duration::from_secs(30)));
        let names = Names::new(&path);
        let rotated = names.list();
        assert_eq!(rotated.len(), 1, "{rotated:?}");
        assert_eq!(
            fs::read_to_string(&rotated[0].path).unwrap(),
            "{\"n\":1}\n{\"n\":2}\n"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"n\":3}\n");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_line_cut_short_by_an_earlier_run_is_ended() {
        let dir = temp("cut");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.log");
        fs::write(&path, "{\"n\":1}\n{\"n\":").unwrap();
        let (file, _tidier) = RollingFile::open(&path, LogFiles::daily().compress(false)).unwrap();
        {
            let mut w = file.make_writer();
            w.write_all(b"{\"n\":2}\n").unwrap();
            w.flush().unwrap();
        }
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "{\"n\":1}\n{\"n\":\n{\"n\":2}\n"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn retention_prunes_by_count_and_age() {
        let dir = temp("retention");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.log");
        let names = Names::new(&path);
        let now = SystemTime::now();
        let day = Duration::from_secs(86_400);
        // Ten files, 0 to 9 days old, and one of another set.
        for age in 0..10 {
            fs::write(names.rotated(now - day * age - day / 2), "{}\n").unwrap();
        }
        fs::write(dir.join("other.2020-01-01T00-00-00.000000Z.log"), "{}\n").unwrap();
        let part = dir.join("app.2020-01-01T00-00-00.000000Z.log.gz.part");
        fs::write(&part, "cut short").unwrap();
        tidy(
            &names,
            &LogFiles::daily().keep(6).max_age(day * 4).compress(false),
            now,
        );
        let ages: Vec<u64> = names
            .list()
            .iter()
            .map(|f| now.duration_since(f.at).unwrap().as_secs() / 86_400)
            .collect();
        assert_eq!(ages, [0, 1, 2, 3], "younger than 4 days, at most 6");
        assert!(!part.exists(), "a cut-short compression's part removed");
        tidy(&names, &LogFiles::daily().keep(2).compress(false), now);
        assert_eq!(names.list().len(), 2);
        assert!(dir.join("other.2020-01-01T00-00-00.000000Z.log").exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
