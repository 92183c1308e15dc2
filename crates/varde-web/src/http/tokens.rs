//! API tokens: `vrd_` and 32 Crockford base32 characters (160 random bits). Only a SHA-256 hash is stored; a
//! slow password hash would add nothing for a secret this long.

use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use varde_core::Application;
use varde_store::{StoreError, TokenGrant};

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

pub fn generate<R: Rng + ?Sized>(rng: &mut R) -> String {
    let mut s = String::from("vrd_");
    for _ in 0..32 {
        s.push(char::from(ALPHABET[rng.random_range(0..32)]));
    }
    s
}

pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Remembers recent look-ups for a few seconds, so a busy client does not cost a database read per request.
/// A revoked token stops working within `ttl`.
pub struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<[u8; 32], (Instant, TokenGrant)>>,
}

impl TokenCache {
    pub fn new(ttl: Duration) -> TokenCache {
        TokenCache { ttl, entries: Mutex::new(HashMap::new()) }
    }

    pub async fn grant(&self, store: &dyn Application, token: &str) -> Result<Option<TokenGrant>, StoreError> {
        let key = hash(token);
        if let Some((at, grant)) = self.entries.lock().expect("not poisoned").get(&key)
            && at.elapsed() < self.ttl
        {
            return Ok(Some(grant.clone()));
        }
        let grant = store.queries().token(key).await?;
        // A use is recorded when the cache is renewed: at most once per `ttl` per token and instance, so a busy client
        // does not cost a write per request, and an admin sees the last use to within that.
        if let Some(g) = &grant {
            store.queries().token_used(g.id, jiff::Timestamp::now()).await?;
        }
        let mut entries = self.entries.lock().expect("not poisoned");
        match &grant {
            Some(g) => {
                // Unknown tokens are not cached, so guessing cannot fill memory.
                if entries.len() > 10_000 {
                    entries.clear();
                }
                entries.insert(key, (Instant::now(), g.clone()));
            }
            None => {
                entries.remove(&key);
            }
        }
        Ok(grant)
    }
}
