# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Raw discovery results shaped like what plugin_utils/discovery.py collects from AWS."""

import copy

HUB = "123456789012"
WA = "210987654321"
WB = "345678901234"


def tags(customer="acme", wave="1", environment="production", **extra):
    result = {"dr:enabled": "true", "dr:wave": wave, "Customer": customer, "Environment": environment}
    for key, value in extra.items():
        result[key.replace("__", ":").replace("_", "-")] = value
    return result


def server(sid, hostname, instance_id, server_tags=None, account=WA, direction="FAILOVER"):
    return {
        "source_server_id": sid,
        "arn": f"arn:aws:drs:us-west-2:{account}:source-server/{sid}",
        "tags": server_tags or {},
        "hostname": hostname,
        "aws_instance_id": instance_id,
        "origin_region": "us-east-1",
        "origin_account_id": account,
        "replication_direction": direction,
        "replication_state": "CONTINUOUS",
    }


def target(instance_id, name, ip="10.1.0.10", state="stopped"):
    return {
        "instance_id": instance_id, "name": name, "private_ip": ip, "subnet_id": "subnet-dr1",
        "security_group_ids": ["sg-dr1"], "state": state,
        "tags": {"Name": name, "AWSDRS": "AllowLaunchingIntoThisInstance"},
    }


def instance(instance_id, instance_tags):
    return {"instance_id": instance_id, "tags": instance_tags, "state": "running", "private_ip": "10.0.0.5"}


def account(account_id, name, primary=None, dr=None, credentials=None, error=None):
    return {
        "account_id": account_id, "name": name, "primary_region": "us-east-1", "dr_region": "us-west-2",
        "credentials": credentials or {}, "error": error,
        "regions": {
            "us-east-1": dict({"error": None, "source": "live", "tagged": [], "instances": {}}, **(primary or {})),
            "us-west-2": dict({"error": None, "source": "live", "tagged": [], "drs_servers": [], "targets": []},
                              **(dr or {})),
        } if not error else {},
    }


def raw(*accounts):
    return {"format": 1, "discovered_at": "2025-01-01T00:00:00Z", "accounts": list(accounts)}


def demo_raw():
    """Two customers sharing two workload accounts, every kind of resource the builder handles."""
    wa = account(
        WA, "workload-a",
        credentials={"role_arn": f"arn:aws:iam::{WA}:role/EnterpriseDRWorkloadRole"},
        primary={
            "tagged": [
                {"arn": f"arn:aws:ec2:us-east-1:{WA}:instance/i-0aaa000000000001",
                 "tags": dict(tags(wave="2", dr__priority="high"), Name="web01")},
                {"arn": f"arn:aws:rds:us-east-1:{WA}:cluster:orders-db",
                 "tags": tags(wave="1", dr__priority="critical")},
                {"arn": f"arn:aws:ecs:us-east-1:{WA}:service/apps/orders-api",
                 "tags": tags(wave="2", dr__dependencies="orders-db")},
                {"arn": f"arn:aws:lambda:us-east-1:{WA}:function:orders-worker",
                 "tags": tags(wave="3", dr__priority="low")},
                {"arn": f"arn:aws:autoscaling:us-east-1:{WA}:autoScalingGroup:1234-abcd:autoScalingGroupName/web-asg",
                 "tags": tags(customer="globex", wave="1")},
                {"arn": "arn:aws:route53:::healthcheck/abcdef-1234", "tags": tags(wave="3")},
            ],
            "instances": {
                "i-0aaa000000000001": instance("i-0aaa000000000001",
                                               dict(tags(wave="2", dr__priority="high"), Name="web01")),
                "i-0aaa000000000002": instance("i-0aaa000000000002", dict(tags(customer="globex"), Name="gx-app01")),
            },
        },
        dr={
            "drs_servers": [
                server("s-0000000000000000a", "web01", "i-0aaa000000000001"),
                server("s-0000000000000000b", "gx-app01", "i-0aaa000000000002"),
            ],
            "targets": [target("i-0bbb000000000001", " WEB01 "), target("i-0bbb000000000002", "gx-app01", "10.1.0.11")],
        },
    )
    wb = account(
        WB, "workload-b",
        credentials={"role_arn": f"arn:aws:iam::{WB}:role/EnterpriseDRWorkloadRole"},
        primary={
            "tagged": [
                {"arn": f"arn:aws:elasticache:us-east-1:{WB}:replicationgroup:sessions",
                 "tags": tags(wave="1", environment="staging")},
                {"arn": f"arn:aws:lambda:us-east-1:{WB}:function:orders-worker", "tags": tags(wave="3")},
            ],
        },
    )
    hub = account(HUB, "hub")
    return raw(hub, wa, wb)


def clone(value):
    return copy.deepcopy(value)
