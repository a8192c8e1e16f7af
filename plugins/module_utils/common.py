# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Constants shared by every plugin of the collection."""

COLLECTION_NAME = "enterprise_dr.orchestration"
COLLECTION_VERSION = "0.1.0"

# Tag schema (docs/tag_schema.md): the contract with application teams.
TAG_ENABLED = "dr:enabled"
TAG_WAVE = "dr:wave"
TAG_PRIORITY = "dr:priority"
TAG_STRATEGY = "dr:recovery-strategy"
TAG_RTO = "dr:rto-target"
TAG_RPO = "dr:rpo-target"
TAG_HEALTH_URL = "dr:health-check-url"
TAG_DEPENDENCIES = "dr:dependencies"
TAG_CUSTOMER = "Customer"
TAG_ENVIRONMENT = "Environment"
TAG_NAME = "Name"
TAG_DRS_TARGET = "AWSDRS"
TAG_DRS_TARGET_VALUE = "AllowLaunchingIntoThisInstance"

PRIORITIES = ("critical", "high", "medium", "low")
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}
