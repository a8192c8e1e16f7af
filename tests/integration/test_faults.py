"""The representative subset of the fault campaign that runs in `make test` (the whole matrix and every crash
point run with `make reliability`, tests/reliability/): a failover under 30% throttling on DRS, EC2 and STS at once
(issue 12, observation 4: PREFLIGHT failed with "reached max retries"), and a kill -9 in the middle of an
INSTANTIATE wave followed by the same command."""

from __future__ import annotations

from tests.reliability.test_crash_points import CRASH_POINTS
from tests.reliability.test_crash_points import run_crash_case
from tests.reliability.test_fault_matrix import run_fault_case


def test_failover_completes_under_30_percent_throttling_on_drs_ec2_and_sts(sandbox, tmp_path):
    run_fault_case(sandbox, tmp_path, "failover", "drs-ec2-sts-throttle-30", ("ec2", "sts"), {"throttle_rate": 0.3},
                   {"throttle_rate": 0.3}, "complete")


def test_kill_mid_instantiate_wave_then_rerun_finishes_once(sandbox, tmp_path):
    point, reached = next(c for c in CRASH_POINTS if c[0] == "mid-INSTANTIATE-wave-1")
    run_crash_case(sandbox, tmp_path, point, reached)
