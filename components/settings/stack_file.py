"""A stack file (``stacks/Pulumi.<stack>.yaml``) read strictly, and the credential check at any depth.

YAML lets a mapping name a key twice and keeps the last value without a word, so a reviewer could read
one ``aws:region`` (or one ``okta:`` block) while the program uses another. :func:`read_stack_file`
refuses every duplicate key, at any depth, naming the key and both lines. The offline plan (and so
``--compare``) reads stack files through it, and :func:`components.settings.load_settings` (the Pulumi
program) checks the stack file the Pulumi CLI read, where it finds it.

:func:`plaintext_credentials` walks every key of a provider namespace (``aws:``, ``auth0:``, ``okta:``,
any namespace but this project's), nested mappings and lists included, and names each credential held
in plain text by its path (``aws:assumeRoleWithWebIdentity.webIdentityToken``), never its value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import yaml

from components.settings.base import PROJECT, SettingsError

#: What stands in for a ``secure:`` value the offline plan cannot decrypt (and never prints).
SECURE_PLACEHOLDER: Final = "[secret: secure config value, cannot be decrypted offline]"

#: A key that names a credential: matched on the key's own name (its last path element) with ``-`` and
#: ``_`` removed, case ignored. ``aws:secretKey``, ``aws:accessKey``, ``aws:token``,
#: ``aws:assumeRole.sessionToken``, ``aws:assumeRoleWithWebIdentity.webIdentityToken``,
#: ``auth0:clientSecret``, ``auth0:apiToken``, ``okta:privateKey``, ``okta:apiToken``... (The providers
#: read these; we only check how they are stored.)
CREDENTIAL_KEY: Final = re.compile(
    r"(secret|secretkey|secretaccesskey|accesskey|accesskeyid|password|passwd|passphrase|token|privatekey|apikey|"
    r"clientassertionprivatekey|signingkey|credential|credentials)$", re.IGNORECASE)


def is_credential_key(name: str) -> bool:
    return CREDENTIAL_KEY.search(name.replace("-", "").replace("_", "")) is not None


def is_secure(value: Any) -> bool:
    """A ``secure:`` value as a stack file holds it, or the plan's placeholder for one."""
    return (isinstance(value, Mapping) and set(value) == {"secure"}) or value == SECURE_PLACEHOLDER


def _walk(value: Any, path: str, name: str) -> Iterator[tuple[str, str, Any]]:
    """(path, own key name, leaf value) for every leaf under ``value``; a secure value is a leaf. A list's
    items carry the list's key name."""
    if is_secure(value) or not isinstance(value, Mapping | list):
        yield path, name, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}", str(k))
    else:
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]", name)


def plaintext_credentials(key: str, value: Any) -> list[str]:
    """Paths under the config key ``key`` (a provider namespace) that hold a credential in plain text.

    ``value`` is the key's value as a stack file holds it (nested mappings and lists, ``{secure: ...}``
    for secure values) or as the offline plan passes it (:data:`SECURE_PLACEHOLDER` for those). A leaf is
    a credential when its own key names one; empty values, booleans and numbers are not credentials."""
    found = []
    for path, name, leaf in _walk(value, key, key.partition(":")[2]):
        if is_secure(leaf) or leaf is None or isinstance(leaf, bool | int | float) or leaf == "":
            continue
        if is_credential_key(name):
            found.append(path)
    return found


def credential_problem(path: str) -> str:
    """The one line for a plain-text credential at ``path`` (never its value)."""
    how = (f"`pulumi config set --secret {path}`" if "." not in path and "[" not in path
           else f"`pulumi config set --secret --path '{path}'`")
    return (f"{path}: holds a credential but is stored in plain text; remove it from the stack file and set it "
            f"with {how} (or the provider's environment variable)")


def provider_credential_problems(config: Mapping[str, Any]) -> list[str]:
    """Every plain-text credential nested inside a provider-namespace key of a stack file's ``config:``
    (values as the file holds them). Top-level scalar keys are judged by parse_settings."""
    problems = []
    for key, value in config.items():
        namespace, _, name = str(key).partition(":")
        if not name or namespace == PROJECT or not isinstance(value, Mapping | list):
            continue
        problems += [credential_problem(p) for p in plaintext_credentials(str(key), value)]
    return problems


# --- duplicate keys -------------------------------------------------------------------------------


def _duplicates(node: yaml.Node, path: str, out: list[str], file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            child = f"{path}.{key}" if path else str(key)
            if key is not None:
                if key in seen:
                    shown = child.removeprefix("config.")
                    out.append(f"{file}: duplicate key {shown} (lines {seen[key]} and {line}); YAML would keep only "
                               "the last one, so a reviewer may read one value while the program uses the other: "
                               "keep one of them")
                else:
                    seen[key] = line
            _duplicates(value_node, child, out, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _duplicates(item, f"{path}[{i}]", out, file)


def duplicate_keys(text: str, file: str) -> list[str]:
    """One line per key that a mapping of ``text`` names twice, at any depth (key path and both lines)."""
    out: list[str] = []
    for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
        if document is not None:
            _duplicates(document, "", out, file)
    return out


def read_stack_file(path: Path) -> Any:
    """The stack file's YAML, refusing duplicate keys (SettingsError, one line each). YAML syntax errors
    propagate as ``yaml.YAMLError`` for the caller to report with its line."""
    text = path.read_text()
    problems = duplicate_keys(text, path.name)
    if problems:
        raise SettingsError(problems)
    return yaml.safe_load(text)


def check_stack_file(path: Path) -> None:
    """What the Pulumi program checks of the stack file the CLI read: no duplicate key, no credential in plain
    text at any depth of a provider namespace. Raises SettingsError (one line per problem)."""
    doc = read_stack_file(path)
    config = doc.get("config") if isinstance(doc, Mapping) else None
    if isinstance(config, Mapping):
        problems = provider_credential_problems(config)
        if problems:
            raise SettingsError(problems)
