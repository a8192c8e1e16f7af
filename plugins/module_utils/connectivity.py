# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connectivity checks of promoted endpoints (caches, in-memory databases): a TCP connection, timed."""

import socket
import time


def check_connectivity(endpoint, timeout=5.0):
    """A TCP connection to the primary endpoint: ``{endpoint, reachable, latency_ms, error}``."""
    if not endpoint:
        return {"endpoint": None, "reachable": False, "error": "the resource has no endpoint"}
    address, port = endpoint
    started = time.monotonic()
    try:
        with socket.create_connection((address, port), timeout=timeout):
            pass
    except OSError as e:
        return {"endpoint": f"{address}:{port}", "reachable": False, "error": f"{type(e).__name__}: {e}"}
    return {"endpoint": f"{address}:{port}", "reachable": True,
            "latency_ms": round((time.monotonic() - started) * 1000, 1)}
