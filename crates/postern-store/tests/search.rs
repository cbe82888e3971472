//! Search against a brute-force scan of a generated corpus; identities kept apart; attachments
//! stored once and freed with their last message.

use std::collections::BTreeSet;
use std::path::Path;

use postern_crypto::KdfParams;
use postern_store::{NewIdentity, NewMessage, SearchText, Store, HIT_END, HIT_START};

fn fast() -> KdfParams {
    KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    }
}

fn identity(s: &mut Store, name: &str) -> i64 {
    let onion = format!("{name}onion.onion");
    s.insert_identity(&NewIdentity {
        local_part: name,
        onion: &onion,
        display_name: name,
        fingerprint: &[7; 20],
        binding_sig: &[9; 64],
        public_key: b"public",
        onion_secret: b"onion secret",
        openpgp_secret: b"openpgp secret",
        created_at: 1,
        host_id: None,
    })
    .expect("identity")
    .id
}

fn message(
    identity_id: i64,
    n: usize,
    sender: &str,
    sender_name: &str,
    subject: &str,
) -> NewMessage {
    NewMessage {
        identity_id,
        message_id: format!("<{n}@test>"),
        sender: sender.to_owned(),
        sender_name: sender_name.to_owned(),
        subject: subject.to_owned(),
        folder: "inbox".into(),
        verification: "contact".into(),
        sent_at: None,
        received_at: n as i64,
        inner: Vec::new(),
        raw: Vec::new(),
        sender_key: None,
        sender_binding_sig: None,
        ..Default::default()
    }
}

/// A small deterministic generator (xorshift), so the corpus is the same on every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "lunch",
    "friday",
    "garden",
    "harbour",
    "lantern",
    "meeting",
    "usual",
    "place",
    "ticket",
    "train",
    "invoice",
    "paint",
    "window",
    "river",
    "candle",
    "orchard",
    "letter",
    "winter",
    "summer",
    "market",
    "bread",
    "violin",
    "rehearsal",
    "passport",
    "museum",
    "lunchbox",
    "gardener",
    "train-station",
    "café",
    "naïve",
];
const PEOPLE: &[(&str, &str)] = &[
    ("Alice Liddell", "alice@a.onion"),
    ("Bob Builder", "bob@b.onion"),
    ("Carol Singer", "carol@c.onion"),
    ("Dave Lister", "dave@d.onion"),
];

struct Doc {
    id: i64,
    identity: i64,
    fields: Vec<String>,
    from: Vec<String>,
}

/// Words as the index sees them: lower case, accents folded, split at anything not a letter or
/// digit.
fn words(text: &str) -> Vec<String> {
    let folded: String = text
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'é' => 'e',
            'ï' => 'i',
            c => c,
        })
        .collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn has_word(text: &str, w: &str, prefix: bool) -> bool {
    words(text)
        .iter()
        .any(|t| if prefix { t.starts_with(w) } else { t == w })
}

fn has_phrase(text: &str, phrase: &[&str]) -> bool {
    let ws = words(text);
    ws.windows(phrase.len())
        .any(|win| win.iter().zip(phrase).all(|(a, b)| a == b))
}

/// What a brute-force scan finds for one of the query shapes below.
fn expected(docs: &[Doc], identity: Option<i64>, q: &Query) -> BTreeSet<i64> {
    docs.iter()
        .filter(|d| identity.is_none_or(|i| d.identity == i))
        .filter(|d| match q {
            Query::Words(ws) => ws
                .iter()
                .all(|w| d.fields.iter().any(|f| has_word(f, w, false))),
            Query::Prefix(p) => d.fields.iter().any(|f| has_word(f, p, true)),
            Query::Phrase(p) => d.fields.iter().any(|f| has_phrase(f, p)),
            Query::From(w) => d.from.iter().any(|f| has_word(f, w, false)),
        })
        .map(|d| d.id)
        .collect()
}

