//! Rate limits: tries counted per limit and keyed hash, and the day's salts those hashes are made with. Both run
//! under the limits' own advisory lock (see `LIMITS_LOCK`), so two instances counting one key at once count exactly.

use super::*;
use varde_store::{ATTEMPTS_KEPT, Attempt, Counting, LimitSalts, day_of};

pub(crate) async fn attempt(tx: &Tx<'_>, a: &Attempt, counting: Counting, at: Timestamp) -> Result<bool> {
    let (key, earlier) = (&a.key[..], &a.earlier_key[..]);
    execute(
        tx,
        "DELETE FROM limit_attempts WHERE limit_name = $1 AND key IN ($2, $3) AND at_ms <= $4",
        &[&a.limit, &key, &earlier, &ms(at - a.window)],
    )
    .await?;
    let count: i64 = query_one(
        tx,
        "SELECT count(*) FROM limit_attempts WHERE limit_name = $1 AND key IN ($2, $3)",
        &[&a.limit, &key, &earlier],
    )
    .await?
    .try_get(0)?;
    let allowed = count < i64::from(a.allowance);
    if counting == Counting::Record || (counting == Counting::Allow && allowed) {
        // At most the allowance is remembered per key: the oldest tries beyond it make no difference.
        execute(
            tx,
            "DELETE FROM limit_attempts WHERE ctid IN (SELECT ctid FROM limit_attempts
               WHERE limit_name = $1 AND key IN ($2, $3) ORDER BY at_ms LIMIT $4)",
            &[&a.limit, &key, &earlier, &(count + 1 - i64::from(a.allowance)).max(0)],
        )
        .await?;
        execute(
            tx,
            "INSERT INTO limit_attempts (limit_name, key, at_ms) VALUES ($1, $2, $3)",
            &[&a.limit, &key, &ms(at)],
        )
        .await?;
    }
    Ok(allowed)
}

pub(crate) async fn salts(tx: &Tx<'_>, at: Timestamp) -> Result<LimitSalts> {
    let day = day_of(at);
    for d in [day - 1, day] {
        let fresh = rand::random::<[u8; 32]>();
        execute(
            tx,
            "INSERT INTO limit_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
            &[&d, &&fresh[..]],
        )
        .await?;
    }
    execute(tx, "DELETE FROM limit_salts WHERE day < $1", &[&(day - 1)]).await?;
    execute(tx, "DELETE FROM limit_attempts WHERE at_ms < $1", &[&ms(at - ATTEMPTS_KEPT)]).await?;
    let salt = async |d: i64| -> Result<[u8; 32]> {
        let salt: Vec<u8> = query_one(tx, "SELECT salt FROM limit_salts WHERE day = $1", &[&d]).await?.try_get(0)?;
        salt.try_into().map_err(|_| Error::corrupt(format!("the salt of day {d} is not 32 bytes")))
    };
    Ok(LimitSalts { day, today: salt(day).await?, yesterday: salt(day - 1).await? })
}
