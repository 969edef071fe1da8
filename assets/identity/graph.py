"""Connected components of the identity graph, with guards against over-merging.

Pure NumPy/SciPy over dense integer node ids (built in DuckDB by ``resolve.py``). Links are added
tier by tier, strongest first. Within a tier, every link goes in at once (one
``scipy.sparse.csgraph.connected_components`` call over the current components) unless the union
would put two nodes of a *guarded* type in one component where each came from a different
component: two valid ID numbers (rule 4, every tier) or, for weak links, two mobiles. Only the
links inside such a conflicting group are replayed one by one, in priority order (tier, first
seen, source, record), keeping a link only when it does not make such a join: the first
assertion wins, the contradicting one is dropped and reported. Conflicts are rare once unclean
mobiles are out, so the Python loop runs over a handful of links, never over the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass
class TierResult:
    accepted: np.ndarray  # bool per link of the tier
    conflict_type: np.ndarray  # for a dropped link: index of the guarded type it would join (-1 otherwise)
    conflict_left: np.ndarray  # ... a node of that type on one side
    conflict_right: np.ndarray  # ... and one on the other side


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component label (0..k-1) of each of ``n`` nodes joined by links ``a``—``b``."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    ones = np.ones(len(a), dtype=np.int8)
    graph = coo_matrix((ones, (a, b)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


class GuardedGraph:
    """Components of ``n`` nodes; ``guarded[k]`` flags the nodes of guarded type ``k``.

    For each guarded type, every component remembers one of its nodes of that type (or -1). A link
    that would join two components both holding a node of a type the tier guards is refused.
    """

    def __init__(self, n: int, guarded: Sequence[np.ndarray]):
        self.n = n
        self.labels = np.arange(n, dtype=np.int64)  # node -> component
        self.holders = [
            np.where(np.asarray(mask, dtype=bool), np.arange(n, dtype=np.int64), -1) for mask in guarded
        ]

    def add_tier(
        self, a: np.ndarray, b: np.ndarray, rank: np.ndarray, guard: Sequence[int] | None = None
    ) -> TierResult:
        """Add links ``a``—``b`` (node ids); ``rank`` orders them; ``guard`` = guarded types enforced."""
        guard = list(range(len(self.holders))) if guard is None else list(guard)
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        k = len(a)
        accepted = np.ones(k, dtype=bool)
        conflict_type = np.full(k, -1, dtype=np.int64)
        conflict_left = np.full(k, -1, dtype=np.int64)
        conflict_right = np.full(k, -1, dtype=np.int64)
        result = TierResult(accepted, conflict_type, conflict_left, conflict_right)
        if k == 0:
            return result
        ncomp = len(self.holders[0]) if self.holders else int(self.labels.max()) + 1
        ca, cb = self.labels[a], self.labels[b]
        cross = ca != cb

        # would the whole tier, added at once, join two holders of a guarded type anywhere?
        group = _components(ncomp, ca[cross], cb[cross])
        in_conflict = np.zeros(k, dtype=bool)
        for t in guard:
            holding = self.holders[t] >= 0
            per_group = np.bincount(group[holding], minlength=int(group.max()) + 1)
            in_conflict |= cross & (per_group[group[ca]] >= 2)

        if in_conflict.any():
            self._replay(np.nonzero(in_conflict)[0], ca, cb, rank, guard, result)

        keep = cross & accepted
        merged = _components(ncomp, ca[keep], cb[keep])
        size = int(merged.max()) + 1
        for t, holder in enumerate(self.holders):
            new_holder = np.full(size, -1, dtype=np.int64)
            has = holder >= 0
            new_holder[merged[has]] = holder[has]  # any one of them stands for the component
            self.holders[t] = new_holder
        self.labels = merged[self.labels]
        return result

    def _replay(self, idx, ca, cb, rank, guard, result: TierResult) -> None:
        """Union-find over the conflicting links only, in priority order; drop guarded joins."""
        parent: dict[int, int] = {}
        held: dict[int, list[int]] = {}

        def find(x: int) -> int:
            root = x
            while parent.get(root, root) != root:
                root = parent[root]
            while parent.get(x, x) != root:  # path compression
                parent[x], x = root, parent[x]
            return root

        def holders_of(root: int) -> list[int]:
            if root not in held:
                held[root] = [int(h[root]) for h in self.holders]
            return held[root]

        for i in idx[np.argsort(rank[idx], kind="stable")]:
            ra, rb = find(int(ca[i])), find(int(cb[i]))
            if ra == rb:
                continue
            ha, hb = holders_of(ra), holders_of(rb)
            clash = next((t for t in guard if ha[t] >= 0 and hb[t] >= 0), None)
            if clash is not None:
                result.accepted[i] = False
                result.conflict_type[i] = clash
                result.conflict_left[i], result.conflict_right[i] = ha[clash], hb[clash]
                continue
            parent[ra] = rb
            held[rb] = [x if x >= 0 else y for x, y in zip(hb, ha, strict=True)]
