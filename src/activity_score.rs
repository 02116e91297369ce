//! Scores of the activity index `_users`: the second of a user's latest
//! activity, plus a fraction fixed per user.
//!
//! Activity counts in whole seconds (`floor(score)` is the second), but with
//! whole-second scores every user active in the same second shares one
//! score, and each update walks the skiplist comparing user ids as strings.
//! A per-user fraction keeps scores distinct, so the skiplist compares
//! numbers; being fixed per user, a second touch within the same second
//! yields the very same score and Redis finds nothing to change (no write,
//! no replication, one lookup).
//!
//! The fraction is k/65536 with k a 16-bit hash of the id: exactly
//! representable next to any unix second, and written out as an exact
//! decimal, so a replica parsing the replicated text gets the same double.

/// The score for activity at `second` by `id`, and a maker of its exact
/// decimal text, which is only needed when the score changes (once per user
/// and second at most).
pub fn activity_score(second: i64, id: &[u8]) -> (f64, impl FnOnce() -> String) {
    let k = fnv1a(id) & 0xffff;
    let score = second as f64 + k as f64 / 65536.0;
    let text = move || {
        if second < 0 {
            // Never written by the module (a session's `la` is refused below
            // 0), but a score's text must be exact whatever the second: the
            // shortest decimal that reads back as the same double.
            return format!("{score}");
        }
        // 1/65536 = 0.0000152587890625 exactly: 16 decimal places.
        let mut text = String::with_capacity(28);
        push_digits(&mut text, second.unsigned_abs(), 1);
        text.push('.');
        push_digits(&mut text, k * 152_587_890_625, 16);
        text
    };
    (score, text)
}

/// The decimal digits of `n`, zero-padded to at least `width`.
fn push_digits(out: &mut String, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    while n > 0 || digits.len() - at < width {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// FNV-1a, 64-bit: small, stable and good enough to spread ids.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_the_score_and_the_second_is_its_floor() {
        for id in ["", "a", "user42", "Ünïcødé", &"x".repeat(128)] {
            for second in [0, 1_795_631_689, 4_102_444_800] {
                let (score, text) = activity_score(second, id.as_bytes());
                let text = text();
                assert_eq!(text.parse::<f64>().unwrap(), score, "{text}");
                assert_eq!(score.floor() as i64, second);
            }
        }
    }

    #[test]
    fn the_text_is_the_one_format_would_write() {
        for (second, id) in [
            (0, "a"),
            (7, "bob"),
            (1_795_631_689, "user42"),
            (4_102_444_800, ""),
        ] {
            let k = fnv1a(id.as_bytes()) & 0xffff;
            let (_, text) = activity_score(second, id.as_bytes());
            assert_eq!(text(), format!("{second}.{:016}", k * 152_587_890_625));
        }
    }

    #[test]
    fn negative_seconds_are_written_exactly_too() {
        for second in [-1, -5, -1_795_631_689] {
            let (score, text) = activity_score(second, b"user42");
            let text = text();
            assert_eq!(text.parse::<f64>().unwrap(), score, "{text}");
        }
    }

    #[test]
    fn users_get_distinct_fractions_and_keep_theirs() {
        let (a, _) = activity_score(100, b"alice");
        let (b, _) = activity_score(100, b"bob");
        assert_ne!(a, b);
        assert_eq!(activity_score(100, b"alice").0, a);
        assert_eq!(activity_score(101, b"alice").0, a + 1.0);
    }
}
