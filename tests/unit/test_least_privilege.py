"""The published policies against a run's request log: a missing action is named, with the policy to add it to."""

import json

from iam import least_privilege
from iam import render

HUB = "123456789012"
WORKLOAD = "210987654321"


def _request(service, operation, account=WORKLOAD, status=200):
    return {"service": service, "operation": operation, "account": account, "region": "us-west-2", "status": status}


def test_a_run_within_the_policies_is_not_refused():
    requests = [_request("drs", "StartRecovery"), _request("ec2", "DescribeInstances"),
                _request("dynamodb", "PutItem", account=HUB), _request("sts", "AssumeRole", account=HUB)]
    assert least_privilege.denials(requests, HUB, ["drs"]) == []


def test_removing_one_action_names_it_and_the_policy_to_add_it_to():
    requests = [_request("drs", "StartRecovery")]
    actions = least_privilege.policy_actions("drs") - {"drs:StartRecovery"}
    assert least_privilege.denials(requests, HUB, ["drs"], overrides={"drs": actions}) == [
        "AccessDenied: drs:StartRecovery in account 210987654321 us-west-2; add it to iam/policies/drs.json"]


def test_discovery_alone_grants_no_write_and_the_hub_only_its_own():
    # TestDNSAnswer asks Route 53's name servers what they answer, and changes nothing.
    for action in least_privilege.policy_actions("discovery") - {"route53:TestDNSAnswer"}:
        assert action.split(":")[1].startswith(("Describe", "Get", "List")), action
    assert least_privilege.denials([_request("drs", "StartRecovery")], HUB, []) != []
    # The hub reads like any discovered account, but changes nothing outside its own record, topics and metrics.
    assert least_privilege.denials([_request("drs", "DescribeJobs", account=HUB)], HUB, ["drs"]) == []
    assert least_privilege.denials([_request("drs", "StartRecovery", account=HUB)], HUB, ["drs"]) != []


def test_no_policy_grants_every_action_of_a_service_or_administrator_access():
    for name in least_privilege.policy_names():
        for action in least_privilege.policy_actions(name):
            assert "*" not in action, (name, action)


def test_the_templates_are_rendered_from_the_policies_and_sessions_are_fifteen_minutes():
    import yaml

    assert render.main(["--check"]) == 0
    template = yaml.safe_load(render.workload_template().split("\n", 3)[3])
    trust = template["Resources"]["WorkloadRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Condition"]["NumericLessThanEquals"]["sts:DurationSeconds"] == "900"
    assert trust["Condition"]["StringEquals"]["sts:ExternalId"] == {"Ref": "ExternalId"}
    assert template["Parameters"]["ExternalId"]["NoEcho"] is True
    drs = template["Resources"]["DrsPolicy"]["Properties"]["PolicyDocument"]
    assert drs == json.loads((least_privilege.POLICY_DIR / "drs.json").read_text())
