"""The two tiers of the integration tests.

`make test` runs every integration test except the slow tier below, so that it stays near 30 minutes on the
2-core machine; `make test-slow` runs the slow tier (CI runs both, .ci/run). The slow tier holds the second and
later failure paths of a feature whose first failure path stays in `make test`: per technology, the kill in the
middle of ACTIVATE and the emergency run (each technology keeps its failover, drill, failback, --check and
out-of-scope refusal in `make test`), and the longest DRS fault and round-trip runs (`make test` keeps the
30%-throttling run, the kill-and-resume of a failover, the gate timeout of a drill and the operation-state checks).
Tests marked ``@pytest.mark.slow`` in their file belong to the slow tier as well.
"""

import pytest

SLOW = {
    # Kill in the middle of a phase, then the same command again, per technology.
    "test_adapter_aurora.py::test_kill_mid_activate_then_rerun_switches_once",
    "test_adapter_autoscaling.py::test_kill_mid_activate_then_rerun_scales_once",
    "test_adapter_ecs.py::test_kill_mid_activate_then_rerun_scales_once",
    "test_adapter_efs.py::test_killed_activate_resumes_and_deletes_and_creates_once",
    "test_adapter_elasticache.py::test_killed_mid_activate_then_rerun_promotes_once",
    "test_adapter_elasticache.py::test_rerun_while_the_killed_runs_promotion_is_still_under_way_waits_for_it",
    "test_adapter_eventbridge.py::test_killed_activate_resumes_and_switches_each_resource_once",
    "test_adapter_fsx.py::test_killed_activate_resumes_and_restores_once",
    "test_adapter_lambda.py::test_kill_mid_activate_then_rerun_does_each_step_once",
    "test_adapter_memorydb.py::test_emergency_restores_from_the_seed_in_the_dr_bucket_and_a_killed_run_restores_once",
    "test_adapter_opensearch.py::test_killed_activate_resumes_and_switches_once",
    "test_adapter_route53.py::test_kill_mid_activate_then_rerun_flips_once",
    "test_faults.py::test_kill_mid_instantiate_wave_then_rerun_finishes_once",
    "test_prepare.py::test_prepare_killed_mid_run_then_rerun_configures_the_rest_and_repeats_nothing",
    # Emergency runs (the primary region does not answer), per technology; RDS's stays: it is its only promotion.
    "test_adapter_aurora.py::test_emergency_fails_over_with_data_loss_allowed_and_skips_instantiate",
    "test_adapter_elasticache.py::test_emergency_detaches_the_dr_member_and_replicate_reassociates_the_old_region",
    "test_adapter_lambda.py::test_emergency_publishes_in_activate_and_defers_cleanup",
    "test_adapter_opensearch.py::test_emergency_fails_over_with_data_loss_and_replicate_pairs_again_later",
    # The longest DRS runs.
    "test_failback.py::test_round_trip_back_to_the_original_instances_and_again",
    "test_failover.py::test_failed_health_check_takes_only_that_server_out_of_the_failover",
    "test_failover.py::test_continue_policy_stops_resumably_when_every_server_of_a_wave_fails",
    "test_failover.py::test_a_target_started_after_preflight_fails_only_its_server_with_failure_policy_continue",
    "test_failover.py::test_gate_timeout_and_cancel_stop_cleanly_before_activate",
    "test_failover.py::test_a_drill_killed_after_instantiate_resumes_and_still_validates_and_cleans_up_that_wave",
    "test_drs_recover.py::test_throttling_30_percent_everything_completes",
    "test_drs_recover.py::test_250_servers_three_jobs_priority_order_launch_into",
    "test_awx_runner.py::test_failover_workflow_runs_phase_templates_into_one_record_with_the_awx_approvers",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    paths = {}
    for item in items:
        paths[item.path.name] = item.path
        if f"{item.path.name}::{item.originalname}" in SLOW:
            item.add_marker(pytest.mark.slow)
    # A renamed test must not leave the slow tier silently.
    missing = [key for key in sorted(SLOW) if key.split("::")[0] in paths
               and f"def {key.split('::')[1]}(" not in paths[key.split("::")[0]].read_text()]
    if missing:
        raise pytest.UsageError(f"tests/integration/conftest.py SLOW names tests that do not exist: {missing}")
