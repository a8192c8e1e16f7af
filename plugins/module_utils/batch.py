# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Batch work of every technology's modules: group a wave's resources by (account, region), one client per group
(clients.ClientFactory), and work on the groups, or on the calls of one group, concurrently.

A batch module takes a whole wave (up to 1,000 resources) in one run; module runs per wave grow with technologies,
never with resources.
"""

from concurrent.futures import ThreadPoolExecutor

MAX_GROUP_WORKERS = 8
MAX_CALL_WORKERS = 8


def group_by_account_region(items, default_account=None, default_region=None):
    """{(account_id, region): [items]} for items carrying ``account_id`` and ``region`` keys."""
    groups = {}
    for item in items:
        key = (item.get("account_id") or default_account, item.get("region") or default_region)
        groups.setdefault(key, []).append(item)
    return groups


def run_concurrently(func, items, max_workers=MAX_GROUP_WORKERS):
    """``{item: func(item)}`` for hashable ``items``, concurrently; the first exception is re-raised
    after every call has finished, so no group is left half-done without being waited for."""
    items = list(items)
    if len(items) <= 1:
        return {item: func(item) for item in items}
    results = {}
    errors = []
    with ThreadPoolExecutor(max_workers=min(max_workers, len(items))) as pool:
        futures = {item: pool.submit(func, item) for item in items}
        for item, future in futures.items():
            try:
                results[item] = future.result()
            except Exception as e:  # re-raised below, after every call finished
                errors.append(e)
    if errors:
        raise errors[0]
    return results


def map_concurrently(func, values, max_workers=MAX_CALL_WORKERS):
    """``[func(v) for v in values]`` in order, concurrently (for one call per server)."""
    values = list(values)
    if len(values) <= 1:
        return [func(v) for v in values]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(values))) as pool:
        return list(pool.map(func, values))
