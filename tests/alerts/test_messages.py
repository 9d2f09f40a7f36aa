"""The messages of each sink built from hostile and numerous items, and the post's reasons, against
the loopback receiver: Slack's limits kept, no markup, no URL in any reason."""

from __future__ import annotations

import json
from typing import Any

from cja_source.simulator.hostile import HOSTILE_NAMES
from cja_sync.alerts.items import CONDITIONS, by_condition
from cja_sync.alerts.messages import AlertMessage, slack_payload, teams_payload, webhook_payload
from cja_sync.alerts.post import post_json

from .conftest import Receiver

NAMES = [*HOSTILE_NAMES, "<!here> <@U1> <#C1> <https://x.example|y> *b* ~s~ `c` [l](https://x.example)"]


def _message(n: int) -> AlertMessage:
    rows = [
        (
            c,
            {
                "subject": f"dg_{i}/ds{i}",
                "connection_id": f"dg_{i}",
                "connection_name": NAMES[i % len(NAMES)],
                "data_set_id": f"ds{i}",
                "data_set_name": NAMES[(i + 3) % len(NAMES)],
                "detail": None,
                "opened_at": "2026-12-01T00:00:00+00:00",
            },
        )
        for c in CONDITIONS
        if c != "sync_stale"
        for i in range(n)
    ]
    label = NAMES[5] + " & <!channel>"
    return AlertMessage("X@AdobeOrg", label, None, new=by_condition(rows), resolved=by_condition(rows[:7]))


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [
            t for k, v in node.items() for t in ([v] if k == "text" and isinstance(v, str) else _texts(v))
        ]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


def test_slack_keeps_names_as_text_and_within_limits() -> None:
    payload = slack_payload(_message(40))
    assert len(payload["blocks"]) <= 50 and payload["mrkdwn"] is False
    header = payload["blocks"][0]["text"]["text"]
    assert len(header) <= 150
    for text in _texts(payload):
        assert "<" not in text and ">" not in text and len(text) <= 3000
        assert not any(ch in text for ch in "\x00\x1b\x7f\x9b\u202e\r\u2028")  # lines: our "\n" only
    for block in payload["blocks"]:
        if block["type"] == "section" and block["text"]["type"] == "mrkdwn":
            assert "dg_" not in block["text"]["text"]  # user text is never mrkdwn
    shown = "\n".join(_texts(payload))
    assert "and 30 more" in shown and "cja-sync health" in shown
    assert "x" * 200 not in shown  # the 100 KB name is cut


def test_teams_card_has_no_markdown_for_names() -> None:
    card = teams_payload(_message(3))["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert {b["type"] for b in card["body"]} == {"RichTextBlock"}
    for text in _texts(card):
        assert not any(ch in text for ch in "\x00\x1b\n\r\u202e")


def test_webhook_items_are_objects_with_health_subjects() -> None:
    payload = json.loads(json.dumps(webhook_payload(_message(2))))
    assert set(payload["new"]) == set(CONDITIONS)
    assert [i["subject"] for i in payload["new"]["failed"]] == ["dg_0/ds0", "dg_1/ds1"]
    assert payload["new"]["failed"][0]["connection_name"] == NAMES[0]


def test_post_reasons_never_name_the_url(receiver: Receiver) -> None:
    url = receiver.url("webhook")
    receiver.fail["webhook"] = 2
    assert post_json(url, {"a": 1}, 5, 3, 0.01) is None  # two 500s, then taken
    assert len(receiver.take()) == 3
    receiver.fail["webhook"] = 9
    reason = post_json(url, {"a": 1}, 5, 2, 0.01)
    assert reason == "HTTP 500 (after 2 attempts)"
    closed = "http://127.0.0.1:9/webhook/hooks/" + receiver.token
    reason = post_json(closed, {}, 2, 1, 0.01)
    assert reason == "could not connect" and receiver.token not in reason
