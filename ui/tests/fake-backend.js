// A stand-in for the Tauri commands of src-tauri, for the browser tests only: the same command
// names and shapes, with in-memory state. Installed with page.addInitScript before the app loads.
(() => {
  const onion = (c) => c.repeat(56).slice(0, 56);
  const me = `me@${onion("m")}.onion`;
  const bob = `bob@${onion("b")}.onion`;
  const carol = `carol@${onion("c")}.onion`;
  const start = JSON.parse(sessionStorage.getItem("fake.start") || '{"initialized":true,"unlocked":true}');
  const saved = sessionStorage.getItem("fake.db");
  const db = saved ? JSON.parse(saved) : {
    status: { initialized: start.initialized, unlocked: start.unlocked, data_dir: "/home/test/.local/share/postern" },
    identities: start.initialized ? [{ id: 1, address: me, display_name: "Me", fingerprint: "AB".repeat(20), contacts: 2 }] : [],
    node: { state: "off", percent: 0, message: "", serving: [] },
    contacts: [
      { id: 1, address: bob, display_name: "Bob", fingerprint: "B0".repeat(20), has_key: true, verification: "scanned", trust: "verified", trust_label: "verified by scan", introductions: [] },
      { id: 2, address: carol, display_name: "Carol", fingerprint: "C0".repeat(20), has_key: true, verification: "introduced", trust: "vouched", trust_label: "introduced by Bob and Dave", introductions: [
        { introducer: bob, introducer_name: "Bob", received_at: 1795300000, conflict: false },
        { introducer: `dave@${onion("d")}.onion`, introducer_name: "Dave", received_at: 1795310000, conflict: false },
        { introducer: `eve@${onion("e")}.onion`, introducer_name: "Eve", received_at: 1795320000, conflict: true },
      ] },
    ],
    inbox: [
      { id: 1, identity: me, from: bob, from_name: "Bob", subject: "Lunch on Friday?", folder: "inbox", verification: "contact", received_at: 1795380000, read: false },
      { id: 3, identity: me, from: bob, from_name: "Bob", subject: "Re: Lunch on Friday?", folder: "inbox", verification: "contact", received_at: 1795383000, read: false },
      { id: 4, identity: me, from: carol, from_name: "Carol", subject: "Photos", folder: "inbox", verification: "contact", received_at: 1795382000, read: true },
    ],
    requests: [{ id: 2, identity: me, from: `zed@${onion("z")}.onion`, from_name: "Zed", subject: "Hello, we met at the meetup", folder: "requests", verification: "first_contact", received_at: 1795381000, read: false }],
    outbox: [
      { id: 7, to: bob, subject: "Notes", state: "delivered", attempts: 1, last_error: null, delivered_via: carol },
      { id: 8, to: carol, subject: "Photos", state: "carried", attempts: 1, last_error: "recipient offline; held by 1 carrier(s)", delivered_via: null },
    ],
    carrier: { enabled: false, quota_bytes: 100 * 1048576, max_hold_secs: 14 * 86400, carrying_for: [], held: 1, held_bytes: 4829, note: "As a carrier, this device holds mail for the people you allow while they are offline. It cannot read that mail (it stays encrypted to its recipient); it learns who sent it to whom, its size, and when." },
  };
  const fail = (kind, message) => Promise.reject({ kind, message });
  const qr = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29"><rect width="29" height="29" fill="#fff"/><path d="M1 1h7v7H1zM21 1h7v7h-7zM1 21h7v7H1z"/></svg>';
  const link = "POSTERN:AEAQCAIBAEAQCAIBAEAQCAIBAE" + "A".repeat(200);
  const handlers = {
    app_status: () => db.status,
    init_store: ({ passphrase }) => passphrase.length < 1 ? fail("BadInput", "the passphrase must not be empty") : ((db.status.initialized = db.status.unlocked = true), db.status),
    unlock: ({ passphrase }) => passphrase === "right" ? ((db.status.unlocked = true), db.status) : fail("WrongPassphrase", "wrong passphrase"),
    identities: () => db.identities,
    create_identity: ({ name, displayName }) => {
      if (!/^[a-z0-9._-]+$/.test(name)) return fail("BadInput", "the name may use a-z, 0-9, '.', '_' and '-'");
      const i = { id: db.identities.length + 1, address: `${name}@${onion(name[0])}.onion`, display_name: displayName, fingerprint: "CD".repeat(20), contacts: 0 };
      db.identities.push(i);
      return i;
    },
    start_node: () => ((db.node = { state: "connecting", percent: 45, message: "fetching microdescriptors", serving: [] }), db.node),
    node_status: () => {
      if (db.node.state === "connecting") {
        db.node.percent = Math.min(100, db.node.percent + 35);
        if (db.node.percent >= 100) db.node = { state: "online", percent: 100, message: "", serving: db.identities.map((i) => i.address) };
      }
      return db.node;
    },
    inbox: () => db.inbox,
    requests: () => db.requests,
    read_message: ({ id }) => {
      const m = [...db.inbox, ...db.requests].find((x) => x.id === id);
      return m ? { ...m, read: true, text: m.id === 3 ? "Noon works." : "Shall we?\nThe usual place.", attachments: m.id === 1 ? [{ name: "menu.pdf", content_type: "application/pdf", size: 40000 }] : [] } : fail("NotFound", `no message ${id}`);
    },
    accept_request: ({ id }) => ((db.requests = db.requests.filter((m) => m.id !== id)), db.contacts[0]),
    send: ({ to, subject }) => {
      if (!/^[a-z0-9._-]+@[a-z2-7]{56}\.onion$/.test(to)) return fail("BadInput", `${to} is not a Postern address (name@<56 characters>.onion)`);
      const o = { id: db.outbox.length + 10, to, subject, state: "queued", attempts: 0, last_error: null, delivered_via: null };
      db.outbox.unshift(o);
      return o;
    },
    outbox: () => db.outbox,
    contacts: () => db.contacts,
    introduce: ({ whom, to }) => [{ id: 20, to, subject: `Introducing ${whom}`, state: "queued", attempts: 0, last_error: null, delivered_via: null }],
    create_invite: () => ({ link, svg: qr, expires_at: 1795470000 }),
    read_scanned: ({ text }) => text.trim().toUpperCase().startsWith("POSTERN:")
      ? { kind: "invite", address: `dana@${onion("q")}.onion`, display_name: "Dana", fingerprint: "DA".repeat(20), has_key: false, expires_at: 1795470000, text }
      : fail("BadInput", "this is not a Postern invite or card (it should start with postern: or POSTERN-CARD:)"),
    scan_image: ({ dataB64 }) => atob(dataB64).startsWith("\x89PNG")
      ? { kind: "card", address: `erin@${onion("r")}.onion`, display_name: "Erin", fingerprint: "EE".repeat(20), has_key: true, expires_at: null, text: "POSTERN-CARD:AAAA" }
      : fail("BadInput", "this file is not a readable PNG or JPEG image"),
    scan_frame: () => fail("BadInput", "no QR code found in the image"),
    accept_scanned: () => ({ id: 3, address: `dana@${onion("q")}.onion`, display_name: "Dana", fingerprint: "DA".repeat(20), has_key: false, verification: "scanned", trust: "verified", trust_label: "verified by scan", introductions: [] }),
    carriers: () => ({ my_carriers: [carol], mode: db.carrier, held: [{ id: 1, sender: bob, recipient: carol, size: 4829, state: "held", expires_at: 1796500000 }] }),
    set_carrier_mode: ({ enabled }) => ((db.carrier.enabled = enabled), db.carrier),
    set_carrier_policy: ({ allow, quotaMb, maxHoldHours }) => quotaMb < 1 ? fail("BadInput", "the quota and the holding time must be positive") : ((db.carrier.carrying_for = allow), (db.carrier.quota_bytes = quotaMb * 1048576), (db.carrier.max_hold_secs = maxHoldHours * 3600), db.carrier),
  };
  window.__fakeCalls = [];
  window.__TAURI_INTERNALS__ = {
    invoke: (cmd, args) => {
      window.__fakeCalls.push(cmd);
      const f = handlers[cmd];
      if (!f) return fail("Internal", `unknown command ${cmd}`);
      try {
        const out = f(args || {});
        sessionStorage.setItem("fake.db", JSON.stringify(db));
        return Promise.resolve(out);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    transformCallback: () => 0,
  };
})();
