//! The argument rules of the contract, as pure functions over raw bytes.
//!
//! Each check returns the value in the form the store needs, or the exact
//! error the contract prescribes. Nothing here touches Redis, so every rule is
//! unit-tested with plain byte strings.

use redis_module::RedisError;

use crate::error::{invalid, syntax};

/// Shortest and longest ttl or dt a client may ask for, in seconds.
pub const MIN_SECONDS: i64 = 10;
pub const MAX_SECONDS: i64 = 31_536_000;

/// Length of a session token.
pub const TOKEN_LEN: usize = 64;

/// An app name: 3-20 bytes of `A-Z a-z 0-9 _ -`, compared case-sensitively.
pub fn app(raw: &[u8]) -> Result<&[u8], RedisError> {
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-';
    if (3..=20).contains(&raw.len()) && raw.iter().all(allowed) {
        Ok(raw)
    } else {
        Err(invalid(
            "app",
            "expected 3 to 20 characters of A-Z a-z 0-9 _ -",
        ))
    }
}

/// A user id: 1-128 bytes of UTF-8 without control characters. Anything else,
/// `:`, braces, spaces and every script included, is allowed.
pub fn id(raw: &[u8]) -> Result<&[u8], RedisError> {
    let text_ok = std::str::from_utf8(raw).is_ok() && !raw.iter().any(is_control);
    if (1..=128).contains(&raw.len()) && text_ok {
        Ok(raw)
    } else {
        Err(invalid(
            "id",
            "expected 1 to 128 bytes of UTF-8 text without control characters",
        ))
    }
}

/// A client address: 1-39 bytes without control characters. It is not parsed,
/// because proxies send many forms (IPv6, ports, lists).
pub fn ip(raw: &[u8]) -> Result<&[u8], RedisError> {
    if (1..=39).contains(&raw.len()) && !raw.iter().any(is_control) {
        Ok(raw)
    } else {
        Err(invalid(
            "ip",
            "expected 1 to 39 bytes without control characters",
        ))
    }
}

/// A session token: exactly 64 bytes of `A-Z a-z 0-9`.
pub fn token(raw: &[u8]) -> Result<&[u8], RedisError> {
    if raw.len() == TOKEN_LEN && raw.iter().all(u8::is_ascii_alphanumeric) {
        Ok(raw)
    } else {
        Err(invalid("token", "expected 64 characters of A-Z a-z 0-9"))
    }
}

/// A session lifetime in seconds.
pub fn ttl(raw: &[u8]) -> Result<i64, RedisError> {
    seconds(raw).ok_or_else(|| invalid("ttl", SECONDS_EXPECTED))
}

/// An absolute session lifetime in seconds (CREATE ... MAXAGE).
pub fn maxage(raw: &[u8]) -> Result<i64, RedisError> {
    seconds(raw).ok_or_else(|| invalid("maxage", SECONDS_EXPECTED))
}

/// The most live sessions a user may keep (CREATE ... MAXSESSIONS).
pub fn max_sessions(raw: &[u8]) -> Result<usize, RedisError> {
    in_range(raw, 1, 10_000)
        .map(|n| n as usize)
        .ok_or_else(|| invalid("maxsessions", "expected an integer from 1 to 10000"))
}

/// The most entries a listing returns (SOID, SOAPP ... LIMIT).
pub fn limit(raw: &[u8]) -> Result<usize, RedisError> {
    in_range(raw, 1, 100_000)
        .map(|n| n as usize)
        .ok_or_else(|| invalid("limit", "expected an integer from 1 to 100000"))
}

/// How many sessions one SESS.IMPORT call moves.
pub fn import_count(raw: &[u8]) -> Result<usize, RedisError> {
    in_range(raw, 1, 100_000)
        .map(|n| n as usize)
        .ok_or_else(|| invalid("count", "expected an integer from 1 to 100000"))
}

/// How a session is replied: a map (RESP2: the flat field/value array), or
/// with the `JSON` option word one bulk string of JSON (session_json.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Map,
    Json,
}

/// A listing's options (SOID, SOAPP): `LIMIT count` and `JSON`, in any
/// order, each at most once.
pub fn listing_options(rest: &[&[u8]]) -> Result<(Option<usize>, Format), RedisError> {
    let (mut limit_found, mut format) = (None, Format::Map);
    let mut options = rest.iter();
    while let Some(option) = options.next() {
        if option.eq_ignore_ascii_case(b"LIMIT") && limit_found.is_none() {
            limit_found = Some(limit(options.next().ok_or_else(syntax)?)?);
        } else if option.eq_ignore_ascii_case(b"JSON") && format == Format::Map {
            format = Format::Json;
        } else {
            return Err(syntax());
        }
    }
    Ok((limit_found, format))
}

