"""Names that try to break whatever displays them: markup and script for the HTML report, template
syntax for plotly and friends, terminal escape sequences, NUL, line breaks, bidi overrides, a
100 KB name, emoji. `SimConfig(hostile_names=True)` gives connections and datasets these names,
in turn, so a few dozen connections share each name."""

from __future__ import annotations

HOSTILE_NAMES: tuple[str, ...] = (
    "<!--<script>",
    '<a href="https://evil.example/">evil link</a>',
    "</script><script>window.__cja_pwned = 'script'</script>",
    "<svg onload=\"window.__cja_pwned = 'svg'\">",
    "<img src=x onerror=\"window.__cja_pwned = 'img'\">",
    "%{y} %{customdata} %{x:$.2f}",
    "{{7*7}} ${7*7} <%= 7*7 %>",
    "\x1b]0;retitled\x07\x1b[31mred\x1b[0m \x1b[2J",
    "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "nul\x00byte",
    "line\r\nbreak\rreturn\nfeed",
    "tab\tand\x7fdel\x9bcsi",
    "\u202eevil.exe\u202c gpj.txt",
    "שלום مرحبا RTL",
    "🚀 launch 👩‍👩‍👧 family",
    "sep\u2028line\u2029para",
    "<b>bold</b><br>break<i>it</i>",
    "&amp; &lt;b&gt; &#60;script&#62;",
    "'; DROP TABLE connections; --",
    "javascript:alert(1)",
    "long " + "x" * 100_000,
)


def hostile_name(n: int) -> str:
    return HOSTILE_NAMES[n % len(HOSTILE_NAMES)]
