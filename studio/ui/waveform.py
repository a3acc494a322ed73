"""A take's waveform as an Altair min/max band, drawn from the envelope the worker stored.

Nothing here reads audio: decoding a song on every rerun would cost seconds, the envelope is
a few thousand numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd

MAX_POINTS = 1200  # more than a page is wide; thins larger envelopes before they reach the browser


@dataclass(frozen=True, kw_only=True)
class Envelope:
    mins: list[float]
    maxs: list[float]
    duration: float  # seconds

    def __post_init__(self) -> None:
        if len(self.mins) != len(self.maxs):
            raise ValueError(f"envelope has {len(self.mins)} minima but {len(self.maxs)} maxima")
        if self.duration <= 0:
            raise ValueError(f"envelope duration must be positive, got {self.duration}")


def envelope_frame(env: Envelope, *, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """Time axis in seconds plus min/max; thinned by taking the extremes of each bucket."""
    n = len(env.mins)
    if n == 0:
        return pd.DataFrame({"t": [], "lo": [], "hi": []})
    step = max(1, -(-n // max_points))
    lo = [min(env.mins[i : i + step]) for i in range(0, n, step)]
    hi = [max(env.maxs[i : i + step]) for i in range(0, n, step)]
    count = len(lo)
    t = [env.duration * i / max(1, count - 1) for i in range(count)]
    return pd.DataFrame({"t": t, "lo": lo, "hi": hi})


def waveform_chart(env: Envelope, *, region: tuple[float, float] | None = None, height: int = 90) -> alt.LayerChart:
    """The band, with the selected region (seconds) shaded when given."""
    frame = envelope_frame(env)
    band = (
        alt.Chart(frame)
        .mark_area(color="#6c5ce7", opacity=0.85)
        .encode(
            x=alt.X("t:Q", title=None, scale=alt.Scale(domain=[0, env.duration]),
                    axis=alt.Axis(format="~s", tickMinStep=1, title="seconds")),
            y=alt.Y("lo:Q", title=None, scale=alt.Scale(domain=[-1, 1]), axis=None),
            y2="hi:Q",
        )
    )
    layers = [band]
    if region is not None:
        start, end = region
        shade = pd.DataFrame({"start": [start], "end": [end]})
        layers.insert(0, alt.Chart(shade).mark_rect(color="#fdcb6e", opacity=0.45).encode(x="start:Q", x2="end:Q"))
    return alt.layer(*layers).properties(height=height)
