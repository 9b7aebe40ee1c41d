"""The wheel (`pip wheel . --no-deps`) holds the API and the data it reads at run time (the catalogue, every
migration) and nothing of dev/ (the Stripe and Resend doubles, the static-site server) or of the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import build

ROOT = Path(build.__file__).resolve().parent
SKIP = shutil.ignore_patterns(".git", ".venv", "output", "var", "test-results", "build", "*.egg-info", "__pycache__")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    # Built from a copy, so the build's own directories never land in the working tree; without build isolation,
    # so no index is needed (the environment has setuptools).
    source = tmp_path_factory.mktemp("source") / "tree"
    shutil.copytree(ROOT, source, ignore=SKIP)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("ghostshell_registry-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_holds_the_api_and_its_data(wheel):
    names = set(wheel.namelist())
    assert "api/__init__.py" in names and "api/definition.py" in names and "api/resources/pages.py" in names
    assert "api/catalogue.json" in names
    migrations = {path.name for path in (ROOT / "api" / "migrations").glob("*.sql")}
    assert migrations and {f"api/migrations/{name}" for name in migrations} <= names


def test_the_wheel_holds_nothing_of_dev_or_the_tests(wheel):
    top = {name.split("/", 1)[0] for name in wheel.namelist()}
    assert {name for name in top if not name.endswith(".dist-info")} == {"api"}
    assert not any(name.startswith(("dev/", "tests/", "site/")) for name in wheel.namelist())
