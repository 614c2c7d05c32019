//! `redact` runs on untrusted text (log messages, headers, span attributes),
//! so its cost must stay linear in the input whatever the input: a line of
//! a megabyte built from near-misses of one detector — a keyword without its
//! space, half an address, digit groups one short of a card — must take
//! milliseconds in release and well under the deadline in debug, must not
//! grow, and redacting the output again must change nothing.

use std::time::{Duration, Instant};

use obs_runtime::redact::redact;

/// About a megabyte of input per case.
const SIZE: usize = 1 << 20;

/// Generous: a linear scan takes milliseconds in release and well under a
/// second in debug; the quadratic scans this guards against took minutes.
const DEADLINE: Duration = Duration::from_secs(10);

/// Near-misses, per detector: repeated, none of them should be redacted
/// (or only a little), and none may make the scan go back over what it
/// already read.
const NEAR_MISSES: &[(&str, &str)] = &[
    // `Bearer`/`Basic`: the keyword without its space, or a token that
    // runs on and on.
    ("bearer", "bearer-"),
    ("bearer", "Bearer/"),
    ("bearer", "bearer."),
    ("bearer", "BEARER~"),
    ("bearer", "bearer bearer"),
    ("bearer", "Bearer ="),
    ("basic", "basic+"),
    ("basic", "Basic/"),
    ("basic", "basic basic"),
    ("basic", "basic-bearer_"),
    // E-mail: an `@` with half a local part or half a domain.
    ("email", "a@"),
    ("email", "@a."),
    ("email", "a.@"),
    ("email", "a@b-"),
    ("email", "x@y.z."),
    ("email", "a'@"),
    ("email", "é@ü"),
    // Numbers: groups one short, wrong separators, runs too long.
    ("card", "4111 "),
    ("card", "4111-"),
    ("card", "4111 1111 1111 111 "),
    ("card", "41111"),
    ("card", "4111 1111-"),
    ("ssn", "123-45-"),
    ("ssn", "123-"),
    ("phone", "+1 "),
    ("phone", "+1-"),
    ("phone", "+("),
    ("phone", "+1 ("),
    ("phone", "(415) "),
    ("phone", "415-555-"),
    ("phone", "1-415."),
    ("phone", "+12345678901234567 "),
    // JWT: a header without payload, a payload without its dot.
    ("jwt", "eyJ."),
    ("jwt", "eyJhbGciOiJIUzI1NiJ9."),
    ("jwt", "eyJhbGciOiJIUzI1NiJ9.x "),
    ("jwt", "eyJ"),
    ("jwt", ".eyJhbGciOiJIUzI1NiJ9.eyJ-"),
    // AWS: a prefix without its 16 characters.
    ("aws", "AKIA"),
    ("aws", "A"),
    ("aws", "ASIAAAAAAAAAAAAAAAA-"),
    ("aws", "AKIA1234567890ABCDEFG"),
    // URL: an authority that never reaches its `@`.
    ("url", "https://a:"),
    ("url", "://"),
    ("url", "a://b:c"),
    ("url", "https://"),
    // `name=value`: sensitive names without values, values that are
    // placeholders, keys too long to be keys.
    ("pair", "password="),
    ("pair", "token=[REDACTED],"),
    ("pair", "a=[REDACTED]/token="),
    ("pair", "="),
    (
        "pair",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=",
    ),
    ("pair", "password=."),
    // Keys that pass the sensitive-name pre-filter (`pa` starts
    // `password`) and so take the schema's full check, at the longest a
    // key may be.
    (
        "pair",
        "papapapapapapapapapapapapapapapapapapapapapapapapapapapapapapapa=",
    ),
    (
        "pair",
        "tototototototototototototototototototototototototototototototo:\"",
    ),
    // JSON and `Debug` members.
    ("member", "\"token\":null."),
    ("member", "token: Some("),
    ("member", ":\""),
    ("member", "\"a\":"),
    // Vendor API keys: prefixes without their body, bodies one short,
    // dashed words that never hold a digit.
    ("api_key", "sk-"),
    ("api_key", "sk-a"),
    ("api_key", "sk-learn-"),
    ("api_key", "ghp_"),
    ("api_key", "ghp_a-"),
    ("api_key", "github_pat_"),
    ("api_key", "xoxb-"),
    ("api_key", "sk_live_"),
    ("api_key", "AIza"),
    ("api_key", "AIza-"),
    ("api_key", "glpat-"),
    ("api_key", "npm_"),
    ("api_key", "SG."),
    ("api_key", "SG.aaaaaaaaaaaaaaaaaaaaaaaa."),
    ("api_key", "_-."),
    // PEM: headers of other blocks, headers without their dashes.
    ("private_key", "-----BEGIN "),
    ("private_key", "-----BEGIN CERTIFICATE-----"),
    ("private_key", "-----BEGIN PRIVATE KEY"),
    ("private_key", "-----END PRIVATE KEY-----"),
    ("private_key", "-"),
    // Config spellings: quotes, colons and keys without values, a key
    // that is its own value, blanks around `=` and `:`.
    ("config", "\"\""),
    ("config", "\""),
    ("config", ": "),
    ("config", ":"),
    ("config", "password:"),
    ("config", "password: "),
    ("config", "\"password\"  "),
    ("config", "a_token:"),
    ("config", "\n  password:x"),
    ("config", "\n- "),
    ("config", " = "),
    ("config", "password ="),
    ("config", "\npassword = "),
    (
        "config",
        "                                                                  :",
    ),
    ("config", "token: expired "),
    // Command-line options: names without values, values that are options.
    ("cli", "--x "),
    ("cli", "--"),
    ("cli", "--token "),
    ("cli", "--token-ttl 1 "),
    ("cli", "--no-password x "),
    ("cli", "-"),
    (
        "cli",
        "--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ",
    ),
    // Authorization: the header name without its colon, schemes without
    // credentials, auth-params without values.
    ("authorization", "authorization"),
    ("authorization", "Authorization:"),
    ("authorization", "authorization: authorization:"),
    ("authorization", "Authorization: Digest"),
    ("authorization", "Authorization: Digest ,"),
    ("authorization", "Authorization: Foo "),
    ("authorization", "a=,"),
    // IBANs: country codes and check digits without their BBAN, digit and
    // letter runs, groups that never end.
    ("iban", "DE89"),
    ("iban", "DE89 "),
    ("iban", "DE89 3704 "),
    ("iban", "DE00"),
    ("iban", "0"),
    ("iban", "A"),
    ("iban", "GB82WEST"),
    ("iban", "DE8937040044053201300 "),
    ("iban", "FR14 2004 1010 0505 0001 3M02 607 "),
    // Several detectors at once.
    ("mixed", "bearer-a@1=eyJ:AKIA+1 "),
    ("mixed", "password:password:"),
    ("mixed", "password=bearer-"),
    ("mixed", "https://bearer-a/"),
];

