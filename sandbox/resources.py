"""Creators for the estate's other tagged resources (discovery targets beside DRS servers).

Each creator takes the seeder (for clients and networks), the resource declaration, the account and
region, and the DR tags to apply; it returns the identifiers it created (``arn`` at least).
"""

from __future__ import annotations

import json


def _tags(tags: dict, key="Key", value="Value") -> list[dict]:
    return [{key: k, value: v} for k, v in tags.items()]


def _subnet_ids(seeder, account_id, region, resource) -> list[str]:
    network = seeder.networks.get((account_id, region))
    if network and network["subnets"]:
        names = resource.get("subnets") or list(network["subnets"])
        return [network["subnets"][name] for name in names]
    ec2 = seeder.client("ec2", account_id, region)
    return [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
        "Subnets"]]


def rds_cluster(seeder, resource, account_id, region, tags):
    rds = seeder.client("rds", account_id, region)
    cluster = rds.create_db_cluster(
        DBClusterIdentifier=resource["name"], Engine=resource.get("engine", "aurora-postgresql"),
        MasterUsername="dradmin", MasterUserPassword="sandbox-password-1", Tags=_tags(tags),
        DatabaseName=resource.get("database_name", "app"),
    )["DBCluster"]
    created = {"arn": cluster["DBClusterArn"], "id": cluster["DBClusterIdentifier"]}
    if resource.get("instances", 1):
        instance = rds.create_db_instance(
            DBInstanceIdentifier=f"{resource['name']}-1", DBClusterIdentifier=resource["name"],
            DBInstanceClass=resource.get("instance_class", "db.r6g.large"),
            Engine=resource.get("engine", "aurora-postgresql"), Tags=_tags(tags),
        )["DBInstance"]
        created["instance_arn"] = instance["DBInstanceArn"]
    return created


def rds_instance(seeder, resource, account_id, region, tags):
    rds = seeder.client("rds", account_id, region)
    instance = rds.create_db_instance(
        DBInstanceIdentifier=resource["name"], DBInstanceClass=resource.get("instance_class", "db.t3.medium"),
        Engine=resource.get("engine", "postgres"), MasterUsername="dradmin",
        MasterUserPassword="sandbox-password-1", AllocatedStorage=20, Tags=_tags(tags),
    )["DBInstance"]
    return {"arn": instance["DBInstanceArn"], "id": instance["DBInstanceIdentifier"]}


def _lambda_role(seeder, account_id):
    iam = seeder.client("iam", account_id, seeder.primary)
    name = "EnterpriseDRSandboxLambdaRole"
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "lambda.amazonaws.com"}}]}
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _zip_bytes() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buffer.getvalue()


def lambda_function(seeder, resource, account_id, region, tags):
    client = seeder.client("lambda", account_id, region)
    function = client.create_function(
        FunctionName=resource["name"], Runtime=resource.get("runtime", "python3.11"),
        Role=_lambda_role(seeder, account_id), Handler="handler.handler", Code={"ZipFile": _zip_bytes()},
        Tags=tags, Publish=True,
    )
    created = {"arn": function["FunctionArn"], "id": function["FunctionName"]}
    if resource.get("alias"):
        alias = client.create_alias(FunctionName=resource["name"], Name=resource["alias"],
                                    FunctionVersion=function.get("Version", "1"))
        created["alias_arn"] = alias["AliasArn"]
    return created


def ecs_service(seeder, resource, account_id, region, tags):
    ecs = seeder.client("ecs", account_id, region)
    cluster_name = resource.get("cluster", f"{resource['name']}-cluster")
    # The service is the failover unit: its cluster carries only the scope tags (a dr:enabled cluster is refused).
    scope = {k: v for k, v in tags.items() if k in ("Customer", "Environment")}
    cluster = ecs.create_cluster(clusterName=cluster_name, tags=_tags(scope, "key", "value"))["cluster"]
    task = ecs.register_task_definition(
        family=resource["name"],
        containerDefinitions=[{"name": "app", "image": resource.get("image", "public.ecr.aws/nginx/nginx:latest"),
                               "memory": 256, "essential": True}],
    )["taskDefinition"]
    service = ecs.create_service(
        cluster=cluster_name, serviceName=resource["name"], taskDefinition=task["taskDefinitionArn"],
        desiredCount=resource.get("desired_count", 2), tags=_tags(tags, "key", "value"),
        propagateTags="SERVICE",
    )["service"]
    return {"arn": service["serviceArn"], "id": service["serviceName"], "cluster_arn": cluster["clusterArn"]}


def dynamodb_table(seeder, resource, account_id, region, tags):
    ddb = seeder.client("dynamodb", account_id, region)
    table = ddb.create_table(
        TableName=resource["name"], BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], Tags=_tags(tags),
    )["TableDescription"]
    return {"arn": table["TableArn"], "id": table["TableName"]}


def sns_topic(seeder, resource, account_id, region, tags):
    sns = seeder.client("sns", account_id, region)
    arn = sns.create_topic(Name=resource["name"], Tags=_tags(tags))["TopicArn"]
    return {"arn": arn, "id": resource["name"]}


def sqs_queue(seeder, resource, account_id, region, tags):
    sqs = seeder.client("sqs", account_id, region)
    url = sqs.create_queue(QueueName=resource["name"], tags=tags)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"arn": arn, "id": url}


