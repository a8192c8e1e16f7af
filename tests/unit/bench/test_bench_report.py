"""The benchmark report's before/after table (make bench with a baseline)."""

from bench import analysis
from bench.report import render_comparison
from bench.report import render_markdown


def _results(wall, median, cached, errors=None):
    return {
        "date": "2026-12-02T05:00:00+00:00",
        "machine": {"cores": 2, "cpu": "x", "memory_gib": 4, "load_average_at_start": [0.5, 0.4, 0.3]},
        "versions": {}, "errors": errors or {},
        "parameters": {"servers": 100, "waves": 2, "accounts": 1, "resources": 20, "rto_servers": 10, "rto_waves": 2,
                       "poll_interval": 1, "repeat": 1},
        "phases": {"discovery": {"cached_seconds_min": cached},
                   "failover": {"wall_seconds": wall, "transition_seconds_median": median,
                                "drs_calls": {"StartRecovery": 2}}},
    }


def test_the_table_shows_before_after_and_the_change_of_each_figure():
    after = _results(wall=200.0, median=3.0, cached=0.8)
    after["baseline"] = dict(_results(wall=400.0, median=12.0, cached=2.5, errors={"rto": "TimeoutError: no result"}),
                             ref="b855fe8", commit="b855fe86f28c49c52ee84658f3d6a6aa542a65ad", returncode=1,
                             seconds=900.0)
    lines = render_comparison(after)
    assert "## Before/after: b855fe86f28c (b855fe8) -> this tree, same machine, same options" in lines
    assert "| failover: wall | 400.0 s | 200.0 s | -50 % | <= 200 s |" in lines
    assert "| failover: wave transition, median | 12.0 s | 3 s | -75 % | <= 3 s |" in lines
    assert "| discovery from cache | 2.5 s | 0.8 s | -68 % | < 1 s |" in lines
    assert "| failover: StartRecovery calls | 2 | 2 | +0 % | 1 per wave, account and region |" in lines
    assert "| ERROR in the baseline's rto | TimeoutError: no result | | | |" in lines
    # Figures neither run measured are left out, not shown as n/a -> n/a.
    assert not [line for line in lines if line.startswith("| modelled RTO")]
    # The markdown report ends with the table (here with no figures of this tree's own).
    text = render_markdown(dict(after, phases={}))
    assert text.rstrip().endswith("| ERROR in the baseline's rto | TimeoutError: no result | | | |")


def test_without_a_baseline_there_is_no_table():
    assert render_comparison(_results(wall=1.0, median=1.0, cached=1.0)) == []


def test_module_runs_are_counted_by_phase_and_technology_and_skipped_tasks_do_not_count():
    from bench.analysis import module_runs

    def task(play, name, action, results=1, skipped=0):
        return {"play": play, "name": name, "action": action, "results": results, "skipped": skipped}

    timing = {"tasks": [
        task("ACTIVATE - promote", "enterprise_dr.orchestration.adapter_aurora : Switch over",
             "enterprise_dr.orchestration.aurora_global_failover"),
        task("ACTIVATE - promote", "enterprise_dr.orchestration.adapter_aurora : Read",
             "enterprise_dr.orchestration.aurora_global_cluster_info", results=1, skipped=1),  # skipped: no run
        task("ACTIVATE - promote", "enterprise_dr.orchestration.wave : Record the wave",
             "enterprise_dr.orchestration.execution_record"),
        task("ACTIVATE - promote", "enterprise_dr.orchestration.adapter_drs : Validate",
             "enterprise_dr.orchestration.drs_recovery_validate"),
        task("ACTIVATE - promote", "Launch", "enterprise_dr.orchestration.drs_recover"),  # no role: by module name
        task("ACTIVATE - promote", "enterprise_dr.orchestration.wave : Keep", "ansible.builtin.set_fact"),
        task("PREFLIGHT - check", "enterprise_dr.orchestration.adapter_rds : Read",
             "enterprise_dr.orchestration.rds_replica_info"),
    ]}
    assert module_runs(timing) == {"ACTIVATE": {"aurora": 1, "engine": 1, "drs": 2}, "PREFLIGHT": {"rds": 1}}


def test_the_mixed_wave_figures_are_rendered():
    results = _results(wall=1.0, median=1.0, cached=1.0)
    results["phases"] = {"mixed_wave": {
        "servers": 100, "waves": 2, "added_technologies": ["aurora", "rds"],
        "runs": {"drs_only": {"technologies": ["drs"], "wall_seconds": 60.0, "controller_cpu_seconds": 40.0,
                              "transition_seconds_median": 5.0, "aws_calls": 900},
                 "mixed": {"technologies": ["drs", "aurora", "rds"], "wall_seconds": 64.0,
                           "controller_cpu_seconds": 45.0, "transition_seconds_median": 5.5, "aws_calls": 1000}},
        "added_seconds_per_technology_per_wave": 1.0,
        "module_runs_per_wave_and_phase": {"ACTIVATE": {"aurora": 1.0, "rds": 1.0}},
        "module_runs_per_run_outside_waves": {"PREFLIGHT": {"aurora": 1, "rds": 1}},
        "most_module_runs_per_wave_and_phase": 1.0,
    }}
    text = render_markdown(results)
    assert "| mixed wave: seconds a technology adds to a wave | 1 s (aurora, rds) | |" in text
    assert "| mixed wave: most module runs a technology adds per wave and phase | 1 | <= 1 |" in text
    assert "| ACTIVATE (per wave) | 1 | 1 |" in text
    assert "| PREFLIGHT (once per run) | 1 | 1 |" in text


def test_drs_calls_are_the_drs_operations_of_the_call_counts_without_their_prefix():
    calls = analysis.call_counts([
        {"service": "drs", "operation": "StartRecovery"},
        {"service": "drs", "operation": "DescribeJobs"},
        {"service": "drs", "operation": "DescribeJobs"},
        {"service": "ec2", "operation": "DescribeInstances"},
    ])
    assert analysis.drs_calls(calls) == {"DescribeJobs": 2, "StartRecovery": 1}


def test_the_poll_budget_is_the_schedule_of_the_collections_one_wait():
    from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import waiting

    for window, interval in ((1.53, 1), (0.4, 1), (10, 1), (95, 30), (3600, 30), (7, 0)):
        slept = []
        poll = waiting.Poll(None, interval, sleep=slept.append, clock=lambda: 0.0)
        while sum(slept) <= window + 1e-9:
            poll.pause()
        # The polls of a wait that lasts ``window`` seconds: one after each whole pause within it.
        expected = len(slept) - 1
        assert analysis.polls_scheduled(window, interval, first_delay=waiting.FIRST_DELAY) == max(1, expected)
    assert analysis.polls_scheduled(1.53, 1) == 2
    assert analysis.polls_scheduled(95, 30) == 8
