#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dr_metrics
short_description: Publish DR run metrics to CloudWatch and keep the EnterpriseDR dashboard
version_added: 0.1.0
description:
  - Publishes metrics in the C(EnterpriseDR) namespace with the dimensions C(Customer), C(Environment)
    and C(Operation) (plus C(Phase), C(Wave) or C(Resource) where they apply).
  - With O(from_record=true) the metrics are derived from the run's execution record - C(RunDuration),
    C(RunSucceeded) (1 or 0; its average is the success rate), C(RecoveryTime) (start to the end of
    ACTIVATE), C(PhaseDuration), C(WaveDuration), C(ResourceRecoveryTime), C(ReplicationLagBeforeRecovery),
    C(RtoTargetMet) and C(MatchAccuracy) (the record's C(details.match_accuracy), or the mean C(match_score)
    of its resources).
  - O(metrics) adds explicit data points.
  - With O(dashboard=true) the dashboard O(dashboard_name) is created or updated to show every customer's
    figures (CloudWatch SEARCH expressions, so new customers appear without a change); unchanged when it already
    matches.
  - Check mode returns the data points and the dashboard change without calling CloudWatch's write APIs.
options:
  customer:
    description: The customer (dimension C(Customer)). Required to publish metrics.
    type: str
  environment:
    description: The environment (dimension C(Environment)); C(all) when omitted.
    type: str
    aliases: [env]
  operation:
    description: The operation (dimension C(Operation)); read from the record with O(from_record=true).
    type: str
    choices: [failover, drill, failback]
  namespace:
    description: The CloudWatch namespace.
    type: str
    default: EnterpriseDR
  metrics:
    description: Explicit data points.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The metric name.
        type: str
        required: true
      value:
        description: The value.
        type: float
        required: true
      unit:
        description: The CloudWatch unit.
        type: str
        default: "None"
        choices:
          - Seconds
          - Microseconds
          - Milliseconds
          - Bytes
          - Kilobytes
          - Megabytes
          - Gigabytes
          - Terabytes
          - Bits
          - Kilobits
          - Megabits
          - Gigabits
          - Terabits
          - Percent
          - Count
          - Bytes/Second
          - Kilobytes/Second
          - Megabytes/Second
          - Gigabytes/Second
          - Terabytes/Second
          - Bits/Second
          - Kilobits/Second
          - Megabits/Second
          - Gigabits/Second
          - Terabits/Second
          - Count/Second
          - "None"
      dimensions:
        description: Extra dimensions beyond Customer, Environment and Operation, for example C(Phase) or C(Wave).
        type: dict
        default: {}
  from_record:
    description: Derive the standard metrics from the execution record of O(execution_id).
    type: bool
    default: false
  execution_id:
    description: The run whose record the metrics come from (O(from_record=true)).
    type: str
  per_resource:
    description: With O(from_record=true), also publish one data point per resource (C(Resource) dimension).
    type: bool
    default: true
  dashboard:
    description: Create or update the dashboard.
    type: bool
    default: false
  dashboard_name:
    description: The dashboard's name.
    type: str
    default: EnterpriseDR
  store:
    description: Where records live (O(from_record=true)).
    type: str
    default: dynamodb
    choices: [dynamodb, file]
  table_name:
    description: The DynamoDB table of execution records.
    type: str
    default: enterprise-dr-executions
  store_path:
    description: The file store directory.
    type: path
    default: ~/.ansible/enterprise_dr/executions
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Publish the run's figures when it finished
  enterprise_dr.orchestration.dr_metrics:
    from_record: true
    execution_id: "{{ dr_execution_id }}"
    customer: "{{ customer }}"
    environment: "{{ env | default(omit) }}"

- name: Publish the replication lag measured before recovery
  enterprise_dr.orchestration.dr_metrics:
    customer: acme
    environment: production
    operation: failover
    metrics:
      - name: ReplicationLagBeforeRecovery
        value: 42
        unit: Seconds
        dimensions: {Wave: "1"}

