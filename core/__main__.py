import gc
import os
import sys

# pydantic looks for plugins in the entry points of every installed distribution the first time a model is built
# (a good part of a command's start); VeloCoach uses none. PYDANTIC_DISABLE_PLUGINS set by the rider still wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
# A command does no large matrix work; OpenBLAS's thread pool, started when numpy is imported, costs ~90 ms of CPU
# on a 2-core laptop (as much as the rest of a light command). The rider's own setting still wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from core.access.private_files import set_owner_only_umask

set_owner_only_umask()  # every file the CLI creates (database, .wal, backups, exports, tokens) is owner-only

from core.cli import main  # noqa: E402

# The collector need not walk what the start made (modules, classes, DuckDB's and argparse's objects: they live until
# exit) at every full collection, nor at exit, when the interpreter runs several full collections over everything
# (~25 ms, a tenth of a light command, issue 17). Nothing needs them: main() has closed the database and atexit
# handlers (the log file's flush) and the interpreter's module clean-up still run.
gc.freeze()
code = main()
gc.freeze()
sys.exit(code)
