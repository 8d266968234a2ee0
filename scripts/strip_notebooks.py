"""Removes outputs and execution counts from notebooks (they are stored stripped).

    .venv/bin/python scripts/strip_notebooks.py notebooks/*.ipynb
"""
import sys

import nbformat

for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata = {}
    nbformat.write(nb, path)
