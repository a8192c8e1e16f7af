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
    """An Aurora cluster; with ``global_cluster`` (a name) it is the writer of an Aurora global database."""
    if resource.get("global_cluster"):
        created = aurora_global_cluster(seeder, dict(resource, name=resource["global_cluster"],
                                                     primary_cluster=resource["name"]), account_id, region, tags)
        return dict(created, arn=created["members"][region], id=resource["name"], global_arn=created["arn"])
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
    """A DB instance; with ``replica: true`` also its cross-region read replica in the DR region (same identifier
    unless ``replica_name``; ``replica_tags`` override its tags, ``lag_seconds`` publishes its ReplicaLag)."""
    rds = seeder.client("rds", account_id, region)
    params = dict(
        DBInstanceIdentifier=resource["name"], DBInstanceClass=resource.get("instance_class", "db.t3.medium"),
        Engine=resource.get("engine", "postgres"), MasterUsername="dradmin",
        MasterUserPassword="sandbox-password-1", AllocatedStorage=20, Tags=_tags(tags),
    )
    if resource.get("replica"):
        params.update(Port=_sandbox_port(seeder), BackupRetentionPeriod=7)
    instance = rds.create_db_instance(**params)["DBInstance"]
    created = {"arn": instance["DBInstanceArn"], "id": instance["DBInstanceIdentifier"]}
    if resource.get("replica"):
        replica_tags = dict(tags, **{str(k): str(v) for k, v in (resource.get("replica_tags") or {}).items()})
        replica = seeder.client("rds", account_id, seeder.dr).create_db_instance_read_replica(
            DBInstanceIdentifier=resource.get("replica_name", resource["name"]),
            SourceDBInstanceIdentifier=instance["DBInstanceArn"], SourceRegion=region,
            DBInstanceClass=params["DBInstanceClass"], Tags=_tags(replica_tags))["DBInstance"]
        created["replica_arn"] = replica["DBInstanceArn"]
        if resource.get("lag_seconds") is not None:
            seeder.client("cloudwatch", account_id, seeder.dr).put_metric_data(
                Namespace="AWS/RDS", MetricData=[{"MetricName": "ReplicaLag", "Unit": "Seconds",
                                                  "Value": float(resource["lag_seconds"]),
                                                  "Dimensions": [{"Name": "DBInstanceIdentifier",
                                                                  "Value": replica["DBInstanceIdentifier"]}]}])
    return created


def _sandbox_port(seeder):
    """Endpoints of emulated databases answer on the sandbox's own port (sandbox/emulators/rds.py)."""
    return int(seeder.endpoint.rstrip("/").rsplit(":", 1)[1])


