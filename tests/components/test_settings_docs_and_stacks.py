"""Docs and committed stack files stay in step with the settings model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from components import idps
from components.settings import parse_settings
from components.settings.stack import section_fields, stack_file_fields
from readiness.plan import load_stack_config
from tests.harness import ROOT


def _keys() -> list[str]:
    """Every key a stack file can write in the project's namespace (dotted paths), from the model: the top level,
    its sections and each registered IdP's section."""
    return list(_fields())


#: The settings reference: docs/settings.md, plus the "## Settings" section of an IdP's own page (if it has one).
IDP_PAGES = tuple(Path(idp.docs).name for idp in idps.IDPS)


def _settings_text() -> str:
    parts = [(ROOT / "docs" / "settings.md").read_text()]
    for name in IDP_PAGES:
        page = ROOT / "docs" / name
        if page.is_file():
            match = re.search(r"^## Settings\b.*?(?=^## |\Z)", page.read_text(), re.MULTILINE | re.DOTALL)
            parts.append(match.group(0) if match else "")
    return "\n".join(parts)


def test_every_setting_is_documented():
    doc = _settings_text()
    documented = set(re.findall(r"^\| `([A-Za-z0-9.]+)` \|", doc, re.MULTILINE))
    assert documented == set(_keys())
    # Every registered IdP's section is there, key for key (its discriminator idp comes from the top level).
    for idp in idps.IDPS:
        assert {k for k in documented if k.startswith(f"{idp.name}.")} == {
            f"{idp.name}.{k}" for k in _fields(section_fields(idp.settings))}


STACKS = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))


def test_there_are_stack_files():
    assert STACKS


@pytest.mark.parametrize("path", STACKS, ids=lambda p: p.name)
def test_every_committed_stack_file_parses(path: Path):
    stack = path.name[len("Pulumi."):-len(".yaml")]
    cfg = load_stack_config(ROOT, stack)
    settings = parse_settings(cfg.config, cfg.secret_keys)
    assert settings.institution.code
    # Comments and examples in stack files must not carry credentials in plain text.
    raw = yaml.safe_load(path.read_text())["config"]
    assert not any(re.search(r"secret|password|token", k, re.I) and not isinstance(v, dict) for k, v in raw.items())


# -- limits: every limit the model enforces is stated in the row's type column ---------------------


def _fields(fields: dict[str, Any] | None = None, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> field, for every leaf setting under ``fields`` (default: the stack file's top level)."""
    out: dict[str, Any] = {}
    for alias, field in (stack_file_fields() if fields is None else fields).items():
        key = prefix + alias
        nested = [a for a in (getattr(field.annotation, "__args__", ()) or (field.annotation,))
                  if isinstance(a, type) and issubclass(a, BaseModel)]
        if nested:
            out.update(_fields(section_fields(nested[0]), key + "."))
        else:
            out[key] = field
    return out


def limits(field: Any) -> list[str]:
    """The limits pydantic enforces for a field, as text: numbers (min/max length, ge/le) and patterns; list
    items' own constraints included."""
    found: list[str] = []

    def collect(metadata: Any) -> None:
        for m in metadata:
            for attr in ("min_length", "max_length", "ge", "le", "gt", "lt"):
                value = getattr(m, attr, None)
                if value is not None and not (attr == "min_length" and value == 0):
                    found.append(str(value))
            pattern = getattr(m, "pattern", None)
            if pattern is not None:
                found.append(pattern.removeprefix("^").removesuffix("$"))

    collect(field.metadata)
    for arg in getattr(field.annotation, "__args__", ()) or ():
        collect(getattr(arg, "__metadata__", ()))
        for inner in getattr(arg, "__metadata__", ()):
            collect(getattr(inner, "metadata", ()))
    return found


def _rows() -> list[tuple[str, str]]:
    return re.findall(r"^\| `([A-Za-z0-9.]+)` \| (.*?) \| ", _settings_text(), re.MULTILINE)


def test_every_limit_of_the_model_is_in_the_docs():
    fields = _fields()
    missing = []
    for key, type_column in _rows():
        text = type_column.replace("\\|", "|")
        numbers = set(re.findall(r"\d+", re.sub(r"(?<=\d)[,_ ](?=\d{3}\b)", "", text)))
        for limit in limits(fields[key]):
            if not (limit in numbers if limit.isdigit() else f"`{limit}`" in text):
                missing.append(f"{key}: {limit}")
    assert missing == []


def test_the_limit_check_sees_patterns_sizes_and_ranges():
    fields = _fields()
    assert limits(fields["institution.code"]) == ["[a-z][a-z0-9]{1,11}"]
    assert limits(fields["api.lambdaMemoryMb"]) == ["128", "3008"]
    assert limits(fields["scopes"]) == ["1", "20"]
    assert "10" in limits(fields["clientSecret.readers"])
    assert any(x.startswith("arn:aws") for x in limits(fields["clientSecret.readers"]))
    assert len(limits(fields["auth0.domain"])) == 3  # 3-253 characters and the DNS pattern


def test_extra_cidr_limits_are_documented():
    from components.settings.stack import MAX_PREFIX

    row = dict(_rows())["allowlist.extraCidrs"]
    doc = _settings_text()
    assert "50" in row and all(f"/{n}" in doc for n in MAX_PREFIX.values())


def test_pattern_fields_carry_an_example():
    """Error messages show an example (Field.examples) for a pattern mismatch: every pattern field has one."""
    from components.settings import base, stack

    owned = {base.__name__, stack.__name__, *(idp.settings.__module__ for idp in idps.IDPS)}
    without = []
    for key, field in _fields().items():
        patterns = [x for x in limits(field) if not x.isdigit()]
        owner = next((m.__module__ for m in _models_of(key)), "")
        if patterns and owner in owned and not (field.examples or _item_examples(field)):
            without.append(key)
    assert without == []


def _models_of(key: str) -> list[type[BaseModel]]:
    from components.settings import StackSettings

    model: Any = StackSettings
    fields = stack_file_fields()
    out = [model]
    for part in key.split(".")[:-1]:
        model = next(a for a in (getattr(fields[part].annotation, "__args__", ()) or (fields[part].annotation,))
                     if isinstance(a, type) and issubclass(a, BaseModel))
        fields = section_fields(model)
        out.append(model)
    return out[-1:]


def _item_examples(field: Any) -> list[Any]:
    for arg in getattr(field.annotation, "__args__", ()) or ():
        for inner in getattr(arg, "__metadata__", ()):
            if getattr(inner, "examples", None):
                return list(inner.examples)
    return []


_MTLS = re.compile(r"mtls|mutual tls|customDomain", re.IGNORECASE)


def test_no_doc_calls_mtls_optional_without_saying_prod_requires_it():
    """#19: the docs called mTLS optional while a prod stack fails API-MTLS-PROD without it. Wherever a line of the
    README or docs/ calls mTLS (or the custom domain that carries it) optional, it also says prod requires it."""
    from readiness.checklist import all_rules

    assert "API-MTLS-PROD" in {r.id for r in all_rules()}
    offenders = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if _MTLS.search(line) and re.search(r"\boptional\b", line, re.IGNORECASE) and not re.search(
                    r"required in prod|prod(uction)? (stack )?(requires|fails)", line, re.IGNORECASE):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == [], "say that prod requires mTLS (API-MTLS-PROD) next to 'optional':\n" + "\n".join(offenders)
