"""The real app window under Xvfb, driven through tauri-driver and WebKitWebDriver.

1. First run: create a passphrase and an identity; the invite QR code is shown.
2. Two app instances (separate data directories, loopback transport): Bob pastes Alice's invite
   link and confirms; both connect; Bob writes to Alice; Alice's open inbox shows the message by
   itself, a desktop notification (recorded by a mock daemon on the session bus, see
   scripts/app-test.sh) says "New mail" without sender or subject, and the search box finds it.
3. The system sleeps (a mock logind's PrepareForSleep on DBUS_SYSTEM_BUS_ADDRESS): both nodes
   show paused; on waking both are connected again and a message still goes through.
Screenshots go to target/app-screenshots/. Usage: window.py APP_BINARY DRIVER_PORT_A DRIVER_PORT_B
"""

import os
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support.ui import WebDriverWait

APP, PORT_A, PORT_B = sys.argv[1], sys.argv[2], sys.argv[3]
SHOTS = os.path.abspath("target/app-screenshots")
os.makedirs(SHOTS, exist_ok=True)


def window(port):
    opts = ArgOptions()
    opts.set_capability("browserName", "wry")
    opts.set_capability("tauri:options", {"application": APP})
    return webdriver.Remote(command_executor=f"http://127.0.0.1:{port}", options=opts)


step = "starting the windows"


def at(what):
    """Names the step in progress, so a failure says where it happened."""
    global step
    step = what
    print("app window:", what, flush=True)


def click(d, css, timeout=30):
    """Click what `css` finds, again if the screen redrew it meanwhile (live updates)."""
    from selenium.common.exceptions import StaleElementReferenceException
    deadline = time.time() + timeout
    while True:
        try:
            wait(d, css, timeout).click()
            return
        except StaleElementReferenceException:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def wait(d, css, timeout=60):
    return WebDriverWait(d, timeout).until(
        lambda d: d.find_element(By.CSS_SELECTOR, css),
        message=f"waiting {timeout} s for {css}",
    )


def shot(d, name):
    time.sleep(1)
    d.save_screenshot(os.path.join(SHOTS, name + ".png"))


def first_run(d, name):
    wait(d, "#new-passphrase").send_keys("app test passphrase")
    d.find_element(By.CSS_SELECTOR, "#repeat-passphrase").send_keys("app test passphrase")
    n = d.find_element(By.CSS_SELECTOR, "#name")
    n.clear()
    n.send_keys(name)
    d.find_element(By.CSS_SELECTOR, "#display-name").send_keys(name.capitalize())
    d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(d, "#my-qr svg")


def connect(d):
    d.execute_script("location.hash = '#/tor'")
    wait(d, "#connect").click()
    WebDriverWait(d, 90).until(
        lambda d: "Connected" in d.find_element(By.CSS_SELECTOR, "#bootstrap-text").text,
        message="waiting 90 s for 'Connected'",
    )


# logind saying the system goes to sleep (or woke), through the mock's EmitSignal (Debian's
# python3 has the dbus module; the test's venv does not).
EMIT = """
import sys, dbus
bus = dbus.bus.BusConnection(sys.argv[1])
logind = bus.get_object("org.freedesktop.login1", "/org/freedesktop/login1")
logind.EmitSignal("org.freedesktop.login1.Manager", "PrepareForSleep", "b",
                  [dbus.Boolean(sys.argv[2] == "1")], dbus_interface="org.freedesktop.DBus.Mock")
"""


def system_sleeps(going):
    bus = os.environ["DBUS_SYSTEM_BUS_ADDRESS"]
    subprocess.run(["/usr/bin/python3", "-c", EMIT, bus, "1" if going else "0"],
                   check=True, timeout=30)


def network_says(d, words, timeout=60):
    WebDriverWait(d, timeout, poll_frequency=0.5).until(
        lambda d: words in d.find_element(By.CSS_SELECTOR, "#bootstrap-text").text,
        message=f"waiting {timeout} s for the Network screen to say {words!r}",
    )


