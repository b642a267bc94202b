# Media bucket: users/{uid}/assets/{asset_id}/{variant}.{ext}, written once by generate_image
# and read by browsers only through V4 signed URLs. Nothing here is ever public.

resource "google_storage_bucket" "media" {
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
  name                        = "${var.project_id}-${var.prefix}-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true # holds nothing that cannot be rebuilt from git

  versioning {
    enabled = false
  }

  depends_on = [google_project_service.enabled]
}