- name: Keep the dashboard
  enterprise_dr.orchestration.dr_metrics:
    dashboard: true
"""

RETURN = r"""
metric_data:
  description: The data points published (or that would be published in check mode).
  returned: always
  type: list
  elements: dict
dashboard_changed:
  description: Whether the dashboard was (or would be) created or updated.
  returned: when O(dashboard=true)
  type: bool
dashboard_body:
  description: The dashboard definition.
  returned: when O(dashboard=true)
  type: dict
"""

import datetime
import json

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution as ex
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import module_client
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule

UNITS = ["Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
         "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
         "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
         "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"]
BASE_DIMENSIONS = ("Customer", "Environment", "Operation")


def datum(name, value, unit, base, extra=None, timestamp=None):
    dims = dict(base)
    dims.update({k: str(v) for k, v in (extra or {}).items()})
    point = {"MetricName": name, "Value": float(value), "Unit": unit,
             "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]}
    if timestamp:
        point["Timestamp"] = timestamp
    return point


def record_metrics(record, resources, base, per_resource=True):
    """The standard data points of one run."""
    points = []
    end = ex.parse_time(record.get("ended_at"))
    when = end or ex.utcnow()
    duration = ex.seconds_between(record["started_at"], record.get("ended_at"))
    if duration is not None:
        points.append(datum("RunDuration", duration, "Seconds", base, timestamp=when))
    if record.get("status") in ex.TERMINAL_STATUSES:
        points.append(datum("RunSucceeded", 1 if record["status"] == "succeeded" else 0, "Count", base, timestamp=when))
    report = ex.rto_report(record, resources)
    if report["run"]["measured_seconds"] is not None:
        points.append(datum("RecoveryTime", report["run"]["measured_seconds"], "Seconds", base, timestamp=when))
    if report["run"]["met"] is not None:
        points.append(datum("RtoTargetMet", 1 if report["run"]["met"] else 0, "Count", base, timestamp=when))
    for name, phase in sorted(record.get("phases", {}).items()):
        if phase.get("duration_seconds") is not None:
            points.append(datum("PhaseDuration", phase["duration_seconds"], "Seconds", base, {"Phase": name}, when))
    for wave in record.get("waves", {}).values():
        if wave.get("duration_seconds") is not None:
            points.append(datum("WaveDuration", wave["duration_seconds"], "Seconds", base,
                                {"Phase": wave.get("phase"), "Wave": wave.get("number")}, when))
    lags = [e["replication_lag_seconds"] for e in resources if e.get("replication_lag_seconds") is not None]
    if lags:
        points.append(datum("ReplicationLagBeforeRecovery", max(lags), "Seconds", base, timestamp=when))
    accuracy = (record.get("details") or {}).get("match_accuracy")
    scores = [float(e["match_score"]) for e in resources if e.get("match_score") is not None]
    if accuracy is None and scores:
        accuracy = sum(scores) / len(scores)
    if accuracy is not None:
        points.append(datum("MatchAccuracy", float(accuracy) * (100 if float(accuracy) <= 1 else 1), "Percent",
                            base, timestamp=when))
    if per_resource:
        for entry in resources:
            label = entry.get("name") or entry["resource"]
            if entry.get("recovery_seconds") is not None:
                points.append(datum("ResourceRecoveryTime", entry["recovery_seconds"], "Seconds", base,
                                    {"Resource": label}, when))
            if entry.get("replication_lag_seconds") is not None:
                points.append(datum("ReplicationLagBeforeRecovery", entry["replication_lag_seconds"], "Seconds", base,
                                    {"Resource": label}, when))
    return points


def dashboard_body(namespace, region):
    def search(metric, stat, extra=""):
        dims = ",".join(("Customer", "Environment", "Operation") + ((extra,) if extra else ()))
        return {"expression": f"SEARCH('{{{namespace},{dims}}} MetricName=\"{metric}\"', '{stat}', 300)",
                "id": metric.lower() + (extra.lower() if extra else ""), "region": region}

    def widget(title, expressions, x, y, view="timeSeries"):
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
                "properties": {"title": title, "view": view, "region": region, "stat": "Maximum", "period": 300,
                               "metrics": [[e] for e in expressions]}}

    widgets = [
        widget("Run duration (s)", [search("RunDuration", "Maximum")], 0, 0),
        widget("Success rate (average of RunSucceeded)", [search("RunSucceeded", "Average")], 12, 0),
        widget("Measured recovery time (s)", [search("RecoveryTime", "Maximum")], 0, 6),
        widget("Phase duration (s)", [search("PhaseDuration", "Maximum", "Phase")], 12, 6),
        widget("Wave duration (s)", [search("WaveDuration", "Maximum", "Phase,Wave")], 0, 12),
        widget("Replication lag before recovery (s)", [search("ReplicationLagBeforeRecovery", "Maximum")], 12, 12),
        widget("Match accuracy (%)", [search("MatchAccuracy", "Minimum")], 0, 18),
        widget("RTO target met", [search("RtoTargetMet", "Minimum")], 12, 18),
    ]
    return {"widgets": widgets}


def ensure_dashboard(client, name, body, check_mode):
    try:
        current = json.loads(client.get_dashboard(DashboardName=name)["DashboardBody"])
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("ResourceNotFound", "ResourceNotFoundException"):
            raise
        current = None
    if current == body:
        return False
    if not check_mode:
        client.put_dashboard(DashboardName=name, DashboardBody=json.dumps(body, sort_keys=True))
    return True


def main():
    argument_spec = dict(
        customer=dict(type="str"),
        environment=dict(type="str", aliases=["env"]),
        operation=dict(type="str", choices=list(ex.OPERATIONS)),
        namespace=dict(type="str", default="EnterpriseDR"),
        metrics=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            value=dict(type="float", required=True),
            unit=dict(type="str", default="None", choices=UNITS),
            dimensions=dict(type="dict", default={}),
        )),
        from_record=dict(type="bool", default=False),
        execution_id=dict(type="str"),
        per_resource=dict(type="bool", default=True),
        dashboard=dict(type="bool", default=False),
        dashboard_name=dict(type="str", default="EnterpriseDR"),
    )
    argument_spec.update(ex.STORE_ARGUMENT_SPEC)
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True,
                      required_if=[("from_record", True, ["execution_id"])],
                      required_one_of=[["metrics", "from_record", "dashboard"]])
    p = module.params
    result = {"changed": False, "metric_data": []}
    try:
        points = []
        record = None
        if p["from_record"]:
            record = ex.store_for_module(module).get(p["execution_id"])
            resources = record.pop("resources")
        if p["metrics"] or record:
            customer = p["customer"] or (record or {}).get("customer")
            if not customer:
                module.fail_json(msg="customer is required to publish metrics (dimension Customer)")
            base = {"Customer": customer,
                    "Environment": p["environment"] or (record or {}).get("environment") or "all",
                    "Operation": p["operation"] or (record or {}).get("operation") or "none"}
            if record:
                points.extend(record_metrics(record, resources, base, p["per_resource"]))
            now = datetime.datetime.now(datetime.timezone.utc)
            for m in p["metrics"]:
                points.append(datum(m["name"], m["value"], m["unit"], base, m["dimensions"], now))
        client = module_client(module, "cloudwatch")
        if points:
            result["changed"] = True
            if not module.check_mode:
                for start in range(0, len(points), 500):
                    client.put_metric_data(Namespace=p["namespace"], MetricData=points[start:start + 500])
        result["metric_data"] = [dict(point, Timestamp=str(point.get("Timestamp", ""))) for point in points]
        if p["dashboard"]:
            body = dashboard_body(p["namespace"], module.region)
            changed = ensure_dashboard(client, p["dashboard_name"], body, module.check_mode)
            result.update(dashboard_changed=changed, dashboard_body=body)
            result["changed"] = result["changed"] or changed
    except ex.ExecutionError as e:
        module.fail_json(msg=str(e))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"CloudWatch {p['namespace']} metrics or dashboard {p['dashboard_name']} failed")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
