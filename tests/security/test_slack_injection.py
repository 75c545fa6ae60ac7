"""Campaign names are chosen by anyone with access to an ad account: in Slack they are text,
never a mention or a link (issue 15, item 5)."""

import pytest

from tests.alerts.conftest import World, anomaly_rows
from tests.support import AFTER_THE_FIXTURES

pytestmark = [pytest.mark.integration, AFTER_THE_FIXTURES]

PAYLOADS = ("<!channel> Winter & Co", "<https://evil.example|Open War Room>")


@pytest.mark.parametrize("campaign_name", PAYLOADS)
def test_a_hostile_campaign_name_reaches_slack_escaped(world: World, campaign_name: str) -> None:
    rows = anomaly_rows("acme", "inc-1", "2026-11-02T09:00", 2, campaign_name=campaign_name)
    world.materialize(rows, "acme", "2026-11-02")
    world.tick()

    (message,) = world.bodies("acme-slack")
    escaped = campaign_name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    mrkdwn = [message["text"]] + [
        field["text"]
        for block in message["blocks"]
        if block["type"] == "section"
        for field in block["fields"]
    ]
    assert escaped in message["text"] and any(escaped in text for text in mrkdwn[1:])
    for text in mrkdwn:
        assert "<!channel>" not in text and "<https://evil.example" not in text
        assert "& Co" not in text
    links = [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert "evil.example" not in str(links)  # the only links are War Room's own
