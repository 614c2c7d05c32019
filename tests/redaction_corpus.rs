//! Redaction against generated corpora: over a thousand secrets and personal
//! data of every kind `obs_runtime::redact` detects, embedded in log
//! messages and in ordinary fields, must never reach `redact`'s output nor
//! the JSON or console log lines; a thousand ordinary log messages must come
//! out (nearly) unchanged; a message can't forge a log line.
//!
//! The corpora come from a fixed-seed xorshift generator, so every run
//! checks the same strings and a failure reproduces.

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::cell::Cell;

use obs_runtime::redact::redact;

const PII_SAMPLES: usize = 1_500;
const CLEAN_SAMPLES: usize = 1_500;

// ---------------------------------------------------------------------------
// Allocation counting: `redact` must not allocate when nothing matched.

struct CountingAlloc;

thread_local! {
    // Per thread, so that tests running in parallel don't count each other.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: defers every operation to the system allocator; the counter is a
// const-initialized thread local without destructor, which never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// ---------------------------------------------------------------------------
// Deterministic generator

/// xorshift64*: small, fast and good enough to vary test data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() >> 33).unwrap() % n
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }

    fn string_of(&mut self, set: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| char::from(set[self.below(set.len())]))
            .collect()
    }

    fn digits(&mut self, n: usize) -> String {
        self.string_of(DIGITS, n)
    }

    fn digit_in(&mut self, lo: u8, hi: u8) -> char {
        char::from(b'0' + lo + u8::try_from(self.below(usize::from(hi - lo) + 1)).unwrap())
    }
}

const DIGITS: &[u8] = b"0123456789";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdef";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const TOKEN68: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/";
const BASE64URL: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
const URL_SAFE: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~";
const PASSWORD: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$*-_~%^(+)";

fn base64(data: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(
                alphabet[usize::try_from((n >> (18 - 6 * i)) & 63).unwrap()],
            ));
        }
        if pad {
            out.extend(std::iter::repeat_n('=', 3 - chunk.len()));
        }
    }
    out
}

const STD_B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn luhn_sum(digits: &[u8], double_first: bool) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d - b'0');
            if (i % 2 == 0) == double_first {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum()
}

fn luhn_valid(digits: &str) -> bool {
    luhn_sum(digits.as_bytes(), false).is_multiple_of(10)
}

// ---------------------------------------------------------------------------
// Secrets and personal data

/// One generated secret: its text, and the strings that must not survive
/// redaction (the whole, and its telling parts).
struct Pii {
    kind: &'static str,
    text: String,
    needles: Vec<String>,
    /// For numbers: these last digits must not survive either, even with
    /// the punctuation changed.
    tail_digits: Option<String>,
}

impl Pii {
    fn new(kind: &'static str, text: String) -> Self {
        Self {
            kind,
            needles: vec![text.clone()],
            text,
            tail_digits: None,
        }
    }

    fn needle(mut self, needle: &str) -> Self {
        self.needles.push(needle.to_owned());
        self
    }

    fn number(mut self, keep: usize) -> Self {
        let digits: String = self.text.chars().filter(char::is_ascii_digit).collect();
        self.tail_digits = Some(digits[digits.len() - keep..].to_owned());
        self
    }

    /// The needle found in `output`, if any survived.
    fn survivor(&self, output: &str) -> Option<String> {
        if let Some(n) = self.needles.iter().find(|n| output.contains(n.as_str())) {
            return Some(n.clone());
        }
        let tail = self.tail_digits.as_ref()?;
        let digits: String = output.chars().filter(char::is_ascii_digit).collect();
        digits.contains(tail.as_str()).then(|| tail.clone())
    }
}

const NAMES: &[&str] = &[
    "ada", "grace", "alan", "edsger", "barbara", "ken", "margaret", "linus", "jörg", "zoë", "søren",
];

