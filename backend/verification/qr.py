"""QR codes as SVG, made here (segno): nothing is fetched, and the page embeds the SVG as it is."""

from __future__ import annotations

import io

import segno


def svg(text: str) -> bytes:
    # Level M survives a smudged print of an attestation on paper or a scratched phone screen.
    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, border=4, xmldecl=False)
    return out.getvalue()
