"""`python -m emulators.jira --port 0 --data-dir DIR [--tls-dir DIR] [--mode cloud|datacenter]`."""

from __future__ import annotations

from emulators.common.server import argument_parser, serve
from emulators.jira.app import create_app
from emulators.jira.defaults import MODES


def main() -> None:
    parser = argument_parser("jira")
    parser.add_argument("--mode", choices=MODES, default=None,
                        help="cloud or datacenter (default: the stored mode, else cloud); switchable at runtime "
                             "through PUT /__emulator/config")
    serve("jira", create_app, parser.parse_args())


if __name__ == "__main__":
    main()
