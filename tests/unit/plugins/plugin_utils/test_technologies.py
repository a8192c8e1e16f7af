"""The technology registry: what the engine reads instead of naming technologies."""

import os

import pytest

from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import arns
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import technologies as registry

ROLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles")


def test_every_technology_of_the_product_is_registered_with_its_arn_types():
    assert set(registry.TECHNOLOGIES) == {"drs", "aurora", "rds", "ecs", "lambda", "route53", "elasticache",
                                          "opensearch", "autoscaling", "memorydb", "eventbridge", "efs", "fsx"}
    assert set(registry.DISPLAY_ORDER) == set(registry.TECHNOLOGIES)
    assert arns.classify("arn:aws:rds:us-east-1:111111111111:cluster:orders") == "aurora"
    assert arns.classify("arn:aws:drs:us-west-2:111111111111:source-server/s-1234567890abcdef0") == "drs"


def test_drs_failback_runs_its_own_entry_points_and_emergency_only_activates():
    assert registry.entry_point("drs", "failback", "ACTIVATE") == {
        "technology": "drs", "role": "adapter_drs", "tasks_from": "failback_activate"}
    assert registry.entry_point("drs", "failover", "instantiate")["tasks_from"] == "instantiate"
    assert registry.entry_point("drs", "failover", "instantiate", emergency=True) is None
    assert registry.entry_point("drs", "failover", "activate", emergency=True)["tasks_from"] == "activate"
    assert registry.entry_point("drs", "drill", "replicate") is None


def test_adapters_runs_only_technologies_present_and_refuses_none_silently():
    assert registry.adapters([], "failover", "activate") == []
    assert [a["technology"] for a in registry.adapters(["drs", "nothing"], "failover", "activate")] == ["drs"]
    # a technology without an adapter takes part in nothing (PREFLIGHT refuses it by name)
    for name, spec in registry.TECHNOLOGIES.items():
        if spec["role"] is None:
            assert registry.adapters([name], "failover", "activate") == []
            assert name not in registry.supported("failover")


@pytest.mark.parametrize("name", sorted(registry.TECHNOLOGIES))
def test_every_declared_entry_point_has_its_task_file_and_argument_spec(name):
    import yaml

    spec = registry.TECHNOLOGIES[name]
    if spec["role"] is None:
        pytest.skip(f"{name}: no adapter yet")
    role = os.path.join(ROLES, spec["role"])
    with open(os.path.join(role, "meta", "argument_specs.yml")) as handle:
        entry_points = yaml.safe_load(handle)["argument_specs"]
    for operation, phases in spec["operations"].items():
        for phase in phases:
            point = registry.entry_point(name, operation if operation != "emergency" else "failover", phase,
                                         emergency=operation == "emergency")
            assert os.path.exists(os.path.join(role, "tasks", point["tasks_from"] + ".yml")), point
            assert point["tasks_from"] in entry_points, point
            assert {"adapter_run", "adapter_hosts"} <= set(entry_points[point["tasks_from"]]["options"])
        assert registry.plan_line(name, operation, phases[-1]) or phases[-1] == "preflight"
