//! Session data: a flat JSON object whose values are strings, numbers or
//! booleans, stored as JSON text in the session's `d` field.
//!
//! A client sends a *patch*: the same kind of object, where `null` means
//! "remove this key". CREATE applies a patch to nothing, SET to the stored
//! data. Numbers keep their exact text (serde_json's `arbitrary_precision`),
//! and keys keep their order (`preserve_order`), so data round-trips unchanged.

use redis_module::RedisError;
use serde_json::{Map, Value};

use crate::error::{internal, invalid, quote};

/// A validated patch: at least one key, every value a scalar or `null`.
pub struct Patch(Map<String, Value>);

/// Parses and checks a client's JSON text against the contract's rules.
pub fn parse_patch(text: &[u8], max_bytes: usize) -> Result<Patch, RedisError> {
    if text.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    let value: Value = serde_json::from_slice(text)
        .map_err(|e| invalid("json", &format!("not valid JSON ({e})")))?;
    let Value::Object(map) = value else {
        return Err(invalid("json", "expected a JSON object"));
    };
    if map.is_empty() {
        return Err(invalid("json", "the object has no keys"));
    }
    if let Some((key, value)) = map.iter().find(|(_, v)| v.is_object() || v.is_array()) {
        let kind = if value.is_object() {
            "an object"
        } else {
            "an array"
        };
        return Err(invalid(
            "json",
            &format!(
                "key {} has a forbidden type ({kind}); values must be strings, numbers, booleans or null",
                quote(key)
            ),
        ));
    }
    Ok(Patch(map))
}

/// Applies `patch` to the stored data text (`None` when the session has no
/// data) and returns the new text, or `None` when no key remains.
pub fn apply(
    stored: Option<&[u8]>,
    patch: Patch,
    max_bytes: usize,
) -> Result<Option<String>, RedisError> {
    let mut data = match stored {
        None => Map::new(),
        Some(text) => match serde_json::from_slice(text) {
            Ok(Value::Object(map)) => map,
            _ => return Err(internal("the stored session data is not a JSON object")),
        },
    };
    for (key, value) in patch.0 {
        if value.is_null() {
            data.shift_remove(&key);
        } else {
            data.insert(key, value);
        }
    }
    if data.is_empty() {
        return Ok(None);
    }
    let text = Value::Object(data).to_string();
    if text.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    Ok(Some(text))
}

fn too_large(max_bytes: usize) -> RedisError {
    invalid(
        "json",
        &format!("the session data would exceed max-data-bytes ({max_bytes} bytes)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 65536;

    fn patch(text: &str) -> Patch {
        parse_patch(text.as_bytes(), MAX).unwrap()
    }

    fn error(text: &str) -> String {
        match parse_patch(text.as_bytes(), MAX) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{text} was accepted"),
        }
    }

    #[test]
    fn create_drops_nulls_and_keeps_order_and_number_text() {
        let out = apply(
            None,
            patch(r#"{"b":1,"a":"x","gone":null,"n":1.50,"t":true}"#),
            MAX,
        );
        assert_eq!(
            out.unwrap().unwrap(),
            r#"{"b":1,"a":"x","n":1.50,"t":true}"#
        );
    }

    #[test]
    fn only_nulls_means_no_data() {
        assert_eq!(apply(None, patch(r#"{"a":null}"#), MAX).unwrap(), None);
    }

    #[test]
    fn merge_sets_adds_and_deletes() {
        let stored = br#"{"keep":1,"change":"old","drop":true}"#;
        let out = apply(
            Some(stored),
            patch(r#"{"change":"new","drop":null,"add":2}"#),
            MAX,
        );
        assert_eq!(
            out.unwrap().unwrap(),
            r#"{"keep":1,"change":"new","add":2}"#
        );
    }

    #[test]
    fn merge_to_empty_removes_data() {
        let out = apply(Some(br#"{"a":1}"#), patch(r#"{"a":null}"#), MAX).unwrap();
        assert_eq!(out, None);
    }

    #[test]
    fn large_integers_keep_every_digit() {
        let out = apply(
            None,
            patch(r#"{"big":123456789012345678901234567890}"#),
            MAX,
        );
        assert_eq!(
            out.unwrap().unwrap(),
            r#"{"big":123456789012345678901234567890}"#
        );
    }

    #[test]
    fn rules_name_what_broke() {
        assert!(error("nope").starts_with("ERR invalid json: not valid JSON"));
        assert!(error(r#"{"a":1} x"#).starts_with("ERR invalid json: not valid JSON"));
        assert_eq!(error("[1]"), "ERR invalid json: expected a JSON object");
        assert_eq!(error("{}"), "ERR invalid json: the object has no keys");
        assert_eq!(
            error(r#"{"ok":1,"deep":{"x":1}}"#),
            "ERR invalid json: key 'deep' has a forbidden type (an object); values must be strings, numbers, booleans or null"
        );
        assert!(error(r#"{"list":[1]}"#).contains("key 'list' has a forbidden type (an array)"));
    }

    #[test]
    fn size_limit_applies_to_input_and_to_the_merged_result() {
        let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(100));
        assert!(parse_patch(big.as_bytes(), 50).is_err());
        let stored = format!(r#"{{"a":"{}"}}"#, "x".repeat(40));
        let err = apply(
            Some(stored.as_bytes()),
            parse_patch(br#"{"b":"yyyyyyyyyy"}"#, 60).unwrap(),
            60,
        );
        assert!(err
            .unwrap_err()
            .to_string()
            .contains("max-data-bytes (60 bytes)"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = parse_patch(deep.as_bytes(), usize::MAX)
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("ERR invalid json: not valid JSON"), "{e}");
    }

    #[test]
    fn corrupt_stored_data_is_refused() {
        assert!(apply(Some(b"not json"), patch(r#"{"a":1}"#), MAX).is_err());
    }
}
