"""Which input changes make a provider replace a resource (delete and create) instead of updating it.

For every resource type this toolkit declares (components/), the input paths (camelCase, as the engine
and ``plan --json`` name them) whose change the provider cannot apply in place. A changed path equal to
one of these, or below it, predicts a replacement. The AWS and random rows are here; each IdP's are in its
package (``components/idps/<idp>/review.py``, ``create_only``), with their sources, joined from the registry.

Where the list comes from: each provider's resource schema, the fields marked ``ForceNew: true`` (SDKv2)
or ``RequiresReplace()`` (plugin framework) in the Terraform provider the Pulumi package bridges:

- hashicorp/terraform-provider-aws, ``internal/service/<service>/<resource>.go`` (pulumi-aws 7.x bridges
  its 6.x line). Read for this table: ``iam/role.go`` (name, namePrefix, path),
  ``apigateway/rest_api.go`` (nothing: every field updates in place), ``secretsmanager/secret_version.go``
  (secretId, secretString, secretBinary). The other AWS rows follow the same files' ``ForceNew`` markers as
  the provider's registry documentation states them ("Forces new resource"); they were not re-read line by
  line for this version, so treat a missing row as "in place" only after ``pulumi preview`` agrees.
- the IdPs' providers (and the AWS resources only an IdP declares): each IdP's review, with the files read.
- pulumi/pulumi-random (terraform-provider-random ``random_bytes``): length and keepers.

Provider resources (``pulumi:providers:*``): a changed provider setting is shown as an update. Pulumi
replaces every resource of a provider only where the bridge marks the setting ``ForcesProviderReplace``
(pulumi-aws: ``region``, pulumi/pulumi-aws#4000); the Auth0 provider's ``domain`` is not marked, but a new
domain is another tenant, which the Plaid impact reports through the issuer.
"""

from __future__ import annotations

from typing import Final

from components import idps

#: Resource type -> input paths whose change replaces the resource.
CREATE_ONLY: Final[dict[str, tuple[str, ...]]] = {
    # --- AWS (hashicorp/terraform-provider-aws internal/service/...) ---
    "aws:iam/role:Role": ("name", "namePrefix", "path"),  # iam/role.go
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix", "role"),  # iam/role_policy.go
    "aws:kms/key:Key": ("customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion", "customKeyStoreId",
                        "xksKeyId"),  # kms/key.go
    "aws:kms/alias:Alias": ("name", "namePrefix"),  # kms/alias.go
    "aws:secretsmanager/secret:Secret": ("name", "namePrefix"),  # secretsmanager/secret.go
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretId", "secretString", "secretBinary"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix", "logGroupClass"),  # logs/group.go
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name",),  # cloudwatch/metric_alarm.go (alarm_name)
    "aws:cloudwatch/dashboard:Dashboard": ("dashboardName",),  # cloudwatch/dashboard.go
    "aws:sns/topic:Topic": ("name", "namePrefix", "fifoTopic"),  # sns/topic.go
    "aws:sns/topicSubscription:TopicSubscription": ("topic", "protocol", "endpoint"),  # sns/topic_subscription.go
    "aws:lambda/function:Function": ("name", "packageType"),  # lambda/function.go (function_name)
    "aws:lambda/permission:Permission": ("action", "function", "principal", "sourceArn", "sourceAccount",
                                         "statementId", "statementIdPrefix", "qualifier",
                                         "eventSourceToken", "functionUrlAuthType",
                                         "principalOrgId"),  # lambda/permission.go: no Update
    "aws:apigateway/restApi:RestApi": (),  # apigateway/rest_api.go: every field updates in place
    "aws:apigateway/resource:Resource": ("restApi",),  # apigateway/resource.go
    "aws:apigateway/method:Method": ("restApi", "resourceId", "httpMethod"),  # apigateway/method.go
    "aws:apigateway/integration:Integration": ("restApi", "resourceId", "httpMethod"),  # apigateway/integration.go
    "aws:apigateway/deployment:Deployment": ("restApi", "triggers", "variables", "stageName"),
    "aws:apigateway/stage:Stage": ("restApi", "stageName"),  # apigateway/stage.go
    "aws:apigateway/methodSettings:MethodSettings": ("restApi", "stageName", "methodPath"),
    "aws:apigateway/domainName:DomainName": ("domainName",),  # apigateway/domain_name.go
    "aws:apigateway/basePathMapping:BasePathMapping": ("domainName",),  # apigateway/base_path_mapping.go
    "aws:wafv2/ipSet:IpSet": ("name", "namePrefix", "scope", "ipAddressVersion"),  # wafv2/ip_set.go
    "aws:wafv2/webAcl:WebAcl": ("name", "namePrefix", "scope"),  # wafv2/web_acl.go
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": ("resourceArn",),
    "aws:wafv2/webAclAssociation:WebAclAssociation": ("resourceArn", "webAclArn"),  # no Update
    # --- random (terraform-provider-random random_bytes) ---
    "random:index/randomBytes:RandomBytes": ("length", "keepers"),
    "random:index/randomId:RandomId": ("byteLength", "keepers", "prefix"),
    # --- each registered IdP's (components/idps/<idp>/review.py) ---
    **{typ: fields for idp in idps.IDPS for typ, fields in idp.review.create_only.items()},
}


def replace_reasons(typ: str, changed_paths: list[str]) -> list[str]:
    """The changed input paths that force a replacement of a resource of type ``typ``."""
    fields = CREATE_ONLY.get(typ, ())
    out = []
    for path in changed_paths:
        for field in fields:
            if path == field or path.startswith((f"{field}.", f"{field}[")):
                out.append(path)
                break
    return out
