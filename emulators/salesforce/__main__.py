"""`python -m emulators.salesforce --port 0 --data-dir DIR [--tls-dir DIR] [--schema-extra FILE ...]`."""

from __future__ import annotations

from pathlib import Path

from emulators.common.server import argument_parser, serve
from emulators.salesforce.app import create_app


def main() -> None:
    parser = argument_parser("salesforce")
    parser.add_argument("--schema-extra", type=Path, action="append", default=[],
                        help="a YAML file shaped like schema.yaml whose objects/fields are merged over it")
    serve("salesforce", create_app, parser.parse_args())


if __name__ == "__main__":
    main()
