"""The documentation site (mkdocs.yml: docs/ and the API reference from the docstrings) builds
with `mkdocs build --strict`, and a broken reference or link makes that build fail."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def build(root, site):
    """`mkdocs build --strict` of the mkdocs.yml in `root` into `site`; the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(root / "mkdocs.yml"),
         "--site-dir", str(site)],
        cwd=root, capture_output=True, text=True, timeout=300)


def test_docs_build_strict(tmp_path):
    result = build(ROOT, tmp_path / "site")
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    estimators = (tmp_path / "site" / "api" / "estimators" / "index.html").read_text()
    assert 'id="autonas.ImageSearchClassifier.fit"' in estimators  # rendered from the docstrings
    assert 'id="autonas.cli.main.main"' in (tmp_path / "site" / "api" / "cli" / "index.html").read_text()


@pytest.mark.parametrize("line, error", [
    ("::: autonas.does_not_exist", "Could not collect 'autonas.does_not_exist'"),
    ("[gone](../no-such-page.md)", "contains a link '../no-such-page.md'"),
    ("[gone][autonas.does_not_exist]", "Could not find cross-reference target 'autonas.does_not_exist'"),
    ("[gone](../../NO_SUCH_FILE.md)", "contains a link '../../NO_SUCH_FILE.md'"),  # out of docs/
])
def test_docs_build_fails_on_a_broken_reference(tmp_path, line, error):
    checkout = tmp_path / "checkout"  # the checkout, with a copy of docs/ to break
    checkout.mkdir()
    for path in ROOT.iterdir():
        if path.name not in {"docs", ".git", ".venv"}:
            (checkout / path.name).symlink_to(path)
    shutil.copytree(ROOT / "docs", checkout / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    with open(checkout / "docs" / "api" / "layers.md", "a") as page:
        page.write(f"\n{line}\n")
    result = build(checkout, tmp_path / "site")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert error in output
    assert "Aborted with 1 warnings" in output or "Aborted with a BuildError" in output  # that one, no other
