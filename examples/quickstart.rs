//! The quickstart: annotate functions, call them, print the exposition.
//!
//! Run with `cargo run --example quickstart`.

use std::time::Duration;

use obs_runtime::instrumented;

#[derive(Debug)]
struct User {
    id: u64,
}

#[derive(Debug)]
struct DbError(&'static str);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// A database lookup: `db_query_calls_total` and `db_query_duration_seconds`,
/// labelled `table="users"`, with `ok` and `error` series from the start.
#[instrumented(metric = "db_query", buckets = "latency", labels(table = "users"))]
async fn load_user(id: u64) -> Result<User, DbError> {
    tokio::time::sleep(Duration::from_millis(3)).await;
    if id == 0 {
        Err(DbError("no user with id 0"))
    } else {
        Ok(User { id })
    }
}

/// No options: the base name is `function`, as in autometrics, so one
/// dashboard serves every function.
#[instrumented]
fn parse(input: &[u8]) -> Option<u8> {
    input.first().copied()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    for id in [1, 2, 0, 3] {
        match load_user(id).await {
            Ok(user) => eprintln!("loaded user {}", user.id),
            Err(e) => eprintln!("failed: {e}"),
        }
    }
    let _ = parse(b"obs");
    print!("{}", obs_runtime::encode_text());
}
