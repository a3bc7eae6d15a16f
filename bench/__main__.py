"""`python -m bench [NAME ...]`: run the named benchmarks (all by default) and report figures.

With more than one name, each benchmark runs in its own Python process: several of them call
`django.setup()` against their own database and export DATABASE_URL, and that must not leak
into the next one (the admin bench once seeded the Web3 bench's database). A benchmark that
fails does not stop the others; the run exits non-zero naming it, after the summary.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from bench.summary import print_summary

BENCHMARKS = {
    "sandbox": "bench.sandbox_create",
    "orders": "bench.orders_create",
    "web3": "bench.web3_completion",
    "admin": "bench.admin_changelist",
    "webhooks": "bench.webhook_intake",
    "worker": "bench.worker_drain",
}


def run_one(name: str) -> None:
    """Run benchmark `name` in this process (it may call django.setup())."""
    module = importlib.import_module(BENCHMARKS[name])
    print(f"== bench {name}: {module.__doc__.strip().splitlines()[0]}", flush=True)
    module.main()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run")
    parser.add_argument("--no-summary", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    if len(names) == 1:
        run_one(names[0])
        if not args.no_summary:
            print_summary(names)
        return 0
    failed = []
    for name in names:
        command = [sys.executable, "-m", "bench", name, "--no-summary"]
        if subprocess.run(command, check=False).returncode != 0:
            failed.append(name)
            print(f"== bench {name} FAILED; going on with the others", file=sys.stderr, flush=True)
    print_summary([name for name in names if name not in failed])
    if failed:
        print(f"bench: failed: {' '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
