"""Stable batches of many small work items (sweep points, ...), so that one Snakemake job runs many items.

Starting a job costs about a second of Python start-up and imports; a sweep point costs about 0.05 s of
solving. Running each point as its own job spends almost all the time starting jobs, so items are grouped
into a fixed number of batches per family (``batching.jobs_per_sweep`` in the config).

Stability: an item's batch is ``sha256(item_id) mod n_batches``. It depends only on the item's own id and
on the number of batches, never on the other items, so adding values to a sweep changes only the batches
that gain items (and removing values only those that lose some); the other batches keep their outputs and
are not rerun. (Chunking the sorted ids would shift every item after an insertion.)

With ``n_batches=None`` every item is its own batch, named by its id: one job per item, as on a cluster
where a job's start-up is small next to the queue's parallelism.

Batch names are path-safe: ``b{index}of{n_batches}`` (e.g. ``b0of2``), or the item id itself.
:data:`BATCH_NAME_PATTERN` is the regular expression of the first form, for wildcard constraints.
"""

from __future__ import annotations

import hashlib
from typing import Iterable

from mfg_finance.errors import ConfigError

#: Regular expression of a batch name made by :func:`batches` (not of the one-item-per-batch names).
BATCH_NAME_PATTERN = r"b[0-9]+of[0-9]+"


def batch_index(item_id: str, n_batches: int) -> int:
    """The batch (``0 .. n_batches - 1``) of one item: its id's SHA-256 modulo ``n_batches``."""
    if isinstance(n_batches, bool) or not isinstance(n_batches, int) or n_batches < 1:
        raise ConfigError(f"number of batches must be an integer >= 1, got {n_batches!r}")
    return int.from_bytes(hashlib.sha256(str(item_id).encode()).digest()[:8], "big") % n_batches


def batch_name(index: int, n_batches: int) -> str:
    """The path-safe name of batch ``index`` out of ``n_batches`` (e.g. ``b0of2``)."""
    return f"b{index}of{n_batches}"


def batches(item_ids: Iterable[str], n_batches: int | None) -> dict[str, list[str]]:
    """Stable assignment of items to batches: ``{batch name: [item ids, in the given order]}``.

    ``n_batches=None``: one batch per item, named by the item's id. Otherwise items go to batch
    ``sha256(id) mod n_batches``; batches that receive no item are left out, and the batches are listed
    in index order. Ids must be unique (they name output files).
    """
    ids = [str(i) for i in item_ids]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise ConfigError(f"batches: repeated item ids {repeated[:5]}")
    if n_batches is None:
        return {i: [i] for i in ids}
    grouped: dict[int, list[str]] = {}
    for item in ids:
        grouped.setdefault(batch_index(item, n_batches), []).append(item)
    return {batch_name(index, n_batches): grouped[index] for index in sorted(grouped)}


def batch_of(item_ids: Iterable[str], n_batches: int | None) -> dict[str, str]:
    """``{item id: batch name}``: the inverse of :func:`batches`."""
    return {item: name for name, items in batches(item_ids, n_batches).items() for item in items}
