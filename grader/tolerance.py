"""compare()'s tolerances where neither a check nor the manifest's [tolerances] gives one.

Apart from the checks API so that reading a manifest (its schema's defaults) needs
no numpy: the command line starts the sandbox while numpy is still importing.
"""

DEFAULT_RTOL, DEFAULT_ATOL = 1e-7, 1e-9
