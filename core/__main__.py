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

from core import answers  # noqa: E402

# The same question about unchanged data is answered from the kept answer, before DuckDB is even imported.
pending = answers.prepare(sys.argv[1:])
if pending is not None:
    if pending.replay():
        os._exit(0)
    pending.record()

from core.cli import main  # noqa: E402

# The collector need not walk what the start made (modules, classes, DuckDB's and argparse's objects: they live until
# exit) at every full collection (issue 17).
gc.freeze()
code = main(process_ends=True)
if pending is not None:
    pending.store(code)
# The interpreter's teardown (full collections over everything, every module's clean-up, DuckDB's destructors) is
# ~5 % of a light command and leaves nothing the process's end does not: the output and the log file are flushed
# here, then the process ends at once. A database with unwritten work was closed by main() (Context.close).
import logging  # noqa: E402 — loaded by main() already

logging.shutdown()
for stream in (sys.stdout, sys.stderr):
    try:
        stream.flush()
    except (BrokenPipeError, OSError, ValueError):  # the reader has gone (`| head`): nothing more to give it
        pass
os._exit(code)
