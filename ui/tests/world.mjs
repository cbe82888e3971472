// A small world of real Postern nodes for the UI tests, built with the `postern` CLI over the
// loopback transport: the app's own store ("me") and the people it knows, with the mail, contacts,
// introductions, carriers and delivery states the screens show. Everything here happens through
// the real core (cards, introductions, a key revocation, hand-overs to carriers, receipts); the
// app's store is then opened by the UI tests through postern-ui-bridge.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const PASSPHRASE = "right horse";

/// The environment of every `postern` the world runs: the passphrase, and no inherited choice of
/// data directory or network.
function env(extra = {}) {
  const e = { ...process.env, POSTERN_PASSPHRASE: PASSPHRASE, ...extra };
  delete e.POSTERN_DATA_DIR;
  delete e.POSTERN_NETWORK_CONFIG;
  delete e.POSTERN_LOOPBACK;
  return e;
}

function postern(bin, dir, args, input) {
  return execFileSync(bin, ["--data-dir", dir, ...args], {
    env: env(),
    input: input ?? "",
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
  });
}

async function until(what, check, seconds = 60) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const got = check();
    if (got) return got;
    if (Date.now() > end) throw new Error(`world: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/// Build the world under `root`. Returns what the tests need: the app's data directory, the
/// loopback registry, and texts of people not yet met (an invite link, a QR picture).
export async function buildWorld(bin, root) {
  const reg = join(root, "registry");
  mkdirSync(reg, { recursive: true });
  const dirs = { me: join(root, "me"), bob: join(root, "bob"), carol: join(root, "carol"), others: join(root, "others") };
  const people = { me: "me", bob: "bob", carol: "carol", dave: "others", eve: "others", zed: "others", erin: "others", dana: "others" };
  const names = { me: "Me", bob: "Bob", carol: "Carol", dave: "Dave", eve: "Eve", zed: "Zed", erin: "Erin", dana: "Dana" };
  for (const d of Object.values(dirs)) postern(bin, d, ["init"]);
  for (const [who, where] of Object.entries(people)) {
    postern(bin, dirs[where], ["identity", "new", who, "--display-name", names[who]]);
  }
  // Me hosts an account for a guest who does not run Postern (its mail is readable by Me).
  postern(bin, dirs.me, ["account", "add", "--host", "me", "guest", "--name", "Guest"]);
  // And one for a guest who gave their own OpenPGP key (mail to it is encrypted to them alone).
  const holderKey = new URL("./fixtures/holder-public.asc", import.meta.url).pathname;
  postern(bin, dirs.me, ["account", "add", "--host", "me", "sealed", "--name", "Sealed", "--holder-key", holderKey]);
  const addr = {};
  for (const d of Object.values(dirs)) {
    for (const i of JSON.parse(postern(bin, d, ["identity", "list", "--json"]))) addr[i.address.split("@")[0]] = i.address;
  }
  const cards = join(root, "cards");
  mkdirSync(cards, { recursive: true });
  const card = (who) => {
    const f = join(cards, `${who}.card`);
    if (!existsSync(f)) writeFileSync(f, postern(bin, dirs[people[who]], ["identity", "export-card", who]));
    return f;
  };
  const knows = (who, whom) => postern(bin, dirs[people[who]], ["contact", "add", "-i", who, "--file", card(whom)]);
  // Address books (by card: no handshake messages in anyone's inbox).
  for (const [a, b] of [["me", "bob"], ["me", "dave"], ["me", "eve"], ["bob", "carol"], ["bob", "dave"], ["dave", "carol"]]) {
    knows(a, b);
    knows(b, a);
  }
  knows("zed", "me");
  // Eve keeps Carol's first key; Carol then replaces it (revocation), and only her contacts hear.
  knows("eve", "carol");
  postern(bin, dirs.carol, ["revoke", "carol", "--key", "--reason", "new laptop", "--yes"]);
  knows("carol", "me");

  const nodes = {};
  const start = async (name) => {
    const child = spawn(bin, ["--data-dir", dirs[name], "run", "--loopback", reg, "--retry-first", "1", "--retry-max", "2", "--stamp-bits", "12"], {
      env: env({ RUST_LOG: "warn" }),
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    await until(`${name}'s node`, () => out.includes("Connected."), 60);
    nodes[name] = child;
  };
  const stop = async (name) => {
    const child = nodes[name];
    delete nodes[name];
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
  };
  const outbox = (who) => JSON.parse(postern(bin, dirs[people[who]], ["outbox", "-i", who, "--json"]));
  const settled = (who, subject, state) =>
    until(`${who}'s "${subject}" to be ${state}`, () => outbox(who).find((o) => o.subject === subject && o.state === state));
  const allDelivered = (who) => until(`${who}'s outbox to be delivered`, () => outbox(who).every((o) => o.state === "delivered"));
  const send = (who, to, subject, body, attach) =>
    postern(bin, dirs[people[who]], ["send", "--from", who, "--to", addr[to], "--subject", subject, "--body", body, ...(attach ? ["--attach", attach] : [])]);

  try {
    for (const n of ["me", "bob", "carol", "others"]) await start(n);
    // Carol's revocation notices go out at start.
    await allDelivered("carol");
    // Carriers: Bob carries for Carol; the app ("me") carries for Bob.
    postern(bin, dirs.carol, ["carriers", "-i", "carol", "--add", addr.bob]);
    postern(bin, dirs.bob, ["carrier", "on", "-i", "bob"]);
    postern(bin, dirs.bob, ["carrier", "policy", "-i", "bob", "--allow", addr.carol]);
    postern(bin, dirs.bob, ["carriers", "-i", "bob", "--add", addr.me]);
    postern(bin, dirs.me, ["carrier", "on", "-i", "me"]);
    postern(bin, dirs.me, ["carrier", "policy", "-i", "me", "--allow", addr.bob]);
    await allDelivered("carol");
    await allDelivered("bob");
    // Carol is introduced to the app by Bob and by Dave (her new key), and by Eve (her old key:
    // a conflict, recorded and flagged, never merged).
    // One after the other: the first introduction of an address makes the contact, so Eve's
    // (the old key) must arrive last, or Carol's mail, signed with her new key, is refused.
    postern(bin, dirs.bob, ["introduce", "-i", "bob", addr.carol, "--to", addr.me]);
    await allDelivered("bob");
    postern(bin, dirs.others, ["introduce", "-i", "dave", addr.carol, "--to", addr.me]);
    await until("Dave's introduction", () => outbox("dave").length > 0 && outbox("dave").every((o) => o.state === "delivered"));
    postern(bin, dirs.others, ["introduce", "-i", "eve", addr.carol, "--to", addr.me]);
    await until("Eve's introduction", () => outbox("eve").some((o) => o.to === addr.me) && outbox("eve").every((o) => o.state === "delivered"));
    // A mailing list: Bob creates it, posts, and invites the app, which joins (its node takes
    // Bob's welcome and catches up on the post).
    postern(bin, dirs.bob, ["list", "create", "-i", "bob", "Book club"]);
    postern(bin, dirs.bob, ["list", "post", "-i", "bob", "Book club", "-s", "First meeting", "-t", "Thursday at eight."]);
    postern(bin, dirs.bob, ["list", "invite", "-i", "bob", "Book club", addr.me]);
    const lists = (who) => JSON.parse(postern(bin, dirs[people[who]], ["list", "show", "-i", who, "--json"]));
    await until("the app's invitation to the list", () => lists("me")[0]?.state === "invited");
    postern(bin, dirs.me, ["list", "join", "-i", "me", "Book club"]);
    await until("the app in the list with Bob's post", () => lists("me")[0]?.state === "member" && lists("me")[0]?.posts === 1);
    // Erin scans the app's invite: the handshake makes each the other's contact.
    const meLink = postern(bin, dirs.me, ["link", "me"]).split("\n").find((l) => l.startsWith("POSTERN:"));
    postern(bin, dirs.others, ["contact", "add", "-i", "erin", meLink]);
    await until("Erin's handshake", () => outbox("erin").length > 0 && outbox("erin").every((o) => o.state === "delivered"));
    // Mail: a request from a stranger, Carol's photos, Bob's lunch thread with a menu attached.
    send("zed", "me", "Hello, we met at the meetup", "It was nice to talk.");
    send("carol", "me", "Photos", "From the weekend.");
    await allDelivered("carol");
    await until("Zed's request", () => outbox("zed").every((o) => o.state === "delivered"));
    const menu = join(root, "menu.pdf");
    writeFileSync(menu, "%PDF-1.4\n% a menu\n");
    send("bob", "me", "Lunch on Friday?", "Shall we?\nThe usual place.", menu);
    await allDelivered("bob");
    // A follow-up in the same thread (In-Reply-To and References, as a mail client writes).
    const lunch = JSON.parse(postern(bin, dirs.bob, ["list", "-i", "bob", "-m", "sent", "--json"])).find((m) => m.subject === "Lunch on Friday?");
    postern(bin, dirs.bob, ["reply", String(lunch.id), "--body", "Noon works."]);
    send("bob", "dave", "Hello Dave", "So that you know where my mail waits when I am away.");
    await allDelivered("bob");
    // The app's sent mail: delivered; delivered via a carrier; held by a carrier.
    send("me", "bob", "Notes", "The notes from Tuesday.");
    await settled("me", "Notes", "delivered");
    await stop("carol");
    send("me", "carol", "Notes for Carol", "While you were away.");
    await settled("me", "Notes for Carol", "carried");
    await start("carol");
    await until("delivery via Bob", () => outbox("me").find((o) => o.subject === "Notes for Carol" && o.delivered_via));
    await stop("carol");
    send("me", "carol", "Photos back", "Here are mine.");
    await settled("me", "Photos back", "carried");
    // The app holds a message for Bob while he is offline.
    await stop("bob");
    send("dave", "bob", "For Bob", "Waiting for you at a carrier.");
    await settled("dave", "For Bob", "carried");
  } finally {
    for (const n of Object.keys(nodes)) await stop(n);
  }
  const links = join(root, "links");
  mkdirSync(links, { recursive: true });
  const danaLink = postern(bin, dirs.others, ["link", "dana"]).split("\n").find((l) => l.startsWith("POSTERN:"));
  const erinPng = join(links, "erin.png");
  postern(bin, dirs.others, ["qr", "show", "erin", "--png", erinPng]);
  return { meDir: dirs.me, dirs, people, registry: reg, addr, danaLink, erinPng: readFileSync(erinPng) };
}

/// Later, while a test runs: `who` (one of the world's people) writes to `to`, and the node of
/// their data directory runs to deliver it. Returns a function that stops the node.
export async function sendFrom(bin, world, who, to, subject, body) {
  const dir = world.dirs[world.people[who]];
  postern(bin, dir, ["send", "--from", who, "--to", world.addr[to], "--subject", subject, "--body", body]);
  const child = spawn(bin, ["--data-dir", dir, "run", "--loopback", world.registry, "--retry-first", "1", "--retry-max", "2"], {
    env: env({ RUST_LOG: "warn" }),
    stdio: ["ignore", "ignore", "ignore"],
  });
  return () => {
    child.kill("SIGTERM");
    return new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
  };
}
