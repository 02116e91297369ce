//! Session data: a flat JSON object whose values are strings, numbers or
//! booleans, stored as JSON text in the session's `d` field.
//!
//! A client sends a *patch*: the same kind of object, where `null` means
//! "remove this key". CREATE applies a patch to nothing, SET to the stored
//! data. Keys keep their order (a repeated key keeps its first place and its
//! last value), and every number keeps its exact text, byte for byte (`1e5`,
//! `1E+05`, `2.50`, 40-digit integers): values are carried as their raw JSON
//! text and never converted. Strings are written in serde_json's canonical
//! escaping, so the output is compact JSON with no whitespace.

use indexmap::IndexMap;
use redis_module::RedisError;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::error::{internal, invalid, quote};

/// Keys with the JSON text of their values.
type Object = IndexMap<String, String>;

/// A validated patch: at least one key, every value a scalar (its JSON text)
/// or `None` for `null`.
pub struct Patch(IndexMap<String, Option<String>>);

/// Parses and checks a client's JSON text against the contract's rules.
pub fn parse_patch(text: &[u8], max_bytes: usize) -> Result<Patch, RedisError> {
    if text.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    let raw = parse_object(text).map_err(|e| match e.classify() {
        // A well-formed document that is not an object, or a broken one:
        // only the error path pays for telling the two apart.
        serde_json::error::Category::Data => match serde_json::from_slice::<IgnoredAny>(text) {
            Ok(_) => invalid("json", "expected a JSON object"),
            Err(e) => not_json(&e),
        },
        _ => not_json(&e),
    })?;
    if raw.is_empty() {
        return Err(invalid("json", "the object has no keys"));
    }
    let mut patch = IndexMap::with_capacity(raw.len());
    for (key, value) in raw {
        let text = value.get();
        let scalar = match text.as_bytes().first() {
            Some(b'{') => return Err(forbidden(&key, "an object")),
            Some(b'[') => return Err(forbidden(&key, "an array")),
            Some(b'n') => None,
            Some(b'"') => Some(canonical_string(text)?),
            _ => Some(text.to_owned()),
        };
        patch.insert(key, scalar);
    }
    Ok(Patch(patch))
}

/// Applies `patch` to the stored data text (`None` when the session has no
/// data) and returns the new text, or `None` when no key remains.
///
/// The stored object is read borrowing its keys and values from the text,
/// and written out again from those slices: nothing is copied per key.
/// A stored object whose keys repeat or need unescaping (not what this module
/// writes, but another program may) takes the general path.
pub fn apply(
    stored: Option<&[u8]>,
    patch: Patch,
    max_bytes: usize,
) -> Result<Option<String>, RedisError> {
    let stored_entries = match stored {
        None => Entries::default(),
        Some(text) => match serde_json::from_slice::<Entries>(text) {
            Ok(entries) if entries.distinct() => entries,
            _ => return apply_general(stored, patch, max_bytes),
        },
    };
    let mut patched = vec![false; patch.0.len()];
    let mut out = String::with_capacity(stored.map_or(0, <[u8]>::len) + patch_len(&patch) + 2);
    out.push('{');
    for (key, value) in &stored_entries.0 {
        let text = match patch.0.get_full(*key) {
            Some((at, _, change)) => {
                patched[at] = true;
                match change {
                    Some(text) => text.as_str(),
                    None => continue,
                }
            }
            None => value.get(),
        };
        push_entry(&mut out, key, text);
    }
    for ((key, value), done) in patch.0.iter().zip(patched) {
        if let (Some(text), false) = (value, done) {
            push_entry(&mut out, key, text);
        }
    }
    if out.len() == 1 {
        return Ok(None);
    }
    out.push('}');
    if out.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    Ok(Some(out))
}

/// An upper bound of the patch's written size.
fn patch_len(patch: &Patch) -> usize {
    patch
        .0
        .iter()
        .map(|(k, v)| k.len() + v.as_ref().map_or(0, String::len) + 4)
        .sum()
}

