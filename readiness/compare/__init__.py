"""``plaid-ready plan --stack NAME --compare BASE``: what a change does to Plaid, for a reviewer.

BASE is a git revision of the project (``main``, ``origin/main``, ``HEAD~1``, a SHA) or a file saved
earlier with ``plaid-ready plan --json``. The head is the project directory as it is now (the working
tree, uncommitted changes included).

How the two plans are made, so the comparison never touches the user's tree and costs about one plan:

- the base revision is materialised with ``git archive <rev> | tar -x`` into a temporary directory (no
  worktree, no index, no checkout). It gets its **own** Lambda package cache (``.build``), seeded by
  copying the project's cached packages, so a package whose sources did not change is not rebuilt and
  nothing the base runs writes the project's cache;
- each side runs its *own* ``plaid-ready plan --json`` in a subprocess, with its directory as the working
  directory and first on ``PYTHONPATH`` (this process may already have imported the head's modules, and
  the base's ``components``/``plaid_contract`` must win in the base's run);
- **the other revision is untrusted code**: planning it runs its ``__main__.py`` and components. Both
  subprocesses get an allow-listed environment (:func:`plan_environment`: PATH, HOME, locale, temporary
  directory, the Python and pip settings an offline run needs), never the caller's credentials (no
  ``AWS_*``, ``*_TOKEN``, ``*_SECRET*``, ``PULUMI_*`` but the one offline switch, ``GITHUB_*``, provider
  config such as ``AUTH0_*``/``OKTA_*``). Compare only against revisions you would run;
- both subprocesses run at once (on a first run, when the package cache is empty, the head runs first so
  the package is built once).

``--head FILE`` (for CI's trusted comparison) takes the head side from a plan saved with ``plan --json``
instead of planning this checkout: the comparison then runs only this checkout's tools, on a base it
plans itself and a head that is data. A stack the base does not have is a **new stack**: every
resource is a create, the readiness table is its verdict, nothing is said to break Plaid (exit 0 or 1).

The two ``plan --json`` documents (any format version) are read into one model
(``readiness.compare.model``) and diffed: Plaid impact first (``readiness.compare.plaid``), then
readiness rules whose status changed, then resource changes with replacements predicted from the
providers' create-only fields (``readiness.compare.replace``).

Modules: ``planning`` (the two plans: git archive, the sandboxed subprocesses, saved files), ``model`` (a plan
document read into one model, the resource and output diffs), ``plaid`` (the Plaid impact), ``replace`` (the
providers' create-only fields), ``changes`` (the diff and its exit code), ``render`` (text, markdown, json),
``command`` (the whole ``plan --compare``).

Exit codes: 0 nothing breaks Plaid and no rule newly fails; 1 a mandatory readiness rule newly fails
(wins over 4: a failing rule is not something a label can acknowledge); 4 a Plaid-breaking change (so CI
can require an explicit label); 2 usage errors (bad revision or file, a stack the base does not have,
invalid settings); 3 a plan crashed (a bug).
"""

from readiness.compare.changes import Comparison, RuleChange, compare_plans
from readiness.compare.command import comparison, run
from readiness.compare.planning import HEAD_LABEL, CompareError, Plans, plan_environment, plans
from readiness.compare.render import FORMATS, RENDER, render_json, render_markdown, render_text

__all__ = ["FORMATS", "HEAD_LABEL", "RENDER", "CompareError", "Comparison", "Plans", "RuleChange", "compare_plans",
           "comparison", "plan_environment", "plans", "render_json", "render_markdown", "render_text", "run"]
