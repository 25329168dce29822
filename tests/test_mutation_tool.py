"""tools/mutation.py (`make mutation`): when mutmut stops at "Failed to run clean test" (its output lost with the
forked child that ran the tests), the same tests are run again as mutmut ran them and the failing test is named in
the log; a group whose mutated files change starts over (mutmut would leave an added file unmutated)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from tests.harness import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import mutation  # noqa: E402


def group(tests: list[str]) -> mutation.Group:
    return mutation.Group("demo", "a demo", ["x.py"], tests, [], "fork", False)


@pytest.mark.e2e  # runs pytest in a subprocess
@pytest.mark.parametrize(("body", "code", "says"), [
    ("def test_the_planted_failure():\n    assert 1 == 2\n", 1, "the failure is in the log"),
    ("def test_fine():\n    assert True\n", 0, "the first run's output is lost"),
])
def test_the_clean_test_is_run_again_into_the_log(tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str,
                                                  code: int, says: str) -> None:
    (tmp_path / "mutants" / "tests").mkdir(parents=True)
    (tmp_path / "mutants" / "tests" / "test_demo.py").write_text(body)
    out = tmp_path / "log.txt"
    with out.open("w") as handle:
        mutation.clean_test_again(group(["tests/test_demo.py"]), tmp_path, dict(os.environ), handle)
    text = out.read_text()
    assert "--- Failed to run clean test: the same tests again" in text
    assert "-x -q -p no:randomly -p no:random-order tests/test_demo.py -p no:cacheprovider --capture=no" in text
    assert ("test_the_planted_failure" in text and "assert 1 == 2" in text) if code else "1 passed" in text
    err = capsys.readouterr().err
    assert f"pytest exited {code}" in err and says in err


def test_mutmuts_clean_test_message_is_the_one_looked_for() -> None:
    spec = importlib.util.find_spec("mutmut")
    if spec is None or spec.origin is None:
        pytest.skip("mutmut is not installed (make mutation installs it)")
    source = (Path(spec.origin).parent / "__main__.py").read_text()
    assert f'print("{mutation.CLEAN_TEST_FAILED}")' in source


def test_a_group_whose_files_change_starts_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mutmut never mutates a file it already copied unmutated: a file added to a group must not stay unmutated."""
    monkeypatch.setattr(mutation, "WORK", tmp_path)
    first = mutation.Group("demo", "a demo", ["lambdas/oidc_checks/model.py"], ["tests/x.py"], [], "fork", False)
    work = mutation.prepare(first)
    (work / "mutants").mkdir()
    assert mutation._only_mutate((work / "setup.cfg").read_text()) == ["lambdas/oidc_checks/model.py"]
    mutation.prepare(mutation.Group("demo", "a demo", first.mutate, ["tests/x.py", "tests/y.py"], [], "fork", False))
    assert (work / "mutants").is_dir()  # new tests: mutmut itself starts over where it must
    mutation.prepare(mutation.Group("demo", "a demo", [*first.mutate, "lambdas/oidc_checks/keys.py"], ["tests/x.py"],
                                    [], "fork", False))
    assert not (work / "mutants").exists()
    assert mutation._only_mutate((work / "setup.cfg").read_text()) == [
        "lambdas/oidc_checks/model.py", "lambdas/oidc_checks/keys.py"]
