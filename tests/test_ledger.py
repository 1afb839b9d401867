"""The committed ledger of finished runs (taskforget/ledger.py): what it reads back, what it
refuses, and two writers sharing one file."""
import multiprocessing

import pytest

from taskforget.ledger import Ledger


def test_a_run_is_read_back_only_under_its_key(tmp_path):
    ledger = Ledger(tmp_path / "runs.jsonl")
    ledger.put("delete_cat_seed0", "abc", dict(metrics={"H-Mean": 88.5}))
    assert ledger.get("delete_cat_seed0", "abc") == dict(metrics={"H-Mean": 88.5})
    assert ledger.get("delete_cat_seed0", "abd") is None  # other settings or weights
    assert ledger.get("delete_dog_seed0", "abc") is None
    # a dict key compares by content, not by the order of its items
    ledger.put("audit", dict(run="abc", settings=dict(k=[10, 100], seed=0)), dict(x=1))
    assert Ledger(tmp_path / "runs.jsonl").get(
        "audit", dict(settings=dict(seed=0, k=[10, 100]), run="abc")) == dict(x=1)
    # the same run under another key (another machine's original, say) is kept beside it;
    # the same name and key replaces; a returned record is a copy
    ledger.put("delete_cat_seed0", "abd", dict(metrics={"H-Mean": 90.0}))
    ledger.put("delete_cat_seed0", "abd", dict(metrics={"H-Mean": 91.0}))
    got = ledger.get("delete_cat_seed0", "abd")
    got["metrics"]["H-Mean"] = 0.0
    assert ledger.get("delete_cat_seed0", "abd")["metrics"]["H-Mean"] == 91.0
    assert Ledger(tmp_path / "runs.jsonl").get("delete_cat_seed0", "abc") == dict(
        metrics={"H-Mean": 88.5})
    assert len(ledger) == 3 and len((tmp_path / "runs.jsonl").read_text().splitlines()) == 3


def _write(path, start):
    ledger = Ledger(path)
    for i in range(start, start + 20):
        ledger.put(f"run{i}", i, dict(i=i))


def test_two_processes_writing_one_ledger_lose_nothing(tmp_path):
    path = tmp_path / "runs.jsonl"
    reader = Ledger(path)
    assert len(reader) == 0
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_write, args=(path, start)) for start in (0, 100)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert all(w.exitcode == 0 for w in workers)
    # a ledger opened before sees what the others wrote
    assert len(reader) == 40 and reader.get("run119", 119) == dict(i=119)


def test_a_damaged_line_is_named(tmp_path):
    path = tmp_path / "runs.jsonl"
    Ledger(path).put("a", 1, {})
    path.write_text(path.read_text() + "{not json\n")
    with pytest.raises(ValueError, match=r"runs.jsonl:2 is not a ledger entry"):
        Ledger(path).get("a", 1)
