//! Rate limits: tries counted per limit and keyed hash, and the day's salts those hashes are made with.

use super::*;
use varde_store::{ATTEMPTS_KEPT, Attempt, Counting, LimitSalts, day_of};

pub(crate) fn attempt(conn: &Connection, a: &Attempt, counting: Counting, at: Timestamp) -> Result<bool> {
    let (key, earlier) = (&a.key[..], &a.earlier_key[..]);
    conn.prepare_cached("DELETE FROM limit_attempts WHERE limit_name = ?1 AND key IN (?2, ?3) AND at_ms <= ?4")?
        .execute(params![a.limit, key, earlier, ms(at - a.window)])?;
    let count: i64 = conn
        .prepare_cached("SELECT count(*) FROM limit_attempts WHERE limit_name = ?1 AND key IN (?2, ?3)")?
        .query_row(params![a.limit, key, earlier], |r| r.get(0))?;
    let allowed = count < i64::from(a.allowance);
    if counting == Counting::Record || (counting == Counting::Allow && allowed) {
        // At most the allowance is remembered per key: the oldest tries beyond it make no difference.
        conn.prepare_cached(
            "DELETE FROM limit_attempts WHERE rowid IN (SELECT rowid FROM limit_attempts
               WHERE limit_name = ?1 AND key IN (?2, ?3) ORDER BY at_ms LIMIT ?4)",
        )?
        .execute(params![a.limit, key, earlier, (count + 1 - i64::from(a.allowance)).max(0)])?;
        conn.prepare_cached("INSERT INTO limit_attempts (limit_name, key, at_ms) VALUES (?1, ?2, ?3)")?
            .execute(params![a.limit, key, ms(at)])?;
    }
    Ok(allowed)
}

pub(crate) fn salts(conn: &Connection, at: Timestamp) -> Result<LimitSalts> {
    let day = day_of(at);
    for d in [day - 1, day] {
        conn.prepare_cached("INSERT INTO limit_salts (day, salt) VALUES (?1, ?2) ON CONFLICT (day) DO NOTHING")?
            .execute(params![d, &rand::random::<[u8; 32]>()[..]])?;
    }
    conn.prepare_cached("DELETE FROM limit_salts WHERE day < ?1")?.execute([day - 1])?;
    conn.prepare_cached("DELETE FROM limit_attempts WHERE at_ms < ?1")?.execute([ms(at - ATTEMPTS_KEPT)])?;
    let salt = |d: i64| -> Result<[u8; 32]> {
        let salt: Vec<u8> =
            conn.prepare_cached("SELECT salt FROM limit_salts WHERE day = ?1")?.query_row([d], |r| r.get(0))?;
        salt.try_into().map_err(|_| Error::Store(StoreError::Internal(format!("the salt of day {d} is not 32 bytes"))))
    };
    Ok(LimitSalts { day, today: salt(day)?, yesterday: salt(day - 1)? })
}
