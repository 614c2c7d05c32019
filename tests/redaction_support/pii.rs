//! Generated secrets and personal data of every kind
//! `obs_runtime::redact` detects, and the check that none survived: shared by
//! the tests that redact log lines (`redaction_corpus.rs`) and exported
//! spans (`telemetry_redaction.rs`).
//!
//! The corpus comes from a fixed-seed xorshift generator, so every run
//! checks the same strings and a failure reproduces.

#![allow(dead_code)]

pub const PII_SAMPLES: usize = 2_000;

// ---------------------------------------------------------------------------
// Deterministic generator

/// xorshift64*: small, fast and good enough to vary test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() >> 33).unwrap() % n
    }

    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }

    pub fn string_of(&mut self, set: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| char::from(set[self.below(set.len())]))
            .collect()
    }

    pub fn digits(&mut self, n: usize) -> String {
        self.string_of(DIGITS, n)
    }

    pub fn digit_in(&mut self, lo: u8, hi: u8) -> char {
        char::from(b'0' + lo + u8::try_from(self.below(usize::from(hi - lo) + 1)).unwrap())
    }
}

pub const DIGITS: &[u8] = b"0123456789";
pub const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
pub const HEX: &[u8] = b"0123456789abcdef";
pub const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const TOKEN68: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/";
pub const BASE64URL: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
pub const URL_SAFE: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~";
pub const PASSWORD: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$*-_~%^(+)";

