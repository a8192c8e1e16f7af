#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dr_report
short_description: Write the HTML and JSON report of a DR run or of the readiness of protected resources
version_added: 0.1.0
description:
  - "With O(kind=execution), reads the execution record of O(execution_id) and writes one self-contained HTML page
    (inline CSS, SVG and script; it fetches nothing, so it opens on an air-gapped laptop) and the same data as JSON:
    the timeline of phases and waves, every resource with its state before and after, its technology's summary line,
    measured RTO and RPO against its targets (met or missed), health-check results, approvals, errors with their
    fixes and, for drills, pass or fail per resource (docs/reports.md)."
  - With O(kind=readiness), renders O(readiness) (per resource, every check with its fix) the same way.
  - Every value is HTML-escaped; keys that look like secrets are redacted and credentials are removed from URLs.
  - Optionally uploads both files to S3 (O(s3_bucket)) and returns a presigned link to the HTML page.
  - Check mode returns the report data and writes and uploads nothing.
options:
  kind:
    description: Which report.
    type: str
    choices: [execution, readiness]
    default: execution
  execution_id:
    description: The run to report (O(kind=execution)).
    type: str
  readiness:
    description:
      - The readiness data (O(kind=readiness)), C(resources) (each with C(name), C(customer), C(checks) ...),
        C(scope), C(quotas) and C(sources).
      - "C(drs): the read-only DRS results turned into rows here - C(hosts) (inventory host variables),
        C(source_servers) (M(enterprise_dr.orchestration.drs_source_server_info)), C(launch_plans) and
        C(launch_problems) (M(enterprise_dr.orchestration.drs_launch_into_instance) in check mode), C(failback)
        (M(enterprise_dr.orchestration.drs_failback_readiness) servers)."
    type: dict
  dest:
    description: The directory to write C(<name>.html) and C(<name>.json) into; created when missing.
    type: path
    default: ~/.ansible/enterprise_dr/reports
  name:
    description:
      - The files' base name. Defaults to the execution ID, or C(readiness-<customers>-<UTC time>).
    type: str
  s3_bucket:
    description: Also upload both files to this bucket (in the module's account and region).
    type: str
  s3_prefix:
    description: The key prefix of the uploads.
    type: str
    default: enterprise-dr/reports/
  sns_topic_arn:
    description:
      - Also publish the report's headline (counts, what missed its target or is not ready, the files and the link)
        as JSON to this SNS topic, with message attributes C(event) (C(report)) and C(kind).
    type: str
  url_expires_seconds:
    description: How long the returned presigned link to the uploaded HTML page is valid.
    type: int
    default: 604800
  store:
    description: Where records live; C(dynamodb) (hub account table) or C(file) (air-gapped directory).
    type: str
    default: dynamodb
    choices: [dynamodb, file]
  table_name:
    description: The DynamoDB table (O(store=dynamodb)).
    type: str
    default: enterprise-dr-executions
  store_path:
    description: The file store directory (O(store=file)).
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
- name: Report a run and keep it in S3
  enterprise_dr.orchestration.dr_report:
    execution_id: edr-acme-20240501T120000-a1b2c3
    dest: /var/lib/enterprise_dr/reports
    s3_bucket: acme-dr-evidence
  register: report

- name: Render readiness gathered by the readiness role
  enterprise_dr.orchestration.dr_report:
    kind: readiness
    readiness: "{{ readiness_data }}"
"""

RETURN = r"""
html_path:
  description: The HTML file written (null in check mode).
  returned: always
  type: str
json_path:
  description: The JSON file written (null in check mode).
  returned: always
  type: str
s3_html_uri:
  description: C(s3://bucket/key) of the uploaded HTML page.
  returned: when O(s3_bucket) is set and not in check mode
  type: str
s3_json_uri:
  description: C(s3://bucket/key) of the uploaded JSON.
  returned: when O(s3_bucket) is set and not in check mode
  type: str
url:
  description: A presigned HTTPS link to the uploaded HTML page, valid O(url_expires_seconds).
  returned: when O(s3_bucket) is set and not in check mode
  type: str
message_id:
  description: The SNS message ID of the published headline.
  returned: when O(sns_topic_arn) is set and not in check mode
  type: str
report:
  description:
    - The report's headline figures - C(kind), C(status), C(resource_counts) or C(counts), C(compliance)
      (RTO and RPO targets missed), C(drill) (drills) - the full data is in RV(json_path).
  returned: always
  type: dict
"""

import datetime
import json
import os
import re
import tempfile

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution as ex
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.report import execution_report
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.report import readiness_report
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.report_drs import drs_quotas
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.report_drs import drs_readiness_rows
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.report_html import render


def headline(report):
    if report["kind"] == "readiness":
        return {"kind": "readiness", "counts": report["counts"], "customers": report["customers"]}
    out = {"kind": "execution", "execution_id": report["execution"]["execution_id"],
           "status": report["execution"]["status"], "resource_counts": report["resource_counts"],
           "compliance": report["compliance"], "rto": report["rto"]["run"]}
    if report.get("drill"):
        out["drill"] = report["drill"]
    return out


def base_name(params, report):
    if params["name"]:
        name = params["name"]
    elif report["kind"] == "execution":
        name = report["execution"]["execution_id"]
    else:
        customers = "-".join(sorted((report.get("scope") or {}).get("customers") or [])) or "all"
        name = f"readiness-{customers}-{report['generated_at'].replace(':', '').replace('-', '')}"
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def write_atomically(path, text):
    directory = os.path.dirname(path)
    handle, temp = tempfile.mkstemp(dir=directory, prefix=".report-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def upload(module, files, bucket, prefix, expires):
    from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory

    client = ClientFactory(module).client("s3")  # the collection's one retry policy
    out = {}
    for kind, (path, content_type) in files.items():
        key = f"{prefix}{os.path.basename(path)}"
        with open(path, "rb") as stream:
            client.put_object(Bucket=bucket, Key=key, Body=stream.read(), ContentType=content_type,
                              ServerSideEncryption="AES256")
        out[f"s3_{kind}_uri"] = f"s3://{bucket}/{key}"
        if kind == "html":
            out["url"] = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                                       ExpiresIn=expires)
    return out


def publish(module, topic_arn, result):
    from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory

    headline_data = result["report"]
    if headline_data["kind"] == "readiness":
        subject = (f"[EnterpriseDR] readiness: {headline_data['counts']['ready']} of "
                   f"{headline_data['counts']['total']} ready")
    else:
        subject = f"[EnterpriseDR] report of {headline_data['execution_id']}: {headline_data['status']}"
    message = dict(event="report", report=headline_data, html_path=result["html_path"],
                   json_path=result["json_path"], url=result.get("url"), s3_html_uri=result.get("s3_html_uri"))
    client = ClientFactory(module).client("sns")
    response = client.publish(TopicArn=topic_arn, Subject=subject[:99], Message=json.dumps(message, sort_keys=True),
                              MessageAttributes={"event": {"DataType": "String", "StringValue": "report"},
                                                 "kind": {"DataType": "String", "StringValue": headline_data["kind"]}})
    return response["MessageId"]


def main():
    argument_spec = dict(
        kind=dict(type="str", default="execution", choices=["execution", "readiness"]),
        execution_id=dict(type="str"),
        readiness=dict(type="dict"),
        dest=dict(type="path", default="~/.ansible/enterprise_dr/reports"),
        name=dict(type="str"),
        s3_bucket=dict(type="str"),
        s3_prefix=dict(type="str", default="enterprise-dr/reports/"),
        url_expires_seconds=dict(type="int", default=604800),
        sns_topic_arn=dict(type="str"),
    )
    argument_spec.update(ex.STORE_ARGUMENT_SPEC)
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True,
                      required_if=[("kind", "execution", ["execution_id"]), ("kind", "readiness", ["readiness"])])
    p = module.params
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    try:
        if p["kind"] == "execution":
            record = ex.store_for_module(module).get(p["execution_id"], with_resources=True)
            resources = record.pop("resources")
            report = execution_report(record, resources, now=now)
        else:
            data = p["readiness"]
            resources = list(data.get("resources") or [])
            quotas = list(data.get("quotas") or [])
            drs = data.get("drs")
            if drs:
                resources += drs_readiness_rows(drs.get("hosts") or [], drs.get("source_servers") or [],
                                                drs.get("launch_plans"), drs.get("launch_problems"),
                                                drs.get("failback"))
                quotas += drs_quotas(drs.get("hosts") or [], drs.get("source_servers") or [])
            report = readiness_report(resources, scope=data.get("scope"), now=now, sources=data.get("sources"))
            report["quotas"] = quotas
    except ex.ExecutionError as e:
        module.fail_json(msg=f"{e}; the report of {p['execution_id']} was not written")
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"execution store {p['store']} could not be read for {p['execution_id']}")
    result = {"changed": False, "html_path": None, "json_path": None, "report": headline(report)}
    if module.check_mode:
        module.exit_json(**result)
    dest = p["dest"]
    name = base_name(p, report)
    html_path = os.path.join(dest, f"{name}.html")
    json_path = os.path.join(dest, f"{name}.json")
    try:
        os.makedirs(dest, exist_ok=True)
        write_atomically(html_path, render(report))
        write_atomically(json_path, json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    except OSError as e:
        module.fail_json(msg=f"could not write the report into {dest}: {e}; fix: pass a writable dest")
    result.update(changed=True, html_path=html_path, json_path=json_path)
    if p["s3_bucket"]:
        prefix = p["s3_prefix"] if not p["s3_prefix"] or p["s3_prefix"].endswith("/") else p["s3_prefix"] + "/"
        try:
            result.update(upload(module, {"html": (html_path, "text/html; charset=utf-8"),
                                          "json": (json_path, "application/json")},
                                 p["s3_bucket"], prefix, p["url_expires_seconds"]))
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"could not upload the report to s3://{p['s3_bucket']}/{prefix}; it is in "
                                        f"{html_path}. Fix: check the bucket exists and s3:PutObject is allowed",
                                 **result)
    if p["sns_topic_arn"]:
        try:
            result["message_id"] = publish(module, p["sns_topic_arn"], result)
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"could not publish the report's headline to {p['sns_topic_arn']}; the report "
                                        f"is in {html_path}. Fix: check the topic exists and sns:Publish is allowed",
                                 **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