/// `"key":value`, after a comma unless first.
fn push_entry(out: &mut String, key: &str, value: &str) {
    if out.len() > 1 {
        out.push(',');
    }
    push_string(out, key);
    out.push(':');
    out.push_str(value);
}

/// A stored object's entries in order, borrowed from its text (a key that
/// needs unescaping cannot be borrowed, and fails the parse).
#[derive(Default)]
struct Entries<'a>(Vec<(&'a str, &'a RawValue)>);

impl Entries<'_> {
    /// No key twice (checked pairwise: session data has few keys).
    fn distinct(&self) -> bool {
        let keys = &self.0;
        keys.len() <= 64
            && keys
                .iter()
                .enumerate()
                .all(|(i, (key, _))| keys[..i].iter().all(|(other, _)| other != key))
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(entry) = map.next_entry::<&'de str, &'de RawValue>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// `apply` through an owned map: any stored object, repeated keys keeping
/// their first place and last value.
fn apply_general(
    stored: Option<&[u8]>,
    patch: Patch,
    max_bytes: usize,
) -> Result<Option<String>, RedisError> {
    let mut data: Object = match stored {
        None => Object::new(),
        Some(text) => parse_object(text)
            .map_err(|_| internal("the stored session data is not a JSON object"))?
            .into_iter()
            .map(|(key, value)| (key, value.get().to_owned()))
            .collect(),
    };
    for (key, value) in patch.0 {
        match value {
            None => {
                data.shift_remove(&key);
            }
            Some(text) => {
                data.insert(key, text);
            }
        }
    }
    if data.is_empty() {
        return Ok(None);
    }
    let text = write_object(&data);
    if text.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    Ok(Some(text))
}

/// A JSON object with each value left as its raw text.
fn parse_object(text: &[u8]) -> Result<IndexMap<String, Box<RawValue>>, serde_json::Error> {
    serde_json::from_slice(text)
}

/// Compact JSON: `{"k":v,...}`, keys escaped as serde_json escapes them.
fn write_object(data: &Object) -> String {
    let size: usize = data.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    let mut out = String::with_capacity(size + 2);
    out.push('{');
    for (i, (key, value)) in data.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(&mut out, key);
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
    out
}

/// A JSON string in serde_json's escaping; most keys need none.
fn push_string(out: &mut String, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        // Serialising a str cannot fail.
        out.push_str(&serde_json::to_string(text).unwrap_or_default());
    }
}

/// A string value in canonical escaping. Raw JSON text can differ from the
/// canonical form only through backslash escapes (control characters must be
/// escaped to be valid at all), so a string without one is already canonical.
fn canonical_string(raw: &str) -> Result<String, RedisError> {
    if is_canonical(raw) {
        return Ok(raw.to_owned());
    }
    let value: String = serde_json::from_str(raw).map_err(|e| not_json(&e))?;
    let mut out = String::with_capacity(raw.len());
    push_string(&mut out, &value);
    Ok(out)
}

/// Whether a string's raw JSON text (already checked valid by the parser)
/// is in canonical escaping: every escape one that serde_json writes in its
/// short form. JSON text kept inside a value (`"{\"a\":1}"`, as the express
/// store keeps nested data) needs no rewriting then.
fn is_canonical(raw: &str) -> bool {
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        if b == b'\\'
            && !matches!(
                bytes.next(),
                Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't')
            )
        {
            return false;
        }
    }
    true
}

fn not_json(e: &serde_json::Error) -> RedisError {
    invalid("json", &format!("not valid JSON ({e})"))
}

