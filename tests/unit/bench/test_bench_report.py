"""The benchmark report's before/after table (make bench with a baseline)."""

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
