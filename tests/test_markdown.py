from __future__ import annotations

from lxml import html as lxml_html

from portfolio.markdown import render_markdown


def test_markdown_renders_the_basics() -> None:
    out = render_markdown("**gras** et *italique*\n\n- un\n- deux\n\n[Lot](https://www.lot.fr)")
    assert "<strong>gras</strong>" in out and "<em>italique</em>" in out and "<li>deux</li>" in out
    assert '<a href="https://www.lot.fr" rel="nofollow noopener">Lot</a>' in out


def test_dangerous_html_does_not_survive() -> None:
    payloads = [
        "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
        '<a href="data:text/html,<script>alert(1)</script>">x</a>', '<p style="position:fixed">x</p>',
        "<iframe src=//evil.example></iframe>", '<svg onload="alert(1)">', "[x](JaVaScRiPt:alert(1))",
    ]
    for payload in payloads:
        tree = lxml_html.fragment_fromstring(render_markdown(payload) or "<p></p>", create_parent="div")
        for element in tree.iter():
            assert element.tag not in ("script", "iframe", "svg", "img", "style")
            for name, value in element.attrib.items():
                assert not name.startswith("on") and name != "style"
                assert not value.strip().lower().startswith(("javascript:", "data:"))
