"""Traces signals in Python subprocesses of the tests under tests/grader (see conftest.py).

On PYTHONPATH only while a test runs; does nothing unless DLGRADE_SIGNAL_TRACE_DIR
names the folder to report to. Loaded by file path: at start-up the repository
is not yet on sys.path.
"""

import importlib.util
import os
import sys
from pathlib import Path

_folder = os.environ.get("DLGRADE_SIGNAL_TRACE_DIR")
if _folder:
    _path = Path(__file__).resolve().parent.parent / "signal_trace.py"
    _spec = importlib.util.spec_from_file_location("dlgrade_signal_trace", _path)
    if _spec is not None and _spec.loader is not None:
        _module = importlib.util.module_from_spec(_spec)
        sys.modules["dlgrade_signal_trace"] = _module  # dataclasses look their module up
        _spec.loader.exec_module(_module)
        _module.report_at_exit(_folder)
