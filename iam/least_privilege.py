"""The published IAM policies (iam/policies/*.json) against what a run actually called.

Every request the sandbox served is in its request log with service, operation and account. A run is within the
published least privilege when every call made in a workload account is granted by the discovery policy plus the
policies of the technologies in use, and every call in the hub account by the hub policy. ``denials`` names each call
that is not, the way AWS would refuse it: ``AccessDenied: <action> in <account> <region>; add it to <policy file>``.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

POLICY_DIR = Path(__file__).resolve().parent / "policies"

# Sandbox service names (the boto3 client name) -> IAM action prefix.
IAM_PREFIX = {
    "resourcegroupstaggingapi": "tag", "efs": "elasticfilesystem", "opensearch": "es", "cloudwatch": "cloudwatch",
}

# Workload policies a run of these technologies is allowed to use (besides discovery).
WORKLOAD_ALWAYS = ("discovery",)


def policy_actions(name: str) -> set[str]:
    document = json.loads((POLICY_DIR / f"{name}.json").read_text())
    actions = set()
    for statement in document["Statement"]:
        if statement.get("Effect") != "Allow":
            continue
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def policy_names() -> list[str]:
    return sorted(p.stem for p in POLICY_DIR.glob("*.json"))


# API operations whose IAM action has another name.
IAM_ACTION = {
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "DeleteObjects"): "s3:DeleteObject",
    ("s3", "CopyObject"): "s3:PutObject",
}


def action_of(request: dict) -> str | None:
    if not request.get("operation"):
        return None
    if (request["service"], request["operation"]) in IAM_ACTION:
        return IAM_ACTION[(request["service"], request["operation"])]
    prefix = IAM_PREFIX.get(request["service"], request["service"])
    return f"{prefix}:{request['operation']}"


def granted(action: str, actions: set[str]) -> bool:
    return any(fnmatch.fnmatchcase(action, pattern) for pattern in actions)


def denials(requests, hub_account: str, technologies, overrides: dict | None = None) -> list[str]:
    """Calls a run made that the published policies do not grant, one message each (sorted, unique).

    ``overrides`` maps a policy name to the action set to use instead of its file (to prove a removal is caught).
    """
    overrides = overrides or {}

    def actions(name):
        return overrides[name] if name in overrides else policy_actions(name)

    # The hub account is discovered like any other (its own protected resources), so it has discovery too.
    hub = actions("hub") | actions("discovery")
    workload_names = list(WORKLOAD_ALWAYS) + [t for t in technologies if (POLICY_DIR / f"{t}.json").exists()]
    workload = set().union(*(actions(n) for n in workload_names))
    found = set()
    for request in requests:
        action = action_of(request)
        if action is None or (request.get("status") or 0) >= 500:
            continue
        if request.get("account") == hub_account:
            if not granted(action, hub):
                found.add(f"AccessDenied: {action} in the hub account {hub_account}; add it to iam/policies/hub.json")
        elif not granted(action, workload):
            read_only = action.split(":", 1)[1].startswith(("Describe", "Get", "List"))
            owner = "discovery" if read_only else next(
                (t for t in technologies if action.startswith(_prefix_of(t))), (list(technologies) or ["drs"])[0])
            target = f"iam/policies/{owner}.json"
            found.add(f"AccessDenied: {action} in account {request.get('account')} {request.get('region')}; "
                      f"add it to {target}")
    return sorted(found)


def _prefix_of(technology: str) -> str:
    return {"drs": "drs:", "aurora": "rds:", "rds": "rds:", "ecs": "ecs:", "lambda": "lambda:",
            "route53": "route53:", "elasticache": "elasticache:", "memorydb": "memorydb:", "opensearch": "es:",
            "autoscaling": "autoscaling:", "eventbridge": "events:", "efs": "elasticfilesystem:",
            "fsx": "fsx:"}.get(technology, technology + ":")
