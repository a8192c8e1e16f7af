# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one way to wait for AWS: poll, pause, poll again, until done or the deadline.

Every module that waits (DRS jobs, instance states, Aurora, ECS, Auto Scaling, Route 53, Lambda,
ElastiCache, MemoryDB, OpenSearch, EventBridge, EFS, FSx) waits with ``Poll``. Its schedule is the
same everywhere: the first pause is short (``FIRST_DELAY``) and each pause doubles up to the
operator's ``poll_interval``, which is the longest pause between two checks. So an operation that
finishes or fails within seconds (a job refused at once, a state already reached) is seen at once,
while a long operation is still checked every ``poll_interval`` seconds. No pause runs past the
deadline, and none is shorter than ``MIN_DELAY``.

Throttling is not handled here: every call a check makes goes through the retry policy of
``clients.py``.
"""

import time

FIRST_DELAY = 0.5
MIN_DELAY = 0.05
MIN_INTERVAL = 0.2


class Poll:
    """The pauses of one wait, for loops that do more than one check per round::

        poll = Poll(timeout, poll_interval)
        while True:
            state = read()
            if done(state) or not poll.pause():
                break

    ``timeout`` None waits without a deadline.
    """

    def __init__(self, timeout, interval, sleep=time.sleep, clock=time.monotonic, first_delay=FIRST_DELAY):
        self.clock = clock
        self.sleep = sleep
        self.interval = max(MIN_INTERVAL, float(interval or 0))
        self.deadline = None if timeout is None else clock() + max(0, timeout)
        self.next_delay = min(first_delay, self.interval)
        self.pauses = 0

    def remaining(self):
        return None if self.deadline is None else max(0.0, self.deadline - self.clock())

    def expired(self):
        return self.deadline is not None and self.clock() >= self.deadline

    def pause(self):
        """Sleep until the next check and return True; return False at once when the deadline has passed."""
        if self.expired():
            return False
        delay = self.next_delay
        if self.deadline is not None:
            delay = min(delay, self.remaining())
        self.sleep(max(MIN_DELAY, delay))
        self.next_delay = min(self.interval, self.next_delay * 2)
        self.pauses += 1
        return True


def until(check, timeout, interval, done=bool, sleep=time.sleep, clock=time.monotonic):
    """Call ``check()`` until ``done(result)`` or ``timeout`` seconds passed.

    Returns ``(last result, finished)``: ``finished`` is False when the deadline passed first.
    """
    poll = Poll(timeout, interval, sleep=sleep, clock=clock)
    while True:
        result = check()
        if done(result):
            return result, True
        if not poll.pause():
            return result, False


def last_result(check, timeout, interval):
    """``check()``'s last result: the first true one, or the one at the deadline."""
    return until(check, timeout, interval)[0]
