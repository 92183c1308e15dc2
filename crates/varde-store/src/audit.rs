//! The audit chain: each entry's hash covers the previous entry's hash, so changing, removing or inserting any
//! entry breaks every link after it.

use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub struct Entry<'a> {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub prev_hash: &'a str,
}

impl Entry<'_> {
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        // Length-prefixed fields, so no two different entries serialise to the same bytes.
        for field in
            [self.prev_hash, &self.seq.to_string(), &self.at_ms.to_string(), self.actor, self.action, self.subject]
        {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        hex::encode(h.finalize())
    }
}
