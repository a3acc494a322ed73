"""A take's waveform as an Altair min/max band, drawn from the envelope the worker stored, with the
repaint/extend region on it and a drag-to-select region (Vega-Lite interval selection, which
Streamlit returns to Python with `on_select`; it runs offline, no CDN).

Nothing here reads audio: decoding a song on every rerun would cost seconds, the envelope is
a few thousand numbers. The band is scaled to the take's own peak, so a quiet take is as easy
to aim at as a loud one; the caption under the chart says how loud the peak is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd

MAX_POINTS = 1200  # more than a page is wide; thins larger envelopes before they reach the browser
MIN_HEIGHT = 115  # px of chart (about 80 of them plot): enough to see where a chorus starts
SELECTION = "region"  # the interval selection's name, as it comes back in the chart's state
BAND_COLOR = "#6c5ce7"
REGION_COLOR = "#fdcb6e"  # the repaint region
EXTEND_COLOR = "#00b894"  # the seconds an extend adds
SILENCE = 1e-6  # a peak below this is silence: drawn at a nominal scale instead of blowing up noise

# m:ss on the time axis; Vega expressions, not Python, so the browser formats each tick
MSS_LABEL = "floor(datum.value / 60) + ':' + (floor(datum.value % 60) < 10 ? '0' : '') + floor(datum.value % 60)"


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

    @property
    def peak(self) -> float:
        """The largest absolute sample value (0..1 for audio in range)."""
        return max((abs(v) for v in (*self.mins, *self.maxs)), default=0.0)


def mss(seconds: float, *, decimals: int = 0) -> str:
    """0:04, 1:05.3: minutes and seconds as the player shows them (decimals for exact points)."""
    seconds = max(0.0, seconds)
    scale = 10**decimals
    total = math.floor(seconds * scale + 1e-6) / scale  # floor, as the browser's player does
    minutes, rest = divmod(total, 60)
    width = 2 + (decimals + 1 if decimals else 0)
    return f"{int(minutes)}:{rest:0{width}.{decimals}f}"


def peak_dbfs(peak: float) -> str:
    return "silent" if peak < SILENCE else f"{20 * math.log10(peak):.1f} dBFS"


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


def waveform_chart(env: Envelope, *, region: tuple[float, float] | None = None,
                   extend: tuple[float, float] | None = None, height: int = 140,
                   selectable: bool = False) -> alt.LayerChart:
    """The band scaled to the take's peak, time in m:ss, the repaint region (seconds) shaded, or
    with `extend` = (seconds before, seconds after) the new parts drawn beside the take; with
    `selectable`, dragging across the chart selects a region."""
    height = max(MIN_HEIGHT, height)
    peak = env.peak if env.peak >= SILENCE else 1.0
    before, after = extend or (0.0, 0.0)
    scale = alt.Scale(domain=[-before, env.duration + after], nice=False, zero=False)
    x = alt.X("t:Q", title=None, scale=scale, axis=alt.Axis(labelExpr=MSS_LABEL, tickMinStep=1, grid=False))
    band = (
        alt.Chart(envelope_frame(env))
        .mark_area(color=BAND_COLOR, opacity=0.9)
        .encode(x=x, y=alt.Y("lo:Q", title=None, scale=alt.Scale(domain=[-peak, peak], nice=False), axis=None),
                y2="hi:Q")
    )
    if selectable:
        band = band.add_params(alt.selection_interval(name=SELECTION, encodings=["x"], clear="dblclick"))
    shaded = [(region, REGION_COLOR)] if region is not None else []
    shaded += [((-before, 0.0), EXTEND_COLOR)] if before > 0 else []
    shaded += [((env.duration, env.duration + after), EXTEND_COLOR)] if after > 0 else []
    layers: list[Any] = [band]
    if shaded:  # on top of the band, see-through, so the band stays readable under it
        frame = pd.DataFrame({"t": [a for (a, _), _ in shaded], "t2": [b for (_, b), _ in shaded],
                              "color": [c for _, c in shaded]})
        layers.append(alt.Chart(frame).mark_rect(opacity=0.5)
                      .encode(x=x, x2="t2:Q", color=alt.Color("color:N", scale=None, legend=None)))
    # Streamlit's theme pads the axis generously; tighter labels leave the plot most of the height
    return (alt.layer(*layers).properties(height=height).configure_view(strokeWidth=0)
            .configure_axis(labelPadding=2, tickSize=4))


def selected_region(state: Any, *, duration: float) -> tuple[float, float] | None:
    """The region the person dragged on the chart, in seconds rounded to 0.1 s and kept inside the
    take; None when nothing (or an empty range) is selected. `state` is what Streamlit returns
    for the chart (or keeps in session state under its key)."""
    try:
        selection = state["selection"][SELECTION]
    except (KeyError, TypeError):
        return None
    values = selection.get("t") if isinstance(selection, dict) else None
    if not values or len(values) != 2:
        return None
    low, high = sorted(float(v) for v in values)
    low = round(min(max(low, 0.0), duration), 1)
    high = round(min(max(high, 0.0), duration), 1)
    return (low, high) if high > low else None
