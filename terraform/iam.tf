# Least privilege, driven by the `access` list of each function in functions.tf: every
# capability below maps to one grant, scoped to the single resource the code touches.
# README.md has the same table with the code path that needs each grant.

locals {
  media_objects = "projects/_/buckets/${google_storage_bucket.media.name}/objects/"

  # Granted on the project: these services have no finer resource the code could be held to.
  project_capabilities = {
    firestore      = "roles/datastore.user"   # transactions on assets, usage, users, idempotency
    firestore_read = "roles/datastore.viewer" # readiness probe, asset lookups for signing
    auth_read      = "roles/firebaseauth.viewer"
    auth_admin     = google_project_iam_custom_role.auth_user_manager.id
    auth_erase     = google_project_iam_custom_role.auth_user_eraser.id
    vertex         = "roles/aiplatform.user"
    queue_probe    = google_project_iam_custom_role.queue_probe.id
  }

  # Granted on the media bucket, each role held to the prefixes the code writes under:
  # users/{uid}/assets/... for live objects, trash/users/... for soft-deleted ones.
  # Roles go by label so for_each keys are known at plan time (custom role ids are not).
  media_roles = {
    viewer  = "roles/storage.objectViewer"
    creator = "roles/storage.objectCreator"
    janitor = google_project_iam_custom_role.media_janitor.id
    probe   = google_project_iam_custom_role.bucket_probe.id
    lister  = google_project_iam_custom_role.media_lister.id
  }
  media_capabilities = {
    media_read   = [{ role = "viewer", prefix = "users/" }]
    media_write  = [{ role = "creator", prefix = "users/" }]
    media_delete = [{ role = "janitor", prefix = "users/" }]
    # Soft delete and undelete move objects between users/ and trash/ (copy, then delete).
    media_trash  = [for role in ["viewer", "creator", "janitor"] : { role = role, prefix = "trash/" }]
    bucket_probe = [{ role = "probe", prefix = null }]
    # Listing is checked on the bucket, not on object names, so it cannot be held to a prefix.
    media_list = [{ role = "lister", prefix = null }]
    # Veo writes a job's video under staging/; the worker reads it, copies it, deletes it.
    media_staging = [for role in ["viewer", "janitor"] : { role = role, prefix = "staging/" }]
    # Data exports: the worker writes a ZIP under a temporary name and moves it; the erasure
    # deletes them.
    media_exports = [for role in ["viewer", "creator", "janitor"] : { role = role, prefix = "exports/" }]
    # A signed URL grants only what its signer can read: the account function signs downloads.
    exports_read = [{ role = "viewer", prefix = "exports/" }]
  }

  # One binding per (function, role); its condition ORs the prefixes of every capability that
  # asked for that role, so users/ and trash/ grants of one role do not shadow each other.
  media_grants = {
    for key, items in {
      for item in flatten([
        for g in local.grants : [
          for b in lookup(local.media_capabilities, g.cap, []) : { fn = g.fn, role = b.role, prefix = b.prefix }
        ]
      ]) : "${item.fn} ${item.role}" => item...
    } :
    key => {
      fn       = items[0].fn
      role     = local.media_roles[items[0].role]
      prefixes = distinct([for i in items : i.prefix if i.prefix != null])
    }
  }

  # sign_urls and enqueue are granted on a service account / the queue below.
  known_capabilities = concat(keys(local.project_capabilities), keys(local.media_capabilities), ["sign_urls", "enqueue", "page_tokens"])

  grants = flatten([
    for fn, cfg in local.functions : [for cap in cfg.access : { fn = fn, cap = cap }]
  ])
}

# --- Custom roles: the predefined ones would each grant far more than one call needs. ---

resource "google_project_iam_custom_role" "auth_user_manager" {
  role_id     = "${replace(var.prefix, "-", "_")}_auth_user_manager"
  title       = "GenMedia Firebase Auth user manager"
  description = "Read users and set custom claims / revoke sessions; no create or delete."
  permissions = ["firebaseauth.users.get", "firebaseauth.users.update"]
}

resource "google_project_iam_custom_role" "auth_user_eraser" {
  role_id     = "${replace(var.prefix, "-", "_")}_auth_user_eraser"
  title       = "GenMedia Firebase Auth account eraser"
  description = "Delete an account at the end of its erasure; nothing else."
  permissions = ["firebaseauth.users.get", "firebaseauth.users.delete"]
}

resource "google_project_iam_custom_role" "media_janitor" {
  role_id     = "${replace(var.prefix, "-", "_")}_media_janitor"
  title       = "GenMedia media cleanup"
  description = "Delete media objects: cleanup after a failed generation, second half of a trash move."
  permissions = ["storage.objects.delete"]
}

