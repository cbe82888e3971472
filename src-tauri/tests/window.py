"""The real app window under Xvfb, driven through tauri-driver and WebKitWebDriver.

1. First run: create a passphrase and an identity; the invite QR code is shown.
2. Two app instances (separate data directories, loopback transport): Bob pastes Alice's invite
   link and confirms; both connect; Bob writes to Alice; Alice's window shows the message.
Screenshots go to target/app-screenshots/. Usage: window.py APP_BINARY DRIVER_PORT_A DRIVER_PORT_B
"""

import os
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


def wait(d, css, timeout=60):
    return WebDriverWait(d, timeout).until(lambda d: d.find_element(By.CSS_SELECTOR, css))


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
        lambda d: "Connected" in d.find_element(By.CSS_SELECTOR, "#bootstrap-text").text
    )


alice = window(PORT_A)
bob = window(PORT_B)
failures = []
try:
    first_run(alice, "alice")
    link = alice.find_element(By.CSS_SELECTOR, "#my-link").get_attribute("value")
    assert link.startswith("POSTERN:"), link
    shot(alice, "first-run-qr")

    first_run(bob, "bob")
    bob.find_element(By.CSS_SELECTOR, "#paste").send_keys(link)
    bob.find_element(By.CSS_SELECTOR, "form.inline button").click()
    wait(bob, "#confirm-add").click()
    wait(bob, "#added")
    shot(bob, "invite-accepted")

    connect(alice)
    connect(bob)
    shot(alice, "network")
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

    def arrived(d):
        d.execute_script("location.hash = '#/compose'; location.hash = '#/inbox'")
        time.sleep(1)
        return "Hello from the app" in d.find_element(By.CSS_SELECTOR, "main").text

    WebDriverWait(alice, 90, poll_frequency=2).until(arrived)
    alice.find_element(By.CSS_SELECTOR, "#inbox button").click()
    wait(alice, "#reader .verified")
    text = alice.find_element(By.CSS_SELECTOR, "#reader").text
    assert "Sent from one window to the other." in text, text
    shot(alice, "message-received")
    print("app window: 1 passed, 0 failed (first run, invite, connect, a message between two windows)")
except Exception as e:  # noqa: BLE001 - report and fail
    for d, n in ((alice, "alice-failure"), (bob, "bob-failure")):
        try:
            shot(d, n)
        except Exception:  # noqa: BLE001
            pass
    failures.append(repr(e))
finally:
    alice.quit()
    bob.quit()
if failures:
    print("app window test FAILED:", failures[0])
    sys.exit(1)
