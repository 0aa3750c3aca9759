"""Front ends on the engine: scikit-learn, hypermodels, framework callbacks, loggers."""

# Fills the registry behind tune.keras_callback & co. (imports no framework).
from . import _frameworks  # noqa: F401
