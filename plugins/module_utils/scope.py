# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scope guard: a mutating module never changes a resource outside the run's scope.

Every mutating module takes ``customer`` (required) and ``environment`` (optional) and checks
the resource's *own* tags before any change, whatever the caller passed in.
"""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_CUSTOMER
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENVIRONMENT

SCOPE_ARGUMENT_SPEC = dict(
    customer=dict(type="str", required=True),
    environment=dict(type="str", aliases=["env"]),
)


class ScopeError(Exception):
    """One or more resources are outside the run's scope."""

    def __init__(self, violations):
        self.violations = violations
        names = "; ".join(v["message"] for v in violations)
        super().__init__(f"Refusing to change resources outside the run's scope: {names}")


def _norm(value):
    return (value or "").strip().lower()


def scope_violation(resource, tags, customer, environment=None):
    """Return a violation dict when ``tags`` put ``resource`` outside the scope, else None."""
    tags = tags or {}
    found_customer = tags.get(TAG_CUSTOMER)
    if _norm(found_customer) != _norm(customer):
        return {
            "resource": resource,
            "tag": TAG_CUSTOMER,
            "expected": customer,
            "found": found_customer,
            "message": (
                f"{resource} has {TAG_CUSTOMER}={found_customer!r}, not {customer!r}; "
                f"remove it from this run or fix its {TAG_CUSTOMER} tag"
            ),
        }
    if environment:
        found_env = tags.get(TAG_ENVIRONMENT)
        if _norm(found_env) != _norm(environment):
            return {
                "resource": resource,
                "tag": TAG_ENVIRONMENT,
                "expected": environment,
                "found": found_env,
                "message": (
                    f"{resource} has {TAG_ENVIRONMENT}={found_env!r}, not {environment!r}; "
                    f"remove it from this run or fix its {TAG_ENVIRONMENT} tag"
                ),
            }
    return None


def check_scope(resources, customer, environment=None):
    """Raise ScopeError naming every resource whose own tags are out of scope.

    ``resources`` is an iterable of ``(resource_name_or_arn, tags_dict)``. Call it with every
    resource a module is about to change, before the first change.
    """
    violations = []
    for resource, tags in resources:
        violation = scope_violation(resource, tags, customer, environment)
        if violation:
            violations.append(violation)
    if violations:
        raise ScopeError(violations)
