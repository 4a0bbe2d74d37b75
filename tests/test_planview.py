"""core.views.planview: escaped rider text, plan labels and captions, the plan figure, diffs and approval messages."""

from __future__ import annotations

from datetime import date

from core.coach.plans.engine import build_plan
from core.views import planview


def test_labels_and_captions():
    plan = {"active": True, "name": "Build", "version": 2, "start_date": date(2027, 1, 4)}
    assert planview.plan_label(plan) == "★ Build · v2 · 2027-01-04"
    assert planview.plan_label(plan | {"active": False}).startswith("Build")
    caption = planview.plan_caption(plan | {"end_date": date(2027, 2, 1), "goal_type": "fitness", "generator": "engine",
                                            "rules": [{"name": "no_[link]", "version": 1}]})
    assert caption.endswith("rules: no\\_\\[link\\] (v1)")
    assert planview.plan_caption(plan | {"end_date": None, "goal_type": "x", "generator": "ai", "rules": []}).endswith(
        "rules: none")
    assert planview.plan_versions_caption([{"version": 1, "id": 5}, {"version": 2, "id": 7}]) == \
        "Versions: v1 (#5) → v2 (#7)"
    assert planview.diff_rows([{"week": 1, "changed": ["mon", "tue"]}]) == [{"week": 1, "changed days": 2}]


def test_the_plan_figure_and_tiles_follow_the_weeks():
    plan = build_plan(date(2027, 1, 4), 3, [], ftp_w=250, weekly_hours=6)
    fig = planview.plan_figure(plan, [40.0, 42.0, 45.0])
    assert [t.name for t in fig.data] == ["Planned TSS", "Hours", "Projected CTL"]
    assert len(fig.data[0].x) == 3
    tiles = planview.plan_metrics(plan, [40.0, 42.0, 45.0])
    assert [t[0] for t in tiles] == ["Weeks", "Total hours", "Mean weekly TSS", "Projected CTL at the end"]
    assert tiles[0][1] == "3" and tiles[-1][2] == "+5"
    assert len(planview.plan_metrics(plan, None)) == 3


def test_approval_messages_say_what_changed_and_what_was_skipped():
    kept = planview.approval_message({"plan_id": 9, "version": 2, "old_plan_id": 5, "skipped": ["Tue: no workout"]})
    assert "v2 (#9) is now active" in kept and "(#5) is kept" in kept and kept.endswith("Skipped: Tue\\: no workout.")
    assert planview.approval_message({"plan_id": None, "skipped": []}) == \
        "Approved: nothing in the plan needed to change."
    assert planview.analysis_title({"id": 3, "kind": "adjustment"}) == "**#3 · Plan adjustment**"
    assert planview.analysis_title({"id": 4, "kind": "ride", "ride_id": 12}) == "**#4 · Ride 12**"
