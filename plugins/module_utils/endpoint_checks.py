# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Application endpoint checks after a technology took over (``dr:health-check-url``): an http(s) URL must answer
200 or 204 to a GET, retried until a deadline. Used by the application-tier modules (ECS, Lambda)."""

import re
import time

from ansible.module_utils.urls import open_url

ATTEMPT_TIMEOUT = 10
RETRY_DELAY = 3


def shown(url):
    """The URL without credentials, for messages and results."""
    return re.sub(r"^([a-z]+://)[^/@]*@", r"\1", url or "")


def probe(url, timeout=ATTEMPT_TIMEOUT):
    """One attempt: ``(passed, what was seen)``."""
    if not (url or "").startswith(("http://", "https://")):
        return False, f"{shown(url)} is not an http(s):// URL"
    try:
        status = open_url(url, method="GET", timeout=timeout, follow_redirects="safe").getcode()
        return status in (200, 204), f"{shown(url)} answered HTTP {status}"
    except Exception as e:  # pylint: disable=broad-except  # every failed attempt is reported, not raised
        code = getattr(e, "code", None)
        return False, (f"{shown(url)} answered HTTP {code}" if code
                       else f"{shown(url)} did not answer: {str(e).replace(url, shown(url))}")


def check(url, timeout_seconds, attempt=probe, sleep=time.sleep, clock=time.monotonic):
    """Retry until the endpoint passes or ``timeout_seconds`` pass: ``(passed, detail)``."""
    deadline = clock() + max(0, timeout_seconds)
    attempts = 0
    while True:
        attempts += 1
        passed, seen = attempt(url)
        if passed or clock() + RETRY_DELAY > deadline:
            break
        sleep(RETRY_DELAY)
    return passed, seen if passed else f"{seen} (after {attempts} attempt{'s' if attempts > 1 else ''})"
