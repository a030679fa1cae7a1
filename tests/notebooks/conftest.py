"""nbval regression of the report templates: executed references of each template on the small demo warehouse.

Charts are compared through the numbers and sentences around them, not pixel by pixel: PNG outputs are skipped
(their bytes change with font and library versions). Everything else — tables, insights, numbers — must match.
"""


def pytest_collectstart(collector):
    if getattr(collector, "fspath", None) is not None and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("image/png", "image/svg+xml")
