"""Command-line commands while the app runs. DuckDB lets one process open the database file, and the running app
holds it; so ``python -m core`` forwards the whole command to the app through its loopback API, the app runs the
same argparse handler on its own connection (a cursor in a worker thread) and streams back stdout, stderr and the
exit code.

The rider's files stay on the command line's side: a command reaches them only through ``ctx.files``
(files.py). In a direct run that is this process's file system; in a forwarded run every stat, read, write and
prompt is a request the app sends back to the command line, which serves it only for the files and folders named
on its command line (``set_defaults(local_inputs=..., local_outputs=...)`` in each command's parser).

Modules: files.py (LocalFiles, the forwarded counterpart, the command line's guard, the wire format), server.py
(the app side: jobs, output capture, API routes), client.py (the command line side: forward and serve).

Owns: the forwarding protocol. Must never: open, list or write a path named by the command line inside the app
process, serve a file the command line did not name, or run a command for a caller without the app's API token
(the shell checks it before any handler here runs).
"""
