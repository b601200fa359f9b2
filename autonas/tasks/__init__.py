"""The estimators users call: thin layers that adapt data and drive space, strategy and runner."""
from autonas.tasks.image import ImageSearchClassifier
from autonas.tasks.text import TextSearchClassifier

__all__ = ["ImageSearchClassifier", "TextSearchClassifier"]
