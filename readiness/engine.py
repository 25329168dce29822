"""Run Pulumi code without the CLI: recording mocks, a secret-aware monitor, the offline program runner.

Used by the offline plan (``plaid-ready plan``) and by the component tests. Two modes:

- ``preview=True`` (the plan): mocks echo inputs and compute nothing, so values that only the cloud
  knows (ids, ARNs, generated client ids) are unknown and render as ``(known after apply)``. The region
  is the stack's ``aws:region``, as the AWS provider's; the account id, which only the credentials
  know, is :data:`UNKNOWN_ACCOUNT` where a program builds it into a string (an IAM policy's ARN).
- ``preview=False`` (unit tests): mocks also return every provider-computed output the code reads
  (ids, ARNs, client ids, RandomBytes hex), deterministically, so tests can assert on wiring: account
  :data:`MOCK_ACCOUNT`, region the config's ``aws:region`` or :data:`MOCK_REGION`. What an IdP's
  provider computes or answers comes from its package (``components/idps/<idp>/mocks.py``, through the
  registry); this module knows AWS and random only.

The monitor records every registration (type, name, parent, protect, inputs) and, unlike Pulumi's
stock ``MockMonitor``, honours ``additional_secret_outputs`` as the real engine does. Recorded values use the
rule vocabulary's markers (``components/checklist.py``): a secret is a :class:`SecretValue`, a value only the
cloud knows is ``UNKNOWN``.
"""

from __future__ import annotations

import base64
import json
import os
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from components import checklist, idps
from components._pulumi_private import mark_secret, reset_root_resource, sync_await
from components.checklist import UNKNOWN, UNKNOWN_TEXT, SecretValue, unwrap
from components.idps.idp import deterministic_bytes

__all__ = ["MOCK_ACCOUNT", "MOCK_REGION", "UNKNOWN_ACCOUNT", "UNKNOWN_TEXT", "DeclaredResource", "ProgramRun",
           "RecordingMocks", "RecordingMonitor", "SecretValue", "computed_outputs", "install", "is_unknown",
           "run_program", "unwrap"]

MOCK_ACCOUNT = "123456789012"
MOCK_REGION = "us-east-1"
#: The account id in preview mode, where a program builds it into a string (only the cloud knows it).
UNKNOWN_ACCOUNT = "(account)"


@dataclass
class DeclaredResource:
    """One resource the program declares, as the engine sees it (inputs use camelCase keys)."""

    urn: str
    type: str
    name: str
    parent_urn: str
    custom: bool
    protect: bool
    inputs: dict[str, Any]
    secret_outputs: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    #: The provider reference (``<provider urn>::<id>``) the engine resolved, "" for components and the default.
    provider: str = ""

    @property
    def parent_name(self) -> str | None:
        return self.parent_urn.rsplit("::", 1)[-1] if self.parent_urn else None

    def input(self, *path: str | int, default: Any = None) -> Any:
        """Read a (nested) input, unwrapping secrets: ``r.input("refreshToken", "rotationType")``."""
        value: Any = self.inputs
        for part in path:
            value = unwrap(value)
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return default
        return unwrap(value)


def is_unknown(value: Any) -> bool:
    """Whether a value is only known after apply: the vocabulary's UNKNOWN, or one of Pulumi's own markers."""
    return checklist.is_unknown(value) or isinstance(value, pulumi.output.Unknown) or value is rpc.UNKNOWN


def _to_plain(value: Any) -> Any:
    """Turn deserialized RPC values into plain Python: secrets -> SecretValue, Pulumi's unknowns -> UNKNOWN,
    floats that are ints -> int."""
    if rpc.is_rpc_secret(value):
        return SecretValue(_to_plain(rpc.unwrap_rpc_secret(value)))
    if isinstance(value, pulumi.output.Unknown) or value is rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def partition_of(region: str) -> tuple[str, str]:
    """The AWS partition and DNS suffix a region belongs to (what ``aws.get_partition`` answers)."""
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    return "aws", "amazonaws.com"


