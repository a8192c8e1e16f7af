"""The bad-input catalogue: every case runs the real playbook and is refused before anything changes.

Each case asserts (a) a non-zero exit, (b) that the output names the variable, key or resource and the fix, and
(c) that the sandbox request log shows no mutating call during the run (the log is snapshotted before it).
Variable cases need no AWS and run against ``-i localhost,``; inventory-file cases stop in the inventory plugin;
tag and target cases run against one seeded estate where each case is its own customer. The table of cases is
in docs/reliability.md ("Bad input").
"""

import json

import pytest

pytestmark = [pytest.mark.sandbox, pytest.mark.playbook]

HUB = "123456789012"
ACCOUNT = "210987654321"
PRIMARY, DR = "us-east-1", "us-west-2"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/EnterpriseDRWorkloadRole"

FIX = "fix:"


def _server(hostname, customer, index, tags=None, target=True, target_name=None, **extra):
    entry = {
        "hostname": hostname, "account": "workload-a", "customer": customer, "environment": "production", "wave": 1,
        "priority": "high", "recovery_strategy": "launch-into-instance",
        "source": {"private_ip": f"10.10.1.{index}", "subnet": "app", "security_groups": ["app"]},
        "drs": {"replication_state": "CONTINUOUS", "lag_seconds": 3},
    }
    if target:
        entry["target"] = {"name": target_name or hostname, "private_ip": f"10.20.1.{index}", "subnet": "app",
                           "security_groups": ["app"]}
    if tags:
        entry["tags"] = tags
    entry.update(extra)
    return {key: value for key, value in entry.items() if value is not None}


# case -> tag overrides on the source instance of the server <case>-app01. The wave and dependency cases are the
# servers of the customer badplan, the others of badtags: one failover run per customer refuses all its servers.
TAG_CASES = {
    "wave-third": {"dr:wave": "third"},
    "wave-zero": {"dr:wave": "0"},
    "wave-negative": {"dr:wave": "-1"},
    "wave-float": {"dr:wave": "1.5"},
    "wave-huge": {"dr:wave": "99999999999"},
    "wave-unicode": {"dr:wave": "²"},
    "wave-empty": {"dr:wave": " "},
    "enabled-yes": {"dr:enabled": "yes"},
    "priority-urgent": {"dr:priority": "urgent"},
    "rto-soon": {"dr:rto-target": "soon"},
    "url-ftp": {"dr:health-check-url": "ftp://app.example.com/health"},
    "strategy-teleport": {"dr:recovery-strategy": "teleport"},
    "env-empty": {"Environment": ""},
    "key-typo": {"dr:Priority": "critical"},
    "deps-unknown": {"dr:dependencies": "no-such-db"},
}


# Schema tags a case leaves off its server (so that the misspelt key is the only one).
UNSET = {"key-typo": {"priority": None}}


def _group(case):
    """Problems of the wave plan (dr:wave, dr:dependencies) are refused before the tag problems: own customers."""
    return "badplan" if case.startswith(("wave-", "deps-")) else "badtags"


