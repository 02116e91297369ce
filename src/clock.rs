//! The server clock. Sessions follow the Redis server's time, never a
//! client's, so one host decides idle and expiry for every application.

use crate::api::call;

/// An instant as a sorted-set score in seconds with milliseconds, and the
/// exact decimal text that replicas parse back to the very same double
/// (both the division and Redis's parser round the same exact decimal to the
/// nearest double).
pub fn millis_score(millis: i64) -> (f64, String) {
    let text = format!("{}.{:03}", millis.div_euclid(1000), millis.rem_euclid(1000));
    (millis as f64 / 1000.0, text)
}

/// Unix time in milliseconds.
pub fn now_millis() -> i64 {
    // SAFETY: RM_Milliseconds takes no arguments and only reads the clock.
    unsafe { call!(RedisModule_Milliseconds() or 0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_and_text_are_the_same_double() {
        for millis in [
            0,
            1,
            999,
            1_000,
            1_795_631_689_123,
            1_795_631_689_999,
            4_102_444_800_007,
        ] {
            let (score, text) = millis_score(millis);
            assert_eq!(text.parse::<f64>().unwrap(), score, "{text}");
            assert_eq!(score.floor() as i64, millis / 1000);
        }
        assert_eq!(millis_score(1_795_631_689_005).1, "1795631689.005");
    }
}