/// The reply format of GET and PEEK: nothing, or the word `JSON`.
pub fn format_word(rest: &[&[u8]]) -> Result<Format, RedisError> {
    match rest {
        [] => Ok(Format::Map),
        [word] if word.eq_ignore_ascii_case(b"JSON") => Ok(Format::Json),
        _ => Err(syntax()),
    }
}

/// A look-back window in seconds (SOAPP, ACTIVITY).
pub fn dt(raw: &[u8]) -> Result<i64, RedisError> {
    seconds(raw).ok_or_else(|| invalid("dt", SECONDS_EXPECTED))
}

const SECONDS_EXPECTED: &str = "expected an integer from 10 to 31536000";

/// Plain decimal digits within the allowed range, leading zeros allowed in
/// any number. No sign, no spaces, no exponent: the same strictness Redis
/// applies to its own integer arguments.
fn seconds(raw: &[u8]) -> Option<i64> {
    in_range(raw, MIN_SECONDS, MAX_SECONDS)
}

/// Plain decimal digits naming a value from `min` to `max`. Any length is
/// read without overflow: the value saturates once it exceeds every bound.
pub fn in_range(raw: &[u8], min: i64, max: i64) -> Option<i64> {
    if raw.is_empty() || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = raw.iter().fold(0i64, |acc, digit| {
        acc.saturating_mul(10)
            .saturating_add(i64::from(digit - b'0'))
    });
    (min..=max).contains(&value).then_some(value)
}

/// U+0000-U+001F and U+007F. In UTF-8 these are always single bytes, so a byte
/// test is exact.
fn is_control(b: &u8) -> bool {
    *b < 0x20 || *b == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names() {
        assert!(app(b"abc").is_ok());
        assert!(app(b"My_App-2").is_ok());
        assert!(app(b"a2345678901234567890").is_ok());
        for bad in [
            &b"ab"[..],
            b"a23456789012345678901",
            b"a b",
            b"app:x",
            b"\xc3\xa4bc",
            b"",
        ] {
            let e = app(bad).unwrap_err().to_string();
            assert!(e.starts_with("ERR invalid app: "), "{e}");
        }
    }

    #[test]
    fn ids_accept_any_text_without_control_characters() {
        for good in [
            "u",
            "a:b",
            "{x}",
            "mail@example.com",
            "Ünïcödé ид 名前",
            "with space",
        ] {
            assert!(id(good.as_bytes()).is_ok(), "{good}");
        }
        assert!(id("x".repeat(128).as_bytes()).is_ok());
        assert!(id("é".repeat(64).as_bytes()).is_ok());
        for bad in [
            &b""[..],
            b"a\nb",
            b"a\0b",
            b"\x7f",
            b"\xff\xfe",
            b"tab\there",
        ] {
            let e = id(bad).unwrap_err().to_string();
            assert!(e.starts_with("ERR invalid id: "), "{e}");
        }
        assert!(id("x".repeat(129).as_bytes()).is_err());
    }

    #[test]
    fn ips() {
        assert!(ip(b"127.0.0.1").is_ok());
        assert!(ip(b"2001:0db8:85a3:0000:0000:8a2e:0370:7334").is_ok());
        assert!(ip(&[b'1'; 40]).is_err());
        assert!(ip(b"").is_err());
        assert!(ip(b"1.2.3.4\r\n").is_err());
    }

    #[test]
    fn tokens() {
        let good = "aZ09".repeat(16);
        assert!(token(good.as_bytes()).is_ok());
        assert!(token(&good.as_bytes()[..63]).is_err());
        assert!(token(format!("{good}x").as_bytes()).is_err());
        let bad = format!("{}-", &good[..63]);
        assert_eq!(
            token(bad.as_bytes()).unwrap_err().to_string(),
            "ERR invalid token: expected 64 characters of A-Z a-z 0-9"
        );
    }

    #[test]
    fn seconds_are_strict_integers_in_range() {
        assert_eq!(ttl(b"10").unwrap(), 10);
        assert_eq!(ttl(b"31536000").unwrap(), 31_536_000);
        assert_eq!(dt(b"0000010").unwrap(), 10);
        assert_eq!(ttl(b"0000000010").unwrap(), 10);
        assert_eq!(
            ttl(&[b"0".repeat(1000), b"31536000".to_vec()].concat()).unwrap(),
            31_536_000
        );
        for bad in [
            &b"9"[..],
            b"31536001",
            b"-10",
            b"+10",
            b"10.5",
            b"1e3",
            b" 10",
            b"",
            b"99999999999999999999999999",
            b"00000000000000000000000009",
            b"0",
        ] {
            assert!(ttl(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            dt(b"x").unwrap_err().to_string(),
            "ERR invalid dt: expected an integer from 10 to 31536000"
        );
    }
}
