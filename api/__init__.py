"""HTTP API (FastAPI) and the composition root shared with the CLI.

Import ``api.app.create_app`` explicitly; this package's ``__init__`` stays light so the CLI
does not pay for FastAPI on every command.
"""
