"""Connected components of the identity graph, with the ID-number guard of rule 4.

Pure NumPy/SciPy over dense integer node ids (built in DuckDB by ``resolve.py``). Links are added
tier by tier, strongest first. Within a tier, every link goes in at once (one
``scipy.sparse.csgraph.connected_components`` call over the current components) unless the union
would put two distinct valid ID numbers in one component. Only the links inside such a conflicting
group are replayed one by one, in priority order (tier, first seen, source, record), keeping a link
only when it does not join two ID numbers: the first assertion wins, the contradicting one is
dropped and reported. Conflicts are rare once unclean mobiles are out, so the Python loop runs over
a handful of links, never over the graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass
class TierResult:
    accepted: np.ndarray  # bool per link of the tier
    conflict_left: np.ndarray  # for a dropped link: the ID-number node on one side (-1 otherwise)
    conflict_right: np.ndarray  # ... and on the other side


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component label (0..k-1) of each of ``n`` nodes joined by links ``a``—``b``."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    ones = np.ones(len(a), dtype=np.int8)
    graph = coo_matrix((ones, (a, b)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


class GuardedGraph:
    """Components of ``n`` nodes, of which those flagged ``is_id_number`` may never share one."""

    def __init__(self, n: int, is_id_number: np.ndarray):
        self.n = n
        self.labels = np.arange(n, dtype=np.int64)  # node -> component
        # component -> its ID-number node, or -1 (invariant: at most one per component)
        self.component_id = np.where(is_id_number, np.arange(n, dtype=np.int64), -1)

    def add_tier(self, a: np.ndarray, b: np.ndarray, rank: np.ndarray) -> TierResult:
        """Add links ``a``—``b`` (node ids); ``rank`` orders them for conflict resolution."""
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        k = len(a)
        accepted = np.ones(k, dtype=bool)
        conflict_left = np.full(k, -1, dtype=np.int64)
        conflict_right = np.full(k, -1, dtype=np.int64)
        if k == 0:
            return TierResult(accepted, conflict_left, conflict_right)
        ncomp = len(self.component_id)
        ca, cb = self.labels[a], self.labels[b]
        cross = ca != cb

        # would the whole tier, added at once, put 2+ ID numbers together anywhere?
        group = _components(ncomp, ca[cross], cb[cross])
        with_id = self.component_id >= 0
        ids_per_group = np.bincount(group[with_id], minlength=group.max() + 1 if ncomp else 0)
        in_conflict = cross & (ids_per_group[group[ca]] >= 2)

        if in_conflict.any():
            self._replay(np.nonzero(in_conflict)[0], ca, cb, rank, accepted, conflict_left, conflict_right)

        keep = cross & accepted
        merged = _components(ncomp, ca[keep], cb[keep])
        new_component_id = np.full(merged.max() + 1, -1, dtype=np.int64)
        has = self.component_id >= 0
        new_component_id[merged[has]] = self.component_id[has]
        self.labels = merged[self.labels]
        self.component_id = new_component_id
        return TierResult(accepted, conflict_left, conflict_right)

    def _replay(self, idx, ca, cb, rank, accepted, conflict_left, conflict_right) -> None:
        """Union-find over the conflicting links only, in priority order; drop ID-joining links."""
        parent: dict[int, int] = {}
        id_of: dict[int, int] = {}

        def find(x: int) -> int:
            root = x
            while parent.get(root, root) != root:
                root = parent[root]
            while parent.get(x, x) != root:  # path compression
                parent[x], x = root, parent[x]
            return root

        for i in idx[np.argsort(rank[idx], kind="stable")]:
            ra, rb = find(int(ca[i])), find(int(cb[i]))
            if ra == rb:
                continue
            ida = id_of.get(ra, int(self.component_id[ra]))
            idb = id_of.get(rb, int(self.component_id[rb]))
            if ida >= 0 and idb >= 0 and ida != idb:
                accepted[i] = False
                conflict_left[i], conflict_right[i] = ida, idb
                continue
            parent[ra] = rb
            id_of[rb] = max(ida, idb)
