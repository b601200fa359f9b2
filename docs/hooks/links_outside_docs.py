"""mkdocs hook: links from docs/ to files of the checkout outside it (`../CONTRIBUTING.md`,
`../benchmarks/README.md`) are checked against the checkout instead of the site.

mkdocs only knows the files under docs/, so it reports such a link as not found, and `--strict`
fails on it; mkdocs has no setting for links out of docs_dir alone. This hook drops that report
when the target exists in the checkout, and keeps it (so `--strict` still fails) when it does
not, as for every broken link inside docs/.
"""
import logging
import re
from pathlib import Path

_NOT_FOUND = re.compile(r"Doc file '(?P<page>[^']+)' contains a link '(?P<link>[^'#?]+)[^']*', but the target")


class _LinksOutsideDocs(logging.Filter):
    def __init__(self, docs_dir):
        super().__init__()
        self.docs_dir = Path(docs_dir).resolve()

    def filter(self, record):
        found = _NOT_FOUND.match(record.getMessage())
        if found is None:
            return True
        target = (self.docs_dir / found["page"]).parent.joinpath(found["link"]).resolve()
        outside = not target.is_relative_to(self.docs_dir)
        return not (outside and target.is_file())


_filter = None


def on_config(config):
    global _filter
    pages_logger = logging.getLogger("mkdocs.structure.pages")
    if _filter is not None:
        pages_logger.removeFilter(_filter)  # `mkdocs serve` reloads the config on each change
    _filter = _LinksOutsideDocs(config.docs_dir)
    pages_logger.addFilter(_filter)
    return config
