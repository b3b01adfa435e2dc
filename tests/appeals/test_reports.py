"""Reports for a period: counts by state and month, overdue, answered late, the
average time to answer; as GraphQL for staff and CSV by the command line."""

from __future__ import annotations

import csv
import io

from cms.services.appeals import workflow
from cms.services.appeals.reports import appeal_report, report_csv
from tests.appeals.conftest import FixedClock, at, make_appeal
from tests.conftest import GraphQLClient, TestDatabase, make_settings
from tests.editing.helpers import sign_in
from tests.feedback.test_privacy import cms_command

REPORT = """
query($after: DateTime, $before: DateTime) {
  appealReport(receivedAfter: $after, receivedBefore: $before) {
    total byState { state count } byMonth { month received answered }
    overdue answeredLate averageDaysToAnswer
  }
}
"""
CALENDAR = {"CMS_APPEAL_CALENDAR": "weekends"}


async def _fill(db: TestDatabase) -> None:
    """Four appeals of February and March 2026 and one of 2025."""
    settings = make_settings(db.url, **CALENDAR)
    # Registered 2 February (due 4 March), answered 12 February: 10 days.
    quick = await make_appeal(settings, at("2026-02-02T01:00"), ticket="T-1")
    await workflow.answer(
        quick.pk, workflow.StepContext(None, settings, FixedClock(at("2026-02-12T01:00"))), text="О"
    )
    # Registered 3 February (due 5 March), answered 9 March: 34 days, late.
    late = await make_appeal(settings, at("2026-02-03T01:00"), ticket="T-2")
    await workflow.answer(
        late.pk, workflow.StepContext(None, settings, FixedClock(at("2026-03-09T01:00"))), text="О"
    )
    # Registered 2 March, open and overdue by now.
    await make_appeal(settings, at("2026-03-02T01:00"), ticket="T-3")
    # Registered 3 March, forwarded.
    forwarded = await make_appeal(settings, at("2026-03-03T01:00"), ticket="T-4")
    await workflow.forward(
        forwarded.pk, workflow.StepContext(None, settings), body="Минтруд", covering_letter="П"
    )
    await make_appeal(settings, at("2025-12-01T01:00"), ticket="T-5")


async def test_the_report_for_a_period(writer_client: GraphQLClient, db: TestDatabase) -> None:
    await _fill(db)
    await sign_in(writer_client, "viewer")  # counts only: every staff role
    data = await writer_client.data(
        REPORT, {"after": "2026-01-01T00:00:00+10:00", "before": "2026-04-01T00:00:00+10:00"}
    )
    report = data["appealReport"]
    assert report["total"] == 4
    counts = {item["state"]: item["count"] for item in report["byState"]}
    assert counts == {
        "RECEIVED": 0,
        "REGISTERED": 1,
        "IN_REVIEW": 0,
        "ANSWERED": 2,
        "FORWARDED": 1,
        "LEFT_WITHOUT_ANSWER": 0,
        "WITHDRAWN": 0,
    }
    assert report["byMonth"] == [
        {"month": "2026-02", "received": 2, "answered": 2},
        {"month": "2026-03", "received": 2, "answered": 0},
    ]
    assert report["overdue"] == 1
    assert report["answeredLate"] == 1
    assert report["averageDaysToAnswer"] == 22.0
    everything = await writer_client.data(REPORT, {})
    assert everything["appealReport"]["total"] == 5


async def test_the_report_as_csv(db: TestDatabase) -> None:
    await _fill(db)
    settings = make_settings(db.url, **CALENDAR)
    rows = list(csv.reader(io.StringIO(report_csv(await appeal_report(settings)))))
    assert rows[0] == ["section", "key", "value"]
    assert ["total", "", "5"] in rows
    assert ["state", "answered", "2"] in rows
    assert ["received_in_month", "2025-12", "1"] in rows
    assert ["average_days_to_answer", "", "22.0"] in rows
    output = cms_command(db, "appeals-report", "--from", "2026-03-01", "--to", "2026-03-31")
    by_key = {(row[0], row[1]): row[2] for row in csv.reader(io.StringIO(output))}
    assert by_key[("total", "")] == "2"
    assert by_key[("state", "forwarded")] == "1"
    assert by_key[("received_in_month", "2026-03")] == "2"
    assert by_key[("average_days_to_answer", "")] == ""
