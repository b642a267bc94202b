# Media bucket: users/{uid}/assets/{asset_id}/{variant}.{ext}, written once by generate_image
# and read by browsers only through V4 signed URLs. Nothing here is ever public.

resource "google_storage_bucket" "media" {
  # checkov:skip=CKV_GCP_78: objects are written once with if_generation_match=0 (bucket.py) and never overwritten; deletes are covered by soft delete (below) and the trash/ lifecycle, so versions would only keep duplicate copies of deleted assets.
  name                        = "${var.project_id}-${var.prefix}-media"
  location                    = var.region # next to the functions: no cross-region egress
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true # required by the IAM conditions in iam.tf
  public_access_prevention    = "enforced"
  force_destroy               = false

  # Objects are immutable (create-only uploads): versions would only duplicate deletes.
  versioning {
    enabled = false
  }

  # Usage logs (who fetched which object, from where): the trail for a leaked signed URL.
  logging {
    log_bucket        = google_storage_bucket.access_logs.name
    log_object_prefix = "media"
  }

  # GCS's own soft delete (7 days, the default) undoes an accidental bucket-wide delete. Each
  # trash move also leaves a soft-deleted copy of its source for those 7 days (billed).
  soft_delete_policy {
    retention_duration_seconds = 604800
  }

  # Soft-deleted assets' objects move to trash/ (library, storage.move_objects). The rule fires
  # when the restore window ends (the move is a copy, so age counts from the delete) and GCS
  # acts within a day: gone within retention + 1 day even if no purge job ever runs.
  lifecycle_rule {
    condition {
      age            = var.purge_retention_days
      matches_prefix = ["trash/"]
    }
    action {
      type = "Delete"
    }
  }

  # Veo output the worker did not copy (a cancelled or failed job).
  lifecycle_rule {
    condition {
      age            = 2
      matches_prefix = ["staging/"]
    }
    action {
      type = "Delete"
    }
  }

  # Data exports are kept 7 days (services/exports.py EXPORT_TTL), whether downloaded or not.
  lifecycle_rule {
    condition {
      age            = 7
      matches_prefix = ["exports/"]
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  # Signed URLs work in <img> without CORS; this lets the frontend fetch() the bytes
  # (downloads, canvas). Read-only by design: uploads never come from browsers.
  dynamic "cors" {
    for_each = length(var.cors_origins) > 0 ? [1] : []
    content {
      origin          = var.cors_origins
      method          = ["GET"]
      response_header = ["Content-Type", "Content-Length", "Content-Disposition", "ETag"]
      max_age_seconds = 3600
    }
  }

  depends_on = [google_project_service.enabled]
}

# Function bundles (source.tf). Only Terraform writes here and only the builder reads.
resource "google_storage_bucket" "sources" {
  # checkov:skip=CKV_GCP_78: holds only build bundles named by content hash; Terraform deletes the previous one on purpose and any version can be rebuilt from git.
  name                        = "${var.project_id}-${var.prefix}-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true # holds nothing that cannot be rebuilt from git

  versioning {
    enabled = false
  }

  logging {
    log_bucket        = google_storage_bucket.access_logs.name
    log_object_prefix = "sources"
  }

  depends_on = [google_project_service.enabled]
}

# Usage logs of the two buckets above: hourly CSV objects written by Cloud Storage itself.
# They hold client IPs, so they are kept 30 days only.
resource "google_storage_bucket" "access_logs" {
  # checkov:skip=CKV_GCP_62: this is the access-log sink; logging it into itself would log its own log writes.
  # checkov:skip=CKV_GCP_78: log objects are written once by Cloud Storage under unique hourly names and removed by the lifecycle rule; versions would only defeat the 30-day retention.
  name                        = "${var.project_id}-${var.prefix}-access-logs"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true # logs only: a destroyed environment does not need them

  versioning {
    enabled = false
  }

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.enabled]
}

# The group Cloud Storage writes usage logs as.
resource "google_storage_bucket_iam_member" "access_log_writer" {
  bucket = google_storage_bucket.access_logs.name
  role   = "roles/storage.objectCreator"
  member = "group:cloud-storage-analytics@google.com"
}
