"""The README's first command, end to end (slow: a real search on digits)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"


@pytest.mark.slow
def test_quickstart_reaches_the_accuracy_floor_and_ends_with_json():
    result = subprocess.run([sys.executable, str(QUICKSTART)], capture_output=True, text=True, timeout=600,
                            check=True)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"test_accuracy", "trials", "seconds"} <= set(summary)
    assert summary["trials"] >= 1
    assert summary["test_accuracy"] >= 0.97
