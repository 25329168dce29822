"""``plaid-ready plan``'s stack: the project file, ``--stack`` (a name or the path of its file) and the stack file
read the way the Pulumi CLI passes it to a program."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.settings.stack_file import SECURE_PLACEHOLDER, is_secure, read_stack_file


class UsageError(Exception):
    """A problem with the command line or the stack file itself (exit 2)."""


@dataclass
class StackConfig:
    project: str
    stack: str
    config: dict[str, str]
    secret_keys: list[str]

    @property
    def region(self) -> str:
        """The stack's ``aws:region`` (a required setting: parse_settings refuses a stack without one)."""
        return self.config.get("aws:region", "")


def _project(program_dir: Path) -> tuple[str, Path]:
    path = program_dir / "Pulumi.yaml"
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"{path}: not found; run plaid-ready from the project root or pass --dir") from None
    name = doc.get("name") if isinstance(doc, dict) else None
    if not isinstance(name, str):
        raise UsageError(f"{path}: has no project name")
    return name, program_dir / str(doc.get("stackConfigDir") or ".")


def available_stacks(program_dir: Path) -> list[str]:
    _, stack_dir = _project(program_dir)
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in stack_dir.glob("Pulumi.*.yaml"))


_STACK_FILE = re.compile(r"^Pulumi\.(?P<name>[^/\\]+)\.ya?ml$")


def resolve_stack(program_dir: Path, arg: str, cwd: Path | None = None) -> str:
    """The stack name for ``--stack``: a name, or the path of its stack file (``stacks/Pulumi.x.yaml``,
    relative to the working directory or the project, or absolute). A file elsewhere is refused with
    the name to use once it is in the stack directory."""
    if "/" not in arg and "\\" not in arg and not _STACK_FILE.match(arg) and not arg.endswith((".yaml", ".yml")):
        return arg
    _, stack_dir = _project(program_dir)
    match = _STACK_FILE.match(Path(arg).name)
    if match is None:
        stem = Path(arg).name.rsplit(".", 1)[0]
        hint = f"; did you mean --stack {stem}?" if (stack_dir / f"Pulumi.{stem}.yaml").is_file() else ""
        raise UsageError(f"--stack takes a stack name or the path of a stack file "
                         f"({stack_dir.relative_to(program_dir).as_posix()}/Pulumi.<name>.yaml); "
                         f"'{Path(arg).name}' is not a stack file name{hint}")
    name = match.group("name")
    given = Path(arg)
    candidates = [given] if given.is_absolute() else [(cwd or Path.cwd()) / given, program_dir / given]
    home = stack_dir.resolve()
    if any(c.resolve().parent == home for c in candidates) or "/" not in arg and "\\" not in arg:
        return name
    where = stack_dir.relative_to(program_dir).as_posix()
    raise UsageError(f"--stack: {arg} is not in the stack directory {where}/ (stackConfigDir in Pulumi.yaml); "
                     f"move it to {where}/Pulumi.{name}.yaml and pass --stack {name}")


def load_stack_config(program_dir: Path, stack: str) -> StackConfig:
    """Read ``Pulumi.<stack>.yaml`` the way the Pulumi CLI passes it to a program."""
    project, stack_dir = _project(program_dir)
    path = stack_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(available_stacks(program_dir)) or "none"
        raise UsageError(f"stack '{stack}': no file {path.relative_to(program_dir)}; available stacks: {known}")
    try:
        doc = read_stack_file(path) or {}  # refuses duplicate keys (SettingsError, exit 2)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UsageError(f"{path.name}: not valid YAML{where}: {problem}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{path.name}: must be a mapping with a 'config:' key")
    unknown_top = sorted(set(doc) - {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"})
    if unknown_top:
        raise UsageError(f"{path.name}: unknown top-level keys: {', '.join(unknown_top)} (settings go under 'config:')")
    raw = doc.get("config") or {}
    if not isinstance(raw, dict):
        raise UsageError(f"{path.name}: 'config:' must be a mapping of keys to values")
    config: dict[str, str] = {}
    secret: list[str] = []

    def put(key: str, value: Any) -> None:
        key = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = SECURE_PLACEHOLDER
            secret.append(key)
        elif _contains_secure(value) and not key.startswith(f"{project}:"):
            # A provider key with secure: values inside (`pulumi config set --secret --path`): they cannot
            # be decrypted offline; each becomes the placeholder, and the key is marked secret.
            config[key] = json.dumps(_placeholders(value))
            secret.append(key)
        elif _contains_secure(value):
            raise UsageError(f"{key}: holds a secure: value inside a structured setting; none of its fields "
                             "is secret, so set them in plain text")
        elif isinstance(value, dict | list):
            config[key] = json.dumps(value)
        elif isinstance(value, bool):
            config[key] = "true" if value else "false"
        elif value is None:
            config[key] = ""
        else:
            config[key] = str(value)

    for key, value in raw.items():
        put(str(key), value)
    return StackConfig(project, stack, config, secret)


def _placeholders(value: Any) -> Any:
    if is_secure(value):
        return SECURE_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def _contains_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return "secure" in value or any(_contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secure(v) for v in value)
    return False
