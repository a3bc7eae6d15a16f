"""`python -m bench [NAME ...]`: run the named benchmarks (all by default) and report figures."""

from __future__ import annotations

import argparse
import importlib
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        print(f"== bench {name}: {module.__doc__.strip().splitlines()[0]}", flush=True)
        module.main()
    print_summary(names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
