"""Security checks of `gne run` and its reports: no personal data, hostile parameters rejected before running."""
