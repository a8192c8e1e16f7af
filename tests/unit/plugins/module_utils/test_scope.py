# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation

ACME_PROD = {"Customer": "acme", "Environment": "production"}


def test_argument_spec_requires_customer_and_aliases_env():
    assert SCOPE_ARGUMENT_SPEC["customer"]["required"] is True
    assert SCOPE_ARGUMENT_SPEC["environment"]["aliases"] == ["env"]
    assert not SCOPE_ARGUMENT_SPEC["environment"].get("required")


@pytest.mark.parametrize("tags", [ACME_PROD, {"Customer": " ACME ", "Environment": "Production"}])
def test_in_scope_without_case_or_whitespace(tags):
    assert scope_violation("arn:x", tags, "acme", "production") is None
    assert scope_violation("arn:x", tags, "Acme") is None


def test_other_customer_is_a_violation_naming_resource_and_values():
    violation = scope_violation("arn:aws:rds:us-east-1:1:cluster:gx", {"Customer": "globex"}, "acme")
    assert violation["tag"] == "Customer"
    assert violation["expected"] == "acme" and violation["found"] == "globex"
    assert "arn:aws:rds:us-east-1:1:cluster:gx" in violation["message"]
    assert "globex" in violation["message"] and "acme" in violation["message"]


@pytest.mark.parametrize("tags", [{}, None, {"Customer": ""}, {"customer": "acme"}])
def test_missing_customer_tag_is_out_of_scope(tags):
    violation = scope_violation("i-1", tags, "acme")
    assert violation and violation["found"] in (None, "")


def test_environment_narrows_the_scope():
    violation = scope_violation("i-1", {"Customer": "acme", "Environment": "staging"}, "acme", "production")
    assert violation["tag"] == "Environment" and violation["found"] == "staging"
    assert scope_violation("i-1", {"Customer": "acme"}, "acme", "production")["found"] is None
    assert scope_violation("i-1", {"Customer": "acme", "Environment": "staging"}, "acme") is None


def test_check_scope_reports_every_violation_at_once():
    resources = [("a", ACME_PROD), ("b", {"Customer": "globex"}), ("c", {"Customer": "acme", "Environment": "dev"})]
    with pytest.raises(ScopeError) as raised:
        check_scope(resources, "acme", "production")
    assert [v["resource"] for v in raised.value.violations] == ["b", "c"]
    assert "b has Customer='globex'" in str(raised.value) and "c has Environment='dev'" in str(raised.value)


def test_check_scope_passes_in_scope_resources_and_empty_lists():
    assert check_scope([("a", ACME_PROD), ("b", {"Customer": "ACME", "Environment": "production"})],
                       "acme", "production") is None
    assert check_scope([], "acme") is None
    assert check_scope(iter([("a", ACME_PROD)]), "acme") is None