enum Query {
    Words(Vec<&'static str>),
    Prefix(&'static str),
    Phrase(Vec<&'static str>),
    From(&'static str),
}

impl Query {
    fn text(&self) -> String {
        match self {
            Query::Words(ws) => ws.join(" "),
            Query::Prefix(p) => format!("{p}*"),
            Query::Phrase(p) => format!("\"{}\"", p.join(" ")),
            Query::From(w) => format!("from:{w}"),
        }
    }
}

fn corpus(s: &mut Store, identities: &[i64], n: usize) -> Vec<Doc> {
    let mut rng = Seeded(0x5e_ed5e_a2c4);
    let mut docs = Vec::new();
    for i in 0..n {
        let identity = identities[i % identities.len()];
        let (name, addr) = PEOPLE[(rng.next() % PEOPLE.len() as u64) as usize];
        let subject: Vec<&str> = (0..3).map(|_| rng.pick(WORDS)).collect();
        let body: Vec<&str> = (0..20).map(|_| rng.pick(WORDS)).collect();
        let attachment = if rng.next().is_multiple_of(4) {
            format!("{}.pdf", rng.pick(WORDS))
        } else {
            String::new()
        };
        let (subject, body) = (subject.join(" "), body.join(" "));
        let m = message(identity, i, addr, name, &subject);
        let id = match s.insert_message(&m).expect("insert") {
            postern_store::Inserted::New(id) => id,
            other => panic!("{other:?}"),
        };
        s.index_message(
            id,
            identity,
            &SearchText {
                subject: &subject,
                body: &body,
                sender_name: name,
                sender: addr,
                attachment_names: &attachment,
            },
        )
        .expect("index");
        docs.push(Doc {
            id,
            identity,
            fields: vec![subject, body, name.into(), addr.into(), attachment],
            from: vec![name.into(), addr.into()],
        });
    }
    docs
}

#[test]
fn search_finds_exactly_what_a_scan_finds_and_keeps_identities_apart() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut s = Store::create(&dir.path().join("postern.db"), b"pass", fast()).expect("create");
    let ids = [identity(&mut s, "work"), identity(&mut s, "home")];
    let docs = corpus(&mut s, &ids, 600);
    let queries = vec![
        Query::Words(vec!["lunch"]),
        Query::Words(vec!["lunch", "friday"]),
        Query::Words(vec!["violin", "museum", "winter"]),
        Query::Words(vec!["cafe"]),
        Query::Words(vec!["naive"]),
        Query::Words(vec!["station"]),
        Query::Words(vec!["pdf", "letter"]),
        Query::Words(vec!["nothinglikethis"]),
        Query::Prefix("lunch"),
        Query::Prefix("gard"),
        Query::Prefix("r"),
        Query::Phrase(vec!["usual", "place"]),
        Query::Phrase(vec!["train", "station"]),
        Query::Phrase(vec!["winter", "summer", "market"]),
        Query::From("alice"),
        Query::From("lister"),
        Query::From("garden"),
    ];
    let mut checked = 0;
    for q in &queries {
        for scope in [None, Some(ids[0]), Some(ids[1])] {
            let want = expected(&docs, scope, q);
            let hits = s.search(scope, &q.text(), 10_000).expect("search");
            let got: BTreeSet<i64> = hits.iter().map(|h| h.message_id).collect();
            assert_eq!(got.len(), hits.len(), "{}: a message twice", q.text());
            assert_eq!(got, want, "query {:?} in {scope:?}", q.text());
            if let Some(i) = scope {
                assert!(docs
                    .iter()
                    .filter(|d| got.contains(&d.id))
                    .all(|d| d.identity == i));
            }
            // Ranked best first; every snippet marks a hit.
            assert!(hits.windows(2).all(|w| w[0].rank <= w[1].rank));
            assert!(hits
                .iter()
                .all(|h| h.snippet.contains(HIT_START) && h.snippet.contains(HIT_END)));
            checked += 1;
        }
    }
    assert_eq!(checked, queries.len() * 3);
    // Both identities have hits for a common word, so the separation above was tested.
    let q = Query::Words(vec!["lunch"]);
    assert!(!expected(&docs, Some(ids[0]), &q).is_empty());
    assert!(!expected(&docs, Some(ids[1]), &q).is_empty());
    // A subject hit outranks a body-only hit of the same word.
    let one = message(ids[0], 10_001, "x@x.onion", "X", "zebra");
    let two = message(ids[0], 10_002, "x@x.onion", "X", "other");
    for (m, subject, body) in [(&one, "zebra", "nothing"), (&two, "other", "a zebra here")] {
        let postern_store::Inserted::New(id) = s.insert_message(m).expect("insert") else {
            panic!("dup")
        };
        let t = SearchText {
            subject,
            body,
            sender_name: "X",
            sender: "x@x.onion",
            attachment_names: "",
        };
        s.index_message(id, ids[0], &t).expect("index");
    }
    let hits = s.search(Some(ids[0]), "zebra", 10).expect("search");
    assert_eq!(hits.len(), 2);
    assert_eq!(
        s.message(hits[0].message_id).expect("m").subject,
        "zebra",
        "the subject match ranks first"
    );
    // Whatever a person types is a query, never an error.
    for q in [
        "\"",
        "NEAR(",
        "a OR",
        "*",
        "from:",
        "\"unclosed phrase",
        "-x",
        "^y",
        "col:thing",
    ] {
        s.search(None, q, 10)
            .unwrap_or_else(|e| panic!("{q:?}: {e}"));
    }
}

fn blob_files(dir: &Path) -> usize {
    let Ok(subdirs) = std::fs::read_dir(dir.join("blobs")) else {
        return 0;
    };
    subdirs
        .flatten()
        .map(|d| std::fs::read_dir(d.path()).map(|f| f.count()).unwrap_or(0))
        .sum()
}

#[test]
fn an_attachment_in_ten_messages_is_stored_once_encrypted_and_freed_with_the_last() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut s = Store::create(&dir.path().join("postern.db"), b"pass", fast()).expect("create");
    let me = identity(&mut s, "me");
    // Larger than one chunk, and recognisable.
    let data: Vec<u8> = b"ATTACHMENT-PLAINTEXT-"
        .iter()
        .copied()
        .cycle()
        .take(300 * 1024)
        .collect();
    let mut messages = Vec::new();
    for n in 0..10 {
        let postern_store::Inserted::New(id) = s
            .insert_message(&message(me, n, "bob@b.onion", "Bob", "the plan"))
            .expect("insert")
        else {
            panic!("dup")
        };
        let hash = s.put_blob(&data).expect("blob");
        s.add_message_attachment(id, 0, "plan.pdf", "application/pdf", &hash)
            .expect("attach");
        messages.push(id);
    }
    assert_eq!(blob_files(dir.path()), 1, "stored once");
    assert_eq!(s.blob_usage().expect("usage"), (1, data.len() as i64));
    // Encrypted: the file holds none of the content.
    let blobs = dir.path().join("blobs");
    for d in std::fs::read_dir(&blobs).expect("ls").flatten() {
        for f in std::fs::read_dir(d.path()).expect("ls").flatten() {
            let bytes = std::fs::read(f.path()).expect("read");
            assert!(!bytes.windows(20).any(|w| w == &data[..20]));
        }
    }
    let a = s.message_attachments(messages[3]).expect("list");
    assert_eq!(a.len(), 1);
    assert_eq!(s.read_blob(&a[0].hash).expect("read"), data);
    let mut streamed = Vec::new();
    assert_eq!(
        s.copy_blob(&a[0].hash, &mut streamed).expect("copy"),
        data.len() as u64
    );
    assert_eq!(streamed, data);

    for (i, id) in messages.iter().enumerate() {
        s.delete_message(*id).expect("delete");
        s.collect_garbage().expect("gc");
        let left = if i + 1 < messages.len() { 1 } else { 0 };
        assert_eq!(
            blob_files(dir.path()),
            left,
            "after deleting {} of 10",
            i + 1
        );
    }
    assert_eq!(s.blob_usage().expect("usage"), (0, 0));

    // A damaged blob file is an error, never wrong bytes.
    let postern_store::Inserted::New(id) = s
        .insert_message(&message(me, 99, "bob@b.onion", "Bob", "again"))
        .expect("insert")
    else {
        panic!("dup")
    };
    let hash = s.put_blob(&data).expect("blob");
    s.add_message_attachment(id, 0, "plan.pdf", "application/pdf", &hash)
        .expect("attach");
    for d in std::fs::read_dir(&blobs).expect("ls").flatten() {
        for f in std::fs::read_dir(d.path()).expect("ls").flatten() {
            let mut bytes = std::fs::read(f.path()).expect("read");
            let mid = bytes.len() / 2;
            bytes[mid] ^= 1;
            std::fs::write(f.path(), bytes).expect("write");
        }
    }
    assert!(s.read_blob(&hash).is_err());
}
