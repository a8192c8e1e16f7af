"""The one lock around the sandbox's in-process AWS state.

moto's backends are not thread-safe: two RunInstances calls in one subnet share a generator of free
private IPs, and concurrent calls fail with ``ValueError: generator already executing`` (answered as
an HTML 500). The sandbox serves requests on threads, and the DRS emulator starts and stops moto EC2
instances itself, so every reader and writer of moto or emulator state holds this lock. moto's work
is pure Python under the GIL, so serializing it costs no throughput; injected latency is slept
outside the lock.
"""

from __future__ import annotations

import threading

STATE_LOCK = threading.RLock()
