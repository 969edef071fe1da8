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

That replay is ``replay_conflicts``, a pure function of the conflicting links (in priority order)
and the guarded node each of their components holds: the Spark engine
(``assets/identity/spark_components.py``) finds the conflicting groups on the cluster, collects
only their links and calls the same function, so both engines apply one rule. A component's holder
of a guarded type is its *smallest* node of that type, so both engines name the same identifiers
in a dropped link's explanation (a component may hold two mobiles from owner records).

Node ids and component labels are int32 (scipy's own label type): at L scale (~38M identifiers,
~15M links per tier) the arrays of this module are the stage's only memory outside DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

NODE = np.int32  # node ids and component labels
MAX_NODES = np.iinfo(NODE).max


@dataclass
class TierResult:
    accepted: np.ndarray  # bool per link of the tier
    # the dropped links only (few): their positions in the tier, the index of the guarded type each
    # would have joined, and a node of that type on either side
    dropped: np.ndarray
    conflict_type: np.ndarray
    conflict_left: np.ndarray
    conflict_right: np.ndarray


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component label (0..k-1, int32) of each of ``n`` nodes joined by links ``a``—``b``."""
    if n == 0:
        return np.zeros(0, dtype=NODE)
    if n > MAX_NODES:
        raise ValueError(f"{n:,} nodes: more than int32 node ids can number")
    ones = np.ones(len(a), dtype=np.int8)
    graph = coo_matrix((ones, (a.astype(NODE, copy=False), b.astype(NODE, copy=False))), shape=(n, n)).tocsr()
    del ones
    _, labels = connected_components(graph, directed=False)
    return labels.astype(NODE, copy=False)


class GuardedGraph:
    """Components of ``n`` nodes; ``guarded[k]`` flags the nodes of guarded type ``k``.

    For each guarded type, every component remembers one of its nodes of that type (or -1). A link
    that would join two components both holding a node of a type the tier guards is refused.
    """

    def __init__(self, n: int, guarded: Sequence[np.ndarray]):
        if n > MAX_NODES:
            raise ValueError(f"{n:,} nodes: more than int32 node ids can number")
        self.n = n
        self.labels = np.arange(n, dtype=NODE)  # node -> component
        self.holders = [np.where(np.asarray(mask, dtype=bool), self.labels, NODE(-1)) for mask in guarded]

    def add_tier(
        self,
        a: np.ndarray,
        b: np.ndarray,
        rank: np.ndarray | Callable[[np.ndarray], np.ndarray] | None = None,
        guard: Sequence[int] | None = None,
        deferred: np.ndarray | None = None,
    ) -> TierResult:
        """Add links ``a``—``b`` (node ids); ``guard`` = guarded types enforced (default: all).

        Priority among the tier's links, where they compete: ``rank`` (lower first), by default
        their order in ``a``/``b``; links flagged ``deferred`` come after all the others. ``rank``
        may be a function of the competing links' positions returning their ranks: for a caller
        that keeps the priorities elsewhere and looks up only those few links.
        """
        guard = list(range(len(self.holders))) if guard is None else list(guard)
        a = np.asarray(a, dtype=NODE)
        b = np.asarray(b, dtype=NODE)
        k = len(a)
        accepted = np.ones(k, dtype=bool)
        result = TierResult(accepted, *_no_conflicts())
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
            idx = np.nonzero(in_conflict)[0]
            position = idx if rank is None else rank(idx) if callable(rank) else np.asarray(rank)[idx]
            late = np.zeros(len(idx), bool) if deferred is None else np.asarray(deferred, bool)[idx]
            self._replay(idx[np.lexsort((position, late))], ca, cb, guard, result)
        del in_conflict

        if accepted.all():
            merged = group  # nothing refused: the tier's components are the ones found above
        else:
            del group
            keep = cross & accepted
            merged = _components(ncomp, ca[keep], cb[keep])
        size = int(merged.max()) + 1
        for t, holder in enumerate(self.holders):
            # the smallest node of the type stands for the merged component (as on Spark)
            new_holder = np.full(size, MAX_NODES, dtype=NODE)
            has = holder >= 0
            np.minimum.at(new_holder, merged[has], holder[has])
            new_holder[new_holder == MAX_NODES] = -1
            self.holders[t] = new_holder
        self.labels = merged[self.labels]
        return result

    def _replay(self, ordered, ca, cb, guard, result: TierResult) -> None:
        """Replay the conflicting links (``ordered``: their positions in the tier, by priority)."""
        replay = replay_conflicts(ca[ordered], cb[ordered], self.holders, guard)
        result.accepted[ordered[~replay.accepted]] = False
        by_position = np.argsort(ordered[replay.dropped], kind="stable")
        result.dropped = ordered[replay.dropped][by_position].astype(np.int64)
        result.conflict_type = replay.conflict_type[by_position]
        result.conflict_left = replay.conflict_left[by_position]
        result.conflict_right = replay.conflict_right[by_position]


@dataclass
class Replay:
    accepted: np.ndarray  # bool per replayed link, in the order given
    # the refused links: their positions in the order given, the guarded type each would have
    # joined, and the node of that type on either side
    dropped: np.ndarray
    conflict_type: np.ndarray
    conflict_left: np.ndarray
    conflict_right: np.ndarray


def replay_conflicts(ca, cb, holders: Sequence, guard: Sequence[int]) -> Replay:
    """The guard rule, link by link: union-find over the components of conflicting links.

    ``ca[i]``—``cb[i]``: the components (labels from before the tier) the i-th link joins, links in
    priority order; ``holders[t][c]``: the node of guarded type ``t`` component ``c`` holds, or -1;
    ``guard``: the guarded types the tier enforces. A link joining two components that both hold
    a node of a guarded type is refused (the first assertion wins); otherwise the two merge and the
    merged component holds what either held. Pure: the caller's arrays are not changed.
    """
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
            held[root] = [int(h[root]) for h in holders]
        return held[root]

    accepted = np.ones(len(ca), dtype=bool)
    dropped: list[tuple[int, int, int, int]] = []
    for i in range(len(ca)):
        ra, rb = find(int(ca[i])), find(int(cb[i]))
        if ra == rb:
            continue
        ha, hb = holders_of(ra), holders_of(rb)
        clash = next((t for t in guard if ha[t] >= 0 and hb[t] >= 0), None)
        if clash is not None:
            accepted[i] = False
            dropped.append((i, clash, ha[clash], hb[clash]))
            continue
        parent[ra] = rb
        held[rb] = [x if x >= 0 else y for x, y in zip(hb, ha, strict=True)]
    columns = list(zip(*dropped, strict=True)) if dropped else [(), (), (), ()]
    return Replay(
        accepted,
        np.asarray(columns[0], dtype=np.int64),
        np.asarray(columns[1], dtype=np.int8),
        np.asarray(columns[2], dtype=NODE),
        np.asarray(columns[3], dtype=NODE),
    )


def _no_conflicts() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.zeros(0, np.int64),
        np.zeros(0, np.int8),
        np.zeros(0, NODE),
        np.zeros(0, NODE),
    )


@dataclass
class ComponentSummary:
    """One entry per component present (``component`` ascending): what the stable ids and the
    review profile need of its nodes."""

    component: np.ndarray  # int64
    first_seen: np.ndarray  # int64, the earliest sighting (the caller's unit); FIRST_SEEN_NONE: none
    anchor: np.ndarray  # uint64, the smallest node key
    n_id_numbers: np.ndarray
    n_mobiles: np.ndarray
    n_identifiers: np.ndarray
    n_sale_sightings: np.ndarray


FIRST_SEEN_NONE = np.iinfo(np.int64).max  # a node never sighted with a time (SQL's null)


def component_summary(
    component: np.ndarray,
    first_seen: np.ndarray,
    node_key: np.ndarray,
    is_id_number: np.ndarray,
    is_mobile: np.ndarray,
    n_sales: np.ndarray,
) -> ComponentSummary:
    """Group nodes by ``component`` (one entry per node in every array; labels >= 0): the minimum
    of ``first_seen`` (FIRST_SEEN_NONE for a node without one, ignored like SQL's null) and of
    ``node_key``, the nodes of each guarded type, all nodes, the sum of ``n_sales``.

    What ``resolve`` used to group in DuckDB after joining 37M nodes to their labels (at L 13 s):
    here the labels are already in memory, so the grouping is a few scatter passes."""
    labels = np.asarray(component, dtype=np.int64)
    values = None  # labels at most the node count (SciPy's 0..k-1, Spark's node ids) index directly
    if len(labels) and labels.max() >= len(labels):  # any others: numbered densely first
        values, labels = np.unique(labels, return_inverse=True)
    component = labels
    size = int(component.max()) + 1 if len(component) else 0
    n_identifiers = np.bincount(component, minlength=size)
    first = np.full(size, FIRST_SEEN_NONE, dtype=np.int64)
    np.minimum.at(first, component, np.asarray(first_seen, dtype=np.int64))
    anchor = np.full(size, np.iinfo(np.uint64).max, dtype=np.uint64)
    np.minimum.at(anchor, component, np.asarray(node_key, dtype=np.uint64))
    n_id_numbers = np.bincount(component[np.asarray(is_id_number, bool)], minlength=size)
    n_mobiles = np.bincount(component[np.asarray(is_mobile, bool)], minlength=size)
    # float sums are exact far beyond any count of sale sightings (2**53)
    sales = np.bincount(component, weights=np.asarray(n_sales, dtype=np.float64), minlength=size)
    present = np.flatnonzero(n_identifiers)  # labels need not be dense (Spark's are node ids)
    return ComponentSummary(
        component=present if values is None else values[present],
        first_seen=first[present],
        anchor=anchor[present],
        n_id_numbers=n_id_numbers[present].astype(np.int64),
        n_mobiles=n_mobiles[present].astype(np.int64),
        n_identifiers=n_identifiers[present].astype(np.int64),
        n_sale_sightings=np.rint(sales[present]).astype(np.int64),
    )
