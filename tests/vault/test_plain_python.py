"""The vault is plain Python: importing it must not import Dagster."""

from __future__ import annotations

import subprocess
import sys


def test_the_vault_does_not_import_dagster() -> None:
    code = (
        "import sys, warroom_pipelines.vault.manager, warroom_pipelines.vault.keyring; "
        "sys.exit('dagster' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
