"""The estimators users call: thin layers that adapt data and drive space, strategy and runner."""
from autonas.tasks.image import ImageSearchClassifier

__all__ = ["ImageSearchClassifier"]
