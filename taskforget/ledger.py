"""A committed ledger of finished runs, so that a long benchmark continues on another machine.

A benchmark's work dirs (weights, caches) stay on the machine that made them; its ledger
(``docs/results/<task>/runs.jsonl``) is committed with its tables. Each line is one run: its
``name``, its ``key`` (what the record depends on, e.g. the run's hash, which covers its
settings and the bytes of the weights it started from) and its result ``record``. A run whose
name and key are in the ledger is read back instead of run again; any other key is a different
run, kept beside it (e.g. the same point of a search on a bf16 machine's original and on an fp32
machine's: each machine reads its own back). Writers lock the file and merge, so two benchmark
processes can share one ledger.

It stays plain sorted JSON lines on purpose: git stores each new version as a delta of the last
(279 versions of the classification ledger, up to 1.4 MB each, take 0.8 MB of the packed
repository, 2026-12-07), where a compressed file would be stored whole every time.
"""
import copy
import fcntl
import json
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

from taskforget.checkpoint import write_text_atomic

__all__ = ["Ledger"]


def _canonical(key: Any) -> str:
    return json.dumps(key, sort_keys=True, default=str)


class Ledger:
    """The runs recorded in one JSON-lines file (see the module docstring)."""

    def __init__(self, path: Union[str, Path]):
        self.path = Path(path)
        self._entries: Optional[Dict[str, dict]] = None
        self._stamp = None

    def _read(self) -> Dict[Tuple[str, str], dict]:
        entries = {}
        if self.path.is_file():
            for number, line in enumerate(self.path.read_text().splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    entries[entry["name"], _canonical(entry["key"])] = entry
                except (ValueError, KeyError, TypeError):
                    raise ValueError(f"{self.path}:{number} is not a ledger entry (a JSON object "
                                     "with name, key and record): fix or delete that line"
                                     ) from None
        return entries

    def _current(self) -> Dict[Tuple[str, str], dict]:
        stamp = self.path.stat().st_mtime_ns if self.path.is_file() else None
        if self._entries is None or stamp != self._stamp:
            self._entries, self._stamp = self._read(), stamp
        return self._entries

    def get(self, name: str, key: Any) -> Optional[dict]:
        """The record of run ``name`` when it was recorded with this ``key``, else None."""
        entry = self._current().get((name, _canonical(key)))
        return None if entry is None else copy.deepcopy(entry["record"])

    def put(self, name: str, key: Any, record: dict) -> None:
        """Record run ``name`` under ``key`` (replacing only a record with that name and key);
        merged under a lock with what other processes wrote since, and written atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = self._read()
            entries[name, _canonical(key)] = json.loads(json.dumps(
                dict(name=name, key=key, record=record), default=str))
            write_text_atomic(self.path, "".join(json.dumps(e, sort_keys=True) + "\n"
                                                 for e in entries.values()))
            self._entries, self._stamp = entries, self.path.stat().st_mtime_ns

    def __len__(self) -> int:
        return len(self._current())
