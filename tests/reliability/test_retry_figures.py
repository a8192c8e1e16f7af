"""Retry figures through the real ClientFactory: N read calls per service under 30% and 60% throttling, how many
requests and retries they took, whether every call completed, and how long. Figures go to RELIABILITY_RESULTS."""

from __future__ import annotations

import time

import pytest

from tests.integration.test_drs_recover_helpers import WORKLOAD_A
from tests.integration.test_drs_recover_helpers import account_args
from tests.integration.test_drs_recover_helpers import estate
from tests.integration.test_retry_policy import ModuleParams
from tests.integration.test_retry_policy import log_of
from tests.reliability.campaign import keep

pytest.importorskip("ansible_collections.enterprise_dr.orchestration")

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import clients  # noqa: E402

CALLS = 15
SERVICES = {
    "ec2": ("DescribeInstances", lambda c, _ids: c.describe_instances()),
    "drs": ("DescribeSourceServers", lambda c, ids: c.describe_source_servers(filters={"sourceServerIDs": ids})),
    "dynamodb": ("ListTables", lambda c, _ids: c.list_tables()),
    "sts": ("GetCallerIdentity", lambda c, _ids: c.get_caller_identity()),
}


@pytest.mark.parametrize("rate", [0.3, 0.6])
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_calls_complete_under_throttling(sandbox, service, rate):
    sandbox.reset()
    seeded = sandbox.seed(estate(2))
    ids = [s["source_server_id"] for s in seeded["servers"].values()]
    factory = clients.ClientFactory(ModuleParams(), accounts=account_args(sandbox, [WORKLOAD_A]))
    client = factory.client(service, account_id=WORKLOAD_A if service in ("ec2", "drs") else None)
    operation, call = SERVICES[service]
    call(client, ids)  # credentials and connection first, outside the figures
    sandbox.clear_requests()
    if service == "drs":
        sandbox.set_faults(drs={"throttle_rate": rate})
    else:
        sandbox.set_faults(service=service, throttle_rate=rate)
    started = time.monotonic()
    try:
        for _attempt in range(CALLS):
            call(client, ids)
    finally:
        sandbox.clear_faults()
        sandbox.set_faults(drs={"throttle_rate": 0.0})
    seconds = round(time.monotonic() - started, 1)
    log = log_of(sandbox, service, operation)
    ok = [r for r in log if r["status"] < 400]
    keep({"suite": "retries", "case": f"{service}-throttle-{int(rate * 100)}", "calls": CALLS, "completed": len(ok),
          "requests": len(log), "retries": len(log) - len(ok), "max_attempts": clients.POLICY.max_attempts,
          "seconds": seconds})
    assert len(ok) == CALLS
    assert len(log) > CALLS  # the fault injection throttled something, and the policy retried it