def estate():
    network = {
        "vpc": {"cidr": "10.10.0.0/16"}, "subnets": [{"name": "app", "cidr": "10.10.1.0/24"}],
        "security_groups": [{"name": "app", "egress": [{"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}]}],
    }
    dr_network = dict(network, vpc={"cidr": "10.20.0.0/16"}, subnets=[{"name": "app", "cidr": "10.20.1.0/24"}])
    servers = [_server(f"{case}-app01", _group(case), 10 + i, tags, **UNSET.get(case, {}))
               for i, (case, tags) in enumerate(TAG_CASES.items())]
    servers += [
        # tgtown's server has no target of its own; tgtother's target carries tgtown's server's Name.
        _server("shared-app01", "tgtown", 60, target=False),
        _server("other-app01", "tgtother", 61, target_name="shared-app01"),
        # dupown has two targets of its own named dup-app01.
        _server("dup-app01", "dupown", 62),
        _server("dup-app02", "dupown", 63, target_name="dup-app01"),
    ]
    return {
        "version": 1,
        "hub": {"account_id": HUB, "name": "hub"},
        "regions": {"primary": PRIMARY, "dr": DR},
        "customers": ["badplan", "badtags", "dupown", "tgtother", "tgtown"],
        "accounts": [{"account_id": ACCOUNT, "name": "workload-a", "role_name": "EnterpriseDRWorkloadRole",
                      "external_id": "edr-demo-workload-a", "networks": {PRIMARY: network, DR: dr_network}}],
        "servers": servers,
        "resources": [
            {"type": "lambda_function", "name": "orphan-fn", "account": "workload-a", "region": PRIMARY,
             "tags": {"dr:enabled": "true", "dr:wave": "1", "Environment": "production"}},
        ],
        "sandbox": {"drs": {"time_scale": 0.2, "agent_not_ready_seconds": 0}},
    }


INVENTORY = f"""plugin: enterprise_dr.orchestration.dr_resources
primary_region: {PRIMARY}
dr_region: {DR}
accounts:
  - account_id: "{HUB}"
    name: hub
  - account_id: "{ACCOUNT}"
    name: workload-a
    role_arn: {ROLE}
    external_id: edr-demo-workload-a
strict: false
fail_on_unreachable_account: true
"""

# (id, playbook, variables, expected substrings[, names that must stay unset]). Run against -i localhost,.
VARIABLE_CASES = [
    ("typo-approval-mode", "failover", {"customer": "acme", "aproval_mode": "automatic"},
     ["unknown variable aproval_mode; did you mean approval_mode?", "fix: -e approval_mode=automatic"]),
    ("environment-failover", "failover", {"customer": "acme", "environment": "production"},
     ["variable environment is a reserved Ansible word", "fix: use -e env=production"]),
    ("environment-drill", "drill", {"customer": "globex", "environment": "staging"},
     ["variable environment", "fix: use -e env=staging"]),
    ("typo-customer", "drill", {"custmer": "globex"},
     ["unknown variable custmer; did you mean customer?", "variable customer is required"], {"customer"}),
    ("missing-customer", "failover", {}, ["variable customer is required; fix: pass it as -e customer=acme"],
     {"customer"}),
    ("empty-customer", "failover", {"customer": ""}, ["customer='': must not be empty"]),
    ("wait-timeout-negative", "failover", {"customer": "acme", "wait_timeout_minutes": "-5"},
     ["wait_timeout_minutes='-5': must be more than 0", "fix: pass it as -e wait_timeout_minutes=60"]),
    ("wait-timeout-zero", "failback", {"customer": "acme", "wait_timeout_minutes": "0"},
     ["wait_timeout_minutes='0': must be more than 0"]),
    ("lag-threshold-negative", "failover", {"customer": "acme", "lag_threshold_seconds": "-1"},
     ["lag_threshold_seconds='-1': must be 0 or more", "fix: pass it as -e lag_threshold_seconds=300"]),
    ("poll-interval-zero", "failover", {"customer": "acme", "poll_interval": "0"},
     ["poll_interval='0': must be 1 or more", "fix: pass it as -e poll_interval=30"]),
    ("gate-timeout-zero", "drill", {"customer": "globex", "gate_timeout_minutes": "0"},
     ["gate_timeout_minutes='0': must be more than 0", "fix: pass it as -e gate_timeout_minutes=30"]),
    ("gate-timeout-negative", "failback", {"customer": "acme", "gate_timeout_minutes": "-0.5"},
     ["gate_timeout_minutes='-0.5': must be more than 0"]),
    ("health-timeout-zero", "failover", {"customer": "acme", "health_check_timeout_seconds": "0"},
     ["health_check_timeout_seconds='0': must be more than 0"]),
    ("poll-interval-word", "drill", {"customer": "globex", "poll_interval": "abc"},
     ["poll_interval='abc'", "unable to convert to int", "fix: pass it as -e poll_interval=30"]),
    ("lag-threshold-float", "drill", {"customer": "globex", "lag_threshold_seconds": "1.5"},
     ["lag_threshold_seconds='1.5'", "unable to convert to int"]),
    ("approval-mode-choice", "failover", {"customer": "acme", "approval_mode": "yes"},
     ["approval_mode='yes'", "required, automatic, record", "fix: pass it as -e approval_mode=record"]),
    ("emergency-not-bool", "failover", {"customer": "acme", "emergency": "maybe"},
     ["emergency='maybe'", "fix: pass it as -e emergency=true"]),
    ("notify-not-bool", "drill", {"customer": "globex", "notify": "perhaps"}, ["notify='perhaps'", FIX]),
    ("failure-policy-word", "failover", {"customer": "acme", "failure_policy": "retry"},
     ["failure_policy='retry': must be stop or continue", FIX]),
    ("failure-policy-bad-wave", "drill", {"customer": "globex", "failure_policy": {"one": "stop"}},
     ["the key 'one' is not a wave number", FIX]),
    ("failure-policy-bad-policy", "failback", {"customer": "acme", "failure_policy": {"1": "retry"}},
     ["wave 1 has policy 'retry', not stop or continue", FIX]),
    ("waves-zero", "failover", {"customer": "acme", "waves": [0]}, ["waves=[0]: must be 1 or more", FIX]),
    ("waves-word", "drill", {"customer": "globex", "waves": ["first"]},
     ["waves=['first']", "unable to convert to int", FIX]),
    ("phases-typo", "failover", {"customer": "acme", "phases": ["instanciate"]},
     ["phases=['instanciate']", "instanciate", FIX]),
    ("failback-dr-instances", "failback", {"customer": "acme", "failback_dr_instances": "deleted"},
     ["failback_dr_instances='deleted'", "stopped, terminated", FIX]),
    ("profile-severity", "validate_failback", {"customer": "acme", "instance_profile_severity": "loud"},
     ["instance_profile_severity='loud'", FIX]),
    ("validate-failback-lag", "validate_failback", {"customer": "acme", "lag_threshold_seconds": "-1"},
     ["lag_threshold_seconds='-1': must be 0 or more", "-e lag_threshold_seconds=60"]),
    ("discover-typo", "discover", {"customer": "acme", "plan_fle": "/tmp/plan.json"},
     ["unknown variable plan_fle; did you mean plan_file?", "fix: -e plan_file=/tmp/plan.json"]),
    ("status-typo", "status", {"execution_di": "edr-acme-1"},
     ["unknown variable execution_di; did you mean execution_id?", "fix: -e execution_id=edr-acme-1"]),
    ("history-limit-zero", "history", {"customer": "acme", "limit": "0"},
     ["limit='0': must be 1 or more", "fix: pass it as -e limit=10"]),
    ("approve-decision", "approve", {"execution_id": "edr-acme-1", "decision": "maybe"},
     ["decision='maybe'", "approve, cancel", FIX]),
    ("approve-typo", "approve", {"executionid": "edr-acme-1", "decision": "approve"},
     ["unknown variable executionid; did you mean execution_id?", "variable execution_id is required"],
     {"execution_id"}),
    ("setup-hub-store", "setup_hub", {"hub_setup_store": "s3"}, ["hub_setup_store='s3'", "dynamodb, file", FIX]),
    ("demo-customer", "demo", {"customer": "acme"},
     ["unknown variable customer; did you mean customers?", "variable accounts is required"], {"accounts"}),
    ("unknown-variable", "failover", {"customer": "acme", "zzz": "1"},
     ["unknown variable zzz: failover.yml does not take it; fix: remove it"]),
]


def _cli(variables):
    args = []
    for name, value in variables.items():
        args += ["-e", f"{name}={value}" if isinstance(value, str) else json.dumps({name: value})]
    return args


def _batches(cases):
    """Cases of one playbook share a run when they agree on every variable they both set (the action reports
    every problem of a run at once); a case that needs a variable unset never shares with one that sets it."""
    batches = []
    for case in cases:
        case_id, playbook, variables, _expected = case[:4]
        absent = case[4] if len(case) > 4 else set()
        for batch in batches:
            if batch["playbook"] != playbook:
                continue
            if any(batch["vars"].get(k, v) != v for k, v in variables.items()):
                continue
            if absent & set(batch["vars"]) or batch["absent"] & set(variables):
                continue
            batch["vars"].update(variables)
            batch["absent"] |= absent
            batch["cases"].append(case_id)
            break
        else:
            batches.append({"playbook": playbook, "vars": dict(variables), "absent": set(absent), "cases": [case_id]})
    return {case_id: batch for batch in batches for case_id in batch["cases"]}


BATCH_OF = _batches(VARIABLE_CASES)
_RUNS = {}


def _snapshot(sandbox):
    return len(sandbox.requests())


def _mutations_since(sandbox, mark):
    return [f"{r['service']}:{r['operation']}" for r in sandbox.requests()[mark:] if r["mutating"]]


def _refusal(out):
    """The failure messages of a run (not the inventory's warnings about other customers' resources)."""
    return "\n".join(line for line in out.splitlines() if "FAILED!" in line or line.startswith("[ERROR]"))


def _assert_refused(rc, out, expected, whole_output=False):
    assert rc != 0, out[-3000:]
    text = out if whole_output else _refusal(out)
    for part in expected:
        assert part in text, f"{part!r} not in the refusal:\n{text[-4000:] or out[-4000:]}"


@pytest.fixture(scope="module")
def seeded(sandbox, tmp_path_factory):
    _RUNS.clear()
    sandbox.reset()
    result = sandbox.seed(estate())
    root = tmp_path_factory.mktemp("bad-input")
    inventory = root / "estate.dr_resources.yml"
    inventory.write_text(INVENTORY)
    return {"result": result, "root": root, "inventory": inventory}


def _run(sandbox, args):
    rc, out, err = sandbox.run_ansible(args)
    return rc, out + err


def _run_once(sandbox, args):
    """One run per distinct command line in this module: (rc, output, mutating calls during the run)."""
    key = tuple(args)
    if key not in _RUNS:
        mark = _snapshot(sandbox)
        rc, out = _run(sandbox, args)
        _RUNS[key] = (rc, out, _mutations_since(sandbox, mark))
    return _RUNS[key]


@pytest.mark.parametrize("case_id,playbook,expected", [c[:2] + (c[3],) for c in VARIABLE_CASES],
                         ids=[c[0] for c in VARIABLE_CASES])
def test_bad_variables_are_refused_before_any_call(sandbox, seeded, case_id, playbook, expected):
    batch = BATCH_OF[case_id]
    rc, out, mutations = _run_once(sandbox, ["-i", "localhost,", f"playbooks/{playbook}.yml", *_cli(batch["vars"])])
    _assert_refused(rc, out, ["Refused before any change", *expected])
    assert mutations == []


def test_batched_cases_do_not_hide_one_another():
    """Each batched case's own variable is in its batch, with the case's own value."""
    for case in VARIABLE_CASES:
        batch = BATCH_OF[case[0]]
        assert all(batch["vars"][k] == v for k, v in case[2].items())
        assert not (set(case[4] if len(case) > 4 else ()) & set(batch["vars"]))


@pytest.mark.parametrize("content,expected", [
    ({"customer": "acme", "aproval_mode": "record"},
     ["unknown variable aproval_mode; did you mean approval_mode?", "fix: -e approval_mode=record"]),
    ({"customer": "acme", "environment": "production"}, ["fix: use -e env=production"]),
    ({"customer": "acme", "poll_interval": -3, "gate_timeout_minutes": "0"},
     ["poll_interval=-3: must be 1 or more", "gate_timeout_minutes='0': must be more than 0"]),
], ids=["typo", "environment", "ranges"])
def test_an_extra_vars_file_is_checked_like_the_command_line(sandbox, seeded, content, expected):
    """AWX passes extra variables as -e @file."""
    path = seeded["root"] / f"extra-{abs(hash(json.dumps(content)))}.json"
    path.write_text(json.dumps(content))
    mark = _snapshot(sandbox)
    rc, out = _run(sandbox, ["-i", "localhost,", "playbooks/failover.yml", "-e", f"@{path}"])
    _assert_refused(rc, out, ["Refused before any change", *expected])
    assert _mutations_since(sandbox, mark) == []


@pytest.mark.parametrize("variable", ["-e environment=production", "-e aproval_mode=automatic",
                                      "-e wait_timeout_minutes=-5"])
def test_bad_variables_against_the_estate_are_refused_before_the_first_aws_change(sandbox, seeded, variable):
    """Observations 1-3: the same refusals with a real inventory (the estate is read, nothing is changed)."""
    name, value = variable.split(" ")
    mark = _snapshot(sandbox)
    rc, out = _run(sandbox, ["-i", str(seeded["inventory"]), "playbooks/failover.yml", "-e", "customer=wave-third",
                             name, value])
    _assert_refused(rc, out, ["Refused before any change", value.split("=")[0]])
    assert _mutations_since(sandbox, mark) == []


INVENTORY_CASES = [
    ("rolearn", INVENTORY.replace("    role_arn:", "    rolearn:"),
     ["unknown key 'rolearn'; did you mean role_arn? fix: rename it to role_arn"]),
    ("account-id-11-digits", INVENTORY.replace(f'"{ACCOUNT}"', '"21098765432"'),
     ["'21098765432' is not a 12-digit AWS account ID; fix:"]),
    ("top-level-typo", INVENTORY + "stict: true\n", ["unknown key 'stict'; did you mean strict?"]),
    ("external-id-without-role", INVENTORY.replace(f"    role_arn: {ROLE}\n", ""),
     ["external_id is given without role_arn", "fix: add role_arn: arn:aws:iam::210987654321:role/<name>"]),
    ("role-arn-not-an-arn", INVENTORY.replace(ROLE, "EnterpriseDRWorkloadRole"),
     ["is not an IAM role ARN; fix: role_arn: arn:aws:iam::210987654321:role/<name>"]),
    ("role-arn-other-account", INVENTORY.replace(ROLE, ROLE.replace(ACCOUNT, "345678901234")),
     ["is in another account; fix: use arn:aws:iam::210987654321:role/<name>"]),
    ("account-without-access", INVENTORY.replace(f"    role_arn: {ROLE}\n    external_id: edr-demo-workload-a\n", ""),
     ["210987654321 have neither profile nor role_arn", "belong to account 123456789012",
      "fix: add role_arn: arn:aws:iam::210987654321:role/<name>"]),
]


@pytest.mark.parametrize("content,expected", [c[1:] for c in INVENTORY_CASES], ids=[c[0] for c in INVENTORY_CASES])
def test_bad_inventory_files_are_refused_naming_the_file_the_key_and_the_fix(sandbox, seeded, content, expected):
    path = seeded["root"] / "bad.dr_resources.yml"
    path.write_text(content)
    mark = _snapshot(sandbox)
    rc, out = _run(sandbox, ["-i", str(path), "playbooks/failover.yml", "-e", "customer=wave-third"])
    _assert_refused(rc, out, [str(path), *expected], whole_output=True)
    # the run never reached its plan, and no account was read with the hub's credentials by mistake
    assert "PLAY [PLAN" not in out or "Refuse unknown" not in out
    assert _mutations_since(sandbox, mark) == []


# case -> expected substrings (the resource, the tag and value, the fix).
TAG_EXPECTATIONS = {
    "wave-third": ["dr:wave 'third' is not an integer", "fix: set the tag dr:wave"],
    "wave-zero": ["dr:wave '0' is not a wave number (1 or more)", FIX],
    "wave-negative": ["dr:wave '-1' is not a wave number", FIX],
    "wave-float": ["dr:wave '1.5' is not an integer", FIX],
    "wave-huge": ["dr:wave '99999999999' is not a wave number", FIX],
    "wave-unicode": ["dr:wave '²' is not an integer", FIX],
    "wave-empty": ["dr:wave is missing or empty", FIX],
    "enabled-yes": ["tag dr:enabled='yes': must be true or false", "fix: set dr:enabled=true"],
    "priority-urgent": ["tag dr:priority='urgent': must be one of critical, high, medium, low", FIX],
    "rto-soon": ["tag dr:rto-target='soon': must be a whole number of minutes", FIX],
    "url-ftp": ["tag dr:health-check-url='ftp://app.example.com/health'", "https://, http:// or tcp://", FIX],
    "strategy-teleport": ["tag dr:recovery-strategy='teleport'", "launch-into-instance, new-instance", FIX],
    "env-empty": ["tag Environment=''", "required tag is missing or empty", "fix: add the tag Environment"],
    "key-typo": ["tag dr:Priority='critical'", "rename the tag 'dr:Priority' to 'dr:priority'"],
    "deps-unknown": ["dr:dependencies names 'no-such-db', which is not an in-scope resource", FIX],
}


def _server_arn(seeded, hostname):
    return seeded["result"]["servers"][hostname]["source_server_arn"]


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(TAG_EXPECTATIONS))
def test_bad_tags_are_refused_naming_the_resource_the_tag_and_the_fix(sandbox, seeded, case):
    rc, out, mutations = _run_once(sandbox, [
        "-i", str(seeded["inventory"]), "playbooks/failover.yml", "-e", f"customer={_group(case)}",
        "-e", "approval_mode=record", "-e", "execution_store=file", "-e", f"execution_store_path={seeded['root']}/s"])
    _assert_refused(rc, out, TAG_EXPECTATIONS[case])
    # the message names the resource: its ARN, next to the problem
    arn = _server_arn(seeded, f"{case}-app01")
    assert arn.startswith(f"arn:aws:drs:{DR}:{ACCOUNT}:source-server/")
    assert any(arn in part and TAG_EXPECTATIONS[case][0] in part for part in _refusal(out).split(" | ")), out[-3000:]
    assert "Traceback" not in out and "not supported between" not in out
    assert mutations == []


@pytest.mark.slow
def test_a_resource_without_customer_is_reported_never_crashes(sandbox, seeded):
    mark = _snapshot(sandbox)
    rc, out = _run(sandbox, ["-i", str(seeded["inventory"]), "playbooks/failover.yml", "-e", "customer=nobody"])
    _assert_refused(rc, out, ["No DR-enabled resource is in scope for customer=nobody",
                              f"arn:aws:lambda:{PRIMARY}:{ACCOUNT}:function:orphan-fn",
                              "tag Customer is missing", "fix: add the tag Customer=<customer>"])
    assert "not supported between" not in out
    assert _mutations_since(sandbox, mark) == []


def _targets(sandbox):
    ec2 = sandbox.client("ec2", ACCOUNT, DR)
    found = {}
    for reservation in ec2.describe_instances()["Reservations"]:
        for instance in reservation["Instances"]:
            tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
            if tags.get("AWSDRS"):
                found[instance["InstanceId"]] = (tags.get("Name"), tags.get("Customer"), instance["State"]["Name"])
    return found


@pytest.mark.slow
def test_another_customers_target_is_never_a_candidate(sandbox, seeded):
    """Observation 11: tgtother's target named like tgtown's server is neither matched nor named in the advice."""
    targets = _targets(sandbox)
    other = [i for i, (name, customer, _s) in targets.items() if customer == "tgtother"]
    assert len(other) == 1 and targets[other[0]][0] == "shared-app01"
    mark = _snapshot(sandbox)
    rc, out = _run(sandbox, ["-i", str(seeded["inventory"]), "playbooks/failover.yml", "-e", "customer=tgtown",
                             "-e", "approval_mode=record"])
    _assert_refused(rc, out, ["shared-app01", "no pre-provisioned target named 'shared-app01'",
                              "fix: create a stopped EC2 instance there"])
    assert other[0] not in out  # never advised about, never planned into
    assert "rename the other targets" not in _refusal(out)
    assert _mutations_since(sandbox, mark) == []
    assert _targets(sandbox) == targets


@pytest.mark.slow
def test_another_customers_target_does_not_block_the_plan(sandbox, seeded):
    """The other half of observation 11: the plan of tgtother is not blocked by tgtown (read-only discover)."""
    plan_file = seeded["root"] / "plan.json"
    rc, out = _run(sandbox, ["-i", str(seeded["inventory"]), "playbooks/discover.yml", "-e", "customer=tgtother",
                             "-e", f"plan_file={plan_file}"])
    assert rc == 0, out[-3000:]
    assert "duplicate" not in out.lower()


@pytest.mark.slow
def test_two_of_a_customers_own_targets_with_one_name_are_refused(sandbox, seeded):
    mark = _snapshot(sandbox)
    rc, out = _run(sandbox, ["-i", str(seeded["inventory"]), "playbooks/failover.yml", "-e", "customer=dupown",
                             "-e", "approval_mode=record"])
    _assert_refused(rc, out, ["2 pre-provisioned targets", "have the Name 'dup-app01'",
                              "fix: keep one target per server"])
    assert _mutations_since(sandbox, mark) == []
