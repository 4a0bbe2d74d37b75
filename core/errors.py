"""One exception hierarchy. Every message is a sentence a rider understands; pages show it with st.error."""


class VeloCoachError(Exception):
    """Base of every error VeloCoach raises on purpose. ``str(err)`` is the rider-facing message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(VeloCoachError):
    """A setting is missing or invalid."""


class StorageError(VeloCoachError):
    """The database cannot be opened, migrated or written."""


class DatabaseLockedError(StorageError):
    """Another process (usually the running app) holds the database file."""


class DatabaseTooNewError(StorageError):
    """The database was written by a newer VeloCoach."""


class WriteConflictError(StorageError):
    """Another writer changed the same rows at the same time; the whole operation may be tried again."""


class DatabaseDamagedError(StorageError):
    """The database file is damaged (unreadable blocks, failed checksums); the message says what to do."""


class NotFoundError(VeloCoachError):
    """A ride, route, plan … with that id does not exist."""


class ValidationError(VeloCoachError):
    """A value the rider typed is out of range or inconsistent."""


class InvalidFileError(VeloCoachError):
    """An uploaded or imported file cannot be used. The message names the file and the reason."""


class DuplicateError(VeloCoachError):
    """The thing being imported is already stored."""


class GarminSyncError(VeloCoachError):
    """Garmin Connect sign-in or sync failed."""


class GarminAuthError(GarminSyncError):
    """Tokens are missing, expired or revoked: the rider must sign in again."""


class SyncBusyError(GarminSyncError):
    """A sync of that Garmin account is already running (one at a time per account)."""


class AIServiceError(VeloCoachError):
    """The configured AI service failed; callers fall back to the deterministic path."""


class RuleParseError(VeloCoachError):
    """A training rule could not be understood."""


class RuleNeedsConfirmation(RuleParseError):
    """The preview asked "is that what you mean?" about a rule and the rider has not said yes: nothing is saved."""


class PlanGenerationError(VeloCoachError):
    """A plan request is invalid or no plan can satisfy it."""


class RuleBreakError(PlanGenerationError):
    """A plan edit would break one of the plan's rules; ``breaks`` lists each place, naming the rule. The rider may
    save it anyway only with an explicit override."""

    def __init__(self, message: str, breaks: list[str]):
        super().__init__(message)
        self.breaks = list(breaks)


class ExportImportError(VeloCoachError):
    """A backup cannot be written or read."""
