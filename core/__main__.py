import os
import sys

# pydantic looks for plugins in the entry points of every installed distribution the first time a model is built
# (a good part of a command's start); VeloCoach uses none. PYDANTIC_DISABLE_PLUGINS set by the rider still wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from core.access.private_files import set_owner_only_umask

set_owner_only_umask()  # every file the CLI creates (database, .wal, backups, exports, tokens) is owner-only

from core.cli import main  # noqa: E402

sys.exit(main())