fn email(r: &mut Rng) -> Pii {
    let name = r.pick(NAMES);
    let other = r.pick(NAMES);
    let local = match r.below(8) {
        0 => name.to_owned(),
        1 => format!("{name}.{other}"),
        2 => format!("{name}+{}", r.string_of(LOWER, 5)),
        3 => format!("{name}_{}", r.digits(3)),
        4 => format!("{}.{other}-{}", &name[..1], r.digits(2)),
        5 => format!("o'{other}{}", r.digits(2)),
        6 => name.to_uppercase(),
        _ => format!("{}{}", r.string_of(LOWER, 6), r.digits(4)),
    };
    let domain = r.pick(&[
        "example.com",
        "mail.example.co.uk",
        "sub-domain.example.org",
        "example.technology",
        "müller.example.de",
        "xn--bcher-kva.example",
        "corp.example.io",
        "EXAMPLE.NET",
    ]);
    let address = format!("{local}@{domain}");
    Pii::new("email", address)
        .needle(&format!("{local}@"))
        .needle(&format!("@{domain}"))
}

fn card(r: &mut Rng) -> Pii {
    // (prefix, length, grouping after the first 4 digits: 0 = by 4, 6 = 4-6-rest)
    let (prefix, len, grouping) = match r.below(9) {
        0 => ("4", [13, 16, 19][r.below(3)], 0),
        1 => (r.pick(&["51", "52", "53", "54", "55"]), 16, 0),
        2 => (r.pick(&["2221", "2500", "2720"]), 16, 0),
        3 => (r.pick(&["34", "37"]), 15, 6),
        4 => (r.pick(&["6011", "65"]), r.range(16, 19), 0),
        5 => (r.pick(&["3528", "3566", "3589"]), r.range(16, 19), 0),
        6 => (r.pick(&["36", "38", "300", "305"]), 14, 6),
        7 => ("62", r.range(16, 19), 0),
        _ => (r.pick(&["5018", "6759"]), r.range(13, 19), 0),
    };
    let mut digits = prefix.to_owned();
    digits.push_str(&r.digits(len - 1 - prefix.len()));
    let check = (10 - luhn_sum(digits.as_bytes(), true) % 10) % 10;
    digits.push(char::from_digit(check, 10).unwrap());
    assert!(luhn_valid(&digits), "{digits}");
    let text = match r.below(3) {
        0 => digits.clone(),
        n => {
            let sep = if n == 1 { " " } else { "-" };
            let groups: Vec<&str> = if grouping == 6 {
                vec![&digits[..4], &digits[4..10], &digits[10..]]
            } else {
                (0..len)
                    .step_by(4)
                    .map(|at| &digits[at..(at + 4).min(len)])
                    .collect()
            };
            groups.join(sep)
        }
    };
    Pii::new("card", text).needle(&digits).number(8)
}

fn ssn(r: &mut Rng) -> Pii {
    let area = loop {
        let a = r.range(1, 899);
        if a != 666 {
            break a;
        }
    };
    let text = format!("{area:03}-{:02}-{:04}", r.range(1, 99), r.range(1, 9999));
    Pii::new("ssn", text).number(6)
}

fn phone(r: &mut Rng) -> Pii {
    let area = format!("{}{}", r.digit_in(2, 9), r.digits(2));
    let exchange = format!("{}{}", r.digit_in(2, 9), r.digits(2));
    let line = r.digits(4);
    let (a, e, l) = (&area, &exchange, &line);
    let (berlin, bare) = (r.range(6, 8), r.range(8, 13));
    let text = match r.below(20) {
        0 => format!("+1{a}{e}{l}"),
        1 => format!("+1 {a} {e} {l}"),
        2 => format!("+1-{a}-{e}-{l}"),
        3 => format!("+1 ({a}) {e}-{l}"),
        4 => format!("+1.{a}.{e}.{l}"),
        5 => format!("({a}) {e}-{l}"),
        6 => format!("({a}){e}-{l}"),
        7 => format!("{a}-{e}-{l}"),
        8 => format!("{a}.{e}.{l}"),
        9 => format!("1-{a}-{e}-{l}"),
        10 => format!("+44 20 {} {}", r.digits(4), r.digits(4)),
        11 => format!("+44 7{} {}", r.digits(3), r.digits(6)),
        12 => format!("+49 30 {}", r.digits(berlin)),
        13 => format!(
            "+33 {} {} {} {} {}",
            r.digit_in(1, 9),
            r.digits(2),
            r.digits(2),
            r.digits(2),
            r.digits(2)
        ),
        14 => format!("+81 3-{}-{}", r.digits(4), r.digits(4)),
        15 => format!("+61 2 {} {}", r.digits(4), r.digits(4)),
        16 => format!("+91 {}{} {}", r.digit_in(6, 9), r.digits(4), r.digits(5)),
        17 => format!("+55 11 9{}-{}", r.digits(4), r.digits(4)),
        18 => format!("+44 (0)20 {} {}", r.digits(4), r.digits(4)),
        _ => format!("+{}{}", r.digit_in(1, 9), r.digits(bare)),
    };
    Pii::new("phone", text).number(7)
}