def autoscaling_group(seeder, resource, account_id, region, tags):
    from sandbox.estate import DEFAULT_AMI

    asg = seeder.client("autoscaling", account_id, region)
    template_name = f"{resource['name']}-template"
    ec2 = seeder.client("ec2", account_id, region)
    ec2.create_launch_template(LaunchTemplateName=template_name, LaunchTemplateData={
        "ImageId": resource.get("image_id", DEFAULT_AMI), "InstanceType": resource.get("instance_type", "t3.small")})
    subnets = _subnet_ids(seeder, account_id, region, resource)
    asg.create_auto_scaling_group(
        AutoScalingGroupName=resource["name"], LaunchTemplate={"LaunchTemplateName": template_name},
        MinSize=resource.get("min_size", 0), MaxSize=resource.get("max_size", 4),
        DesiredCapacity=resource.get("desired_capacity", 0), VPCZoneIdentifier=",".join(subnets[:2]),
        Tags=[{"Key": k, "Value": v, "PropagateAtLaunch": False, "ResourceId": resource["name"],
               "ResourceType": "auto-scaling-group"} for k, v in tags.items()],
    )
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[resource["name"]])["AutoScalingGroups"][0]
    return {"arn": group["AutoScalingGroupARN"], "id": group["AutoScalingGroupName"]}


def elasticache_replication_group(seeder, resource, account_id, region, tags):
    client = seeder.client("elasticache", account_id, region)
    group = client.create_replication_group(
        ReplicationGroupId=resource["name"], ReplicationGroupDescription=resource.get("description", resource["name"]),
        Engine="redis", CacheNodeType=resource.get("node_type", "cache.t3.small"), NumCacheClusters=2,
        Tags=_tags(tags),
    )["ReplicationGroup"]
    return {"arn": group.get("ARN"), "id": group["ReplicationGroupId"]}


def efs_file_system(seeder, resource, account_id, region, tags):
    efs = seeder.client("efs", account_id, region)
    fs = efs.create_file_system(CreationToken=resource["name"], Tags=_tags({"Name": resource["name"], **tags}))
    return {"arn": fs.get("FileSystemArn"), "id": fs["FileSystemId"]}


def eventbridge_rule(seeder, resource, account_id, region, tags):
    events = seeder.client("events", account_id, region)
    arn = events.put_rule(
        Name=resource["name"], ScheduleExpression=resource.get("schedule", "rate(5 minutes)"),
        State=resource.get("state", "ENABLED"), Tags=_tags(tags),
    )["RuleArn"]
    return {"arn": arn, "id": resource["name"]}


def s3_bucket(seeder, resource, account_id, region, tags):
    s3 = seeder.client("s3", account_id, region)
    params = {"Bucket": resource["name"]}
    if region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**params)
    if tags:
        s3.put_bucket_tagging(Bucket=resource["name"], Tagging={"TagSet": _tags(tags)})
    return {"arn": f"arn:aws:s3:::{resource['name']}", "id": resource["name"]}


def route53_zone(seeder, resource, account_id, region, tags):
    r53 = seeder.client("route53", account_id, region)
    zone = r53.create_hosted_zone(Name=resource["name"], CallerReference=f"sandbox-{resource['name']}")["HostedZone"]
    zone_id = zone["Id"].split("/")[-1]
    if tags:
        r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id, AddTags=_tags(tags))
    created = {"arn": f"arn:aws:route53:::hostedzone/{zone_id}", "id": zone_id, "health_checks": {}}
    # Failover/weighted records, each optionally with a health check tagged with the zone's scope (never dr:enabled:
    # the zone is the failover unit).
    scope = {k: v for k, v in tags.items() if k in ("Customer", "Environment")}
    changes = []
    for record in resource.get("records") or []:
        record_set = {"Name": record["name"], "Type": record.get("type", "A"), "TTL": record.get("ttl", 60),
                      "ResourceRecords": [{"Value": v} for v in record["values"]]}
        if record.get("set_identifier"):
            record_set["SetIdentifier"] = record["set_identifier"]
        if record.get("failover"):
            record_set["Failover"] = record["failover"]
        if record.get("weight") is not None:
            record_set["Weight"] = record["weight"]
        if record.get("health_check"):
            check = record["health_check"]
            check_id = r53.create_health_check(
                CallerReference=f"sandbox-{record.get('set_identifier') or record['name']}",
                HealthCheckConfig={"Type": check.get("type", "HTTPS"), "FullyQualifiedDomainName": check["fqdn"],
                                   "Port": check.get("port", 443), "ResourcePath": check.get("path", "/health"),
                                   "RequestInterval": 30, "FailureThreshold": 3})["HealthCheck"]["Id"]
            check_tags = dict(scope, **{str(k): str(v) for k, v in (check.get("tags") or {}).items()})
            if check_tags:
                r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id,
                                             AddTags=_tags(check_tags))
            record_set["HealthCheckId"] = check_id
            created["health_checks"][record.get("set_identifier") or record["name"]] = check_id
        changes.append({"Action": "CREATE", "ResourceRecordSet": record_set})
    if changes:
        r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return created


CREATORS = {
    "rds_cluster": rds_cluster,
    "rds_instance": rds_instance,
    "lambda_function": lambda_function,
    "ecs_service": ecs_service,
    "dynamodb_table": dynamodb_table,
    "sns_topic": sns_topic,
    "sqs_queue": sqs_queue,
    "autoscaling_group": autoscaling_group,
    "elasticache_replication_group": elasticache_replication_group,
    "efs_file_system": efs_file_system,
    "eventbridge_rule": eventbridge_rule,
    "s3_bucket": s3_bucket,
    "route53_zone": route53_zone,
}


def create_resource(seeder, resource, account_id, region, tags) -> dict:
    return CREATORS[resource["type"]](seeder, resource, account_id, region, tags)
