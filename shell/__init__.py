"""The app shell around Streamlit (an ``st.App``): the gate every request and websocket passes (allowed Host,
same Origin, sign-in or this computer only), VeloCoach's own routes under one Mount ``/_velocoach`` (sign-in,
sign-out, the loopback API for the CLI and local tools), and the lifespan (start-up refusal, API token file,
background tasks). services.py adds the app's own database connection, the routes that run forwarded command-line
commands (core.relay) and the background Garmin sync.

app.py wires it: ``shell = Shell(); app = st.App("navigation.py", routes=shell.routes(),
middleware=shell.middleware(), lifespan=shell.lifespan)``. Add an API route with ``shell.add_api_route(name,
handler)`` and a background task with ``shell.add_lifespan_hook(hook)`` (see api.py and server.py).

Must never: hold business logic or SQL (API handlers call core/), import app_pages, or be imported by core/.
The pure checks (hosts, owner-only files, passwords, sessions) live in core.access and are tested there.
"""
