"""Sphinx configuration of the course's book; tools/build_book.py stages the sources and runs Sphinx.

Every page is a notebook of notebooks/ shown with its stored outputs (myst-nb, execution off). Nothing is
loaded from outside the site: MathJax and its font are in _static/ (copied by the build), the theme serves
its own fonts and icons, and widget scripts are never added.
"""

import os

project = "Deep linear networks through the trajectories of gradient descent"
author = "the lnnlib authors"
html_title = "Deep linear networks"

extensions = ["myst_nb", "sphinx.ext.githubpages"]  # githubpages: writes .nojekyll
exclude_patterns = ["_readme_*.md", "_notebooks", "**.ipynb_checkpoints"]

nb_execution_mode = "off"  # the stored outputs are the book's: nbval checks them, nothing is re-run
nb_merge_streams = True  # one block per cell for text printed in several writes
nb_ipywidgets_js = {}  # never load the widget manager (from a CDN); the demos are shown as pictures
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_dmath_double_inline = True  # "$$...$$" inside a paragraph is display math (notebook 10, section 3)
myst_heading_anchors = 3

# MathJax 4 from _static (tools/build_book.py copies it from the npm package); its font path is set in
# _mathjax_config.js, else the font's data would be fetched from a CDN and typesetting stops at \mathbb
mathjax_path = "mathjax/tex-chtml.js"
mathjax_config_path = "_mathjax_config.js"

html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_copy_source = False  # each page links its notebook instead
html_show_sourcelink = False
html_show_copyright = False
html_last_updated_fmt = None
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": True,
}
html_context = {"default_mode": "light"}  # the figures are drawn on white (and an empty mode logs an error)
# the GitHub workflow names the repository (a link in the header; nothing is loaded from it)
if os.environ.get("LNNLIB_BOOK_REPOSITORY_URL"):
    html_theme_options |= {"repository_url": os.environ["LNNLIB_BOOK_REPOSITORY_URL"], "use_repository_button": True}
