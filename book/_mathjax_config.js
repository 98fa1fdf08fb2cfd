// MathJax 4 served by the site itself (tools/build_book.py copies it into _static/). Sphinx puts this
// after its own window.MathJax (myst-nb's classes to typeset) and before tex-chtml.js.
(() => {
  const root = document.documentElement.dataset.content_root || "./";
  const staticURL = new URL(root + "_static/", document.baseURI).href;
  const config = (window.MathJax = window.MathJax || {});
  // the font's files (woff2 and the data of rarer characters, e.g. \mathbb) come from the site too
  config.output = Object.assign(config.output || {}, {
    font: "mathjax-newcm",
    fontPath: staticURL + "mathjax-newcm-font",
  });
  if (location.protocol === "file:") {
    // a page opened from disk may not start a web worker: speech and Braille (they run in one) are off
    config.options = Object.assign(config.options || {}, { menuOptions: { settings: { speech: false, braille: false } } });
  }
})();
