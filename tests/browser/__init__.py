"""Browser checks of the generated HTML reports (headless Chromium from Debian, driven by Playwright)."""
