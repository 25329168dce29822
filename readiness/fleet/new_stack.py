"""``plaid-ready new-stack``: write a stack file for an institution, with its own values and clearly marked
placeholders (``FILL-IN: <what>``) for what only a person knows (the IdP tenant: each IdP's settings say
which of its keys, ``IdpSettings.new_stack_section``; the deploying role, the audience,
the on-call address, a prod custom domain). The settings refuse a placeholder with its hint, so ``plan`` says
exactly what is left to fill. Never overwrites a file.

    plaid-ready new-stack NAME --idp IDP --institution CODE --institution-name NAME
                           [--environment dev|prod] [--region R] [--from-example]
    plaid-ready new-stack --from-csv FILE         (columns: stack, idp, institution, institution_name, and
                                                   optionally environment, region)
"""

from __future__ import annotations

import copy
import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components import idps
from components.settings.base import PLACEHOLDER, PROJECT

_STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_CODE = re.compile(r"^[a-z][a-z0-9]{1,11}$")
ENVIRONMENTS = ("dev", "staging", "prod")
CSV_COLUMNS = ("stack", "idp", "institution", "institution_name")

#: What a person must fill, by key path in the stack file's project namespace (the hint follows FILL-IN:).
FILL = {
    "audience": "your API's identifier, the aud of Plaid's access tokens, e.g. https://api.<your-domain>/fdx",
    "administrator": "the IAM role ARN that runs pulumi up, e.g. arn:aws:iam::<account>:role/<deployer>",
    "reader": "an IAM role ARN that may read Plaid's client secret (or remove the readers list)",
    "email": "the on-call e-mail address for the API's alarms",
    "domainName": "the API's custom domain, e.g. fdx.<your-domain>",
    "certificateArn": "the ACM certificate ARN of that domain, in the stack's region",
    "truststoreUri": "the S3 URI of the mTLS truststore holding Plaid's CA, s3://<bucket>/<key>.pem",
    "truststoreVersion": "the S3 object version of that truststore",
}


class NewStackError(Exception):
    """A usage problem (exit 2): one line each in ``problems``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Request:
    stack: str
    idp: str
    institution: str
    institution_name: str
    environment: str = "dev"
    region: str = "us-east-1"

    def problems(self, where: str = "") -> list[str]:
        out = []
        if not _STACK_NAME.match(self.stack):
            out.append(f"{where}stack name: letters, digits, '-', '_' or '.', at most 100, starting with a letter "
                       "or digit")
        if self.idp not in idps.names():
            out.append(f"{where}idp: one of {', '.join(idps.names())}")
        if not _CODE.match(self.institution):
            out.append(f"{where}institution: the institution code, 2-12 lowercase letters/digits starting with a "
                       "letter, e.g. fpb")
        if not 2 <= len(self.institution_name.strip()) <= 100:
            out.append(f"{where}institution name: 2-100 characters, e.g. 'First Platypus Bank'")
        if self.environment not in ENVIRONMENTS:
            out.append(f"{where}environment: one of {', '.join(ENVIRONMENTS)}")
        if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", self.region):
            out.append(f"{where}region: an AWS region, e.g. us-east-1")
        return out


def stack_directory(project_dir: Path) -> Path:
    """Where the project keeps its stack files (``stackConfigDir`` in Pulumi.yaml)."""
    from readiness.plan import UsageError
    from readiness.plan.stack import _project

    try:
        return _project(project_dir)[1]
    except UsageError as exc:
        raise NewStackError([str(exc)]) from None


def _fill(what: str) -> str:
    return f"{PLACEHOLDER} {FILL[what]}"


def _example(project_dir: Path, idp: str, environment: str) -> dict[str, Any]:
    stacks = stack_directory(project_dir)
    for name in ([f"{idp}-prod"] if environment == "prod" else []) + [f"{idp}-example"]:
        path = stacks / f"Pulumi.{name}.yaml"
        if path.is_file():
            doc = yaml.safe_load(path.read_text()) or {}
            return copy.deepcopy(doc.get("config") or {})
    raise NewStackError([f"--from-example: no example stack for {idp} in {stacks} (Pulumi.{idp}-example.yaml)"])


def render(req: Request, example: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``config:`` mapping of the new stack: the example's shape (or the minimal one) with the institution's
    values and placeholders."""
    p = f"{PROJECT}:"
    cfg: dict[str, Any] = {"aws:region": req.region} if example is None else {**example, "aws:region": req.region}
    cfg[f"{p}environment"] = req.environment
    cfg[f"{p}idp"] = req.idp
    cfg[f"{p}institution"] = {"name": req.institution_name.strip(), "code": req.institution}
    cfg[f"{p}audience"] = _fill("audience")
    secret = {"administrators": [_fill("administrator")]}
    if example is not None and (example.get(f"{p}clientSecret") or {}).get("readers"):
        secret["readers"] = [_fill("reader")]
    cfg[f"{p}clientSecret"] = secret
    section: dict[str, Any] = dict((example or {}).get(f"{p}{req.idp}") or {})
    cfg[f"{p}{req.idp}"] = idps.by_name(req.idp).settings.new_stack_section(section, req.institution,
                                                                            req.environment)
    api = (example or {}).get(f"{p}api")
    if isinstance(api, dict):
        api = copy.deepcopy(api)
        domain = api.get("customDomain")
        if isinstance(domain, dict):
            domain["domainName"], domain["certificateArn"] = _fill("domainName"), _fill("certificateArn")
            if isinstance(domain.get("mtls"), dict):
                domain["mtls"] = {"truststoreUri": _fill("truststoreUri"),
                                  "truststoreVersion": _fill("truststoreVersion")}
        cfg[f"{p}api"] = api
    if req.environment == "prod" and not isinstance((cfg.get(f"{p}api") or {}).get("customDomain"), dict):
        # Prod needs Plaid's mTLS (API-MTLS-PROD), which needs a custom domain.
        cfg[f"{p}api"] = {**(cfg.get(f"{p}api") or {}), "customDomain": {
            "domainName": _fill("domainName"), "certificateArn": _fill("certificateArn"),
            "mtls": {"truststoreUri": _fill("truststoreUri"), "truststoreVersion": _fill("truststoreVersion")}}}
    cfg[f"{p}alarms"] = {**((example or {}).get(f"{p}alarms") or {}), "email": _fill("email")}
    return cfg