def aurora_global_cluster(seeder, resource, account_id, region, tags):
    """An Aurora global database: a writer cluster in ``region``, a secondary in the DR region, one instance each.

    Members are named ``<name>-<region>`` (the writer ``primary_cluster`` when given). ``secondary_tags`` overrides
    tags of the secondary (for example another customer's, to show the scope guard); ``lag_ms`` publishes the
    secondary's AuroraGlobalDBReplicationLag to CloudWatch.
    """
    engine = resource.get("engine", "aurora-postgresql")
    version = resource.get("engine_version", "15.4")
    name = resource["name"]
    regions = [region] + [r for r in (resource.get("secondary_regions") or [seeder.dr]) if r != region]
    created = {"members": {}}
    for index, member_region in enumerate(regions):
        rds = seeder.client("rds", account_id, member_region)
        member_tags = dict(tags)
        if index and resource.get("secondary_tags"):
            member_tags.update({str(k): str(v) for k, v in resource["secondary_tags"].items()})
        member_name = resource["primary_cluster"] if index == 0 and resource.get("primary_cluster") else \
            f"{name}-{member_region}"
        params = dict(DBClusterIdentifier=member_name, Engine=engine, EngineVersion=version,
                      Port=_sandbox_port(seeder), Tags=_tags(member_tags))
        if index == 0:
            params.update(MasterUsername="dradmin", MasterUserPassword="sandbox-password-1",
                          DatabaseName=resource.get("database_name", "app"))
        else:
            params["GlobalClusterIdentifier"] = name
        cluster = rds.create_db_cluster(**params)["DBCluster"]
        rds.create_db_instance(DBInstanceIdentifier=f"{member_name}-1", DBClusterIdentifier=cluster[
            "DBClusterIdentifier"], DBInstanceClass=resource.get("instance_class", "db.r6g.large"), Engine=engine,
            Tags=_tags(member_tags))
        created["members"][member_region] = cluster["DBClusterArn"]
        if index == 0:
            created["arn"] = rds.create_global_cluster(GlobalClusterIdentifier=name, SourceDBClusterIdentifier=cluster[
                "DBClusterArn"])["GlobalCluster"]["GlobalClusterArn"]
        elif resource.get("lag_ms") is not None:
            seeder.client("cloudwatch", account_id, member_region).put_metric_data(
                Namespace="AWS/RDS", MetricData=[{"MetricName": "AuroraGlobalDBReplicationLag", "Unit": "Milliseconds",
                                                  "Value": float(resource["lag_ms"]),
                                                  "Dimensions": [{"Name": "DBClusterIdentifier",
                                                                  "Value": cluster["DBClusterIdentifier"]}]}])
    created["id"] = name
    return created


