"""Readiness rules for Plaid's client credentials and for protecting state (components/client_secret.py)."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from typing import Any

import plaid_contract as plaid
from components import idps
from components.checklist import Context, Finding, Resource, Rule, closest, fail, is_secret, is_unknown, ok

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
KMS_KEY = "aws:kms/key:Key"
RANDOM_BYTES = "random:index/randomBytes:RandomBytes"
DYNAMIC = "pulumi-python:dynamic:Resource"
#: The staging label of a two-phase rotation's new secret (components.client_secret.PENDING_STAGE).
PENDING_STAGE = "AWSPENDING"
#: The client-secret runbook, per IdP.
ROTATION_DOC = "docs/rotation.md#client-secret"

#: Types that hold state a bank cannot recreate without Plaid noticing (identities, clients, keys): the client
#: secret's, each registered IdP's (its review's ``stateful_types``) and the customers API's.
STATEFUL_TYPES: tuple[str, ...] = (
    KMS_KEY,
    SECRET,
    *(t for idp in idps.IDPS for t in idp.review.stateful_types),
    "aws:apigateway/restApi:RestApi",
    "aws:apigateway/domainName:DomainName",
)


def _is_secret_input(value: Any) -> bool:
    return is_secret(value)


def _csprng_applies(ctx: Context) -> bool:
    """Our CSPRNG makes the secret, unless the stack's IdP generates its own (its review says so)."""
    return not any(idp.review.generates_client_secret and idp.declared_in(ctx) for idp in idps.IDPS)


def _secret_in_secrets_manager(ctx: Context) -> Finding:
    secrets = ctx.of_type(SECRET)
    if not secrets:
        return fail("no Secrets Manager secret", "declare the client credentials with PlaidClientSecret")
    keys = ctx.of_type(KMS_KEY)
    problems = []
    for s in secrets:
        kms = s.input("kmsKeyId")
        if kms is None or (isinstance(kms, str) and kms.startswith(("alias/aws/", "aws/"))):
            problems.append(f"{s.name}: encrypted with the AWS-managed key")
    if not keys:
        problems.append("no customer-managed KMS key declared")
    for k in keys:
        if k.input("enableKeyRotation") is not True:
            problems.append(f"{k.name}: key rotation is off")
    versions = ctx.of_type(SECRET_VERSION)
    if not versions:
        problems.append("no secret version holds the credentials")
    for v in versions:
        if ctx.secrets_marked and not _is_secret_input(v.inputs.get("secretString")):
            problems.append(f"{v.name}: secretString is not a Pulumi secret")
    if problems:
        return fail("; ".join(problems), "Plaid: never store the client secret in plain text")
    names = ", ".join(s.name for s in secrets)
    return ok(f"Secrets Manager ({names}), customer-managed KMS key with rotation, value a Pulumi secret")


# -- policy documents ---------------------------------------------------------------------------


def statements(doc: Any) -> list[dict[str, Any]]:
    """A policy document's statements (a single statement object counts as a list of one)."""
    raw = doc.get("Statement", []) if isinstance(doc, dict) else []
    return [st for st in (raw if isinstance(raw, list) else [raw]) if isinstance(st, dict)]


def listed(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value] if value is not None else [])]


def covers(st: dict[str, Any], action: str) -> bool:
    """Whether a statement's Action covers ``action`` (wildcards as IAM reads them; NotAction counts as yes)."""
    if "NotAction" in st:
        return not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in listed(st["NotAction"]))
    return any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in listed(st.get("Action")))


def principals(st: dict[str, Any], kind: str = "AWS") -> list[str]:
    """The statement's principals of ``kind`` ("AWS" or "Service"); ``Principal: "*"`` is ["*"]."""
    if "NotPrincipal" in st:
        return ["*"]
    p = st.get("Principal")
    if p == "*":
        return ["*"]
    return listed(p.get(kind)) if isinstance(p, dict) else []


