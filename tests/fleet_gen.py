"""A test fleet: N stacks over all three IdPs, dev and prod, made from the example stacks (stacks/).

Stack ``i`` belongs to institution ``i // 2`` (code ``i0000``, ``i0001``, ...), is its dev (even ``i``) or prod
(odd ``i``) stack, on the IdP ``IDPS[(i // 2) % 3]``. Every generated stack is valid and ready on its own, and the
fleet passes every fleet rule: each institution has its own code, domains, IdP tenant per environment and names.
Tests plant collisions by editing the returned settings and rewriting a stack (:func:`write_stack`).

    project = fleet_project(tmp_path)            # a project directory whose program is this checkout's
    names = generate_fleet(project, 12)
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
STACKS = ROOT / "stacks"
PROJECT = "plaid-ready-idp"
IDPS = ("auth0", "okta", "cognito")
#: The example each (IdP, environment) starts from; Cognito has no prod example: its dev one, made prod below.
TEMPLATES = {("auth0", "dev"): "auth0-example", ("auth0", "prod"): "auth0-prod", ("okta", "dev"): "okta-example",
             ("okta", "prod"): "okta-prod", ("cognito", "dev"): "cognito-example",
             ("cognito", "prod"): "cognito-example"}


def fleet_project(directory: Path) -> Path:
    """A project directory running this checkout's program (links to it) with an empty ``stacks/``."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Pulumi.yaml", directory / "Pulumi.yaml")
    for name in ("__main__.py", "components", "lambdas", "plaid_contract"):
        link = directory / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    (directory / "stacks").mkdir(exist_ok=True)
    return directory


def _template(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((STACKS / f"Pulumi.{name}.yaml").read_text())
    return copy.deepcopy(doc["config"])


def stack_config(i: int) -> tuple[str, dict[str, Any]]:
    """The name and ``config:`` mapping of generated stack ``i``."""
    k, env = i // 2, ("dev", "prod")[i % 2]
    idp = IDPS[k % 3]
    code = f"i{k:04d}"
    host = f"{code}.example"
    cfg = _template(TEMPLATES[(idp, env)])
    p = f"{PROJECT}:"
    cfg[f"{p}environment"] = env
    cfg[f"{p}institution"] = {"name": f"Institution {k:04d} Credit Union", "code": code}
    cfg[f"{p}audience"] = f"https://api.{host}/fdx"
    cfg[f"{p}clientSecret"] = {"administrators": [f"arn:aws:iam::111122223333:role/{code}-{env}-pulumi-deployer"],
                               "readers": [f"arn:aws:iam::111122223333:role/{code}-plaid-onboarding"]}
    cfg[f"{p}alarms"] = {"email": f"oncall@{host}"}
    if idp == "auth0":
        cfg[f"{p}auth0"] = {"domain": f"{code}-{env}.us.auth0.com"}
    elif idp == "okta":
        section = cfg[f"{p}okta"]
        section["orgUrl"] = f"https://{code}-{env}.okta.com"
        if "customDomain" in section:
            section["customDomain"] = f"login.{host}"
    else:
        section = cfg[f"{p}cognito"]
        section["domainPrefix"] = f"{code}-{env}"
        if env == "prod":
            cfg[f"{p}api"] = copy.deepcopy(_template("auth0-prod")[f"{p}api"])
    api = cfg.get(f"{p}api")
    if isinstance(api, dict) and "customDomain" in api:
        api["customDomain"]["domainName"] = f"fdx.{host}"
    return f"{code}-{env}", cfg


def write_stack(project: Path, name: str, config: dict[str, Any]) -> Path:
    path = project / "stacks" / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


def generate_fleet(project: Path, n: int) -> list[str]:
    """Write ``n`` generated stacks into ``project``'s stack directory; returns their names."""
    names = []
    for i in range(n):
        name, cfg = stack_config(i)
        write_stack(project, name, cfg)
        names.append(name)
    return names