def _lambda_role(seeder, account_id):
    iam = seeder.client("iam", account_id, seeder.primary)
    name = "EnterpriseDRSandboxLambdaRole"
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "lambda.amazonaws.com"}}]}
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _zip_bytes(release: str | None = None) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # The release is part of the code, so two releases have two CodeSha256 (what a version is compared by); the
        # entry's timestamp is fixed, so the same release is the same code whenever and in whichever region it is made.
        entry = zipfile.ZipInfo("handler.py", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(entry, "def handler(event, context):\n    return {'ok': True"
                         + (f", 'release': {release!r}" if release else "") + "}\n")
    return buffer.getvalue()


def lambda_function(seeder, resource, account_id, region, tags):
    """A function with ``code`` published (version 1) and its ``alias`` on it; ``deployed`` is a later release put in
    $LATEST without publishing (what a pilot-light pipeline leaves in the DR region); ``reserved_concurrency``,
    ``provisioned_concurrency`` (on the alias) and ``event_sources`` (SQS queues, each ``{queue, enabled}``)."""
    client = seeder.client("lambda", account_id, region)
    function = client.create_function(
        FunctionName=resource["name"], Runtime=resource.get("runtime", "python3.11"),
        Role=_lambda_role(seeder, account_id), Handler="handler.handler",
        Code={"ZipFile": _zip_bytes(resource.get("code"))}, Tags=tags, Publish=True,
    )
    created = {"arn": function["FunctionArn"], "id": function["FunctionName"]}
    if resource.get("alias"):
        alias = client.create_alias(FunctionName=resource["name"], Name=resource["alias"],
                                    FunctionVersion=function.get("Version", "1"))
        created["alias_arn"] = alias["AliasArn"]
    if resource.get("deployed"):
        client.update_function_code(FunctionName=resource["name"], ZipFile=_zip_bytes(resource["deployed"]))
    if resource.get("reserved_concurrency") is not None:
        client.put_function_concurrency(FunctionName=resource["name"],
                                        ReservedConcurrentExecutions=int(resource["reserved_concurrency"]))
    if resource.get("provisioned_concurrency") and resource.get("alias"):
        client.put_provisioned_concurrency_config(FunctionName=resource["name"], Qualifier=resource["alias"],
                                                  ProvisionedConcurrentExecutions=int(
                                                      resource["provisioned_concurrency"]))
    sqs = seeder.client("sqs", account_id, region) if resource.get("event_sources") else None
    for source in resource.get("event_sources") or []:
        url = sqs.create_queue(QueueName=source["queue"])["QueueUrl"]  # not a DR resource of its own
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        mapping = client.create_event_source_mapping(
            EventSourceArn=queue_arn, FunctionName=resource["name"], Enabled=bool(source.get("enabled", True)),
            BatchSize=int(source.get("batch_size", 10)))
        created.setdefault("event_source_mappings", []).append(mapping["UUID"])
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


def elasticache_global_datastore(seeder, resource, account_id, region, tags):
    """A global datastore: the primary replication group here, a secondary in the DR region (both tagged), a daily
    snapshot of the secondary and its replication lag metric. ``secondary_tags`` override the secondary's tags (an
    out-of-scope member, for tests)."""
    import time

    primary_id = resource["name"]
    dr_region = resource.get("secondary_region", seeder.dr)
    secondary_id = resource.get("secondary_name", f"{primary_id}-dr")
    primary = seeder.client("elasticache", account_id, region)
    secondary = seeder.client("elasticache", account_id, dr_region)
    group = primary.create_replication_group(
        ReplicationGroupId=primary_id, ReplicationGroupDescription=resource.get("description", primary_id),
        Engine=resource.get("engine", "redis"), CacheNodeType=resource.get("node_type", "cache.r6g.large"),
        NumCacheClusters=2, AutomaticFailoverEnabled=True, Tags=_tags(tags),
    )["ReplicationGroup"]
    global_id = primary.create_global_replication_group(
        GlobalReplicationGroupIdSuffix=resource.get("suffix", primary_id), PrimaryReplicationGroupId=primary_id,
        GlobalReplicationGroupDescription=f"{primary_id} across {region} and {dr_region}",
    )["GlobalReplicationGroup"]["GlobalReplicationGroupId"]

    def wait_for(status):
        for _attempt in range(60):
            found = primary.describe_global_replication_groups(
                GlobalReplicationGroupId=global_id, ShowMemberInfo=True)["GlobalReplicationGroups"][0]
            if found["Status"] == status:
                return found
            time.sleep(0.05)
        raise RuntimeError(f"global datastore {global_id} never became {status}")

    wait_for("primary-only")
    secondary_tags = {**tags, **{str(k): str(v) for k, v in (resource.get("secondary_tags") or {}).items()}}
    dr_group = secondary.create_replication_group(
        ReplicationGroupId=secondary_id, ReplicationGroupDescription=f"{primary_id} in {dr_region}",
        GlobalReplicationGroupId=global_id, Tags=_tags(secondary_tags),
    )["ReplicationGroup"]
    wait_for("available")
    if resource.get("snapshot", True):
        secondary.create_snapshot(ReplicationGroupId=secondary_id, SnapshotName=f"{secondary_id}-daily")
    lag = resource.get("replication_lag_seconds", 1)
    if lag is not None:
        seeder.client("cloudwatch", account_id, dr_region).put_metric_data(
            Namespace="AWS/ElastiCache", MetricData=[{
                "MetricName": "GlobalDatastoreReplicationLag", "Value": float(lag), "Unit": "Seconds",
                "Dimensions": [{"Name": "ReplicationGroupId", "Value": secondary_id}]}])
    return {"arn": group.get("ARN"), "id": primary_id, "global_replication_group_id": global_id,
            "secondary_arn": dr_group.get("ARN"), "secondary_id": secondary_id, "secondary_region": dr_region}


def memorydb_cluster(seeder, resource, account_id, region, tags):
    """A MemoryDB cluster protected by snapshots (a daily snapshot, the export buckets of both regions), or with
    ``multi_region: true`` a multi-Region cluster with a regional cluster here and in the DR region (both tagged)."""
    import time

    name = resource["name"]
    dr_region = resource.get("secondary_region", seeder.dr)
    node_type = resource.get("node_type", "db.r6g.large")
    client = seeder.client("memorydb", account_id, region)

    def wait_available(memorydb, cluster_name):
        for _attempt in range(60):
            if memorydb.describe_clusters(ClusterName=cluster_name)["Clusters"][0]["Status"] == "available":
                return
            time.sleep(0.05)
        raise RuntimeError(f"MemoryDB cluster {cluster_name} never became available")

    if resource.get("multi_region"):
        multi = client.create_multi_region_cluster(
            MultiRegionClusterNameSuffix=name, NodeType=node_type, Tags=_tags(tags))["MultiRegionCluster"]
        created = {"multi_region_cluster_name": multi["MultiRegionClusterName"], "clusters": {}}
        secondary_tags = {**tags, **{str(k): str(v) for k, v in (resource.get("secondary_tags") or {}).items()}}
        for where, cluster_name, cluster_tags in ((region, name, tags), (dr_region, f"{name}-dr", secondary_tags)):
            memorydb = seeder.client("memorydb", account_id, where)
            memorydb.create_cluster(ClusterName=cluster_name, NodeType=node_type, ACLName="open-access",
                                    MultiRegionClusterName=multi["MultiRegionClusterName"], Tags=_tags(cluster_tags))
            wait_available(memorydb, cluster_name)
            created["clusters"][where] = cluster_name
        arn = f"arn:aws:memorydb:{region}:{account_id}:cluster/{name}"
        return {"arn": arn, "id": name, **created}
    cluster = client.create_cluster(ClusterName=name, NodeType=node_type, ACLName="open-access",
                                    Tags=_tags(tags))["Cluster"]
    wait_available(client, name)
    if resource.get("snapshot", True):
        client.create_snapshot(ClusterName=name, SnapshotName=f"{name}-daily")
        for _attempt in range(60):
            if client.describe_snapshots(SnapshotName=f"{name}-daily")["Snapshots"][0]["Status"] == "available":
                break
            time.sleep(0.05)
    buckets = {}
    for where in (region, dr_region):
        template = resource.get("bucket_template", "edr-memorydb-{account}-{region}")
        bucket = template.format(account=account_id, region=where)
        s3 = seeder.client("s3", account_id, where)
        params = {"Bucket": bucket}
        if where != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": where}
        try:
            s3.create_bucket(**params)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        buckets[where] = bucket
    return {"arn": cluster["ARN"], "id": name, "buckets": buckets}


def efs_file_system(seeder, resource, account_id, region, tags):
    """A file system; with ``replication: true`` it replicates to a new file system in the other region, tagged with
    the scope only (``replica_tags`` overrides)."""
    efs = seeder.client("efs", account_id, region)
    fs = efs.create_file_system(CreationToken=resource["name"], Tags=_tags({"Name": resource["name"], **tags}))
    created = {"arn": fs.get("FileSystemArn"), "id": fs["FileSystemId"]}
    if resource.get("replication"):
        other = seeder.dr if region == seeder.primary else seeder.primary
        config = efs.create_replication_configuration(SourceFileSystemId=fs["FileSystemId"],
                                                      Destinations=[{"Region": other}])
        replica = config["Destinations"][0]["FileSystemId"]
        replica_tags = resource.get("replica_tags", _scope_tags({"Name": f"{resource['name']}-dr", **tags}))
        if replica_tags:
            seeder.client("efs", account_id, other).tag_resource(ResourceId=replica, Tags=_tags(replica_tags))
        created["replica_id"] = replica
    return created


def _scope_tags(tags):
    """The tags a resource's DR-side twin carries: the scope, not the DR schema (it is not a resource of its own)."""
    return {k: v for k, v in tags.items() if k in ("Customer", "Environment", "Name")}


def _event_bus(seeder, account_id, region, name, tags):
    events = seeder.client("events", account_id, region)
    if name == "default":
        arn = events.describe_event_bus(Name="default")["Arn"]
        if tags:
            events.tag_resource(ResourceARN=arn, Tags=_tags(tags))
        return arn
    return events.create_event_bus(Name=name, Tags=_tags(tags))["EventBusArn"]


def eventbridge_rule(seeder, resource, account_id, region, tags):
    """A rule in the primary region and, unless ``twin: false``, its DR twin: the same name on the event bus of the
    same name in the DR region, deployed DISABLED and tagged with the scope only (``twin_tags`` overrides)."""
    bus = resource.get("event_bus", "default")
    created = {"id": resource["name"]}
    regions = [(region, tags, resource.get("state", "ENABLED"))]
    if resource.get("twin", True):
        other = seeder.dr if region == seeder.primary else seeder.primary
        regions.append((other, resource.get("twin_tags", _scope_tags(tags)), resource.get("twin_state", "DISABLED")))
    for where, rule_tags, state in regions:
        events = seeder.client("events", account_id, where)
        if bus != "default":
            _event_bus(seeder, account_id, where, bus, {})
        params = {"Name": resource["name"], "State": state, "Tags": _tags(rule_tags), "EventBusName": bus}
        if resource.get("event_pattern"):
            params["EventPattern"] = json.dumps(resource["event_pattern"])
        else:
            params["ScheduleExpression"] = resource.get("schedule", "rate(5 minutes)")
        if bus != "default":
            params.pop("ScheduleExpression", None)
            params["EventPattern"] = json.dumps(resource.get("event_pattern") or {"source": ["app.orders"]})
        arn = events.put_rule(**params)["RuleArn"]
        created["arn" if where == region else "twin_arn"] = arn
    return created


def eventbridge_endpoint(seeder, resource, account_id, region, tags):
    """A global endpoint over an event bus of the same name in both regions, failing over through a Route 53 health
    check. Endpoints take no tags: the primary bus carries the DR tags, the secondary bus and the health check the
    scope (``secondary_tags`` / ``health_check_tags`` override)."""
    other = seeder.dr if region == seeder.primary else seeder.primary
    bus = resource.get("event_bus", resource["name"])
    primary_bus = _event_bus(seeder, account_id, region, bus, tags)
    secondary_bus = _event_bus(seeder, account_id, other, bus, resource.get("secondary_tags", _scope_tags(tags)))
    r53 = seeder.client("route53", account_id, "us-east-1")
    fqdn = resource.get("health_check_fqdn", f"{resource['name']}.example.com")
    check = r53.create_health_check(CallerReference=f"sandbox-{resource['name']}", HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": fqdn, "Port": 443, "ResourcePath": "/health",
        "RequestInterval": 30, "FailureThreshold": 3})["HealthCheck"]
    check_tags = resource.get("health_check_tags", _scope_tags(tags))
    if check_tags:
        r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"], AddTags=_tags(check_tags))
    events = seeder.client("events", account_id, region)
    endpoint = events.create_endpoint(
        Name=resource["name"], Description=resource.get("description", resource["name"]),
        RoutingConfig={"FailoverConfig": {"Primary": {"HealthCheck": f"arn:aws:route53:::healthcheck/{check['Id']}"},
                                          "Secondary": {"Route": other}}},
        ReplicationConfig={"State": "DISABLED"},
        EventBuses=[{"EventBusArn": primary_bus}, {"EventBusArn": secondary_bus}],
    )
    return {"arn": endpoint["Arn"], "id": resource["name"], "health_check_id": check["Id"],
            "event_bus_arns": [primary_bus, secondary_bus]}


