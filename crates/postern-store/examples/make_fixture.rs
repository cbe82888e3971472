//! Writes a store at an older schema version, with a row in every table that version has, using
//! the code of the version being captured. `crates/postern-store/tests/fixtures/README.md` says how
//! the checked-in fixtures were made. Usage: `make_fixture VERSION OUT.db`.

use postern_crypto::KdfParams;
use postern_store::{NewIdentity, Store};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(version), Some(out)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: make_fixture VERSION OUT.db");
        std::process::exit(2);
    };
    let version: i64 = version.parse().expect("a schema version");
    let params = KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };
    let mut s = Store::create_at_version(std::path::Path::new(out), b"fixture", params, version)
        .expect("create");
    let id = s
        .insert_identity(&NewIdentity {
            local_part: "alice",
            onion: "fixturealiceonionaddressfixturealiceonionaddressfixtur.onion",
            display_name: "Alice Fixture",
            fingerprint: &[7; 20],
            binding_sig: &[9; 64],
            public_key: b"ALICE-PUBLIC-KEY",
            onion_secret: b"ONION-SECRET-0123456789abcdefXYZ",
            openpgp_secret: b"OPENPGP-SECRET-KEY-MATERIAL-0123456789",
            created_at: 1_700_000_000,
            host_id: None,
        })
        .expect("identity")
        .id;
    let c = s.connection();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .expect("tables");
    let has = |t: &str| tables.iter().any(|x| x == t);
    let bob = "bob@fixturebobonionaddressfixturebobonionaddressfixturebobo.onion";
    let carol = "carol@fixturecarolonionaddressfixturecarolonionaddressfixtu.onion";
    let exec = |sql: &str, p: &[&dyn rusqlite::ToSql]| {
        c.execute(sql, p).unwrap_or_else(|e| panic!("{sql}: {e}"));
    };
    exec(
        "INSERT INTO contacts (identity_id, address, display_name, fingerprint, binding_sig,
            public_key, verification, added_at) VALUES (?1, ?2, 'Bob', ?3, ?4, ?5, 'scanned', 1700000100)",
        &[&id, &bob, &vec![1u8; 20], &vec![2u8; 64], &b"BOB-PUBLIC-KEY".to_vec()],
    );
    if has("messages") {
        exec(
            "INSERT INTO messages (identity_id, message_id, sender, sender_name, subject, folder,
                verification, sent_at, received_at, inner, raw) VALUES
                (?1, 'm1@fixture', ?2, 'Bob', 'Fixture subject', 'inbox', 'contact', 1700000200,
                 1700000201, ?3, ?4)",
            &[
                &id,
                &bob,
                &b"Subject: Fixture subject\r\n\r\nFixture body\r\n".to_vec(),
                &b"RAW".to_vec(),
            ],
        );
        exec(
            "INSERT INTO outbox (identity_id, recipient, message_id, draft_sealed, state,
                next_attempt, created_at) VALUES (?1, ?2, 'o1@fixture', ?3, 'queued', 0, 1700000300)",
            &[&id, &bob, &b"SEALED-DRAFT".to_vec()],
        );
    }
    if has("invites") {
        exec(
            "INSERT INTO invites (identity_id, token_hash, created_at, expires_at)
             VALUES (?1, ?2, 1700000400, 1700086800)",
            &[&id, &vec![3u8; 32]],
        );
        exec(
            "INSERT INTO introductions (identity_id, address, fingerprint, introducer, received_at,
                conflict, card) VALUES (?1, ?2, ?3, ?4, 1700000500, 0, 'POSTERN-CARD:FIXTURE')",
            &[&id, &carol, &vec![4u8; 20], &bob],
        );
        exec(
            "INSERT INTO revocations (identity_id, address, scope, fingerprint, revoked_at,
                received_at, reason, statement) VALUES (?1, ?2, 'key', ?3, 1700000600, 1700000601,
                'lost', ?4)",
            &[&id, &bob, &vec![5u8; 20], &b"STATEMENT".to_vec()],
        );
    }
    if has("carried") {
        exec(
            "INSERT INTO carrier_policy (identity_id, enabled, quota_bytes, max_hold_secs)
             VALUES (?1, 1, 1048576, 3600)",
            &[&id],
        );
        exec(
            "INSERT INTO carrier_allowed (identity_id, recipient) VALUES (?1, ?2)",
            &[&id, &carol],
        );
        exec(
            "INSERT INTO carried (identity_id, sender, recipient, data_hash, data, size,
                received_at, expires_at, state, next_attempt) VALUES
                (?1, ?2, ?3, ?4, ?5, 4, 1700000700, 1700004300, 'held', 1700000700)",
            &[&id, &bob, &carol, &vec![6u8; 32], &b"DATA".to_vec()],
        );
        exec(
            "INSERT INTO my_carriers (identity_id, carrier, added_at) VALUES (?1, ?2, 1700000800)",
            &[&id, &bob],
        );
        exec(
            "INSERT INTO contact_carriers (identity_id, contact, carrier, pass_sig, expires_at)
             VALUES (?1, ?2, ?3, ?4, 1800000000)",
            &[&id, &bob, &carol, &vec![8u8; 64]],
        );
        exec(
            "INSERT INTO carrier_stats (identity_id, carrier, successes, failures, last_contact)
             VALUES (?1, ?2, 3, 1, 1700000900)",
            &[&id, &carol],
        );
        exec(
            "INSERT INTO handovers (outbox_id, carrier, data_hash, handed_at, state, updated_at)
             VALUES (1, ?1, ?2, 1700001000, 'held', 1700001000)",
            &[&carol, &vec![9u8; 32]],
        );
    }
    if has("blobs") {
        // The row only: a fixture is the database and its key file, not the blob directory.
        exec(
            "INSERT INTO blobs (hash, size, refs) VALUES (?1, 18, 1)",
            &[&vec![10u8; 32]],
        );
        exec(
            "INSERT INTO message_attachments (message_id, position, name, content_type, hash)
             VALUES (1, 0, 'fixture.txt', 'text/plain', ?1)",
            &[&vec![10u8; 32]],
        );
        s.index_message(
            1,
            id,
            &postern_store::SearchText {
                subject: "Fixture subject",
                body: "Fixture body",
                sender_name: "Bob",
                sender: bob,
                attachment_names: "fixture.txt",
            },
        )
        .expect("index");
        s.log_event(Some(id), "message", Some(1), "inbox")
            .expect("event");
    }
    if has("mailboxes") {
        // The identity's mailboxes came with it; the message has its UID. A flag and a thread.
        s.connection()
            .execute(
                "UPDATE messages SET flagged = 1, refs = 'm0@fixture', in_reply_to = 'm0@fixture',
                    thread = 'm0@fixture' WHERE id = 1",
                [],
            )
            .expect("flags");
    }
    if has("lists") {
        // A list with this member's sealed key, a neighbour, an open invitation, a post and
        // list mail waiting.
        let row = s
            .insert_list(
                id,
                &[11; 32],
                "fixture list",
                b"CHARTER",
                "member",
                "",
                None,
                1700002000,
            )
            .expect("list");
        s.set_list_state(row, "member", Some(&[12; 32]), None)
            .expect("list key");
        s.add_list_link(row, &[13; 32], bob).expect("link");
        s.add_list_invite(row, bob, 1700002000).expect("invite");
        s.add_list_posts(
            row,
            &[postern_store::NewListPost {
                post_id: &[14; 32],
                author: &[13; 32],
                seq: 0,
                kind: "text",
                post: b"POST",
            }],
            1700002000,
        )
        .expect("post");
        s.push_list_mail(id, bob, b"FRAME", "m1@fixture", 1700002000)
            .expect("list mail");
        if has("list_blobs") {
            // The row only, as for the message's attachment: the list keeps that same blob.
            s.connection()
                .execute(
                    "UPDATE blobs SET refs = refs + 1 WHERE hash = ?1",
                    [&[10u8; 32][..]],
                )
                .expect("blob refs");
            s.connection()
                .execute(
                    "INSERT INTO list_blobs (list_row, hash) VALUES (?1, ?2)",
                    rusqlite::params![row, &[10u8; 32][..]],
                )
                .expect("list blob");
        }
        // The fixture's change log keeps its one event.
        s.connection()
            .execute("DELETE FROM events WHERE kind = 'list'", [])
            .expect("events");
    }
    if has("own_devices") {
        // Bob's identity is one of this person's own devices (carried for, designated).
        s.link_own_device(id, bob, 1700003000).expect("own device");
        s.connection()
            .execute("UPDATE invites SET purpose = 'device' WHERE id = 1", [])
            .expect("invite purpose");
    }
    if has("gateway") {
        // Alice is a gateway; Bob has a route and a message waiting to leave.
        s.set_gateway(
            id,
            &postern_store::GatewaySettings {
                domain: "gw.fixture.example".into(),
                selector: "s1".into(),
                dkim_pem: zeroize::Zeroizing::new("DKIM-PEM".into()),
                secret: zeroize::Zeroizing::new([11; 32]),
            },
            1700004000,
        )
        .expect("gateway");
        s.gateway_route(id, bob, 42, 1700004000).expect("route");
        s.gateway_enqueue(
            id,
            bob,
            "r-fixture@gw.fixture.example",
            "someone@example.org",
            "Fixture",
            b"From: x\r\n\r\nhi\r\n",
            1700004000,
        )
        .expect("gateway outbox");
    }
    if has("gateway_keys") {
        // Alice carries Bob's mail only, ten a day; she knows someone@example.org's key.
        s.set_gateway_policy(
            id,
            &postern_store::GatewayPolicy {
                all_contacts: false,
                senders: vec![bob.to_owned()],
                max_messages_per_day: 10,
                max_bytes_per_day: 1_000_000,
            },
        )
        .expect("policy");
        s.gateway_count_use(id, bob, 19675, 120).expect("usage");
        s.set_gateway_key(
            id,
            bob,
            "someone@example.org",
            b"OPENPGP-PUBLIC-KEY",
            "autocrypt",
            1700005000,
        )
        .expect("key");
        s.note_gateway_choice(id, bob, 1700005000).expect("choice");
    }
    drop(s);
    println!("wrote schema version {version} to {out}");
}
