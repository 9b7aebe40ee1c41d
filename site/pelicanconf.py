"""Pelican settings for the GhostShell Registry site (pages only, pretty URLs).

Build with `python build.py` from the repository root. The register form's ontological statuses and
cognitive-core catalogue come from the API's own data file, api/catalogue.json, and its fields, labels, hints and
limits, the rules' numbers and the public id format from api/definition.json (generated from api/definition.py),
so the pages and the server cannot drift.
"""

import json
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent

SITENAME = "GhostShell Registry"
SITEURL = ""
RELATIVE_URLS = False
TIMEZONE = "UTC"
DEFAULT_LANG = "en"

PATH = str(_HERE / "content")
THEME = str(_HERE / "theme")
THEME_STATIC_DIR = "theme"
THEME_STATIC_PATHS = ["static"]
OUTPUT_PATH = str(_HERE.parent / "output")

# Pages only.
ARTICLE_PATHS = []
PAGE_PATHS = ["pages"]
STATIC_PATHS = []
READERS = {"md": None, "rst": None}
DIRECT_TEMPLATES = []
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
PAGE_TRANSLATION_ID = None
ARTICLE_SAVE_AS = ""
ARTICLE_LANG_SAVE_AS = ""
PAGE_LANG_SAVE_AS = ""
DRAFT_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAG_SAVE_AS = ""
TAGS_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
YEAR_ARCHIVE_SAVE_AS = ""
MONTH_ARCHIVE_SAVE_AS = ""
DAY_ARCHIVE_SAVE_AS = ""
FEED_ALL_ATOM = None
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
DEFAULT_PAGINATION = False
SLUGIFY_SOURCE = "basename"
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False

CATALOGUE = json.loads((_HERE.parent / "api" / "catalogue.json").read_text(encoding="utf-8"))
# The registry's definition (fields, rules, id format), exported by api/definition.py; build.py refreshes it.
DEFINITION = json.loads((_HERE.parent / "api" / "definition.json").read_text(encoding="utf-8"))
RULES = DEFINITION["rules"]

# The price as the API charges it (api/rules.py), for the home page's statement of it.
sys.path.insert(0, str(_HERE.parent))
from api.rules import PRICE_DISPLAY  # noqa: E402, F401 (a template variable)

NAV = [
    ("Issue certificate", "/issue/"),
    ("Registry", "/registry/"),
    ("Seal", "/seal/"),
]
TAGLINE = "Inception, without judgement, preserved."

JINJA_ENVIRONMENT = {"trim_blocks": True, "lstrip_blocks": True}
