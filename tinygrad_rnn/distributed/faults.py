"""When one process of a job fails, the others stop too, and say which one failed.

A collective waits for every process. If one of them raised and exited, the others would
wait for it forever: the classic silent hang of data-parallel jobs. Three guards, set up
by ``init_process_group`` for jobs of more than one process:

1. An uncaught exception (``sys.excepthook``): the traceback is printed as usual, then
   one line naming the rank, then the whole job is aborted (``MPI_Abort``: ``mpiexec``
   kills every process and exits non-zero). Nobody waits.
2. An exit without ``destroy_process_group()`` (``sys.exit`` in one rank, say): at exit
   the process tells the others it is gone. A process that then waits in a collective
   for it gets the notice, waits a short grace period (the collective may have finished
   before the other left) and aborts the job naming the rank that left.
3. Anything else (a process that hangs, or is killed without running Python's exit
   code): every collective waits at most ``timeout`` seconds, then aborts the job,
   saying which collective waited for how long. A process that fails before it calls
   ``init_process_group`` leaves the others waiting inside MPI's start-up, in C code;
   there a ``faulthandler`` timer ends them after ``timeout`` seconds, printing the stack
   (in ``_start_mpi_waiting_for_every_process``).

The group provides ``notify_others(reason)`` (tell the others this rank is leaving) and
``fail(message)`` (print, tell the others, abort); this module decides when to call them.
"""

from __future__ import annotations

import atexit
import sys
from typing import Any

_installed: dict[str, Any] = {}


def install(group: Any) -> None:
    """Guard ``group`` (1 and 2 above; 3 is in the group's waits)."""
    uninstall()
    previous = sys.excepthook

    def excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        previous(exc_type, exc, tb)  # the traceback first, as without us
        text = str(exc).splitlines()[0] if str(exc) else ""
        group.fail(f"raised {exc_type.__name__}{': ' + text if text else ''}")

    def at_exit() -> None:
        if _installed.get("group") is group:
            group.notify_others("exited without calling destroy_process_group()")

    sys.excepthook = excepthook
    atexit.register(at_exit)
    _installed.update(group=group, previous=previous, hook=excepthook, at_exit=at_exit)


def uninstall() -> None:
    """Remove the guards (``destroy_process_group``): a clean exit notifies nobody."""
    if not _installed:
        return
    if sys.excepthook is _installed["hook"]:
        sys.excepthook = _installed["previous"]
    atexit.unregister(_installed["at_exit"])
    _installed.clear()
