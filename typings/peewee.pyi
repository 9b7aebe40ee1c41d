# Peewee is checked as untyped (pyproject.toml, [tool.mypy]): some builds of peewee 4.5 install `peewee-stubs`,
# which do not know the automatic `id` field or the model generics. This stub, found before any installed one,
# makes every name Any, so a fresh install and an older one give the same result.
from typing import Any

def __getattr__(name: str) -> Any: ...
