"""All of vitrina-sync's exceptions. Translated to messages only at the edges (CLI, HTTP, jobs)."""


class VitrinaError(Exception):
    """Base class: a failure with a message meant for a person."""


class ConfigError(VitrinaError):
    """A setting, preset or plugin is wrong."""


class CatalogError(VitrinaError):
    """The catalog as a whole cannot be used (missing file, no SKU column...)."""


class CatalogLocked(CatalogError):
    """Someone holds the catalog open (Excel's ~$ lock file) and it stayed locked."""


class CatalogChanged(CatalogError):
    """The catalog changed on disk while we were writing and retries ran out."""


class RowError(VitrinaError):
    """One row cannot be processed; the message goes into that row's Message cell."""


class ImageError(RowError):
    """The row's source image is missing, unreadable, unsafe or too large."""


class ModelMissing(RowError):
    """A model a preset asks for is not installed here; the message says how to fetch it."""


class QueueError(VitrinaError):
    """Redis or the workers could not be reached."""


class StorageError(VitrinaError):
    """The storage (a bucket, a network folder) could not be reached: transient, the job is retried."""


class StrokesError(VitrinaError):
    """A touch-up's strokes are malformed (kind, width, points): the message says which and why."""


def shown(text: object, limit: int = 60) -> str:
    """A cell's text quoted for a RowError message, at most about `limit` characters: a
    100,000-character cell must make a short Message, not a longer cell. The quoted form is cut
    (repr spells an unprintable character in up to ten)."""
    quoted = repr(str(text))
    return quoted if len(quoted) <= limit + 2 else quoted[:limit] + "…'"


class DriveError(ImageError):
    """A Google Drive source cannot be used (not shared, not a photo, over a cap, quota).

    `code`/`reason` are the Drive API's answer (0/"" when there was none); `retry` says whether
    trying again later can help (quota, Google unavailable), which a planner uses to keep its
    cached metadata instead of forgetting it.
    """

    def __init__(self, message: str, code: int = 0, reason: str = "", retry: bool = False):
        super().__init__(message)
        self.code, self.reason, self.retry = code, reason, retry
        self.wait: float | None = None  # Retry-After seconds, when the answer had one
        self.file_id = ""  # the Drive file it is about, when one