def _wait_backup(fsx, backup_id, timeout=60.0):
    import time

    deadline = time.monotonic() + timeout
    while True:
        [backup] = fsx.describe_backups(BackupIds=[backup_id])["Backups"]
        if backup["Lifecycle"] == "AVAILABLE" or time.monotonic() > deadline:
            return backup
        time.sleep(0.2)


def fsx_file_system(seeder, resource, account_id, region, tags):
    """An FSx file system (``file_system_type`` LUSTRE, WINDOWS or OPENZFS) with a backup copied to the other
    region (``copy: false`` leaves the copy out, ``backup: false`` the backup). Backups and copies carry the scope
    tags only (``copy_tags`` overrides the copy's)."""
    fsx = seeder.client("fsx", account_id, region)
    fs_type = resource.get("file_system_type", "LUSTRE")
    params = {"FileSystemType": fs_type, "StorageCapacity": resource.get("storage_capacity", 1200),
              "StorageType": "SSD", "SubnetIds": _subnet_ids(seeder, account_id, region, resource)[:1],
              "Tags": _tags({"Name": resource["name"], **tags})}
    if fs_type == "LUSTRE":
        params["LustreConfiguration"] = {"DeploymentType": "PERSISTENT_2", "PerUnitStorageThroughput": 125}
    elif fs_type == "WINDOWS":
        params["WindowsConfiguration"] = {"ThroughputCapacity": 32, "DeploymentType": "SINGLE_AZ_2"}
    elif fs_type == "OPENZFS":
        params["OpenZFSConfiguration"] = {"DeploymentType": "SINGLE_AZ_2", "ThroughputCapacity": 160}
    fs = fsx.create_file_system(**params)["FileSystem"]
    created = {"arn": fs["ResourceARN"], "id": fs["FileSystemId"]}
    if resource.get("backup", True):
        scope = _scope_tags(tags)
        backup = fsx.create_backup(FileSystemId=fs["FileSystemId"], Tags=_tags(scope))["Backup"]
        created["backup_id"] = backup["BackupId"]
        if resource.get("copy", True):
            _wait_backup(fsx, backup["BackupId"])
            other = seeder.dr if region == seeder.primary else seeder.primary
            dr_fsx = seeder.client("fsx", account_id, other)
            copy = dr_fsx.copy_backup(SourceBackupId=backup["BackupId"], SourceRegion=region,
                                      Tags=_tags(resource.get("copy_tags", scope)))["Backup"]
            created["copy_id"] = copy["BackupId"]
            _wait_backup(dr_fsx, copy["BackupId"])
    return created


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


