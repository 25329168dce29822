"""The one place the project reaches into the Pulumi SDK beyond its public API, pinned to the SDK it was checked
against (:data:`PULUMI_VERSION`, the pin in pyproject.toml and requirements.lock).

Each name below says why it is needed and which public API is missing. tests/test_pulumi_private.py fails, naming
the name, when the installed ``pulumi`` is not :data:`PULUMI_VERSION` or when one of these no longer exists or no
longer behaves as relied on: re-read it in the new SDK, then update this module and the pin together.

It sits in ``components`` (the lowest layer that may import pulumi) so that both the settings loader
(``components/settings/parse.py``: :func:`config_keys`) and the readiness engine (``readiness/engine.py``) use it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Final, TypeVar

from pulumi.runtime import config as _config
from pulumi.runtime import rpc as _rpc
from pulumi.runtime import settings as _settings
from pulumi.runtime import sync_await as _sync_await_module

__all__ = ["PULUMI_VERSION", "config_keys", "mark_secret", "reset_root_resource", "sync_await"]

#: The pulumi SDK this module was checked against (pyproject.toml's pin).
PULUMI_VERSION: Final = "3.272.0"

T = TypeVar("T")


def config_keys() -> set[str]:
    """Every config key the Pulumi runtime holds for this program: those set in-process (``set_all_config``, the
    language host, the mocks) and those of the ``PULUMI_CONFIG`` environment variable.

    Internal (module state, not underscored): ``pulumi.runtime.config.CONFIG``, a ContextVar the SDK documents as
    "meant for internal use only". Missing public API: ``pulumi.Config`` and ``pulumi.runtime.get_config(key)`` read
    one key the caller already knows, and nothing lists the keys; the settings loader needs the list to refuse
    unknown keys (typos) and plain-text credentials. Which of them are secret is public:
    ``pulumi.runtime.is_config_secret(key)`` and ``get_config_secret_keys_env()``.
    """
    return set(_config.CONFIG.get()) | set(_config.get_config_env())


def mark_secret(value: Any) -> None:
    """Turn a serialized output field (a ``google.protobuf.struct_pb2.Value``) into the engine's secret wrapper
    ``{<sig>: <secret sig>, "value": <the value>}`` in place, as the real engine does for
    ``additional_secret_outputs``.

    Private: ``pulumi.runtime.rpc._special_sig_key`` and ``rpc._special_secret_sig`` (the wire format's signature
    key and the secret's signature). Missing public API: ``MockMonitor`` does not honour
    ``additional_secret_outputs``, and the SDK has no public serializer for one secret value.
    """
    from google.protobuf import struct_pb2

    inner = struct_pb2.Value()
    inner.CopyFrom(value)
    wrapper = value.struct_value
    wrapper.Clear()
    wrapper.fields[_rpc._special_sig_key].string_value = _rpc._special_secret_sig
    wrapper.fields["value"].CopyFrom(inner)


def sync_await(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to completion on the Pulumi runtime's event loop, from synchronous code.

    Private: ``pulumi.runtime.sync_await._sync_await``. Missing public API: the mock engine (``set_mocks``) runs a
    program only inside ``pulumi.runtime.run_pulumi_func``'s coroutine, and ``Output`` values are read only by
    awaiting them; ``asyncio.run`` would start a second loop the SDK's futures are not bound to.
    """
    return _sync_await_module._sync_await(awaitable)


def reset_root_resource() -> None:
    """Forget the root ``pulumi:pulumi:Stack`` resource, so that the next ``set_mocks`` creates a fresh one.

    Private (module state, not underscored): ``pulumi.runtime.settings.ROOT``. Missing public API: ``set_mocks``
    creates the root Stack only when none exists, and nothing resets it; a second run in one process (tests,
    ``plaid-ready compare``) would otherwise report the first run's exports as its own.
    """
    _settings.ROOT.set(None)
