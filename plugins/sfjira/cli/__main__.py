from __future__ import annotations

from sfjira.cli import main

raise SystemExit(main())
