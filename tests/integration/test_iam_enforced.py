"""IAM enforced at request time: the demo's failover, failback and drill with exactly the published policies.

The estate's roles carry iam/policies/*.json as the CloudFormation templates deploy them (sandbox/estate.py
``create_roles``); with enforcement on, the sandbox judges every request of the collection by the signing role's
policies, moto-served and emulated services alike (sandbox/iam_enforcement.py). Removing one action from a role must
fail the run on that action, name the policy that grants it, and change nothing the action guards.
"""

import json

import pytest

from sandbox.cli import DEMO_TECHNOLOGIES
from sandbox.harness import DEMO_ESTATE

HUB = "123456789012"
WORKLOAD_A = "210987654321"
ROLE = "EnterpriseDRWorkloadRole"
TABLE = "enterprise-dr-executions"
AUTOMATIC = ["-e", "approval_mode=automatic", "-e", "allow_automatic_production=true", "-e", "poll_interval=2"]
ALL_TECHNOLOGIES = DEMO_TECHNOLOGIES.replace("{{", "{").replace("}}", "}")
# FSx has no failback adapter (docs/technologies/fsx.md): a failback names the others.
FAILBACK_TECHNOLOGIES = json.dumps({"dr_technologies": [
    t for t in json.loads(ALL_TECHNOLOGIES)["dr_technologies"] if t != "fsx"]})
DRS_ONLY = json.dumps({"dr_technologies": ["drs"]})


@pytest.fixture
def enforced(sandbox):
    """The demo estate and the hub set up (by an administrator, before enforcement), then IAM enforced."""
    sandbox.reset()
    sandbox.seed(DEMO_ESTATE)
    rc, out, err = sandbox.run_ansible(["playbooks/setup_hub.yml"])
    assert rc == 0, out[-3000:] + err[-2000:]
    assert sandbox.enforce_iam(True)["enforce"] is True
    yield sandbox
    sandbox.enforce_iam(False)


def _records(sandbox, customer):
    """Every item of the customer's executions in the hub's table (header and entries), newest first."""
    dynamodb = sandbox.client("dynamodb", HUB, "us-east-1")
    items = dynamodb.scan(TableName=TABLE)["Items"]
    plain = [{key: next(iter(value.values())) for key, value in item.items()} for item in items]
    ids = {item["execution_id"] for item in plain if item.get("customer") == customer}
    by_id = {}
    for item in plain:
        if item["execution_id"] in ids:
            by_id.setdefault(item["execution_id"], []).append(item)
    return sorted(by_id.values(), key=lambda group: next(
        i for i in group if i["record_key"] == "record").get("started_at", ""), reverse=True)


def _header(group):
    return next(item for item in group if item["record_key"] == "record")


def _denied(sandbox):
    return sorted({(r["denied"], r["account"]) for r in sandbox.requests() if r.get("denied")})


