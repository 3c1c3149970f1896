"""Commands timed in turn: the fair way to compare two versions of the code on a machine
whose speed moves from minute to minute (bench/README.md, "Grantees' files").

    .venv/bin/python bench/interleaved.py --runs 21 \\
        -- .venv/bin/python manage.py check_files --participants P --period 2025Q3 \\
        -- .venv/bin/python /tmp/before/manage.py check_files --participants P --period 2025Q3

Each run runs every command once, one after the other, from the project's directory,
their output discarded; it prints each command's median wall time (and the fastest) and
median CPU time (user + system, from wait4). An older version to compare with:
``git worktree add /tmp/before <commit>`` (its modules compiled as bench/run.py does:
``python -m compileall -q /tmp/before``).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, _, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    options, rest = parser.parse_known_args(argv)
    commands: list[list[str]] = []
    for word in rest:
        if word == "--":
            commands.append([])
        elif commands:
            commands[-1].append(word)
    commands = [command for command in commands if command]
    if not commands:
        parser.error("give each command after a --")
    walls: list[list[float]] = [[] for _ in commands]
    cpus: list[list[float]] = [[] for _ in commands]
    for _ in range(options.runs):
        for index, command in enumerate(commands):
            wall, cpu = timed(command)
            walls[index].append(wall)
            cpus[index].append(cpu)
    print(f"{options.runs} runs each, in turn; load average at the end: {os.getloadavg()[0]:.2f}")
    for command, wall, cpu in zip(commands, walls, cpus, strict=True):
        print(
            f"  wall {statistics.median(wall):.3f} s (fastest {min(wall):.3f})  "
            f"cpu {statistics.median(cpu):.3f} s  {' '.join(command)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
