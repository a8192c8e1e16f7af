"""The collection's one way to wait (module_utils/waiting.py): its schedule, its deadline, its result."""

import pytest

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import waiting


class Clock:
    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_pauses_start_short_and_double_up_to_the_poll_interval():
    clock = Clock()
    poll = waiting.Poll(None, 30, sleep=clock.sleep, clock=clock)
    for _round in range(9):
        assert poll.pause() is True
    assert clock.slept == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


def test_an_interval_shorter_than_the_first_pause_is_used_from_the_start():
    clock = Clock()
    poll = waiting.Poll(None, 0.3, sleep=clock.sleep, clock=clock)
    poll.pause()
    poll.pause()
    assert clock.slept == [0.3, 0.3]


def test_a_zero_interval_never_spins():
    clock = Clock()
    poll = waiting.Poll(None, 0, sleep=clock.sleep, clock=clock)
    poll.pause()
    poll.pause()
    assert clock.slept == [waiting.MIN_INTERVAL, waiting.MIN_INTERVAL]


def test_no_pause_runs_past_the_deadline_and_the_last_check_comes_at_the_deadline():
    clock = Clock()
    checks = []

    def check():
        checks.append(clock())
        return False

    result, finished = waiting.until(check, 10, 30, sleep=clock.sleep, clock=clock)
    assert (result, finished) == (False, False)
    assert clock.slept == [0.5, 1, 2, 4, 2.5]
    assert checks[-1] == pytest.approx(1010.0)
    assert len(checks) == 6


def test_until_returns_the_first_result_that_is_done_without_pausing_after_it():
    clock = Clock()
    answers = iter(["PENDING", "STARTED", "COMPLETED", "never read"])
    result, finished = waiting.until(lambda: next(answers), 600, 30, done=lambda s: s == "COMPLETED",
                                     sleep=clock.sleep, clock=clock)
    assert (result, finished) == ("COMPLETED", True)
    assert clock.slept == [0.5, 1]


def test_a_state_already_reached_is_checked_once_and_never_waited_for():
    clock = Clock()
    result, finished = waiting.until(lambda: {"state": "ACTIVE"}, 600, 30, sleep=clock.sleep, clock=clock)
    assert (result, finished) == ({"state": "ACTIVE"}, True)
    assert clock.slept == []


def test_a_zero_timeout_checks_once_and_does_not_pause():
    clock = Clock()
    result, finished = waiting.until(lambda: None, 0, 30, sleep=clock.sleep, clock=clock)
    assert (result, finished) == (None, False)
    assert clock.slept == []


def test_last_result_is_the_first_true_result():
    answers = iter([None, {"state": "ACTIVE"}])
    assert waiting.last_result(lambda: next(answers), 600, 0) == {"state": "ACTIVE"}
