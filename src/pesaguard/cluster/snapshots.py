"""Snapshots of the replicated feature state, so that a starting replica replays only the stream
after the latest one instead of the whole retained stream (and so that the state does not depend
on how much of the stream is still retained when a replica starts).

Every replica reaches the same stream sequences with the same state, so a snapshot taken at
sequence ``seq`` (a multiple of ``every``) is the same whichever replica takes it; the first to
find it missing writes it to a JetStream object store bucket, as ``state-<seq>``, pickled. A
starting replica restores the newest snapshot at or below the shared consumer's acknowledgement
floor (every message after it is then replayed, so the replica holds the outcome of every message
it may be asked to decide) and replays from the next sequence. Older snapshots are deleted, the
newest ``keep`` stay.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from typing import Any

from pesaguard.features.engine import SNAPSHOT_FORMAT

log = logging.getLogger("pesaguard.cluster")

BUCKET = "pesaguard_state"
#: bump when the pickled layout changes: a replica ignores snapshots of another format
FORMAT = 1


def _name(seq: int) -> str:
    return f"state-{seq:015d}"


def _seq(name: str) -> int | None:
    head, _, digits = name.partition("-")
    return int(digits) if head == "state" and digits.isdigit() else None


class Snapshots:
    """The object store bucket of state snapshots."""

    def __init__(self, obs: Any, keep: int = 3) -> None:
        self.obs = obs
        self.keep = keep
        self._writing: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, js: Any, bucket: str = BUCKET, keep: int = 3) -> Snapshots:
        from nats.js.api import ObjectStoreConfig, StorageType
        from nats.js.errors import BucketNotFoundError, NotFoundError

        try:
            obs = await js.object_store(bucket)
        except (BucketNotFoundError, NotFoundError):
            obs = await js.create_object_store(bucket, ObjectStoreConfig(storage=StorageType.FILE))
        return cls(obs, keep)

    async def sequences(self) -> list[int]:
        from nats.js.errors import NotFoundError

        try:
            infos = await self.obs.list(ignore_deletes=True)
        except NotFoundError:
            return []
        return sorted(s for s in (_seq(i.name) for i in infos if not i.deleted) if s is not None)

    async def latest(self, at_most: int) -> tuple[int, dict[str, Any]] | None:
        """The newest snapshot at or below sequence ``at_most``: (its sequence, the state)."""
        for seq in reversed(await self.sequences()):
            if seq > at_most:
                continue
            try:
                state = pickle.loads((await self.obs.get(_name(seq))).data)
            except Exception as exc:  # deleted meanwhile, or unreadable: try the one before
                log.warning("snapshot %s unreadable (%s); trying an older one", _name(seq), exc)
                continue
            # the feature engine's own layout too: a release that changes it (new aggregators) cannot
            # restore an older state, and the replica replays the stream instead
            if state.get("format") == FORMAT and state.get("engine", {}).get("format") == SNAPSHOT_FORMAT:
                return seq, state
            log.warning("snapshot %s has another layout; trying an older one", _name(seq))
        return None

    def save_soon(self, seq: int, state: dict[str, Any]) -> None:
        """Serialise ``state`` now, write it in the background (one at a time: a snapshot still being
        written when the next is due means the next is skipped).

        Serialised here, on the applier's thread, before the next message is applied: parts of the
        engine's snapshot are its live arrays (the label flags of remembered transactions), and a
        copy pickled later, or on another thread, would mix in messages applied after ``seq``.
        """
        if self._writing is not None and not self._writing.done():
            log.warning("snapshot at %d skipped: the previous one is still being written", seq)
            return
        data = pickle.dumps({"format": FORMAT, **state}, pickle.HIGHEST_PROTOCOL)
        self._writing = asyncio.ensure_future(self._save(seq, data))

    async def _save(self, seq: int, data: bytes) -> None:
        from nats.js.errors import NotFoundError

        try:
            try:
                await self.obs.get_info(_name(seq))
                return  # another replica wrote it
            except NotFoundError:
                pass
            await self.obs.put(_name(seq), data)
            log.info("state snapshot at stream sequence %d (%.1f MB)", seq, len(data) / 2**20)
            for old in (await self.sequences())[:-self.keep]:
                await self.obs.delete(_name(old))
        except Exception as exc:  # a snapshot is an optimisation: the stream still holds the truth
            log.warning("state snapshot at %d not written: %s", seq, exc)

    async def wait(self) -> None:
        if self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)
