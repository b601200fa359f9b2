"""The estimators users call: parameters, input preparation and learned attributes, nothing more.

`base.py` is what every classifier shares (`fit` hands the search to `autonas.engine`),
`parameters.py` validates the parameters, and `image.py` / `text.py` say how each task's inputs
are checked and turned into a network's inputs.
"""
from autonas.tasks.image import ImageSearchClassifier
from autonas.tasks.text import TextSearchClassifier

__all__ = ["ImageSearchClassifier", "TextSearchClassifier"]