#: Computed outputs an IdP's provider returns, by resource type (from the registry's mocks).
_IDP_OUTPUTS: Final = {typ: mock for idp in idps.IDPS for typ, mock in idp.mocks.outputs.items()}
#: What an IdP's invokes answer, by token (from the registry's mocks).
_IDP_CALLS: Final = {token: mock for idp in idps.IDPS for token, mock in idp.mocks.calls.items()}


#: Provider-computed outputs, by type: what the cloud would return after create (compute mode only).
def computed_outputs(typ: str, name: str, inputs: Mapping[str, Any], region: str = MOCK_REGION) -> dict[str, Any]:
    def _arn(service: str, name: str, kind: str = "") -> str:
        return f"arn:aws:{service}:{region}:{MOCK_ACCOUNT}:{kind}{name}"

    out: dict[str, Any] = {}
    if typ == "random:index/randomBytes:RandomBytes":
        raw = deterministic_bytes(f"{name}:{json.dumps(inputs.get('keepers'), sort_keys=True)}", int(inputs["length"]))
        out.update(hex=raw.hex(), base64=base64.b64encode(raw).decode())
    elif typ == "random:index/randomId:RandomId":
        raw = deterministic_bytes(name, int(inputs["byteLength"]))
        out.update(hex=raw.hex(), b64Std=base64.b64encode(raw).decode(),
                   b64Url=base64.urlsafe_b64encode(raw).decode().rstrip("="), dec=str(int(raw.hex(), 16)))
    elif typ.startswith("aws:"):
        service = typ.split(":")[1].split("/")[0]
        out["arn"] = inputs.get("arn") or _arn(service, inputs.get("name") or name)
        if typ == "aws:kms/key:Key":
            out["keyId"] = f"{name}-key-id"
            out["arn"] = _arn("kms", f"{name}-key-id", "key/")
        elif typ == "aws:apigateway/restApi:RestApi":
            out["rootResourceId"] = f"{name}-root"
            out["executionArn"] = _arn("execute-api", f"{name}-id")
            out["arn"] = f"arn:aws:apigateway:{region}::/restapis/{name}-id"
        elif typ == "aws:apigateway/stage:Stage":
            out["executionArn"] = _arn("execute-api", f"{name}-api-id/{inputs.get('stageName')}")
            out["invokeUrl"] = f"https://{name}-api-id.execute-api.{region}.amazonaws.com/{inputs.get('stageName')}"
            out["arn"] = f"arn:aws:apigateway:{region}::/restapis/{name}-api-id/stages/{inputs.get('stageName')}"
        elif typ == "aws:lambda/function:Function":
            out["invokeArn"] = (f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
                                f"{_arn('lambda', name, 'function:')}/invocations")
            out["arn"] = _arn("lambda", name, "function:")
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            out["arn"] = _arn("logs", inputs.get("name") or name, "log-group:")
        elif typ == "aws:apigateway/domainName:DomainName":
            out["regionalDomainName"] = f"d-{name}.execute-api.{region}.amazonaws.com"
            out["regionalZoneId"] = "Z1UJRXOUMOOFQ8"
    if typ in _IDP_OUTPUTS:
        out.update(_IDP_OUTPUTS[typ](name, inputs))
    return out