def domain_request(seeder, account_id, region, endpoint, method, path, body=None):
    """One SigV4-signed request to an OpenSearch domain's own REST API (the sandbox answers its endpoint)."""
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    scheme = seeder.endpoint.split("://", 1)[0]
    url = f"{scheme}://{endpoint}{path}"
    data = (body if isinstance(body, str) else json.dumps(body)).encode() if body is not None else None
    request = AWSRequest(method=method, url=url, data=data,
                         headers={"Content-Type": "application/json", "x-moto-account-id": account_id})
    SigV4Auth(seeder._session.get_credentials().get_frozen_credentials(), "es", region).add_auth(request)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method,
                                                           headers=dict(request.headers.items())), timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def opensearch_domain(seeder, resource, account_id, region, tags):
    """A domain and its DR domain ``<name>-dr`` in the other region (tagged with the scope only; ``replica_tags``
    overrides), paired by ``replication``: ``managed`` (domain replication, the default), ``ccr`` (the DR domain
    follows each index through a connection from it, alias ``<name>``) or ``none``. ``indexes`` maps index names to
    document counts, created on the domain (and followed by the DR domain with ``ccr``)."""
    import time

    name, other = resource["name"], (seeder.dr if region == seeder.primary else seeder.primary)
    dr_name = resource.get("replica_name", f"{name}-dr")
    mode = resource.get("replication", "managed")
    replica_tags = resource.get("replica_tags", _scope_tags({"Name": dr_name, **tags}))
    domains = {}
    for where, domain_name, domain_tags in ((region, name, {"Name": name, **tags}), (other, dr_name, replica_tags)):
        client = seeder.client("opensearch", account_id, where)
        status = client.create_domain(
            DomainName=domain_name, EngineVersion=resource.get("engine_version", "OpenSearch_2.17"),
            ClusterConfig={"InstanceType": resource.get("instance_type", "r6g.large.search"), "InstanceCount": 3},
            NodeToNodeEncryptionOptions={"Enabled": True}, EncryptionAtRestOptions={"Enabled": True},
            DomainEndpointOptions={"EnforceHTTPS": True},
            AdvancedSecurityOptions={"Enabled": True, "InternalUserDatabaseEnabled": False},
            TagList=_tags({str(k): str(v) for k, v in (domain_tags or {}).items()}))["DomainStatus"]
        domains[where] = {"arn": status["ARN"], "name": domain_name,
                          "endpoint": client.describe_domain(DomainName=domain_name)["DomainStatus"]["Endpoint"]}
    primary, dr = domains[region], domains[other]
    for index, docs in (resource.get("indexes") or {"events": 100}).items():
        domain_request(seeder, account_id, region, primary["endpoint"], "PUT", f"/{index}")
        if docs:
            bulk = "".join('{"index": {}}\n{"seq": %d}\n' % n for n in range(int(docs)))
            domain_request(seeder, account_id, region, primary["endpoint"], "POST", f"/{index}/_bulk", bulk)
    created = {"arn": primary["arn"], "id": name, "dr_domain": dr_name, "dr_arn": dr["arn"], "mode": mode}
    if mode == "managed":
        seeder.client("opensearch", account_id, region).add_replication_peer(DomainName=name, PeerDomainArn=dr["arn"])
    elif mode == "ccr":
        dr_client = seeder.client("opensearch", account_id, other)
        connection = dr_client.create_outbound_connection(
            LocalDomainInfo={"AWSDomainInformation": {"OwnerId": account_id, "DomainName": dr_name, "Region": other}},
            RemoteDomainInfo={"AWSDomainInformation": {"OwnerId": account_id, "DomainName": name, "Region": region}},
            ConnectionAlias=name, ConnectionMode="DIRECT")
        connection_id = connection["ConnectionId"]
        client = seeder.client("opensearch", account_id, region)
        for _attempt in range(200):
            found = client.describe_inbound_connections(
                Filters=[{"Name": "connection-id", "Values": [connection_id]}])["Connections"]
            if found and found[0]["ConnectionStatus"]["StatusCode"] == "PENDING_ACCEPTANCE":
                break
            time.sleep(0.05)
        client.accept_inbound_connection(ConnectionId=connection_id)
        for _attempt in range(400):
            found = dr_client.describe_outbound_connections(
                Filters=[{"Name": "connection-id", "Values": [connection_id]}])["Connections"]
            if found[0]["ConnectionStatus"]["StatusCode"] == "ACTIVE":
                break
            time.sleep(0.05)
        for index in resource.get("indexes") or {"events": 100}:
            domain_request(seeder, account_id, other, dr["endpoint"], "PUT", f"/_plugins/_replication/{index}/_start",
                           {"leader_alias": name, "leader_index": index})
        created["connection_id"] = connection_id
    return created


CREATORS = {
    "rds_cluster": rds_cluster,
    "aurora_global_cluster": aurora_global_cluster,
    "rds_instance": rds_instance,
    "lambda_function": lambda_function,
    "ecs_service": ecs_service,
    "dynamodb_table": dynamodb_table,
    "sns_topic": sns_topic,
    "sqs_queue": sqs_queue,
    "autoscaling_group": autoscaling_group,
    "elasticache_replication_group": elasticache_replication_group,
    "elasticache_global_datastore": elasticache_global_datastore,
    "memorydb_cluster": memorydb_cluster,
    "efs_file_system": efs_file_system,
    "eventbridge_rule": eventbridge_rule,
    "eventbridge_endpoint": eventbridge_endpoint,
    "fsx_file_system": fsx_file_system,
    "s3_bucket": s3_bucket,
    "route53_zone": route53_zone,
    "opensearch_domain": opensearch_domain,
}


def create_resource(seeder, resource, account_id, region, tags) -> dict:
    return CREATORS[resource["type"]](seeder, resource, account_id, region, tags)