pub fn base64(data: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
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

pub const STD_B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const URL_B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub fn luhn_sum(digits: &[u8], double_first: bool) -> u32 {
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

pub fn luhn_valid(digits: &str) -> bool {
    luhn_sum(digits.as_bytes(), false).is_multiple_of(10)
}

// ---------------------------------------------------------------------------
// Secrets and personal data

/// One generated secret: its text, and the strings that must not survive
/// redaction (the whole, and its telling parts).
pub struct Pii {
    pub kind: &'static str,
    pub text: String,
    pub needles: Vec<String>,
    /// For numbers: these last digits must not survive either, even with
    /// the punctuation changed.
    pub tail_digits: Option<String>,
}

impl Pii {
    pub fn new(kind: &'static str, text: String) -> Self {
        Self {
            kind,
            needles: vec![text.clone()],
            text,
            tail_digits: None,
        }
    }

    pub fn needle(mut self, needle: &str) -> Self {
        self.needles.push(needle.to_owned());
        self
    }

    pub fn number(mut self, keep: usize) -> Self {
        let digits: String = self.text.chars().filter(char::is_ascii_digit).collect();
        self.tail_digits = Some(digits[digits.len() - keep..].to_owned());
        self
    }

    /// The needle found in `output`, if any survived.
    pub fn survivor(&self, output: &str) -> Option<String> {
        if let Some(n) = self.needles.iter().find(|n| output.contains(n.as_str())) {
            return Some(n.clone());
        }
        let tail = self.tail_digits.as_ref()?;
        let digits: String = output.chars().filter(char::is_ascii_digit).collect();
        digits.contains(tail.as_str()).then(|| tail.clone())
    }
}

pub const NAMES: &[&str] = &[
    "ada", "grace", "alan", "edsger", "barbara", "ken", "margaret", "linus", "jörg", "zoë", "søren",
];

pub fn email(r: &mut Rng) -> Pii {
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

pub fn card(r: &mut Rng) -> Pii {
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

pub fn ssn(r: &mut Rng) -> Pii {
    let area = loop {
        let a = r.range(1, 899);
        if a != 666 {
            break a;
        }
    };
    let text = format!("{area:03}-{:02}-{:04}", r.range(1, 99), r.range(1, 9999));
    Pii::new("ssn", text).number(6)
}

pub fn phone(r: &mut Rng) -> Pii {
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

pub fn jwt(r: &mut Rng) -> (String, String) {
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

pub fn jwt_pii(r: &mut Rng) -> Pii {
    let (token, signature) = jwt(r);
    let payload = token.split('.').nth(1).unwrap().to_owned();
    Pii::new("jwt", token).needle(&signature).needle(&payload)
}

pub fn bearer(r: &mut Rng) -> Pii {
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

pub fn basic(r: &mut Rng) -> Pii {
    let n = r.range(8, 20);
    let credentials = format!("{}:{}", r.pick(NAMES), r.string_of(PASSWORD, n));
    let encoded = base64(credentials.as_bytes(), STD_B64, true);
    Pii::new("basic", format!("Basic {encoded}")).needle(&encoded)
}

pub fn aws_key(r: &mut Rng) -> Pii {
    let key = format!(
        "{}{}",
        r.pick(&["AKIA", "ASIA"]),
        r.string_of(UPPER_ALNUM, 16)
    );
    Pii::new("aws_key", key)
}

pub fn url_credentials(r: &mut Rng) -> Pii {
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

pub fn query_parameter(r: &mut Rng) -> Pii {
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

pub fn key_value(r: &mut Rng) -> Pii {
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

/// A secret shaped like a password or key, without a vendor's shape.
fn opaque_secret(r: &mut Rng) -> String {
    let n = r.range(10, 28);
    format!("{}{}", r.string_of(ALNUM, 2), r.string_of(PASSWORD, n))
}

pub fn api_key(r: &mut Rng) -> Pii {
    let key = match r.below(8) {
        0 => format!(
            "{}{}",
            r.pick(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]),
            r.string_of(ALNUM, 36)
        ),
        1 => format!("github_pat_{}", r.string_of(ALNUM, 82)),
        2 => format!(
            "{}{}-{}-{}",
            r.pick(&["xoxb-", "xoxp-", "xoxa-"]),
            r.digits(12),
            r.digits(13),
            r.string_of(ALNUM, 24)
        ),
        3 => format!(
            "{}{}",
            r.pick(&["sk_live_", "sk_test_", "rk_live_"]),
            r.string_of(ALNUM, 24)
        ),
        4 => format!("AIza{}", r.string_of(BASE64URL, 35)),
        5 => format!(
            "{}{}{}",
            r.pick(&["sk-", "sk-proj-", "sk-ant-api03-"]),
            r.digits(2),
            r.string_of(BASE64URL, 40)
        ),
        6 => format!("glpat-{}", r.string_of(ALNUM, 20)),
        _ => format!(
            "SG.{}.{}",
            r.string_of(BASE64URL, 22),
            r.string_of(BASE64URL, 43)
        ),
    };
    Pii::new("api_key", key)
}

pub fn private_key(r: &mut Rng) -> Pii {
    let label = r.pick(&["", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED "]);
    let body = base64(r.string_of(ALNUM, 48).as_bytes(), STD_B64, true);
    let newline = r.pick(&["\n", "\\n", " "]);
    let text = format!(
        "-----BEGIN {label}PRIVATE KEY-----{newline}{body}{newline}-----END {label}PRIVATE KEY-----"
    );
    Pii::new("private_key", text).needle(&body)
}

/// An IBAN of `country` with `len` characters and a BBAN from `bban`.
fn iban_of(r: &mut Rng, country: &str, bban: &str) -> String {
    // Check digits: 98 minus the remainder of BBAN + country + "00".
    let moved = format!("{bban}{country}00");
    let remainder = moved.bytes().fold(0u32, |acc, c| {
        if c.is_ascii_digit() {
            (acc * 10 + u32::from(c - b'0')) % 97
        } else {
            (acc * 100 + u32::from(c - b'A') + 10) % 97
        }
    });
    let check = 98 - remainder;
    let _ = r;
    format!("{country}{check:02}{bban}")
}

pub fn iban(r: &mut Rng) -> Pii {
    let (country, bban) = match r.below(8) {
        0 => ("DE", r.digits(18)),
        1 => (
            "GB",
            format!(
                "{}{}",
                r.string_of(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4),
                r.digits(14)
            ),
        ),
        2 => (
            "FR",
            format!(
                "{}{}{}",
                r.digits(10),
                r.string_of(UPPER_ALNUM, 11),
                r.digits(2)
            ),
        ),
        3 => (
            "NL",
            format!(
                "{}{}",
                r.string_of(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4),
                r.digits(10)
            ),
        ),
        4 => ("ES", r.digits(20)),
        5 => ("IT", format!("X{}{}", r.digits(10), r.digits(12))),
        6 => ("BE", r.digits(12)),
        _ => ("CH", r.digits(17)),
    };
    let compact = iban_of(r, country, &bban);
    let text = if r.below(2) == 0 {
        compact.clone()
    } else {
        compact
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let tail = compact[compact.len() - 8..].to_owned();
    Pii::new("iban", text).needle(&compact).needle(&tail)
}

/// Secrets in configuration spellings: YAML, spaced JSON, Python reprs,
/// INI and TOML lines, `.env` lines.
pub fn config(r: &mut Rng) -> Pii {
    let secret = opaque_secret(r);
    let key = r.pick(&[
        "password",
        "db_password",
        "api_key",
        "client_secret",
        "token",
        "secret",
        "passphrase",
        "auth_token",
    ]);
    let s = &secret;
    let text = match r.below(9) {
        0 => format!("database:\n  host: db\n  {key}: {s}\n  port: 5432"),
        1 => format!("{key}: {s}"),
        2 => format!("items:\n- {key}: {s}\n- name: ada"),
        3 => format!(r#"{{"{key}" : "{s}", "user": "ada"}}"#),
        4 => format!(r#"{{ "{key}":"{s}" }}"#),
        5 => format!("{{'{key}': '{s}', 'retries': 3}}"),
        6 => format!("[db]\n{key} = {s}\nhost = db"),
        7 => format!("{} = \"{s}\"", key),
        _ => format!("{}={s}", key.to_uppercase()),
    };
    let mut pii = Pii::new("config", text);
    pii.needles = vec![secret];
    pii
}

pub fn cli_option(r: &mut Rng) -> Pii {
    let secret = opaque_secret(r);
    let flag = r.pick(&[
        "--password",
        "--client-secret",
        "--token",
        "--api-key",
        "--db-password",
        "--auth-token",
        "--secret",
    ]);
    let tool = r.pick(&["deploy", "./bin/migrate", "aws-login", "vault-sync"]);
    let s = &secret;
    let text = match r.below(4) {
        0 => format!("{tool} --region eu-west-1 {flag} {s} --verbose"),
        1 => format!("{tool} {flag}={s}"),
        2 => format!("{tool} {flag} \"{s}\""),
        _ => format!("{tool} {flag}  {s}"),
    };
    let mut pii = Pii::new("cli_option", text);
    pii.needles = vec![secret];
    pii
}

pub fn authorization(r: &mut Rng) -> Pii {
    let header = r.pick(&["Authorization", "authorization", "Proxy-Authorization"]);
    let (text, needles) = match r.below(4) {
        0 => {
            let token = r.string_of(HEX, 40);
            (format!("{header}: Token {token}"), vec![token])
        }
        1 => {
            let (response, nonce, cnonce) = (
                r.string_of(HEX, 32),
                r.string_of(HEX, 32),
                r.string_of(HEX, 8),
            );
            (
                format!(
                    r#"{header}: Digest username="{}", realm="api", nonce="{nonce}", uri="/v1/x", qop=auth, nc=00000001, cnonce="{cnonce}", response="{response}""#,
                    r.pick(NAMES)
                ),
                vec![response, nonce, cnonce],
            )
        }
        2 => {
            let blob = base64(r.string_of(ALNUM, 30).as_bytes(), STD_B64, true);
            (format!("{header}: Negotiate {blob}"), vec![blob])
        }
        _ => {
            let token = r.string_of(ALNUM, 40);
            (format!("{header}: SSWS {token}"), vec![token])
        }
    };
    let mut pii = Pii::new("authorization", text);
    pii.needles = needles;
    pii
}

pub fn header_line(r: &mut Rng) -> Pii {
    let secret = opaque_secret(r);
    let name = r.pick(&[
        "X-Api-Key",
        "x-api-key",
        "X-Auth-Token",
        "X-CSRF-Token",
        "X-Pass",
        "x-otp",
        "X-Access-Token",
        "Private-Token",
    ]);
    let s = &secret;
    let text = match r.below(3) {
        0 => format!("{name}: {s}"),
        1 => format!("GET /v1/orders\n{name}: {s}\nAccept: */*"),
        _ => format!("curl -H '{name}: {s}' https://api.example.com/v1"),
    };
    let mut pii = Pii::new("header_line", text);
    pii.needles = vec![secret];
    pii
}

pub const GENERATORS: &[fn(&mut Rng) -> Pii] = &[
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
    api_key,
    private_key,
    iban,
    config,
    cli_option,
    authorization,
    header_line,
];

pub const TEMPLATES: &[&str] = &[
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
pub fn pii_corpus() -> Vec<(Pii, String, String)> {
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
pub fn count_leaks<'a>(
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