resource "google_project_iam_custom_role" "media_lister" {
  role_id     = "${replace(var.prefix, "-", "_")}_media_lister"
  title       = "GenMedia media listing"
  description = "List object names: the sweeper's orphan scan and an erasure's leftovers; no reads."
  permissions = ["storage.objects.list"]
}

resource "google_project_iam_custom_role" "bucket_probe" {
  role_id     = "${replace(var.prefix, "-", "_")}_bucket_probe"
  title       = "GenMedia bucket readiness probe"
  description = "bucket.exists() in /v1/readyz; no object access."
  permissions = ["storage.buckets.get"]
}

resource "google_project_iam_custom_role" "queue_probe" {
  role_id     = "${replace(var.prefix, "-", "_")}_queue_probe"
  title       = "GenMedia queue readiness probe"
  description = "list_queues in /v1/readyz; no access to tasks or their payloads."
  permissions = ["cloudtasks.queues.list"]
}

# --- Function runtime identities ---

resource "google_project_iam_member" "function" {
  for_each = {
    for g in local.grants : "${g.fn}/${g.cap}" => g if contains(keys(local.project_capabilities), g.cap)
  }
  project = var.project_id
  role    = local.project_capabilities[each.value.cap]
  member  = google_service_account.function[each.value.fn].member
}

resource "google_storage_bucket_iam_member" "function" {
  for_each = local.media_grants
  bucket   = google_storage_bucket.media.name
  role     = each.value.role
  member   = google_service_account.function[each.value.fn].member

  dynamic "condition" {
    for_each = length(each.value.prefixes) > 0 ? [1] : []
    content {
      title = "objects-under-${join("-", [for p in each.value.prefixes : trimsuffix(p, "/")])}"
      expression = join(" || ", [
        for p in each.value.prefixes : "resource.name.startsWith(\"${local.media_objects}${p}\")"
      ])
    }
  }
}

# V4 signed URLs are signed by IAM signBlob as the function's own identity (url_signer.py):
# the function may sign as itself and as no other account.
resource "google_service_account_iam_member" "self_signer" {
  for_each           = toset([for g in local.grants : g.fn if g.cap == "sign_urls"])
  service_account_id = google_service_account.function[each.value].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.function[each.value].member
}

# Ending a job enqueues its webhook events, so an enqueuer may add to every queue.
resource "google_cloud_tasks_queue_iam_member" "enqueuer" {
  for_each = {
    for pair in setproduct([for g in local.grants : g.fn if g.cap == "enqueue"], keys(local.queues)) :
    "${pair[0]} ${pair[1]}" => { fn = pair[0], queue = pair[1] }
  }
  name     = google_cloud_tasks_queue.queue[each.value.queue].name
  location = google_cloud_tasks_queue.queue[each.value.queue].location
  role     = "roles/cloudtasks.enqueuer"
  member   = google_service_account.function[each.value.fn].member
}

# Enqueuing a task with an OIDC token for the invoker is acting as the invoker.
resource "google_service_account_iam_member" "enqueuer_act_as_invoker" {
  for_each           = toset([for g in local.grants : g.fn if g.cap == "enqueue"])
  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.function[each.value].member
}

# --- Who may invoke the functions ---

# Public functions: a serverless NEG forwards requests without an identity, so Cloud Run must
# admit allUsers; ingress ALLOW_INTERNAL_AND_GCLB makes the load balancer (with Cloud Armor)
# the only way in from the internet. The functions authenticate callers themselves.
resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = { for fn, cfg in local.functions : fn => cfg if cfg.public }
  location = var.region
  name     = basename(google_cloudfunctions2_function.fn[each.key].service_config[0].service)
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Private functions (task workers, event handlers): only the invoker identity.
resource "google_cloud_run_v2_service_iam_member" "private" {
  for_each = { for fn, cfg in local.functions : fn => cfg if !cfg.public }
  location = var.region
  name     = basename(google_cloudfunctions2_function.fn[each.key].service_config[0].service)
  role     = "roles/run.invoker"
  member   = google_service_account.invoker.member
}

# --- Builder ---

resource "google_project_iam_member" "builder_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.builder.member
}

resource "google_artifact_registry_repository_iam_member" "builder" {
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.builder.member
}

# Cloud Functions copies the bundle into its own gcf-v2-sources-* bucket before the build,
# a bucket that only exists after the first deploy: hence a project grant held by a condition.
resource "google_project_iam_member" "builder_sources" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = google_service_account.builder.member
  condition {
    title       = "function-sources-only"
    description = "Our bundle bucket and the Cloud Functions staging buckets."
    expression  = <<-EOT
      resource.name.startsWith("projects/_/buckets/${google_storage_bucket.sources.name}") ||
      resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")
    EOT
  }
}
