//! Connection pool metrics against real servers: a PostgreSQL and a Redis
//! started on loopback for this test, pools of two connections and five
//! callers, read from `encode_text()` as Prometheus would scrape them.

#[path = "health_support/servers.rs"]
#[allow(dead_code, reason = "PostgreSQL is never stopped here")]
mod servers;

use std::fmt::Debug;
use std::time::{Duration, Instant};

use obs_runtime::health::deadpool_postgres::{self, tokio_postgres::NoTls};
use obs_runtime::health::{self, deadpool_redis};
use obs_runtime::pools::{self, PoolSnapshot, PoolStatus, RegisterError, TimedGet};

/// The value of one series in a scrape (`name{labels}` exactly), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        line.strip_prefix(series)?
            .strip_prefix(' ')?
            .parse::<f64>()
            .ok()
    })
}

/// `used`, `idle` and `pending` of a pool, as a scrape reads them.
fn connections(text: &str, pool: &str) -> (Option<f64>, Option<f64>, Option<f64>) {
    let count = |state| {
        sample(
            text,
            &format!(r#"db_client_connection_count{{pool_name="{pool}",state="{state}"}}"#),
        )
    };
    (
        count("used"),
        count("idle"),
        sample(
            text,
            &format!(r#"db_client_connection_pending_requests{{pool_name="{pool}"}}"#),
        ),
    )
}

fn wait_series(text: &str, pool: &str, suffix: &str) -> Option<f64> {
    sample(
        text,
        &format!(r#"db_client_connection_wait_time_seconds_{suffix}{{pool_name="{pool}"}}"#),
    )
}

fn wait_bucket(text: &str, pool: &str, le: &str) -> Option<f64> {
    sample(
        text,
        &format!(
            r#"db_client_connection_wait_time_seconds_bucket{{pool_name="{pool}",le="{le}"}}"#
        ),
    )
}

fn redis_connected(pool: &str) -> Option<f64> {
    sample(
        &obs_runtime::encode_text(),
        &format!(r#"redis_connected{{pool_name="{pool}"}}"#),
    )
}

/// Polls the scrape until `done` holds, for at most 30 s.
async fn scrape_until(what: &str, mut done: impl FnMut(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = obs_runtime::encode_text();
        if done(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{what} not seen within 30 s; last scrape:\n{}",
            text.lines()
                .filter(|l| l.starts_with("db_client") || l.starts_with("redis_"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How long the queued callers are kept waiting: each of them waits at
/// least this long, whatever the machine's speed.
const HOLD: Duration = Duration::from_millis(250);

/// Five callers on a registered pool of two: two hold a connection, three
/// queue. The scrape sees exactly that, then the pool at rest, and the
/// wait-time histogram counts the five waits, the three queued ones
/// longer than `HOLD`.
async fn five_callers_on_two_connections<P>(pool: P, name: &str)
where
    P: TimedGet + PoolStatus + Clone + Send + Sync + 'static,
    P::Connection: Send,
    P::Error: Debug + Send,
{
    pools::register(name, pool.clone()).expect("register the pool");
    let text = obs_runtime::encode_text();
    assert_eq!(
        sample(
            &text,
            &format!(r#"db_client_connection_max{{pool_name="{name}"}}"#)
        ),
        Some(2.0)
    );
    assert_eq!(wait_series(&text, name, "count"), Some(0.0));

    let (release, released) = tokio::sync::watch::channel(false);
    let callers: Vec<_> = (0..5)
        .map(|_| {
            let pool = pool.clone();
            let mut released = released.clone();
            tokio::spawn(async move {
                let conn = pool.timed_get().await.expect("a connection");
                released.wait_for(|r| *r).await.expect("the test releases");
                drop(conn);
            })
        })
        .collect();

    // Two gets return (each wait counted as it ends), three queue.
    let busy = scrape_until("two connections used and three callers queued", |text| {
        connections(text, name) == (Some(2.0), Some(0.0), Some(3.0))
            && wait_series(text, name, "count") == Some(2.0)
    })
    .await;
    assert_eq!(connections(&busy, name), (Some(2.0), Some(0.0), Some(3.0)));

    tokio::time::sleep(HOLD).await;
    release.send(true).expect("callers listen");
    for caller in callers {
        caller.await.expect("the caller finished");
    }

    let rest = obs_runtime::encode_text();
    assert_eq!(connections(&rest, name), (Some(0.0), Some(2.0), Some(0.0)));
    assert_eq!(wait_series(&rest, name, "count"), Some(5.0));
    let hold = HOLD.as_secs_f64();
    let sum = wait_series(&rest, name, "sum").expect("a sum");
    assert!(
        sum >= 3.0 * hold,
        "three callers waited at least {hold}s each, sum {sum}"
    );
    // The three queued waits are above 0.25 s: at most the two immediate
    // gets fall in the 0.1 s bucket.
    let fast = wait_bucket(&rest, name, "0.1").expect("the 0.1 bucket");
    assert!(fast <= 2.0, "{fast} waits under 0.1 s");
    assert_eq!(wait_bucket(&rest, name, "+Inf"), Some(5.0));
}

fn postgres_pool(port: u16, max: usize) -> deadpool_postgres::Pool {
    let mut config = deadpool_postgres::Config::new();
    config.host = Some("127.0.0.1".to_owned());
    config.port = Some(port);
    config.user = Some("postgres".to_owned());
    config.dbname = Some("postgres".to_owned());
    config.pool = Some(deadpool_postgres::PoolConfig::new(max));
    config
        .create_pool(Some(deadpool_postgres::Runtime::Tokio1), NoTls)
        .expect("postgres pool")
}

fn redis_pool(port: u16, max: usize) -> deadpool_redis::Pool {
    let mut config = deadpool_redis::Config::from_url(format!("redis://127.0.0.1:{port}"));
    config.pool = Some(deadpool_redis::PoolConfig::new(max));
    config
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .expect("redis pool")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pool_of_two_with_five_callers() {
    let pg = servers::Postgres::start();
    let pool = postgres_pool(pg.port, 2);
    five_callers_on_two_connections(pool.clone(), "pg_main").await;
    // The connections are real: they answer a query.
    let client = pool.timed_get().await.expect("a connection");
    client.simple_query("SELECT 1").await.expect("SELECT 1");
    drop(client);
    assert_eq!(
        wait_series(&obs_runtime::encode_text(), "pg_main", "count"),
        Some(6.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_pool_of_two_with_five_callers() {
    let server = servers::Redis::start();
    let pool = redis_pool(server.port, 2);
    five_callers_on_two_connections(pool.clone(), "redis_busy").await;
    assert_eq!(redis_connected("redis_busy"), Some(1.0));

    // A caller that gives up waiting still waited: its wait is counted
    // when its get is dropped, and it says nothing of the server.
    let held = (pool.timed_get().await, pool.timed_get().await);
    let gave_up = tokio::time::timeout(Duration::from_millis(100), pool.timed_get()).await;
    assert!(gave_up.is_err(), "both connections are held");
    let text = obs_runtime::encode_text();
    assert_eq!(wait_series(&text, "redis_busy", "count"), Some(8.0));
    assert!(
        wait_series(&text, "redis_busy", "sum").expect("a sum") >= 0.1 + 3.0 * HOLD.as_secs_f64()
    );
    assert_eq!(redis_connected("redis_busy"), Some(1.0));
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_connected_follows_the_server() {
    let mut server = servers::Redis::start();
    let pool = redis_pool(server.port, 2);
    // Registered outside a runtime: no first PING, so nothing is known yet
    // and the series is absent rather than a guess.
    let registering = pool.clone();
    std::thread::spawn(move || pools::register("redis_cache", registering))
        .join()
        .expect("the thread ran")
        .expect("register");
    assert_eq!(redis_connected("redis_cache"), None);

    // A timed get reaches the server.
    let mut conn = pool.timed_get().await.expect("a connection");
    let pong: String = deadpool_redis::redis::cmd("PING")
        .query_async(&mut conn)
        .await
        .expect("PONG");
    assert_eq!(pong, "PONG");
    drop(conn);
    assert_eq!(redis_connected("redis_cache"), Some(1.0));

    // The server dies: the Redis health check says so.
    server.stop();
    assert!(health::redis(&pool).await.is_err());
    assert_eq!(redis_connected("redis_cache"), Some(0.0));
    // A timed get fails and keeps it at 0; its wait is counted.
    assert!(pool.timed_get().await.is_err());
    assert_eq!(redis_connected("redis_cache"), Some(0.0));
    let text = obs_runtime::encode_text();
    assert_eq!(wait_series(&text, "redis_cache", "count"), Some(2.0));
    // The pool itself is still read: nothing open, nothing waiting.
    assert_eq!(
        connections(&text, "redis_cache"),
        (Some(0.0), Some(0.0), Some(0.0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_on_a_closed_port_reads_disconnected_from_registration() {
    let closed = servers::free_port();
    // Registered inside the runtime: the first PING fails at once.
    pools::register("redis_nowhere", redis_pool(closed, 2)).expect("register");
    scrape_until("redis_connected 0 for a closed port", |text| {
        sample(text, r#"redis_connected{pool_name="redis_nowhere"}"#) == Some(0.0)
    })
    .await;
}

#[test]
fn registration_refuses_bad_names_duplicates_and_the_same_pool_twice() {
    // Pools are created lazily: no server is needed to register one.
    let pool = postgres_pool(servers::free_port(), 2);
    let invalid = pools::register("postgres://app:hunter2@db/orders", pool.clone())
        .expect_err("a URL is no pool name");
    assert!(matches!(invalid, RegisterError::InvalidName { .. }));
    assert!(
        !invalid.to_string().contains("hunter2"),
        "the error repeats no secret: {invalid}"
    );
    assert!(matches!(
        pools::register("main db", pool.clone()),
        Err(RegisterError::InvalidName { .. })
    ));

    pools::register("pg_refusals", pool.clone()).expect("a good name");
    let other = postgres_pool(servers::free_port(), 2);
    let duplicate = pools::register("pg_refusals", other.clone()).expect_err("a taken name");
    assert_eq!(
        duplicate,
        RegisterError::Duplicate("pg_refusals".to_owned())
    );
    assert!(duplicate.to_string().contains("registered already"));
    let twice = pools::register("pg_refusals_again", pool.clone()).expect_err("the same pool");
    assert_eq!(
        twice,
        RegisterError::AlreadyRegistered("pg_refusals".to_owned())
    );
    // Another pool may take the name once the first is unregistered.
    assert!(pools::unregister("pg_refusals"));
    pools::register("pg_refusals", other).expect("the name is free again");
    pools::register("pg_refusals_again", pool).expect("the pool is free again");
}

#[test]
fn a_pool_whose_status_panics_is_left_out_and_the_scrape_goes_on() {
    pools::register(
        "broken_pool",
        pools::from_fn(|| -> PoolSnapshot { panic!("status of a broken pool") }),
    )
    .expect("register");
    pools::register(
        "fine_pool",
        pools::from_fn(|| PoolSnapshot::new(3, 1, 2, 0)),
    )
    .expect("register");
    let text = obs_runtime::encode_text();
    assert!(!text.contains(r#"pool_name="broken_pool",state="#));
    assert_eq!(
        connections(&text, "fine_pool"),
        (Some(2.0), Some(1.0), Some(0.0))
    );
    // The wait histogram of the broken pool is still there, at zero.
    assert_eq!(wait_series(&text, "broken_pool", "count"), Some(0.0));
}
