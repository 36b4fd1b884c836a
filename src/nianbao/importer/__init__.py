"""Import annual reports published or returned as Word, PDF, web pages or text.

:func:`import_file` reads one file into the format's values, with a
confidence per table and findings that name the table, row and column of any
cell not read with certainty; :mod:`nianbao.importer.run` writes the filled
intake workbooks.
"""

from nianbao.importer.read import SUFFIXES, ImportResult, TableReading, import_file

__all__ = ["SUFFIXES", "ImportResult", "TableReading", "import_file"]
