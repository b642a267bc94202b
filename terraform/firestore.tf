# Firestore (native mode): assets, usage, users, idempotency, moderation_events.
# infra/firestore-indexes.md lists each index with the query it serves.

resource "google_firestore_database" "main" {
  name                              = "(default)" # the client libraries' default database
  location_id                       = coalesce(var.firestore_location, var.region)
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "PESSIMISTIC" # the quota/charge transactions lock usage/{uid}
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = var.firestore_pitr ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON" # `terraform destroy` must never drop user data

  depends_on = [google_project_service.enabled]
}

locals {
  # The asset library (store/assets.py AssetRepository.list_page): one owner's assets, always
  # filtered on state (== ACTIVE, or in [ACTIVE, DELETED] with show_deleted), optionally on type
  # and on one prompt search term (array-contains on search_terms), sorted on create_time (then
  # __name__, which Firestore appends) in either direction. One index per filter set and order.
  asset_filters = [[], ["type"], ["search_terms"], ["type", "search_terms"]]
  asset_orders  = ["DESCENDING", "ASCENDING"]

  asset_indexes = {
    for pair in setproduct(local.asset_filters, local.asset_orders) :
    join("-", concat(["owner_uid", "state"], pair[0], ["create_time", lower(pair[1])])) => {
      filters = pair[0]
      order   = pair[1]
    }
  }
}

resource "google_firestore_index" "assets" {
  for_each   = local.asset_indexes
  database   = google_firestore_database.main.name
  collection = "assets"

  fields {
    field_path = "owner_uid"
    order      = "ASCENDING"
  }
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  dynamic "fields" {
    for_each = each.value.filters
    content {
      field_path   = fields.value
      order        = fields.value == "search_terms" ? null : "ASCENDING"
      array_config = fields.value == "search_terms" ? "CONTAINS" : null
    }
  }
  fields {
    field_path = "create_time"
    order      = each.value.order
  }
}

# Idempotency records expire on expire_time. TTL deletion lags by up to a day, so the code
# checks expire_time itself; nothing queries the field, so it is not indexed either (an index
# on an ever-increasing timestamp is a write hotspot).
resource "google_firestore_field" "idempotency_ttl" {
  database   = google_firestore_database.main.name
  collection = "idempotency"
  field      = "expire_time"

  ttl_config {}
  index_config {}
}

# Export records go when their ZIP does (7 days; the exports/ lifecycle rule in storage.tf).
resource "google_firestore_field" "exports_ttl" {
  database   = google_firestore_database.main.name
  collection = "exports"
  field      = "expire_time"

  ttl_config {}
  index_config {}
}

# Large or free-text fields nothing filters on: no single-field indexes, which saves index
# writes and storage and keeps prompts out of index entries.
locals {
  unindexed_fields = {
    "assets/prompt"  = ["assets", "prompt"]
    "assets/params"  = ["assets", "params"]
    "assets/objects" = ["assets", "objects"]
    # Only ever queried with owner_uid and state, through the composite indexes above; its
    # single-field array index would add one entry per search term of every asset.
    "assets/search_terms"    = ["assets", "search_terms"]
    "idempotency/body"       = ["idempotency", "body"]
    "idempotency/headers"    = ["idempotency", "headers"]
    "moderation_events/text" = ["moderation_events", "text"]
    "jobs/prompt"            = ["jobs", "prompt"]
    "jobs/params"            = ["jobs", "params"]
    "jobs/progress"          = ["jobs", "progress"]
    "jobs/operation"         = ["jobs", "operation"]
    "webhooks/secrets"       = ["webhooks", "secrets"]
    "audit_events/details"   = ["audit_events", "details"]
    "webhooks/last_attempt"  = ["webhooks", "last_attempt"]
  }
}

resource "google_firestore_field" "unindexed" {
  for_each   = local.unindexed_fields
  database   = google_firestore_database.main.name
  collection = each.value[0]
  field      = each.value[1]

  index_config {}
}

# Browsers never talk to Firestore: all access is through the functions' service accounts,
# which security rules do not apply to. Deny every client SDK request explicitly.
resource "google_firebaserules_ruleset" "firestore" {
  source {
    files {
      name    = "firestore.rules"
      content = <<-EOT
        rules_version = '2';
        service cloud.firestore {
          match /databases/{database}/documents {
            match /{document=**} {
              allow read, write: if false;
            }
          }
        }
      EOT
    }
  }

  depends_on = [google_firestore_database.main, google_project_service.enabled]
}

resource "google_firebaserules_release" "firestore" {
  name         = "cloud.firestore"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore.name}"

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore]
  }
}
