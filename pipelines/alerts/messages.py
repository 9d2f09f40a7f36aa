"""One alert, and what each kind of sink is sent for it: the generic webhook's JSON, a Slack
incoming webhook's text and blocks, a Teams workflow webhook's Adaptive Card.

Names of connections and datasets are user data. In Slack they go into `plain_text` objects and
`&`, `<`, `>` are escaped, so no name mentions (`<!channel>`, `<@U…>`), links (`<url|text>`) or
formats; in Teams they go into RichTextBlock text runs, which no markdown reaches. Everywhere they
lose their control characters and are cut."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from cja_source.version import __version__

from .items import CONDITIONS, TITLES

# items shown per condition, and lines in all, before "and N more"
PER_CONDITION = 10
MAX_LINES = 30
NAME_CHARS = 80
LINE_CHARS = 200
# data view names per line (the webhook's JSON lists them all)
DATA_VIEWS_SHOWN = 3
SEPARATORS = "\u2028\u2029\x85"


@dataclass
class AlertMessage:
    """What one sink is told about one org. `still`: conditions that hold and were told before,
    re-sent as a reminder (`remind_after_hours`). A failed sync's message has `status` failed and
    its one-line `error`."""

    org_id: str
    org: str | None
    as_of: str | None
    status: str = "ok"
    new: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    resolved: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    still: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def empty(self) -> bool:
        return self.status == "ok" and not any(
            items for group in (self.new, self.resolved, self.still) for items in group.values()
        )

    def label(self) -> str:
        return self.org or self.org_id


def webhook_payload(m: AlertMessage) -> dict[str, Any]:
    """The generic webhook's JSON: conditions and subjects as `health --new --json` names them."""
    out: dict[str, Any] = {
        "org_id": m.org_id,
        "org": m.org,
        "as_of": m.as_of,
        "status": m.status,
        "new": m.new,
        "resolved": m.resolved,
        "counts": m.counts,
        "version": __version__,
    }
    if m.still:
        out["still"] = m.still
    if m.error is not None:
        out["error"] = m.error
    return out


def clean(value: Any, limit: int = NAME_CHARS) -> str:
    """`value` as one line of plain text: control and bidi characters removed, line and paragraph
    separators made spaces, cut to `limit` characters."""
    text = "" if value is None else str(value)
    kept = []
    for ch in text[: limit * 4]:
        if ch in SEPARATORS or ch in "\n\r\t":
            kept.append(" ")
        elif unicodedata.category(ch) == "Cc" or _bidi(ch):
            continue
        else:
            kept.append(ch)
    line = " ".join("".join(kept).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _bidi(ch: str) -> bool:
    return unicodedata.category(ch) == "Cf" and ch not in "\u200d\ufe0f"


def summary(m: AlertMessage) -> str:
    """One line of counts, our own words and the org's label only."""
    if m.status == "failed":
        return f"CJA sync of {clean(m.label())} failed"
    parts = []
    for word, group in (("new", m.new), ("resolved", m.resolved), ("still holding", m.still)):
        n = sum(len(items) for items in group.values())
        if n:
            parts.append(f"{n} {word}")
    return f"CJA health of {clean(m.label())}: {', '.join(parts) or 'nothing new'}"


def item_line(condition: str, item: dict[str, Any]) -> str:
    if condition == "sync_stale":
        last = str(item.get("last_success_at"))[:16].replace("T", " ")
        return f"no successful sync for {item.get('hours_since')} h (last {last} UTC)"
    what = clean(item.get("connection_name") or item.get("connection_id"))
    if item.get("data_set_id"):
        what += f" / {clean(item.get('data_set_name') or item.get('data_set_id'))}"
    if item.get("detail"):
        what += f" ({clean(item.get('detail'), 40)})"
    line = f"{what} [{clean(item.get('subject'), 120)}]"
    views = item.get("data_views") or []
    if views:
        names = ", ".join(clean(v.get("name") or v.get("id"), 40) for v in views[:DATA_VIEWS_SHOWN])
        more = f" +{len(views) - DATA_VIEWS_SHOWN}" if len(views) > DATA_VIEWS_SHOWN else ""
        line += f", feeds {names}{more}"
    return clean(line, LINE_CHARS)


def sections(m: AlertMessage) -> list[tuple[str, list[str]]]:
    """(heading, lines) worst first: new, then still holding, then resolved; at most
    PER_CONDITION lines per condition and MAX_LINES in all, the rest counted."""
    out: list[tuple[str, list[str]]] = []
    budget = MAX_LINES
    for word, group in (("New", m.new), ("Still holding", m.still), ("Resolved", m.resolved)):
        for condition in CONDITIONS:
            items = group.get(condition) or []
            if not items:
                continue
            shown = items[: max(0, min(PER_CONDITION, budget))]
            budget -= len(shown)
            lines = [item_line(condition, i) for i in shown]
            if len(shown) < len(items):
                lines.append(f"and {len(items) - len(shown)} more")
            out.append((f"{word}: {TITLES[condition]} ({len(items)})", lines))
    return out


def hint(m: AlertMessage) -> str:
    org = f" --org {clean(m.org, 60)}" if m.org else ""
    return f"All of it: cja-sync health{org} --all (or --new), cja-sync report"


def slack_payload(m: AlertMessage) -> dict[str, Any]:
    """Slack incoming webhook: `text` (the notification) and blocks."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _slack(summary(m), 150)}}
    ]
    if m.status == "failed":
        blocks.append(_slack_plain(f"Reason: {clean(m.error, 600)}"))
    for heading, lines in sections(m):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{_slack(heading, 200)}*"}})
        blocks.append(_slack_plain("\n".join(f"• {line}" for line in lines)))
    blocks.append({"type": "context", "elements": [{"type": "plain_text", "text": _slack(hint(m), 300)}]})
    return {"text": _slack(summary(m), 300), "mrkdwn": False, "blocks": blocks}


_SLACK_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _slack(text: str, limit: int) -> str:
    """Slack's escaping (`<` and `>` start mentions and links, `&` entities), at most `limit`
    characters escaped (Slack refuses a longer header or section), never cut inside an entity."""
    out, used = [], 0
    for i, ch in enumerate(text):
        piece = _SLACK_ESCAPES.get(ch, ch)
        if used + len(piece) > limit - (1 if i < len(text) - 1 else 0):
            out.append("…")
            break
        out.append(piece)
        used += len(piece)
    return "".join(out)


def _slack_plain(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "plain_text", "text": _slack(text, 2900), "emoji": False}}


def teams_payload(m: AlertMessage) -> dict[str, Any]:
    """Teams workflow webhook ("Post to a channel when a webhook request is received"): a message
    with one Adaptive Card. User text only in text runs (no markdown); headings are ours."""
    body: list[dict[str, Any]] = [_run_block(summary(m), weight="Bolder", size="Medium")]
    if m.status == "failed":
        body.append(_run_block(f"Reason: {clean(m.error, 600)}"))
    for heading, lines in sections(m):
        body.append(_run_block(heading, weight="Bolder"))
        body.extend(_run_block(f"• {line}") for line in lines)
    body.append(_run_block(hint(m), subtle=True))
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def _run_block(text: str, **style: Any) -> dict[str, Any]:
    run: dict[str, Any] = {"type": "TextRun", "text": text}
    if style.get("weight"):
        run["weight"] = style["weight"]
    if style.get("size"):
        run["size"] = style["size"]
    if style.get("subtle"):
        run["isSubtle"] = True
    return {"type": "RichTextBlock", "inlines": [run]}


PAYLOADS = {"webhook": webhook_payload, "slack": slack_payload, "teams": teams_payload}
