"""AccessDenied answers name the action, the resource and the published policy to fix (clients.describe_error)."""

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import clients
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import iam_policies

REPO = Path(__file__).resolve().parents[4]


def denied(code, action, resource="*"):
    message = (f"User: arn:aws:sts::210987654321:assumed-role/EnterpriseDRWorkloadRole/edr is not authorized to "
               f"perform: {action} on resource: {resource} because no identity-based policy allows the {action} action")
    return ClientError({"Error": {"Code": code, "Message": message}}, "Call")


@pytest.mark.parametrize("code, action, policy, template", [
    ("AccessDeniedException", "drs:StartRecovery", "EnterpriseDRDrs (iam/policies/drs.json)", "workload-account.yml"),
    ("UnauthorizedOperation", "ec2:StartInstances", "EnterpriseDRDrs (iam/policies/drs.json)", "workload-account.yml"),
    ("AccessDenied", "rds:SwitchoverGlobalCluster", "EnterpriseDRAurora (iam/policies/aurora.json)",
     "workload-account.yml"),
    ("AccessDenied", "sns:Publish", "EnterpriseDRHub (iam/policies/hub.json)", "hub.yml"),
    ("AccessDeniedException", "elasticache:DescribeReplicationGroups",
     "EnterpriseDRDiscovery (iam/policies/discovery.json)", "workload-account.yml"),
])
def test_the_policy_that_grants_the_action_is_named(code, action, policy, template):
    text = clients.describe_error(denied(code, action, "arn:aws:drs:us-west-2:210987654321:source-server/s-1"))
    assert text.startswith(f"{code}: User: ")
    assert (f"AccessDenied: {action} on arn:aws:drs:us-west-2:210987654321:source-server/s-1; add it to {policy}: "
            f"redeploy cloudformation/{template}") in text


def test_an_action_no_policy_grants_says_so():
    advice = clients.access_denied_advice(denied("AccessDenied", "drs:DeleteJob"))
    assert advice.startswith("AccessDenied: drs:DeleteJob on *; no published policy grants it")


def test_an_unparsed_denial_still_points_at_the_templates_and_other_errors_get_no_advice():
    encoded = ClientError({"Error": {"Code": "UnauthorizedOperation",
                                     "Message": "You are not authorized. Encoded authorization failure message: x"}},
                          "StartInstances")
    assert "redeploy cloudformation/workload-account.yml" in clients.access_denied_advice(encoded)
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeJobs")
    assert clients.access_denied_advice(throttled) == ""
    assert clients.describe_error(throttled) == "ThrottlingException: Rate exceeded"
    assert clients.describe_error(ValueError("boom")) == "boom"


def test_the_action_map_is_the_policy_files():
    for path in (REPO / "iam" / "policies").glob("*.json"):
        for statement in json.loads(path.read_text())["Statement"]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                assert path.stem in iam_policies.ACTION_POLICIES[action]
    assert set(iam_policies.POLICY_NAMES) == {p.stem for p in (REPO / "iam" / "policies").glob("*.json")}


def test_a_botocore_error_without_an_answer_is_named_by_its_class():
    from botocore.exceptions import EndpointConnectionError

    down = EndpointConnectionError(endpoint_url="https://elasticfilesystem.us-west-2.amazonaws.com/")
    assert clients.describe_error(down) == (
        'EndpointConnectionError: Could not connect to the endpoint URL: '
        '"https://elasticfilesystem.us-west-2.amazonaws.com/"')
