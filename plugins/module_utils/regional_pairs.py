# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A resource that exists once per region, the same name on both sides (pilot light: ECS services, Auto Scaling
groups, Lambda functions): which side serves, which side takes over, what the record captured for it.

The inventory host is the DR region's copy (``dr_arn``); its primary-region twin has the same name. A failover moves
serving from the primary region to the DR region, a failback the other way round. Pure functions: unit-tested.
"""

try:
    import botocore
except ImportError:
    botocore = None  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import describe_error
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_CUSTOMER
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENVIRONMENT

HOST_KEYS = ("dr_arn", "inventory_hostname", "dr_account_id", "dr_resource_name", "dr_primary_region",
             "dr_dr_region", "dr_resource_region", "dr_tags", "dr_health_check_url", "dr_priority")

# Errors that mean "the region does not answer" (an emergency: the primary region is down), not "the call is wrong".
UNREACHABLE_CODES = ("ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalError",
                     "InternalServerError", "InternalServerException", "RequestTimeout", "RequestTimeoutException")


def regions(host, primary_region=None, dr_region=None):
    """``(primary, dr)`` of a host: the run's regions when given, else the host's account's."""
    return (primary_region or host.get("dr_primary_region"), dr_region or host.get("dr_dr_region"))


def sides(host, direction, primary_region=None, dr_region=None):
    """``(source, target)`` regions: a failover serves from the DR region, a failback from the primary again."""
    primary, dr = regions(host, primary_region, dr_region)
    return (dr, primary) if direction == "failback" else (primary, dr)


def label(host):
    return host.get("inventory_hostname") or host.get("dr_resource_name") or host.get("dr_arn")


def recorded_before(recorded, resource):
    """The ``before`` a record holds for ``resource`` (the list of entries execution_record_info returns)."""
    for entry in recorded or []:
        if entry.get("resource") == resource:
            return dict(entry.get("before") or {})
    return {}


def scope_tags(tags):
    """Only the tags that decide scope (kept small in results)."""
    return {k: v for k, v in (tags or {}).items() if k in (TAG_CUSTOMER, TAG_ENVIRONMENT)}


def is_unreachable(error):
    """True for a region that does not answer (connection refused/timed out, 5xx after retries)."""
    if botocore is None:
        return False
    if isinstance(error, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError,
                          botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectionClosedError)):
        return True
    if isinstance(error, botocore.exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in UNREACHABLE_CODES or status >= 500
    return False


# A botocore error as ``Code: message`` (and the policy to fix for AccessDenied): the client layer's one formatter.
error_text = describe_error


def row(host, status, summary, before=None, after=None, error=None, remediation=None, plan=None, changed=False):
    """One result row: ``resource`` (the host's dr_arn) lets dr_adapter_entries build the record entry."""
    result = {"resource": host.get("dr_arn"), "name": host.get("inventory_hostname"), "status": status,
              "summary": summary, "before": before or {}, "after": after or {}, "changed": changed}
    if error:
        result["error"] = error
        result["remediation"] = remediation
    if plan:
        result["plan"] = plan
    return result


def diff_of(rows):
    changed = [r for r in rows if r.get("changed")]
    if not changed:
        return None
    return {"before": {r["name"]: r["before"] for r in changed}, "after": {r["name"]: r["after"] for r in changed}}
