//! Real PostgreSQL and Redis servers for the tests: each on a free loopback
//! port, in a directory of its own, stopped when dropped (also when a test
//! panics). `scripts/test` installs the Debian packages when they are
//! missing; without them these helpers fail with a message that says so.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str =
    "run `scripts/test`, which installs it (`apt-get install postgresql redis-server`)";

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("obs-health-{what}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create a temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Waits until `ready` holds, polling, or panics at the deadline.
fn wait_until(what: &str, deadline: Duration, mut ready: impl FnMut() -> bool) {
    let until = Instant::now() + deadline;
    while !ready() {
        assert!(
            Instant::now() < until,
            "{what} was not ready within {deadline:?}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A binary from `PATH`, or `None`.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The directory of PostgreSQL's server binaries: the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout), else wherever
/// `initdb` is on `PATH`.
fn postgres_bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    on_path("initdb")
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| panic!("PostgreSQL's `initdb` was not found under /usr/lib/postgresql/*/bin nor on PATH: {INSTALL_HINT}"))
}

/// A PostgreSQL server with trust authentication for user `postgres`.
pub struct Postgres {
    dir: TempDir,
    bin: PathBuf,
    as_postgres: bool,
    pub port: u16,
    running: bool,
}

impl Postgres {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            // PostgreSQL refuses to run as root.
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("could not run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Creates a cluster and starts it on a free port.
    pub fn start() -> Self {
        let bin = postgres_bin_dir();
        let dir = TempDir::new("pg");
        let as_postgres = is_root();
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(&dir.0)
                .status()
                .expect("chown the data dir");
            assert!(status.success(), "chown of {} failed", dir.0.display());
        }
        let pg = Self {
            port: free_port(),
            dir,
            bin,
            as_postgres,
            running: false,
        };
        let data = pg.dir.0.join("data");
        let data = data.to_str().expect("UTF-8 temp path");
        pg.run(
            "initdb",
            &[
                "-D",
                data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
        );
        let options = format!(
            "-p {} -h 127.0.0.1 -k {} -c fsync=off -c full_page_writes=off",
            pg.port,
            pg.dir.0.display()
        );
        let log = pg.dir.0.join("log");
        let mut pg = pg;
        pg.run(
            "pg_ctl",
            &[
                "-D",
                data,
                "-l",
                log.to_str().expect("UTF-8"),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        pg.running = true;
        let addr: SocketAddr = ([127, 0, 0, 1], pg.port).into();
        wait_until("PostgreSQL", Duration::from_secs(30), || {
            TcpStream::connect(addr).is_ok()
        });
        pg
    }

    /// Stops the server at once.
    pub fn stop(&mut self) {
        if self.running {
            self.running = false;
            let data = self.dir.0.join("data");
            self.run(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().expect("UTF-8"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
            );
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            self.running = false;
            let data = self.dir.0.join("data");
            let _ = self
                .command("pg_ctl")
                .args([
                    "-D",
                    data.to_str().unwrap_or_default(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A Redis server without persistence.
pub struct Redis {
    _dir: TempDir,
    child: Option<Child>,
    pub port: u16,
}

impl Redis {
    /// Starts `redis-server` on a free port and waits until it answers.
    pub fn start() -> Self {
        let binary = on_path("redis-server")
            .or_else(|| Some(PathBuf::from("/usr/bin/redis-server")).filter(|p| p.is_file()))
            .unwrap_or_else(|| panic!("`redis-server` was not found on PATH: {INSTALL_HINT}"));
        let dir = TempDir::new("redis");
        let port = free_port();
        let child = Command::new(binary)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&dir.0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let redis = Self {
            _dir: dir,
            child: Some(child),
            port,
        };
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        wait_until("Redis", Duration::from_secs(30), || {
            use std::io::{Read, Write};
            let Ok(mut s) = TcpStream::connect(addr) else {
                return false;
            };
            let mut buf = [0u8; 7];
            s.write_all(b"PING\r\n").is_ok()
                && s.read_exact(&mut buf).is_ok()
                && &buf == b"+PONG\r\n"
        });
        redis
    }

    /// Kills the server (as a crash would) and waits for it to be gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}