#: Actions on the client secret that only its administrators may take (deny to everyone else required):
#: deleting it (``ForceDeleteWithoutRecovery`` is immediate), rolling ``AWSCURRENT`` back, writing it,
#: rotation, restore, replication, tags (tag-based access) and changing its resource policy. Names from
#: AWS's Service Authorization Reference for Secrets Manager (one IAM action per API operation).
SECRET_MANAGEMENT: tuple[str, ...] = tuple(f"secretsmanager:{a}" for a in (
    "DeleteSecret", "UpdateSecretVersionStage", "RotateSecret", "CancelRotateSecret", "RestoreSecret",
    "ReplicateSecretToRegions", "RemoveRegionsFromReplication", "StopReplicationToReplica", "PutResourcePolicy",
    "DeleteResourcePolicy", "PutSecretValue", "UpdateSecret", "TagResource", "UntagResource"))
#: The matching actions on its KMS key: destroying, disabling or re-permissioning the key makes the secret
#: unreadable; encrypting or granting lets someone else write or read it.
KEY_MANAGEMENT: tuple[str, ...] = tuple(f"kms:{a}" for a in (
    "ScheduleKeyDeletion", "DisableKey", "DisableKeyRotation", "PutKeyPolicy", "CreateGrant", "Encrypt",
    "GenerateDataKey", "ReEncryptFrom", "ReEncryptTo", "TagResource", "UntagResource", "UpdateAlias", "DeleteAlias"))


def _exempt(st: dict[str, Any]) -> list[str] | None:
    """For a Deny to everyone "unless aws:PrincipalArn is one of these": the exempt ARNs, else None."""
    cond = st.get("Condition")
    if not isinstance(cond, dict):
        return None
    for op in ("ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike"):
        block = cond.get(op)
        if isinstance(block, dict):
            for key, value in block.items():
                if key.lower() == "aws:principalarn":
                    return listed(value)
    return None


def _exact(arn: str) -> bool:
    return bool(arn.strip()) and not any(c in arn for c in "*?")


def judge_restricted(doc: Any, action: str, allow_root: bool = False) -> tuple[list[str], list[str]]:
    """(problems, exempt principals) of a resource policy that must let only listed principals do ``action``.

    Open: an Allow of ``action`` to everyone ("*") or, unless ``allow_root``, to an account root (every
    administrator of that account). Closed: a Deny of ``action`` to everyone whose only exemption is a
    non-empty list of exact ARNs. A Deny whose exemption list is empty (or holds an empty string) locks
    everyone out, the listed principals included: that is a problem too, never a closed policy.
    """
    problems: list[str] = []
    readers: list[str] = []
    sts = statements(doc)
    for st in sts:
        if st.get("Effect") == "Allow" and covers(st, action):
            who = principals(st)
            if "*" in who:
                problems.append(f"allows {action} to everyone")
            roots = [p for p in who if p.endswith(":root") or p.isdigit()]
            if roots and not allow_root:
                problems.append(f"allows {action} to the account root (any administrator)")
    denies = [st for st in sts if st.get("Effect") == "Deny" and covers(st, action) and "*" in principals(st)]
    exempt = [_exempt(st) for st in denies]
    if any(e is not None and (not e or not all(x.strip() for x in e)) for e in exempt):
        problems.append(f"denies {action} to everyone with an empty exemption list: nobody may do it, not even "
                        "the principals meant to (a lock-out); list them")
        return problems, readers
    closed = [e for e in exempt if e is not None and all(_exact(x) for x in e)]
    if not denies or not closed or any(e is None for e in exempt):
        problems.append(f"no explicit deny of {action} to everyone but the listed principals")
    else:
        readers = sorted({x for e in closed for x in e})
    return problems, readers


def _management(doc: Any, actions: tuple[str, ...]) -> tuple[list[str], set[str]]:
    """(problems, administrators) for the actions only administrators may take: each must be denied to
    everyone but one non-empty list of exact ARNs (the account root may hold them: the deny wins)."""
    missing, locked, admins = [], [], set()
    for action in actions:
        found, who = judge_restricted(doc, action, allow_root=True)
        if any("empty exemption" in p for p in found):
            locked.append(action)
        elif found:
            missing.append(action)
        else:
            admins.update(who)
    problems = []
    if locked:
        problems.append(f"denies {', '.join(locked)} to everyone with an empty exemption list (a lock-out: nobody "
                        "could update, rotate or delete it, pulumi up included)")
    if missing:
        problems.append(f"does not deny {', '.join(missing)} to everyone but named administrators (any IAM "
                        "principal of the account allowed by its own policies could do it)")
    return problems, admins


