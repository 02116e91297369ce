//! Every error a client can receive, built in one place.
//!
//! Redis clients read the first word of an error as its code, so every message
//! starts with `ERR` or `WRONGTYPE`. Messages are also forced to printable ASCII:
//! `redis-module` 2.0.8 turns an error string into a C string with `c as u8`,
//! which maps some non-ASCII characters (U+0100, U+0200, ...) to a NUL byte and
//! then panics, and a panic inside a command aborts redis-server.

use redis_module::RedisError;

/// What the contract calls a bad argument: `ERR invalid <name>: <expected>`.
pub fn invalid(name: &str, expected: &str) -> RedisError {
    RedisError::String(ascii(&format!("ERR invalid {name}: {expected}")))
}

/// An unknown or repeated option.
pub fn syntax() -> RedisError {
    RedisError::Str("ERR syntax error")
}

/// A key of the module's layout holds another type.
pub fn wrong_type() -> RedisError {
    RedisError::WrongType
}

/// A failure that is not the caller's fault, such as a store that refused a write.
pub fn internal(what: &str) -> RedisError {
    RedisError::String(ascii(&format!("ERR {what}")))
}

/// Shows a piece of client input inside an error message: quoted, escaped to
/// ASCII the way JSON escapes strings, and cut to at most 40 characters so a
/// megabyte argument never becomes a megabyte error.
pub fn quote(text: &str) -> String {
    const LIMIT: usize = 40;
    let mut out = String::from("'");
    for (count, c) in text.chars().enumerate() {
        if count == LIMIT {
            out.push_str("...");
            break;
        }
        match c {
            '\'' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('\'');
    out
}

/// Replaces anything that is not printable ASCII with `?`.
fn ascii(message: &str) -> String {
    message
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(e: RedisError) -> String {
        e.to_string()
    }

    #[test]
    fn invalid_names_the_argument() {
        assert_eq!(
            text(invalid("ttl", "expected an integer")),
            "ERR invalid ttl: expected an integer"
        );
    }

    #[test]
    fn messages_are_printable_ascii_even_with_hostile_input() {
        let msg = text(invalid("json", &format!("key {} bad", "\u{100}\0\r\n")));
        assert!(msg.bytes().all(|b| (b' '..=b'~').contains(&b)), "{msg:?}");
    }

    #[test]
    fn quote_escapes_and_truncates() {
        assert_eq!(quote("a'b"), "'a\\'b'");
        assert_eq!(quote("\u{100}"), "'\\u0100'");
        assert_eq!(quote("\u{1F600}"), "'\\ud83d\\ude00'");
        let long = "x".repeat(100);
        assert_eq!(quote(&long), format!("'{}...'", "x".repeat(40)));
    }
}
