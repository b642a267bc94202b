# The audit log (services/audit.py): GET /v1/admin/audit filters by any combination of actor,
# target and action, newest first, optionally within a time range. One composite index per
# combination of the equality filters; time alone uses the automatic single-field index.

locals {
  audit_filters = ["actor_uid", "target_id", "action"]
  audit_filter_sets = {
    for set in [
      ["actor_uid"], ["target_id"], ["action"],
      ["actor_uid", "target_id"], ["actor_uid", "action"], ["target_id", "action"],
      ["actor_uid", "target_id", "action"],
    ] : join("-", set) => set
  }
}

resource "google_firestore_index" "audit" {
  for_each   = local.audit_filter_sets
  database   = google_firestore_database.main.name
  collection = "audit_events"

  dynamic "fields" {
    for_each = each.value
    content {
      field_path = fields.value
      order      = "ASCENDING"
    }
  }
  fields {
    field_path = "time"
    order      = "DESCENDING"
  }
}