def _remove_action(sandbox, account, policy_name, action):
    """The role's inline policy without ``action`` (what a role deployed from an edited template holds)."""
    iam = sandbox.client("iam", account, "us-east-1")
    document = iam.get_role_policy(RoleName=ROLE, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    for statement in document["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != action]
    document["Statement"] = [s for s in document["Statement"] if s["Action"]]
    iam.put_role_policy(RoleName=ROLE, PolicyName=policy_name, PolicyDocument=json.dumps(document))


@pytest.mark.slow  # about 4 minutes on an idle 2-core machine: the slow tier (make test-slow, CI)
def test_failover_failback_and_drill_succeed_with_exactly_the_published_policies(enforced):
    sandbox = enforced
    for args in (
        ["playbooks/discover.yml", "-e", "customer=acme"],
        ["playbooks/failover.yml", "-e", "customer=acme", "-e", ALL_TECHNOLOGIES, "--check"],
        ["playbooks/failover.yml", "-e", "customer=acme", "-e", ALL_TECHNOLOGIES, "-e", "notify=true", *AUTOMATIC],
        ["playbooks/failback.yml", "-e", "customer=acme", "-e", FAILBACK_TECHNOLOGIES, *AUTOMATIC],
        ["playbooks/drill.yml", "-e", "customer=globex", "-e", DRS_ONLY, *AUTOMATIC],
    ):
        rc, out, err = sandbox.run_ansible(args)
        assert rc == 0, f"{args[0]}: " + out[-4000:] + err[-2000:]
        assert _denied(sandbox) == [], args[0]
    # Enforcement was on throughout: the runs' requests were judged (the workload role's and the hub's).
    judged = [r for r in sandbox.requests() if r["account"] in (HUB, WORKLOAD_A) and r.get("operation")]
    assert {r["account"] for r in judged} == {HUB, WORKLOAD_A}
    assert sandbox.admin.iam() == {"enforce": True, "hub_account": HUB, "denials": 0}
    acme = _records(sandbox, "acme")
    assert [(_header(g)["operation"], _header(g)["status"]) for g in acme[:2]] == [
        ("failback", "succeeded"), ("failover", "succeeded")]
    assert (_header(_records(sandbox, "globex")[0])["operation"], _header(_records(sandbox, "globex")[0])["status"]) \
        == ("drill", "succeeded")


@pytest.mark.slow  # the slow tier (make test-slow, CI): make test keeps the trust-policy test
def test_a_removed_action_fails_the_run_naming_the_action_and_its_policy_and_launches_nothing(enforced):
    sandbox = enforced
    _remove_action(sandbox, WORKLOAD_A, "EnterpriseDRDrs", "drs:StartRecovery")
    rc, out, err = sandbox.run_ansible(
        ["playbooks/failover.yml", "-e", "customer=acme", "-e", DRS_ONLY, *AUTOMATIC])
    assert rc != 0
    # AWS refused StartRecovery for that reason only, and nothing was launched.
    assert _denied(sandbox) == [("drs:StartRecovery", WORKLOAD_A)]
    starts = [r for r in sandbox.requests("drs") if r["operation"] == "StartRecovery"]
    assert starts and all(r["status"] == 403 for r in starts)
    drs = sandbox.client("drs", WORKLOAD_A, "us-west-2")
    assert drs.describe_jobs(filters={})["items"] == []
    # The record names the action, the resource and the policy to fix, for each server of the wave.
    group = _records(sandbox, "acme")[0]
    # The wave failed, so the run stopped resumably: grant the action and the same command goes on.
    assert (_header(group)["operation"], _header(group)["status"]) == ("failover", "interrupted")
    text = json.dumps(group)
    assert "AccessDenied: drs:StartRecovery on " in text
    assert "add it to EnterpriseDRDrs (iam/policies/drs.json)" in text


@pytest.mark.slow  # the slow tier (make test-slow, CI): make test keeps the trust-policy test
def test_a_removed_hub_action_is_named_with_the_hub_policy(enforced):
    sandbox = enforced
    iam = sandbox.client("iam", HUB, "us-east-1")
    document = iam.get_role_policy(RoleName="EnterpriseDRHubRole", PolicyName="EnterpriseDRHub")["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    for statement in document["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != "sns:Publish"]
    iam.put_role_policy(RoleName="EnterpriseDRHubRole", PolicyName="EnterpriseDRHub",
                        PolicyDocument=json.dumps(document))
    rc, out, err = sandbox.run_ansible(
        ["playbooks/failover.yml", "-e", "customer=acme", "-e", DRS_ONLY, "-e", "notify=true", *AUTOMATIC])
    assert ("sns:Publish", HUB) in _denied(sandbox)
    assert "AccessDenied: sns:Publish on " in out + err
    assert "add it to EnterpriseDRHub (iam/policies/hub.json): redeploy cloudformation/hub.yml" in out + err


@pytest.mark.slow  # the slow tier (make test-slow, CI): make test keeps the trust-policy test
def test_discovery_and_check_mode_succeed_with_the_read_only_policy_alone(enforced):
    sandbox = enforced
    for account in (WORKLOAD_A, "345678901234"):
        iam = sandbox.client("iam", account, "us-east-1")
        for name in iam.list_role_policies(RoleName=ROLE)["PolicyNames"]:
            if name != "EnterpriseDRDiscovery":
                iam.delete_role_policy(RoleName=ROLE, PolicyName=name)
        assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["EnterpriseDRDiscovery"]
    sandbox.clear_requests()
    for args in (["playbooks/discover.yml", "-e", "customer=acme"],
                 ["playbooks/readiness.yml"],
                 ["playbooks/failover.yml", "-e", "customer=acme", "-e", ALL_TECHNOLOGIES, "--check"]):
        rc, out, err = sandbox.run_ansible(args)
        assert rc == 0, f"{args[0]}: " + out[-4000:] + err[-2000:]
    assert _denied(sandbox) == []
    assert [r for r in sandbox.requests() if r["mutating"] and r["account"] != HUB] == []


def test_assume_role_is_judged_by_the_trust_policy_external_id_and_session_length(enforced):
    import boto3
    from botocore.exceptions import ClientError

    # The controller's own credentials (not the harness's session): what the inventory and the modules use.
    sts = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing").client(
        "sts", region_name="us-east-1", endpoint_url=enforced.endpoint)
    role_arn = f"arn:aws:iam::{WORKLOAD_A}:role/{ROLE}"
    good = sts.assume_role(RoleArn=role_arn, RoleSessionName="controller", ExternalId="edr-demo-workload-a",
                           DurationSeconds=900)
    assert good["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{ROLE}/controller")
    for wrong in ({"ExternalId": "guessed-external-id", "DurationSeconds": 900},
                  {"DurationSeconds": 900},
                  {"ExternalId": "edr-demo-workload-a", "DurationSeconds": 3600}):
        with pytest.raises(ClientError) as refused:
            sts.assume_role(RoleArn=role_arn, RoleSessionName="controller", **wrong)
        assert refused.value.response["Error"]["Code"] == "AccessDenied", wrong
        assert "trust policy" in refused.value.response["Error"]["Message"]
    assert [d for d in _denied(enforced) if d[0] == "sts:AssumeRole"] == [("sts:AssumeRole", HUB)]
    assert enforced.admin.iam()["denials"] == 3
