"""Set-up of a cherry-nb process (the command line, the gateway's worker processes), done
when imported, which must be before anything imports httpx. The package never imports
it: a kernel that imports cherry_nb keeps its modules as they are.

httpx imports its own command-line client (`httpx._main`: click, pygments, rich) with
the package when those are installed; a cherry-nb process never runs it, and rich alone
cost `cherry-nb serve` ~40 ms of start-up and 3 MB. A None entry in `sys.modules` makes
that one import fail as if they were absent (httpx then defines a stub `main`).
"""

from __future__ import annotations

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
