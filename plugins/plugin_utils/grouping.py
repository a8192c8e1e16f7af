# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Group names of the dr_resources inventory (documented in the plugin's DOCUMENTATION).

Every name is lower case and made only of ``a-z``, ``0-9`` and ``_``, so it is a valid Ansible
group name and a valid host pattern:

- ``wave_<n>``                 hosts of wave n (valid hosts only)
- ``priority_<priority>``      critical, high, medium, low (valid hosts only)
- ``technology_<technology>``  drs, aurora, rds, ecs, ...
- ``customer_<customer>``      from the Customer tag
- ``environment_<environment>`` from the Environment tag
- ``account_<account id>`` and ``account_<account name>``
- ``invalid``                  hosts with validation problems (see ``dr_validation_errors``)
- ``dr_resources``             every host of this inventory source
"""

import re

INVALID_GROUP = "invalid"
ALL_GROUP = "dr_resources"


def sanitize(value):
    """Lower case, every run of characters outside a-z0-9 turned into one underscore, no edge underscores."""
    text = re.sub(r"[^a-z0-9]+", "_", str(value).strip().lower())
    return text.strip("_") or "unknown"


def group_names(host):
    """The groups one host (a dict of dr_ host variables) belongs to, sorted."""
    groups = {ALL_GROUP}
    valid = not host.get("dr_validation_errors")
    if valid:
        if host.get("dr_wave") is not None:
            groups.add(f"wave_{int(host['dr_wave'])}")
        if host.get("dr_priority"):
            groups.add(f"priority_{sanitize(host['dr_priority'])}")
    else:
        groups.add(INVALID_GROUP)
    if host.get("dr_technology"):
        groups.add(f"technology_{sanitize(host['dr_technology'])}")
    if host.get("dr_customer"):
        groups.add(f"customer_{sanitize(host['dr_customer'])}")
    if host.get("dr_environment"):
        groups.add(f"environment_{sanitize(host['dr_environment'])}")
    if host.get("dr_account_id"):
        groups.add(f"account_{sanitize(host['dr_account_id'])}")
    if host.get("dr_account_name"):
        groups.add(f"account_{sanitize(host['dr_account_name'])}")
    return sorted(groups)
