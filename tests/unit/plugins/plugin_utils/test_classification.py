# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import arns
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import grouping
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import validation

A = "210987654321"

# Real ARN formats (Service Authorization Reference), one per failover technology.
CASES = [
    (f"arn:aws:drs:us-west-2:{A}:source-server/s-1234567890abcdef0", "drs", "s-1234567890abcdef0"),
    (f"arn:aws:ec2:us-east-1:{A}:instance/i-0123456789abcdef0", "drs", "i-0123456789abcdef0"),
    (f"arn:aws:rds:us-east-1:{A}:cluster:orders-aurora", "aurora", "orders-aurora"),
    (f"arn:aws:rds::{A}:global-cluster:orders-global", "aurora", "orders-global"),
    (f"arn:aws:rds:us-east-1:{A}:db:orders-replica", "rds", "orders-replica"),
    (f"arn:aws:ecs:us-east-1:{A}:service/apps/orders-api", "ecs", "orders-api"),
    (f"arn:aws:lambda:us-east-1:{A}:function:orders-worker", "lambda", "orders-worker"),
    (f"arn:aws:lambda:us-east-1:{A}:function:orders-worker:live", "lambda", "orders-worker"),
    ("arn:aws:route53:::healthcheck/0a1b2c3d-4e5f", "route53", "0a1b2c3d-4e5f"),
    ("arn:aws:route53:::hostedzone/Z0123456789", "route53", "Z0123456789"),
    (f"arn:aws:elasticache:us-east-1:{A}:replicationgroup:sessions", "elasticache", "sessions"),
    (f"arn:aws:elasticache::{A}:globalreplicationgroup:ldgnf-sessions", "elasticache", "ldgnf-sessions"),
    (f"arn:aws:es:us-east-1:{A}:domain/search", "opensearch", "search"),
    (f"arn:aws:autoscaling:us-east-1:{A}:autoScalingGroup:8e3f-11ee:autoScalingGroupName/web-asg",
     "autoscaling", "web-asg"),
    (f"arn:aws:memorydb:us-east-1:{A}:cluster/carts", "memorydb", "carts"),
    (f"arn:aws:memorydb::{A}:multiregioncluster/carts-global", "memorydb", "carts-global"),
    (f"arn:aws:events:us-east-1:{A}:rule/orders-schedule", "eventbridge", "orders-schedule"),
    (f"arn:aws:events:us-east-1:{A}:rule/custom-bus/orders-rule", "eventbridge", "orders-rule"),
    (f"arn:aws:elasticfilesystem:us-east-1:{A}:file-system/fs-0123abcd", "efs", "fs-0123abcd"),
    (f"arn:aws:fsx:us-east-1:{A}:file-system/fs-0123456789abcdef0", "fsx", "fs-0123456789abcdef0"),
]


@pytest.mark.parametrize("arn,technology,name", CASES)
def test_classify_real_arn_formats(arn, technology, name):
    assert arns.classify(arn) == technology
    assert arns.resource_name(arn) == name


@pytest.mark.parametrize("arn,hint", [
    (f"arn:aws:ecs:us-east-1:{A}:cluster/apps", "ECS services"),
    (f"arn:aws:events:us-east-1:{A}:event-bus/default", "EventBridge rules"),
    (f"arn:aws:fsx:us-east-1:{A}:backup/backup-0123", "FSx file system"),
    (f"arn:aws:dynamodb:us-east-1:{A}:table/orders", "dynamodb:table is not one of"),
    (f"arn:aws:elasticache:us-east-1:{A}:cluster:sessions-001", "replication group"),
])
def test_unsupported_types_say_what_to_tag(arn, hint):
    assert arns.classify(arn) is None
    assert hint in arns.unsupported_fix(arn)


def test_every_technology_is_classified_somewhere():
    assert set(arns.TECHNOLOGY_BY_ARN_TYPE.values()) == set(arns.TECHNOLOGIES)


@pytest.mark.parametrize("bad", ["", "not-an-arn", "arn:aws:s3", None])
def test_parse_arn_rejects_garbage(bad):
    with pytest.raises(arns.ArnError):
        arns.parse_arn(bad)
    assert arns.classify(bad) is None


@pytest.mark.parametrize("value,expected", [
    ("Acme Corp", "acme_corp"), ("PROD-eu/1", "prod_eu_1"), ("  x  ", "x"), ("--", "unknown"),
    (123456789012, "123456789012"),
])
def test_group_names_are_sanitized(value, expected):
    assert grouping.sanitize(value) == expected


def test_invalid_hosts_are_never_in_wave_or_priority_groups():
    host = {"dr_wave": 2, "dr_priority": "high", "dr_technology": "drs", "dr_customer": "Acme Corp",
            "dr_environment": "production", "dr_account_id": A, "dr_account_name": "workload-a",
            "dr_validation_errors": []}
    assert grouping.group_names(host) == sorted([
        "dr_resources", "wave_2", "priority_high", "technology_drs", "customer_acme_corp", "environment_production",
        f"account_{A}", "account_workload_a"])
    host["dr_validation_errors"] = [{"message": "x"}]
    groups = grouping.group_names(host)
    assert "invalid" in groups and "wave_2" not in groups and "priority_high" not in groups
    assert "customer_acme_corp" in groups


@pytest.mark.parametrize("value,expected", [("1", 1), (" 12 ", 12), ("0", None), ("-1", None), ("1.5", None),
                                            ("first", None), ("", None), (None, None)])
def test_parse_wave(value, expected):
    assert validation.parse_wave(value) == expected


@pytest.mark.parametrize("value,expected", [("true", True), ("True", True), (" false ", False), ("yes", None),
                                            ("", None), (None, None)])
def test_parse_enabled(value, expected):
    assert validation.parse_enabled(value) is expected


def test_parse_minutes_and_dependencies():
    assert validation.parse_minutes("30") == 30 and validation.parse_minutes("15m") == 15
    assert validation.parse_minutes("15 min") == 15 and validation.parse_minutes("soon") is None
    assert validation.parse_dependencies(" a, b ,,c ") == ["a", "b", "c"]
    assert validation.parse_dependencies(None) == []


def test_validate_tags_complete_and_skip():
    tags = {"dr:enabled": "true", "dr:wave": "1", "Customer": "acme", "Environment": "production",
            "dr:priority": "Critical", "dr:rto-target": "30", "dr:rpo-target": "5"}
    assert validation.validate_tags("arn:x", tags) == []
    problems = validation.validate_tags("arn:x", {"dr:enabled": "true"})
    assert {p["tag"] for p in problems} == {"dr:wave", "Customer", "Environment"}
    assert all(p["message"].startswith("arn:x: tag ") and "fix:" in p["message"] for p in problems)
    assert {p["tag"] for p in validation.validate_tags("arn:x", {"dr:enabled": "true"}, skip={"dr:wave"})} == {
        "Customer", "Environment"}
