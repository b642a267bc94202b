# The functions' source bundle: functions/ as the zip root (main.py imports `genmedia` from it)
# plus the pinned dependencies, so the build installs exactly what CI tested.

locals {
  functions_dir = "${path.module}/../functions"

  # Sources and the routing table only: never caches, bytecode or local state.
  source_files = sort(tolist(fileset(local.functions_dir, "**/*.{py,json}")))

  # functions/ has no requirements.txt of its own; the runtime pins live at the repo root and
  # the transitive pins in constraints.txt (-c only constrains, dev tools are not installed).
  requirements = "${trimspace(file("${path.module}/../requirements.txt"))}\n-c constraints.txt\n"
  constraints  = file("${path.module}/../constraints.txt")

  # Named by content, not by zip bytes: a code or pin change renames the object and so
  # rebuilds every function; an unchanged tree plans no change at all.
  source_hash = sha256(join("\n", concat(
    [for f in local.source_files : "${f}:${filesha256("${local.functions_dir}/${f}")}"],
    ["requirements.txt:${sha256(local.requirements)}", "constraints.txt:${sha256(local.constraints)}"],
  )))
}

data "archive_file" "functions" {
  type        = "zip"
  output_path = "${path.module}/.build/functions-${local.source_hash}.zip"

  dynamic "source" {
    for_each = local.source_files
    content {
      content  = file("${local.functions_dir}/${source.value}")
      filename = source.value
    }
  }
  source {
    content  = local.requirements
    filename = "requirements.txt"
  }
  source {
    content  = local.constraints
    filename = "constraints.txt"
  }
}

resource "google_storage_bucket_object" "functions" {
  # Terraform replaces (and so deletes) the previous bundle: the bucket never accumulates them.
  name         = "functions/${local.source_hash}.zip"
  bucket       = google_storage_bucket.sources.name
  source       = data.archive_file.functions.output_path
  content_type = "application/zip"
}

# Images built from the bundle, in our repository instead of the default gcf-artifacts one,
# so the builder's write access and the image retention are ours to scope.
resource "google_artifact_registry_repository" "functions" {
  # checkov:skip=CKV_GCP_84: the images hold only our own code and pinned dependencies, built from the git tree (secrets come from Secret Manager at run time); Google-managed encryption at rest is enough and a customer key would be one more thing to rotate and keep alive.
  repository_id = "${var.prefix}-functions"
  location      = var.region
  format        = "DOCKER"
  description   = "Images built by Cloud Functions from the GenMedia sources."

  cleanup_policy_dry_run = false
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      tag_state  = "ANY"
      older_than = "2592000s" # 30 days
    }
  }
  # KEEP wins over DELETE: the images of the live and the last few revisions stay for rollbacks.
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 5
    }
  }

  depends_on = [google_project_service.enabled]
}
