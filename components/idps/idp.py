"""What an IdP package provides, as one object: :class:`Idp` (the registry, ``components/idps/__init__.py``,
lists one per IdP).

An IdP package (``components/idps/<idp>/``) holds everything IdP-specific:

- ``settings.py``: its stack-file section, an :class:`~components.settings.base.IdpSettings` subclass whose
  ``idp`` field (a ``Literal``) is the discriminator of the settings' union;
- ``component.py``: its ComponentResource(s) and ``tenant(settings, opts) -> TenantContract``, which builds the
  IdP's provider from the settings and the component with ``opts.providers`` (imported only when a program is
  declared: the Pulumi provider SDKs are large, and settings or rules need none of them);
- ``rules.py``: its readiness rules (the vocabulary of ``components/checklist.py``);
- ``review.py``: what review needs to know (:class:`Review`);
- ``mocks.py``: what the mock engine answers for its types and calls (:class:`Mocks`).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

from components.checklist import Context, Rule

if TYPE_CHECKING:
    import pulumi

    from components.settings.base import IdpSettings
    from components.settings.stack import StackSettings
    from components.tenant import TenantContract


@dataclass(frozen=True)
class PlaidField:
    """A setting Plaid experiences, on one resource type: what the comparison reports when it changes.

    ``kind``: ``access``, ``id`` or ``refresh`` (lifetimes: a notice), ``alg`` and ``auth-method`` (any change
    breaks), ``must-stay-true`` (true -> false breaks), ``scopes`` and ``grants`` (a removal breaks, an addition
    is a notice)."""

    type: str
    path: str
    label: str
    unit: str
    kind: str


@dataclass(frozen=True)
class Replacement:
    """What replacing or deleting a resource of ``type`` does to Plaid (always breaking). ``message`` is a
    format string with ``{name}`` (the resource), ``{verb}`` ("deleted" or "replaced (why)"), ``{relink}`` and
    ``{tell}`` (the comparison's standard phrases)."""

    type: str
    kind: str
    message: str


@dataclass(frozen=True)
class Review:
    """What review (``plaid-ready plan --compare``, the checklist's prod rules) needs to know of an IdP."""

    #: Plaid's OAuth client(s): replaced or deleted = a new client id and secret for Plaid.
    client_types: tuple[str, ...]
    #: Client type -> the input path that lists its redirect URIs.
    redirect_paths: Mapping[str, str]
    #: The settings Plaid experiences, per resource type.
    plaid_fields: tuple[PlaidField, ...] = ()
    #: Stateful resources whose replacement breaks Plaid in an IdP-specific way (clients are said once, above).
    replacements: tuple[Replacement, ...] = ()
    #: Resource type -> input paths whose change makes the provider replace it (``ForceNew`` /
    #: ``RequiresReplace()`` in the bridged Terraform provider; sources in readiness/compare/replace.py).
    create_only: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Types holding state the bank cannot recreate without Plaid noticing: prod protects them (PROD-PROTECT).
    stateful_types: tuple[str, ...] = ()
    #: The IdP generates the client secret itself (no CSPRNG of ours: SECRET-CSPRNG does not apply).
    generates_client_secret: bool = False


#: Computed outputs of one resource type in the mock engine's compute mode: (logical name, inputs) -> outputs.
OutputsMock = Callable[[str, Mapping[str, Any]], dict[str, Any]]
#: The answer to one invoke: (compute mode) -> outputs. In preview mode, what only the IdP knows is UNKNOWN_TEXT.
CallMock = Callable[[bool], dict[str, Any]]


@dataclass(frozen=True)
class Mocks:
    """What the mock engine answers for an IdP's resource types and invokes (readiness/engine.py reads these)."""

    outputs: Mapping[str, OutputsMock] = field(default_factory=dict)
    calls: Mapping[str, CallMock] = field(default_factory=dict)


def deterministic_bytes(seed: str, length: int) -> bytes:
    """``length`` bytes derived from ``seed`` (sha256 in counter mode): the mock engine's stand-in for what a
    provider generates, the same on every run."""
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return out[:length]


class TenantEntry(Protocol):
    """``component.tenant``: declare the IdP's provider and tenant component; return the tenant contract."""

    def __call__(self, settings: StackSettings,
                 opts: pulumi.ResourceOptions | None = None) -> TenantContract: ...


@dataclass(frozen=True)
class Idp:
    """One identity provider: everything the program, the checklist, the comparison and the engine need."""

    #: The stack file's ``idp`` value and the name of its section (``plaid-ready-idp:<name>``).
    name: str
    #: How people write it (docs, messages).
    title: str
    #: Its settings section.
    settings: type[IdpSettings]
    #: The module holding ``tenant(settings, opts)`` (imported on first use: it imports the provider SDK).
    component: str
    rules: tuple[Rule, ...]
    review: Review
    mocks: Mocks
    #: Its page in docs/.
    docs: str

    def tenant(self, settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> TenantContract:
        """Declare the IdP's provider and tenant (its component module is imported here, not before)."""
        entry = cast(TenantEntry, importlib.import_module(self.component).tenant)
        return entry(settings, opts)

    def declared_in(self, ctx: Context) -> bool:
        """Whether a stack's resources hold this IdP's client for Plaid."""
        return any(ctx.of_type(t) for t in self.review.client_types)
