"""A Lambda's log group and a role that can write to it and do nothing else: what every function the toolkit
declares starts from (the customers API's and Cognito's scope adapter's), so the least-privilege shape is
written once and judged by one rule (API-LEAST-PRIVILEGE)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_aws as aws

from components import options

LAMBDA_ASSUME_ROLE: Final = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]},
    sort_keys=True)


def log_policy(partition: str, region: str, account: str, log_group: str) -> str:
    """The Lambda role's only permissions: write its own log group's streams."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"arn:{partition}:logs:{region}:{account}:log-group:{log_group}:*"}]}, sort_keys=True)


@dataclass(frozen=True)
class FunctionLogs:
    log_group_name: str
    log_group: aws.cloudwatch.LogGroup
    role: aws.iam.Role
    role_policy: aws.iam.RolePolicy


def function_logs(parent: pulumi.Resource, name: str, function_name: str, *, retention_days: int,
                  tags: dict[str, str], description: str) -> FunctionLogs:
    """``<name>-fn-logs`` (``/aws/lambda/<function_name>``), ``<name>-fn-role`` (named ``function_name``) and
    ``<name>-fn-logs-policy`` (write that log group's streams, nothing else), all children of ``parent``."""
    log_group_name = f"/aws/lambda/{function_name}"
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-fn-logs", name=log_group_name, retention_in_days=retention_days, tags=tags,
        opts=options.child(parent))
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    identity = aws.get_caller_identity_output(opts=invoke)
    region = aws.get_region_output(opts=invoke)
    partition = aws.get_partition_output(opts=invoke)
    role = aws.iam.Role(
        f"{name}-fn-role", name=function_name, assume_role_policy=LAMBDA_ASSUME_ROLE, description=description,
        tags=tags, opts=options.child(parent))
    role_policy = aws.iam.RolePolicy(
        f"{name}-fn-logs-policy", role=role.id,
        policy=pulumi.Output.all(partition.partition, region.region, identity.account_id).apply(
            lambda a: log_policy(a[0], a[1], a[2], log_group_name)),
        opts=options.child(parent))
    return FunctionLogs(log_group_name, log_group, role, role_policy)
