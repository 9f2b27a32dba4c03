"""Serving needs no training dependency: the app imports nothing from PyTorch or onnx."""

from __future__ import annotations

import subprocess
import sys


def test_the_app_imports_neither_torch_nor_onnx() -> None:
    code = (
        "import sys, app.main, app.services;"
        "print(sorted(m for m in ('torch', 'onnx', 'ranking.training') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert result.stdout.strip() == "[]"
