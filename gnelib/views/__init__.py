"""The data behind the report templates: one module per template (e.g. `seller_risk`, `listing_compliance`,
`after_sales`, `experiment_readout`), each giving the frames, tables and key-insight sentences of its sections;
`common` holds what they share.

Catalog metrics always come from `gnelib.metrics.compute` / `samples`; the few non-metric tables (request mix,
enforcement status of a seller, experiment units) use fixed SQL with bound parameters.
"""
