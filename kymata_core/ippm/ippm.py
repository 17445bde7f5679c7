"""The IPPM: build a denoised, wired graph from an ExpressionSet. See ``docs/ippm.md`` §3, §7, §8."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from kymata_core.entities.expression import (
    ExpressionPoint,
    ExpressionSet,
    HexelExpressionSet,
    SensorExpressionSet,
)
from kymata_core.entities.hemispheres import BLOCK_LEFT, BLOCK_MERGED, BLOCK_RIGHT, BLOCK_SCALP
from kymata_core.io import atlas
from kymata_core.io.json import dumps_strict, serialise_graph
from kymata_core.ippm.denoising_strategies import canonical_order, make_denoiser
from kymata_core.ippm.graph import IPPMGraph
from kymata_core.ippm.hierarchy import CandidateTransformList, TransformHierarchy
from kymata_core.ippm.registry import DEFAULT_DENOISER


class IPPM:
    """IPPM container/constructor: builds one IPPM graph from an expression set.

    Parameters
    ----------
    expression_set : ExpressionSet or list of ExpressionPoint
        The evidence. A list is treated as one ``scalp`` block; its points whose transform is not
        in the hierarchy are dropped.
    candidate_transform_list : CandidateTransformList or dict
        The hypothesised hierarchy (transform → parents).
    denoiser : str or None
        A name of :data:`kymata_core.ippm.registry.DENOISER_NAMES` (case-insensitive; default
        ``"maxpool"``), or None to keep every best point with log10 p < 0.
    merge_before_denoising : bool
        For hexel sets, pool both hemispheres into one ``merged`` block.
    **kwargs
        Passed to the denoiser's constructor.

    Raises
    ------
    ValueError
        A non-input transform of the hierarchy is not in the expression set, the denoiser name is
        unknown, or the hierarchy is invalid (unknown parent, cycle).
    TypeError
        ``expression_set`` has the wrong type, a kwarg is unknown, or kwargs are given with
        ``denoiser=None``.
    """

    def __init__(
        self,
        expression_set: ExpressionSet | list[ExpressionPoint],
        candidate_transform_list: CandidateTransformList | TransformHierarchy,
        denoiser: str | None = DEFAULT_DENOISER,
        merge_before_denoising: bool = False,
        **kwargs: Any,
    ):
        ctl = (
            candidate_transform_list
            if isinstance(candidate_transform_list, CandidateTransformList)
            else CandidateTransformList(candidate_transform_list)
        )
        if denoiser is None:
            if kwargs:
                raise TypeError(f"denoiser=None takes no denoiser arguments, got {sorted(kwargs)}")
            strategy = None
        else:
            strategy = make_denoiser(denoiser, **kwargs)

        points_by_block: dict[str, list[ExpressionPoint]]
        if isinstance(expression_set, ExpressionSet):
            if not isinstance(expression_set, HexelExpressionSet | SensorExpressionSet):
                raise NotImplementedError(f"IPPMs are not implemented for {type(expression_set).__name__}")
            for t in sorted(ctl.transforms - ctl.inputs):
                if t not in expression_set.transforms:
                    raise ValueError(f"Transform {t} from hierarchy not in expression set")
            wanted = [t for t in expression_set.transforms if t in ctl.transforms]
            es = expression_set[wanted] if wanted else None
            if es is None:  # the hierarchy's only transforms are inputs absent from the set
                hexel = isinstance(expression_set, HexelExpressionSet)
                if not hexel:
                    blocks = [BLOCK_SCALP]
                else:
                    blocks = [BLOCK_MERGED] if merge_before_denoising else [BLOCK_LEFT, BLOCK_RIGHT]
                points_by_block = {b: [] for b in blocks}
            elif strategy is not None:
                if isinstance(es, HexelExpressionSet) and merge_before_denoising:
                    points_by_block = {BLOCK_MERGED: strategy.merge_and_denoise(es)}
                elif isinstance(es, HexelExpressionSet):
                    left, right = strategy.denoise(es)
                    points_by_block = {BLOCK_LEFT: left, BLOCK_RIGHT: right}
                else:
                    points_by_block = {BLOCK_SCALP: strategy.denoise(es)}
            else:
                best = es.best_transforms()
                blocks = best if isinstance(es, HexelExpressionSet) else (best,)
                points = [canonical_order(b, es.transforms) for b in blocks]
                if isinstance(es, HexelExpressionSet) and merge_before_denoising:
                    points_by_block = {BLOCK_MERGED: canonical_order([*points[0], *points[1]], es.transforms)}
                elif isinstance(es, HexelExpressionSet):
                    points_by_block = {BLOCK_LEFT: points[0], BLOCK_RIGHT: points[1]}
                else:
                    points_by_block = {BLOCK_SCALP: points[0]}
        elif isinstance(expression_set, list) and all(isinstance(p, ExpressionPoint) for p in expression_set):
            points = [p for p in expression_set if p.transform in ctl.transforms]
            points_by_block = {BLOCK_SCALP: points if strategy is None else strategy.denoise_points(points)}
        else:
            raise TypeError(
                f"expression_set must be an ExpressionSet or a list of ExpressionPoints. Was {type(expression_set)}"
            )
        self.graph = IPPMGraph(ctl, points_by_block)

    def set_kids(self, transform_kids: dict[str, str], verify_against_api: bool = True) -> None:
        """Adds KID attributes to nodes and edges of the graph, by transform.

        Parameters
        ----------
        transform_kids : dict of str to str
            Transform name → KID.
        verify_against_api : bool
            Check the KIDs against the Kymata Atlas API first (one GET, 5 s total timeout). When the
            API cannot be reached or its payload is unusable, a warning is given and the KIDs are
            assigned unverified. With False, the network is not touched.

        Raises
        ------
        ValueError
            If the API is reachable and some KIDs are unknown to it (nothing is changed).
        """
        mapping = dict(transform_kids)
        if verify_against_api and mapping:
            known = _known_kids()
            if known is not None:
                unknown = sorted(set(mapping.values()) - known)
                if unknown:
                    raise ValueError(
                        f"The following KIDs from transform_KIDs do not exist in the API: {unknown}"
                    )
        graph_transforms = self.graph.transforms
        unrepresented = sorted(set(mapping) - graph_transforms)
        if unrepresented:
            warnings.warn(
                f"The following transforms were supplied in the mapping but were not represented in the graph: "
                f"{unrepresented}",
                UserWarning,
                stacklevel=2,
            )
        unmapped = sorted(graph_transforms - self.graph.inputs - set(mapping))
        if unmapped:
            warnings.warn(
                f"The following transforms in the graph weren't supplied a KID: {unmapped}",
                UserWarning,
                stacklevel=2,
            )
        self.graph._assign_kids(mapping)

    def to_json(self) -> str:
        """The last-to-first graph as strict JSON (2-space indent; non-finite numbers as ``null``)."""
        return dumps_strict(serialise_graph(self.graph.graph_last_to_first))


def _known_kids() -> set[str] | None:
    """KIDs known to the Atlas API, or None (with a warning) if they cannot be fetched."""
    url = atlas.API_URL
    try:
        payload = atlas.fetch_data_dict(url, timeout_s=atlas.API_TIMEOUT_S)
        return _kids_from_payload(payload)
    except (OSError, TimeoutError, ValueError, TypeError, KeyError) as e:
        reason = f"{type(e).__name__}: {e}"
        warnings.warn(
            f"Failed to fetch KID data from {url} ({reason}). KIDs will not be verified.",
            UserWarning,
            stacklevel=3,
        )
        return None


def _kids_from_payload(payload: Any) -> set[str]:
    if isinstance(payload, Mapping):
        lists = [v for v in payload.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise ValueError("payload is an object without a single list of functions")
        payload = lists[0]
    if not isinstance(payload, list):
        raise ValueError(f"payload is a {type(payload).__name__}, expected a list of functions")
    kids = set()
    for item in payload:
        if not isinstance(item, Mapping) or "kid" not in item:
            raise ValueError("payload entry without a 'kid' field")
        kids.add(str(item["kid"]))
    return kids