HEADER = ("# Written by `plaid-ready new-stack` for {name} ({code}), {env}, on {idp}.\n"
          "# Every value starting with FILL-IN: is a placeholder: replace it (the text after it says with what).\n"
          "# `plaid-ready plan --stack {stack}` lists the ones left; docs/settings.md describes every key.\n")


def write(project_dir: Path, requests: Sequence[Request], from_example: bool) -> list[Path]:
    """Write one stack file per request; refuses (writing none) if any is invalid or any file exists."""
    stacks_dir = stack_directory(project_dir)
    problems: list[str] = []
    seen: set[str] = set()
    for req in requests:
        where = f"{req.stack}: " if len(requests) > 1 else ""
        problems += req.problems(where)
        path = stacks_dir / f"Pulumi.{req.stack}.yaml"
        if path.exists():
            problems.append(f"{path.relative_to(project_dir)} exists; new-stack never overwrites a stack file: "
                            "choose another name, or edit that file")
        if req.stack in seen:
            problems.append(f"stack '{req.stack}' is requested twice")
        seen.add(req.stack)
    if problems:
        raise NewStackError(problems)
    written = []
    for req in requests:
        cfg = render(req, _example(project_dir, req.idp, req.environment) if from_example else None)
        path = stacks_dir / f"Pulumi.{req.stack}.yaml"
        text = HEADER.format(name=req.institution_name.strip(), code=req.institution, env=req.environment,
                             idp=req.idp, stack=req.stack)
        text += yaml.safe_dump({"config": cfg}, sort_keys=False, allow_unicode=True, width=120)
        stacks_dir.mkdir(parents=True, exist_ok=True)
        with path.open("x") as f:  # "x": never overwrite, even if the file appeared meanwhile
            f.write(text)
        written.append(path)
    return written


def read_csv(path: Path) -> list[Request]:
    """Requests from a CSV of institutions (header row: stack, idp, institution, institution_name[, environment,
    region])."""
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
            header = rows[0].keys() if rows else []
    except OSError as exc:
        raise NewStackError([f"--from-csv {path}: cannot read it ({exc.strerror or exc})"]) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise NewStackError([f"--from-csv {path}: not a CSV file ({exc})"]) from None
    if not rows:
        raise NewStackError([f"--from-csv {path}: no rows (expected a header row {', '.join(CSV_COLUMNS)} and one "
                             "row per stack)"])
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise NewStackError([f"--from-csv {path}: missing column(s) {', '.join(missing)} (expected "
                             f"{', '.join(CSV_COLUMNS)}, optionally environment, region)"])
    out = []
    for i, row in enumerate(rows, start=2):
        if None in row:
            raise NewStackError([f"--from-csv {path}: row {i} has more fields than the header"])
        values = {k: (v or "").strip() for k, v in row.items()}
        out.append(Request(stack=values["stack"], idp=values["idp"], institution=values["institution"],
                           institution_name=values["institution_name"],
                           environment=values.get("environment") or "dev",
                           region=values.get("region") or "us-east-1"))
    return out
