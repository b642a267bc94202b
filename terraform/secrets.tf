# Secrets the functions read at instance start (Secret Manager, as environment variables).
#
# page_token_key signs the library's page tokens (functions/genmedia/pagination.py). Terraform
# creates the secret with a random first version; rotation adds versions outside Terraform:
#   1. gcloud secrets versions add <prefix>-page-token-key --data-file=<48+ random characters>
#   2. set page_token_previous_version to the version that was current and apply: new
#      instances sign with "latest" and still accept tokens signed with the previous key;
#   3. a day later (tokens only live while a user pages), set it back to null and apply.

resource "random_password" "page_token_key" {
  length  = 48
  special = false
}

resource "google_secret_manager_secret" "page_token_key" {
  secret_id = "${var.prefix}-page-token-key"
  replication {
    auto {}
  }
  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_version" "page_token_key" {
  secret      = google_secret_manager_secret.page_token_key.id
  secret_data = random_password.page_token_key.result
  # Rotated versions are added outside Terraform; never replace them from here.
  lifecycle {
    ignore_changes = [secret_data]
  }
}

resource "google_secret_manager_secret_iam_member" "page_token_reader" {
  for_each  = { for fn, cfg in local.functions : fn => cfg if contains(cfg.access, "page_tokens") }
  secret_id = google_secret_manager_secret.page_token_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function[each.key].email}"
}

locals {
  # Function name -> environment variable -> secret version, for functions that need them.
  page_token_secrets = merge(
    { GENMEDIA_PAGE_TOKEN_KEY = "latest" },
    var.page_token_previous_version == null ? {} : {
      GENMEDIA_PAGE_TOKEN_KEY_PREVIOUS = var.page_token_previous_version
    },
  )
}
