"""Sub-commands of ``python -m core``: each module has ``register(subparsers)``."""
