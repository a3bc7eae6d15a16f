"""`python -m bench`: several benchmarks run one process each, and one failing spares the rest."""

import subprocess
import sys

import bench.__main__ as bench_main


def test_several_benchmarks_run_each_in_its_own_process_and_a_failure_is_reported(monkeypatch):
    commands: list[list[str]] = []
    summarised: list[list[str]] = []

    def fake_run(command, check):
        commands.append(command)
        return subprocess.CompletedProcess(command, 2 if command[3] == "web3" else 0)

    monkeypatch.setattr(bench_main.subprocess, "run", fake_run)
    monkeypatch.setattr(bench_main, "print_summary", summarised.append)
    monkeypatch.setattr(bench_main, "run_one", None)  # nothing runs in this process

    status = bench_main.main(["orders", "web3", "admin"])

    assert commands == [
        [sys.executable, "-m", "bench", name, "--no-summary"]
        for name in ("orders", "web3", "admin")
    ]
    assert summarised == [["orders", "admin"]]  # no stale figures for the one that failed
    assert status == 1


def test_one_benchmark_runs_in_this_process_with_its_summary(monkeypatch):
    ran: list[str] = []
    summarised: list[list[str]] = []
    monkeypatch.setattr(bench_main, "run_one", ran.append)
    monkeypatch.setattr(bench_main, "print_summary", summarised.append)
    monkeypatch.setattr(bench_main.subprocess, "run", None)  # must not be called

    assert bench_main.main(["admin"]) == 0
    assert ran == ["admin"] and summarised == [["admin"]]
    assert bench_main.main(["admin", "--no-summary"]) == 0
    assert summarised == [["admin"]]
