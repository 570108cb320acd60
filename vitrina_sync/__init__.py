"""vitrina-sync: a catalog spreadsheet as the source of truth for marketplace product photos."""

__version__ = "0.1.0"

# Bumped whenever a change to the image pipeline changes output pixels: part of every fingerprint,
# so a new pipeline re-opens review instead of silently keeping approvals for pictures it did not make.
PIPELINE_VERSION = "2"