alice = window(PORT_A)
bob = window(PORT_B)
failures = []
try:
    at("first run (alice)")
    first_run(alice, "alice")
    assert alice.find_element(By.CSS_SELECTOR, "#my-link").get_attribute("value").startswith("POSTERN:")
    shot(alice, "first-run-qr")
    at("alice connects, and shows her invite again")
    connect(alice)
    shot(alice, "network")
    # Leaving the Meet screen withdrew that invite; the one shown now must stay on screen until
    # Bob's handshake has arrived.
    alice.execute_script("location.hash = '#/qr'")
    link = wait(alice, "#my-link").get_attribute("value")
    assert link.startswith("POSTERN:"), link

    at("first run (bob), then accepting alice's invite")
    first_run(bob, "bob")
    bob.find_element(By.CSS_SELECTOR, "#paste").send_keys(link)
    bob.find_element(By.CSS_SELECTOR, "form.inline button").click()
    wait(bob, "#confirm-add").click()
    wait(bob, "#added")
    shot(bob, "invite-accepted")
    at("bob connects; his handshake reaches alice's open Meet screen")
    connect(bob)
    WebDriverWait(alice, 60, poll_frequency=1).until(
        lambda d: d.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const call = (command, args) => window.__TAURI_INTERNALS__.invoke('call', { command, args });
            call('identities', {})
                .then((ids) => call('contacts', { identity: ids[0].address }))
                .then((c) => done(c.length), () => done(0));
        """) > 0,
        message="waiting 60 s for Bob to be Alice's contact",
    )
    alice.execute_script("location.hash = '#/mail/inbox'")
    wait(alice, "#messages")
    at("bob writes to alice")
    bob.execute_script("location.hash = '#/compose'")
    wait(bob, "#to")
    # Alice's address, as Bob's contact list has it.
    addr = bob.execute_script(
        "return document.querySelector('#contact-list option')?.value || ''")
    to = bob.find_element(By.CSS_SELECTOR, "#to")
    to.clear()
    to.send_keys(addr)
    bob.find_element(By.CSS_SELECTOR, "#subject").send_keys("Hello from the app")
    bob.find_element(By.CSS_SELECTOR, "#text").send_keys("Sent from one window to the other.")
    bob.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    # Alice's inbox is open before the message is sent, and nobody touches it: the message must
    # show by itself (the core's event; the UI does not poll).
    at("waiting for the message in alice's open inbox")
    WebDriverWait(alice, 90, poll_frequency=1).until(
        lambda d: "Hello from the app" in d.find_element(By.CSS_SELECTOR, "#messages").text,
        message="waiting 90 s for the message to show by itself",
    )
    at("alice reads it")
    alice.find_element(By.CSS_SELECTOR, "#messages button").click()
    wait(alice, "#reader .verified")
    text = alice.find_element(By.CSS_SELECTOR, "#reader").text
    assert "Sent from one window to the other." in text, text
    at("the notification (mock daemon on the session bus)")
    log = os.environ.get("POSTERN_NOTIFY_LOG")
    assert log, "POSTERN_NOTIFY_LOG names the mock notification daemon's log"
    deadline = time.time() + 30
    seen = ""
    while time.time() < deadline and "Notify" not in seen:
        time.sleep(0.5)
        seen = open(log, encoding="utf-8", errors="replace").read() if os.path.exists(log) else ""
    assert "Notify" in seen and "New mail" in seen, f"no notification recorded: {seen!r}"
    # The handshake and the message: one notification each.
    deadline = time.time() + 10
    while time.time() < deadline and seen.count("Notify") < 2:
        time.sleep(0.5)
        seen = open(log, encoding="utf-8", errors="replace").read()
    assert seen.count("Notify") >= 2, seen
    # By default a notification shows neither the sender nor the subject.
    assert "Hello from the app" not in seen and "Bob" not in seen, seen
    at("searching for it")
    box = alice.find_element(By.CSS_SELECTOR, "#search")
    box.send_keys("window")
    alice.find_element(By.CSS_SELECTOR, "form[role=search] button").click()
    WebDriverWait(alice, 10).until(
        lambda d: "Hello from the app" in d.find_element(By.CSS_SELECTOR, "#results").text,
        message="waiting 10 s for the search result",
    )
    assert alice.find_element(By.CSS_SELECTOR, "#results mark").text.lower() == "window"
    shot(alice, "message-received")

    at("alice replies (prepared by the core: Re:, the quote, References)")
    alice.execute_script("location.hash = '#/mail/sent'")
    wait(alice, "#messages")
    alice.execute_script("location.hash = '#/mail/inbox'")
    click(alice, "#messages li:first-child button")
    click(alice, "#reply")
    wait(alice, "#compose-form #text")
    assert alice.find_element(By.CSS_SELECTOR, "#subject").get_attribute("value") == \
        "Re: Hello from the app"
    alice.execute_script("""
        const t = document.querySelector('#text');
        t.value = 'Got it, thanks.' + t.value;
        t.dispatchEvent(new Event('input'));
    """)
    click(alice, "#send")
    at("bob sees the reply in his conversation, after his message")
    bob.execute_script("location.hash = '#/mail/inbox'")
    WebDriverWait(bob, 90, poll_frequency=1).until(
        lambda d: "Re: Hello from the app" in d.find_element(By.CSS_SELECTOR, "#messages").text,
        message="waiting 90 s for the reply",
    )
    # The list and the folder counts come from two queries; the mail may land between them, and
    # the next event redraws both. Wait for the count the reply makes before opening it.
    WebDriverWait(bob, 30, poll_frequency=0.5).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#folder-inbox .count"),
        message="waiting 30 s for the Inbox to count the reply as unread",
    )
    unread_before = bob.find_element(By.CSS_SELECTOR, "#folder-inbox").text
    click(bob, "#messages li:first-child button")
    wait(bob, "#reader .in-thread")
    WebDriverWait(bob, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#reader .in-thread")) == 2,
        message="waiting 10 s for both messages of the conversation",
    )
    parts = [e.text for e in bob.find_elements(By.CSS_SELECTOR, "#reader .in-thread")]
    assert "Sent from one window to the other." in parts[0], parts
    assert "Got it, thanks." in parts[1], parts
    WebDriverWait(bob, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#folder-inbox").text != unread_before,
        message="waiting 10 s for the unread count to drop",
    )
    shot(bob, "reply-thread")

    at("the system sleeps: both nodes pause")
    for d in (alice, bob):
        d.execute_script("location.hash = '#/tor'")
        network_says(d, "Connected")
    system_sleeps(True)
    for d in (alice, bob):
        network_says(d, "Paused while this device sleeps")
    shot(alice, "paused")
    at("the system wakes: both serve again, and mail goes through")
    system_sleeps(False)
    for d in (alice, bob):
        network_says(d, "Connected", 90)
    alice.execute_script("location.hash = '#/mail/inbox'")
    wait(alice, "#messages")
    bob.execute_script("location.hash = '#/compose'")
    to = wait(bob, "#to")
    to.clear()
    to.send_keys(addr)
    bob.find_element(By.CSS_SELECTOR, "#subject").send_keys("After the nap")
    bob.find_element(By.CSS_SELECTOR, "#text").send_keys("Still there?")
    bob.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(alice, 90, poll_frequency=1).until(
        lambda d: "After the nap" in d.find_element(By.CSS_SELECTOR, "#messages").text,
        message="waiting 90 s for the message sent after waking",
    )
    print("app window: 1 passed, 0 failed (first run, invite, connect, a message between two "
          "windows shown live, its notification, search, a reply threaded on the other side, "
          "pausing for the system's sleep and serving again on waking)")
except Exception as e:  # noqa: BLE001 - report and fail
    for d, n in ((alice, "alice-failure"), (bob, "bob-failure")):
        try:
            shot(d, n)
            print(f"{n} ({d.execute_script('return location.hash')}):",
                  d.find_element(By.CSS_SELECTOR, "body").text[:2000])
            # What the core says, whatever the screen shows.
            print(f"{n} core:", d.execute_async_script("""
                const done = arguments[arguments.length - 1];
                const call = (command, args) => window.__TAURI_INTERNALS__
                    .invoke('call', { command, args }).catch((e) => ({ error: e }));
                (async () => {
                    const ids = await call('identities', {});
                    const me = ids[0]?.address;
                    done(JSON.stringify({
                        node: await call('node_status', {}),
                        outbox: await call('outbox', { identity: me }),
                        inbox: (await call('inbox', { identity: me })),
                        events: await call('events', { after: 0 }),
                    }).slice(0, 4000));
                })();
            """))
        except Exception as err:  # noqa: BLE001
            print(f"{n}: no more to say ({err!r})")
    failures.append(f"{step}: {e!r}")
finally:
    alice.quit()
    bob.quit()
if failures:
    print("app window test FAILED:", failures[0])
    sys.exit(1)
