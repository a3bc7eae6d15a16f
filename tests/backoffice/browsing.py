"""Helpers of the back office's browser tests: logging in at a given width, screenshots, and the
page-width check (no horizontal scroll: nothing of the page lies beyond the viewport)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tests.backoffice.factories import PASSWORD
from tests.browser import SCREENSHOTS

# The widths every admin page is checked at: a laptop, and a narrow window (Django's admin
# switches to its one-column layout below 1024 px).
WIDE, NARROW = 1280, 900

_DESCRIBE = """const describe = (el) => {
  const id = el.id ? '#' + el.id : '';
  const cls = el.classList.length ? '.' + [...el.classList].join('.') : '';
  return el.tagName.toLowerCase() + id + cls;
};"""
# Elements sticking out to the right of the viewport (the culprits, for a failing assertion).
_OVERFLOWING = (
    """() => {"""
    + _DESCRIBE
    + """
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > window.innerWidth + 1) {
      out.push(`${describe(el)} right=${Math.round(box.right)}`);
    }
  }
  return out.slice(0, 12);
}"""
)
# Content wider than its box, hidden or scrolled inside the page: a list's table scrolling in its
# container (columns out of sight), a read-only value or a cell cut off.
_CLIPPED = (
    """(scrollOk) => {"""
    + _DESCRIBE
    + """
  const out = [];
  const boxes = '#changelist .results, div.readonly, .inline-group td, .inline-group th, '
    + '#result_list td, #result_list th, .bo-card, .module:not(#changelist)';
  for (const el of document.querySelectorAll(boxes)) {
    const scrolls = ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    if (el.scrollWidth > el.clientWidth + 1 && !(scrollOk && scrolls)) {
      out.push(`${describe(el)} ${el.scrollWidth}>${el.clientWidth}`);
    }
  }
  return out.slice(0, 12);
}"""
)


def shot(page: Any, name: str) -> str:
    """A full-page screenshot in var/screenshots/<name>.png; returns the file name."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    return f"{name}.png"


def log_in(browser: Any, base: str, username: str, *, width: int = WIDE) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(base + reverse("admin:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form input[type=submit]")
    page.wait_for_selector("#dashboard")
    return page


def horizontal_overflow(page: Any) -> list[str]:
    """[] when the page has no horizontal scroll, else the elements sticking out."""
    fits = page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    return [] if fits else page.evaluate(_OVERFLOWING) or ["(the document is wider)"]


def clipped(page: Any, *, tables_may_scroll: bool = False) -> list[str]:
    """The lists, tables, values and cells whose content is wider than they are (cut off, or
    scrolled out of sight unless `tables_may_scroll`)."""
    return page.evaluate(_CLIPPED, tables_may_scroll)


def layout_problems(page: Any, *, tables_may_scroll: bool = False) -> list[str]:
    """Horizontal scroll and cut-off content. `tables_may_scroll`: a list or an inline table
    wider than a narrow window may scroll inside its own box (as Django's lists do on small
    screens), never the page, and nothing may be cut off."""
    return horizontal_overflow(page) + clipped(page, tables_may_scroll=tables_may_scroll)


def assert_fits(page: Any, *, tables_may_scroll: bool = False) -> None:
    """No horizontal scroll (document.documentElement.scrollWidth <= window.innerWidth) and
    nothing cut off inside the page."""
    problems = layout_problems(page, tables_may_scroll=tables_may_scroll)
    assert not problems, f"{page.url} does not fit {page.viewport_size['width']} px: {problems}"
