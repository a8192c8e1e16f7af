"""awx/vars/dr_awx.yml: every job template points at a playbook that exists, and every survey variable is one
that playbook accepts (its operator argument spec, or the variables it reads)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible.parsing.yaml.loader import AnsibleLoader

from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import operator_specs

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PLAYBOOKS = {"playbooks/failover.yml", "playbooks/drill.yml", "playbooks/failback.yml"}
# Playbooks that other branches add; their templates are defined and skipped by awx/configure.yml until they exist.
PENDING = {"playbooks/cancel.yml", "playbooks/readiness.yml"}
SURVEY_TYPES = {"str": {"text", "textarea", "multiplechoice", "password"}, "list": {"multiselect"},
                "int": {"integer"}, "float": {"integer", "float"}, "bool": {"multiplechoice"}, "raw": None}


def _config():
    with open(REPO_ROOT / "awx" / "vars" / "dr_awx.yml", encoding="utf-8") as handle:
        return AnsibleLoader(handle).get_single_data()


CONFIG = _config()
# The operator variables of failover/drill/failback (plugins/plugin_utils/operator_specs.py, checked by operator_vars).
OPERATOR_SPEC = dict(operator_specs.PLAYBOOK_SPECS["failover"])


def _read_variables(playbook):
    """The names a playbook without an argument spec reads (in its templates, conditions and the roles it calls)."""
    text = (REPO_ROOT / playbook).read_text()
    for role in re.findall(r"enterprise_dr\.orchestration\.(\w+)", text):
        for path in (REPO_ROOT / "roles" / role).rglob("*.yml"):
            text += path.read_text()
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def _questions(names):
    return [CONFIG["dr_awx_survey_questions"][name] for name in names]


@pytest.mark.parametrize("template", CONFIG["dr_awx_job_templates"], ids=lambda t: t["name"])
def test_job_template_playbook_exists_and_accepts_its_survey(template):
    playbook = template["playbook"]
    if not (REPO_ROOT / playbook).is_file():
        assert playbook in PENDING and template.get("pending_playbook"), f"{template['name']}: no {playbook}"
        pytest.skip(f"{playbook}: {template['pending_playbook']}")
    questions = _questions(template["survey"])
    fixed = dict(CONFIG["dr_awx_job_vars"], **template.get("vars", {}))
    assert "environment" not in [q["variable"] for q in questions] + list(fixed), "use env, never environment"
    if playbook in SPEC_PLAYBOOKS:
        for question in questions:
            spec = OPERATOR_SPEC.get(question["variable"])
            assert spec is not None, f"{template['name']}: {question['variable']} is not in the operator spec"
            allowed = SURVEY_TYPES[spec.get("type", "str")]
            assert allowed is None or question["type"] in allowed, (question, spec)
            if "choices" in spec and question["type"] in ("multiplechoice", "multiselect"):
                assert set(question["choices"]) <= {str(c) for c in spec["choices"]}, (question, spec)
            if spec.get("elements") == "int":
                assert all(str(c).isdigit() for c in question.get("choices", [])), question
        for name, value in fixed.items():
            spec = OPERATOR_SPEC.get(name)
            assert spec is not None, f"{template['name']}: fixed variable {name} is not in the operator spec"
            if "choices" in spec:
                values = value if isinstance(value, list) else [value]
                assert set(values) <= set(spec["choices"]), (name, value, spec["choices"])
    else:
        names = _read_variables(playbook)
        for question in questions:
            assert question["variable"] in names, f"{template['name']}: {playbook} never reads {question['variable']}"


def test_store_variables_are_the_ones_every_playbook_reads():
    for name in CONFIG["dr_awx_job_vars"]:
        assert name in OPERATOR_SPEC
        for playbook in ("playbooks/status.yml", "playbooks/history.yml", "playbooks/approve.yml"):
            assert name in _read_variables(playbook), (playbook, name)


def test_workflow_nodes_name_templates_and_phase_templates_leave_no_gate_inside_a_job():
    templates = {t["name"]: t for t in CONFIG["dr_awx_job_templates"]}
    for workflow in CONFIG["dr_awx_workflows"]:
        assert "environment" not in [q["variable"] for q in _questions(workflow["survey"])]
        kinds = ["approval" if "approval" in n else "job" for n in workflow["nodes"]]
        # Jobs and approvals alternate, starting and ending with a job.
        assert kinds[0] == kinds[-1] == "job" and all(a != b for a, b in zip(kinds, kinds[1:]))
        phases = []
        for node in workflow["nodes"]:
            if "approval" in node:
                assert 0 < node["timeout"] <= 86400
                continue
            template = templates[node["job_template"]]
            assert template["workflow_phase"] and template["vars"]["approval_mode"] == "awx_workflow"
            job_phases = template["vars"]["phases"]
            # A gate stands before activate and before cleanup: only at the start of a job, after an approval node.
            assert not set(job_phases[1:]) & {"activate", "cleanup"}
            phases += job_phases
        assert phases == ["instantiate", "activate", "cleanup", "replicate"]
        assert workflow["on_denied_or_timeout"]["job_template"] in templates


def test_every_customer_has_a_monthly_drill_and_readiness_runs_daily():
    for customer in CONFIG["dr_awx_customers"]:
        assert "FREQ=MONTHLY" in customer["drill_rrule"] and customer["drill_rrule"].startswith("DTSTART")
    assert "FREQ=DAILY" in CONFIG["dr_awx_readiness_rrule"]


def test_secrets_are_never_in_the_data_file():
    credential_type = CONFIG["dr_awx_credential_type"]
    secret_fields = {f["id"] for f in credential_type["inputs"]["fields"] if f.get("secret")}
    assert {"workload_accounts", "hub_secret_access_key"} <= secret_fields
    # Secrets reach the job as a private file and environment variables, never as extra vars.
    assert "extra_vars" not in credential_type["injectors"]
    for credential in CONFIG["dr_awx_credentials"]:
        for name, value in credential["inputs"].items():
            if name in secret_fields or "token" in name:
                assert "dr_awx_secret_" in str(value), (credential["name"], name)


@pytest.mark.parametrize("template", CONFIG["dr_awx_job_templates"], ids=lambda t: t["name"])
def test_every_job_template_passes_only_variables_its_playbook_takes(template):
    """AWX hands every job the fixed variables and the survey answers: the playbook's operator_vars must let them
    through, or the job is refused before it starts."""
    name = Path(template["playbook"]).stem
    spec = operator_specs.PLAYBOOK_SPECS.get(name)
    if spec is None or not (REPO_ROOT / template["playbook"]).is_file():
        pytest.skip(f"{template['playbook']} has no operator spec")
    given = dict(CONFIG["dr_awx_job_vars"], **template.get("vars", {}))
    given.update({q["variable"]: "x" for q in _questions(template["survey"])})
    assert operator_specs.unknown_name_errors(name, spec, given) == []
