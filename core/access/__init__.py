"""Access to the app and to the rider's files, without Streamlit: which hosts and clients may talk to the app
(DNS-rebinding defence, loopback), owner-only files and the process umask, the local owner account (argon2
password hash in an owner-only file in the data folder), signed expiring sessions, the sign-in rate limit, and
the client side of the running app's loopback API.

Must never: import streamlit or starlette, store a password or hash in the database or a backup, log a secret,
or weaken a check for convenience (an unparsable Host, Origin or cookie is refused, not guessed).
"""
