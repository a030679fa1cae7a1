"""The warehouse tables and their column types, as documented in docs/warehouse.md."""

TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "sellers": (
        ("seller_id", "BIGINT"), ("market", "VARCHAR"), ("joined_at", "TIMESTAMP"), ("tier", "VARCHAR"),
        ("business_type", "VARCHAR"), ("kyc_status", "VARCHAR"), ("display_name", "VARCHAR"),
    ),
    "listings": (
        ("listing_id", "BIGINT"), ("seller_id", "BIGINT"), ("market", "VARCHAR"), ("category", "VARCHAR"),
        ("created_at", "TIMESTAMP"), ("title", "VARCHAR"), ("price_local", "DOUBLE"), ("price_usd", "DOUBLE"),
    ),
    "listing_moderation": (
        ("review_id", "BIGINT"), ("listing_id", "BIGINT"), ("market", "VARCHAR"), ("category", "VARCHAR"),
        ("reviewed_at", "TIMESTAMP"), ("decided_at", "TIMESTAMP"), ("decision", "VARCHAR"),
        ("policy_violated", "VARCHAR"), ("detection_source", "VARCHAR"), ("appealed", "BOOLEAN"),
        ("appeal_overturned", "BOOLEAN"), ("appeal_decided_at", "TIMESTAMP"),
    ),
    "orders": (
        ("order_id", "BIGINT"), ("ordered_at", "TIMESTAMP"), ("market", "VARCHAR"), ("buyer_id", "BIGINT"),
        ("seller_id", "BIGINT"), ("listing_id", "BIGINT"), ("category", "VARCHAR"), ("channel", "VARCHAR"),
        ("seller_tenure_band", "VARCHAR"), ("carrier", "VARCHAR"), ("gmv_local", "DOUBLE"), ("gmv_usd", "DOUBLE"),
        ("promised_ship_by", "TIMESTAMP"), ("shipped_at", "TIMESTAMP"), ("promised_delivery_by", "TIMESTAMP"),
        ("delivered_at", "TIMESTAMP"), ("tracking_valid", "BOOLEAN"), ("cancelled_at", "TIMESTAMP"),
        ("cancel_reason", "VARCHAR"), ("cancel_fault", "VARCHAR"),
    ),
    "after_sales": (
        ("request_id", "BIGINT"), ("order_id", "BIGINT"), ("requested_at", "TIMESTAMP"), ("type", "VARCHAR"),
        ("reason", "VARCHAR"), ("status", "VARCHAR"), ("refund_amount_usd", "DOUBLE"),
        ("resolved_at", "TIMESTAMP"), ("escalated_to_dispute", "BOOLEAN"), ("dispute_outcome", "VARCHAR"),
    ),
    "reviews": (("order_id", "BIGINT"), ("rating", "INTEGER"), ("created_at", "TIMESTAMP")),
    "enforcement": (
        ("action_id", "BIGINT"), ("seller_id", "BIGINT"), ("market", "VARCHAR"), ("action", "VARCHAR"),
        ("reason", "VARCHAR"), ("detected_at", "TIMESTAMP"), ("actioned_at", "TIMESTAMP"), ("appealed", "BOOLEAN"),
        ("overturned", "BOOLEAN"),
    ),
    "experiment_designs": (
        ("experiment_id", "BIGINT"), ("name", "VARCHAR"), ("hypothesis", "VARCHAR"), ("unit", "VARCHAR"),
        ("start_date", "DATE"), ("end_date", "DATE"), ("designed_split", "DOUBLE"), ("primary_metric", "VARCHAR"),
        ("guardrail_metrics", "VARCHAR"), ("true_effect", "DOUBLE"), ("defect_definition", "VARCHAR"),
        ("notes", "VARCHAR"),
    ),
    "experiments": (
        ("experiment_id", "BIGINT"), ("seller_id", "BIGINT"), ("market", "VARCHAR"), ("variant", "VARCHAR"),
        ("assigned_at", "TIMESTAMP"), ("pre_orders", "BIGINT"), ("pre_defects", "BIGINT"), ("orders", "BIGINT"),
        ("defects", "BIGINT"), ("gmv_usd", "DOUBLE"), ("pre_gmv_usd", "DOUBLE"),
    ),
    "incidents": (
        ("incident_id", "BIGINT"), ("name", "VARCHAR"), ("metrics", "VARCHAR"), ("market", "VARCHAR"),
        ("start_week", "VARCHAR"), ("end_week", "VARCHAR"), ("dimension", "VARCHAR"),
        ("dimension_value", "VARCHAR"), ("expected_effect", "VARCHAR"), ("expected_size", "DOUBLE"),
        ("description", "VARCHAR"),
    ),
    "warehouse_meta": (("key", "VARCHAR"), ("value", "VARCHAR")),
}


def create_statements() -> list[str]:
    """CREATE TABLE statements for every warehouse table."""
    return [
        f"CREATE TABLE {table} ({', '.join(f'{name} {kind}' for name, kind in columns)})"
        for table, columns in TABLES.items()
    ]