def _doc(resource: Resource, key: str) -> tuple[Any, str | None]:
    raw = resource.input(key)
    if raw is None or raw == "":
        return None, "no policy"
    if is_unknown(raw):
        return None, "policy unknown until apply, cannot be judged"
    try:
        return (json.loads(raw) if isinstance(raw, str) else raw), None
    except ValueError:
        return None, "policy is not JSON"


def _linked(resource: Resource, candidates: list[Resource], arn_input: str) -> list[Resource]:
    """The candidates ``resource`` refers to: by dependency (what Pulumi records) or by a known ARN input."""
    deps = set(getattr(resource, "dependencies", []) or [])
    arn = resource.input(arn_input)
    return [c for c in candidates if c.urn in deps or (isinstance(arn, str) and arn and c.input("arn") == arn)]


def _secret_policies(ctx: Context) -> Finding:
    secrets = ctx.of_type(SECRET)
    if not secrets:
        return fail("no Secrets Manager secret", "declare the client credentials with PlaidClientSecret")
    problems: list[str] = []
    readers: set[str] = set()
    admins: set[str] = set()
    keys, policies = ctx.of_type(KMS_KEY), ctx.of_type(SECRET_POLICY)
    for s in secrets:
        linked = _linked(s, keys, "kmsKeyId")
        if not linked:
            problems.append(f"{s.name}: its KMS key is not declared in this stack, so its policy cannot be judged")
        for key in linked:
            doc, why = _doc(key, "policy")
            if why:
                problems.append(f"{key.name}: {why}" + (" (AWS's default key policy lets any administrator in the "
                                                         "account decrypt)" if why == "no policy" else ""))
                continue
            found, who = judge_restricted(doc, "kms:Decrypt")
            problems += [f"{key.name}: {p}" for p in found]
            readers.update(who)
            found, managers = _management(doc, KEY_MANAGEMENT)
            problems += [f"{key.name}: {p}" for p in found]
            admins.update(managers)
        mine = [p for p in policies if s.urn in (getattr(p, "dependencies", []) or [])
                or (p.input("secretArn") is not None and p.input("secretArn") == s.input("arn"))]
        if not mine:
            problems.append(f"{s.name}: no resource policy")
        for pol in mine:
            doc, why = _doc(pol, "policy")
            if why:
                problems.append(f"{pol.name}: {why}")
                continue
            found, who = judge_restricted(doc, "secretsmanager:GetSecretValue")
            problems += [f"{pol.name}: {p}" for p in found]
            readers.update(who)
            found, managers = _management(doc, SECRET_MANAGEMENT)
            problems += [f"{pol.name}: {p}" for p in found]
            admins.update(managers)
            if pol.input("blockPublicPolicy") is not True:
                problems.append(f"{pol.name}: blockPublicPolicy is not true")
    if problems:
        return fail("; ".join(problems), "list in clientSecret.administrators the IAM roles that may change or delete "
                    "the client secret (the role that runs pulumi up) and in clientSecret.readers those that may "
                    "only read it: the key and secret policies then allow only them and deny everyone else")
    only_readers = sorted(readers - admins)
    return ok(f"key and secret policies: only {', '.join(sorted(readers))} may decrypt/read"
              + (f" ({', '.join(only_readers)}: read only)" if only_readers else "")
              + f"; only {', '.join(sorted(admins))} may write, delete, roll back, rotate, replicate or "
              "re-permission the secret and its key; the account administers the key but cannot decrypt")


def _csprng_secret(ctx: Context) -> Finding:
    randoms = ctx.of_type(RANDOM_BYTES)
    if not randoms:
        return fail("no RandomBytes declared",
                    f"generate the secret with random.RandomBytes(length={plaid.CLIENT_SECRET_BYTES})")
    short = [r.name for r in randoms if (r.input("length") or 0) < plaid.CLIENT_SECRET_BYTES]
    if short:
        return fail(f"RandomBytes shorter than {plaid.CLIENT_SECRET_BYTES} bytes: {', '.join(short)}",
                    "Plaid suggests `openssl rand -hex 32`")
    r = randoms[0]
    return ok(f"random.RandomBytes length {r.input('length')} (CSPRNG), hex = "
              f"{2 * int(r.input('length'))} characters")


