"""The server entry point OpenEnv's tooling expects (``server/app.py`` with ``main()``).

``uvicorn server.app:app`` (openenv.yaml's ``app``) builds the server with its defaults;
``main()`` is ``phinance-env openenv serve``, with the same options, so there is one way
to serve it.
"""

import sys


def __getattr__(name: str):
    """``app`` is built on first use: importing this module for ``main`` loads no data."""
    if name == "app":
        from phinance_env.openenv import build_app

        return build_app()
    raise AttributeError(name)


def main() -> None:
    from phinance_env.cli import app as cli

    cli(args=["openenv", "serve", *sys.argv[1:]], prog_name="server")


if __name__ == "__main__":
    main()
