"""Attribution: which entity (platform, country, media cluster ...) explains an anomaly of a total.

For an anomaly of the panel total at period t with expected total E_t, each entity is expected to
contribute its usual share of it: expected_e = E_t x share_e, where share_e is the entity's share of
the total over the `window` periods either side of t (t itself excluded, so the spike does not
define its own baseline). Excess_e = y_e(t) - expected_e; the excesses add up to the total's excess
(y_t - E_t), and share of the excess = excess_e / total excess. Entities are ranked by the excess in
the anomaly's direction; the top `top` are kept.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from analytics.results import Anomaly, Contribution
from analytics.series import RegularPanel


def attribute(
    panel: RegularPanel, anomalies: tuple[Anomaly, ...], window: int = 6, top: int = 5
) -> tuple[Anomaly, ...]:
    """The same anomalies, each with its `attribution` (largest contributors first)."""
    if not anomalies:
        return anomalies
    wide = panel.wide()
    values = wide.to_numpy(dtype=float)
    names = list(wide.columns)
    n = len(values)
    out = []
    for anomaly in anomalies:
        t = anomaly.index
        neighbours = [i for i in range(max(0, t - window), min(n, t + window + 1)) if i != t]
        around = values[neighbours].sum(axis=0)
        shares = around / around.sum() if around.sum() > 0 else np.full(len(names), 1.0 / len(names))
        expected = anomaly.expected * shares
        excess = values[t] - expected
        total_excess = anomaly.value - anomaly.expected
        sign = 1.0 if anomaly.direction == "spike" else -1.0
        order = np.argsort(-sign * excess, kind="mergesort")[:top]
        contributions = tuple(
            Contribution(
                entity=str(names[i]),
                value=float(values[t, i]),
                expected=float(expected[i]),
                excess=float(excess[i]),
                share=float(excess[i] / total_excess) if abs(total_excess) > 1e-12 else None,
            )
            for i in order
            if sign * excess[i] > 0
        )
        out.append(dataclasses.replace(anomaly, attribution=contributions))
    return tuple(out)
