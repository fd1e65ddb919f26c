"""pyproject.toml and scripts/setup.sh: what a fresh machine installs."""
from __future__ import annotations

import re
import tomllib

from conftest import ROOT


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_requires_python_has_tomllib():
    assert re.fullmatch(r">=\s*3\.(\d+)", _project()["requires-python"].strip())
    assert int(re.search(r"3\.(\d+)", _project()["requires-python"]).group(1)) >= 11  # pipeline config: tomllib


def test_pytest_is_a_test_extra_not_a_runtime_dependency_and_setup_installs_it():
    proj = _project()
    assert not any(re.match(r"pytest\b", d) for d in proj["dependencies"])
    assert any(re.match(r"pytest\b", d) for d in proj["optional-dependencies"]["test"])
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert re.search(r'pip install [^\n]*-e "\$root\[test\]"', setup)
