import sys

from core.access.private_files import set_owner_only_umask

set_owner_only_umask()  # every file the CLI creates (database, .wal, backups, exports, tokens) is owner-only

from core.cli import main  # noqa: E402

sys.exit(main())