/// The input for one case: `unit` repeated to about [`SIZE`] bytes.
fn repeated(unit: &str) -> String {
    unit.repeat(SIZE / unit.len())
}

/// Redacts `text` once and again, checking the time, the growth and that
/// the second pass changes nothing.
fn check(kind: &str, unit: &str, text: &str, max_growth: impl Fn(usize) -> usize) {
    let start = Instant::now();
    let once = redact(text);
    let took = start.elapsed();
    eprintln!("{kind} {unit:?}: {} bytes in {took:?}", text.len());
    assert!(
        took < DEADLINE,
        "{kind} {unit:?}: {} bytes took {took:?}",
        text.len()
    );
    assert!(
        once.len() <= max_growth(text.len()),
        "{kind} {unit:?}: {} bytes became {}",
        text.len(),
        once.len()
    );
    let start = Instant::now();
    let twice = redact(&once);
    let took = start.elapsed();
    assert!(
        took < DEADLINE,
        "{kind} {unit:?}: the second pass took {took:?}"
    );
    assert!(
        twice == once,
        "{kind} {unit:?}: redacting again changed the output"
    );
}

#[test]
fn near_misses_take_linear_time_and_do_not_grow() {
    for &(kind, unit) in NEAR_MISSES {
        check(kind, unit, &repeated(unit), |n| n + 64);
    }
}

/// Each near-miss after one real match: the scan must not stop or go back
/// after a hit either. A quarter of the size keeps the suite quick and is
/// still far over the deadline for a quadratic scan: the old `bearer`
/// scan took 2.1 s on 128 KB of `bearer-` in a release build, 8 s on 256 KB
/// by its square law, and debug builds are several times slower.
#[test]
fn near_misses_after_a_match_take_linear_time() {
    for &(kind, unit) in NEAR_MISSES {
        let near_misses = unit.repeat(SIZE / 4 / unit.len());
        let text = format!("Bearer 9f8e7d6c5b4a ada@example.com {near_misses}");
        check(kind, unit, &text, |n| n + 64);
    }
}

/// Matches packed as densely as possible: each placeholder may be longer
/// than what it hides, so the output may grow, but by a bounded factor.
#[test]
fn dense_matches_take_linear_time_and_grow_boundedly() {
    for (kind, unit) in [
        ("url", "x://a@"),
        ("pair", "cvv=1&"),
        ("member", "\"token\": \"a\","),
        // The value of each member is the next member's key.
        ("member", "\"token\": "),
        ("member", "\"token\":"),
        ("url", "https://bearer-a@"),
        ("email", "a@b.co "),
        ("bearer", "Bearer 1a2b3c4d "),
        ("phone", "+14155552671 "),
        ("card", "4111111111111111 "),
        ("aws", "AKIAIOSFODNN7EXAMPLE "),
        ("api_key", "ghp_16C7e42F292c6912E7710c838347Ae178B4a "),
        (
            "api_key",
            "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 ",
        ),
        (
            "private_key",
            "-----BEGIN PRIVATE KEY-----x-----END PRIVATE KEY-----",
        ),
        ("private_key", "-----BEGIN PRIVATE KEY-----"),
        ("config", "password: a\n"),
        // Each value is the next key.
        ("config", "'password':"),
        ("config", "\"password\" :"),
        ("authorization", "Authorization: Digest a=,a=,"),
        ("mixed", "--token=--token "),
        ("mixed", "Authorization: Digest password: DE89 --token "),
        ("config", "{'token': 'a', "),
        ("config", "\"token\" : \"a\", "),
        ("config", "X-Api-Key: a1 "),
        ("config", "\ntoken = a"),
        ("cli", "--token a "),
        ("authorization", "Authorization: Token a "),
        ("authorization", "Authorization: Digest a=\"b\", c=d "),
        ("iban", "DE89370400440532013000 "),
        ("iban", "DE89 3704 0044 0532 0130 00 "),
    ] {
        check(kind, unit, &repeated(unit), |n| 3 * n + 64);
    }
}
