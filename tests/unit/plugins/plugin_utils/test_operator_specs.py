"""The operator variable specs of every playbook: unknown names, reserved words, types and ranges."""

import pytest

from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import operator_specs as specs

FAILOVER = specs.PLAYBOOK_SPECS["failover"]


def test_a_typo_is_refused_naming_the_nearest_variable_and_the_fix():
    errors = specs.unknown_name_errors("failover.yml", FAILOVER, {"aproval_mode": "automatic", "customer": "acme"})
    assert len(errors) == 1
    assert "unknown variable aproval_mode; did you mean approval_mode?" in errors[0]
    assert "-e approval_mode=automatic" in errors[0]


def test_environment_is_refused_naming_env():
    errors = specs.unknown_name_errors("failover.yml", FAILOVER, {"environment": "production"})
    assert errors and "use -e env=production" in errors[0]


def test_internal_names_are_not_typos():
    extra = {"awx_job_id": 1, "tower_user_name": "x", "ansible_python_interpreter": "/x", "molecule_file": "m"}
    assert specs.unknown_name_errors("failover.yml", FAILOVER, extra) == []


def test_a_name_far_from_every_variable_is_refused_without_a_guess():
    errors = specs.unknown_name_errors("failover.yml", FAILOVER, {"zzz": 1})
    assert errors and "does not take it" in errors[0] and "did you mean" not in errors[0]


@pytest.mark.parametrize("name,value,expected", [
    ("wait_timeout_minutes", "-5", "must be more than 0"),
    ("wait_timeout_minutes", "0", "must be more than 0"),
    ("gate_timeout_minutes", "0", "must be more than 0"),
    ("health_check_timeout_seconds", "0", "must be more than 0"),
    ("poll_interval", "0", "must be 1 or more"),
    ("lag_threshold_seconds", "-1", "must be 0 or more"),
    ("poll_interval", "abc", "unable to convert to int"),
    ("lag_threshold_seconds", "1.5", "unable to convert to int"),
    ("gate_timeout_minutes", "soon", "unable to convert to float"),
    ("approval_mode", "yes", "one of: required, automatic, record"),
    ("emergency", "maybe", "bool"),
    ("failure_policy", "retry", "must be stop or continue"),
    ("failure_policy", {"one": "stop"}, "is not a wave number"),
    ("failure_policy", {"1": "retry"}, "not stop or continue"),
    ("waves", [0], "must be 1 or more"),
    ("phases", ["instanciate"], "instanciate"),
    ("customer", "  ", "must not be empty"),
])
def test_bad_values_are_refused_naming_the_variable_the_value_and_the_fix(name, value, expected):
    errors, normalized = specs.validate_values(FAILOVER, {"customer": "acme", name: value})
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{name}={value!r}: ") and expected in errors[0]
    assert "fix: " in errors[0]
    assert name not in normalized


@pytest.mark.parametrize("name,value,expected", [
    ("poll_interval", "1", 1),
    ("lag_threshold_seconds", "0", 0),
    ("gate_timeout_minutes", "0.5", 0.5),
    ("failure_policy", {"1": "stop", "2": "continue"}, {"1": "stop", "2": "continue"}),
    ("failure_policy", "continue", "continue"),
    ("waves", [1, 2], [1, 2]),
])
def test_good_values_pass_converted(name, value, expected):
    errors, normalized = specs.validate_values(FAILOVER, {"customer": "acme", name: value})
    assert errors == []
    assert normalized[name] == expected


def test_customer_is_required():
    errors, _normalized = specs.validate_values(FAILOVER, {})
    assert errors == ["variable customer is required; fix: pass it as -e customer=acme"]


def test_every_playbook_has_a_spec_whose_entries_are_valid_argument_specs():
    assert set(specs.PLAYBOOK_SPECS) == {"failover", "drill", "failback", "validate_failback", "discover", "status",
                                         "history", "approve", "setup_hub", "demo", "cancel", "report",
                                         "readiness", "deploy_access", "prepare"}
    for spec in specs.PLAYBOOK_SPECS.values():
        for entry in spec.values():
            assert entry["type"] in ("str", "int", "float", "bool", "list", "dict", "raw")
            assert entry.get("ignored") or "example" in entry


def test_every_playbook_with_a_spec_checks_its_variables_first_and_the_module_documents_them():
    """Each playbook named in PLAYBOOK_SPECS calls operator_vars with its own name as its first task; the module's
    documented and accepted choices are exactly the specs' names."""
    import pathlib
    import re

    import yaml

    root = pathlib.Path(__file__).resolve().parents[4]
    for name in specs.PLAYBOOK_SPECS:
        plays = yaml.safe_load((root / "playbooks" / f"{name}.yml").read_text())
        first = (plays[0].get("pre_tasks") or plays[0].get("tasks"))[0]
        if "ansible.builtin.include_role" in first:  # the lifecycle playbooks: PLAN validates them first
            assert first["ansible.builtin.include_role"] == {"name": "enterprise_dr.orchestration.preflight",
                                                             "tasks_from": "plan"}
            assert first["vars"]["preflight_operation"] == name
            continue
        assert first.get("enterprise_dr.orchestration.operator_vars", {}).get("playbook") == name, name
    module = (root / "plugins" / "modules" / "operator_vars.py").read_text()
    documented = yaml.safe_load(re.search(r'DOCUMENTATION = r"""(.*?)"""', module, re.S).group(1))
    assert sorted(documented["options"]["playbook"]["choices"]) == sorted(specs.PLAYBOOK_SPECS)
    import ast
    declared = re.search(r"^PLAYBOOKS = (\[.*?\])", module, re.S | re.M).group(1)
    assert ast.literal_eval(declared) == sorted(specs.PLAYBOOK_SPECS)


def test_a_secret_value_is_never_shown_in_a_message():
    spec = specs.PLAYBOOK_SPECS["deploy_access"]
    errors, dummy = specs.validate_values(spec, {"workload_external_ids": "s3cr3t-external-id"})
    assert errors and all("s3cr3t" not in e for e in errors)
    errors = specs.unknown_name_errors("deploy_access", spec, {"workload_external_id": {"1": "s3cr3t-external-id"}})
    assert errors and "workload_external_ids" in errors[0] and all("s3cr3t" not in e for e in errors)
