//! Pushing to a real Prometheus Pushgateway (Debian's
//! `prometheus-pushgateway`, started on a free loopback port): after a push
//! the gateway's own `/metrics` carries our series under the job and
//! grouping labels, `PUT` replaces the group while `POST` adds to it, a
//! grouping value holding `/` arrives intact, `DELETE` removes the group, a
//! timer pushes as a run goes; an error answer, a closed port and a silent
//! gateway are errors (within the deadline), never a panic or a hang.

mod service_support;

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use obs_runtime::metrics::Counter;
use obs_runtime::push::{PushError, Pushgateway};
use service_support::{free_port, get, tool, wait_for};

struct Gateway {
    child: Child,
    addr: SocketAddr,
}

impl Gateway {
    fn start() -> Self {
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let child = Command::new(tool("prometheus-pushgateway", "prometheus-pushgateway"))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the pushgateway");
        let ready = wait_for(Duration::from_secs(30), || {
            get(addr, "/-/ready").filter(|r| r.status == 200)
        });
        assert!(ready.is_some(), "the pushgateway did not get ready");
        Self { child, addr }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The gateway's exposition: what Prometheus would scrape from it.
    fn metrics(&self) -> String {
        let r = get(self.addr, "/metrics").expect("the gateway's /metrics");
        String::from_utf8(r.body).unwrap()
    }

    /// The lines of `metric` (exactly that name) in the gateway's exposition.
    fn series(&self, metric: &str) -> Vec<String> {
        self.metrics()
            .lines()
            .filter(|l| {
                l.strip_prefix(metric)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn value(line: &str) -> f64 {
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn pushes_reach_a_real_gateway_with_put_post_and_delete_semantics() {
    let gateway = Gateway::start();
    let rows = Counter::<()>::new("pg_rows_written_total", "Rows the batch wrote.")
        .unwrap()
        .register()
        .unwrap();
    rows.inc_by(3);

    // The end of a successful run: PUT with the success mark.
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        .floor();
    obs_runtime::push::to_gateway(&gateway.url(), "nightly_report", &[("instance", "batch-1")])
        .expect("push");
    let written = gateway.series("pg_rows_written_total");
    assert_eq!(
        written,
        vec![r#"pg_rows_written_total{instance="batch-1",job="nightly_report"} 3"#.to_owned()],
        "{}",
        gateway.metrics()
    );
    let success = gateway.series("last_success_timestamp_seconds");
    assert_eq!(success.len(), 1, "{success:?}");
    assert!(success[0].contains(r#"job="nightly_report""#));
    let at = value(&success[0]);
    assert!(at >= before && at <= before + 60.0, "{at} vs {before}");
    // The gateway's own record of the push.
    assert!(
        gateway
            .series("push_time_seconds")
            .iter()
            .any(|l| l.contains(r#"job="nightly_report""#))
    );

    // POST replaces same-named metrics of a group and keeps the others.
    let other = Pushgateway::new(&gateway.url(), "nightly_report")
        .unwrap()
        .grouping("instance", "batch-1");
    let extra = Counter::<()>::new("pg_extra_total", "Pushed by a second process.")
        .unwrap()
        .register()
        .unwrap();
    extra.inc();
    rows.inc_by(2);
    other.push_add().expect("POST");
    assert!(gateway.series("pg_rows_written_total")[0].ends_with(" 5"));
    assert_eq!(gateway.series("pg_extra_total").len(), 1);

    // A grouping value with `/` (sent base64-encoded) arrives as it is.
    let sharded = Pushgateway::new(&gateway.url(), "nightly_report")
        .unwrap()
        .grouping("shard", "eu/west-1");
    sharded.push().expect("push with a / in a value");
    assert!(
        gateway
            .series("pg_rows_written_total")
            .iter()
            .any(|l| l.contains(r#"shard="eu/west-1""#)),
        "{}",
        gateway.metrics()
    );

    // DELETE removes only that group.
    sharded.delete().expect("DELETE");
    assert!(
        !gateway.metrics().contains("eu/west-1"),
        "{}",
        gateway.metrics()
    );
    assert_eq!(gateway.series("pg_rows_written_total").len(), 1);

    // An error answer comes back as a status with the gateway's message.
    let e = Pushgateway::new(&format!("{}/no-such-prefix", gateway.url()), "j")
        .unwrap()
        .push()
        .unwrap_err();
    assert!(matches!(e, PushError::Status { code: 404, .. }), "{e:?}");
}

#[test]
fn a_timer_pushes_as_the_run_goes_and_once_more_at_the_end() {
    let gateway = Gateway::start();
    let done = Counter::<()>::new("pg_timer_items_total", "Items done.")
        .unwrap()
        .register()
        .unwrap();
    done.inc();
    let pushing = Pushgateway::new(&gateway.url(), "long_run")
        .unwrap()
        .every(Duration::from_millis(100))
        .expect("the timer thread");
    let first = wait_for(Duration::from_secs(20), || {
        let s = gateway.series("pg_timer_items_total");
        (!s.is_empty()).then_some(s)
    });
    assert!(first.is_some(), "the timer never pushed");
    done.inc_by(41);
    pushing.finish_success().expect("the last push");
    let last = gateway.series("pg_timer_items_total");
    assert_eq!(last.len(), 1);
    assert!(last[0].ends_with(" 42"), "{last:?}");
    assert_eq!(gateway.series("last_success_timestamp_seconds").len(), 1);
}

#[test]
fn a_closed_port_and_a_silent_gateway_are_errors_within_the_deadline() {
    // Nothing listens: refused at once.
    let closed = free_port();
    let started = Instant::now();
    let e = Pushgateway::new(&format!("http://127.0.0.1:{closed}"), "j")
        .unwrap()
        .timeout(Duration::from_secs(2))
        .push()
        .unwrap_err();
    assert!(matches!(e, PushError::Connect(_)), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(e.to_string().contains("could not connect"), "{e}");

    // Accepts and never answers: a timeout at the deadline (generous margin).
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let started = Instant::now();
    let e = Pushgateway::new(&format!("http://user:s3cret-pw@{addr}"), "j")
        .unwrap()
        .timeout(Duration::from_millis(500))
        .push()
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(e, PushError::Timeout(_)), "{e:?}");
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(!format!("{e} {e:?}").contains("s3cret-pw"));
    drop(silent);
}

/// What the child process of the test below runs: a batch run that fails,
/// in a process that never marked a success, pushing as it goes and at its
/// end.
fn failed_run(url: &str) {
    let items = Counter::<()>::new("pg_failed_items_total", "Items of the failed run.")
        .unwrap()
        .register()
        .unwrap();
    items.inc_by(7);
    let pushing = Pushgateway::new(url, "flaky_batch")
        .unwrap()
        .every(Duration::from_millis(50))
        .expect("the timer thread");
    std::thread::sleep(Duration::from_millis(300));
    pushing.finish().expect("the last push");
}

/// `PUT`s `body` (text format) under `job`, as another program would.
fn put_raw(addr: SocketAddr, job: &str, body: &str) {
    use std::io::{Read as _, Write as _};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "PUT /metrics/job/{job} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn a_failed_run_keeps_the_last_success_of_its_group() {
    const CHILD: &str = "OBS_TEST_FAILED_RUN_GATEWAY";
    if let Ok(url) = std::env::var(CHILD) {
        failed_run(&url);
        return;
    }
    let gateway = Gateway::start();
    // An earlier run of the job succeeded.
    put_raw(
        gateway.addr,
        "flaky_batch",
        "# TYPE last_success_timestamp_seconds gauge\nlast_success_timestamp_seconds 1700000000\n",
    );
    // This run fails, in a process of its own (this one may have marked a
    // success in another test).
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_failed_run_keeps_the_last_success_of_its_group",
            "--test-threads=1",
        ])
        .env(CHILD, gateway.url())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let items = gateway.series("pg_failed_items_total");
    assert_eq!(items.len(), 1, "{}", gateway.metrics());
    assert!(items[0].contains(r#"job="flaky_batch""#) && items[0].ends_with(" 7"));
    // The failed run's pushes left the last success as it was: the
    // staleness alert still sees when the job last succeeded.
    let success = gateway.series("last_success_timestamp_seconds");
    assert_eq!(success.len(), 1, "{}", gateway.metrics());
    assert!(success[0].contains(r#"job="flaky_batch""#));
    assert_eq!(value(&success[0]), 1_700_000_000.0);
}
