"""A chart's SVG made safe to place inline in the report's HTML.

Inline SVG keeps the chart's words as text (searchable, copyable, sharp in the PDF), but it shares the
page with everything else: its ids could collide with another chart's (plotly names clip paths after
the figure), a `<style>` element would restyle the whole page, and a script or an external reference
would run or fetch something when the report is opened. So the SVG is parsed, anything active or
external is refused (`UnsafeSvgError`: the renderer fails rather than publish it), ids are prefixed
per chart, the fixed size gives way to the `viewBox` (the stylesheet scales it to the text width) and
the image is labelled for screen readers.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
HREF_ATTRIBUTES = ("href", f"{{{XLINK_NS}}}href")
# Elements that run code, embed other documents, restyle the page or change attributes over time.
REFUSED_ELEMENTS = frozenset(
    {"script", "style", "foreignObject", "iframe", "object", "embed", "animate", "animateMotion", "set", "handler"}
)
LOCAL_DATA = ("data:image/png;", "data:image/jpeg;", "data:image/gif;", "data:image/webp;")
_URL_REFERENCE = re.compile(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)""")

ET.register_namespace("", SVG_NS)  # serialise as plain <svg xmlns=…>, not ns0:svg
ET.register_namespace("xlink", XLINK_NS)


class UnsafeSvgError(ValueError):
    """The SVG holds something a report must not carry inline (a script, a style sheet, an external link)."""


def inline_svg(svg: bytes, prefix: str, label: str) -> str:
    """The `<svg>` element of `svg` as markup for an HTML page: checked, ids prefixed with `prefix`, scalable
    (no width or height, a `viewBox`), `role="img"` with `label` as its accessible name."""
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as error:
        raise UnsafeSvgError(f"not a well-formed SVG ({error})") from error
    if root.tag != f"{{{SVG_NS}}}svg":
        raise UnsafeSvgError(f"the root element is {root.tag!r}, not an SVG")
    ids = {value for element in root.iter() if (value := element.get("id"))}
    for element in root.iter():
        _check_element(element)
        for name, value in list(element.attrib.items()):
            element.set(name, _rewritten(name, value, prefix, ids))
    _make_scalable(root)
    root.set("role", "img")
    root.set("aria-label", label)
    return ET.tostring(root, encoding="unicode")


def _check_element(element: ET.Element) -> None:
    local = element.tag.rpartition("}")[2]
    if local in REFUSED_ELEMENTS:
        raise UnsafeSvgError(f"the SVG contains a <{local}> element")
    handlers = [name for name in element.attrib if name.rpartition("}")[2].lower().startswith("on")]
    if handlers:
        raise UnsafeSvgError(f"the SVG has event handler attributes ({', '.join(handlers)})")


def _rewritten(name: str, value: str, prefix: str, ids: set[str]) -> str:
    """An attribute's value with its references to ids of this SVG prefixed; any other reference refused."""
    if name == "id":
        return prefix + value
    if name in HREF_ATTRIBUTES:
        return _reference(value, prefix, ids)
    if "url(" not in value:
        return value
    return _URL_REFERENCE.sub(lambda found: f'url("{_reference(found.group(2), prefix, ids)}")', value)


def _reference(target: str, prefix: str, ids: set[str]) -> str:
    if target.startswith("#") and target[1:] in ids:
        return f"#{prefix}{target[1:]}"
    if target.startswith(LOCAL_DATA):
        return target  # an embedded raster (plotly draws heatmaps as one)
    raise UnsafeSvgError(f"the SVG refers to something outside itself: {target[:80]!r}")


def _make_scalable(root: ET.Element) -> None:
    width, height = root.attrib.pop("width", None), root.attrib.pop("height", None)
    if root.get("viewBox") is None:
        if width is None or height is None:
            raise UnsafeSvgError("the SVG has neither a viewBox nor a width and height")
        root.set("viewBox", f"0 0 {_number(width)} {_number(height)}")


def _number(length: str) -> str:
    match = re.fullmatch(r"\s*([0-9.]+)(px)?\s*", length)
    if match is None:
        raise UnsafeSvgError(f"the SVG's size {length!r} is not in pixels")
    return match.group(1)
