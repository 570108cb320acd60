"""The QA figures a row is flagged on, as imaging/qa.py's `flags` names them: one table for
the flags and for the review pages that read them back (web/review_data.py), so a new figure
is added once. Imports nothing: the web process reads it without the imaging stack."""

from __future__ import annotations

# (figure, the flag's name, its limit's key, whether the limit is a maximum), in the order the
# flags are written
CHECKS = (
    ("de_mean", "dE", "de_mean_max", True),
    ("de_p95", "dE p95", "de_p95_max", True),
    ("halo", "halo", "halo_max", True),
    ("uncertainty", "uncertainty", "uncertainty_max", True),
    ("bg_inside", "bg inside", "bg_inside_max", True),
    ("border", "border", "border_max", True),
    ("soft_holes", "soft holes", "soft_holes_max", True),
    ("kept_opening", "kept opening", "kept_opening_max", True),
    ("outgrowth", "outgrowth", "outgrowth_max", True),
    ("foreign_part", "foreign part", "foreign_part_max", True),
    ("lost_part", "lost part", "lost_part_max", True),
    ("parted", "parted", "parted_max", True),
    ("faint", "faint remains", "faint_max", True),
    ("cut_panel", "cut panel", "cut_panel_max", True),
    ("purity", "purity", "purity_min", False),
    ("sharpness", "sharpness", "sharpness_min", False),
    ("headroom", "headroom", "headroom_min", False),
)
FILL = ("fill", "fill")  # flagged against the preset's target, not a limit (qa.flags' last)
