//! Session tokens: 64 characters of `A-Z a-z 0-9` from a cryptographically
//! secure generator (rand's thread RNG: ChaCha12 seeded and reseeded from the
//! operating system), about 381 bits of entropy and no timestamp, unlike the
//! Node library's `Math.random()` tokens.

use rand::distr::Alphanumeric;
use rand::Rng;

use crate::args::TOKEN_LEN;

pub fn generate() -> [u8; TOKEN_LEN] {
    let mut token = [0u8; TOKEN_LEN];
    let mut rng = rand::rng();
    for byte in token.iter_mut() {
        *byte = rng.sample(Alphanumeric);
    }
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_valid_and_distinct() {
        let a = generate();
        let b = generate();
        assert!(crate::args::token(&a).is_ok());
        assert_ne!(a, b);
    }

    #[test]
    fn every_character_class_appears() {
        let all: Vec<u8> = (0..50).flat_map(|_| generate()).collect();
        assert!(all.iter().any(u8::is_ascii_uppercase));
        assert!(all.iter().any(u8::is_ascii_lowercase));
        assert!(all.iter().any(u8::is_ascii_digit));
        assert!(all.contains(&b'Z'));
    }
}