def _protected(ctx: Context) -> Finding:
    stateful = [r for r in ctx.resources if r.type in STATEFUL_TYPES]
    unprotected = sorted(r.name for r in stateful if not r.protect)
    if unprotected:
        return fail(f"unprotected: {', '.join(unprotected)}",
                    "prod stacks must protect stateful resources (ResourceOptions(protect=True))")
    return ok(f"{len(stateful)} stateful resources protected")


def _recovery_window(ctx: Context) -> Finding:
    bad = [s.name for s in ctx.of_type(SECRET) if (s.input("recoveryWindowInDays") or 0) < 30]
    if bad:
        return fail(f"recovery window under 30 days: {', '.join(bad)}", "prod secrets keep 30 days")
    return ok("30-day recovery window")


def pending_versions(resources: Sequence[Resource]) -> list[Resource]:
    """Secret versions staged AWSPENDING: phase 1 of a two-phase rotation (the new secret beside AWSCURRENT)."""
    def stages(v: Resource) -> Any:
        raw = v.input("versionStages")
        return raw if isinstance(raw, list | tuple) else ()
    return [v for v in resources if v.type == SECRET_VERSION and PENDING_STAGE in stages(v)]


def retirements(resources: Sequence[Resource]) -> list[Resource]:
    """Phase 2 of a two-phase rotation: the resource that deletes every secret of the client but the new one."""
    return [r for r in resources if r.type == DYNAMIC and r.name.endswith("-plaid-secret-retire")]


def _rotation(ctx: Context) -> Finding:
    declared = [idp for idp in idps.IDPS if idp.declared_in(ctx)]
    limits = [(idp.name, idp.settings.rotation_limit) for idp in declared if idp.settings.rotation_limit]
    if limits:
        name, why = limits[0]
        return closest(f"{name}: one client secret at a time; clientSecret.version rotates it in one step, and "
                       "the old secret stops working when that deploys",
                       f"{why}. The shortest safe sequence with Plaid's dashboard: {ROTATION_DOC}")
    if retirements(ctx.resources):
        return ok("two-phase rotation, phase 2 (retire-previous): the new secret becomes AWSCURRENT and the IdP "
                  "keeps only it; Plaid must already use it (check it first: plaid-ready check --secret-stage "
                  f"AWSPENDING, {ROTATION_DOC})")
    if pending_versions(ctx.resources):
        return ok("two-phase rotation, phase 1 (add-next): the new secret is added to the IdP and staged "
                  "AWSPENDING; Plaid's current secret keeps working. Next: plaid-ready check --secret-stage "
                  f"AWSPENDING, give Plaid the new secret, then phase retire-previous ({ROTATION_DOC})")
    return ok("two client secrets possible: rotate in two reviewed phases with clientSecret.rotation.phase add-next, "
              f"then retire-previous ({ROTATION_DOC})")


RULES: tuple[Rule, ...] = (
    Rule("SECRET-STORE", "Client secret never in plain text: Secrets Manager, customer-managed KMS key",
         _secret_in_secrets_manager, source="Plaid Core Exchange authentication doc (client credentials)"),
    Rule("SECRET-POLICY", "Only the listed readers and administrators can decrypt or read the client secret, "
         "and only the administrators can write, delete, roll back, rotate, replicate or re-permission it or its "
         "key (key and secret policies deny everyone else)", _secret_policies,
         source="plaid-ready-idp house rule (AWS KMS key policies, Secrets Manager resource policies)"),
    Rule("SECRET-CSPRNG", f"Client secret from a CSPRNG, {plaid.CLIENT_SECRET_BYTES} bytes hex",
         _csprng_secret, applies=_csprng_applies,
         source="Plaid: `openssl rand -hex 32`"),
    Rule("SECRET-ROTATION", "Plaid's client secret can be rotated without breaking Plaid (two secrets valid at "
         "once while Plaid switches)", _rotation, applies=lambda ctx: any(i.declared_in(ctx) for i in idps.IDPS),
         source=f"Plaid Core Exchange security guidance (rotate credentials); {ROTATION_DOC}"),
    Rule("PROD-PROTECT", "Prod protects stateful resources (identities, clients, APIs, secrets, keys)",
         _protected, applies=lambda ctx: ctx.environment == "prod", source="plaid-ready-idp house rule"),
    Rule("PROD-RECOVERY", "Prod keeps a deleted client secret recoverable for 30 days",
         _recovery_window, applies=lambda ctx: ctx.environment == "prod", source="plaid-ready-idp house rule"),
)
