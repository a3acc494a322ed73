"""Helpers for browser tests that aim at the waveform: where its band is drawn, and a drag across
it (the chart's interval selection). The band colour is `studio.ui.waveform.BAND_COLOR`."""

from __future__ import annotations

import io

from PIL import Image

from studio.ui.waveform import BAND_COLOR

BAND_RGB = tuple(int(BAND_COLOR[i : i + 2], 16) for i in (1, 3, 5))


def band_box(png: bytes) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the band's pixels in a screenshot of the chart element."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    pixels = image.load()

    def is_band(x: int, y: int) -> bool:
        r, g, b = pixels[x, y]
        return abs(r - BAND_RGB[0]) + abs(g - BAND_RGB[1]) + abs(b - BAND_RGB[2]) < 90

    rows = [y for y in range(height) if sum(is_band(x, y) for x in range(0, width, 3)) > width // 30]
    cols = [x for x in range(width) if sum(is_band(x, y) for y in range(0, height, 2)) > 2]
    assert rows and cols, "no band pixels found in the chart"
    return cols[0], rows[0], cols[-1], rows[-1]


def drag_across(page, chart, start: float, end: float) -> tuple[int, int, int, int]:
    """Drag from `start` to `end` (fractions of the take's length) across the band of `chart` (a
    locator of the stVegaLiteChart element); returns the band box used."""
    page.wait_for_timeout(800)  # Vega draws after the element appears
    box = chart.bounding_box()
    left, top, right, bottom = band_box(chart.screenshot())
    y = box["y"] + (top + bottom) / 2
    x0 = box["x"] + left + start * (right - left)
    x1 = box["x"] + left + end * (right - left)
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, y, steps=5)
    page.mouse.move(x1, y, steps=5)
    page.mouse.up()
    return left, top, right, bottom
