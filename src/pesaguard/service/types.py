"""Field types shared by the API's request models."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, Strict

#: No control characters (C0, DEL, C1), zero-width characters, byte-order marks or bidirectional
#: embeddings, overrides and isolates: in an id they make two different ids print the same, or
#: reorder what an analyst reads.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def clean_id(value: str | None) -> str | None:
    """``value`` unchanged, or a ValueError naming the first character an id must not hold."""
    if value is not None:
        found = _UNPRINTABLE.search(value)
        if found is not None:
            raise ValueError(f"holds the control or formatting character U+{ord(found.group()):04X} at position "
                             f"{found.start()}; ids are printable text")
    return value


Clean = AfterValidator(clean_id)
CleanText = Annotated[str, Field(min_length=1, max_length=128), Clean]
#: An integer that must arrive as a JSON integer (no boolean, string or float).
StrictInt = Annotated[int, Strict()]
