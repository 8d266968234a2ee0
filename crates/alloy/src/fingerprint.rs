//! FNV-1a fingerprints of the inputs a result was made from (the potential files, the
//! initial-state file and its selected states, the crystal), stored as 16 hex digits in
//! every run record. Step files, data sets and Monte Carlo records already written hold
//! these values and a resumed run or a merge compares them exactly, so the function stays
//! FNV-1a (not `gcnet_files::content_hash`, whose xxh3 values would make every earlier
//! run look like one of other settings). A leaf module: what it hashes imports it.

/// FNV-1a, 64 bit: a fingerprint of file contents (not a cryptographic hash).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A fingerprint as the records store it: 16 lower-case hex digits.
pub fn hex(h: u64) -> String {
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(hex(0xaf63dc4c8601ec8c), "af63dc4c8601ec8c");
    }
}
