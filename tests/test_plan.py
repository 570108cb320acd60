"""Planning: what each row needs, on real files, without Redis."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vitrina_sync import decisions, plugins
from vitrina_sync.catalog.model import Row, Sheet
from vitrina_sync.fingerprint import FileHashCache
from vitrina_sync.plan import PlanContext, pack_eligibility, plan_sheet


def ctx_for(workspace: Path, settings) -> PlanContext:
    return PlanContext(
        settings,
        workspace,
        workspace / "out",
        plugins.modes(),
        {"kaspi", "wildberries", "ozon"},
        FileHashCache(),
        "test",
    )


def sheet(*rows: dict) -> Sheet:
    return Sheet(
        [], {}, [Row(i + 2, {k: str(v) for k, v in r.items()}) for i, r in enumerate(rows)]
    )


def one(workspace, settings, **values):
    return plan_sheet(sheet(values), ctx_for(workspace, settings))[0]


def test_new_row_is_queued_with_its_fingerprint(workspace, settings):
    plan = one(workspace, settings, sku="A1", source="photos/mug.jpg")
    assert plan.action == "enqueue"
    assert plan.update.values == {
        "status": "queued",
        "fingerprint": plan.fingerprint,
        "message": "",
    }
    assert plan.task["source"] == str((workspace / "photos/mug.jpg").resolve())
    assert plan.task["queue"] == "cpu" and plan.task["preset"]["canvas"] == [400, 400]


def test_finished_unchanged_row_is_left_alone(workspace, settings):
    fp = one(workspace, settings, sku="A1", source="photos/mug.jpg").fingerprint
    plan = one(
        workspace,
        settings,
        sku="A1",
        source="photos/mug.jpg",
        status="needs_review",
        fingerprint=fp,
    )
    assert plan.action == "unchanged" and plan.update is None and plan.task is None


def test_changed_source_bytes_requeue_exactly_that_row(workspace, settings):
    ctx = ctx_for(workspace, settings)
    rows = [{"sku": "A1", "source": "photos/mug.jpg"}, {"sku": "B2", "source": "photos/bag.jpg"}]
    first = plan_sheet(sheet(*rows), ctx)
    done = [dict(r, status="needs_review", fingerprint=p.fingerprint) for r, p in zip(rows, first)]
    data = (workspace / "photos/bag.jpg").read_bytes()
    (workspace / "photos/bag.jpg").write_bytes(data[:-2] + b"\x00\xd9")  # same size, other bytes
    os.utime(workspace / "photos/bag.jpg", ns=(1, 1))
    again = plan_sheet(sheet(*done), ctx)
    assert [p.action for p in again] == ["unchanged", "enqueue"]


def test_changed_mode_or_preset_changes_the_fingerprint(workspace, settings):
    base = one(workspace, settings, sku="A1", source="photos/mug.jpg").fingerprint
    portrait = one(
        workspace, settings, sku="A1", source="photos/mug.jpg", preset="portrait"
    ).fingerprint
    assert base != portrait


@pytest.mark.parametrize(
    "values, message",
    [
        ({"sku": "", "source": "photos/mug.jpg"}, "SKU is empty"),
        ({"sku": "X", "source": "photos/nope.jpg"}, "source file not found"),
        ({"sku": "X", "source": "../../etc/passwd"}, "leaves the asset folder"),
        ({"sku": "X", "source": "/etc/passwd"}, "relative to the asset folder"),
        ({"sku": "X", "source": "C:/photos/a.jpg"}, "relative to the asset folder"),
        ({"sku": "X", "source": "photos\\mug.jpg"}, "backslashes"),
        ({"sku": "X", "source": "photos/mug.jpg", "mode": "sepia"}, "unknown mode 'sepia'"),
        ({"sku": "X", "source": "photos/mug.jpg", "preset": "huge"}, "unknown preset 'huge'"),
        (
            {"sku": "X", "source": "photos/mug.jpg", "marketplaces": "kaspi, amazon"},
            "unknown marketplace 'amazon'",
        ),
        ({"sku": "X", "source": "https://example.com/a.jpg"}, "URLs are off"),
        ({"sku": "X", "source": ""}, "Source is empty"),
    ],
)
def test_row_errors_are_clear_and_per_row(workspace, settings, values, message):
    plan = one(workspace, settings, **values)
    assert plan.action == "invalid"
    assert message in plan.message
    assert plan.update.values["status"] == "error" and message in plan.update.values["message"]


def test_symlink_out_of_the_asset_root_is_refused(workspace, settings, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.jpg"
    outside.write_bytes((workspace / "photos/mug.jpg").read_bytes())
    (workspace / "photos/link.jpg").symlink_to(outside)
    plan = one(workspace, settings, sku="X", source="photos/link.jpg")
    assert plan.action == "invalid" and "outside the asset folder" in plan.message


def test_duplicate_skus_are_an_error_on_every_duplicate(workspace, settings):
    plans = plan_sheet(
        sheet(
            {"sku": "D", "source": "photos/mug.jpg"},
            {"sku": "E", "source": "photos/mug.jpg"},
            {"sku": "D", "source": "photos/bag.jpg"},
        ),
        ctx_for(workspace, settings),
    )
    assert [p.action for p in plans] == ["invalid", "enqueue", "invalid"]
    assert "duplicate SKU 'D' (rows 2, 4)" in plans[0].message
    assert plans[0].update.all_duplicates


def test_russian_aliases_for_mode_and_marketplaces(workspace, settings):
    plan = one(
        workspace, settings, sku="R", source="photos/mug.jpg", mode="Белый", marketplaces="ВБ, озон"
    )
    assert plan.spec.mode == "white" and plan.spec.marketplaces == ["wildberries", "ozon"]


def approved_row(workspace, settings, **extra):
    fp = one(workspace, settings, sku="A1", source="photos/mug.jpg").fingerprint
    row = {
        "sku": "A1",
        "source": "photos/mug.jpg",
        "status": "needs_review",
        "fingerprint": fp,
        "decision": "approved",
        "approver": "anna",
        "review_date": "2026-11-20",
    }
    return fp, {**row, **extra}


def test_a_sheet_decision_is_bound_to_the_current_fingerprint(workspace, settings):
    fp, row = approved_row(workspace, settings)
    plan = one(workspace, settings, **row)
    assert plan.action == "decision" and plan.update.values["status"] == "approved"
    bound = dict(row, status="approved", decision_fp=plan.update.values["decision_fp"])
    assert plan.update.values["decision_fp"].startswith(fp[:12] + ":")
    assert one(workspace, settings, **bound).action == "unchanged"
    ok, reason, _ = pack_eligibility(Row(2, bound), ctx_for(workspace, settings))
    assert ok, reason


def test_approved_row_whose_source_changes_reopens_review_naming_the_old_approval(
    workspace, settings
):
    fp, row = approved_row(workspace, settings)
    bound = dict(
        row, status="approved", decision_fp=f"{fp[:12]}:{decisions.signature(Row(2, row))}"
    )
    (workspace / "photos/mug.jpg").write_bytes(
        (workspace / "photos/bag.jpg").read_bytes()
    )  # photo replaced
    plan = one(workspace, settings, **bound)
    assert plan.action == "enqueue"
    assert "approved by anna on 2026-11-20" in plan.message and fp[:12] in plan.message
    ok, reason, _ = pack_eligibility(Row(2, bound), ctx_for(workspace, settings))
    assert not ok and "stale" in reason
    # After the new picture is made, the old Decision cell must not approve it.
    new = dict(bound, status="needs_review", fingerprint=plan.fingerprint)
    assert one(workspace, settings, **new).action == "unchanged"
    # A new decision (a new review date) binds to the new picture.
    again = one(workspace, settings, **dict(new, review_date="2026-11-27"))
    assert again.update.values["status"] == "approved"
    assert again.update.values["decision_fp"].startswith(plan.fingerprint[:12])


def test_unbound_decision_on_a_changed_row_is_marked_as_seen(workspace, settings):
    fp, row = approved_row(workspace, settings, preset="portrait")  # preset changed before any sync
    plan = one(workspace, settings, **row)
    assert plan.action == "enqueue"
    assert plan.update.values["decision_fp"].startswith(fp[:12])  # bound to the OLD picture
