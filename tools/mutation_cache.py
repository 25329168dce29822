"""A pytest plugin for `make mutation` only (tools/mutation.py loads it with ``-p`` for groups that set
``cache_programs``): the Pulumi program's declarations, computed once per mutation run and read back from disk.

The readiness-rule tests run the real ``__main__.py`` under the mock engine, seconds per run; mutmut runs those
tests again for every mutant of a rule. The rules never run inside the program (the program imports an IdP's
rules with its package, through the registry, but only the checklist calls them), so a mutated rule cannot change
what the program declares: the declarations of the
first run are valid for every mutant of that run. The cache lives in $MUTATION_PROGRAM_CACHE, which
tools/mutation.py empties at the start of each run (a change to components/ is seen on the next run).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any

import readiness.engine

_CACHE = os.environ.get("MUTATION_PROGRAM_CACHE")
_real_run_program = readiness.engine.run_program


def _cached_run_program(program_dir: Path, project: str, stack: str, config: Any, secret_keys: list[str], *,
                        compute: bool = False, entry: Any = None) -> readiness.engine.ProgramRun:
    if entry is not None or not _CACHE:
        return _real_run_program(program_dir, project, stack, config, secret_keys, compute=compute, entry=entry)
    key = json.dumps([str(program_dir), project, stack, sorted(dict(config).items()), sorted(secret_keys), compute])
    path = Path(_CACHE) / (hashlib.sha256(key.encode()).hexdigest() + ".pickle")
    if path.is_file():
        cached = pickle.loads(path.read_bytes())  # noqa: S301 - written by this module in this run
        if isinstance(cached, readiness.engine.ProgramRun):
            return cached
    run = _real_run_program(program_dir, project, stack, config, secret_keys, compute=compute)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(pickle.dumps(run))
    tmp.replace(path)
    return run


readiness.engine.run_program = _cached_run_program