fn jwt(r: &mut Rng) -> (String, String) {
    let header = r.pick(&[
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"RS256","kid":"k1"}"#,
        r#"{"typ":"JWT","alg":"ES256"}"#,
    ]);
    let payload = format!(
        r#"{{"sub":"{}","iat":{},"email":"{}@example.com"}}"#,
        r.string_of(ALNUM, 12),
        1_700_000_000 + r.below(100_000_000),
        r.pick(NAMES)
    );
    let signature = r.string_of(BASE64URL, 43);
    let payload = base64(payload.as_bytes(), URL_B64, false);
    let token = format!(
        "{}.{payload}.{signature}",
        base64(header.as_bytes(), URL_B64, false)
    );
    (token, signature)
}

fn jwt_pii(r: &mut Rng) -> Pii {
    let (token, signature) = jwt(r);
    let payload = token.split('.').nth(1).unwrap().to_owned();
    Pii::new("jwt", token).needle(&signature).needle(&payload)
}

fn bearer(r: &mut Rng) -> Pii {
    let scheme = r.pick(&["Bearer", "bearer", "BEARER"]);
    let (token, extra) = if r.below(4) == 0 {
        jwt(r)
    } else {
        let n = r.range(20, 48);
        (r.string_of(TOKEN68, n), String::new())
    };
    let pii = Pii::new("bearer", format!("{scheme} {token}")).needle(&token);
    if extra.is_empty() {
        pii
    } else {
        pii.needle(&extra)
    }
}

fn basic(r: &mut Rng) -> Pii {
    let n = r.range(8, 20);
    let credentials = format!("{}:{}", r.pick(NAMES), r.string_of(PASSWORD, n));
    let encoded = base64(credentials.as_bytes(), STD_B64, true);
    Pii::new("basic", format!("Basic {encoded}")).needle(&encoded)
}

fn aws_key(r: &mut Rng) -> Pii {
    let key = format!(
        "{}{}",
        r.pick(&["AKIA", "ASIA"]),
        r.string_of(UPPER_ALNUM, 16)
    );
    Pii::new("aws_key", key)
}

fn url_credentials(r: &mut Rng) -> Pii {
    let scheme = r.pick(&[
        "postgres",
        "mysql",
        "redis",
        "amqp",
        "https",
        "mongodb+srv",
        "ftp",
    ]);
    let host = r.pick(&[
        "db-3.internal.example.com:5432/app",
        "cache:6379/0",
        "example.com/path?q=1",
        "mq.example.net",
    ]);
    let n = r.range(10, 20);
    let password = r.string_of(PASSWORD, n);
    let user = if r.below(5) == 0 {
        String::new()
    } else {
        format!("{}{}", r.pick(NAMES), r.digits(2))
    };
    let userinfo = format!("{user}:{password}");
    Pii::new("url_credentials", format!("{scheme}://{userinfo}@{host}"))
        .needle(&userinfo)
        .needle(&password)
}

