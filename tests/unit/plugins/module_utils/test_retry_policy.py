"""RetryPolicy decisions: what is retried, what never is, and how long it waits."""

from types import SimpleNamespace

import pytest
from botocore.exceptions import ConnectionClosedError

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import clients


def answer(status, code):
    return SimpleNamespace(status_code=status, headers={}), {"Error": {"Code": code}} if code else {}


@pytest.mark.parametrize("service, operation, response, expected", [
    ("ec2", "DescribeInstances", answer(503, "RequestLimitExceeded"), "throttling"),
    ("dynamodb", "PutItem", answer(400, "ProvisionedThroughputExceededException"), "throttling"),
    ("sts", "AssumeRole", answer(400, "Throttling"), "throttling"),
    ("drs", "StartRecovery", answer(429, "ThrottlingException"), "throttling"),  # refused: nothing started
    ("drs", "StartRecovery", answer(500, "InternalServerException"), None),  # may have started: caller looks
    ("drs", "TerminateRecoveryInstances", answer(503, "ServiceUnavailable"), None),
    ("drs", "DescribeJobs", answer(500, "InternalServerException"), "transient"),
    ("ec2", "StartInstances", answer(500, "InternalError"), "transient"),
    ("drs", "DescribeJobs", answer(400, "ValidationException"), None),
    ("ec2", "DescribeInstances", answer(200, None), None),
])
def test_what_is_retried(service, operation, response, expected):
    assert clients.RetryPolicy().retryable(service, operation, response) == expected


def test_lost_connections_are_retried_except_for_calls_without_a_client_token():
    lost = ConnectionClosedError(endpoint_url="http://x")
    policy = clients.RetryPolicy()
    assert policy.retryable("drs", "DescribeJobs", caught_exception=lost) == "transient"
    assert policy.retryable("drs", "StartRecovery", caught_exception=lost) is None


def test_an_endpoint_that_cannot_be_reached_is_given_a_few_attempts_not_twenty():
    from botocore.exceptions import ConnectTimeoutError
    from botocore.exceptions import EndpointConnectionError

    policy = clients.RetryPolicy(rand=lambda: 1.0)
    down = EndpointConnectionError(endpoint_url="https://drs.us-east-1.amazonaws.com/")
    # Nothing was sent, so even a call without a client token may be resent.
    assert policy.retryable("drs", "StartRecovery", caught_exception=down) == "unreachable"
    timed_out = ConnectTimeoutError(endpoint_url="x")
    assert policy.retryable("drs", "DescribeJobs", caught_exception=timed_out) == "unreachable"
    operation = type("Op", (), {"name": "DescribeJobs",
                                "service_model": type("M", (), {"service_id": type("S", (), {
                                    "hyphenize": staticmethod(lambda: "drs")})()})()})()
    waits = [policy.needs_retry(attempts=n, operation=operation, caught_exception=down) for n in range(1, 8)]
    assert waits[:clients.UNREACHABLE_ATTEMPTS - 1] == [0.25, 0.5, 1.0]
    assert waits[clients.UNREACHABLE_ATTEMPTS - 1:] == [None] * (8 - clients.UNREACHABLE_ATTEMPTS)
    # A lost answer on a connected endpoint keeps the full budget.
    lost = clients.BotoConnectionError(error="reset")
    assert policy.needs_retry(attempts=10, operation=operation, caught_exception=lost) is not None


def test_full_jitter_under_a_capped_exponential_ceiling():
    top = clients.RetryPolicy(base_delay=0.25, max_delay=20, rand=lambda: 1.0)
    assert [top.delay(n) for n in (1, 2, 3, 4)] == [0.25, 0.5, 1.0, 2.0]
    assert top.delay(30) == 20
    assert top.delay(1, retry_after=3) == 3  # Retry-After raises the ceiling
    assert clients.RetryPolicy(rand=lambda: 0.0).delay(5) == 0


OPERATION = SimpleNamespace(name="DescribeJobs",
                            service_model=SimpleNamespace(service_id=SimpleNamespace(hyphenize=lambda: "drs")))


def test_a_5xx_stops_at_max_attempts():
    policy = clients.RetryPolicy(max_attempts=3, rand=lambda: 0.0)
    failing = answer(500, "InternalServerException")
    request = {"context": {}}
    assert policy.needs_retry(response=failing, attempts=2, operation=OPERATION, request_dict=request) == 0
    assert policy.needs_retry(response=failing, attempts=3, operation=OPERATION, request_dict=request) is None
    assert policy.counts == {("drs", "DescribeJobs"): 1}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_throttling_is_retried_for_a_time_budget_not_a_count_of_attempts():
    """A burst that throttles one caller 40 times in a row is outlasted; the budget runs from the first attempt."""
    clock = Clock()
    policy = clients.RetryPolicy(max_attempts=3, rand=lambda: 1.0, throttling_budget=300, clock=clock)
    throttled = answer(429, "ThrottlingException")
    request = {"context": {}}
    waits = []
    for attempt in range(1, 41):
        wait = policy.needs_retry(response=throttled, attempts=attempt, operation=OPERATION, request_dict=request)
        if wait is None:
            break
        waits.append(wait)
        clock.now += wait
    # More attempts than max_attempts (which counts only 5xx and lost answers); the waits grow to the 20 s cap,
    # and the last one is cut to end exactly at the budget.
    assert len(waits) > policy.max_attempts
    assert waits[:5] == [0.25, 0.5, 1.0, 2.0, 4.0]
    assert max(waits) == clients.MAX_DELAY_SECONDS
    assert clock.now == pytest.approx(1000.0 + 300)
    assert policy.needs_retry(response=throttled, attempts=len(waits) + 1, operation=OPERATION,
                              request_dict=request) is None
    # Another call starts its own budget.
    assert policy.needs_retry(response=throttled, attempts=1, operation=OPERATION, request_dict={"context": {}}) == 0.25


def test_a_throttled_call_gives_up_once_its_budget_is_spent():
    clock = Clock()
    policy = clients.RetryPolicy(rand=lambda: 0.5, throttling_budget=10, clock=clock)
    throttled = answer(400, "Throttling")
    request = {"context": {}}
    assert policy.needs_retry(response=throttled, attempts=1, operation=OPERATION, request_dict=request) == 0.125
    clock.now += 9.9
    assert policy.needs_retry(response=throttled, attempts=2, operation=OPERATION,
                              request_dict=request) == pytest.approx(0.1)
    clock.now += 0.1
    assert policy.needs_retry(response=throttled, attempts=3, operation=OPERATION, request_dict=request) is None
