"""Reading offline Weights & Biases runs without a server, for the tests.

The tests check what a user would see in W&B (config, history against ``iteration``, summary,
media) by reading it back from the run file, which wandb 0.31 has no public reader for. This
parses W&B's private format, so it lives with the tests (the ``dev`` extra pins ``wandb<0.32``)
and nothing in gan_lab depends on it: ``gan-lab compare`` reads gan_lab's own files.

wandb 0.31 writes everything a run logs to ``<run dir>/run-<id>.wandb``: a 7-byte
header (``:W&B``, the 16-bit magic ``0xBEE1``, a version byte) followed by LevelDB-log framing
(32 KiB blocks; each chunk has a 7-byte header: CRC-32C ``u32``, length ``u16``, type ``u8`` with
1 FULL, 2 FIRST, 3 MIDDLE, 4 LAST; a block's tail shorter than a header is zero padding) of
serialized ``wandb_internal_pb2.Record`` protobufs. Media logged with ``wandb.Image`` /
``wandb.Video`` are files under ``<run dir>/files/media/``, referenced from history rows by path.

:func:`read_offline_run` turns one run folder (``offline-run-*`` or ``run-*``) into an
:class:`OfflineRun`: its identity (id, name, group, job type, tags), config, history rows,
summary and media files.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["OfflineRun", "read_offline_run", "find_offline_runs", "read_records"]

HEADER = struct.Struct("<4sHB")
MAGIC_IDENT, MAGIC_NUMBER = b":W&B", 0xBEE1
BLOCK_SIZE = 32 * 1024
CHUNK_HEADER = struct.Struct("<IHB")
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


@dataclass
class OfflineRun:
    """What one W&B run logged, read back from its ``.wandb`` file.

    Attributes:
        path: the run folder.
        history: one dict per ``wandb.log`` row (``_step`` included), in logging order; a
            media value is a dict with its ``path`` (relative to ``path / "files"``) and
            ``_type`` (``image-file``, ``video-file``).
        summary: the final summary (W&B keeps each key's last logged value unless it was set).
        config: the run's config (plain values).
        media: files under ``files/media/`` (images, videos), relative to ``path / "files"``.
    """

    path: Path
    run_id: str = ""
    project: str = ""
    name: str = ""
    group: str = ""
    job_type: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    media: list[Path] = field(default_factory=list)
    exit_code: int | None = None

    def column(self, key: str) -> list[tuple[dict[str, Any], Any]]:
        """The rows that logged ``key``, as ``(row, value)`` pairs."""
        return [(row, row[key]) for row in self.history if key in row]


def read_records(path: str | Path) -> list[Any]:
    """The ``wandb_internal_pb2.Record`` messages of a ``.wandb`` file, in order."""
    from wandb.proto import wandb_internal_pb2

    path = Path(path)
    data = path.read_bytes()
    if len(data) < HEADER.size:
        raise ValueError(f"{path}: too short to be a W&B run file")
    ident, magic, _version = HEADER.unpack_from(data)
    if ident != MAGIC_IDENT or magic != MAGIC_NUMBER:
        raise ValueError(f"{path}: not a W&B run file (header {data[:7]!r})")
    records = []
    for payload in _log_payloads(data, HEADER.size, path):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(payload)
        records.append(record)
    return records


def _log_payloads(data: bytes, offset: int, path: Path):
    """Reassembled LevelDB-log records of ``data`` from ``offset``."""
    parts: list[bytes] = []
    pos = offset
    while pos + CHUNK_HEADER.size <= len(data):
        left_in_block = BLOCK_SIZE - pos % BLOCK_SIZE
        if left_in_block < CHUNK_HEADER.size:  # zero padding at the end of a block
            pos += left_in_block
            continue
        _crc, length, kind = CHUNK_HEADER.unpack_from(data, pos)
        start = pos + CHUNK_HEADER.size
        if kind == 0 and length == 0:  # preallocated, never written
            pos += left_in_block
            continue
        if start + length > len(data):  # a run still being written: stop at its last record
            break
        chunk = data[start : start + length]
        pos = start + length
        if kind == FULL:
            yield chunk
        elif kind == FIRST:
            parts = [chunk]
        elif kind == MIDDLE:
            parts.append(chunk)
        elif kind == LAST:
            parts.append(chunk)
            yield b"".join(parts)
            parts = []
        else:
            raise ValueError(f"{path}: corrupt W&B run file (chunk type {kind} at byte {pos})")


def _item_key(item) -> str:
    return ".".join(item.nested_key) if item.nested_key else item.key


def _item_value(item) -> Any:
    return json.loads(item.value_json) if item.value_json else None


def _items_to_dict(items) -> dict[str, Any]:
    """History/summary items as a dict; a nested key (a media object's ``path``, ``_type``...)
    becomes a nested dict: ``{"samples": {"path": ..., "_type": "image-file"}}``."""
    out: dict[str, Any] = {}
    for item in items:
        keys = list(item.nested_key) or [item.key]
        target = out
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = _item_value(item)
    return out


def read_offline_run(run_dir: str | Path) -> OfflineRun:
    """Read the run folder ``run_dir`` (holding one ``run-<id>.wandb``)."""
    run_dir = Path(run_dir)
    files = sorted(run_dir.glob("run-*.wandb"))
    if not files:
        raise FileNotFoundError(f"no run-*.wandb file in {run_dir}")
    run = OfflineRun(path=run_dir)
    summary_set: dict[str, Any] = {}
    for record in read_records(files[0]):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            r = record.run
            run.run_id, run.project, run.name = r.run_id, r.project, r.display_name
            run.group, run.job_type, run.tags = r.run_group, r.job_type, list(r.tags)
            _update_config(run.config, r.config.update)
        elif kind == "config":
            _update_config(run.config, record.config.update)
            for item in record.config.remove:
                run.config.pop(_item_key(item), None)
        elif kind == "history":
            row = _items_to_dict(record.history.item)
            run.history.append(row)
            run.summary.update({k: v for k, v in row.items() if not k.startswith("_")})
        elif kind == "summary":
            summary_set.update(_items_to_dict(record.summary.update))
            for item in record.summary.remove:
                summary_set.pop(_item_key(item), None)
        elif kind == "exit":
            run.exit_code = record.exit.exit_code
    run.summary.update(summary_set)
    media_root = run_dir / "files"
    run.media = sorted(p.relative_to(media_root) for p in media_root.glob("media/**/*")
                       if p.is_file())
    return run


def _update_config(config: dict[str, Any], items) -> None:
    """W&B stores each config key as ``{"value": v}`` (and internal keys under ``_wandb``)."""
    for item in items:
        key = _item_key(item)
        if key == "_wandb":
            continue
        value = _item_value(item)
        config[key] = value["value"] if isinstance(value, dict) and "value" in value else value


def find_offline_runs(root: str | Path) -> list[Path]:
    """Run folders (``offline-run-*`` and ``run-*`` with a ``.wandb`` file) under ``root``, by
    time (their names start with the start time)."""
    root = Path(root)
    runs = {p.parent for p in root.rglob("run-*.wandb")}
    return sorted(runs, key=lambda p: p.name.split("-", 1)[-1])
