//! IBANs (ISO 13616): a country code, two check digits and the country's
//! BBAN, written in one run or in groups of four split by single spaces,
//! told from other upper-case ids by the country's length and the mod-97
//! check.

use super::{Hit, IBAN};

/// The longest IBAN (Russia's) has 33 characters.
const MAX_LEN: usize = 34;

/// The countries of the IBAN registry, with the length of their IBANs and
/// whether their BBAN holds digits only (then a letter in it is no IBAN).
const COUNTRIES: &[(&[u8; 2], usize, bool)] = &[
    (b"AD", 24, false),
    (b"AE", 23, true),
    (b"AL", 28, false),
    (b"AT", 20, true),
    (b"AZ", 28, false),
    (b"BA", 20, true),
    (b"BE", 16, true),
    (b"BG", 22, false),
    (b"BH", 22, false),
    (b"BI", 27, true),
    (b"BR", 29, false),
    (b"BY", 28, false),
    (b"CH", 21, false),
    (b"CR", 22, true),
    (b"CY", 28, false),
    (b"CZ", 24, true),
    (b"DE", 22, true),
    (b"DJ", 27, true),
    (b"DK", 18, true),
    (b"DO", 28, false),
    (b"EE", 20, true),
    (b"EG", 29, true),
    (b"ES", 24, true),
    (b"FI", 18, true),
    (b"FK", 18, false),
    (b"FO", 18, true),
    (b"FR", 27, false),
    (b"GB", 22, false),
    (b"GE", 22, false),
    (b"GI", 23, false),
    (b"GL", 18, true),
    (b"GR", 27, false),
    (b"GT", 28, false),
    (b"HR", 21, true),
    (b"HU", 28, true),
    (b"IE", 22, false),
    (b"IL", 23, true),
    (b"IQ", 23, false),
    (b"IS", 26, true),
    (b"IT", 27, false),
    (b"JO", 30, false),
    (b"KW", 30, false),
    (b"KZ", 20, false),
    (b"LB", 28, false),
    (b"LC", 32, false),
    (b"LI", 21, false),
    (b"LT", 20, true),
    (b"LU", 20, false),
    (b"LV", 21, false),
    (b"LY", 25, true),
    (b"MC", 27, false),
    (b"MD", 24, false),
    (b"ME", 22, true),
    (b"MK", 19, false),
    (b"MN", 20, true),
    (b"MR", 27, true),
    (b"MT", 31, false),
    (b"MU", 30, false),
    (b"NI", 28, false),
    (b"NL", 18, false),
    (b"NO", 15, true),
    (b"OM", 23, false),
    (b"PK", 24, false),
    (b"PL", 28, true),
    (b"PS", 29, false),
    (b"PT", 25, true),
    (b"QA", 29, false),
    (b"RO", 24, false),
    (b"RS", 22, true),
    (b"RU", 33, false),
    (b"SA", 24, false),
    (b"SC", 31, false),
    (b"SD", 18, true),
    (b"SE", 24, true),
    (b"SI", 19, true),
    (b"SK", 24, true),
    (b"SM", 27, false),
    (b"SO", 23, true),
    (b"ST", 25, true),
    (b"SV", 28, false),
    (b"TL", 23, true),
    (b"TN", 24, true),
    (b"TR", 26, false),
    (b"UA", 29, false),
    (b"VA", 22, true),
    (b"VG", 24, false),
    (b"XK", 20, true),
    (b"YE", 30, false),
];

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_iban_char(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

/// IBANs: at each word that starts with two capitals and two digits, the
/// characters of an IBAN are read once (at most [`MAX_LEN`] of them and
/// their spaces); after a miss the scan resumes at the end of that first
/// word, so no byte is read more than a fixed number of times.
pub(super) fn ibans(b: &[u8], hits: &mut Vec<Hit>) {
    let mut i = 0;
    let mut previous_word = false;
    while let Some(&c) = b.get(i) {
        if previous_word || !c.is_ascii_uppercase() {
            previous_word = is_word(c);
            i += 1;
            continue;
        }
        if let Some(end) = iban_at(b, i) {
            hits.push(Hit::new(i, end, IBAN));
            i = end;
            previous_word = false;
        } else {
            // Not one: skip the word it started.
            while b.get(i).copied().is_some_and(is_word) {
                i += 1;
            }
            previous_word = false;
        }
    }
}

/// The end of an IBAN starting at `start` (the start of a word), if there
/// is one.
fn iban_at(b: &[u8], start: usize) -> Option<usize> {
    let head = b.get(start..start + 4)?;
    let [c1, c2, d1, d2] = *head else {
        return None;
    };
    if !(c2.is_ascii_uppercase() && d1.is_ascii_digit() && d2.is_ascii_digit()) {
        return None;
    }
    let &(_, len, digits_only) = COUNTRIES.iter().find(|(code, _, _)| **code == [c1, c2])?;
    // Check digits 00, 01 and 99 are never issued.
    let check = (d1 - b'0') * 10 + (d2 - b'0');
    if !(2..=98).contains(&check) {
        return None;
    }
    let mut chars = [0u8; MAX_LEN];
    let mut count = 0;
    let mut end = start;
    // Spaced: groups of four split by one space; or one run.
    let spaced = b.get(start + 4) == Some(&b' ');
    while count < len {
        match b.get(end) {
            Some(&c) if is_iban_char(c) => {
                *chars.get_mut(count)? = c;
                count += 1;
                end += 1;
            }
            Some(b' ') if spaced && count % 4 == 0 && count > 0 => {
                end += 1;
            }
            _ => return None,
        }
    }
    if b.get(end).copied().is_some_and(is_word) {
        return None;
    }
    let (_, bban) = chars.get(..len)?.split_at_checked(4)?;
    if digits_only && !bban.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Real BBANs hold a bank or account number.
    if !bban.iter().any(u8::is_ascii_digit) {
        return None;
    }
    mod97(chars.get(..len)?).then_some(end)
}

/// ISO 13616's check: the first four characters moved to the end, letters
/// read as 10 to 35, the number modulo 97 is 1.
fn mod97(iban: &[u8]) -> bool {
    let (head, bban) = iban.split_at(4.min(iban.len()));
    let remainder = bban.iter().chain(head).fold(0u32, |r, &c| {
        if c.is_ascii_digit() {
            (r * 10 + u32::from(c - b'0')) % 97
        } else {
            (r * 100 + u32::from(c - b'A') + 10) % 97
        }
    });
    remainder == 1
}