fn query_parameter(r: &mut Rng) -> Pii {
    let name = r.pick(&[
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "password",
        "client_secret",
        "session_id",
        "auth",
        "X-Amz-Security-Token",
        "sessionToken",
    ]);
    let n = r.range(12, 40);
    let value = r.string_of(URL_SAFE, n);
    let base = r.pick(&[
        "https://api.example.com/v1/callback",
        "http://localhost:8080/login",
        "/oauth/authorize",
        "wss://stream.example.com/ws",
    ]);
    let text = match r.below(3) {
        0 => format!("{base}?{name}={value}"),
        1 => format!("{base}?page={}&{name}={value}", r.range(1, 9)),
        _ => format!("{base}?state=xyz&{name}={value}&limit=50#top"),
    };
    Pii::new("query_parameter", text).needle(&value)
}

fn key_value(r: &mut Rng) -> Pii {
    let n = r.range(8, 24);
    let secret = r.string_of(PASSWORD, n);
    let user = r.pick(NAMES);
    let text = match r.below(5) {
        0 => format!("user={user} password={secret}"),
        1 => format!(r#"{{"user":"{user}","password":"{secret}","attempt":2}}"#),
        2 => format!(r#"Credentials {{ user: "{user}", api_key: "{secret}" }}"#),
        3 => format!("Cookie: session={secret}; theme=dark"),
        _ => format!(r#"Config {{ db_password: Some("{secret}"), pool: 8 }}"#),
    };
    // The whole text contains the user name, which is fine to keep.
    let mut pii = Pii::new("key_value", text);
    pii.needles = vec![secret];
    pii
}

const GENERATORS: &[fn(&mut Rng) -> Pii] = &[
    email,
    card,
    ssn,
    phone,
    jwt_pii,
    bearer,
    basic,
    aws_key,
    url_credentials,
    query_parameter,
    key_value,
];

const TEMPLATES: &[&str] = &[
    "contact {} updated",
    "failed to deliver to <{}>: mailbox full",
    "payload: {}.",
    "retrying request for ({}) after timeout",
    "{}",
    "customer={} status=active",
    "note: \"{}\"",
    "→{}←",
    "顧客: {}。",
    "[worker-3] processing {} now",
    "value '{}' rejected",
    "{} | next step",
    "upstream said: {}, giving up",
];

/// The samples: each secret, a log message embedding it, and the value of
/// an ordinary field carrying it (bare or in a sentence).
fn pii_corpus() -> Vec<(Pii, String, String)> {
    let mut r = Rng::new(0x0b5e_55ed_c0ff_ee11);
    (0..PII_SAMPLES)
        .map(|i| {
            let pii = GENERATORS[i % GENERATORS.len()](&mut r);
            let message = r.pick(TEMPLATES).replace("{}", &pii.text);
            let field = if r.below(2) == 0 {
                pii.text.clone()
            } else {
                r.pick(TEMPLATES).replace("{}", &pii.text)
            };
            (pii, message, field)
        })
        .collect()
}

/// Checks every sample's outputs; returns the number of leaks, printing the
/// first few.
fn count_leaks<'a>(
    samples: &[(Pii, String, String)],
    outputs: impl Iterator<Item = (usize, &'a str)>,
) -> usize {
    let mut leaks = 0;
    for (i, output) in outputs {
        let pii = &samples[i].0;
        if let Some(needle) = pii.survivor(output) {
            leaks += 1;
            if leaks <= 10 {
                eprintln!("LEAK [{}] {needle:?} in {output:?}", pii.kind);
            }
        }
    }
    leaks
}

#[test]
fn pii_corpus_covers_every_detector() {
    let samples = pii_corpus();
    assert!(samples.len() >= 1_000);
    for kind in [
        "email",
        "card",
        "ssn",
        "phone",
        "jwt",
        "bearer",
        "basic",
        "aws_key",
        "url_credentials",
        "query_parameter",
        "key_value",
    ] {
        let n = samples.iter().filter(|s| s.0.kind == kind).count();
        assert!(n >= 100, "{kind}: {n} samples");
    }
}

#[test]
fn pii_never_survives_redact() {
    let samples = pii_corpus();
    let redacted: Vec<(String, String)> = samples
        .iter()
        .map(|(_, m, f)| (redact(m).into_owned(), redact(f).into_owned()))
        .collect();
    let leaks = count_leaks(
        &samples,
        redacted
            .iter()
            .enumerate()
            .map(|(i, (m, _))| (i, m.as_str())),
    ) + count_leaks(
        &samples,
        redacted
            .iter()
            .enumerate()
            .map(|(i, (_, f))| (i, f.as_str())),
    );
    eprintln!(
        "redact: {} PII samples in messages and fields, {leaks} survived",
        samples.len()
    );
    assert_eq!(leaks, 0);
    // Redacting twice changes nothing more.
    for (m, f) in &redacted {
        assert_eq!(redact(m), m.as_str());
        assert_eq!(redact(f), f.as_str());
    }
}

// ---------------------------------------------------------------------------
// Ordinary log messages

fn uuid(r: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-{}{}-{}",
        r.string_of(HEX, 8),
        r.string_of(HEX, 4),
        r.string_of(HEX, 3),
        r.pick(&["8", "9", "a", "b"]),
        r.string_of(HEX, 3),
        r.string_of(HEX, 12)
    )
}

fn timestamp(r: &mut Rng) -> String {
    let date = format!(
        "20{:02}-{:02}-{:02}",
        r.range(20, 30),
        r.range(1, 12),
        r.range(1, 28)
    );
    let time = format!("{:02}:{:02}:{:02}", r.below(24), r.below(60), r.below(60));
    match r.below(4) {
        0 => format!("{date}T{time}Z"),
        1 => format!("{date}T{time}.{}Z", r.digits(6)),
        2 => format!("{date}T{time}+{:02}:00", r.range(1, 12)),
        _ => format!("{date} {time}.{}", r.digits(3)),
    }
}

/// An order number that is not a valid card number.
fn order_number(r: &mut Rng) -> String {
    let len = r.range(5, 19);
    let mut n = format!("{}{}", r.digit_in(1, 9), r.digits(len - 1));
    if len >= 13 && luhn_valid(&n) {
        let last = n.pop().unwrap();
        n.push(if last == '9' {
            '0'
        } else {
            char::from(u8::try_from(last).unwrap() + 1)
        });
    }
    n
}

fn duration(r: &mut Rng) -> String {
    match r.below(5) {
        0 => format!("{}ms", r.range(1, 99_999)),
        1 => format!("{}.{}s", r.below(60), r.digits(3)),
        2 => format!("{}m{}s", r.below(60), r.below(60)),
        3 => format!("{}µs", r.range(1, 999)),
        _ => format!("{}h{:02}m", r.below(48), r.below(60)),
    }
}

fn clean_message(r: &mut Rng) -> String {
    match r.below(26) {
        0 => format!(
            "release v{}.{}.{} deployed",
            r.below(10),
            r.below(40),
            r.below(200)
        ),
        1 => format!(
            "upgraded serde from 1.0.{} to 1.0.{}",
            r.below(230),
            r.below(230)
        ),
        2 => format!("request {} completed in {}", uuid(r), duration(r)),
        3 => format!("job started at {}", timestamp(r)),
        4 => format!(
            "order {} shipped in {} parcels",
            order_number(r),
            r.range(1, 9)
        ),
        5 => format!(
            "processed {} records in {}",
            r.range(1, 9_999_999),
            duration(r)
        ),
        6 => format!(
            "GET /api/v1/users/{}/orders?page={}&limit={} -> 200",
            r.range(1, 999_999),
            r.below(50),
            r.range(10, 100)
        ),
        7 => format!(
            "fetching https://api.example.com/v2/items/{}?include=owner&sort=-created_at",
            r.range(1, 99_999_999)
        ),
        8 => format!("listening on localhost:{}", r.range(1024, 65_535)),
        9 => format!(
            "commit {} built, artifact sha256:{}",
            r.string_of(HEX, 40),
            r.string_of(HEX, 64)
        ),
        10 => format!(
            "cache hit ratio {}.{}% over {} lookups",
            r.below(100),
            r.below(100),
            r.range(1, 50_000_000)
        ),
        11 => format!(
            "epoch_ms=17{} latency_ns={}",
            r.digits(11),
            r.range(1_000, 999_999_999)
        ),
        12 => format!(
            "window {:02}:{:02}-{:02}:{:02} on {}",
            r.below(24),
            r.below(60),
            r.below(24),
            r.below(60),
            timestamp(r)
        ),
        13 => format!(
            "retrying in {} (attempt {}/{})",
            duration(r),
            r.range(1, 5),
            5
        ),
        14 => format!(
            "user {} logged in from region eu-west-{}",
            r.pick(NAMES),
            r.range(1, 3)
        ),
        15 => format!(
            "trace_id={} span_id={}",
            r.string_of(HEX, 32),
            r.string_of(HEX, 16)
        ),
        16 => format!(
            "bytes_sent={} bytes_received={}",
            r.range(0, 4_000_000_000),
            r.range(0, 4_000_000_000)
        ),
        17 => format!(
            "SELECT * FROM orders WHERE id = {} LIMIT 50",
            order_number(r)
        ),
        18 => format!(
            "version {}.{}.{}-rc.{}+build.{}",
            r.below(5),
            r.below(20),
            r.below(10),
            r.range(1, 9),
            r.digits(8)
        ),
        19 => format!(
            "invoice INV-{}-{:06} due {}",
            r.range(2020, 2030),
            r.below(1_000_000),
            timestamp(r)
        ),
        20 => format!(
            "plan=basic tier={} seats={}",
            r.pick(&["gold", "free"]),
            r.range(1, 500)
        ),
        21 => format!(
            "the bearer token for client {} was rotated after {}",
            r.pick(NAMES),
            duration(r)
        ),
        22 => format!(
            "rate limited: {} requests per {}s, queue depth {}",
            r.range(100, 10_000),
            r.range(1, 60),
            r.range(0, 99_999)
        ),
        23 => format!(
            "ISBN 978-{}-{}-{}-{}",
            r.digit_in(0, 9),
            r.digits(2),
            r.digits(6),
            r.digit_in(0, 9)
        ),
        24 => format!(
            "resize {}x{} -> {}x{} took {}",
            r.range(1, 8_000),
            r.range(1, 8_000),
            r.range(1, 4_000),
            r.range(1, 4_000),
            duration(r)
        ),
        _ => format!(
            "checksum crc32={} md5={} for {}.tar.gz",
            r.string_of(HEX, 8),
            r.string_of(HEX, 32),
            r.string_of(LOWER, 8)
        ),
    }
}

#[test]
fn clean_corpus_is_left_alone() {
    let mut r = Rng::new(0x5eed_1e55_c1ea_4e55);
    let messages: Vec<String> = (0..CLEAN_SAMPLES).map(|_| clean_message(&mut r)).collect();
    let mut changed = 0;
    for message in &messages {
        let before = allocations();
        let out = redact(message);
        let allocated = allocations() - before;
        match out {
            Cow::Borrowed(same) => {
                assert_eq!(same, message.as_str());
                assert_eq!(allocated, 0, "redact allocated for unchanged {message:?}");
            }
            Cow::Owned(other) => {
                changed += 1;
                eprintln!("changed: {message:?} -> {other:?}");
            }
        }
    }
    let rate = changed as f64 / messages.len() as f64;
    eprintln!(
        "clean corpus: {changed} of {} messages changed, false-positive rate {:.3}%",
        messages.len(),
        rate * 100.0
    );
    assert!(rate < 0.01, "false-positive rate {rate}");
}

// ---------------------------------------------------------------------------
// The log layer

fn log_lines(format: obs_runtime::log::LogFormat, emit: impl FnOnce()) -> Vec<String> {
    use tracing_subscriber::layer::SubscriberExt as _;
    let (layer, captured) = obs_runtime::log::capture::<tracing_subscriber::Registry>(format);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, emit);
    captured.lines()
}

fn parse_json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn pii_never_reaches_logs(format: obs_runtime::log::LogFormat) {
    let samples = pii_corpus();
    let lines = log_lines(format, || {
        for (_, message, field) in &samples {
            tracing::info!(note = %field, "{}", message);
        }
    });
    assert_eq!(lines.len(), samples.len(), "one line per event");
    if format == obs_runtime::log::LogFormat::Json {
        for line in &lines {
            let json = parse_json(line);
            assert!(
                json["message"].is_string() && json["note"].is_string(),
                "{line}"
            );
        }
    }
    // The timestamp is left out of the search: its digits change from run to
    // run, and could contain the last digits of a generated number.
    let without_time: Vec<String> = lines
        .iter()
        .map(|line| match format {
            obs_runtime::log::LogFormat::Json => {
                let mut json = parse_json(line);
                json["timestamp"] = serde_json::Value::Null;
                json.to_string()
            }
            obs_runtime::log::LogFormat::Pretty => line
                .split_once(' ')
                .map_or(line.clone(), |(_, rest)| rest.to_owned()),
        })
        .collect();
    let leaks = count_leaks(
        &samples,
        without_time.iter().map(String::as_str).enumerate(),
    );
    eprintln!(
        "{format:?} log lines: {} PII samples, {leaks} survived",
        samples.len()
    );
    assert_eq!(leaks, 0);
}

#[test]
fn pii_never_reaches_json_logs() {
    pii_never_reaches_logs(obs_runtime::log::LogFormat::Json);
}

#[test]
fn pii_never_reaches_console_logs() {
    pii_never_reaches_logs(obs_runtime::log::LogFormat::Pretty);
}

#[test]
fn sensitive_field_names_are_redacted() {
    use obs_runtime::log::LogFormat;
    let emit = || {
        tracing::info!(
            password = "hunter2",
            api_key = %"k-9f8e7d6c5b4a",
            card_number = "4111 1111 1111 1111",
            user_email = "ada@example.com",
            order_id = 1234567,
            "login for {}",
            "ada"
        );
    };
    let json = log_lines(LogFormat::Json, emit);
    assert_eq!(json.len(), 1);
    let event = parse_json(&json[0]);
    for name in ["password", "api_key", "card_number", "user_email"] {
        assert_eq!(event[name], "[REDACTED]", "{name} in {event}");
    }
    assert_eq!(event["order_id"], 1_234_567);
    assert_eq!(event["message"], "login for ada");
    let pretty = log_lines(LogFormat::Pretty, emit);
    assert_eq!(pretty.len(), 1);
    for line in [&json[0], &pretty[0]] {
        // The whole card number: its first digits alone can occur in the
        // line's timestamp (`…:22.411154Z`).
        for secret in [
            "hunter2",
            "k-9f8e7d6c5b4a",
            "4111 1111 1111 1111",
            "1111 1111",
            "ada@example.com",
        ] {
            assert!(!line.contains(secret), "{secret} in {line}");
        }
    }
    assert!(
        pretty[0].contains(r#"password="[REDACTED]""#),
        "{}",
        pretty[0]
    );
}

#[test]
fn messages_cannot_forge_log_lines() {
    use obs_runtime::log::LogFormat;
    let forged = "done\n{\"level\":\"error\",\"message\":\"forged\"}\r\n\u{1b}[2J\u{2028}next";
    for format in [LogFormat::Json, LogFormat::Pretty] {
        let lines = log_lines(format, || {
            tracing::info!(note = %forged, "{}", forged);
            tracing::warn!("{}", forged);
        });
        assert_eq!(lines.len(), 2, "{format:?}: one line per event: {lines:#?}");
        for line in &lines {
            assert!(
                !line.contains("\u{1b}[2J") && !line.contains('\u{2028}'),
                "{format:?}: {line:?}"
            );
            if format == LogFormat::Json {
                assert_eq!(parse_json(line)["message"], forged);
            } else {
                assert!(
                    line.contains(
                        r#"done\n{"level":"error","message":"forged"}\r\n\u{1b}[2J\u{2028}next"#
                    ),
                    "{line}"
                );
            }
        }
    }
}
