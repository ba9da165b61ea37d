"""``kb add`` serves what it reads to customer callers: it must read only documents inside the folder
it was given, of the types it supports, whatever links that folder holds."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from pesaguard.assistant.index import KnowledgeIndex
from pesaguard.errors import InputError

SECRET = "the vault combination is 7-7-3-1 and the admin password is hunter2"


class BagOfWords:
    """Deterministic vectors, no model."""

    name = "bag-of-words-test"
    dim = 64

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in text.lower().split():
            v[zlib.crc32(w.encode()) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def query(self, text: str) -> np.ndarray:
        return self._vec(text)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.queries(texts)


def test_links_out_of_the_folder_and_other_file_types_are_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "private").mkdir(parents=True)
    (outside / "secret.md").write_text(f"# Notes\n\n{SECRET}\n", encoding="utf-8")
    (outside / "private" / "keys.md").write_text(f"# Keys\n\n{SECRET}\n", encoding="utf-8")
    docs = tmp_path / "docs"
    (docs / "guides").mkdir(parents=True)
    (docs / "guides" / "reversal.md").write_text("# Reversal scams\n\nNever send money back to a stranger.\n")
    (docs / "faq.md").symlink_to(outside / "secret.md")  # a file link leaving the folder
    (docs / "more").symlink_to(outside / "private", target_is_directory=True)  # a directory link
    (docs / "inside.md").symlink_to(docs / "guides" / "reversal.md")  # a link that stays inside: fine
    (docs / "settings.conf").write_text(SECRET)
    index = KnowledgeIndex(tmp_path / "kb", BagOfWords())
    index.add_source(docs, audience="customer")
    texts = " ".join(c.text for c in index.chunks)
    assert "Never send money back" in texts and "hunter2" not in texts and "vault" not in texts
    with pytest.raises(InputError, match="not a document type"):
        index.add_source(docs / "settings.conf")
    with pytest.raises(InputError, match="not a document type"):
        index.add_source(Path("/etc/hostname"))
