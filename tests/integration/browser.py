"""A small W3C WebDriver client (chromedriver over HTTP, standard library only) for the report tests.

It starts headless Chromium through chromedriver, opens a file:// page, runs scripts against its DOM, reads the
browser's console log and takes PNG screenshots. ``ensure_chromium`` installs the Debian packages when they are
missing and the process may use apt (root), which is what ``make setup`` does too.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1000"]


def find_binaries():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver")
                                              else None)
    return chromium, driver


def ensure_chromium():
    """(chromium, chromedriver) paths, installing the Debian packages when missing; (None, reason) if impossible."""
    chromium, driver = find_binaries()
    if chromium and driver:
        return chromium, driver
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "chromium or chromedriver is missing and apt-get cannot be used here (not root or no apt)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium", "chromium-driver"],
                             capture_output=True, text=True, env=env, check=False)
    if install.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, env=env, check=False)
        install = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium",
                                  "chromium-driver"], capture_output=True, text=True, env=env, check=False)
    chromium, driver = find_binaries()
    if chromium and driver:
        return chromium, driver
    return None, f"chromium could not be installed with apt-get: {install.stderr.strip()[-300:]}"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self, chromium, driver):
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="edr-chromium-")
        self.driver = subprocess.Popen([driver, f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 20
        while True:
            try:
                self._call("GET", "/status")
                break
            except OSError:
                if time.time() > deadline:
                    self.close()
                    raise
                time.sleep(0.2)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": CHROMIUM_FLAGS + [f"--user-data-dir={self.profile}"]},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"{}").get("value")

    def _session(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def open(self, path):
        self._session("POST", "/url", {"url": "file://" + os.path.abspath(path)})

    def script(self, source, *args):
        return self._session("POST", "/execute/sync", {"script": source, "args": list(args)})

    def console(self):
        """Console entries since the last call (chromedriver's log endpoint)."""
        return self._session("POST", "/se/log", {"type": "browser"}) or []

    def screenshot(self, path, full_height=True):
        if full_height:
            height = self.script("return Math.min(document.documentElement.scrollHeight, 6000);")
            width = self.script("return Math.max(document.documentElement.scrollWidth, 1400);")
            self._session("POST", "/window/rect", {"width": int(width), "height": int(height) + 120})
        png = base64.b64decode(self._session("GET", "/screenshot"))
        with open(path, "wb") as stream:
            stream.write(png)
        return png

    def close(self):
        try:
            if getattr(self, "session", None):
                self._call("DELETE", f"/session/{self.session}")
        except OSError:
            pass
        self.driver.terminate()
        try:
            self.driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.driver.kill()
        shutil.rmtree(self.profile, ignore_errors=True)
