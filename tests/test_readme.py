"""README's Python blocks run as written (the newcomer's first contact with the API).

Blocks fenced as ``python`` are whole programs and run here; fragments that need a model
of your own are fenced as ``py``.
"""

from __future__ import annotations

import os
import re

import pytest

README = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")


def _python_blocks() -> list[str]:
    with open(README, encoding="utf-8") as f:
        return re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_readme_python_block_runs(index: int, capsys: pytest.CaptureFixture) -> None:
    exec(compile(_python_blocks()[index], f"README.md block {index}", "exec"), {})
    assert capsys.readouterr().out  # every block prints what it shows