class RecordingMocks(Mocks):
    """Echo inputs; with ``compute`` also return provider-computed outputs (see computed_outputs).

    ``region`` is the stack's ``aws:region`` (default :data:`MOCK_REGION`). In preview mode the account
    id is :data:`UNKNOWN_ACCOUNT`: never an invented one that a reader could take for real."""

    def __init__(self, compute: bool = True, region: str | None = None) -> None:
        self.compute = compute
        self.region = region or MOCK_REGION
        self.account = MOCK_ACCOUNT if compute else UNKNOWN_ACCOUNT
        self.created: list[MockResourceArgs] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        self.created.append(args)
        out = dict(args.inputs)
        if not self.compute:
            return "", out  # preview: the id (and every computed output) is unknown
        out.update(computed_outputs(args.typ, args.name, args.inputs, self.region))
        return f"{args.name}-id", out

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        # The answer and no check failures: an empty list (the SDK iterates it; None would fail).
        return self._answer(args), []

    def _answer(self, args: MockCallArgs) -> dict[str, Any]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            if not self.compute:
                return {"accountId": self.account, "arn": UNKNOWN_TEXT, "userId": UNKNOWN_TEXT, "id": self.account}
            return {"accountId": MOCK_ACCOUNT, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:user/plan",
                    "userId": "plan", "id": MOCK_ACCOUNT}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        if args.token == "aws:index/getPartition:getPartition":
            partition, suffix = partition_of(self.region)
            return {"partition": partition, "dnsSuffix": suffix, "id": partition}
        if args.token in _IDP_CALLS:
            return _IDP_CALLS[args.token](self.compute)
        return {}


class RecordingMonitor(MockMonitor):
    """A mock monitor that records registrations (with parent and protect) and marks
    ``additional_secret_outputs`` secret, as the real engine does."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.declared: list[DeclaredResource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        resp = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return resp
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        self.declared.append(DeclaredResource(
            urn=resp.urn, type=request.type, name=request.name, parent_urn=request.parent,
            custom=bool(request.custom), protect=bool(request.protect), inputs=_to_plain(inputs),
            secret_outputs=list(request.additionalSecretOutputs), dependencies=list(request.dependencies),
            provider=str(request.provider or ""),
        ))
        for key in request.additionalSecretOutputs:
            if key in resp.object.fields:
                mark_secret(resp.object.fields[key])
        return resp


def install(compute: bool, project: str, stack: str, region: str | None = None) -> RecordingMonitor:
    """Install recording mocks into the Pulumi runtime; returns the monitor."""
    mocks = RecordingMocks(compute=compute, region=region)
    monitor = RecordingMonitor(mocks)
    # set_mocks creates the root Stack only when none exists: without this, a second run in the same
    # process (tests, --compare) would reuse the first run's Stack and report its exports as its own.
    reset_root_resource()
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=not compute, monitor=monitor)
    return monitor


@contextmanager
def _program_env(program_dir: Path, config: Mapping[str, str], secret_keys: list[str]) -> Iterator[None]:
    saved_env = {k: os.environ.get(k) for k in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")}
    saved_cwd, saved_path = os.getcwd(), list(sys.path)
    os.environ["PULUMI_CONFIG"] = json.dumps(dict(config))
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(secret_keys)
    pulumi.runtime.set_all_config(dict(config), secret_keys)
    sys.path.insert(0, str(program_dir))
    os.chdir(program_dir)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class ProgramRun:
    resources: list[DeclaredResource]
    outputs: dict[str, Any]


def run_program(program_dir: Path, project: str, stack: str, config: Mapping[str, str],
                secret_keys: list[str], *, compute: bool = False,
                entry: Callable[[], None] | None = None) -> ProgramRun:
    """Run ``program_dir/__main__.py`` (or ``entry``) under the mock engine and collect what it declares."""
    from pulumi.runtime.stack import run_pulumi_func

    def main() -> None:
        if entry is not None:
            entry()
        else:
            runpy.run_path(str(program_dir / "__main__.py"), run_name="__main__")

    monitor = install(compute=compute, project=project, stack=stack, region=config.get("aws:region") or None)
    with _program_env(program_dir, config, secret_keys):
        sync_await(run_pulumi_func(main))
        root = pulumi.runtime.get_root_resource()
        outputs: dict[str, Any] = {}
        for key, value in (getattr(root, "outputs", None) or {}).items():
            out = pulumi.Output.from_input(value)
            resolved = sync_await(out.future(with_unknowns=True))
            secret = sync_await(out.is_secret())
            outputs[key] = SecretValue(resolved) if secret else _to_plain(resolved)
    return ProgramRun(resources=list(monitor.declared), outputs=outputs)
