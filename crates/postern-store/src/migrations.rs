//! Append-only, numbered schema migrations.

use rusqlite::Connection;

use crate::StoreError;

/// Every migration, in order. Index `i` takes the schema from version `i` to `i + 1`.
/// Never edit or reorder a shipped entry; append a new one.
pub const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_messages_outbox.sql"),
    include_str!("migrations/0003_invites_introductions_revocations.sql"),
    include_str!("migrations/0004_carriers.sql"),
    include_str!("migrations/0005_blobs_search_events.sql"),
    include_str!("migrations/0006_mailboxes.sql"),
    include_str!("migrations/0007_mailbox_listing_index.sql"),
    include_str!("migrations/0008_hosted_accounts.sql"),
    include_str!("migrations/0009_served_heads.sql"),
    include_str!("migrations/0010_lists.sql"),
    include_str!("migrations/0011_own_devices.sql"),
    include_str!("migrations/0012_list_blobs.sql"),
    include_str!("migrations/0013_gateway.sql"),
    include_str!("migrations/0014_gateway_policy.sql"),
];

/// The schema version this build writes.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// Read `PRAGMA user_version`.
pub(crate) fn version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Apply migrations from the current version up to `target`, each in its own transaction
/// together with its version bump.
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), StoreError> {
    let mut current = version(conn)?;
    while current < target {
        let idx = usize::try_from(current).unwrap_or(usize::MAX);
        let Some(sql) = MIGRATIONS.get(idx) else {
            break;
        };
        // Foreign keys off while a migration runs (a table rebuilt under its references must
        // not cascade), checked before it commits; a no-op inside a transaction, so set here.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        let result = (|| -> Result<(), StoreError> {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            let broken: i64 =
                tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
            if broken > 0 {
                return Err(StoreError::Migration {
                    version: current + 1,
                    why: format!("{broken} broken foreign key reference(s)"),
                });
            }
            tx.pragma_update(None, "user_version", current + 1)?;
            tx.commit()?;
            Ok(())
        })();
        conn.pragma_update(None, "foreign_keys", "ON")?;
        result?;
        current += 1;
    }
    Ok(())
}