fn forbidden(key: &str, kind: &str) -> RedisError {
    invalid(
        "json",
        &format!(
            "key {} has a forbidden type ({kind}); values must be strings, numbers, booleans or null",
            quote(key)
        ),
    )
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
    fn every_number_form_keeps_its_exact_text() {
        let numbers = [
            "0",
            "-0",
            "1e5",
            "1E5",
            "1e+5",
            "1E-5",
            "2.5E-3",
            "-2.50e+010",
            "0.000",
            "1.0",
            "123456789012345678901234567890.5e-999",
            "-1",
        ];
        let object = numbers
            .iter()
            .enumerate()
            .map(|(i, n)| format!(r#""k{i}":{n}"#))
            .collect::<Vec<_>>()
            .join(",");
        let text = format!("{{{object}}}");
        let out = apply(None, patch(&text), MAX).unwrap().unwrap();
        assert_eq!(out, text);
        let merged = apply(Some(out.as_bytes()), patch(r#"{"k0":7}"#), MAX);
        assert_eq!(merged.unwrap().unwrap(), text.replacen(":0,", ":7,", 1));
    }

    #[test]
    fn strings_are_written_in_canonical_escaping_and_whitespace_is_dropped() {
        let out = apply(
            None,
            patch(r#" { "a" : "caf\u00e9 \/ \"q\" \n" , "b\u0041" : true , "c":false } "#),
            MAX,
        );
        assert_eq!(
            out.unwrap().unwrap(),
            r#"{"a":"café / \"q\" \n","bA":true,"c":false}"#
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_last_value() {
        let out = apply(None, patch(r#"{"a":1,"b":2,"a":3}"#), MAX);
        assert_eq!(out.unwrap().unwrap(), r#"{"a":3,"b":2}"#);
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
        assert!(error("[1] x").starts_with("ERR invalid json: not valid JSON"));
        assert_eq!(
            error("\"text\""),
            "ERR invalid json: expected a JSON object"
        );
        assert!(error(r#"{"a":"\ud800"}"#).starts_with("ERR invalid json: not valid JSON"));
        assert!(error(r#"{"a":01}"#).starts_with("ERR invalid json: not valid JSON"));
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
        for text in [
            deep.clone(),
            format!(r#"{{"a":{deep}}}"#),
            "[".repeat(100_000),
        ] {
            let e = parse_patch(text.as_bytes(), usize::MAX)
                .err()
                .unwrap()
                .to_string();
            assert!(e.starts_with("ERR invalid json: "), "{e}");
        }
    }

    #[test]
    fn corrupt_stored_data_is_refused() {
        assert!(apply(Some(b"not json"), patch(r#"{"a":1}"#), MAX).is_err());
    }

    #[test]
    fn strings_in_canonical_escaping_are_kept_and_others_rewritten() {
        for raw in [r#""plain""#, r#""{\"a\":\"b\\\\c\"}""#, r#""x\ny\tz""#] {
            assert!(is_canonical(raw), "{raw}");
            assert_eq!(canonical_string(raw).unwrap(), raw);
        }
        for (raw, canonical) in [
            (r#""a\/b""#, r#""a/b""#),
            (r#""\u0041""#, r#""A""#),
            (r#""\u001f""#, r#""\u001f""#),
            (r#""\u00e9""#, "\"\u{e9}\""),
        ] {
            assert!(!is_canonical(raw), "{raw}");
            assert_eq!(canonical_string(raw).unwrap(), canonical, "{raw}");
        }
    }

    #[test]
    fn the_borrowing_merge_equals_the_general_one() {
        let stored: [&[u8]; 7] = [
            br#"{"keep":1,"change":"old","drop":true}"#,
            br#"{"a\"b":1,"c":"\u00e9"}"#,
            br#"{"dup":1,"x":2,"dup":3}"#,
            br#"{ "spaced" : 1 , "n" : 2.50 }"#,
            "{\"\u{e9}t\u{e9}\":\"\u{e9}\"}".as_bytes(),
            b"{}",
            br#"{"only":null}"#,
        ];
        let patches = [
            r#"{"change":"new","drop":null,"add":2}"#,
            r#"{"a\"b":null,"new\nline":"v"}"#,
            r#"{"dup":null}"#,
            r#"{"x":1,"x":2,"y":null}"#,
            r#"{"keep":null,"change":null,"drop":null,"only":null}"#,
        ];
        for text in stored {
            for p in patches {
                let fast = apply(Some(text), patch(p), MAX).map_err(|e| e.to_string());
                let general = apply_general(Some(text), patch(p), MAX).map_err(|e| e.to_string());
                assert_eq!(fast, general, "{} + {p}", String::from_utf8_lossy(text));
            }
        }
    }
}
