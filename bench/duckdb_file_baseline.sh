#!/bin/bash
# The "DuckDB file" side of the issue-16 comparison: this checkout's code with the local
# warehouse as it was before the DuckLake (one DuckDB file, duckdb 2.0.1), so that the two
# sides differ only in the warehouse. The benches then run in both folders (bench/RESULTS.md).
#
#   bash bench/duckdb_file_baseline.sh COMMIT FOLDER     e.g. HEAD /tmp/duckdb-file
#
# The old warehouse (bf4db59^) gets only what today's callers and the benches need: `connect`
# accepts `state` (the delivery log is a table of the same file there) and `LakeFiles.copy_to`
# copies the one file.
set -euo pipefail
commit=$1
folder=$2
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
mkdir -p "$folder"
git -C "$repo" archive "$commit" | tar -x -C "$folder"
git -C "$repo" show bf4db59^:warroom_pipelines/warehouse/local.py >"$folder/warroom_pipelines/warehouse/local.py"
cd "$folder"
python3 - <<'EOF'
from pathlib import Path

local = Path("warroom_pipelines/warehouse/local.py")
text = local.read_text()
text = text.replace(
    "    def connect(self, *, read_only: bool | None = None) -> Iterator[duckdb.DuckDBPyConnection]:",
    "    def connect(\n        self, *, read_only: bool | None = None, state: bool = False\n"
    "    ) -> Iterator[duckdb.DuckDBPyConnection]:",
)
text = text.replace(
    "def _slice_frame(",
    '''class LakeFiles:
    def __init__(self, catalog: str | Path) -> None:
        self.catalog = Path(catalog).resolve()

    def copy_to(self, catalog: str | Path) -> "LakeFiles":
        import shutil

        target = LakeFiles(catalog)
        shutil.copyfile(self.catalog, target.catalog)
        return target


def analyst_connection(files: LakeFiles) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(files.catalog), read_only=True)


def _slice_frame(''',
)
local.write_text(text)
project = Path("pyproject.toml")
lines = project.read_text().splitlines(keepends=True)
kept = [line for line in lines if '"duckdb-cli==' not in line and '"duckdb-extension-' not in line]
project.write_text("".join(kept).replace('"duckdb==1.5.5"', '"duckdb==2.0.1"'))
EOF
python3 -m uv sync -q
python3 -m uv run python -c "import duckdb; print('DuckDB-file baseline in', '$folder', 'duckdb', duckdb.__version__)"
