"""The durable call log: one file per UTC day, appended, pruned, capped, never failing a call."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from campaigns.calllog import DailyAppendFile

DAY = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def log(settings, tmp_path):
    settings.PAYSVC_WEB3_LOG_DIR = str(tmp_path)
    writer = DailyAppendFile()
    yield writer
    writer.close()


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_day_has_its_own_file(log, tmp_path):
    log.write({"n": 1}, now=DAY)
    log.write({"n": 2}, now=DAY + dt.timedelta(hours=11, minutes=59))
    log.write({"n": 3}, now=DAY + dt.timedelta(hours=12))

    assert lines(tmp_path / "web3-20250310.log") == [{"n": 1}, {"n": 2}]
    assert lines(tmp_path / "web3-20250311.log") == [{"n": 3}]


def test_two_writers_append_to_the_same_file(log, tmp_path):
    other = DailyAppendFile()  # as another process would
    log.write({"n": 1}, now=DAY)
    other.write({"n": 2}, now=DAY)
    log.write({"n": 3}, now=DAY)
    other.close()

    assert lines(tmp_path / "web3-20250310.log") == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_files_older_than_the_retention_are_deleted(log, tmp_path, settings):
    settings.PAYSVC_WEB3_LOG_RETENTION_DAYS = 2
    (tmp_path / "web3-20250307.log").write_text("old\n")
    (tmp_path / "web3-20250308.log").write_text("kept\n")
    (tmp_path / "other.log").write_text("not ours\n")

    log.write({"n": 1}, now=DAY)

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "other.log",
        "web3-20250308.log",
        "web3-20250310.log",
    ]


def test_past_the_daily_cap_lines_are_dropped(log, tmp_path, settings):
    settings.PAYSVC_WEB3_LOG_MAX_MB_PER_DAY = 1
    log.write({"pad": "x" * (1024 * 1024 - 100)}, now=DAY)

    log.write({"n": 2, "pad": "y" * 200}, now=DAY)

    assert len(lines(tmp_path / "web3-20250310.log")) == 1


def test_a_failing_disk_does_not_fail_the_call(settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.PAYSVC_WEB3_LOG_DIR = str(blocker / "log")  # cannot be created

    DailyAppendFile().write({"n": 1}, now=DAY)  # no exception
