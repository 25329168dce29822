"""The Pulumi SDK's private names the project relies on (components/_pulumi_private.py), pinned to the SDK they were
checked against: a pulumi upgrade fails here, naming what to re-read, before it breaks `plaid-ready plan`.
Also: no other module of the project names a private Pulumi name."""

from __future__ import annotations

import ast
import asyncio
import re
from importlib import metadata

import pulumi
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import config as pulumi_config
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime import sync_await as pulumi_sync_await

from components import _pulumi_private as private
from tests.harness import ROOT

#: Each private (or internal) name, where it lives, and why the project needs it (the module's docstrings say more).
REASONS = {
    "pulumi.runtime.config.CONFIG": "config_keys(): list the stack's config keys (no public API lists them)",
    "pulumi.runtime.rpc._special_sig_key": "mark_secret(): the wire format's signature key",
    "pulumi.runtime.rpc._special_secret_sig": "mark_secret(): a secret's signature (MockMonitor ignores "
                                              "additional_secret_outputs)",
    "pulumi.runtime.sync_await._sync_await": "sync_await(): await the mock engine's run and outputs from sync code",
    "pulumi.runtime.settings.ROOT": "reset_root_resource(): a fresh root Stack for each run in one process",
}


def _lock_pin(name: str) -> str:
    match = re.search(rf"^{re.escape(name)}==(\S+)", (ROOT / "requirements.lock").read_text(), re.MULTILINE)
    assert match, f"requirements.lock pins no {name}"
    return match.group(1)


def test_pulumi_is_the_version_the_private_module_was_checked_against():
    installed = metadata.version("pulumi")  # the SDK has no pulumi.__version__
    assert installed == private.PULUMI_VERSION == _lock_pin("pulumi"), (
        f"pulumi is {installed} (lock: {_lock_pin('pulumi')}), components/_pulumi_private.py was checked "
        f"against {private.PULUMI_VERSION}: re-read each private name in the new SDK "
        f"({'; '.join(f'{k}: {v}' for k, v in REASONS.items())}), then update PULUMI_VERSION")


@pytest.mark.parametrize("dotted", sorted(REASONS))
def test_each_private_name_still_exists(dotted):
    module, _, name = dotted.rpartition(".")
    owner = {"pulumi.runtime.config": pulumi_config, "pulumi.runtime.rpc": rpc, "pulumi.runtime.settings":
             pulumi_settings, "pulumi.runtime.sync_await": pulumi_sync_await}[module]
    assert hasattr(owner, name), f"{dotted} is gone from pulumi {metadata.version('pulumi')}: {REASONS[dotted]}"


def test_config_keys_lists_in_process_and_environment_config(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG", '{"proj:from-env": "1"}')
    token = pulumi_config.CONFIG.set({"proj:in-process": "2"})
    try:
        assert private.config_keys() == {"proj:in-process", "proj:from-env"}
    finally:
        pulumi_config.CONFIG.reset(token)


def test_mark_secret_writes_what_the_sdk_reads_back_as_a_secret():
    response = struct_pb2.Struct()
    response.fields["clientSecret"].string_value = "s3cr3t"
    private.mark_secret(response.fields["clientSecret"])
    plain = rpc.deserialize_properties(response)["clientSecret"]
    assert rpc.is_rpc_secret(plain) and rpc.unwrap_rpc_secret(plain) == "s3cr3t"


def test_sync_await_runs_a_coroutine_to_completion():
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert private.sync_await(answer()) == 42


def test_reset_root_resource_forgets_the_root_stack():
    token = pulumi_settings.ROOT.set(object())  # any stand-in for the root Stack resource
    try:
        private.reset_root_resource()
        assert pulumi.runtime.get_root_resource() is None
    finally:
        pulumi_settings.ROOT.reset(token)


_PULUMI_MODULES = re.compile(r"^(pulumi|pulumi_[a-z]+)(\.|$)")


def _private_pulumi_uses(path) -> list[str]:
    """``module._name`` attribute reads and ``from pulumi... import _name`` of a private Pulumi name in one file."""
    tree = ast.parse(path.read_text())
    aliases: set[str] = set()
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and _PULUMI_MODULES.match(node.module):
            for a in node.names:
                if a.name.startswith("_"):
                    found.append(f"{node.module}.{a.name}")
                aliases.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if _PULUMI_MODULES.match(a.name):
                    aliases.add((a.asname or a.name).split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in aliases:
                found.append(f"{ast.unparse(node)}")
    return found


def test_no_other_module_uses_a_private_pulumi_name():
    allowed = ROOT / "components" / "_pulumi_private.py"
    offenders = {}
    for package in ("plaid_contract", "lambdas", "components", "readiness", "policy", "tools", "benchmarks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == allowed or "node_modules" in path.parts:
                continue
            if uses := _private_pulumi_uses(path):
                offenders[str(path.relative_to(ROOT))] = uses
    assert not offenders, f"private Pulumi names outside components/_pulumi_private.py: {offenders}"


def test_the_scan_finds_a_planted_private_use(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("from pulumi.runtime import rpc\nfrom pulumi.runtime.sync_await import _sync_await\n"
                       "x = rpc._special_sig_key\n")
    assert sorted(_private_pulumi_uses(planted)) == ["pulumi.runtime.sync_await._sync_await",
                                                     "rpc._special_sig_key"]
