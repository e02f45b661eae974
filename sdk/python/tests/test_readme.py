"""The README's example, run as written against the live gateway (only the
address is replaced)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import Gateway

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(gateway: Gateway, tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "README.md has no python example"
    code = blocks[0]
    assert "127.0.0.1:8080" in code
    script = tmp_path / "readme_example.py"
    script.write_text(code.replace("127.0.0.1:8080", gateway.target))
    env = {**os.environ, "SWITCHYARD_API_KEY": gateway.api_key}
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("Simulated reply from sim-small") and lines[0].endswith("via sim")
    assert lines[1].startswith("Simulated reply from sim-small")
