"""Wall-clock of quick `warroom` commands, each a fresh process (as a user types them).

uv run python bench/cli_latency.py --repeat 5

Registers a few brands in a temporary Dagster home first, so that `brands list` reads a real
registry. Prints the median and the slowest of each command, and `import dagster` alone for
scale (the floor of any command that needs Dagster).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = (
    ["--help"],
    ["brands", "--help"],
    ["brands", "list"],
    ["sql", "--format", "csv", "SELECT 42 AS answer"],
)


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--brands", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DAGSTER_HOME": home, "WARROOM_PROFILE": "local"}
        env.pop("WARROOM_DUCKDB_PATH", None)
        brands = [f"brand-{n:03d}" for n in range(args.brands)]
        warroom = [sys.executable, "-m", "warroom_pipelines.cli"]
        subprocess.run(
            [*warroom, "brands", "add", *brands], env=env, check=True, capture_output=True
        )
        cases = [(f"warroom {' '.join(c)}", [*warroom, *c]) for c in COMMANDS]
        cases.append(("python -c 'import dagster'", [sys.executable, "-c", "import dagster"]))
        print(f"| command | median s | max s |  ({args.repeat} runs, {args.brands} brands)")
        print("| --- | ---: | ---: |")
        for name, argv in cases:
            seconds = [timed(argv, env) for _ in range(args.repeat)]
            print(f"| `{name}` | {statistics.median(seconds):.2f} | {max(seconds):.2f} |")


if __name__ == "__main__":
    main()
