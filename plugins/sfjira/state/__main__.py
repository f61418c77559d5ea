from __future__ import annotations

from sfjira.state.cli import main

raise SystemExit(main())
