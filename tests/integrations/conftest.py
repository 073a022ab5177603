"""Framework integrations: each test module skips when its framework is missing (the project's
dev environment installs none of them). Keras runs on the torch backend: no TensorFlow needed,
and it must be chosen before Keras is first imported."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
